//! A refused mutation as Shopify reports it: `userErrors { field message code }` in the
//! payload, never a GraphQL error. Domain code returns these; the schema turns them into each
//! mutation's own user-error type.

/// One reason a mutation was refused. `code` is the mutation's own error-code enum (`None` for
/// mutations whose `UserError` has no code, such as `fulfillmentCreate` and `refundCreate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal<C> {
    pub code: Option<C>,
    /// The path to the input field at fault (`["input", "quantities", "0", "quantity"]`).
    pub field: Vec<String>,
    pub message: String,
}

impl<C> Refusal<C> {
    pub fn new(code: C, field: &[&str], message: impl Into<String>) -> Self {
        Refusal { code: Some(code), field: path(field), message: message.into() }
    }

    /// A refusal for a mutation whose user errors carry no code.
    pub fn uncoded(field: &[&str], message: impl Into<String>) -> Self {
        Refusal { code: None, field: path(field), message: message.into() }
    }
}

fn path(field: &[&str]) -> Vec<String> {
    field.iter().map(|s| s.to_string()).collect()
}

/// Declares a Shopify user-error object (`{ field message code }`) for one code enum, with a
/// conversion from [`Refusal`].
macro_rules! user_error_type {
    ($name:ident, $code:ty) => {
        #[derive(async_graphql::SimpleObject, Debug, Clone)]
        pub struct $name {
            code: Option<$code>,
            field: Option<Vec<String>>,
            message: String,
        }

        impl From<$crate::shopify::user_error::Refusal<$code>> for $name {
            fn from(refusal: $crate::shopify::user_error::Refusal<$code>) -> Self {
                let field = (!refusal.field.is_empty()).then_some(refusal.field);
                $name { code: refusal.code, field, message: refusal.message }
            }
        }
    };
}
pub(crate) use user_error_type;

/// Shopify's generic `UserError { field message }`.
#[derive(async_graphql::SimpleObject, Debug, Clone)]
pub struct UserError {
    field: Option<Vec<String>>,
    message: String,
}

impl From<Refusal<()>> for UserError {
    fn from(refusal: Refusal<()>) -> Self {
        let field = (!refusal.field.is_empty()).then_some(refusal.field);
        UserError { field, message: refusal.message }
    }
}
