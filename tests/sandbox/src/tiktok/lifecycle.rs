//! The batch status endpoints (reference §5.1, §5.3, §11.7): activate, deactivate, delete and
//! recover up to 20 products per call. Like every batch endpoint they answer code 0 with the
//! products that could not move in `data.errors[]` (§4.1). Each product that moves raises a
//! PRODUCT_STATUS_CHANGED webhook (type 5).

use super::envelope::{ApiError, code, unix_now};
use super::product_body;
use super::state::{Lifecycle, Product, State};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

/// Which batch endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// POST products/activate: SELLER_DEACTIVATED -> its review status (ACTIVATE when live).
    Activate,
    /// POST products/deactivate: ACTIVATE -> SELLER_DEACTIVATED.
    Deactivate,
    /// DELETE products: any status but DELETED -> DELETED.
    Delete,
    /// POST products/recover: DELETED -> SELLER_DEACTIVATED.
    Recover,
}

/// The documented cap of every batch status endpoint (12019120 above it).
const MAX_IDS: usize = 20;

#[derive(Debug, Default, Deserialize)]
struct Ids {
    product_ids: Option<Vec<String>>,
}

/// Applies `operation` to each product of `{product_ids}`; a product that cannot move is left
/// as it was and reported as `{code, message, detail{product_id}}`.
pub(crate) fn apply(
    state: &mut State,
    cipher: &str,
    operation: Operation,
    body: &[u8],
    now: Instant,
) -> Result<Value, ApiError> {
    let ids: Ids = product_body::decode(body)?;
    let ids = ids
        .product_ids
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::invalid("product_ids", "is required"))?;
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            code::TOO_MANY_IDS,
            format!("The number of provided product IDs exceeds the limit: {} > {MAX_IDS}.", ids.len()),
        ));
    }
    let mut errors = Vec::new();
    for id in &ids {
        if state.products.get(id).is_some_and(|p| p.cipher == cipher) {
            state.settle(id, now);
        }
        let outcome = match state.products.get_mut(id) {
            None => Err((code::PRODUCT_NOT_FOUND, "The product does not exist.".to_owned())),
            Some(product) if product.cipher != cipher => Err((
                code::NOT_YOUR_PRODUCT,
                "You cannot edit the specified product(s) as it isn't listed in your account or shop."
                    .to_owned(),
            )),
            Some(product) => transition(product, operation),
        };
        match outcome {
            Ok(()) => state.announce_status_change(cipher, id),
            Err((code, message)) => {
                errors.push(json!({ "code": code, "message": message, "detail": { "product_id": id } }));
            }
        }
    }
    Ok(json!({ "errors": errors }))
}

fn transition(product: &mut Product, operation: Operation) -> Result<(), (i64, String)> {
    let status = product.status();
    let next = match (operation, status) {
        (Operation::Deactivate, "ACTIVATE") => Lifecycle::SellerDeactivated,
        (Operation::Activate, "SELLER_DEACTIVATED") => Lifecycle::Listed,
        (Operation::Delete, status) if status != "DELETED" => Lifecycle::Deleted,
        (Operation::Recover, "DELETED") => Lifecycle::SellerDeactivated,
        _ => {
            return Err((
                code::STATUS_NOT_VALID,
                format!(
                    "The product in its current status ({status}) is not available for this operation. Change the product status and try again."
                ),
            ));
        }
    };
    product.lifecycle = next;
    product.update_time = unix_now();
    Ok(())
}
