//! The product webhooks (reference §9.5, §11.7): PRODUCT_STATUS_CHANGE (type 5) when a review is
//! decided or the seller moves a product, and PRODUCT_AUDIT_STATUS_CHANGE (type 37) when a
//! review is decided.
//!
//! Choices of ours: type 5 carries `product_id` as a JSON number, as the doc's example does
//! (§11.11 lists it as a quirk to reproduce); type 37 carries it as a string like the other
//! product events, since its doc shows no example; a rejection's `suspended_reason` is the audit
//! reasons joined with "; " (empty otherwise); an approved edit of a live product is announced
//! as PRODUCT_FIRST_PASS_REVIEW too.

use super::ReviewOutcome;
use super::webhooks::Event;
use serde_json::{Value, json};

/// PRODUCT_STATUS_CHANGE.
const STATUS_CHANGE: u32 = 5;
/// PRODUCT_AUDIT_STATUS_CHANGE.
const AUDIT_STATUS_CHANGE: u32 = 37;

/// Types 5 and 37 for a decided review.
pub(crate) fn review_decided(
    shop_id: &str,
    product_id: &str,
    outcome: &ReviewOutcome,
    now: i64,
) -> [Event; 2] {
    let (status, suspended_reason, audit) = match outcome {
        ReviewOutcome::Approve => ("PRODUCT_FIRST_PASS_REVIEW", String::new(), "APPROVED"),
        ReviewOutcome::Reject(reasons) => ("PRODUCT_AUDIT_FAILURE", reasons.join("; "), "FAILED"),
    };
    let status_change = json!({
        "product_id": numeric(product_id),
        "status": status,
        "suspended_reason": suspended_reason,
        "update_time": now,
    });
    let audit_change = json!({
        "product_id": product_id,
        "audit": { "status": audit },
        "integrated_platform_statuses": [],
        "update_time": now,
    });
    [
        Event::new(STATUS_CHANGE, shop_id, status_change, now),
        Event::new(AUDIT_STATUS_CHANGE, shop_id, audit_change, now),
    ]
}

/// Type 5 for an activate, deactivate, delete or recover.
pub(crate) fn status_changed(shop_id: &str, product_id: &str, now: i64) -> Event {
    let data = json!({
        "product_id": numeric(product_id),
        "status": "PRODUCT_STATUS_CHANGED",
        "suspended_reason": "",
        "update_time": now,
    });
    Event::new(STATUS_CHANGE, shop_id, data, now)
}

/// The 19-digit id as a JSON number (it fits in a u64); left a string if it is not digits.
fn numeric(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_5_carries_the_product_id_as_a_number_and_type_37_as_a_string() {
        let [five, thirty_seven] =
            review_decided("7400000000000000001", "1729000000000000001", &ReviewOutcome::Approve, 10);
        assert_eq!((five.kind, thirty_seven.kind), (5, 37));
        assert_eq!(five.data["product_id"], json!(1_729_000_000_000_000_001_u64));
        assert_eq!(five.data["status"], "PRODUCT_FIRST_PASS_REVIEW");
        assert_eq!(thirty_seven.data["product_id"], "1729000000000000001");
        assert_eq!(thirty_seven.data["audit"]["status"], "APPROVED");
    }

    #[test]
    fn a_rejection_names_its_reasons() {
        let outcome = ReviewOutcome::Reject(vec!["Blurry image".into(), "Banned word".into()]);
        let [five, thirty_seven] = review_decided("74", "17", &outcome, 10);
        assert_eq!(five.data["status"], "PRODUCT_AUDIT_FAILURE");
        assert_eq!(five.data["suspended_reason"], "Blurry image; Banned word");
        assert_eq!(thirty_seven.data["audit"]["status"], "FAILED");
    }
}
