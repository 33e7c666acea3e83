//! Turns a TikTok Shop answer (HTTP status, envelope code and message) into the contract's
//! typed [`ConnectorError`], so the host decides retries from the variant (reference §4): the
//! product family (12xxxxxx), fulfillment and logistics (11xxxxxx, 21xxxxxx) and return/refund
//! (25xxxxxx) codes become `invalid` with the field they concern.

use crossdock_plugin_sdk::types::ConnectorError;
use serde_json::Value;

/// Wait suggested when a 429 carries no `Retry-After` (the reference does not confirm one).
pub const DEFAULT_RETRY_AFTER_MS: u64 = 1000;

const TOO_MANY_REQUESTS: i64 = 36009002;
const INTERNAL_ERROR: i64 = 36009003;
const INVALID_CREDENTIALS: i64 = 36009004;
const TIMEOUT: i64 = 36009007;
const SHOP_MISMATCH: i64 = 101000;
const TOKEN_EXPIRED: i64 = 105002;
const SCOPE_MISSING: i64 = 105005;
const INVALID_SIGN: i64 = 106001;
const PRODUCT_NOT_FOUND: i64 = 12052032;
/// "You cannot edit the specified product(s) as it isn't listed in your account or shop."
const NOT_YOUR_PRODUCT: i64 = 12052048;
/// An order, package, cancellation or return the shop does not have. The reference lists no
/// code for it; this is the sandbox's.
const RECORD_NOT_FOUND: i64 = 21001001;

/// The error for a failed call: `code` is the envelope's (none when the body was not an
/// envelope), `retry_after_ms` the `Retry-After` header if any.
pub fn classify(
    status: u16,
    code: Option<i64>,
    message: &str,
    retry_after_ms: Option<u64>,
) -> ConnectorError {
    let label = match code {
        Some(code) => format!("TikTok {code}: {message}"),
        None => format!("TikTok HTTP {status}: {message}"),
    };
    if status == 429 || code == Some(TOO_MANY_REQUESTS) {
        return ConnectorError::rate_limited(retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS), label);
    }
    match code {
        Some(INVALID_SIGN | INVALID_CREDENTIALS | TOKEN_EXPIRED | SCOPE_MISSING | SHOP_MISMATCH) => {
            ConnectorError::Unauthorized(label)
        }
        Some(PRODUCT_NOT_FOUND | NOT_YOUR_PRODUCT) => ConnectorError::NotFound(label),
        Some(RECORD_NOT_FOUND) => ConnectorError::NotFound(label),
        Some(code) if (12_000_000..13_000_000).contains(&code) => {
            ConnectorError::invalid(field_of(code), label)
        }
        Some(code) if is_order_family(code) => ConnectorError::invalid(order_field_of(code), label),
        Some(INTERNAL_ERROR | TIMEOUT) => ConnectorError::Transient(label),
        _ if status == 401 => ConnectorError::Unauthorized(label),
        _ if status >= 500 => ConnectorError::Transient(label),
        _ => ConnectorError::Fatal(label),
    }
}

/// The request field a product error code most likely refers to.
fn field_of(code: i64) -> &'static str {
    match code {
        // category does not exist, not a leaf ("not final"), invalid, wrong category version
        12052023 | 12052024 | 12052025 | 12052217 | 12052230 => "category_id",
        12052084 => "skus.price.currency",
        12052038 => "skus.price",
        12052533 => "skus.inventory.warehouse_id",
        12052093 => "product.listing_limit",
        // the product's status does not allow the operation (e.g. still under review)
        12052901 => "status",
        // a required product attribute is missing, or an attribute or value is malformed
        // (official Create Product error list)
        12052104 | 12052240..=12052256 | 12052529 => "product_attributes",
        _ => "product",
    }
}

/// Fulfillment and logistics (11xxxxxx, 21xxxxxx) or return/refund (25xxxxxx) codes.
fn is_order_family(code: i64) -> bool {
    [11, 21, 25].iter().any(|family| (family * 1_000_000..(family + 1) * 1_000_000).contains(&code))
}

/// The field of a shipment or after-sale request an order-family code refers to (reference
/// §4.2, §7.2, §7.3, §8): `tracking` for the carrier and number, `status` for an order or
/// package whose state refuses the call.
fn order_field_of(code: i64) -> &'static str {
    match code {
        // invalid tracking number or provider id, number/provider mismatch, no carrier matches
        // the number, number already used
        21011022 | 21004015 | 11028006 | 21011025 => "tracking",
        // order cancelled, an after-sale request open, not shipped yet, the 72 h window or the
        // one update allowed is spent, the package is not awaiting shipment (the sandbox's
        // 21011001), invalid order status for the after-sale call, request closed
        21011041 | 21011007 | 21008044 | 21011043 | 21011050 | 21011051 | 21011001 | 25001001 | 25001010 => {
            "status"
        }
        // "interface cannot be used in this region"
        21008106 => "region",
        // no subscription for the delivery option; it is TikTok-fulfilled (no providers)
        21008116 | 21008117 => "delivery_option_id",
        code if code >= 25_000_000 => "after_sale",
        _ => "fulfillment",
    }
}

/// The same error with `doing` (`shipping TikTok order 57…`) in front of its message, so it
/// names the record it concerns.
pub fn context(error: ConnectorError, doing: &str) -> ConnectorError {
    match error {
        ConnectorError::Unauthorized(m) => ConnectorError::Unauthorized(format!("{doing}: {m}")),
        ConnectorError::RateLimited(mut r) => {
            r.message = format!("{doing}: {}", r.message);
            ConnectorError::RateLimited(r)
        }
        ConnectorError::NotFound(m) => ConnectorError::NotFound(format!("{doing}: {m}")),
        ConnectorError::Invalid(mut f) => {
            f.message = format!("{doing}: {}", f.message);
            ConnectorError::Invalid(f)
        }
        ConnectorError::Transient(m) => ConnectorError::Transient(format!("{doing}: {m}")),
        ConnectorError::Fatal(m) => ConnectorError::Fatal(format!("{doing}: {m}")),
    }
}

/// The first per-item failure of a batch endpoint's `data.errors[]` (code 0 on top, reference
/// §4.1), labelled with the item's `detail.<id_key>`; its first `extra_errors` entry, when
/// present, is the cause. None when every item went through.
pub fn batch_failure(data: &Value, id_key: &str) -> Option<ConnectorError> {
    let error = data["errors"].as_array()?.first()?;
    let extra = &error["detail"]["extra_errors"][0];
    let cause = if extra.is_object() { extra } else { error };
    let message = format!(
        "{id_key} {}: {}",
        error["detail"][id_key].as_str().unwrap_or("?"),
        cause["message"].as_str().unwrap_or_default()
    );
    Some(classify(200, cause["code"].as_i64(), &message, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn throttling_is_rate_limited_with_a_default_wait() {
        let error = classify(429, Some(36009002), "Too many requests", None);
        assert!(matches!(error, ConnectorError::RateLimited(r) if r.retry_after_ms == 1000));
        let error = classify(429, None, "", Some(3000));
        assert!(matches!(error, ConnectorError::RateLimited(r) if r.retry_after_ms == 3000));
    }

    #[test]
    fn credential_codes_are_unauthorized_with_the_code_in_the_message() {
        for code in [106001, 36009004, 105002, 105005, 101000] {
            let error = classify(200, Some(code), "nope", None);
            assert!(
                matches!(&error, ConnectorError::Unauthorized(m) if m == &format!("TikTok {code}: nope"))
            );
        }
        assert!(matches!(classify(401, None, "", None), ConnectorError::Unauthorized(_)));
    }

    #[test]
    fn product_codes_are_not_found_or_invalid_with_a_field() {
        assert!(matches!(classify(200, Some(12052032), "gone", None), ConnectorError::NotFound(_)));
        let error = classify(200, Some(12052230), "not a leaf", None);
        assert!(
            matches!(error, ConnectorError::Invalid(f) if f.field == "category_id" && f.message == "TikTok 12052230: not a leaf")
        );
        let error = classify(200, Some(12052700), "title", None);
        assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "product"));
    }

    #[test]
    fn batch_failures_take_the_extra_error_as_the_cause() {
        assert!(batch_failure(&json!({ "errors": [] }), "product_id").is_none());
        assert!(batch_failure(&json!({}), "product_id").is_none());
        let data = json!({ "errors": [{ "code": 12052901, "message": "status", "detail": { "product_id": "17" } }] });
        assert!(
            matches!(batch_failure(&data, "product_id"), Some(ConnectorError::Invalid(f)) if f.field == "status" && f.message == "TikTok 12052901: product_id 17: status")
        );
        let data = json!({ "errors": [{ "code": 12052990, "message": "Check failed", "detail": {
            "product_id": "17", "extra_errors": [{ "code": 12052048, "message": "not yours" }] } }] });
        assert!(matches!(batch_failure(&data, "product_id"), Some(ConnectorError::NotFound(_))));
    }

    #[test]
    fn attribute_codes_point_at_product_attributes() {
        for code in [12052104, 12052247, 12052529] {
            let error = classify(200, Some(code), "", None);
            assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "product_attributes"));
        }
    }

    #[test]
    fn tracking_codes_point_at_tracking_and_state_codes_at_status() {
        for code in [21011022, 21004015, 11028006, 21011025] {
            let error = classify(200, Some(code), "bad number", None);
            assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "tracking"), "{code}");
        }
        for code in [21011041, 21011007, 21008044, 21011043, 21011050, 21011051, 25001001, 25001010] {
            let error = classify(200, Some(code), "not now", None);
            assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "status"), "{code}");
        }
        let error = classify(200, Some(21008117), "TikTok ships it", None);
        assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "delivery_option_id"));
        let error = classify(200, Some(25009999), "other", None);
        assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "after_sale"));
        let error = classify(200, Some(21099999), "other", None);
        assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "fulfillment"));
        assert!(matches!(classify(200, Some(21001001), "no order", None), ConnectorError::NotFound(_)));
    }

    #[test]
    fn context_names_the_record_and_keeps_the_variant() {
        let error =
            context(classify(200, Some(21011022), "Invalid tracking", None), "shipping TikTok order 57");
        assert!(
            matches!(error, ConnectorError::Invalid(f) if f.field == "tracking" && f.message == "shipping TikTok order 57: TikTok 21011022: Invalid tracking")
        );
        let error = context(classify(429, None, "slow", Some(2000)), "reading orders");
        assert!(
            matches!(error, ConnectorError::RateLimited(r) if r.retry_after_ms == 2000 && r.message.starts_with("reading orders: "))
        );
    }

    #[test]
    fn server_trouble_is_transient_and_the_rest_fatal() {
        assert!(matches!(classify(200, Some(36009003), "", None), ConnectorError::Transient(_)));
        assert!(matches!(classify(200, Some(36009007), "", None), ConnectorError::Transient(_)));
        assert!(matches!(classify(503, None, "", None), ConnectorError::Transient(_)));
        assert!(matches!(classify(200, Some(36009014), "bad version", None), ConnectorError::Fatal(_)));
        assert!(matches!(classify(200, Some(106013), "no cipher", None), ConnectorError::Fatal(_)));
    }
}
