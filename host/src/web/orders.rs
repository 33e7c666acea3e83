//! Orders per shop and status: why an order did not sync and how to fix it, retry one or
//! every order stopped on the same cause, release held orders; one order in detail.

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
use serde_json::json;
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{order}", get(detail))
        .route("/orders/{order}/retry", post(retry_one))
        .route("/orders/{order}/release", post(release))
        .route("/orders/{order}/after-sales/{request}", post(decide))
        .route("/orders/channel/{channel}/retry", post(retry_kind))
        .route("/orders/channel/{channel}/poll", post(poll))
}

#[derive(Debug, Deserialize)]
struct Filter {
    channel: Option<i64>,
    state: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

const STATES: [&str; 7] = ["", "waiting", "held", "pending", "synced", "failed", "skipped"];

async fn list(visitor: Visitor, Query(filter): Query<Filter>) -> Response {
    let notice = Notice { ok: filter.ok.clone(), error: filter.error.clone() };
    let channels = match channels(&visitor).await {
        Ok(c) => c,
        Err(r) => return error_page(&r),
    };
    let Some(channel) = pick_channel(&channels, filter.channel) else {
        let body = html! { p { "No TikTok shop yet. " a href="/stores" { "Add one" } "." } };
        return page("Orders", &visitor, Nav::Orders, &notice, body);
    };
    let wanted = filter.state.clone().filter(|s| !s.is_empty());
    let path = match &wanted {
        Some(s) => format!("/api/channels/{channel}/orders?state={}", super::layout::encode(s)),
        None => format!("/api/channels/{channel}/orders"),
    };
    let view = match visitor.get(&path).await {
        Ok(v) => v,
        Err(r) => return error_page(&r),
    };
    let counts = view["counts"].as_array().cloned().unwrap_or_default();
    let tasks = super::progress::task_bars(&visitor, "retry_orders").await;
    let body = html! {
        (channel_tabs(&channels, Some(channel), "/orders"))
        section #tasks { (tasks) }
        form method="get" action="/orders" {
            input type="hidden" name="channel" value=(channel);
            label { "Status " select name="state" onchange="this.form.submit()" {
                @for s in STATES {
                    option value=(s) selected[Some(s) == wanted.as_deref() || (s.is_empty() && wanted.is_none())] {
                        @if s.is_empty() { "all" } @else { (s) }
                    }
                }
            } }
            noscript { button type="submit" { "Filter" } }
        }
        form.inline method="post" action=(format!("/orders/channel/{channel}/poll")) {
            (csrf_field(&visitor)) button type="submit" { "Check the shop for new orders now" }
        }
        h2 { "By status" }
        table #order-counts {
            tr { th { "Status" } th { "Failure" } th { "Orders" } th {} }
            @for c in &counts {
                @let (state, kind, n) = (text(&c[0]), text(&c[1]), text(&c[2]));
                tr {
                    td { (state) } td { (kind) } td { (n) }
                    td {
                        @if state == "failed" {
                            form.inline method="post" action=(format!("/orders/channel/{channel}/retry")) {
                                (csrf_field(&visitor))
                                input type="hidden" name="kind" value=(kind);
                                button type="submit" { "Retry all " (kind) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Orders" }
        table #orders {
            tr { th { "TikTok order" } th { "Status" } th { "State" } th { "Store order" } th { "Why and how to fix" } th {} }
            @for o in view["orders"].as_array().into_iter().flatten() {
                @let id = o["id"].as_i64().unwrap_or(0);
                tr data-order=(id) {
                    td { a href=(format!("/orders/{id}")) { (text(&o["channel_order_id"])) } }
                    td { (text(&o["status"])) }
                    td.state { (text(&o["state"])) " · " (text(&o["stage"])) }
                    td { (text(&o["store_order_name"])) }
                    td {
                        @if !o["failure"].is_null() {
                            strong { (text(&o["failure"]["kind"])) } ": " (text(&o["failure"]["cause"])) br;
                            em { "Fix: " (text(&o["failure"]["fix"])) }
                        }
                    }
                    td {
                        @if o["state"] == "failed" {
                            form.inline method="post" action=(format!("/orders/{id}/retry")) { (csrf_field(&visitor)) button type="submit" { "Retry" } }
                        }
                        @if o["state"] == "held" {
                            form.inline method="post" action=(format!("/orders/{id}/release")) { (csrf_field(&visitor)) button type="submit" { "Release" } }
                        }
                    }
                }
            }
        }
        (super::progress::live_script())
    };
    page("Orders", &visitor, Nav::Orders, &notice, body)
}

async fn detail(visitor: Visitor, Path(order): Path<i64>, Query(notice): Query<Notice>) -> Response {
    let o = match visitor.get(&format!("/api/orders/{order}")).await {
        Ok(o) => o,
        Err(r) => return error_page(&r),
    };
    let body = html! {
        p { "TikTok order " strong { (text(&o["channel_order_id"])) } " — " (text(&o["status"])) ", " (text(&o["state"])) " (" (text(&o["stage"])) ")" }
        p { "Store order: " (text(&o["store_order_name"])) " " small { (text(&o["store_order_id"])) } }
        @if !o["failure"].is_null() {
            div.error { strong { (text(&o["failure"]["kind"])) } ": " (text(&o["failure"]["cause"])) "\nFix: " (text(&o["failure"]["fix"])) }
            form method="post" action=(format!("/orders/{order}/retry")) { (csrf_field(&visitor)) button type="submit" { "Retry" } }
        }
        h2 { "Lines" }
        table {
            tr { th { "SKU" } th { "Title" } th { "Quantity" } th { "Unit price" } }
            @for l in o["channel_order"]["lines"].as_array().into_iter().flatten() {
                tr { td { (text(&l["seller_sku"])) } td { (text(&l["title"])) } td { (text(&l["quantity"])) } td { (text(&l["unit_price"]["amount"])) " " (text(&l["unit_price"]["currency"])) } }
            }
        }
        h2 { "Shipments" }
        table {
            tr { th { "Direction" } th { "From" } th { "To" } th { "Carrier" } th { "Tracking" } th { "Units" } th { "State" } th { "Why" } }
            @for s in o["shipments"].as_array().into_iter().flatten() {
                tr {
                    td { (text(&s["direction"])) } td { (text(&s["source_id"])) } td { (text(&s["target_id"])) }
                    td { (text(&s["carrier"])) } td { (text(&s["tracking_number"])) }
                    td { (s["units"].as_array().map_or(0, Vec::len)) }
                    td { (text(&s["state"])) }
                    td { (text(&s["failure"]["cause"])) " " (text(&s["failure"]["fix"])) }
                }
            }
        }
        h2 { "Cancellations, refunds and returns" }
        table {
            tr { th { "Request" } th { "Kind" } th { "Status" } th { "Parcel back" } th { "Store refund" } th {} }
            @for a in o["after_sales"].as_array().into_iter().flatten() {
                @let request = text(&a["after_sale_id"]);
                tr {
                    td { (request) } td { (text(&a["kind"])) }
                    td { (text(&a["status"])) " · " (text(&a["stage"])) " · " (text(&a["state"])) }
                    td { (text(&a["return_tracking"]["carrier"])) " " (text(&a["return_tracking"]["tracking_number"])) }
                    td { (text(&a["store_refund_id"])) }
                    td {
                        // Only the decision the channel waits for, in its words.
                        @let labels = match a["awaiting_seller"].as_str() {
                            Some("request") => Some(("Approve", "Reject")),
                            Some("received-goods") => Some(("Accept the goods back", "Refuse the goods")),
                            _ => None,
                        };
                        @if let Some((yes, no)) = labels {
                            form.inline method="post" action=(format!("/orders/{order}/after-sales/{}", super::layout::encode(&request))) {
                                (csrf_field(&visitor))
                                button type="submit" name="approve" value="true" { (yes) } " "
                                button type="submit" name="approve" value="false" { (no) }
                            }
                        }
                    }
                }
            }
        }
        p { a href=(format!("/orders?channel={}", o["channel_id"])) { "All orders of this shop" } }
    };
    page(&format!("Order {}", text(&o["channel_order_id"])), &visitor, Nav::Orders, &notice, body)
}

async fn retry_one(
    visitor: Visitor,
    Path(order): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome = visitor.change(&form, Method::POST, &format!("/api/orders/{order}/retry"), None).await;
    back(&format!("/orders/{order}"), outcome.map(|_| "Retrying: the order syncs again now.".into()))
}

async fn release(
    visitor: Visitor,
    Path(order): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome = visitor.change(&form, Method::POST, &format!("/api/orders/{order}/release"), None).await;
    back(&format!("/orders/{order}"), outcome.map(|_| "Released: the order comes into the store now.".into()))
}

async fn decide(
    visitor: Visitor,
    Path((order, request)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let approve = form.get("approve").map(String::as_str) == Some("true");
    let path = format!("/api/orders/{order}/after-sales/{}/decide", super::layout::encode(&request));
    let outcome = visitor.change(&form, Method::POST, &path, Some(json!({ "approve": approve }))).await;
    back(
        &format!("/orders/{order}"),
        outcome.map(|_| if approve { "Approved.".into() } else { "Rejected.".into() }),
    )
}

async fn retry_kind(
    visitor: Visitor,
    Path(channel): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let kind = form.get("kind").cloned().unwrap_or_default();
    let path = if kind.is_empty() {
        format!("/api/channels/{channel}/orders/retry")
    } else {
        format!("/api/channels/{channel}/orders/retry?kind={}", super::layout::encode(&kind))
    };
    let outcome = visitor.change(&form, Method::POST, &path, None).await;
    back(
        &format!("/orders?channel={channel}"),
        outcome.map(|task| {
            format!(
                "Retrying the failed orders in the background: task {} (its progress is below).",
                text(&task["id"])
            )
        }),
    )
}

async fn poll(
    visitor: Visitor,
    Path(channel): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome =
        visitor.change(&form, Method::POST, &format!("/api/channels/{channel}/orders/poll"), None).await;
    back(
        &format!("/orders?channel={channel}"),
        outcome.map(|a| format!("Checked: {} order(s) to sync.", text(&a["orders_due"]))),
    )
}
