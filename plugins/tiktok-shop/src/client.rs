//! One signed TikTok Shop Open API call through the host: common query parameters, the
//! signature over the exact body bytes, the access-token header, and the envelope unwrapped
//! into `data` or a typed error. An expired access token (105002) is refreshed once through
//! the auth host when a `refresh-token` secret is configured, the new tokens handed to the
//! host to keep (`config.set-secret`), and the call retried: one refresh per expiry.

use crate::errors;
use crate::sign::sign;
use crossdock_plugin_sdk::http::{Method, Request};
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::{Result, clock, config, log};
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;

/// The Open API host for every region (reference §1).
pub const DEFAULT_BASE_URL: &str = "https://open-api.tiktokglobalshop.com";
/// The auth host of the token calls (reference §2.2).
pub const DEFAULT_AUTH_BASE_URL: &str = "https://auth.tiktok-shops.com";
/// "access token is expired, please refresh it".
const TOKEN_EXPIRED: i64 = 105002;
/// "Invalid credentials": also what a token replaced by a refresh elsewhere gets (another call
/// of the connection, or another process that shares the app), so it is refreshed too, once.
const TOKEN_INVALID: i64 = 36009004;
/// The secrets a refresh replaces.
const ACCESS_TOKEN: &str = "access-token";
const REFRESH_TOKEN: &str = "refresh-token";
/// The single-use authorization code of a connection made through authorization, cleared
/// once exchanged.
const AUTH_CODE: &str = "auth-code";
/// The connection's shop, found on the first call when no setting names it.
const SHOP_CIPHER: &str = "shop-cipher";
/// Get Authorized Shops (seller-scoped).
const SHOPS: &str = "/authorization/202309/shops";
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
    /// Replaced by a refresh (and kept by the host, so later plugin calls start with it).
    access_token: RefCell<String>,
    /// The `refresh-token` secret and the `auth-base-url` setting, when a refresh is possible.
    refresh: Option<(String, String)>,
    pub shop_cipher: String,
}

/// A refused call, before it becomes a [`ConnectorError`].
struct Refusal {
    status: u16,
    code: Option<i64>,
    message: String,
    retry_after_ms: Option<u64>,
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
    /// A connection made through authorization has an `auth-code` secret instead of tokens and
    /// no cipher: the code is exchanged first and the shop found (see `from_authorization`).
    pub fn from_config() -> Result<Self> {
        let base_url =
            config::get("base-url").filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_BASE_URL.into());
        let auth_base = config::get("auth-base-url")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_AUTH_BASE_URL.into())
            .trim_end_matches('/')
            .to_owned();
        let app_key = config::require("app-key")?;
        let app_secret = config::require_secret("app-secret")?;
        let access_token = match config::secret(AUTH_CODE).filter(|c| !c.is_empty()) {
            Some(code) => exchange_code(&auth_base, &app_key, &app_secret, &code)?,
            None => config::require_secret(ACCESS_TOKEN)?,
        };
        let mut client = Client {
            base_url: base_url.trim_end_matches('/').to_owned(),
            app_key,
            app_secret,
            access_token: RefCell::new(access_token),
            refresh: config::secret(REFRESH_TOKEN).filter(|t| !t.is_empty()).map(|token| (token, auth_base)),
            shop_cipher: String::new(),
        };
        client.shop_cipher = match config::get(SHOP_CIPHER)
            .filter(|c| !c.is_empty())
            .or_else(|| config::secret(SHOP_CIPHER).filter(|c| !c.is_empty()))
        {
            Some(cipher) => cipher,
            None => client.find_shop_cipher()?,
        };
        Ok(client)
    }

    /// The cipher of the connection's shop among those the seller authorized: the one of the
    /// `shop-id` setting, else the only one; kept by the host so later calls skip this.
    fn find_shop_cipher(&self) -> Result<String> {
        let data = self.call(Method::Get, SHOPS, Scope::Seller, &[], None)?;
        let shops = data["shops"].as_array().cloned().unwrap_or_default();
        let wanted = config::get("shop-id").filter(|id| !id.is_empty());
        let id_of = |shop: &Value| match &shop["id"] {
            Value::String(id) => id.clone(),
            other => other.to_string(),
        };
        let listed = || {
            shops
                .iter()
                .map(|s| format!("{} (id {})", s["name"].as_str().unwrap_or("?"), id_of(s)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let shop = match &wanted {
            Some(id) => shops.iter().find(|s| id_of(s) == *id).ok_or_else(|| {
                ConnectorError::invalid(
                    "shop-id",
                    format!("the seller did not authorize shop {id}; the authorized shops are: {}", listed()),
                )
            })?,
            None if shops.len() == 1 => &shops[0],
            None if shops.is_empty() => {
                return Err(ConnectorError::Unauthorized(
                    "the seller authorized no shop for this app; authorize again and choose a shop".into(),
                ));
            }
            None => {
                return Err(ConnectorError::invalid(
                    "shop-id",
                    format!(
                        "the seller authorized {} shops: {}; connect again giving the shop id of the one to connect",
                        shops.len(),
                        listed()
                    ),
                ));
            }
        };
        let cipher = shop["cipher"]
            .as_str()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ConnectorError::Fatal("TikTok listed a shop without a cipher".into()))?;
        keep(SHOP_CIPHER, cipher);
        Ok(cipher.to_owned())
    }

    /// Sends one call and returns the envelope's `data` (null when absent). On 105002 (expired)
    /// or 36009004 (invalid) with a refresh token at hand, takes the newer token another call
    /// of this connection already kept, else refreshes it (and has the host keep it), then
    /// sends the call once more; a second refusal is returned as it is.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        scope: Scope,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        match self.send(method, path, scope, extra, body)? {
            Ok(data) => return Ok(data),
            Err(refusal)
                if matches!(refusal.code, Some(TOKEN_EXPIRED | TOKEN_INVALID)) && self.refresh.is_some() =>
            {
                log::info(&format!(
                    "tiktok access token refused ({:?}): path={path}; refreshing",
                    refusal.code
                ));
            }
            Err(refusal) => return Err(refusal.into_error()),
        }
        let kept =
            config::secret(ACCESS_TOKEN).filter(|t| !t.is_empty() && *t != *self.access_token.borrow());
        let token = match kept {
            Some(token) => token,
            None => self.refresh_access_token()?,
        };
        self.access_token.replace(token);
        self.send(method, path, scope, extra, body)?.map_err(Refusal::into_error)
    }

    /// GET /api/v2/token/refresh on the auth host; the new access token, after handing it
    /// (and a new refresh token, when the answer has one) to the host to keep.
    fn refresh_access_token(&self) -> Result<String> {
        let Some((refresh_token, auth_base)) = &self.refresh else {
            return Err(ConnectorError::Unauthorized("no refresh-token secret".into()));
        };
        let url = refresh_url(auth_base, &self.app_key, &self.app_secret, refresh_token);
        let response = Request::new(Method::Get, url).timeout_ms(TIMEOUT_MS).send()?;
        let tokens = tokens_of(response.status, &response.body)?;
        keep(ACCESS_TOKEN, &tokens.access_token);
        if let Some(rotated) = tokens.refresh_token.as_deref().filter(|t| t != refresh_token) {
            keep(REFRESH_TOKEN, rotated);
        }
        Ok(tokens.access_token)
    }

    /// One attempt with the current access token.
    fn send(
        &self,
        method: Method,
        path: &str,
        scope: Scope,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<std::result::Result<Value, Refusal>> {
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
            .header("x-tts-access-token", self.access_token.borrow().clone())
            .header("content-type", "application/json")
            .timeout_ms(TIMEOUT_MS);
        if body.is_some() {
            request = request.body(bytes);
        }
        let response = request.send()?;

        match serde_json::from_slice::<Envelope>(&response.body) {
            Ok(envelope) if response.status == 200 && envelope.code == 0 => {
                Ok(Ok(envelope.data.unwrap_or(Value::Null)))
            }
            Ok(envelope) => {
                log::warn(&format!(
                    "tiktok call refused: path={path} status={} code={}",
                    response.status, envelope.code
                ));
                Ok(Err(Refusal {
                    status: response.status,
                    code: Some(envelope.code),
                    message: envelope.message,
                    retry_after_ms: response.retry_after_ms(),
                }))
            }
            Err(_) if (200..300).contains(&response.status) => Err(ConnectorError::Transient(format!(
                "TikTok answered {path} with an unexpected body: {}",
                response.text_preview()
            ))),
            Err(_) => Ok(Err(Refusal {
                status: response.status,
                code: None,
                message: response.text_preview(),
                retry_after_ms: response.retry_after_ms(),
            })),
        }
    }
}

impl Refusal {
    fn into_error(self) -> ConnectorError {
        errors::classify(self.status, self.code, &self.message, self.retry_after_ms)
    }
}

/// GET /api/v2/token/get on the auth host: exchanges the seller's authorization code for
/// tokens, hands them to the host to keep and clears the used code.
fn exchange_code(auth_base: &str, app_key: &str, app_secret: &str, code: &str) -> Result<String> {
    let response = Request::new(Method::Get, token_get_url(auth_base, app_key, app_secret, code))
        .timeout_ms(TIMEOUT_MS)
        .send()?;
    let tokens = tokens_of(response.status, &response.body).map_err(|e| match e {
        ConnectorError::Unauthorized(m) => ConnectorError::Unauthorized(format!(
            "TikTok did not accept the authorization code ({m}); authorize the app again"
        )),
        other => other,
    })?;
    keep(ACCESS_TOKEN, &tokens.access_token);
    if let Some(refresh) = &tokens.refresh_token {
        keep(REFRESH_TOKEN, refresh);
    }
    keep(AUTH_CODE, "");
    log::info("tiktok authorization code exchanged for tokens");
    Ok(tokens.access_token)
}

/// The auth host's code exchange (unsigned: credentials in the query, reference §2.2).
pub fn token_get_url(auth_base: &str, app_key: &str, app_secret: &str, code: &str) -> String {
    let query = [
        ("app_key", app_key),
        ("app_secret", app_secret),
        ("auth_code", code),
        ("grant_type", "authorized_code"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    format!("{auth_base}/api/v2/token/get?{}", encode_query(&query))
}

/// The auth host's refresh call (unsigned: credentials in the query, reference §2.2).
pub fn refresh_url(auth_base: &str, app_key: &str, app_secret: &str, refresh_token: &str) -> String {
    let query = [
        ("app_key", app_key),
        ("app_secret", app_secret),
        ("refresh_token", refresh_token),
        ("grant_type", "refresh_token"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    format!("{auth_base}/api/v2/token/refresh?{}", encode_query(&query))
}

/// Asks the host to keep a rotated secret. A refusal costs only a refresh in a later call,
/// so it is logged (by name) and the call goes on with the new token.
fn keep(name: &str, value: &str) {
    if let Err(refused) = config::set_secret(name, value) {
        log::warn(&format!("tiktok refreshed {name} not kept by the host: {refused:?}"));
    }
}

/// The tokens of a refresh answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// The refresh token to use next time, when the answer carries one.
    pub refresh_token: Option<String>,
}

/// The tokens of a refresh answer; a refused refresh (expired or unknown refresh token) means
/// the seller must authorize again.
pub fn tokens_of(status: u16, body: &[u8]) -> Result<Tokens> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|_| {
        ConnectorError::Transient(format!("the TikTok auth host answered HTTP {status} without an envelope"))
    })?;
    if status >= 500 {
        return Err(ConnectorError::Transient(format!(
            "TikTok auth host HTTP {status}: {}",
            envelope.message
        )));
    }
    let data = envelope.data.as_ref();
    match data.and_then(|d| d["access_token"].as_str()) {
        Some(token) if envelope.code == 0 && !token.is_empty() => Ok(Tokens {
            access_token: token.to_owned(),
            refresh_token: data
                .and_then(|d| d["refresh_token"].as_str())
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        }),
        _ => Err(ConnectorError::Unauthorized(format!(
            "TikTok token request refused ({}): {}; the seller must authorize again",
            envelope.code, envelope.message
        ))),
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

    #[test]
    fn the_refresh_call_carries_the_credentials_and_grant_type() {
        let url = refresh_url("https://auth.tiktok-shops.com", "key", "s/cret", "TTP_rt");
        assert_eq!(
            url,
            "https://auth.tiktok-shops.com/api/v2/token/refresh?app_key=key&app_secret=s%2Fcret\
             &refresh_token=TTP_rt&grant_type=refresh_token"
        );
    }

    #[test]
    fn the_code_exchange_carries_the_code_and_grant_type() {
        let url = token_get_url("https://auth.tiktok-shops.com", "key", "secret", "c/1");
        assert_eq!(
            url,
            "https://auth.tiktok-shops.com/api/v2/token/get?app_key=key&app_secret=secret\
             &auth_code=c%2F1&grant_type=authorized_code"
        );
    }

    #[test]
    fn a_refresh_answer_gives_the_new_tokens_or_asks_for_authorization() {
        let ok =
            br#"{"code":0,"message":"success","data":{"access_token":"TTP_new","access_token_expire_in":1}}"#;
        let tokens = tokens_of(200, ok).ok();
        assert_eq!(tokens, Some(Tokens { access_token: "TTP_new".into(), refresh_token: None }));
        let rotated =
            br#"{"code":0,"message":"success","data":{"access_token":"TTP_a","refresh_token":"TTP_r"}}"#;
        assert_eq!(tokens_of(200, rotated).ok().and_then(|t| t.refresh_token).as_deref(), Some("TTP_r"));
        let expired = br#"{"code":36004001,"message":"rt has expired","data":null}"#;
        assert!(matches!(tokens_of(200, expired), Err(ConnectorError::Unauthorized(_))));
        assert!(matches!(tokens_of(502, b"<html>"), Err(ConnectorError::Transient(_))));
    }
}
