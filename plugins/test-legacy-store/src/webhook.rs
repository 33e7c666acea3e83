//! Shopify webhook deliveries as contract 0.2.0 knows them: the `X-Shopify-Hmac-Sha256` check
//! and the two catalog topics (`products/update`, `products/delete`); every other topic,
//! orders included, means nothing to a catalog-only store.

use crate::crossdock::connector::types::{ConnectorError, InvalidField};
use crate::exports::crossdock::connector::store_webhooks::{StoreEvent, WebhookDelivery};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// base64(HMAC-SHA256(secret, raw body)).
pub const HMAC_HEADER: &str = "X-Shopify-Hmac-Sha256";
/// `products/update`.
pub const TOPIC_HEADER: &str = "X-Shopify-Topic";
/// The event; the same on every copy and retry of it.
const EVENT_ID_HEADER: &str = "X-Shopify-Event-Id";
/// The delivery; older deliveries carry only this one.
const WEBHOOK_ID_HEADER: &str = "X-Shopify-Webhook-Id";

/// Verifies a delivery signed with `secret` and says what it means for the catalog.
pub fn verify(
    secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<WebhookDelivery, ConnectorError> {
    check_signature(secret, headers, body)?;
    let topic = header(headers, TOPIC_HEADER)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid(TOPIC_HEADER, "the webhook has no topic"))?
        .to_string();
    let event_id = [EVENT_ID_HEADER, WEBHOOK_ID_HEADER]
        .into_iter()
        .find_map(|name| header(headers, name).filter(|v| !v.is_empty()))
        .map(str::to_string);
    let events = if topic.eq_ignore_ascii_case("products/update") {
        vec![StoreEvent::ProductChanged(product_id(body)?)]
    } else if topic.eq_ignore_ascii_case("products/delete") {
        vec![StoreEvent::ProductDeleted(product_id(body)?)]
    } else {
        Vec::new()
    };
    Ok(WebhookDelivery { event_id, topic, events })
}

/// A header's trimmed value; names are case-insensitive.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

fn invalid(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::Invalid(InvalidField { field: field.to_string(), message: message.into() })
}

/// Checks `X-Shopify-Hmac-Sha256` against the raw body, in constant time.
fn check_signature(secret: &str, headers: &[(String, String)], body: &[u8]) -> Result<(), ConnectorError> {
    if secret.is_empty() {
        return Err(ConnectorError::Unauthorized("connection secret `webhook-secret` is empty".into()));
    }
    let Some(signature) = header(headers, HMAC_HEADER).filter(|s| !s.is_empty()) else {
        return Err(ConnectorError::Unauthorized(format!("the webhook has no {HMAC_HEADER} header")));
    };
    let signature = BASE64
        .decode(signature)
        .map_err(|_| ConnectorError::Unauthorized(format!("the webhook's {HMAC_HEADER} is not base64")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| ConnectorError::Fatal(format!("HMAC refused the webhook secret: {e}")))?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature).map_err(|_| {
        ConnectorError::Unauthorized(format!(
            "the webhook's {HMAC_HEADER} does not match its body; check the connection's `webhook-secret`"
        ))
    })
}

/// `admin_graphql_api_id` when it is a product's, else `gid://shopify/Product/{id}`.
fn product_id(body: &[u8]) -> Result<String, ConnectorError> {
    let payload = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(invalid("body", "the payload is not a JSON object")),
        Err(e) => return Err(invalid("body", format!("the payload is not JSON: {e}"))),
    };
    if let Some(gid) = payload
        .get("admin_graphql_api_id")
        .and_then(Value::as_str)
        .filter(|g| crate::product::is_product_gid(g))
    {
        return Ok(gid.to_string());
    }
    let id = match payload.get("id") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    id.map(|id| format!("gid://shopify/Product/{id}"))
        .ok_or_else(|| invalid("body", "the payload has no product id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "shpss_test_webhook_secret";
    const UPDATE: &[u8] = br#"{"admin_graphql_api_id":"gid://shopify/Product/8100000000007","id":8100000000007,"title":"Trail Mug","status":"active"}"#;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(body);
        BASE64.encode(mac.finalize().into_bytes())
    }

    fn headers(signature: &str, topic: &str) -> Vec<(String, String)> {
        vec![
            ("x-shopify-hmac-sha256".into(), signature.into()),
            ("X-Shopify-Topic".into(), topic.into()),
            ("x-shopify-webhook-id".into(), "d1f0c1d2-0000-4000-8000-000000000001".into()),
        ]
    }

    fn delivery(topic: &str, body: &[u8]) -> WebhookDelivery {
        verify(SECRET, &headers(&sign(SECRET, body), topic), body).expect("verifies")
    }

    fn unauthorized(result: Result<WebhookDelivery, ConnectorError>) -> String {
        match result {
            Err(ConnectorError::Unauthorized(m)) => m,
            other => panic!("expected unauthorized, got {other:?}"),
        }
    }

    #[test]
    fn a_product_update_names_the_product_by_gid() {
        let d = delivery("products/update", UPDATE);
        assert_eq!(d.topic, "products/update");
        assert_eq!(d.event_id.as_deref(), Some("d1f0c1d2-0000-4000-8000-000000000001"));
        assert!(
            matches!(d.events.as_slice(), [StoreEvent::ProductChanged(id)] if id == "gid://shopify/Product/8100000000007"),
            "{:?}",
            d.events
        );
    }

    #[test]
    fn a_product_delete_names_the_product_from_its_rest_id() {
        let body = br#"{"id":8100000000009}"#;
        let d = delivery("products/delete", body);
        assert!(
            matches!(d.events.as_slice(), [StoreEvent::ProductDeleted(id)] if id == "gid://shopify/Product/8100000000009"),
            "{:?}",
            d.events
        );
        let d = delivery("products/delete", br#"{"id":"42"}"#);
        assert!(
            matches!(d.events.as_slice(), [StoreEvent::ProductDeleted(id)] if id == "gid://shopify/Product/42")
        );
    }

    #[test]
    fn other_topics_orders_included_mean_no_events() {
        for topic in ["orders/create", "fulfillments/create", "inventory_levels/update", "shop/update"] {
            let d = delivery(topic, br#"{"id":5,"order_id":6}"#);
            assert!(d.events.is_empty(), "{topic}: {:?}", d.events);
            assert_eq!(d.topic, topic);
        }
    }

    #[test]
    fn the_event_id_wins_over_the_webhook_id() {
        let mut with_event = headers(&sign(SECRET, UPDATE), "products/update");
        with_event.push(("X-Shopify-Event-Id".into(), "e-1".into()));
        assert_eq!(verify(SECRET, &with_event, UPDATE).expect("verifies").event_id.as_deref(), Some("e-1"));
        let bare = vec![
            ("X-Shopify-Hmac-Sha256".into(), sign(SECRET, UPDATE)),
            ("X-Shopify-Topic".into(), "products/update".into()),
        ];
        assert_eq!(verify(SECRET, &bare, UPDATE).expect("verifies").event_id, None);
    }

    #[test]
    fn forged_tampered_or_unsigned_deliveries_are_unauthorized() {
        let tampered = String::from_utf8_lossy(UPDATE).replace("Trail Mug", "Free Mug");
        let signed = headers(&sign(SECRET, UPDATE), "products/update");
        assert!(unauthorized(verify(SECRET, &signed, tampered.as_bytes())).contains("webhook-secret"));
        let other_secret = headers(&sign("shpss_someone_else", UPDATE), "products/update");
        assert!(unauthorized(verify(SECRET, &other_secret, UPDATE)).contains(HMAC_HEADER));
        for bad in ["", "Zm9yZ2Vk", "not base64!"] {
            assert!(
                unauthorized(verify(SECRET, &headers(bad, "products/update"), UPDATE)).contains(HMAC_HEADER),
                "{bad}"
            );
        }
        let mut unsigned = headers("x", "products/update");
        unsigned.remove(0);
        assert!(unauthorized(verify(SECRET, &unsigned, UPDATE)).contains("no X-Shopify-Hmac-Sha256"));
        assert!(
            unauthorized(verify("", &headers(&sign("", UPDATE), "products/update"), UPDATE))
                .contains("empty")
        );
    }

    #[test]
    fn a_signed_delivery_without_topic_or_product_is_invalid() {
        let no_topic = vec![("X-Shopify-Hmac-Sha256".into(), sign(SECRET, UPDATE))];
        assert!(
            matches!(verify(SECRET, &no_topic, UPDATE), Err(ConnectorError::Invalid(f)) if f.field == TOPIC_HEADER)
        );
        for body in [&b"not json"[..], br#"[1]"#, br#"{"title":"no id"}"#] {
            let result = verify(SECRET, &headers(&sign(SECRET, body), "products/update"), body);
            assert!(matches!(result, Err(ConnectorError::Invalid(f)) if f.field == "body"), "{body:?}");
        }
    }
}
