//! Settings → Channel settings: a tab per TikTok shop with all six groups (product, pricing
//! and currency, inventory, order, fulfillment with carrier mapping, cancellation, refund and
//! return), and the organization's SKU auto-link switch.

use super::WebState;
use super::layout::{
    Nav, Notice, Visitor, back, channel_tabs, channels, csrf_field, error_page, page, pick_channel, text,
};
use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/settings", get(settings))
        .route("/settings/{channel}/options", post(save_options))
        .route("/settings/{channel}/rate", post(save_rate))
        .route("/settings/{channel}/orders", post(save_order_settings))
        .route("/settings/{channel}/carriers", post(map_carrier))
        .route("/settings/auto-link", post(auto_link))
}

#[derive(Debug, Deserialize)]
struct Pick {
    channel: Option<i64>,
    ok: Option<String>,
    error: Option<String>,
}

/// The order groups as the page titles them.
const ORDER_GROUPS: [(&str, &str); 4] = [
    ("order", "Orders"),
    ("fulfillment", "Fulfillment"),
    ("cancellation", "Cancellations"),
    ("refund", "Refunds and returns"),
];

fn checkbox(name: &str, label: &str, on: bool) -> Markup {
    html! {
        p { label {
            input type="hidden" name=(name) value="false";
            input type="checkbox" name=(name) value="true" checked[on];
            " " (label)
        } }
    }
}

async fn settings(visitor: Visitor, Query(pick): Query<Pick>) -> Response {
    let notice = Notice { ok: pick.ok.clone(), error: pick.error.clone() };
    let channels = match channels(&visitor).await {
        Ok(c) => c,
        Err(r) => return error_page(&r),
    };
    let Some(id) = pick_channel(&channels, pick.channel) else {
        let body = html! { p { "No TikTok shop yet. " a href="/stores" { "Add one" } "." } };
        return page("Settings", &visitor, Nav::Settings, &notice, body);
    };
    let Some(channel) = channels.iter().find(|c| c["id"].as_i64() == Some(id)).cloned() else {
        return error_page(&super::api_client::Refusal {
            status: axum::http::StatusCode::NOT_FOUND,
            message: format!("channel {id} not found"),
        });
    };
    let org = visitor.get(&visitor.org_path("")).await.unwrap_or_default();
    let orders = visitor.get(&format!("/api/channels/{id}/order-settings")).await.unwrap_or_default();
    let carriers = visitor.get(&format!("/api/channels/{id}/carriers")).await;
    let options = &channel["options"];
    let store_currency = text(&org["store"]["currency"]);
    let body = html! {
        (channel_tabs(&channels, Some(id), "/settings"))
        h2 { (text(&channel["name"])) " — " (text(&channel["currency"])) " " (text(&channel["region"])) }
        form method="post" action=(format!("/settings/{id}/options")) {
            (csrf_field(&visitor))
            fieldset #product-settings {
                legend { "Products" }
                (checkbox("sync_content", "Keep titles, descriptions and images in step (prices and stock always are)", options["sync_content"] == true))
                (checkbox("auto_select", "List new store products on this shop unless I deselect them", options["auto_select"] == true))
            }
            fieldset #inventory-settings {
                legend { "Inventory" }
                p { label { "Stock buffer (units never offered here) " input type="number" name="stock_buffer" min="0" value=(text(&options["stock_buffer"])); } }
                p { label { "Share of the remaining stock, relative to the other shops (0 offers none) " input type="number" name="stock_share" min="0" value=(text(&options["stock_share"])); } }
            }
            button type="submit" { "Save product and inventory settings" }
        }
        form method="post" action=(format!("/settings/{id}/rate")) {
            (csrf_field(&visitor))
            fieldset #currency-converter {
                legend { "Pricing and currency" }
                p {
                    "The store sells in " strong { (if store_currency.is_empty() { "?".to_string() } else { store_currency.clone() }) }
                    ", this shop in " strong { (text(&channel["currency"])) } "."
                }
                p { label { "1 " (store_currency) " = " input name="rate" inputmode="decimal" required value=(text(&channel["exchange_rate"])); " " (text(&channel["currency"])) } }
                p { "Prices are shaped by the " a href=(format!("/rules?channel={id}&kind=price")) { "price rule" } "." }
                button type="submit" { "Save the rate" }
            }
        }
        form method="post" action=(format!("/settings/{id}/orders")) {
            (csrf_field(&visitor))
            @for (group, title) in ORDER_GROUPS {
                fieldset id=(format!("{group}-settings")) {
                    legend { (title) }
                    @for (field, value) in orders[group].as_object().into_iter().flatten() {
                        @if let Some(on) = value.as_bool() {
                            (checkbox(&format!("{group}.{field}"), &field.replace('-', " "), on))
                        }
                    }
                }
            }
            button type="submit" { "Save order, fulfillment, cancellation and refund settings" }
        }
        fieldset #carriers {
            legend { "Carrier mapping" }
            @match &carriers {
                Ok(c) => {
                    table {
                        tr { th { "Store carrier" } th { "TikTok shipping provider" } }
                        @for m in c["mappings"].as_array().into_iter().flatten() {
                            tr { td { (text(&m["store_carrier"])) } td { (text(&m["provider_name"])) " " small { (text(&m["provider_id"])) } } }
                        }
                    }
                    form method="post" action=(format!("/settings/{id}/carriers")) {
                        (csrf_field(&visitor))
                        input name="store_carrier" required placeholder="carrier name in the store, e.g. UPS"; " → "
                        select name="provider_id" {
                            @for p in c["providers"].as_array().into_iter().flatten() {
                                option value=(text(&p["id"])) { (text(&p["name"])) }
                            }
                        }
                        " " button type="submit" { "Map carrier" }
                    }
                }
                Err(r) => { p.error { "The shop's shipping providers could not be read: " (r.message) } }
            }
        }
        fieldset #auto-link {
            legend { "SKU auto-link (every shop)" }
            p { "Link store variants to existing TikTok products with the same seller SKU instead of listing them again." }
            form.inline method="post" action="/settings/auto-link" {
                (csrf_field(&visitor))
                button type="submit" name="on" value="true" { "Turn on" } " "
                button type="submit" name="on" value="false" { "Turn off" }
            }
        }
    };
    page("Channel settings", &visitor, Nav::Settings, &notice, body)
}

/// The last value posted under `name` (a checked box posts `false` then `true`).
fn last<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn csrf_of(form: &[(String, String)]) -> HashMap<String, String> {
    form.iter().filter(|(k, _)| k == crate::auth::session::CSRF_FIELD).cloned().collect()
}

async fn save_options(
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let number = |name: &str| last(&form, name).and_then(|v| v.trim().parse::<i64>().ok());
    let to = format!("/settings?channel={id}");
    let (Some(buffer), Some(share)) = (number("stock_buffer"), number("stock_share")) else {
        let refusal = super::api_client::Refusal {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            message: "stock buffer and share must be whole numbers".into(),
        };
        return back(&to, Err(refusal));
    };
    let body = json!({
        "sync_content": last(&form, "sync_content") == Some("true"),
        "auto_select": last(&form, "auto_select") == Some("true"),
        "stock_buffer": buffer,
        "stock_share": share,
    });
    let outcome = visitor
        .change(&csrf_of(&form), Method::PUT, &format!("/api/channels/{id}/options"), Some(body))
        .await;
    back(&to, outcome.map(|_| "Settings saved; the shop follows them now.".into()))
}

async fn save_rate(
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let rate = form.get("rate").map(|r| r.trim().to_string()).unwrap_or_default();
    let outcome = visitor
        .change(
            &form,
            Method::PUT,
            &format!("/api/channels/{id}/exchange-rate"),
            Some(json!({ "rate": rate })),
        )
        .await;
    back(
        &format!("/settings?channel={id}"),
        outcome.map(|_| format!("Exchange rate set to {rate}; prices follow.")),
    )
}

async fn save_order_settings(
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let mut groups: Map<String, Value> = Map::new();
    for (name, _) in &form {
        if let Some((group, field)) = name.split_once('.') {
            let on = last(&form, name) == Some("true");
            let entry = groups.entry(group.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(fields) = entry {
                fields.insert(field.to_string(), Value::Bool(on));
            }
        }
    }
    let outcome = visitor
        .change(
            &csrf_of(&form),
            Method::PUT,
            &format!("/api/channels/{id}/order-settings"),
            Some(Value::Object(groups)),
        )
        .await;
    back(&format!("/settings?channel={id}"), outcome.map(|_| "Order settings saved.".into()))
}

async fn map_carrier(
    visitor: Visitor,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let body = json!({
        "store_carrier": form.get("store_carrier").cloned().unwrap_or_default(),
        "provider_id": form.get("provider_id").cloned().unwrap_or_default(),
    });
    let outcome =
        visitor.change(&form, Method::PUT, &format!("/api/channels/{id}/carriers"), Some(body)).await;
    back(
        &format!("/settings?channel={id}#carriers"),
        outcome.map(|m| format!("{} is sent as {}.", text(&m["store_carrier"]), text(&m["provider_name"]))),
    )
}

async fn auto_link(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let on = form.get("on").map(String::as_str) == Some("true");
    let outcome =
        visitor.change(&form, Method::PUT, &visitor.org_path("/auto-link"), Some(json!({ "on": on }))).await;
    back("/settings", outcome.map(|_| format!("SKU auto-link turned {}.", if on { "on" } else { "off" })))
}
