//! The page shell (navigation, notices, styles), the visitor every page is rendered for,
//! and the few helpers forms share.

use super::WebState;
use super::api_client::{Answer, Refusal};
use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;

/// The signed-in merchant a page is rendered for, with what they may call the API with.
pub struct Visitor {
    state: WebState,
    peer: Option<SocketAddr>,
    cookie: HeaderValue,
    pub email: String,
    pub org: i64,
    pub org_name: String,
    pub csrf: String,
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let login = || Redirect::to("/login").into_response();
        let Some(cookie) = parts.headers.get(header::COOKIE).cloned() else { return Err(login()) };
        let PeerAddr(peer) = PeerAddr::of(parts);
        match state.api.call(peer, Some(&cookie), None, Method::GET, "/api/me", None).await {
            Ok(Answer { body, .. }) => {
                let org = body["organization"].as_i64().unwrap_or(0);
                let org_name = body["organizations"]
                    .as_array()
                    .and_then(|all| all.iter().find(|m| m["organization"].as_i64() == Some(org)))
                    .map(|m| text(&m["name"]))
                    .unwrap_or_default();
                Ok(Visitor {
                    state: state.clone(),
                    peer,
                    cookie,
                    email: text(&body["email"]),
                    org,
                    org_name,
                    csrf: text(&body["csrf_token"]),
                })
            }
            Err(r) if r.status == StatusCode::UNAUTHORIZED => Err(login()),
            Err(r) => Err(error_page(&r)),
        }
    }
}

impl OptionalFromRequestParts<WebState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(<Visitor as FromRequestParts<WebState>>::from_request_parts(parts, state).await.ok())
    }
}

impl Visitor {
    /// Reads from the API as this visitor.
    pub async fn get(&self, path: &str) -> Result<Value, Refusal> {
        Ok(self.state.api.call(self.peer, Some(&self.cookie), None, Method::GET, path, None).await?.body)
    }

    /// Changes something through the API as this visitor, with the CSRF token the form posted
    /// (the API refuses the change when it is not this session's).
    pub async fn change(
        &self,
        form: &HashMap<String, String>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Refusal> {
        let csrf = form.get(crate::auth::session::CSRF_FIELD).map(String::as_str).unwrap_or("");
        let call =
            self.state.api.call(self.peer, Some(&self.cookie), Some(csrf), method, path, body.as_ref());
        Ok(call.await?.body)
    }

    /// The organization's API path prefix.
    pub fn org_path(&self, rest: &str) -> String {
        format!("/api/orgs/{}{rest}", self.org)
    }
}

/// The visitor's address, when the server knows it (`serve` serves with connect info).
pub struct PeerAddr(pub Option<SocketAddr>);

impl PeerAddr {
    fn of(parts: &Parts) -> Self {
        PeerAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr::of(parts))
    }
}

/// `?ok=` and `?error=` after a form was handled.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    pub ok: Option<String>,
    pub error: Option<String>,
}

/// Where the navigation bar marks the visitor.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Home,
    Stores,
    Products,
    Orders,
    Failures,
    Rules,
    Settings,
    Plugins,
    Account,
}

const NAV: [(Nav, &str, &str); 9] = [
    (Nav::Home, "/", "Home"),
    (Nav::Stores, "/stores", "Connected stores"),
    (Nav::Products, "/products", "Product center"),
    (Nav::Orders, "/orders", "Orders"),
    (Nav::Failures, "/failures", "Failures"),
    (Nav::Rules, "/rules", "Rules"),
    (Nav::Settings, "/settings", "Settings"),
    (Nav::Plugins, "/plugins", "Plugins"),
    (Nav::Account, "/account", "Account"),
];

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#cfd6e4;text-decoration:none}header a.on{color:#fff;font-weight:600}
header .who{margin-left:auto;font-size:.9rem}
main{padding:1.2rem;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}
th,td{border:1px solid #dde2ea;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#eef1f5}
.ok{background:#e3f5e8;border:1px solid #9fd3ae;padding:.5rem;margin:.5rem 0}
.error{background:#fbe7e7;border:1px solid #e4a5a5;padding:.5rem;margin:.5rem 0;white-space:pre-wrap}
.tabs a{display:inline-block;padding:.3rem .7rem;border:1px solid #dde2ea;background:#fff;margin-right:.2rem;text-decoration:none}
.tabs a.on{background:#1d2430;color:#fff}
fieldset{background:#fff;border:1px solid #dde2ea;margin:.6rem 0}
textarea{width:100%;font-family:ui-monospace,monospace;font-size:.9rem}
.done{color:#1c7c3a}.todo{color:#a15c00}
progress{width:100%;height:1.2rem}
.line-error{background:#fbe7e7}
form.inline{display:inline}
";

/// A whole page for `visitor`.
pub fn page(title: &str, visitor: &Visitor, active: Nav, notice: &Notice, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(visitor.csrf);
                title { (title) " · Crossdock" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "Crossdock" }
                    @for (nav, href, label) in NAV {
                        a href=(href) class=[(nav == active).then_some("on")] { (label) }
                    }
                    span.who {
                        (visitor.org_name) " · " (visitor.email) " "
                        form.inline method="post" action="/logout" {
                            input type="hidden" name=(crate::auth::session::CSRF_FIELD) value=(visitor.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(ok) = &notice.ok { div.ok role="status" { (ok) } }
                    @if let Some(error) = &notice.error { div.error role="alert" { (error) } }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page for someone not signed in (login, first-run setup).
pub fn bare_page(title: &str, error: Option<&str>, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · Crossdock" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header { strong { "Crossdock" } }
                main {
                    h1 { (title) }
                    @if let Some(error) = error { div.error role="alert" { (error) } }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

/// A page saying the API failed in a way a redirect cannot carry.
pub fn error_page(refusal: &Refusal) -> Response {
    let body = html! { p { "The request could not be completed: " (refusal.message) } a href="/" { "Home" } };
    (refusal.status, bare_page("Something went wrong", None, body)).into_response()
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(visitor: &Visitor) -> Markup {
    html! { input type="hidden" name=(crate::auth::session::CSRF_FIELD) value=(visitor.csrf); }
}

/// Back to `to` with the outcome of a form: `ok` on success, the API's reason otherwise.
pub fn back(to: &str, outcome: Result<String, Refusal>) -> Response {
    let (path, fragment) = to.split_once('#').map_or((to, String::new()), |(p, f)| (p, format!("#{f}")));
    let sep = if path.contains('?') { '&' } else { '?' };
    let query = match outcome {
        Ok(message) => format!("ok={}", encode(&message)),
        Err(refusal) => format!("error={}", encode(&refusal.message)),
    };
    Redirect::to(&format!("{path}{sep}{query}{fragment}")).into_response()
}

/// Percent-encodes a query value (or a path segment).
pub use crate::connectors::authorization::encode;

/// A JSON value as display text (`""` for null).
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The channels of the visitor's organization (id, name), for tabs and pickers.
pub async fn channels(visitor: &Visitor) -> Result<Vec<Value>, Refusal> {
    let list = visitor.get(&visitor.org_path("/channels")).await?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

/// Tabs, one per channel, linking to `base?channel=ID`.
pub fn channel_tabs(channels: &[Value], current: Option<i64>, base: &str) -> Markup {
    html! {
        nav.tabs {
            @for c in channels {
                @let id = c["id"].as_i64().unwrap_or(0);
                a href=(format!("{base}{}channel={id}", if base.contains('?') { '&' } else { '?' })) class=[(Some(id) == current).then_some("on")] { (text(&c["name"])) }
            }
        }
    }
}

/// The channel a page shows: the one asked for, else the first.
pub fn pick_channel(channels: &[Value], asked: Option<i64>) -> Option<i64> {
    asked.or_else(|| channels.first().and_then(|c| c["id"].as_i64()))
}
