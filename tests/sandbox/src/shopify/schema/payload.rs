//! How a mutation answers: one write to the shop, its payload built from what the write
//! committed, refusals as the payload's `userErrors`, and the `@idempotent` key honoured.

use super::records;
use crate::shopify::data::{Committed, Event, ShopState};
use crate::shopify::idempotency::{Conflict, IdempotencyCache, MISMATCH_MESSAGE};
use crate::shopify::shop::Shop as ShopRecords;
use crate::shopify::user_error::Refusal;
use async_graphql::{Context, Error};

/// A mutation's payload type.
pub(super) trait Payload: Clone + Send + Sync + 'static {
    /// The mutation's user-error code; `()` where its user errors carry none.
    type Code;
    /// The code an `@idempotent` key reused with other arguments is refused with.
    const MISMATCH: Self::Code;
    /// The payload of a refused mutation: nothing written, the refusals as user errors.
    fn refused(refusals: Vec<Refusal<Self::Code>>) -> Self;
}

/// Runs `write` on the shop and answers its payload: `done` builds it from what the write
/// committed; refusals become user errors.
pub(super) fn answer<T, P: Payload>(
    records: &ShopRecords,
    write: impl FnOnce(&mut ShopState, &mut Vec<Event>) -> Result<T, Vec<Refusal<P::Code>>>,
    done: impl FnOnce(Committed<T>) -> P,
) -> P {
    match records.write(write) {
        Ok(committed) => done(committed),
        Err(refusals) => P::refused(refusals),
    }
}

/// [`answer`], once per `@idempotent` key: a replay returns the first payload, a key reused
/// with other arguments is refused with [`Payload::MISMATCH`].
pub(super) fn answer_once<T, P: Payload>(
    ctx: &Context<'_>,
    write: impl FnOnce(&mut ShopState, &mut Vec<Event>) -> Result<T, Vec<Refusal<P::Code>>>,
    done: impl FnOnce(Committed<T>) -> P,
) -> Result<P, Error> {
    let records = records(ctx)?;
    ctx.data::<IdempotencyCache>()?.once(
        ctx,
        || answer(records, write, done),
        |Conflict::ParameterMismatch| P::refused(vec![Refusal::new(P::MISMATCH, &[], MISMATCH_MESSAGE)]),
    )
}

/// Declares a mutation's payload object, with Shopify's names: what the mutation returns (each
/// `null` when refused) and `userErrors`, plus its [`Payload`] impl; `mismatch` is the code of
/// a reused `@idempotent` key (`() = ()` where the user errors carry no code).
macro_rules! payload_type {
    (
        $(#[$doc:meta])*
        $name:ident { $($field:ident: $node:ty),+ $(,)? },
        errors: $error:ty,
        mismatch: $code:ty = $mismatch:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject, Clone)]
        pub struct $name {
            $($field: Option<$node>,)+
            user_errors: Vec<$error>,
        }

        impl $crate::shopify::schema::payload::Payload for $name {
            type Code = $code;
            const MISMATCH: $code = $mismatch;
            fn refused(refusals: Vec<$crate::shopify::user_error::Refusal<$code>>) -> Self {
                $name { $($field: None,)+ user_errors: refusals.into_iter().map(Into::into).collect() }
            }
        }
    };
}
pub(super) use payload_type;
