//! The app install (Shopify's OAuth authorization-code grant): `GET /admin/oauth/authorize`
//! with `client_id, scope, redirect_uri, state` shows the grant page; Install sends the
//! browser to `redirect_uri` with `code, hmac, host, shop, state, timestamp`, the `hmac` being
//! hex HMAC-SHA256 with the app's client secret over the other parameters sorted by name and
//! joined as `k=v&…`; `POST /admin/oauth/access_token` (JSON or form: `client_id,
//! client_secret, code`) exchanges a code once for the store's access token.
//!
//! Choices of ours: the sandbox's app is `CLIENT_ID`/`CLIENT_SECRET`; any `redirect_uri` is
//! accepted (Shopify checks it against the app's allowed URLs); Cancel sends the browser back
//! with `error=access_denied` (Shopify leaves the merchant on its admin); codes last 10
//! minutes; the token is the one the store accepts (`ShopifyConfig::access_token`).

use super::AppState;
use crate::authorize_page::{page, query, refused, with_query};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::{Duration, Instant};

/// The sandbox app's client id (API key).
pub const CLIENT_ID: &str = "sandbox-client-id";
/// The sandbox app's client secret (API secret key): signs install callbacks.
pub const CLIENT_SECRET: &str = "sandbox-client-secret";
const CODE_TTL: Duration = Duration::from_secs(10 * 60);

/// Install codes not yet exchanged: code -> (issue time, scopes granted).
#[derive(Debug, Default)]
pub(crate) struct Codes(Mutex<HashMap<String, (Instant, String)>>);

pub(crate) fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/admin/oauth/authorize", get(show))
        .route("/admin/oauth/authorize/install", get(install))
        .route("/admin/oauth/authorize/cancel", get(cancel))
        .route("/admin/oauth/access_token", post(access_token))
        .with_state(state)
}

type Params = Query<HashMap<String, String>>;

/// The request's `redirect_uri` and `state`, when it is the sandbox app's.
fn checked(params: &HashMap<String, String>) -> Result<(String, String), &'static str> {
    if params.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Err("Unknown client_id: no such app.");
    }
    let redirect = params
        .get("redirect_uri")
        .filter(|u| u.starts_with("http"))
        .ok_or("The redirect_uri is missing or is not an http(s) URL.")?;
    Ok((redirect.clone(), params.get("state").cloned().unwrap_or_default()))
}

async fn show(State(app): State<Arc<AppState>>, Query(params): Params) -> Response {
    let (redirect, state) = match checked(&params) {
        Ok(found) => found,
        Err(why) => return refused(why),
    };
    let scope = params.get("scope").cloned().unwrap_or_default();
    let choice =
        query(&[("client_id", CLIENT_ID), ("scope", &scope), ("redirect_uri", &redirect), ("state", &state)]);
    page(
        &format!("Install app on {}", app.shop.webhooks.shop_domain()),
        &format!("The app asks for: {}.", if scope.is_empty() { "no access" } else { &scope }),
        "Install app",
        &format!("/admin/oauth/authorize/install?{choice}"),
        &format!("/admin/oauth/authorize/cancel?{choice}"),
    )
}

/// Hex HMAC-SHA256 over the parameters other than `hmac`, sorted, joined as `k=v&…`.
pub fn callback_hmac(params: &[(&str, &str)], secret: &str) -> String {
    let mut signed: Vec<&(&str, &str)> = params.iter().filter(|(k, _)| *k != "hmac").collect();
    signed.sort();
    let message = signed.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn install(State(app): State<Arc<AppState>>, Query(params): Params) -> Response {
    let (redirect, state) = match checked(&params) {
        Ok(found) => found,
        Err(why) => return refused(why),
    };
    let code = hex::encode(rand::random::<[u8; 16]>());
    let scope = params.get("scope").cloned().unwrap_or_default();
    app.oauth_codes
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(code.clone(), (Instant::now(), scope));
    let shop = app.shop.webhooks.shop_domain().to_string();
    let handle = shop.trim_end_matches(".myshopify.com");
    let host = base64::engine::general_purpose::STANDARD.encode(format!("admin.shopify.com/store/{handle}"));
    let timestamp = super::shop::now_seconds().to_string();
    let mut params = vec![
        ("code", code.as_str()),
        ("host", &host),
        ("shop", &shop),
        ("state", &state),
        ("timestamp", &timestamp),
    ];
    let hmac = callback_hmac(&params, CLIENT_SECRET);
    params.insert(1, ("hmac", &hmac));
    Redirect::to(&with_query(&redirect, &query(&params))).into_response()
}

async fn cancel(Query(params): Params) -> Response {
    let (redirect, state) = match checked(&params) {
        Ok(found) => found,
        Err(why) => return refused(why),
    };
    let denied = query(&[
        ("error", "access_denied"),
        ("error_description", "The merchant cancelled the install"),
        ("state", &state),
    ]);
    Redirect::to(&with_query(&redirect, &denied)).into_response()
}

async fn access_token(State(app): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let fields: HashMap<String, String> = if form {
        axum::extract::Query::<HashMap<String, String>>::try_from_uri(
            &format!("/?{}", String::from_utf8_lossy(&body)).parse().unwrap_or_default(),
        )
        .map(|Query(q)| q)
        .unwrap_or_default()
    } else {
        serde_json::from_slice(&body).unwrap_or_default()
    };
    let field = |k: &str| fields.get(k).map(String::as_str).unwrap_or_default();
    let error = |description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_request", "error_description": description })),
        )
            .into_response()
    };
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        return error("Invalid client_id or client_secret");
    }
    let taken = app.oauth_codes.0.lock().unwrap_or_else(PoisonError::into_inner).remove(field("code"));
    match taken {
        Some((issued, scope)) if issued.elapsed() < CODE_TTL => {
            Json(json!({ "access_token": app.access_token, "scope": scope })).into_response()
        }
        _ => error("The authorization code was not found or was already used"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::{ShopifyConfig, ShopifySandbox};

    fn href(page: &str, id: &str) -> String {
        let at = page.find(&format!("id=\"{id}\" href=\"")).expect("the link") + id.len() + 12;
        page[at..at + page[at..].find('"').expect("closed")].replace("&amp;", "&")
    }

    fn param(url: &str, name: &str) -> String {
        let query = url.split_once('?').expect("a query").1;
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(|v| v.replace("%3D", "=").replace("%2F", "/"))
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn installing_redirects_with_a_signed_code_exchanged_once_for_the_token() {
        let sandbox = ShopifySandbox::start(ShopifyConfig {
            shop_name: "Sandbox Outfitters".into(),
            currency: "USD".into(),
            access_token: "shpat_t".into(),
            catalog: Vec::new(),
        })
        .await
        .expect("starts");
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let base = sandbox.base_url();
        let page = client
            .get(format!(
                "{base}/admin/oauth/authorize?client_id={CLIENT_ID}&scope=read_products&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb&state=st"
            ))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        assert!(page.contains("sandbox-outfitters.myshopify.com"), "{page}");
        let answer = client.get(format!("{base}{}", href(&page, "approve"))).send().await.expect("install");
        assert_eq!(answer.status(), 303, "{page}");
        let location = answer.headers()["location"].to_str().expect("ascii").to_string();
        assert!(location.starts_with("http://127.0.0.1:1/cb?code="), "{location}");
        let names = ["code", "host", "shop", "state", "timestamp"];
        let values: Vec<String> = names.iter().map(|n| param(&location, n)).collect();
        let pairs: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
        assert_eq!(param(&location, "hmac"), callback_hmac(&pairs, CLIENT_SECRET));
        assert_eq!(param(&location, "shop"), "sandbox-outfitters.myshopify.com");

        let exchange = |code: String| {
            let (client, url) = (client.clone(), format!("{base}/admin/oauth/access_token"));
            async move {
                let body = json!({ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code });
                let answer = client.post(url).json(&body).send().await.expect("answers");
                (answer.status(), answer.json::<serde_json::Value>().await.expect("json"))
            }
        };
        let (status, token) = exchange(param(&location, "code")).await;
        assert_eq!((status.as_u16(), token["access_token"].as_str()), (200, Some("shpat_t")));
        let (status, again) = exchange(param(&location, "code")).await;
        assert_eq!(status.as_u16(), 400, "{again}");

        let cancelled = client.get(format!("{base}{}", href(&page, "cancel"))).send().await.expect("cancel");
        let location = cancelled.headers()["location"].to_str().expect("ascii");
        assert!(location.contains("error=access_denied") && location.contains("state=st"), "{location}");
    }
}
