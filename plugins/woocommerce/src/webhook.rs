//! WooCommerce webhook deliveries (reference §8): the `X-WC-Webhook-Signature` check, the
//! unsigned ping a webhook sends when saved, and what each product and order topic means
//! (`order.created|updated|deleted|restored` name the order that changed; a deleted order's
//! payload is its id alone). Pure functions over headers and bytes.
//!
//! `X-WC-Webhook-Delivery-ID` is a hash of the webhook id and the current second, so two
//! events in one second share it; the event id handed to the host adds a digest of the body,
//! so only copies of the same payload count as duplicates.

use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::webhooks;
use crossdock_plugin_sdk::webhooks::StoreEvent;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub const SIGNATURE_HEADER: &str = "X-WC-Webhook-Signature";
pub const TOPIC_HEADER: &str = "X-WC-Webhook-Topic";
pub const DELIVERY_ID_HEADER: &str = "X-WC-Webhook-Delivery-ID";
pub const WEBHOOK_ID_HEADER: &str = "X-WC-Webhook-ID";
/// The topic reported for a ping.
pub const PING_TOPIC: &str = "ping";

pub use crossdock_plugin_sdk::webhooks::header;

/// Whether this is the ping WooCommerce sends when a webhook is saved: no topic, no
/// signature, and a form body `webhook_id=<digits>`. It must be answered 200, unsigned.
pub fn is_ping(headers: &[(String, String)], body: &[u8]) -> bool {
    if header(headers, TOPIC_HEADER).is_some() || header(headers, SIGNATURE_HEADER).is_some() {
        return false;
    }
    std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.trim().strip_prefix("webhook_id="))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body) in constant time.
pub fn verify_signature(
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), ConnectorError> {
    webhooks::verify_base64_hmac(secret, headers, SIGNATURE_HEADER, body)
}

/// `X-WC-Webhook-Topic` (`product.updated`).
pub fn topic(headers: &[(String, String)]) -> Result<String, ConnectorError> {
    webhooks::topic(headers, TOPIC_HEADER)
}

/// `{delivery id}:{webhook id}:{body digest}`, or none without a delivery id.
pub fn event_id(headers: &[(String, String)], body: &[u8]) -> Option<String> {
    let delivery = header(headers, DELIVERY_ID_HEADER).filter(|v| !v.is_empty())?;
    let webhook = header(headers, WEBHOOK_ID_HEADER).unwrap_or("-");
    let digest = Sha256::digest(body);
    Some(format!("{delivery}:{webhook}:{}", hex::encode(&digest[..8])))
}

/// What a verified delivery of `topic` means; topics other than products and orders mean
/// nothing.
pub fn decode(topic: &str, body: &[u8]) -> Result<Vec<StoreEvent>, ConnectorError> {
    match topic.trim().to_ascii_lowercase().as_str() {
        "product.created" | "product.updated" | "product.restored" => {
            Ok(vec![StoreEvent::ProductChanged(product_id(&payload(body)?)?)])
        }
        "product.deleted" => Ok(vec![StoreEvent::ProductDeleted(product_id(&payload(body)?)?)]),
        "order.created" | "order.updated" | "order.deleted" | "order.restored" => {
            Ok(vec![StoreEvent::OrderChanged(order_id(&payload(body)?)?)])
        }
        _ => Ok(Vec::new()),
    }
}

fn payload(body: &[u8]) -> Result<serde_json::Map<String, Value>, ConnectorError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ConnectorError::invalid("body", "the payload is not a JSON object")),
        Err(e) => Err(ConnectorError::invalid("body", format!("the payload is not JSON: {e}"))),
    }
}

/// A numeric field of a payload, sent as a number or a string.
fn number(payload: &serde_json::Map<String, Value>, field: &str) -> Option<u64> {
    match payload.get(field)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The product's id; a variation's payload names its parent, which is the product that changed.
fn product_id(payload: &serde_json::Map<String, Value>) -> Result<String, ConnectorError> {
    number(payload, "parent_id")
        .filter(|p| *p != 0)
        .or_else(|| number(payload, "id"))
        .map(|id| id.to_string())
        .ok_or_else(|| ConnectorError::invalid("body", "the payload has no product id"))
}

/// The order's id (an order's `parent_id` is the order a renewal or refund came from, not
/// the order that changed).
fn order_id(payload: &serde_json::Map<String, Value>) -> Result<String, ConnectorError> {
    number(payload, "id")
        .filter(|id| *id != 0)
        .map(|id| id.to_string())
        .ok_or_else(|| ConnectorError::invalid("body", "the payload has no order id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use hmac::{Hmac, Mac};

    const SECRET: &str = "wc_webhook_secret";
    const UPDATE: &[u8] = br#"{"id":101,"name":"Trail Mug","type":"simple","sku":"MUG-1","price":"12.00"}"#;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        BASE64.encode(mac.finalize().into_bytes())
    }

    fn headers(topic: &str, signature: &str) -> Vec<(String, String)> {
        vec![
            ("x-wc-webhook-topic".into(), topic.into()),
            ("X-WC-Webhook-Signature".into(), signature.into()),
            ("X-WC-Webhook-ID".into(), "3".into()),
            ("X-WC-Webhook-Delivery-ID".into(), "0123456789abcdef0123456789abcdef".into()),
        ]
    }

    #[test]
    fn a_signed_update_verifies_and_names_the_product() {
        let h = headers("product.updated", &sign(SECRET, UPDATE));
        verify_signature(SECRET, &h, UPDATE).expect("valid signature");
        let events = decode(&topic(&h).expect("topic"), UPDATE).expect("decodes");
        assert!(matches!(events.as_slice(), [StoreEvent::ProductChanged(id)] if id == "101"));
    }

    #[test]
    fn a_wrong_secret_or_edited_body_is_unauthorized() {
        let h = headers("product.updated", &sign("other", UPDATE));
        assert!(matches!(verify_signature(SECRET, &h, UPDATE), Err(ConnectorError::Unauthorized(_))));
        let h = headers("product.updated", &sign(SECRET, UPDATE));
        assert!(matches!(
            verify_signature(SECRET, &h, b"{\"id\":102}"),
            Err(ConnectorError::Unauthorized(_))
        ));
        let h = headers("product.updated", "not base64!");
        assert!(matches!(verify_signature(SECRET, &h, UPDATE), Err(ConnectorError::Unauthorized(_))));
    }

    #[test]
    fn deletes_carry_only_the_id() {
        let events = decode("product.deleted", br#"{"id":101}"#).expect("decodes");
        assert!(matches!(events.as_slice(), [StoreEvent::ProductDeleted(id)] if id == "101"));
    }

    #[test]
    fn a_variation_update_means_its_parent_changed() {
        let events = decode("product.updated", br#"{"id":201,"parent_id":101}"#).expect("decodes");
        assert!(matches!(events.as_slice(), [StoreEvent::ProductChanged(id)] if id == "101"));
    }

    #[test]
    fn the_ping_is_recognised_only_unsigned_and_well_formed() {
        assert!(is_ping(&[], b"webhook_id=12"));
        assert!(!is_ping(&[], b"webhook_id="));
        assert!(!is_ping(&headers("product.updated", "x"), b"webhook_id=12"));
        assert!(!is_ping(&[], UPDATE));
    }

    #[test]
    fn order_topics_name_the_order_that_changed() {
        let body =
            br#"{"id":812,"parent_id":0,"status":"processing","line_items":[{"id":813,"product_id":101}]}"#;
        for topic in ["order.created", "order.updated", "order.restored", "Order.Updated"] {
            let events = decode(topic, body).expect("decodes");
            assert!(matches!(events.as_slice(), [StoreEvent::OrderChanged(id)] if id == "812"), "{topic}");
        }
        let events = decode("order.deleted", br#"{"id":"812"}"#).expect("decodes");
        assert!(matches!(events.as_slice(), [StoreEvent::OrderChanged(id)] if id == "812"));
        assert!(matches!(
            decode("order.updated", br#"{"status":"processing"}"#),
            Err(ConnectorError::Invalid(_))
        ));
        assert!(matches!(decode("order.updated", b"[1]"), Err(ConnectorError::Invalid(_))));
    }

    #[test]
    fn other_topics_mean_nothing() {
        assert!(decode("coupon.created", b"{}").expect("decodes").is_empty());
        assert!(decode("customer.updated", b"{}").expect("decodes").is_empty());
    }

    #[test]
    fn event_ids_differ_for_different_bodies_in_the_same_second() {
        let h = headers("product.updated", "x");
        let a = event_id(&h, UPDATE).expect("an id");
        let b = event_id(&h, br#"{"id":102}"#).expect("an id");
        assert_ne!(a, b);
        assert!(a.starts_with("0123456789abcdef0123456789abcdef:3:"));
    }
}
