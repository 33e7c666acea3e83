//! The changes Crossdock makes to an order it created: refunds, cancellations and shipments,
//! planned and checked before anything is sent. Pure functions, tested natively.
//!
//! - A refund is `POST /orders/{id}/refunds` with `api_refund: false` (the channel moved the
//!   money; no gateway is asked) and its idempotency key in the reason (`… [crossdock:key]`),
//!   where a retry finds it; line amounts are the line's paid price per unit, up to the amount.
//! - A cancellation with `refund` records the rest of the total as such a refund (key
//!   `cancel`) before the order moves to `cancelled`.
//! - A shipment is a Shipment Tracking item (see [`crate::tracking`]); the one that ships the
//!   last unshipped unit also moves the order to `completed`.

use crate::money::Amount;
use crate::new_order::amount;
use crate::order_mapping::{OrderNode, RefundNode, RefundSummary};
use crate::tracking::{self, Item};
use crossdock_plugin_sdk::store_orders::{Cancellation, NewRefund};
use crossdock_plugin_sdk::types::ConnectorError;
use serde_json::{Value, json};

/// The idempotency key of the refund a cancellation records.
const CANCEL_KEY: &str = "cancel";

/// `[crossdock:key]`, the mark a refund's reason carries.
fn marker(key: &str) -> String {
    format!("[crossdock:{}]", key.trim())
}

/// Whether a refund reason carries this idempotency key.
pub fn carries_key(reason: &str, key: &str) -> bool {
    reason.contains(&marker(key))
}

/// The refund already recorded with this key, among the order's full refunds.
pub fn recorded_refund<'a>(refunds: &'a [RefundNode], key: &str) -> Option<&'a RefundNode> {
    refunds.iter().find(|r| carries_key(&r.reason, key))
}

/// The `POST /orders/{id}/refunds` body.
pub fn refund_body(order: &OrderNode, refund: &NewRefund) -> Result<Value, ConnectorError> {
    if refund.idempotency_key.trim().is_empty() {
        return Err(ConnectorError::invalid("idempotency-key", "a refund needs an idempotency key"));
    }
    let currency = order.currency.trim().to_ascii_uppercase();
    let total = amount(&refund.amount, "amount", &currency)?;
    if total <= Amount::ZERO {
        return Err(ConnectorError::invalid("amount", format!("a refund must be above zero, not {total}")));
    }
    let remaining = order.remaining_refundable()?;
    if total > remaining {
        return Err(ConnectorError::invalid(
            "amount",
            format!(
                "order {} has {remaining} {currency} left to refund, less than the {total} asked",
                order.id
            ),
        ));
    }
    let mut left = total;
    let mut lines = Vec::new();
    for (line_id, units) in &refund.lines {
        if *units == 0 {
            continue;
        }
        let Some(line) = order.line(line_id) else {
            return Err(ConnectorError::invalid(
                "lines",
                format!("order {} has no line {line_id}", order.id),
            ));
        };
        if *units > line.units() {
            return Err(ConnectorError::invalid(
                "lines",
                format!(
                    "line {line_id} of order {} has {} units, fewer than the {units} refunded",
                    order.id,
                    line.units()
                ),
            ));
        }
        let paid = Amount::parse(line.total.as_deref().unwrap_or("0")).unwrap_or(Amount::ZERO);
        let value = paid.share(*units, line.units()).unwrap_or(Amount::ZERO).min(left).max(Amount::ZERO);
        left = left - value;
        lines.push(json!({"id": line.id, "quantity": units, "refund_total": value.to_string()}));
    }
    let note = refund.note.trim();
    let reason = if note.is_empty() {
        marker(&refund.idempotency_key)
    } else {
        format!("{note} {}", marker(&refund.idempotency_key))
    };
    Ok(json!({
        "amount": total.to_string(),
        "reason": reason,
        "line_items": lines,
        "api_refund": false,
        "api_restock": refund.restock,
    }))
}

/// What cancelling an order takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelPlan {
    /// It is cancelled already.
    Done,
    /// Record this refund first (`refund: true` and money left to refund), then cancel.
    Cancel { refund: Option<Value> },
}

/// Plans a cancellation. A refund goes first: a refund of the whole total turns the order
/// `refunded`, and the cancel that follows leaves it `cancelled`.
pub fn cancel_plan(order: &OrderNode, how: &Cancellation) -> Result<CancelPlan, ConnectorError> {
    if order.status == "cancelled" {
        return Ok(CancelPlan::Done);
    }
    if !how.refund || order.refunds.iter().any(|r: &RefundSummary| carries_key(&r.reason, CANCEL_KEY)) {
        return Ok(CancelPlan::Cancel { refund: None });
    }
    let remaining = order.remaining_refundable()?;
    if remaining <= Amount::ZERO {
        return Ok(CancelPlan::Cancel { refund: None });
    }
    let reason = how.reason.trim();
    let reason =
        if reason.is_empty() { marker(CANCEL_KEY) } else { format!("{reason} {}", marker(CANCEL_KEY)) };
    Ok(CancelPlan::Cancel {
        refund: Some(json!({
            "amount": remaining.to_string(),
            "reason": reason,
            "api_refund": false,
            // The cancel gives the units back.
            "api_restock": false,
        })),
    })
}

/// A shipment to record: its lines, and whether it ships the last of the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub lines: Vec<(String, u32)>,
    pub completes: bool,
}

/// Plans a shipment of `requested` (line id, units; all unshipped lines when empty).
pub fn shipment(
    order: &OrderNode,
    items: &[Item],
    requested: &[(String, u32)],
) -> Result<Shipment, ConnectorError> {
    if matches!(order.status.as_str(), "cancelled" | "refunded" | "failed" | "trash") {
        return Err(ConnectorError::invalid(
            "status",
            format!(
                "order {} is {} in WooCommerce; a shipment cannot be recorded on it",
                order.id, order.status
            ),
        ));
    }
    let all: Vec<(String, u32)> = order.line_items.iter().map(|l| (l.id.to_string(), l.units())).collect();
    let unshipped = tracking::unshipped(&all, items);
    let lines = if requested.is_empty() {
        // Everything already shipped: another package of the whole order.
        if unshipped.is_empty() { all.clone() } else { unshipped }
    } else {
        let mut lines: Vec<(String, u32)> = Vec::new();
        for (id, units) in requested {
            let Some(line) = order.line(id) else {
                return Err(ConnectorError::invalid("lines", format!("order {} has no line {id}", order.id)));
            };
            let id = line.id.to_string();
            match lines.iter_mut().find(|(l, _)| *l == id) {
                Some((_, u)) => *u += units,
                None => lines.push((id, *units)),
            }
        }
        for (id, units) in &lines {
            let quantity = order.line(id).map_or(0, |l| l.units());
            if *units == 0 || *units > quantity {
                return Err(ConnectorError::invalid(
                    "lines",
                    format!("line {id} of order {} has {quantity} units; {units} cannot ship", order.id),
                ));
            }
        }
        lines
    };
    let mut after = items.to_vec();
    after.push(Item {
        raw: Value::Null,
        provider: String::new(),
        custom_provider: String::new(),
        link: String::new(),
        number: String::new(),
        date_shipped: None,
        tracking_id: String::new(),
        lines: Some(lines.clone()),
    });
    let completes = order.status != "completed" && tracking::unshipped(&all, &after).is_empty();
    Ok(Shipment { lines, completes })
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::decode;
    use crate::order_mapping::tests::{order, order_json};
    use crossdock_plugin_sdk::types::Money;

    fn usd(amount: &str) -> Money {
        Money::new(amount, "USD")
    }

    fn new_refund(amount: &str, lines: Vec<(String, u32)>) -> NewRefund {
        NewRefund {
            idempotency_key: "ret-1".into(),
            lines,
            amount: usd(amount),
            restock: true,
            note: "Returned".into(),
        }
    }

    #[test]
    fn a_refund_splits_its_amount_over_lines_and_carries_its_key() {
        let body = refund_body(&order(), &new_refund("20.00", vec![("813".into(), 1), ("814".into(), 1)]))
            .expect("builds");
        assert_eq!(body["amount"], "20.00");
        assert_eq!(body["reason"], "Returned [crossdock:ret-1]");
        assert_eq!((body["api_refund"].as_bool(), body["api_restock"].as_bool()), (Some(false), Some(true)));
        assert_eq!(
            body["line_items"],
            json!([{"id": 813, "quantity": 1, "refund_total": "18.00"}, {"id": 814, "quantity": 1, "refund_total": "2.00"}])
        );
        let amount_only = refund_body(&order(), &new_refund("5", Vec::new())).expect("builds");
        assert_eq!(amount_only["line_items"], json!([]));
    }

    #[test]
    fn refunds_the_order_cannot_take_are_refused_before_sending() {
        let o = order();
        assert!(
            matches!(refund_body(&o, &new_refund("47.01", Vec::new())), Err(ConnectorError::Invalid(f)) if f.field == "amount")
        );
        assert!(
            matches!(refund_body(&o, &new_refund("0", Vec::new())), Err(ConnectorError::Invalid(f)) if f.field == "amount")
        );
        assert!(
            matches!(refund_body(&o, &new_refund("5", vec![("999".into(), 1)])), Err(ConnectorError::Invalid(f)) if f.field == "lines")
        );
        assert!(
            matches!(refund_body(&o, &new_refund("5", vec![("814".into(), 2)])), Err(ConnectorError::Invalid(f)) if f.field == "lines")
        );
        let mut euros = new_refund("5", Vec::new());
        euros.amount = Money::new("5", "EUR");
        assert!(matches!(refund_body(&o, &euros), Err(ConnectorError::Invalid(f)) if f.field == "amount"));
    }

    #[test]
    fn a_recorded_refund_is_found_by_its_key_only() {
        let refunds: Vec<RefundNode> = decode(json!([
            {"id": 1, "amount": "5.00", "reason": "Returned [crossdock:ret-10]"},
            {"id": 2, "amount": "5.00", "reason": "Returned [crossdock:ret-1]"}
        ]))
        .expect("decodes");
        assert_eq!(recorded_refund(&refunds, "ret-1").map(|r| r.id), Some(2));
        assert!(recorded_refund(&refunds, "ret-2").is_none());
    }

    fn cancellation(refund: bool) -> Cancellation {
        Cancellation { reason: "Out of stock".into(), restock: true, refund }
    }

    #[test]
    fn cancelling_refunds_what_is_left_first_when_asked() {
        assert_eq!(
            cancel_plan(&order(), &cancellation(false)).expect("plans"),
            CancelPlan::Cancel { refund: None }
        );
        let CancelPlan::Cancel { refund: Some(refund) } =
            cancel_plan(&order(), &cancellation(true)).expect("plans")
        else {
            panic!("a refund first");
        };
        assert_eq!(refund["amount"], "47.00");
        assert_eq!(refund["reason"], "Out of stock [crossdock:cancel]");
        assert_eq!(refund["api_refund"], false);
        let mut json = order_json();
        json["refunds"] = json!([{"id": 5, "reason": "Out of stock [crossdock:cancel]", "total": "-47.00"}]);
        let refunded: OrderNode = decode(json).expect("decodes");
        assert_eq!(
            cancel_plan(&refunded, &cancellation(true)).expect("plans"),
            CancelPlan::Cancel { refund: None }
        );
        let mut json = order_json();
        json["status"] = json!("cancelled");
        assert_eq!(
            cancel_plan(&decode(json).expect("decodes"), &cancellation(true)).expect("plans"),
            CancelPlan::Done
        );
    }

    #[test]
    fn a_shipment_of_every_unshipped_line_completes_the_order() {
        let o = order();
        let all = shipment(&o, &[], &[]).expect("plans");
        assert_eq!(all, Shipment { lines: vec![("813".into(), 2), ("814".into(), 1)], completes: true });
        let part = shipment(&o, &[], &[("813".into(), 1)]).expect("plans");
        assert_eq!(part, Shipment { lines: vec![("813".into(), 1)], completes: false });
        let items = crate::tracking::items(&[crate::order_mapping::MetaNode {
            id: None,
            key: crate::tracking::META_KEY.into(),
            value: json!([{"tracking_number": "A", "crossdock_lines": [["813", 1]]}]),
        }]);
        let rest = shipment(&o, &items, &[]).expect("plans");
        assert_eq!(rest, Shipment { lines: vec![("813".into(), 1), ("814".into(), 1)], completes: true });
    }

    #[test]
    fn shipments_of_unknown_lines_or_closed_orders_are_refused() {
        let o = order();
        assert!(
            matches!(shipment(&o, &[], &[("999".into(), 1)]), Err(ConnectorError::Invalid(f)) if f.field == "lines")
        );
        assert!(
            matches!(shipment(&o, &[], &[("814".into(), 2)]), Err(ConnectorError::Invalid(f)) if f.field == "lines")
        );
        let mut json = order_json();
        json["status"] = json!("cancelled");
        assert!(
            matches!(shipment(&decode(json).expect("decodes"), &[], &[]), Err(ConnectorError::Invalid(f)) if f.field == "status")
        );
    }
}
