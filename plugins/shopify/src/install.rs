//! The app install (Shopify's OAuth authorization-code grant), finished on the connection's
//! first call: the host hands over the callback's whole query (secret `install-query`) and
//! keeps its `shop` as a setting. The query's `hmac` is checked with the app's client secret
//! (HMAC-SHA256, hex, over the other parameters sorted by name and joined as `k=v&…`), its
//! shop must be a `*.myshopify.com` domain, then the code is exchanged at
//! `POST {base}/admin/oauth/access_token` and the access token handed to the host
//! (`config.set-secret`); the single-use query is cleared. The pure parts are here, tested
//! natively; `lib.rs` makes the calls.

use crossdock_plugin_sdk::types::ConnectorError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that carries the install callback's query until it is used.
pub const INSTALL_QUERY: &str = "install-query";

/// What a verified install callback says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub code: String,
    pub shop: String,
}

/// Checks the callback's signature and shop; the code to exchange.
pub fn verify(raw: &str, client_secret: &str) -> Result<Callback, ConnectorError> {
    let params = parse_query(raw);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let refused = |why: &str| {
        ConnectorError::Unauthorized(format!(
            "the install callback {why}; install the app again from Connected stores"
        ))
    };
    let hmac = get("hmac").ok_or_else(|| refused("carries no hmac"))?;
    let expected = signature(&params, client_secret);
    if !same(hmac.as_bytes(), expected.as_bytes()) {
        return Err(refused("is not signed with the app's client secret (its hmac does not match)"));
    }
    let shop = get("shop").ok_or_else(|| refused("names no shop"))?;
    if !is_shop_domain(&shop) {
        return Err(refused(&format!("names {shop:?}, which is not a *.myshopify.com shop")));
    }
    let code = get("code").filter(|c| !c.is_empty()).ok_or_else(|| refused("carries no code"))?;
    Ok(Callback { code, shop })
}

/// Hex HMAC-SHA256 of the parameters other than `hmac` and `signature`, sorted by name,
/// joined as `k=v&…` (decoded values).
pub fn signature(params: &[(String, String)], secret: &str) -> String {
    let mut signed: Vec<&(String, String)> =
        params.iter().filter(|(k, _)| k != "hmac" && k != "signature").collect();
    signed.sort();
    let message = signed.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `name.myshopify.com`, `name` of letters, digits and dashes, not starting with a dash.
pub fn is_shop_domain(shop: &str) -> bool {
    shop.strip_suffix(".myshopify.com").is_some_and(|name| {
        !name.is_empty()
            && !name.starts_with('-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

/// The access token of `/admin/oauth/access_token`'s answer.
pub fn access_token_of(status: u16, body: &[u8]) -> Result<String, ConnectorError> {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match json["access_token"].as_str() {
        Some(token) if status == 200 && !token.is_empty() => Ok(token.to_string()),
        _ if status >= 500 => {
            Err(ConnectorError::Transient(format!("Shopify answered the token request with HTTP {status}")))
        }
        _ => Err(ConnectorError::Unauthorized(format!(
            "Shopify refused the install code (HTTP {status}: {}); install the app again from Connected stores",
            json["error_description"].as_str().or(json["error"].as_str()).unwrap_or("no reason given")
        ))),
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `k=v&…` decoded (`+` as a space), in order.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(high), Some(low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, shop: &str) -> String {
        let params: Vec<(String, String)> = [
            ("code", "c0de"),
            ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUveA=="),
            ("shop", shop),
            ("state", "st"),
            ("timestamp", "1700000000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let hmac = signature(&params, secret);
        format!(
            "code=c0de&hmac={hmac}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUveA%3D%3D&shop={shop}&state=st&timestamp=1700000000"
        )
    }

    #[test]
    fn a_signed_callback_gives_its_code_and_shop() {
        let raw = signed("secret", "outfitters.myshopify.com");
        let callback = verify(&raw, "secret").expect("verified");
        assert_eq!(callback, Callback { code: "c0de".into(), shop: "outfitters.myshopify.com".into() });
    }

    #[test]
    fn a_forged_or_tampered_callback_is_refused() {
        let raw = signed("secret", "outfitters.myshopify.com");
        assert!(matches!(verify(&raw, "other"), Err(ConnectorError::Unauthorized(m)) if m.contains("hmac")));
        let tampered = raw.replace("code=c0de", "code=other");
        assert!(verify(&tampered, "secret").is_err());
        let evil = signed("secret", "evil.example.com");
        assert!(
            matches!(verify(&evil, "secret"), Err(ConnectorError::Unauthorized(m)) if m.contains("myshopify"))
        );
    }

    #[test]
    fn the_token_answer_gives_the_token_or_says_why_not() {
        assert_eq!(
            access_token_of(200, br#"{"access_token":"shpat_1","scope":"read_products"}"#).ok().as_deref(),
            Some("shpat_1")
        );
        let refused = access_token_of(400, br#"{"error":"invalid_request","error_description":"code used"}"#);
        assert!(matches!(refused, Err(ConnectorError::Unauthorized(m)) if m.contains("code used")));
        assert!(matches!(access_token_of(502, b"<html>"), Err(ConnectorError::Transient(_))));
    }
}
