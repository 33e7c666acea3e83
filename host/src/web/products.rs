//! Product center: every store product with its state on one shop, filtered by state;
//! choose shops (select, deselect), map categories by hand and by template, and see review
//! results and failures with their reasons.

use super::WebState;
use super::layout::{
    Nav, Notice, Visitor, back, channel_tabs, channels, csrf_field, error_page, page, pick_channel, text,
};
use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/products", get(center))
        .route("/products/{channel}/selection", post(select))
        .route("/products/{channel}/category/{product}", post(map_category))
        .route("/products/{channel}/templates", post(save_template))
}

#[derive(Debug, Deserialize)]
struct Filter {
    channel: Option<i64>,
    state: Option<String>,
    #[serde(flatten)]
    notice: HashMap<String, String>,
}

const STATES: [&str; 10] =
    ["", "not_listed", "queued", "in_review", "active", "rejected", "failed", "held", "skipped", "inactive"];

async fn center(visitor: Visitor, Query(filter): Query<Filter>) -> Response {
    let notice = Notice { ok: filter.notice.get("ok").cloned(), error: filter.notice.get("error").cloned() };
    let channels = match channels(&visitor).await {
        Ok(c) => c,
        Err(r) => return error_page(&r),
    };
    let Some(channel) = pick_channel(&channels, filter.channel) else {
        let body = html! { p { "No TikTok shop yet. " a href="/stores" { "Add one" } "." } };
        return page("Product center", &visitor, Nav::Products, &notice, body);
    };
    let rows = match visitor.get(&format!("/api/channels/{channel}/products")).await {
        Ok(rows) => rows.as_array().cloned().unwrap_or_default(),
        Err(r) => return error_page(&r),
    };
    let templates = visitor.get(&format!("/api/channels/{channel}/templates")).await.unwrap_or_default();
    let issues = visitor.get(&format!("/api/channels/{channel}/link-issues")).await.unwrap_or_default();
    let wanted = filter.state.clone().unwrap_or_default();
    let state_of = |row: &Value| match &row["state"] {
        Value::Null => "not_listed".to_string(),
        s => text(s),
    };
    let mut counts: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        *counts.entry(state_of(row)).or_default() += 1;
    }
    let shown: Vec<&Value> = rows.iter().filter(|r| wanted.is_empty() || state_of(r) == wanted).collect();
    let sync = super::progress::sync_bars(&visitor, Some(channel)).await;
    let body = html! {
        (channel_tabs(&channels, Some(channel), "/products"))
        section #sync-progress { (sync) }
        form method="get" action="/products" {
            input type="hidden" name="channel" value=(channel);
            label { "State " select name="state" onchange="this.form.submit()" {
                @for s in STATES {
                    option value=(s) selected[s == wanted] {
                        @if s.is_empty() { "all (" (rows.len()) ")" } @else { (s) " (" (counts.get(s).copied().unwrap_or(0)) ")" }
                    }
                }
            } }
            noscript { button type="submit" { "Filter" } }
        }
        form method="post" action=(format!("/products/{channel}/selection")) {
            (csrf_field(&visitor))
            p {
                button type="submit" name="selected" value="true" { "List selected products on this shop" } " "
                button type="submit" name="selected" value="false" { "Remove selected products from this shop" }
            }
            table #products {
                tr { th { input type="checkbox" onclick="document.querySelectorAll('input[name=product]').forEach(c=>c.checked=this.checked)"; } th { "Product" } th { "Store status" } th { "State" } th { "Reason / review result" } th { "TikTok id" } }
                @for r in &shown {
                    tr data-product=(r["product_id"]) {
                        td { input type="checkbox" name="product" value=(r["product_id"]); }
                        td { (text(&r["title"])) br; small { "#" (r["product_id"]) } }
                        td { (text(&r["store_status"])) @if r["deleted"] == true { " (deleted)" } }
                        td.state { (state_of(r)) }
                        td { (text(&r["reason"])) @if !r["explanation"].is_null() { br; small { (text(&r["explanation"])) } } }
                        td { (text(&r["channel_product_id"])) }
                    }
                }
            }
        }
        section {
            h2 { "Map a product's category by hand" }
            form method="post" action=(format!("/products/{channel}/category/0")) id="hand-category"
                onsubmit="this.action=this.action.replace(/\\/\\d+$/,'/'+this.product.value)" {
                (csrf_field(&visitor))
                label { "Product id " input name="product" type="number" required; } " "
                label { "TikTok category id " input name="category_id" required; } " "
                button type="submit" { "Map" }
            }
        }
        section {
            h2 { "Category templates" }
            table {
                tr { th { "Match" } th { "Value" } th { "TikTok category" } th { "Priority" } }
                @for t in templates.as_array().into_iter().flatten() {
                    tr { td { (text(&t["match_field"])) } td { (text(&t["match_value"])) } td { (text(&t["category_id"])) } td { (text(&t["priority"])) } }
                }
            }
            form method="post" action=(format!("/products/{channel}/templates")) {
                (csrf_field(&visitor))
                select name="match_field" { option value="product_type" { "product type" } option value="tag" { "tag" } option value="vendor" { "vendor" } }
                " = " input name="match_value" required placeholder="e.g. Tents"; " → "
                input name="category_id" required placeholder="TikTok category id"; " "
                input name="priority" type="number" value="100"; " "
                button type="submit" { "Add template" }
            }
        }
        @if let Some(issues) = issues.as_array().filter(|i| !i.is_empty()) {
            section {
                h2 { "SKU link issues" }
                table {
                    tr { th { "Issue" } }
                    @for i in issues { tr { td { (i.to_string()) } } }
                }
            }
        }
        (super::progress::live_script())
    };
    page("Product center", &visitor, Nav::Products, &notice, body)
}

async fn select(
    visitor: Visitor,
    Path(channel): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let ids: Vec<i64> =
        form.iter().filter(|(k, _)| k == "product").filter_map(|(_, v)| v.parse().ok()).collect();
    let selected = form.iter().any(|(k, v)| k == "selected" && v == "true");
    let fields: HashMap<String, String> =
        form.into_iter().filter(|(k, _)| k == crate::auth::session::CSRF_FIELD).collect();
    let to = format!("/products?channel={channel}");
    if ids.is_empty() {
        return back(
            &to,
            Err(super::api_client::Refusal {
                status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                message: "Tick the products first.".into(),
            }),
        );
    }
    let body = json!({ "product_ids": ids, "selected": selected });
    let outcome =
        visitor.change(&fields, Method::PUT, &format!("/api/channels/{channel}/selection"), Some(body)).await;
    back(
        &to,
        outcome.map(|a| {
            let verb = if selected { "selected for" } else { "removed from" };
            format!("{} product(s) {verb} this shop; {} queued to sync.", ids.len(), text(&a["queued"]))
        }),
    )
}

async fn map_category(
    visitor: Visitor,
    Path((channel, _)): Path<(i64, i64)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let product = form.get("product").cloned().unwrap_or_default();
    let body =
        json!({ "category_id": form.get("category_id").cloned().unwrap_or_default(), "attributes": [] });
    let path = format!("/api/channels/{channel}/products/{}/category", super::layout::encode(&product));
    let outcome = visitor.change(&form, Method::PUT, &path, Some(body)).await;
    back(&format!("/products?channel={channel}"), outcome.map(|_| format!("Product {product} mapped.")))
}

async fn save_template(
    visitor: Visitor,
    Path(channel): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let body = json!({
        "match_field": form.get("match_field").cloned().unwrap_or_default(),
        "match_value": form.get("match_value").cloned().unwrap_or_default(),
        "category_id": form.get("category_id").cloned().unwrap_or_default(),
        "priority": form.get("priority").and_then(|p| p.parse::<i64>().ok()).unwrap_or(100),
    });
    let outcome =
        visitor.change(&form, Method::PUT, &format!("/api/channels/{channel}/templates"), Some(body)).await;
    back(&format!("/products?channel={channel}"), outcome.map(|_| "Template saved.".into()))
}
