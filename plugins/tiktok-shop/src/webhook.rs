//! TikTok Shop webhooks (reference §9): the `Authorization` signature, hex
//! HMAC-SHA256(app_secret, app_key + raw body) compared in constant time (§9.3); the envelope
//! `{type, tts_notification_id, shop_id, timestamp, data}` (§9.4) checked against this
//! connection's shop; and the types the host follows (§9.5) as channel events. Pure, so it is
//! tested natively; the `ChannelWebhooks` export reads the credentials and calls it.

use crate::client::Client;
use crossdock_plugin_sdk::channel_webhooks::{ChannelDelivery, ChannelEvent};
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::webhooks::header;
use crossdock_plugin_sdk::{ChannelWebhooks, Result, config};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Checks the `Authorization` header against the raw body.
pub fn verify_signature(
    app_key: &str,
    app_secret: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<()> {
    if app_secret.is_empty() {
        return Err(ConnectorError::Unauthorized("connection secret `app-secret` is empty".into()));
    }
    let Some(signature) = header(headers, "authorization").filter(|s| !s.is_empty()) else {
        return Err(ConnectorError::Unauthorized("the TikTok webhook has no Authorization header".into()));
    };
    let signature = hex::decode(signature).map_err(|_| {
        ConnectorError::Unauthorized(
            "the TikTok webhook's Authorization header is not a hex signature".into(),
        )
    })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes())
        .map_err(|e| ConnectorError::Fatal(format!("HMAC refused the app secret: {e}")))?;
    mac.update(app_key.as_bytes());
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature).map_err(|_| {
        ConnectorError::Unauthorized(
            "the TikTok webhook's signature does not match its body; check the connection's `app-key` and `app-secret`"
                .into(),
        )
    })
}

/// An id that may be a string or a bare JSON integer, never read through a float.
fn exact_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

/// The decoded envelope.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// `type`, verbatim.
    pub topic: String,
    pub shop_id: String,
    pub notification_id: Option<String>,
    pub data: Value,
}

/// Reads the envelope of a raw body; `invalid` names what is missing.
pub fn envelope(body: &[u8]) -> Result<Envelope> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ConnectorError::invalid("body", format!("the TikTok webhook body is not JSON: {e}")))?;
    let topic = exact_id(&value["type"])
        .ok_or_else(|| ConnectorError::invalid("type", "the TikTok webhook has no numeric `type`"))?;
    let shop_id = exact_id(&value["shop_id"])
        .ok_or_else(|| ConnectorError::invalid("shop_id", "the TikTok webhook names no `shop_id`"))?;
    Ok(Envelope {
        topic,
        shop_id,
        notification_id: exact_id(&value["tts_notification_id"]),
        data: value["data"].clone(),
    })
}

/// `tts_notification_id`, else a stable digest of type, shop and data (older deliveries lack
/// the id; `data` serializes with sorted keys, so a resend digests the same).
pub fn event_id(envelope: &Envelope) -> String {
    if let Some(id) = &envelope.notification_id {
        return id.clone();
    }
    let mut digest = Sha256::new();
    digest.update(envelope.topic.as_bytes());
    digest.update(b"|");
    digest.update(envelope.shop_id.as_bytes());
    digest.update(b"|");
    digest.update(envelope.data.to_string().as_bytes());
    format!("sha256:{}", hex::encode(&digest.finalize()[..16]))
}

fn field(data: &Value, name: &str, topic: &str) -> Result<String> {
    exact_id(&data[name]).ok_or_else(|| {
        ConnectorError::invalid(
            format!("data.{name}"),
            format!("the TikTok webhook of type {topic} has no `{name}`"),
        )
    })
}

/// What a delivery of type `topic` concerns (§9.5): order status (1), address (3) and package
/// (4) changes are order changes; cancellation (11) and return (12) changes after-sale changes
/// of the order; product status (5) and audit status (37) changes listing changes. Other types
/// concern nothing the host follows.
pub fn events(envelope: &Envelope) -> Result<Vec<ChannelEvent>> {
    let (data, topic) = (&envelope.data, envelope.topic.as_str());
    Ok(match topic {
        "1" | "3" => vec![ChannelEvent::OrderChanged(field(data, "order_id", topic)?)],
        "4" => {
            let mut orders: Vec<String> = Vec::new();
            let listed = data["package_list"].as_array().into_iter().flatten();
            for id in
                listed.flat_map(|p| p["order_id_list"].as_array().into_iter().flatten()).filter_map(exact_id)
            {
                if !orders.contains(&id) {
                    orders.push(id);
                }
            }
            orders.into_iter().map(ChannelEvent::OrderChanged).collect()
        }
        "11" | "12" => vec![ChannelEvent::AfterSaleChanged(field(data, "order_id", topic)?)],
        "5" | "37" => vec![ChannelEvent::ListingChanged(field(data, "product_id", topic)?)],
        _ => Vec::new(),
    })
}

/// A verified body for the shop `expected_shop_id` as a delivery.
pub fn delivery(body: &[u8], expected_shop_id: &str) -> Result<ChannelDelivery> {
    let envelope = envelope(body)?;
    if envelope.shop_id != expected_shop_id {
        return Err(ConnectorError::invalid(
            "shop_id",
            format!(
                "the TikTok webhook is for shop {}, this connection's shop is {expected_shop_id}; it belongs to another connection",
                envelope.shop_id
            ),
        ));
    }
    Ok(ChannelDelivery {
        event_id: Some(event_id(&envelope)),
        events: events(&envelope)?,
        topic: envelope.topic,
    })
}

/// This connection's shop id: the `shop-id` setting, else the id Get Authorized Shops gives
/// the configured `shop-cipher` (webhooks name the shop by id, calls by cipher).
fn own_shop_id() -> Result<String> {
    if let Some(id) = config::get("shop-id").filter(|id| !id.trim().is_empty()) {
        return Ok(id.trim().to_owned());
    }
    let client = Client::from_config()?;
    let shop = crate::authorized_shop(&client)?;
    exact_id(&shop["id"]).ok_or_else(|| ConnectorError::Fatal("TikTok's authorized shop has no id".into()))
}

impl ChannelWebhooks for crate::TikTokShop {
    fn verify_webhook(headers: Vec<(String, String)>, body: Vec<u8>) -> Result<ChannelDelivery> {
        let app_key = config::require("app-key")?;
        let app_secret = config::require_secret("app-secret")?;
        verify_signature(&app_key, &app_secret, &headers, &body)?;
        // The body is read before the shop is looked up: a malformed one costs no call.
        envelope(&body)?;
        delivery(&body, &own_shop_id()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "test-app-key";
    const SECRET: &str = "test-app-secret";
    const SHOP: &str = "7494049642642441621";

    fn signed(body: &[u8]) -> Vec<(String, String)> {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key");
        mac.update(KEY.as_bytes());
        mac.update(body);
        vec![("Authorization".into(), hex::encode(mac.finalize().into_bytes()))]
    }

    fn body(kind: Value, data: Value) -> Vec<u8> {
        let envelope = json!({ "type": kind, "tts_notification_id": "7327112393057371910", "shop_id": SHOP,
                               "timestamp": 1644412885, "data": data });
        serde_json::to_vec(&envelope).expect("json")
    }

    #[test]
    fn the_signature_is_hmac_of_app_key_and_body() {
        let body = body(json!(1), json!({ "order_id": "576" }));
        assert!(verify_signature(KEY, SECRET, &signed(&body), &body).is_ok());
        let upper: Vec<(String, String)> =
            signed(&body).into_iter().map(|(n, v)| (n.to_lowercase(), v.to_uppercase())).collect();
        assert!(
            verify_signature(KEY, SECRET, &upper, &body).is_ok(),
            "header names and hex case do not matter"
        );
    }

    #[test]
    fn a_wrong_missing_or_malformed_signature_is_unauthorized() {
        let body = body(json!(1), json!({ "order_id": "576" }));
        let mut tampered = body.clone();
        tampered.push(b' ');
        let unauthorized = |r: Result<()>| matches!(r, Err(ConnectorError::Unauthorized(_)));
        assert!(unauthorized(verify_signature(KEY, SECRET, &signed(&body), &tampered)));
        assert!(unauthorized(verify_signature("other-key", SECRET, &signed(&body), &body)));
        assert!(unauthorized(verify_signature(KEY, "other-secret", &signed(&body), &body)));
        assert!(unauthorized(verify_signature(KEY, SECRET, &[], &body)));
        assert!(unauthorized(verify_signature(KEY, SECRET, &[("Authorization".into(), "zz".into())], &body)));
        assert!(unauthorized(verify_signature(KEY, "", &signed(&body), &body)));
    }

    #[test]
    fn order_after_sale_and_listing_types_become_events() {
        let delivery_of = |kind: Value, data: Value| delivery(&body(kind, data), SHOP).expect("decodes");
        let order =
            delivery_of(json!(1), json!({ "order_id": "576461413038785752", "order_status": "CANCEL" }));
        assert_eq!(order.topic, "1");
        assert_eq!(order.event_id.as_deref(), Some("7327112393057371910"));
        assert!(
            matches!(order.events.as_slice(), [ChannelEvent::OrderChanged(id)] if id == "576461413038785752")
        );
        for kind in [11, 12] {
            let request = delivery_of(json!(kind), json!({ "order_id": "576", "cancel_id": "40" }));
            assert!(matches!(request.events.as_slice(), [ChannelEvent::AfterSaleChanged(id)] if id == "576"));
        }
        let address = delivery_of(json!(3), json!({ "order_id": "577" }));
        assert!(matches!(address.events.as_slice(), [ChannelEvent::OrderChanged(id)] if id == "577"));
        let packages = delivery_of(
            json!(4),
            json!({ "package_list": [{ "package_id": "11", "order_id_list": ["578", "579"] },
                                      { "package_id": "12", "order_id_list": ["579"] }] }),
        );
        let ids: Vec<&str> = packages
            .events
            .iter()
            .filter_map(|e| match e {
                ChannelEvent::OrderChanged(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, vec!["578", "579"]);
    }

    #[test]
    fn a_numeric_product_id_keeps_every_digit() {
        let raw = format!(
            r#"{{"type":5,"shop_id":"{SHOP}","timestamp":1,"data":{{"product_id":1729592969712207012,"status":"PRODUCT_STATUS_CHANGED"}}}}"#
        );
        let status = delivery(raw.as_bytes(), SHOP).expect("decodes");
        assert!(
            matches!(status.events.as_slice(), [ChannelEvent::ListingChanged(id)] if id == "1729592969712207012")
        );
        let audit = delivery(&body(json!(37), json!({ "product_id": "1729" })), SHOP).expect("decodes");
        assert!(matches!(audit.events.as_slice(), [ChannelEvent::ListingChanged(id)] if id == "1729"));
        let float = format!(r#"{{"type":5,"shop_id":"{SHOP}","data":{{"product_id":1.7e18}}}}"#);
        assert!(
            matches!(delivery(float.as_bytes(), SHOP), Err(ConnectorError::Invalid(f)) if f.field == "data.product_id")
        );
    }

    #[test]
    fn other_types_carry_no_events() {
        for kind in [json!(6), json!(7), json!(27), json!("14")] {
            let ignored = delivery(&body(kind.clone(), json!({ "message": "x" })), SHOP).expect("decodes");
            assert!(ignored.events.is_empty(), "{kind}");
        }
    }

    #[test]
    fn a_delivery_for_another_shop_or_a_broken_body_is_invalid() {
        let other = delivery(&body(json!(1), json!({ "order_id": "5" })), "7494000000000000000");
        assert!(matches!(other, Err(ConnectorError::Invalid(f)) if f.field == "shop_id"));
        assert!(matches!(delivery(b"not json", SHOP), Err(ConnectorError::Invalid(f)) if f.field == "body"));
        let no_order = delivery(&body(json!(1), json!({})), SHOP);
        assert!(matches!(no_order, Err(ConnectorError::Invalid(f)) if f.field == "data.order_id"));
    }

    #[test]
    fn without_a_notification_id_the_event_id_is_a_stable_digest() {
        let raw = |data: &str| format!(r#"{{"type":6,"shop_id":"{SHOP}","timestamp":1,"data":{data}}}"#);
        let first = delivery(raw(r#"{"message":"bye","b":1}"#).as_bytes(), SHOP).expect("decodes");
        let again = delivery(raw(r#"{"b":1, "message":"bye"}"#).as_bytes(), SHOP).expect("decodes");
        let other = delivery(raw(r#"{"message":"hello","b":1}"#).as_bytes(), SHOP).expect("decodes");
        let id = first.event_id.expect("an id");
        assert!(id.starts_with("sha256:") && id.len() == 39, "{id}");
        assert_eq!(again.event_id.as_deref(), Some(id.as_str()));
        assert_ne!(other.event_id.as_deref(), Some(id.as_str()));
    }
}
