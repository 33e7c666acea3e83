//! Turns a TikTok Shop answer (HTTP status, envelope code and message) into the contract's
//! typed [`ConnectorError`], so the host decides retries from the variant (reference §4).

use crossdock_plugin_sdk::types::ConnectorError;

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
        return ConnectorError::rate_limited(
            retry_after_ms.unwrap_or(DEFAULT_RETRY_AFTER_MS),
            label,
        );
    }
    match code {
        Some(
            INVALID_SIGN | INVALID_CREDENTIALS | TOKEN_EXPIRED | SCOPE_MISSING | SHOP_MISMATCH,
        ) => ConnectorError::Unauthorized(label),
        Some(PRODUCT_NOT_FOUND) => ConnectorError::NotFound(label),
        Some(code) if (12_000_000..13_000_000).contains(&code) => {
            ConnectorError::invalid(field_of(code), label)
        }
        Some(INTERNAL_ERROR | TIMEOUT) => ConnectorError::Transient(label),
        _ if status == 401 => ConnectorError::Unauthorized(label),
        _ if status >= 500 => ConnectorError::Transient(label),
        _ => ConnectorError::Fatal(label),
    }
}

/// The request field a product error code most likely refers to.
fn field_of(code: i64) -> &'static str {
    match code {
        // category does not exist, wrong category version, not a leaf
        12052023 | 12052217 | 12052230 => "category_id",
        12052084 => "skus.price.currency",
        12052038 => "skus.price",
        12052533 => "skus.inventory.warehouse_id",
        12052093 => "product.listing_limit",
        // the product's status does not allow the operation (e.g. still under review)
        12052901 => "status",
        _ => "product",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(
            classify(401, None, "", None),
            ConnectorError::Unauthorized(_)
        ));
    }

    #[test]
    fn product_codes_are_not_found_or_invalid_with_a_field() {
        assert!(matches!(
            classify(200, Some(12052032), "gone", None),
            ConnectorError::NotFound(_)
        ));
        let error = classify(200, Some(12052230), "not a leaf", None);
        assert!(
            matches!(error, ConnectorError::Invalid(f) if f.field == "category_id" && f.message == "TikTok 12052230: not a leaf")
        );
        let error = classify(200, Some(12052700), "title", None);
        assert!(matches!(error, ConnectorError::Invalid(f) if f.field == "product"));
    }

    #[test]
    fn server_trouble_is_transient_and_the_rest_fatal() {
        assert!(matches!(
            classify(200, Some(36009003), "", None),
            ConnectorError::Transient(_)
        ));
        assert!(matches!(
            classify(200, Some(36009007), "", None),
            ConnectorError::Transient(_)
        ));
        assert!(matches!(
            classify(503, None, "", None),
            ConnectorError::Transient(_)
        ));
        assert!(matches!(
            classify(200, Some(36009014), "bad version", None),
            ConnectorError::Fatal(_)
        ));
        assert!(matches!(
            classify(200, Some(106013), "no cipher", None),
            ConnectorError::Fatal(_)
        ));
    }
}
