//! The Open API response envelope `{code, message, request_id, data}` and the error codes the
//! TikTok sandbox answers with (reference §4). Codes the reference does not list are marked.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Error codes, as the reference lists them (§3.4, §4.2).
pub(crate) mod code {
    /// Too many requests (HTTP 429).
    pub const TOO_MANY_REQUESTS: i64 = 36009002;
    /// Missing or invalid app_key, sign, timestamp, token; unexpected shop_cipher.
    pub const INVALID_CREDENTIALS: i64 = 36009004;
    pub const INVALID_PATH: i64 = 36009009;
    pub const INVALID_METHOD: i64 = 36009010;
    pub const INVALID_VERSION: i64 = 36009014;
    pub const INVALID_CONTENT_TYPE: i64 = 36009022;
    /// The token's seller does not own the shop_cipher.
    pub const SHOP_MISMATCH: i64 = 101000;
    pub const TOKEN_EXPIRED: i64 = 105002;
    /// Bad sign (HTTP 401).
    pub const INVALID_SIGN: i64 = 106001;
    pub const MISSING_SHOP_CIPHER: i64 = 106013;
    pub const CATEGORY_NOT_FOUND: i64 = 12052023;
    pub const PRODUCT_NOT_FOUND: i64 = 12052032;
    pub const CURRENCY_NOT_AVAILABLE: i64 = 12052084;
    pub const CATEGORY_NOT_LEAF: i64 = 12052230;
    /// Update Inventory may not add or remove a SKU's warehouses.
    pub const WAREHOUSE_CHANGE: i64 = 12052533;
    pub const STATUS_NOT_VALID: i64 = 12052901;
    pub const BATCH_INVENTORY_ERROR: i64 = 12052990;
    // The codes below are not in the reference; they come from the official error lists of
    // Create Product, Get Attributes and the batch status endpoints (Partner Center docs,
    // archived in lazykern/ecommerce-api-docs).
    /// More than 20 product ids in a batch call.
    pub const TOO_MANY_IDS: i64 = 12019120;
    /// Get Attributes on a category that is not a leaf ("not final category").
    pub const CATEGORY_NOT_FINAL: i64 = 12052024;
    /// The product belongs to another of the seller's shops.
    pub const NOT_YOUR_PRODUCT: i64 = 12052048;
    /// A required product attribute is missing ("property is required").
    pub const PROPERTY_REQUIRED: i64 = 12052104;
    /// A product attribute given by name only ("Do not support custom property").
    pub const CUSTOM_PROPERTY: i64 = 12052240;
    /// A product attribute with neither id nor name.
    pub const ATTRIBUTE_ID_EMPTY: i64 = 12052241;
    /// Several values for a single-selection attribute.
    pub const MULTIPLE_SELECTION: i64 = 12052246;
    /// A value by name for an attribute that takes built-in values only.
    pub const CUSTOM_VALUE: i64 = 12052247;
    /// An attribute value with neither id nor name, or no values at all.
    pub const VALUE_EMPTY: i64 = 12052248;
    pub const DUPLICATE_VALUE: i64 = 12052251;
    pub const DUPLICATE_ATTRIBUTE: i64 = 12052254;
    /// A value id that is not one of the attribute's.
    pub const VALUE_NOT_FOUND: i64 = 12052529;
    /// Any other refused product field. Invented: the reference lists no generic code for a
    /// missing or malformed product parameter, so the sandbox uses one code in the product
    /// family and names the field in the message.
    pub const INVALID_PARAMETER: i64 = 12052700;

    // Orders, fulfillment, logistics, after-sale and the auth host (reference §2.2, §4.2, §7).
    /// Internal error (retry); the chaos knob answers it with HTTP 500.
    pub const INTERNAL_ERROR: i64 = 36009003;
    /// Auth host: the auth code or refresh token is unknown, used or expired.
    pub const AUTH_RECORD_NOT_FOUND: i64 = 36004005;
    /// Auth host: the refresh token has expired.
    pub const REFRESH_TOKEN_EXPIRED: i64 = 36004001;
    /// Invalid tracking number or shipping provider id.
    pub const INVALID_TRACKING: i64 = 21011022;
    pub const DUPLICATE_TRACKING: i64 = 21011025;
    /// Ship refused: the order is cancelled.
    pub const ORDER_CANCELLED: i64 = 21011041;
    /// Ship refused: an after-sale (cancellation) request is pending.
    pub const AFTER_SALE_PENDING: i64 = 21011007;
    /// No subscription for the delivery option.
    pub const DELIVERY_OPTION_NOT_SUBSCRIBED: i64 = 21008116;
    /// The delivery option is fulfilled by TikTok: no providers.
    pub const TIKTOK_FULFILLED_OPTION: i64 = 21008117;
    /// Invalid order status for an after-sale action.
    pub const AFTER_SALE_STATUS: i64 = 25001001;
    /// The return is completed or the order cancelled.
    pub const AFTER_SALE_CLOSED: i64 = 25001010;
    // Invented (the reference lists no code for these): one per family, the field or state
    // named in the message.
    /// An order, package, cancellation or return id that is not the shop's.
    pub const RECORD_NOT_FOUND: i64 = 21001001;
    /// Ship on a package that is not awaiting shipment (unpaid, on hold or already shipped).
    pub const PACKAGE_STATUS: i64 = 21011001;
    /// A refused order, fulfillment, after-sale or webhook parameter.
    pub const INVALID_REQUEST: i64 = 36009005;
}

/// A refused call: the HTTP status and the envelope's code and message.
///
/// HTTP statuses: 401 for a bad sign and 429 for throttling were observed on the real API;
/// 404/405 for unknown paths and methods are the sandbox's choice; every other error is
/// HTTP 200 with a non-zero code (commonly believed, UNCONFIRMED in the reference §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: i64,
    pub message: String,
}

impl ApiError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::OK, code, message: message.into() }
    }
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    /// A refused product field, named in the message.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError::new(code::INVALID_PARAMETER, format!("Invalid parameter `{field}`: {why}"))
    }
    pub fn credentials(message: impl Into<String>) -> Self {
        ApiError::new(code::INVALID_CREDENTIALS, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id(),
            "data": Value::Null,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// A successful call's envelope around `data`.
pub(crate) fn ok(data: Value) -> Response {
    let body = json!({
        "code": 0,
        "message": "Success",
        "request_id": request_id(),
        "data": data,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Unix seconds on the wall clock (timestamps on the wire and the signature window).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `YYYYMMDDhhmmss` (UTC) followed by 20 upper-case hex characters, like the real ids.
pub(crate) fn request_id() -> String {
    let now = unix_now();
    let (days, secs) = (now.div_euclid(86_400), now.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let noise: u128 = rand::random();
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}{:020X}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        noise & ((1u128 << 80) - 1)
    )
}

/// Days since 1970-01-01 to a (year, month, day) civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn request_ids_look_like_the_real_ones() {
        let id = request_id();
        assert_eq!(id.len(), 34);
        assert!(id[..14].bytes().all(|b| b.is_ascii_digit()));
        assert!(id[14..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase()));
    }
}
