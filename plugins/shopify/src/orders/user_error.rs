//! A refused mutation as Shopify reports it: `userErrors { field message code }` in the
//! payload, beside a null result; never a GraphQL error.

use serde::Deserialize;

/// One refusal; `code` is absent on mutations whose user errors carry none
/// (`refundCreate`, `fulfillmentCreate`).
#[derive(Debug, Clone, Deserialize)]
pub struct UserError {
    #[serde(default)]
    pub field: Option<Vec<String>>,
    pub message: String,
    #[serde(default)]
    pub code: Option<String>,
}

/// `["order", "lineItems", "0"]` → `order.lineItems.0`; none for an empty path.
pub fn joined(path: &[String]) -> Option<String> {
    (!path.is_empty()).then(|| path.join("."))
}

/// Every message, for an error that names them all (each without its closing period, so the
/// sentence that quotes them reads on).
pub fn messages(errors: &[UserError]) -> String {
    errors.iter().map(|e| e.message.trim().trim_end_matches('.')).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_errors_read_with_or_without_code_and_field() {
        let errors: Vec<UserError> = serde_json::from_str(
            r#"[{"field": ["order", "lineItems", "0", "quantity"], "message": "Quantity must be at least 1.", "code": "INVALID"},
                {"field": null, "message": "Nothing to fulfil."}]"#,
        )
        .expect("user errors");
        assert_eq!(errors[0].code.as_deref(), Some("INVALID"));
        assert_eq!(
            joined(errors[0].field.as_deref().unwrap_or_default()).as_deref(),
            Some("order.lineItems.0.quantity")
        );
        assert_eq!(joined(errors[1].field.as_deref().unwrap_or_default()), None);
        assert_eq!(messages(&errors), "Quantity must be at least 1; Nothing to fulfil");
    }
}
