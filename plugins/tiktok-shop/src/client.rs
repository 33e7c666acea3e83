//! One signed TikTok Shop Open API call through the host: common query parameters, the
//! signature over the exact body bytes, the access-token header, and the envelope unwrapped
//! into `data` or a typed error.

use crate::errors;
use crate::sign::sign;
use crossdock_plugin_sdk::http::{Method, Request};
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::{Result, clock, config, log};
use serde::Deserialize;
use serde_json::Value;

/// The Open API host for every region (reference §1).
pub const DEFAULT_BASE_URL: &str = "https://open-api.tiktokglobalshop.com";
/// Per-request timeout asked of the host (it caps it at the connection's limit).
const TIMEOUT_MS: u32 = 20_000;

/// Whether a call names the shop (reference §2.4: send `shop_cipher` exactly where listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Shop-scoped: `shop_cipher` is sent.
    Shop,
    /// Seller-scoped (`/authorization/*`): `shop_cipher` is never sent.
    Seller,
}

/// This connection's credentials and shop.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: String,
    app_key: String,
    app_secret: String,
    access_token: String,
    pub shop_cipher: String,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl Client {
    /// Reads `base-url`, `app-key`, `shop-cipher` and the secrets `app-secret`, `access-token`.
    pub fn from_config() -> Result<Self> {
        let base_url =
            config::get("base-url").filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_BASE_URL.into());
        Ok(Client {
            base_url: base_url.trim_end_matches('/').to_owned(),
            app_key: config::require("app-key")?,
            app_secret: config::require_secret("app-secret")?,
            access_token: config::require_secret("access-token")?,
            shop_cipher: config::require("shop-cipher")?,
        })
    }

    /// Sends one call and returns the envelope's `data` (null when absent).
    pub fn call(
        &self,
        method: Method,
        path: &str,
        scope: Scope,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut query: Vec<(String, String)> = vec![
            ("app_key".into(), self.app_key.clone()),
            ("timestamp".into(), clock::now_seconds().to_string()),
        ];
        if scope == Scope::Shop {
            query.push(("shop_cipher".into(), self.shop_cipher.clone()));
        }
        query.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        // Serialized once: the signature covers exactly these bytes.
        let bytes = match body {
            Some(body) => serde_json::to_vec(body)
                .map_err(|e| ConnectorError::Fatal(format!("could not encode the request body: {e}")))?,
            None => Vec::new(),
        };
        let signature = sign(&self.app_secret, path, &query, &bytes);
        query.push(("sign".into(), signature));

        let url = format!("{}{path}?{}", self.base_url, encode_query(&query));
        let mut request = Request::new(method, url)
            .header("x-tts-access-token", self.access_token.clone())
            .header("content-type", "application/json")
            .timeout_ms(TIMEOUT_MS);
        if body.is_some() {
            request = request.body(bytes);
        }
        let response = request.send()?;

        match serde_json::from_slice::<Envelope>(&response.body) {
            Ok(envelope) if response.status == 200 && envelope.code == 0 => {
                Ok(envelope.data.unwrap_or(Value::Null))
            }
            Ok(envelope) => {
                log::warn(&format!(
                    "tiktok call refused: path={path} status={} code={}",
                    response.status, envelope.code
                ));
                Err(errors::classify(
                    response.status,
                    Some(envelope.code),
                    &envelope.message,
                    response.retry_after_ms(),
                ))
            }
            Err(_) if (200..300).contains(&response.status) => Err(ConnectorError::Transient(format!(
                "TikTok answered {path} with an unexpected body: {}",
                response.text_preview()
            ))),
            Err(_) => Err(errors::classify(
                response.status,
                None,
                &response.text_preview(),
                response.retry_after_ms(),
            )),
        }
    }
}

/// `k=v&…` with RFC 3986 percent-encoding of everything but unreserved characters.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    let encode = |text: &str| {
        let mut out = String::with_capacity(text.len());
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
        out
    };
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        let pairs = vec![
            ("shop_cipher".to_owned(), "GCP_a+b/c=".to_owned()),
            ("page_size".to_owned(), "10".to_owned()),
        ];
        assert_eq!(encode_query(&pairs), "shop_cipher=GCP_a%2Bb%2Fc%3D&page_size=10");
    }
}
