//! `orderCancel`: the variables, and its refusals as contract errors. Shopify cancels in a
//! background job and answers before it ran; the host reads the order again to see it done.

use super::user_error::{UserError, joined, messages};
use crossdock_plugin_sdk::store_orders::Cancellation;
use crossdock_plugin_sdk::types::ConnectorError;
use serde::Deserialize;
use serde_json::{Value, json};

/// Shopify's limit on `staffNote`.
const MAX_STAFF_NOTE: usize = 255;

const ORDER_CANCEL: &str = "mutation OrderCancel($orderId: ID!, $refund: Boolean!, $restock: Boolean!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: OTHER, refund: $refund, restock: $restock, notifyCustomer: false, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelData {
    pub order_cancel: Option<OrderCancelPayload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelPayload {
    #[serde(default)]
    pub order_cancel_user_errors: Vec<UserError>,
}

/// The request body: reason `OTHER` (the channel's reason goes in the staff note, cut to
/// Shopify's 255 characters), no email to the buyer.
pub fn body(id: &str, how: &Cancellation) -> Value {
    let note: String = how.reason.trim().chars().take(MAX_STAFF_NOTE).collect();
    json!({
        "query": ORDER_CANCEL,
        "operationName": "OrderCancel",
        "variables": {
            "orderId": id,
            "refund": how.refund,
            "restock": how.restock,
            "staffNote": (!note.is_empty()).then_some(note),
        },
    })
}

/// `orderCancel`'s refusals, for an order that is still not cancelled: `NOT_FOUND` is
/// `not-found`, a missing refund permission `unauthorized`, an internal error `transient`,
/// and a refusal of the order itself (it has fulfillments, a pending payment) `invalid` with
/// field `status`.
pub fn refused(id: &str, errors: &[UserError]) -> ConnectorError {
    let summary = messages(errors);
    let has = |code: &str| errors.iter().any(|e| e.code.as_deref() == Some(code));
    if has("NOT_FOUND") {
        return ConnectorError::NotFound(format!("order {id}: Shopify has no such order ({summary})"));
    }
    if has("NO_REFUND_PERMISSION") {
        return ConnectorError::Unauthorized(format!(
            "order {id}: the app may not refund ({summary}); reconnect the store granting refunds, or cancel without refunding"
        ));
    }
    if has("INTERNAL_ERROR") {
        return ConnectorError::Transient(format!("order {id}: Shopify failed to cancel it ({summary})"));
    }
    let field = errors
        .first()
        .and_then(|e| joined(e.field.as_deref().unwrap_or_default()))
        .filter(|f| f != "orderId")
        .unwrap_or_else(|| "status".into());
    ConnectorError::invalid(
        field,
        format!(
            "order {id}: Shopify will not cancel it: {summary}; cancel its fulfillments or settle its payment first"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn how(reason: &str) -> Cancellation {
        Cancellation { reason: reason.into(), restock: true, refund: false }
    }

    fn errors(json: &str) -> Vec<UserError> {
        serde_json::from_str(json).expect("user errors")
    }

    #[test]
    fn the_body_passes_refund_restock_and_the_reason_as_staff_note() {
        let body = body("gid://shopify/Order/1", &how("Buyer cancelled on TikTok Shop"));
        assert_eq!(
            body["variables"],
            json!({"orderId": "gid://shopify/Order/1", "refund": false, "restock": true, "staffNote": "Buyer cancelled on TikTok Shop"})
        );
        let query = body["query"].as_str().expect("a document");
        assert!(query.contains("reason: OTHER") && query.contains("notifyCustomer: false"));
        let long = body_note(&"x".repeat(300));
        assert_eq!(long.as_str().map(str::len), Some(255));
        assert_eq!(body_note("  "), Value::Null);
    }

    fn body_note(reason: &str) -> Value {
        body("gid://shopify/Order/1", &how(reason))["variables"]["staffNote"].clone()
    }

    #[test]
    fn refusals_map_by_code() {
        let id = "gid://shopify/Order/1";
        assert!(matches!(
            refused(id, &errors(r#"[{"field":["orderId"],"message":"Order does not exist.","code":"NOT_FOUND"}]"#)),
            ConnectorError::NotFound(m) if m.contains(id)
        ));
        assert!(matches!(
            refused(
                id,
                &errors(r#"[{"field":null,"message":"No permission.","code":"NO_REFUND_PERMISSION"}]"#)
            ),
            ConnectorError::Unauthorized(_)
        ));
        assert!(matches!(
            refused(id, &errors(r#"[{"field":null,"message":"Oops.","code":"INTERNAL_ERROR"}]"#)),
            ConnectorError::Transient(_)
        ));
        let fulfilled = refused(
            id,
            &errors(
                r#"[{"field":["orderId"],"message":"Cannot cancel an order with fulfillments; cancel the fulfillments first.","code":"INVALID"}]"#,
            ),
        );
        match fulfilled {
            ConnectorError::Invalid(f) => {
                assert_eq!(f.field, "status");
                assert!(
                    f.message.contains("Cannot cancel an order with fulfillments") && f.message.contains(id)
                );
            }
            other => panic!("expected invalid status, got {other:?}"),
        }
        let note = refused(
            id,
            &errors(r#"[{"field":["staffNote"],"message":"Staff note is too long.","code":"INVALID"}]"#),
        );
        assert!(matches!(note, ConnectorError::Invalid(f) if f.field == "staffNote"));
    }
}
