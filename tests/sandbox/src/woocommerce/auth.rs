//! REST API key authentication (reference §2): HTTP Basic with the consumer key and secret,
//! honoured only over HTTPS or on a loopback host, or the `consumer_key`/`consumer_secret`
//! query parameters that hosts stripping `Authorization` make necessary.
//!
//! The error codes and messages are `WC_REST_Authentication`'s: a wrong key or secret is
//! `woocommerce_rest_authentication_error`; no usable credentials leave the request anonymous,
//! which the controllers refuse with `woocommerce_rest_cannot_view` (and `…_cannot_create`,
//! `…_cannot_edit` for writes). The sandbox speaks plain HTTP, so Basic auth from a host that
//! is not loopback is ignored, as it would be without OAuth 1.0a signing.

use axum::http::{HeaderMap, Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::collections::BTreeMap;

/// Why a request was refused: its status, WooCommerce code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: &'static str,
}

/// The credentials a request carries, in WooCommerce's order: Basic first, then the query.
fn credentials(headers: &HeaderMap, query: &BTreeMap<String, String>) -> Option<(String, String)> {
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|encoded| BASE64.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| pair.split_once(':').map(|(k, s)| (k.to_string(), s.to_string())));
    if basic.is_some() && loopback(headers) {
        return basic;
    }
    let key = query.get("consumer_key")?;
    let secret = query.get("consumer_secret")?;
    Some((key.clone(), secret.clone()))
}

/// Whether the `Host` header names this machine (the sandbox's stand-in for HTTPS).
fn loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get("host").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map(|(name, _)| name).unwrap_or(host)
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

/// Checks a request against the one key pair the store has.
pub fn check(
    headers: &HeaderMap,
    query: &BTreeMap<String, String>,
    method: &Method,
    key: &str,
    secret: &str,
) -> Result<(), Refusal> {
    let unauthorized = |code, message| Err(Refusal { status: StatusCode::UNAUTHORIZED, code, message });
    match credentials(headers, query) {
        Some((k, _)) if k != key => {
            unauthorized("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        }
        Some((_, s)) if s != secret => {
            unauthorized("woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        }
        Some(_) => Ok(()),
        None if *method == Method::POST => {
            unauthorized("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        }
        None if *method == Method::PUT || *method == Method::PATCH => {
            unauthorized("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        }
        None => unauthorized("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("valid header value"));
        }
        map
    }

    #[test]
    fn basic_auth_counts_only_on_a_loopback_host() {
        let basic = format!("Basic {}", BASE64.encode("ck_1:cs_1"));
        let none = BTreeMap::new();
        let local = headers(&[("host", "127.0.0.1:8080"), ("authorization", &basic)]);
        assert_eq!(check(&local, &none, &Method::GET, "ck_1", "cs_1"), Ok(()));
        let remote = headers(&[("host", "shop.example.com"), ("authorization", &basic)]);
        let refused = check(&remote, &none, &Method::GET, "ck_1", "cs_1").expect_err("plain HTTP");
        assert_eq!(refused.code, "woocommerce_rest_cannot_view");
    }

    #[test]
    fn query_parameters_are_the_fallback() {
        let query: BTreeMap<String, String> =
            [("consumer_key".into(), "ck_1".into()), ("consumer_secret".into(), "wrong".into())].into();
        let refused = check(&headers(&[]), &query, &Method::GET, "ck_1", "cs_1").expect_err("wrong secret");
        assert_eq!(refused.code, "woocommerce_rest_authentication_error");
        assert_eq!(refused.message, "Consumer secret is invalid.");
    }
}
