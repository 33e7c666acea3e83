//! Cancellations and returns (reference §8) as the contract's after-sale records: kinds, every
//! §8.2 status in the contract's stages, the ids this connector hands out (`cancel:<id>`,
//! `return:<id>`, so the id alone says which API decides it), and which decision call a
//! request in a given state takes. Pure, so it is tested natively.

use crate::listing::id_of;
use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::commerce::{AfterSale, AfterSaleKind, AfterSaleStage, SellerDecision, Tracking};
use crossdock_plugin_sdk::types::{ConnectorError, Money};
use serde_json::Value;

const CANCEL_PREFIX: &str = "cancel:";
const RETURN_PREFIX: &str = "return:";

/// A request id this connector gave out, parsed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestId {
    Cancellation(String),
    Return(String),
}

impl RequestId {
    /// `cancel:<digits>` or `return:<digits>`; none for anything else.
    pub fn parse(id: &str) -> Option<RequestId> {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if let Some(id) = id.strip_prefix(CANCEL_PREFIX).filter(|s| digits(s)) {
            return Some(RequestId::Cancellation(id.to_owned()));
        }
        id.strip_prefix(RETURN_PREFIX).filter(|s| digits(s)).map(|id| RequestId::Return(id.to_owned()))
    }
}

/// The stage of a `cancel_status` (§8.2). The search filter spells the closed state
/// `CANCELLATION_REQUEST_CANCEL`, responses and webhooks `..._CANCELLED`: both are closed.
pub fn cancellation_stage(status: &str) -> AfterSaleStage {
    match status {
        "CANCELLATION_REQUEST_PENDING" => AfterSaleStage::Requested,
        // Approved; the refund is paid when it becomes COMPLETE.
        "CANCELLATION_REQUEST_SUCCESS" => AfterSaleStage::InProgress,
        "CANCELLATION_REQUEST_COMPLETE" => AfterSaleStage::Completed,
        "CANCELLATION_REQUEST_CANCEL" | "CANCELLATION_REQUEST_CANCELLED" => AfterSaleStage::Closed,
        "CANCELLATION_REQUEST_REJECT" | "CANCELLATION_REQUEST_REJECTED" => AfterSaleStage::Rejected,
        other => stage_by_words(other),
    }
}

/// The stage of a `return_status` (§8.2, the webhook's replacement states and the overview's
/// short names included).
pub fn return_stage(status: &str) -> AfterSaleStage {
    match status {
        "RETURN_OR_REFUND_REQUEST_PENDING" | "REPLACEMENT_REQUEST_PENDING" => AfterSaleStage::Requested,
        "REFUND_OR_RETURN_REQUEST_REJECT"
        | "REJECT_RECEIVE_PACKAGE"
        | "REPLACEMENT_REQUEST_REJECT"
        | "REQUEST_REJECTED"
        | "RECEIVE_REJECTED" => AfterSaleStage::Rejected,
        // Approved: the goods travel back, or the money is on its way (SUCCESS comes before
        // COMPLETE, when the refund is paid); a partial-refund offer awaits the buyer.
        "AWAITING_BUYER_SHIP"
        | "BUYER_SHIPPED_ITEM"
        | "RETURN_OR_REFUND_REQUEST_SUCCESS"
        | "REQUEST_SUCCESS"
        | "AWAITING_BUYER_RESPONSE"
        | "REPLACEMENT_REQUEST_REFUND_SUCCESS" => AfterSaleStage::InProgress,
        "RETURN_OR_REFUND_REQUEST_COMPLETE" | "REPLACEMENT_REQUEST_COMPLETE" => AfterSaleStage::Completed,
        "RETURN_OR_REFUND_REQUEST_CANCEL" | "RETURN_OR_REFUND_CANCEL" | "REPLACEMENT_REQUEST_CANCEL" => {
            AfterSaleStage::Closed
        }
        other => stage_by_words(other),
    }
}

/// A status the tables do not know, read by its words (TikTok adds states now and then).
fn stage_by_words(status: &str) -> AfterSaleStage {
    if status.contains("REJECT") {
        AfterSaleStage::Rejected
    } else if status.contains("CANCEL") {
        AfterSaleStage::Closed
    } else if status.contains("COMPLETE") {
        AfterSaleStage::Completed
    } else if status.contains("PENDING") {
        AfterSaleStage::Requested
    } else {
        AfterSaleStage::InProgress
    }
}

/// `return_type`: REFUND is money only; RETURN_AND_REFUND and REPLACEMENT bring the goods back.
pub fn return_kind(return_type: &str) -> AfterSaleKind {
    match return_type {
        "REFUND" => AfterSaleKind::RefundOnly,
        _ => AfterSaleKind::ReturnAndRefund,
    }
}

fn text(value: &Value) -> Option<&str> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// `refund_amount{refund_total, currency}`, when both are there.
fn refund(value: &Value) -> Option<Money> {
    Some(Money::new(text(&value["refund_total"])?, text(&value["currency"])?))
}

/// The order line items a request's `*_line_items[]` cover, each once.
fn line_ids(items: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in items.as_array().into_iter().flatten().filter_map(|item| id_of(&item["order_line_item_id"])) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// What TikTok waits for the seller to decide (`seller_next_action_response[].action`); when
/// the answer leaves the list out, what the status says.
fn awaiting_seller(request: &Value, status: &str) -> Option<SellerDecision> {
    let Some(actions) = request["seller_next_action_response"].as_array() else {
        return match status {
            "BUYER_SHIPPED_ITEM" => Some(SellerDecision::ReceivedGoods),
            _ if status.ends_with("_PENDING") => Some(SellerDecision::Request),
            _ => None,
        };
    };
    let actions: Vec<&str> = actions.iter().filter_map(|a| text(&a["action"])).collect();
    if actions.contains(&"SELLER_RESPOND_RECEIVE_PACKAGE") {
        Some(SellerDecision::ReceivedGoods)
    } else if actions.iter().any(|a| a.starts_with("SELLER_RESPOND_")) {
        Some(SellerDecision::Request)
    } else {
        None
    }
}

/// The buyer's parcel back: `return_tracking_number` with its provider.
fn return_tracking(request: &Value) -> Option<Tracking> {
    let number = text(&request["return_tracking_number"])?;
    Some(Tracking {
        carrier: text(&request["return_provider_name"]).unwrap_or_default().to_owned(),
        carrier_id: id_of(&request["return_provider_id"]),
        tracking_number: number.to_owned(),
        url: None,
    })
}

fn millis(request: &Value) -> i64 {
    let seconds = request["update_time"].as_i64().or_else(|| request["create_time"].as_i64());
    seconds.unwrap_or_default().saturating_mul(1000)
}

fn missing(what: &str, field: &str, request: &Value) -> ConnectorError {
    let preview: String = request.to_string().chars().take(200).collect();
    ConnectorError::Fatal(format!("TikTok {what} without `{field}`: {preview}"))
}

/// One `cancellations[]` entry of Search Cancellations.
pub fn from_cancellation(cancellation: &Value) -> Result<AfterSale> {
    let id = id_of(&cancellation["cancel_id"])
        .ok_or_else(|| missing("cancellation", "cancel_id", cancellation))?;
    let order_id =
        id_of(&cancellation["order_id"]).ok_or_else(|| missing("cancellation", "order_id", cancellation))?;
    let status = text(&cancellation["cancel_status"]).unwrap_or_default().to_owned();
    Ok(AfterSale {
        id: format!("{CANCEL_PREFIX}{id}"),
        order_id,
        kind: AfterSaleKind::Cancellation,
        stage: cancellation_stage(&status),
        line_ids: line_ids(&cancellation["cancel_line_items"]),
        refund_amount: refund(&cancellation["refund_amount"]),
        reason: text(&cancellation["cancel_reason_text"])
            .or_else(|| text(&cancellation["cancel_reason"]))
            .unwrap_or_default()
            .to_owned(),
        updated_at: millis(cancellation),
        awaiting_seller: awaiting_seller(cancellation, &status),
        return_tracking: None,
        status,
    })
}

/// One `return_orders[]` entry of Search Returns.
pub fn from_return(request: &Value) -> Result<AfterSale> {
    let id = id_of(&request["return_id"]).ok_or_else(|| missing("return", "return_id", request))?;
    let order_id = id_of(&request["order_id"]).ok_or_else(|| missing("return", "order_id", request))?;
    let status = text(&request["return_status"]).unwrap_or_default().to_owned();
    Ok(AfterSale {
        id: format!("{RETURN_PREFIX}{id}"),
        order_id,
        kind: return_kind(text(&request["return_type"]).unwrap_or_default()),
        stage: return_stage(&status),
        line_ids: line_ids(&request["return_line_items"]),
        refund_amount: refund(&request["refund_amount"]),
        reason: text(&request["return_reason_text"])
            .or_else(|| text(&request["return_reason"]))
            .unwrap_or_default()
            .to_owned(),
        updated_at: millis(request),
        awaiting_seller: awaiting_seller(request, &status),
        return_tracking: return_tracking(request),
        status,
    })
}

/// What deciding a request takes, given where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Call the approve or reject route; for a return, with this `decision`.
    Call(&'static str),
    /// It was already decided this way: nothing to do.
    AlreadyDone,
    /// It waits for nobody's decision, or was decided the other way.
    NotWaiting,
}

/// Deciding a cancellation in `status`: only a pending one is decided.
pub fn cancellation_decision(status: &str, approve: bool) -> Decision {
    match (cancellation_stage(status), approve) {
        (AfterSaleStage::Requested, true) => Decision::Call("APPROVE"),
        (AfterSaleStage::Requested, false) => Decision::Call("REJECT"),
        (AfterSaleStage::InProgress | AfterSaleStage::Completed, true) => Decision::AlreadyDone,
        (AfterSaleStage::Rejected, false) => Decision::AlreadyDone,
        _ => Decision::NotWaiting,
    }
}

/// Deciding a return of `return_type` in `status` (§8.1 decisions): a pending request is
/// decided with the decision its type takes, a parcel that came back (BUYER_SHIPPED_ITEM) is
/// accepted or refused.
pub fn return_decision(return_type: &str, status: &str, approve: bool) -> Decision {
    let replacement = return_type == "REPLACEMENT" || status.starts_with("REPLACEMENT_");
    match status {
        "BUYER_SHIPPED_ITEM" if approve => return Decision::Call("APPROVE_RECEIVED_PACKAGE"),
        "BUYER_SHIPPED_ITEM" => return Decision::Call("REJECT_RECEIVED_PACKAGE"),
        // Refusing the goods after accepting them, or the other way round, is too late.
        "REJECT_RECEIVE_PACKAGE" if approve => return Decision::NotWaiting,
        _ => {}
    }
    match (return_stage(status), approve) {
        (AfterSaleStage::Requested, true) if replacement => Decision::Call("APPROVE_REPLACEMENT"),
        (AfterSaleStage::Requested, true) if return_type == "REFUND" => Decision::Call("APPROVE_REFUND"),
        (AfterSaleStage::Requested, true) => Decision::Call("APPROVE_RETURN"),
        (AfterSaleStage::Requested, false) if replacement => Decision::Call("REJECT_REPLACEMENT"),
        (AfterSaleStage::Requested, false) if return_type == "REFUND" => Decision::Call("REJECT_REFUND"),
        (AfterSaleStage::Requested, false) => Decision::Call("REJECT_RETURN"),
        (AfterSaleStage::InProgress | AfterSaleStage::Completed, true) => Decision::AlreadyDone,
        (AfterSaleStage::Rejected, false) => Decision::AlreadyDone,
        _ => Decision::NotWaiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_carry_their_kind_and_parse_back() {
        assert_eq!(RequestId::parse("cancel:4001"), Some(RequestId::Cancellation("4001".into())));
        assert_eq!(RequestId::parse("return:4102"), Some(RequestId::Return("4102".into())));
        for id in ["4001", "cancel:", "return:x1", "refund:1", "cancel:1,2", ""] {
            assert_eq!(RequestId::parse(id), None, "{id}");
        }
    }

    #[test]
    fn every_cancellation_status_has_a_stage() {
        let table = [
            ("CANCELLATION_REQUEST_PENDING", AfterSaleStage::Requested),
            ("CANCELLATION_REQUEST_SUCCESS", AfterSaleStage::InProgress),
            ("CANCELLATION_REQUEST_COMPLETE", AfterSaleStage::Completed),
            ("CANCELLATION_REQUEST_CANCEL", AfterSaleStage::Closed),
            ("CANCELLATION_REQUEST_CANCELLED", AfterSaleStage::Closed),
            ("CANCELLATION_REQUEST_REJECT", AfterSaleStage::Rejected),
        ];
        for (status, stage) in table {
            assert_eq!(cancellation_stage(status), stage, "{status}");
        }
    }

    #[test]
    fn every_return_status_has_a_stage() {
        let table = [
            ("RETURN_OR_REFUND_REQUEST_PENDING", AfterSaleStage::Requested),
            ("REFUND_OR_RETURN_REQUEST_REJECT", AfterSaleStage::Rejected),
            ("AWAITING_BUYER_SHIP", AfterSaleStage::InProgress),
            ("BUYER_SHIPPED_ITEM", AfterSaleStage::InProgress),
            ("REJECT_RECEIVE_PACKAGE", AfterSaleStage::Rejected),
            ("RETURN_OR_REFUND_REQUEST_SUCCESS", AfterSaleStage::InProgress),
            ("RETURN_OR_REFUND_REQUEST_CANCEL", AfterSaleStage::Closed),
            ("RETURN_OR_REFUND_REQUEST_COMPLETE", AfterSaleStage::Completed),
            ("AWAITING_BUYER_RESPONSE", AfterSaleStage::InProgress),
            ("REPLACEMENT_REQUEST_PENDING", AfterSaleStage::Requested),
            ("REPLACEMENT_REQUEST_REJECT", AfterSaleStage::Rejected),
            ("REPLACEMENT_REQUEST_REFUND_SUCCESS", AfterSaleStage::InProgress),
            ("REPLACEMENT_REQUEST_CANCEL", AfterSaleStage::Closed),
            ("REPLACEMENT_REQUEST_COMPLETE", AfterSaleStage::Completed),
            ("REQUEST_SUCCESS", AfterSaleStage::InProgress),
            ("REQUEST_REJECTED", AfterSaleStage::Rejected),
            ("RECEIVE_REJECTED", AfterSaleStage::Rejected),
            ("RETURN_OR_REFUND_CANCEL", AfterSaleStage::Closed),
        ];
        for (status, stage) in table {
            assert_eq!(return_stage(status), stage, "{status}");
        }
        assert_eq!(return_stage("SOMETHING_PENDING"), AfterSaleStage::Requested);
        assert_eq!(return_stage("ARBITRATION_REJECTED"), AfterSaleStage::Rejected);
    }

    #[test]
    fn return_types_map_to_kinds() {
        assert_eq!(return_kind("REFUND"), AfterSaleKind::RefundOnly);
        assert_eq!(return_kind("RETURN_AND_REFUND"), AfterSaleKind::ReturnAndRefund);
        assert_eq!(return_kind("REPLACEMENT"), AfterSaleKind::ReturnAndRefund);
    }

    #[test]
    fn a_cancellation_reads_its_lines_refund_and_reason() {
        let found = json!({
            "cancel_id": "4035000000000000001", "order_id": "576000000000000001", "cancel_type": "BUYER_CANCEL",
            "cancel_status": "CANCELLATION_REQUEST_PENDING", "role": "BUYER",
            "cancel_reason": "buyer_cancel_reason_no_longer_needed", "cancel_reason_text": "No longer needed",
            "create_time": 1700000000, "update_time": 1700000060,
            "refund_amount": { "currency": "USD", "refund_total": "30.00", "refund_subtotal": "30.00" },
            "cancel_line_items": [
                { "cancel_line_item_id": "9", "order_line_item_id": "5701", "sku_id": "1729001" },
                { "cancel_line_item_id": "10", "order_line_item_id": "5702", "sku_id": "1729001" },
            ],
        });
        let request = from_cancellation(&found).expect("maps");
        assert_eq!(request.id, "cancel:4035000000000000001");
        assert_eq!(request.order_id, "576000000000000001");
        assert_eq!((request.kind, request.stage), (AfterSaleKind::Cancellation, AfterSaleStage::Requested));
        assert_eq!(request.status, "CANCELLATION_REQUEST_PENDING");
        assert_eq!(request.line_ids, vec!["5701".to_owned(), "5702".to_owned()]);
        let refund = request.refund_amount.expect("a refund");
        assert_eq!((refund.amount.as_str(), refund.currency.as_str()), ("30.00", "USD"));
        assert_eq!((request.reason.as_str(), request.updated_at), ("No longer needed", 1_700_000_060_000));
    }

    #[test]
    fn a_return_reads_its_kind_and_falls_back_to_the_reason_code() {
        let found = json!({
            "return_id": "4102", "order_id": "5760", "return_type": "REFUND",
            "return_status": "RETURN_OR_REFUND_REQUEST_SUCCESS", "return_reason": "ecom_reason_damaged",
            "create_time": 1700000000, "return_line_items": [{ "order_line_item_id": "5701" }],
        });
        let request = from_return(&found).expect("maps");
        assert_eq!(request.id, "return:4102");
        assert_eq!((request.kind, request.stage), (AfterSaleKind::RefundOnly, AfterSaleStage::InProgress));
        assert_eq!(request.reason, "ecom_reason_damaged");
        assert_eq!(request.updated_at, 1_700_000_000_000);
        assert!(request.refund_amount.is_none());
        assert!(from_return(&json!({ "order_id": "1" })).is_err());
    }

    #[test]
    fn a_return_says_which_decision_tiktok_waits_for_and_its_parcel_back() {
        let waiting = |actions: Value, status: &str| {
            let found = json!({ "return_id": "41", "order_id": "57", "return_type": "RETURN_AND_REFUND",
                "return_status": status, "seller_next_action_response": actions,
                "return_tracking_number": "1Z9", "return_provider_name": "UPS" });
            from_return(&found).expect("maps")
        };
        let pending =
            waiting(json!([{ "action": "SELLER_RESPOND_RETURN" }]), "RETURN_OR_REFUND_REQUEST_PENDING");
        assert_eq!(pending.awaiting_seller, Some(SellerDecision::Request));
        let back = waiting(json!([{ "action": "SELLER_RESPOND_RECEIVE_PACKAGE" }]), "BUYER_SHIPPED_ITEM");
        assert_eq!(back.awaiting_seller, Some(SellerDecision::ReceivedGoods));
        let tracking = back.return_tracking.expect("tracking");
        assert_eq!((tracking.carrier.as_str(), tracking.tracking_number.as_str()), ("UPS", "1Z9"));
        assert_eq!(waiting(json!([]), "AWAITING_BUYER_SHIP").awaiting_seller, None);
        let unlisted = from_return(&json!({ "return_id": "41", "order_id": "57",
            "return_status": "BUYER_SHIPPED_ITEM" }))
        .expect("maps");
        assert_eq!(unlisted.awaiting_seller, Some(SellerDecision::ReceivedGoods), "read from the status");
    }

    #[test]
    fn decisions_fit_the_request_and_repeat_harmlessly() {
        let pending = "CANCELLATION_REQUEST_PENDING";
        assert_eq!(cancellation_decision(pending, true), Decision::Call("APPROVE"));
        assert_eq!(cancellation_decision(pending, false), Decision::Call("REJECT"));
        assert_eq!(cancellation_decision("CANCELLATION_REQUEST_COMPLETE", true), Decision::AlreadyDone);
        assert_eq!(cancellation_decision("CANCELLATION_REQUEST_REJECT", false), Decision::AlreadyDone);
        assert_eq!(cancellation_decision("CANCELLATION_REQUEST_REJECT", true), Decision::NotWaiting);
        assert_eq!(cancellation_decision("CANCELLATION_REQUEST_CANCELLED", false), Decision::NotWaiting);

        let pending = "RETURN_OR_REFUND_REQUEST_PENDING";
        assert_eq!(return_decision("REFUND", pending, true), Decision::Call("APPROVE_REFUND"));
        assert_eq!(return_decision("RETURN_AND_REFUND", pending, true), Decision::Call("APPROVE_RETURN"));
        assert_eq!(return_decision("REFUND", pending, false), Decision::Call("REJECT_REFUND"));
        assert_eq!(return_decision("RETURN_AND_REFUND", pending, false), Decision::Call("REJECT_RETURN"));
        let replacement = "REPLACEMENT_REQUEST_PENDING";
        assert_eq!(return_decision("REPLACEMENT", replacement, true), Decision::Call("APPROVE_REPLACEMENT"));
        assert_eq!(return_decision("REPLACEMENT", replacement, false), Decision::Call("REJECT_REPLACEMENT"));
        assert_eq!(return_decision("RETURN_AND_REFUND", "AWAITING_BUYER_SHIP", true), Decision::AlreadyDone);
        assert_eq!(
            return_decision("RETURN_AND_REFUND", "REFUND_OR_RETURN_REQUEST_REJECT", false),
            Decision::AlreadyDone
        );
        let back = "BUYER_SHIPPED_ITEM";
        assert_eq!(
            return_decision("RETURN_AND_REFUND", back, true),
            Decision::Call("APPROVE_RECEIVED_PACKAGE")
        );
        assert_eq!(
            return_decision("RETURN_AND_REFUND", back, false),
            Decision::Call("REJECT_RECEIVED_PACKAGE")
        );
        let refused = "REJECT_RECEIVE_PACKAGE";
        assert_eq!(return_decision("RETURN_AND_REFUND", refused, false), Decision::AlreadyDone);
        assert_eq!(return_decision("RETURN_AND_REFUND", refused, true), Decision::NotWaiting);
        assert_eq!(return_decision("REFUND", "RETURN_OR_REFUND_REQUEST_CANCEL", true), Decision::NotWaiting);
    }
}
