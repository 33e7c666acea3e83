//! Shopify webhook deliveries: the `X-Shopify-Hmac-Sha256` check and what each topic's
//! payload means for the catalog and the orders. Pure functions over headers and bytes; the
//! one topic that needs the Admin API (`inventory_levels/update`) comes back as an inventory
//! item for the caller to resolve to its product. Every `orders/*`, `fulfillments/*` and
//! `refunds/*` topic names its order, which the host reads again.

use crate::gid;
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::webhooks;
use crossdock_plugin_sdk::webhooks::StoreEvent;

use serde_json::Value;

/// base64(HMAC-SHA256(secret, raw body)).
pub const HMAC_HEADER: &str = "X-Shopify-Hmac-Sha256";
/// `products/update`.
pub const TOPIC_HEADER: &str = "X-Shopify-Topic";
/// The event; the same on every copy and retry of it.
pub const EVENT_ID_HEADER: &str = "X-Shopify-Event-Id";
/// The delivery; older deliveries carry only this one.
pub const WEBHOOK_ID_HEADER: &str = "X-Shopify-Webhook-Id";

/// What a verified delivery says, before the Admin API is asked anything.
#[derive(Debug)]
pub enum Meaning {
    /// The catalog events, complete.
    Events(Vec<StoreEvent>),
    /// Stock changed for this inventory item (`gid://shopify/InventoryItem/…`); its product
    /// changed.
    InventoryItem(String),
}

pub use crossdock_plugin_sdk::webhooks::header;

/// Checks `X-Shopify-Hmac-Sha256` against the raw body, in constant time.
pub fn verify_signature(
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<(), ConnectorError> {
    webhooks::verify_base64_hmac(secret, headers, HMAC_HEADER, body)
}

/// `X-Shopify-Topic`, which every delivery carries.
pub fn topic(headers: &[(String, String)]) -> Result<String, ConnectorError> {
    webhooks::topic(headers, TOPIC_HEADER)
}

/// `X-Shopify-Event-Id`, else `X-Shopify-Webhook-Id`.
pub fn event_id(headers: &[(String, String)]) -> Option<String> {
    [EVENT_ID_HEADER, WEBHOOK_ID_HEADER]
        .into_iter()
        .find_map(|name| header(headers, name).filter(|v| !v.is_empty()))
        .map(str::to_string)
}

/// What a delivery of `topic` with this body means; topics the connector does not follow
/// mean nothing, whatever their body.
pub fn decode(topic: &str, body: &[u8]) -> Result<Meaning, ConnectorError> {
    let is = |t: &str| topic.eq_ignore_ascii_case(t);
    if is("products/create") || is("products/update") {
        Ok(Meaning::Events(vec![StoreEvent::ProductChanged(product_id(&payload(body)?)?)]))
    } else if is("products/delete") {
        Ok(Meaning::Events(vec![StoreEvent::ProductDeleted(product_id(&payload(body)?)?)]))
    } else if is("inventory_levels/update") {
        let payload = payload(body)?;
        let item = number(&payload, "inventory_item_id")
            .ok_or_else(|| ConnectorError::invalid("body", "the inventory level has no inventory_item_id"))?;
        Ok(Meaning::InventoryItem(gid::of("InventoryItem", item)))
    } else if ORDER_TOPICS.iter().any(|prefix| starts_with_ignoring_case(topic, prefix)) {
        Ok(Meaning::Events(vec![StoreEvent::OrderChanged(order_id(topic, &payload(body)?)?)]))
    } else {
        Ok(Meaning::Events(Vec::new()))
    }
}

/// Topic families that concern one order.
const ORDER_TOPICS: [&str; 3] = ["orders/", "fulfillments/", "refunds/"];

fn starts_with_ignoring_case(topic: &str, prefix: &str) -> bool {
    topic.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The order a payload concerns: an order's own `admin_graphql_api_id` or `id`; the
/// `order_id` of a fulfillment or refund; the `order_edit.order_id` of `orders/edited`.
fn order_id(topic: &str, payload: &serde_json::Map<String, Value>) -> Result<String, ConnectorError> {
    if let Some(id) = number(payload, "order_id") {
        return Ok(gid::of("Order", id));
    }
    if let Some(id) =
        payload.get("order_edit").and_then(Value::as_object).and_then(|edit| number(edit, "order_id"))
    {
        return Ok(gid::of("Order", id));
    }
    if starts_with_ignoring_case(topic, "orders/") {
        if let Some(gid) =
            payload.get("admin_graphql_api_id").and_then(Value::as_str).filter(|g| gid::is("Order", g))
        {
            return Ok(gid.to_string());
        }
        if let Some(id) = number(payload, "id") {
            return Ok(gid::of("Order", id));
        }
    }
    Err(ConnectorError::invalid("body", format!("the {topic} payload names no order")))
}

/// The body as a JSON object.
fn payload(body: &[u8]) -> Result<serde_json::Map<String, Value>, ConnectorError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ConnectorError::invalid("body", "the payload is not a JSON object")),
        Err(e) => Err(ConnectorError::invalid("body", format!("the payload is not JSON: {e}"))),
    }
}

/// `admin_graphql_api_id` when it is a product's, else `gid://shopify/Product/{id}`.
fn product_id(payload: &serde_json::Map<String, Value>) -> Result<String, ConnectorError> {
    if let Some(gid) =
        payload.get("admin_graphql_api_id").and_then(Value::as_str).filter(|g| gid::is("Product", g))
    {
        return Ok(gid.to_string());
    }
    number(payload, "id")
        .map(|id| gid::of("Product", id))
        .ok_or_else(|| ConnectorError::invalid("body", "the payload has no product id"))
}

/// A REST id: a JSON number, or a string of digits.
fn number(payload: &serde_json::Map<String, Value>, field: &str) -> Option<u64> {
    match payload.get(field)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    const SECRET: &str = "shpss_test_webhook_secret";
    const PRODUCT_UPDATE: &[u8] = br#"{"admin_graphql_api_id":"gid://shopify/Product/8100000000007","id":8100000000007,"title":"Trail Mug","status":"active","variants":[{"id":45000000000011,"inventory_item_id":47000000000011,"price":"12.00"}]}"#;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        BASE64.encode(mac.finalize().into_bytes())
    }

    fn headers(signature: &str, topic: &str) -> Vec<(String, String)> {
        vec![
            ("x-shopify-hmac-sha256".into(), signature.into()),
            ("x-shopify-topic".into(), topic.into()),
            ("x-shopify-webhook-id".into(), "d1f0c1d2-0000-4000-8000-000000000001".into()),
        ]
    }

    fn unauthorized_message(result: Result<(), ConnectorError>) -> String {
        match result {
            Err(ConnectorError::Unauthorized(m)) => m,
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn a_correctly_signed_body_verifies() {
        let signature = sign(SECRET, PRODUCT_UPDATE);
        let headers = headers(&signature, "products/update");
        verify_signature(SECRET, &headers, PRODUCT_UPDATE).expect("valid signature");
    }

    #[test]
    fn a_tampered_body_is_unauthorized_and_names_the_header() {
        let signature = sign(SECRET, PRODUCT_UPDATE);
        let tampered = String::from_utf8_lossy(PRODUCT_UPDATE).replace("Trail Mug", "Free Mug");
        let message = unauthorized_message(verify_signature(
            SECRET,
            &headers(&signature, "products/update"),
            tampered.as_bytes(),
        ));
        assert!(message.contains(HMAC_HEADER), "{message}");
    }

    #[test]
    fn a_body_signed_with_another_secret_is_unauthorized() {
        let signature = sign("shpss_someone_else", PRODUCT_UPDATE);
        let message = unauthorized_message(verify_signature(
            SECRET,
            &headers(&signature, "products/update"),
            PRODUCT_UPDATE,
        ));
        assert!(message.contains("webhook-secret"), "{message}");
    }

    #[test]
    fn a_missing_or_malformed_signature_is_unauthorized() {
        let mut no_signature = headers("", "products/update");
        no_signature.remove(0);
        let message = unauthorized_message(verify_signature(SECRET, &no_signature, PRODUCT_UPDATE));
        assert!(message.contains(HMAC_HEADER), "{message}");
        for bad in ["", "not base64!", "AAAA"] {
            let message = unauthorized_message(verify_signature(
                SECRET,
                &headers(bad, "products/update"),
                PRODUCT_UPDATE,
            ));
            assert!(message.contains(HMAC_HEADER), "{bad}: {message}");
        }
        // A hex digest of the right HMAC is still the wrong encoding.
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
        mac.update(PRODUCT_UPDATE);
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert!(verify_signature(SECRET, &headers(&hex, "products/update"), PRODUCT_UPDATE).is_err());
        assert!(
            verify_signature("", &headers(&sign("", PRODUCT_UPDATE), "x"), PRODUCT_UPDATE).is_err(),
            "an empty secret verifies nothing"
        );
    }

    #[test]
    fn headers_are_read_case_insensitively_and_the_event_id_wins() {
        let mut headers = headers("sig", " products/update ");
        assert_eq!(topic(&headers).expect("topic"), "products/update");
        assert_eq!(
            event_id(&headers).as_deref(),
            Some("d1f0c1d2-0000-4000-8000-000000000001"),
            "the webhook id stands in for a missing event id"
        );
        headers.push(("X-Shopify-Event-Id".into(), "e-1".into()));
        assert_eq!(event_id(&headers).as_deref(), Some("e-1"));
        assert!(event_id(&[]).is_none());
        assert!(matches!(topic(&[]), Err(ConnectorError::Invalid(f)) if f.field == TOPIC_HEADER));
    }

    fn events(meaning: Meaning) -> Vec<StoreEvent> {
        match meaning {
            Meaning::Events(events) => events,
            other => panic!("expected events, got {other:?}"),
        }
    }

    #[test]
    fn product_topics_name_the_product_by_gid() {
        for topic in ["products/create", "products/update"] {
            let events = events(decode(topic, PRODUCT_UPDATE).expect("decodes"));
            assert!(
                matches!(events.as_slice(), [StoreEvent::ProductChanged(id)] if id == "gid://shopify/Product/8100000000007"),
                "{topic}: {events:?}"
            );
        }
        let events = events(decode("products/update", br#"{"id":42,"title":"T"}"#).expect("decodes"));
        assert!(
            matches!(events.as_slice(), [StoreEvent::ProductChanged(id)] if id == "gid://shopify/Product/42"),
            "{events:?}"
        );
    }

    #[test]
    fn a_deleted_product_is_named_by_its_numeric_id() {
        let events = events(decode("products/delete", br#"{"id":788032119674292922}"#).expect("decodes"));
        assert!(
            matches!(events.as_slice(), [StoreEvent::ProductDeleted(id)] if id == "gid://shopify/Product/788032119674292922"),
            "{events:?}"
        );
    }

    #[test]
    fn an_inventory_level_names_its_inventory_item() {
        let body = br#"{"inventory_item_id":271878346596884015,"location_id":24826418,"available":10,
            "updated_at":"2026-01-15T10:00:00Z","admin_graphql_api_id":"gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015"}"#;
        match decode("inventory_levels/update", body).expect("decodes") {
            Meaning::InventoryItem(item) => {
                assert_eq!(item, "gid://shopify/InventoryItem/271878346596884015")
            }
            other => panic!("expected an inventory item, got {other:?}"),
        }
        assert!(matches!(
            decode("inventory_levels/update", br#"{"location_id":1}"#),
            Err(ConnectorError::Invalid(f)) if f.field == "body"
        ));
    }

    fn order_changed(topic: &str, body: &[u8]) -> String {
        match events(decode(topic, body).expect("decodes")).as_slice() {
            [StoreEvent::OrderChanged(id)] => id.clone(),
            other => panic!("{topic}: expected one order event, got {other:?}"),
        }
    }

    #[test]
    fn order_topics_name_the_order_by_gid() {
        let order = br##"{"id":6100000000001,"admin_graphql_api_id":"gid://shopify/Order/6100000000001","name":"#1001",
            "source_identifier":"tiktok-shop:7495:576486014771843072","cancelled_at":null,"line_items":[{"id":16000000000001}]}"##;
        for topic in
            ["orders/create", "orders/updated", "orders/cancelled", "orders/fulfilled", "Orders/Paid"]
        {
            assert_eq!(order_changed(topic, order), "gid://shopify/Order/6100000000001", "{topic}");
        }
        assert_eq!(
            order_changed("orders/delete", br#"{"id":6100000000002}"#),
            "gid://shopify/Order/6100000000002"
        );
        let edit = br#"{"order_edit":{"id":78912328,"app_id":null,"created_at":"2026-01-15T10:00:00Z","notify_customer":false,
            "order_id":"6100000000003","staff_note":"","line_items":{"additions":[],"removals":[]}}}"#;
        assert_eq!(order_changed("orders/edited", edit), "gid://shopify/Order/6100000000003");
    }

    #[test]
    fn fulfillment_and_refund_topics_name_their_order() {
        let fulfillment = br#"{"id":5500000000001,"admin_graphql_api_id":"gid://shopify/Fulfillment/5500000000001",
            "order_id":6100000000001,"status":"success","tracking_number":"1Z999AA10123456784","line_items":[]}"#;
        for topic in ["fulfillments/create", "fulfillments/update"] {
            assert_eq!(order_changed(topic, fulfillment), "gid://shopify/Order/6100000000001", "{topic}");
        }
        let refund = br#"{"id":9100000000001,"admin_graphql_api_id":"gid://shopify/Refund/9100000000001",
            "order_id":6100000000004,"note":"TikTok return","refund_line_items":[],"transactions":[]}"#;
        assert_eq!(order_changed("refunds/create", refund), "gid://shopify/Order/6100000000004");
    }

    #[test]
    fn an_order_topic_without_an_order_is_an_invalid_body() {
        for (topic, body) in [
            ("fulfillments/create", &br#"{"id":5500000000001}"#[..]),
            ("refunds/create", br#"{"admin_graphql_api_id":"gid://shopify/Refund/1"}"#),
            ("orders/create", br#"{"admin_graphql_api_id":"gid://shopify/Refund/1"}"#),
            ("orders/create", b"not json"),
        ] {
            match decode(topic, body) {
                Err(ConnectorError::Invalid(f)) => assert_eq!(f.field, "body", "{topic}"),
                other => panic!("{topic}: expected invalid body, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_topics_mean_nothing() {
        assert!(events(decode("customers/create", b"{}").expect("decodes")).is_empty());
        assert!(
            events(decode("fulfillment_orders/moved", br#"{"order_id":1}"#).expect("decodes")).is_empty()
        );
        assert!(events(decode("app/uninstalled", b"not json").expect("ignored")).is_empty());
    }

    #[test]
    fn unreadable_payloads_are_invalid_bodies() {
        for body in [&b"{not json"[..], b"[1,2]", br#"{"title":"no id"}"#] {
            match decode("products/update", body) {
                Err(ConnectorError::Invalid(f)) => assert_eq!(f.field, "body"),
                other => panic!("expected invalid body, got {other:?}"),
            }
        }
    }
}
