//! The seller's authorization page (reference §2.2): `GET /open/authorize?service_id=…&state=…`
//! shows what the app asks for; Authorize issues a single-use code and sends the browser to
//! the app's registered redirect URL with `code` and `state`, Cancel sends it there with
//! `code=null&error=auth_denied`. The redirect URL is registered with the app (in Partner
//! Center for the real one; `register_redirect_url` or `PUT /_sandbox/app/redirect-url` here).

use super::App;
use crate::authorize_page::{page, query, refused, with_query};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::time::Instant;

/// The service id of the sandbox's app (the real one is the app's in Partner Center).
pub const SERVICE_ID: &str = "sandbox-service-id";

pub(crate) fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/open/authorize", get(show))
        .route("/open/authorize/approve", get(approve))
        .route("/open/authorize/cancel", get(cancel))
        .with_state(app)
}

type Params = Query<HashMap<String, String>>;

fn checked(params: &HashMap<String, String>) -> Result<String, &'static str> {
    if params.get("service_id").map(String::as_str) != Some(SERVICE_ID) {
        return Err("Unknown service_id: this app is not on TikTok Shop's service market.");
    }
    Ok(params.get("state").cloned().unwrap_or_default())
}

async fn show(State(app): State<Arc<App>>, Query(params): Params) -> Response {
    let state = match checked(&params) {
        Ok(state) => state,
        Err(why) => return refused(why),
    };
    let shops: Vec<String> = app.lock_state().shops.iter().map(|s| s.name.clone()).collect();
    let choice = query(&[("service_id", SERVICE_ID), ("state", &state)]);
    page(
        "Authorize this app on TikTok Shop",
        &format!(
            "The app asks to manage products, orders, fulfillment and returns of your shops: {}.",
            shops.join(", ")
        ),
        "Authorize",
        &format!("/open/authorize/approve?{choice}"),
        &format!("/open/authorize/cancel?{choice}"),
    )
}

fn redirect_url(app: &App) -> Result<String, &'static str> {
    app.lock_state()
        .grants
        .redirect_url
        .clone()
        .ok_or("The app has no redirect URL registered (PUT /_sandbox/app/redirect-url).")
}

async fn approve(State(app): State<Arc<App>>, Query(params): Params) -> Response {
    let (state, target) = match checked(&params).and_then(|s| Ok((s, redirect_url(&app)?))) {
        Ok(found) => found,
        Err(why) => return refused(why),
    };
    let code = app.lock_state().grants.issue_code(Instant::now());
    Redirect::to(&with_query(&target, &query(&[("code", &code), ("state", &state)]))).into_response()
}

async fn cancel(State(app): State<Arc<App>>, Query(params): Params) -> Response {
    let (state, target) = match checked(&params).and_then(|s| Ok((s, redirect_url(&app)?))) {
        Ok(found) => found,
        Err(why) => return refused(why),
    };
    let denied = query(&[("code", "null"), ("error", "auth_denied"), ("state", &state)]);
    Redirect::to(&with_query(&target, &denied)).into_response()
}

#[cfg(test)]
mod tests {
    use crate::tiktok::{TikTokConfig, TikTokSandbox};

    fn no_redirects() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }

    fn href(page: &str, id: &str) -> String {
        let at = page.find(&format!("id=\"{id}\" href=\"")).expect("the link") + id.len() + 12;
        page[at..at + page[at..].find('"').expect("closed")].replace("&amp;", "&")
    }

    #[tokio::test]
    async fn authorizing_redirects_with_a_code_the_token_call_accepts_once() {
        let sandbox = TikTokSandbox::start(TikTokConfig::default()).await.expect("starts");
        sandbox.register_redirect_url("http://127.0.0.1:1/connect/callback");
        let client = no_redirects();
        let base = sandbox.base_url();
        let page = client
            .get(format!("{base}/open/authorize?service_id={}&state=s%201", super::SERVICE_ID))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        assert!(page.contains("Sandbox US Shop"), "{page}");
        let answer = client.get(format!("{base}{}", href(&page, "approve"))).send().await.expect("approve");
        assert_eq!(answer.status(), 303);
        let location = answer.headers()["location"].to_str().expect("ascii").to_string();
        assert!(location.starts_with("http://127.0.0.1:1/connect/callback?code="), "{location}");
        assert!(location.ends_with("&state=s%201"), "{location}");
        let code = location.split("code=").nth(1).and_then(|r| r.split('&').next()).expect("a code");
        let token = |code: String| {
            let url = format!(
                "{base}/api/v2/token/get?app_key=sandbox-app-key&app_secret=sandbox-app-secret\
                 &auth_code={code}&grant_type=authorized_code"
            );
            let client = client.clone();
            async move {
                client.get(url).send().await.expect("token").json::<serde_json::Value>().await.expect("json")
            }
        };
        assert_eq!(token(code.to_string()).await["code"], 0);
        assert_ne!(token(code.to_string()).await["code"], 0, "a code is single-use");

        let cancelled = client.get(format!("{base}{}", href(&page, "cancel"))).send().await.expect("cancel");
        let location = cancelled.headers()["location"].to_str().expect("ascii");
        assert!(location.contains("error=auth_denied") && location.contains("state=s%201"), "{location}");
    }

    #[tokio::test]
    async fn an_unknown_service_or_an_unregistered_redirect_is_refused() {
        let sandbox = TikTokSandbox::start(TikTokConfig::default()).await.expect("starts");
        let client = no_redirects();
        let base = sandbox.base_url();
        let unknown = client.get(format!("{base}/open/authorize?service_id=other&state=s")).send().await;
        assert_eq!(unknown.expect("answers").status(), 400);
        let approve = format!("{base}/open/authorize/approve?service_id={}&state=s", super::SERVICE_ID);
        let unregistered = client.get(approve).send().await.expect("answers");
        assert_eq!(unregistered.status(), 400);
        assert!(unregistered.text().await.expect("text").contains("redirect URL"));
    }
}
