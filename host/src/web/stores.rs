//! Connected stores: the store and every TikTok shop; connect, disconnect, delete, add more
//! shops.

use super::WebState;
use super::layout::{Nav, Notice, Visitor, back, csrf_field, error_page, page, text};
use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/stores", get(stores))
        .route("/stores/store", post(connect_store))
        .route("/stores/store/disconnect", post(disconnect_store))
        .route("/stores/channels", post(add_channel))
        .route("/stores/channels/{channel}/delete", post(delete_channel))
}

/// `key = value` lines into a JSON object.
fn pairs(lines: Option<&String>) -> Value {
    let mut map = Map::new();
    for line in lines.map(String::as_str).unwrap_or("").lines() {
        if let Some((k, v)) = line.split_once('=') {
            let (k, v) = (k.trim(), v.trim());
            if !k.is_empty() {
                map.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
    }
    Value::Object(map)
}

fn connect_form(visitor: &Visitor, action: &str, kind: &str, plugins: &[Value], button: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf_field(visitor))
            p { label { "Name " input name="name" required; } }
            p {
                label { "Connector " select name="plugin" {
                    @for p in plugins.iter().filter(|p| p["manifest"]["kind"] == kind) {
                        option value=(text(&p["manifest"]["id"])) {
                            (text(&p["manifest"]["name"])) " " (text(&p["manifest"]["version"]))
                            " (secrets: " (p["manifest"]["secrets"].as_array().map(|s| s.iter().map(text).collect::<Vec<_>>().join(", ")).unwrap_or_default()) ")"
                        }
                    }
                } }
            }
            p { label { "Settings (one " code { "key = value" } " per line, e.g. " code { "base-url = https://…" } ")" br; textarea name="settings" rows="3" {} } }
            p { label { "Credentials (one " code { "name = value" } " per line; stored encrypted, never shown again)" br; textarea name="secrets" rows="3" {} } }
            button type="submit" { (button) }
        }
    }
}

async fn stores(visitor: Visitor, Query(notice): Query<Notice>) -> Response {
    let org = match visitor.get(&visitor.org_path("")).await {
        Ok(o) => o,
        Err(r) => return error_page(&r),
    };
    let channels = super::layout::channels(&visitor).await.unwrap_or_default();
    let plugins = visitor.get("/api/plugins").await.unwrap_or_default();
    let plugins = plugins.as_array().cloned().unwrap_or_default();
    let store = &org["store"];
    let body = html! {
        section {
            h2 { "eCommerce store" }
            @if store.is_null() {
                p { "No store connected. Connect the one store that is your source of truth." }
                (super::connect::buttons(&visitor, "store", &plugins))
                h3 { "Or connect with credentials" }
                (connect_form(&visitor, "/stores/store", "store", &plugins, "Connect the store"))
            } @else {
                table {
                    tr { th { "Store" } th { "Connector" } th { "Currency" } th { "Settings" } th {} }
                    tr {
                        td { (text(&store["name"])) }
                        td { (text(&store["plugin"])) }
                        td { (text(&store["currency"])) }
                        td { @for (k, v) in store["settings"].as_object().into_iter().flatten() { code { (k) " = " (text(v)) } br; } }
                        td {
                            form method="post" action="/stores/store/disconnect" onsubmit="return confirm('Disconnect the store?')" {
                                (csrf_field(&visitor)) button type="submit" { "Disconnect" }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "TikTok shops" }
            table {
                tr { th { "Shop" } th { "Connector" } th { "Currency" } th { "Region" } th {} }
                @for c in &channels {
                    tr {
                        td { a href=(format!("/settings?channel={}", c["id"])) { (text(&c["name"])) } }
                        td { (text(&c["plugin"])) }
                        td { (text(&c["currency"])) }
                        td { (text(&c["region"])) }
                        td {
                            form method="post" action=(format!("/stores/channels/{}/delete", c["id"])) onsubmit="return confirm('Delete this shop and its listings in Crossdock?')" {
                                (csrf_field(&visitor)) button type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
            h3 { "Add a TikTok shop" }
            (super::connect::buttons(&visitor, "channel", &plugins))
            h3 { "Or add one with credentials" }
            (connect_form(&visitor, "/stores/channels", "channel", &plugins, "Add the shop"))
        }
    };
    page("Connected stores", &visitor, Nav::Stores, &notice, body)
}

fn connection_body(form: &HashMap<String, String>) -> Value {
    json!({
        "name": form.get("name").cloned().unwrap_or_default(),
        "plugin": form.get("plugin").cloned().unwrap_or_default(),
        "settings": pairs(form.get("settings")),
        "secrets": pairs(form.get("secrets")),
    })
}

async fn connect_store(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let outcome =
        visitor.change(&form, Method::PUT, &visitor.org_path("/store"), Some(connection_body(&form))).await;
    back("/stores", outcome.map(|_| "Store connected; the catalog is being read.".into()))
}

async fn disconnect_store(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let outcome = visitor.change(&form, Method::DELETE, &visitor.org_path("/store"), None).await;
    back("/stores", outcome.map(|_| "Store disconnected.".into()))
}

async fn add_channel(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let outcome = visitor
        .change(&form, Method::POST, &visitor.org_path("/channels"), Some(connection_body(&form)))
        .await;
    back("/stores", outcome.map(|_| format!("Shop {} added.", form.get("name").cloned().unwrap_or_default())))
}

async fn delete_channel(
    visitor: Visitor,
    Path(channel): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome = visitor.change(&form, Method::DELETE, &format!("/api/channels/{channel}"), None).await;
    back("/stores", outcome.map(|_| "Shop deleted.".into()))
}
