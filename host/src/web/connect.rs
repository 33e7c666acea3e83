//! Connecting through the platform's own authorization, from the Connected stores page:
//! the buttons that start it (one per plugin whose manifest has an `[authorization]`
//! section), the form post that sends the browser to the platform, and the callback the
//! platform sends it back to, which completes the connection through the API and returns to
//! Connected stores with what happened.

use super::WebState;
use super::layout::{Visitor, back, csrf_field, encode, text};
use crate::auth::session::CSRF_FIELD;
use crate::authorization::CALLBACK_PATH;
use axum::extract::RawQuery;
use axum::http::Method;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Added to the callback's query when it is loaded again from our own page (see
/// `callback`), and taken off before the query goes on.
const RESUMED: &str = "crossdock-resumed=1";
/// Form fields that carry the plugin's inputs: `input-<setting>`.
const INPUT_PREFIX: &str = "input-";

pub fn router() -> Router<WebState> {
    Router::new().route("/stores/authorize", post(authorize)).route(CALLBACK_PATH, get(callback))
}

/// One "Connect with …" form per plugin of `kind` that connects through its platform.
pub fn buttons(visitor: &Visitor, kind: &str, plugins: &[Value]) -> Markup {
    let role = if kind == "store" { "store" } else { "channel" };
    html! {
        @for p in plugins.iter().filter(|p| p["manifest"]["kind"] == kind && p["manifest"]["authorization"].is_object()) {
            form method="post" action="/stores/authorize" class="authorize" {
                (csrf_field(visitor))
                input type="hidden" name="plugin" value=(text(&p["manifest"]["id"]));
                input type="hidden" name="role" value=(role);
                p { label { "Name " input name="name" required; } }
                @for (input, label) in p["manifest"]["authorization"]["inputs"].as_object().into_iter().flatten() {
                    p { label { (text(label)) " " input name=(format!("{INPUT_PREFIX}{input}")) required; } }
                }
                @for (input, label) in p["manifest"]["authorization"]["optional-inputs"].as_object().into_iter().flatten() {
                    p { label { (text(label)) " " input name=(format!("{INPUT_PREFIX}{input}")); } }
                }
                button type="submit" { "Connect with " (text(&p["manifest"]["name"])) }
            }
        }
    }
}

/// Starts the authorization and sends the browser to the platform.
async fn authorize(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let settings: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(INPUT_PREFIX).map(|k| (k, v.trim())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let body = json!({
        "plugin": form.get("plugin").cloned().unwrap_or_default(),
        "role": form.get("role").cloned().unwrap_or_default(),
        "name": form.get("name").cloned().unwrap_or_default(),
        "settings": settings,
    });
    let path = visitor.org_path("/authorizations");
    match visitor.change(&form, Method::POST, &path, Some(body)).await {
        Ok(started) => Redirect::to(&text(&started["url"])).into_response(),
        Err(refusal) => back("/stores", Err(refusal)),
    }
}

/// The platform sent the browser back. The session cookie is `SameSite=Strict`, so a
/// browser coming from the platform's site sends none: the page loads itself once more from
/// here, which it does send, before asking the merchant to log in.
async fn callback(visitor: Option<Visitor>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let Some(visitor) = visitor else {
        if query.ends_with(RESUMED) {
            return Redirect::to(&format!(
                "/login?error={}",
                encode(
                    "Log in, then connect again from Connected stores: the authorization needs your session"
                )
            ))
            .into_response();
        }
        let again = format!("{CALLBACK_PATH}?{query}&{RESUMED}");
        return Html(
            html! {
                (maud::DOCTYPE)
                html { head {
                    meta http-equiv="refresh" content=(format!("0;url={again}"));
                    title { "Connecting…" }
                } body { p { a href=(again) { "Continue connecting" } } } }
            }
            .into_string(),
        )
        .into_response();
    };
    let query = query.strip_suffix(&format!("&{RESUMED}")).unwrap_or(&query).to_string();
    let csrf = HashMap::from([(CSRF_FIELD.to_string(), visitor.csrf.clone())]);
    let path = visitor.org_path("/authorizations/callback");
    let outcome = visitor.change(&csrf, Method::POST, &path, Some(json!({ "query": query }))).await;
    back(
        "/stores",
        outcome.map(|done| {
            let what = if done["role"] == "store" { "Store" } else { "Shop" };
            let how = if done["reconnected"] == true { "reconnected with new tokens" } else { "connected" };
            format!("{what} {} {how} through the platform's authorization.", text(&done["name"]))
        }),
    )
}
