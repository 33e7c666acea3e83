//! Request signing (reference §3.1) and the server-side checks every Open API call passes, in
//! the reference's order (§3.4): app_key, sign present, timestamp window, sign, access token,
//! shop_cipher, content type.

use super::envelope::{ApiError, code, unix_now};
use super::state::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Query parameters that never enter the signature.
const UNSIGNED_PARAMS: [&str; 3] = ["sign", "access_token", "x-tts-access-token"];

/// The Open API signature of one request (reference §3.1): HMAC-SHA256 keyed with the app
/// secret over `secret + path + sorted(key + value) + body + secret`, in lower-case hex.
///
/// `path` has no host and no query; `query` holds the decoded parameters (`sign` and
/// `access_token` are skipped); `body` is the exact bytes sent (empty for GET). Multipart
/// uploads sign no body: pass `&[]` for them.
pub fn sign(app_secret: &str, path: &str, query: &[(String, String)], body: &[u8]) -> String {
    let mut params: Vec<&(String, String)> =
        query.iter().filter(|(key, _)| !UNSIGNED_PARAMS.contains(&key.as_str())).collect();
    // Ordinal, case-sensitive order; a stable sort keeps repeated keys in request order.
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));

    let mut message = Vec::with_capacity(2 * app_secret.len() + path.len() + body.len() + 64);
    message.extend_from_slice(app_secret.as_bytes());
    message.extend_from_slice(path.as_bytes());
    for (key, value) in params {
        message.extend_from_slice(key.as_bytes());
        message.extend_from_slice(value.as_bytes());
    }
    message.extend_from_slice(body);
    message.extend_from_slice(app_secret.as_bytes());

    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(&message);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether an endpoint takes `shop_cipher` (reference §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CipherRule {
    /// Shop-scoped: 106013 without it.
    Required,
    /// Marked "N" in the spec (Update Inventory): the product decides the shop when absent.
    Optional,
    /// Seller-scoped (`/authorization/*`): 36009004 with it.
    Forbidden,
}

/// One request as the checks see it.
#[derive(Debug)]
pub(crate) struct ApiRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

impl ApiRequest<'_> {
    /// The first value of a query parameter; empty values count as absent.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str())
    }
}

/// The credentials the app was issued, as the checks compare them.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub app_key: String,
    pub app_secret: String,
}

/// Oldest and newest accepted `timestamp`, relative to the server's clock (reference §3.1).
const TIMESTAMP_PAST_SECS: i64 = 5 * 60;
const TIMESTAMP_FUTURE_SECS: i64 = 30;

/// Runs the checks of reference §3.4 (steps 2–9) and returns the shop_cipher the call is
/// for, if any. Path, method and version were checked before (steps 1).
pub(crate) fn check(
    credentials: &Credentials,
    state: &State,
    request: &ApiRequest<'_>,
    rule: CipherRule,
) -> Result<Option<String>, ApiError> {
    match request.param("app_key") {
        Some(key) if key == credentials.app_key => {}
        _ => {
            return Err(ApiError::credentials("Invalid credentials. Invalid app_key."));
        }
    }
    let Some(given_sign) = request.param("sign") else {
        return Err(ApiError::credentials("Missing credentials. The 'sign' query parameter is required."));
    };
    check_timestamp(request.param("timestamp"))?;
    let expected = sign(&credentials.app_secret, request.path, request.query, request.body);
    if given_sign != expected {
        return Err(ApiError::new(
            code::INVALID_SIGN,
            "Invalid credentials. The 'sign' query parameter is invalid. Please check the \
             signature algorithm.",
        )
        .with_status(StatusCode::UNAUTHORIZED));
    }

    let token = request.headers.get("x-tts-access-token").and_then(|v| v.to_str().ok());
    match token {
        Some(token) if token == state.token.value => {
            if unix_now() >= state.token.expires_at {
                return Err(ApiError::new(code::TOKEN_EXPIRED, "access token is expired, please refresh it"));
            }
        }
        _ => {
            return Err(ApiError::credentials(
                "Invalid credentials. The 'x-tts-access-token' header is missing or invalid.",
            ));
        }
    }

    let cipher = request.param("shop_cipher");
    match (rule, cipher) {
        (CipherRule::Required, None) => {
            return Err(ApiError::new(
                code::MISSING_SHOP_CIPHER,
                "Missing identifier. The shop_cipher query parameter is required.",
            ));
        }
        (CipherRule::Forbidden, Some(_)) => {
            return Err(ApiError::credentials(
                "Unexpected identifier. The shop_cipher query parameter is not required for \
                 this request.",
            ));
        }
        (_, Some(cipher)) if state.shop(cipher).is_none() => {
            return Err(ApiError::new(
                code::SHOP_MISMATCH,
                "The shop_cipher does not belong to the seller of this access token.",
            ));
        }
        _ => {}
    }

    if matches!(*request.method, Method::POST | Method::PUT) {
        let content_type =
            request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.to_ascii_lowercase().starts_with("application/json") {
            return Err(ApiError::new(
                code::INVALID_CONTENT_TYPE,
                "Invalid content type. Expected application/json.",
            ));
        }
    }
    Ok(cipher.map(str::to_owned))
}

/// A 10-digit Unix-seconds value within [now - 5 min, now + 30 s].
fn check_timestamp(value: Option<&str>) -> Result<(), ApiError> {
    let invalid = || {
        ApiError::credentials(
            "Invalid timestamp. The timestamp must be Unix seconds within 5 minutes of the \
             server time.",
        )
    };
    let value = value.ok_or_else(invalid)?;
    if value.len() != 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let timestamp: i64 = value.parse().map_err(|_| invalid())?;
    let now = unix_now();
    if timestamp < now - TIMESTAMP_PAST_SECS || timestamp > now + TIMESTAMP_FUTURE_SECS {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn signature_matches_the_official_example() {
        let query = pairs(&[("timestamp", "1623812664"), ("app_key", "29a39d")]);
        assert_eq!(
            sign("e59af819cc", "/authorization/202309/shops", &query, b""),
            "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
        );
    }

    #[test]
    fn signature_matches_the_ecomphp_vector() {
        let query = pairs(&[("foo", "bar")]);
        assert_eq!(
            sign("app_secret", "/test-api", &query, b""),
            "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
        );
    }

    #[test]
    fn signature_ignores_sign_and_access_token_but_covers_the_body() {
        let base = pairs(&[("app_key", "k"), ("timestamp", "1700000000")]);
        let mut with_extras = base.clone();
        with_extras.push(("sign".into(), "whatever".into()));
        with_extras.push(("access_token".into(), "tok".into()));
        assert_eq!(sign("s", "/p", &base, b"{}"), sign("s", "/p", &with_extras, b"{}"));
        assert_ne!(sign("s", "/p", &base, b"{}"), sign("s", "/p", &base, b"{ }"));
    }

    #[test]
    fn timestamps_outside_the_window_are_refused() {
        let now = unix_now();
        assert!(check_timestamp(Some(&now.to_string())).is_ok());
        assert!(check_timestamp(Some(&(now - 301).to_string())).is_err());
        assert!(check_timestamp(Some(&(now + 31).to_string())).is_err());
        assert!(check_timestamp(Some("12345")).is_err());
        assert!(check_timestamp(None).is_err());
    }
}
