//! Failures: every failed catalog job with its reason, and retry (one, or all of them as a
//! background task whose progress the page shows).

use super::WebState;
use super::layout::{Nav, Notice, Visitor, back, csrf_field, error_page, page, text};
use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/failures", get(list))
        .route("/failures/retry", post(retry_all))
        .route("/failures/{job}/retry", post(retry))
}

async fn list(visitor: Visitor, Query(notice): Query<Notice>) -> Response {
    let failures = match visitor.get("/api/failures").await {
        Ok(f) => f.as_array().cloned().unwrap_or_default(),
        Err(r) => return error_page(&r),
    };
    let channels = super::layout::channels(&visitor).await.unwrap_or_default();
    let name = |id: &serde_json::Value| {
        channels.iter().find(|c| c["id"] == *id).map(|c| text(&c["name"])).unwrap_or_else(|| text(id))
    };
    let tasks = super::progress::task_bars(&visitor, "retry_jobs").await;
    let body = html! {
        section #tasks { (tasks) }
        @if failures.is_empty() { p { "Nothing failed." } }
        @else {
            form.inline #retry-all method="post" action="/failures/retry" {
                (csrf_field(&visitor)) button type="submit" { "Retry all" }
            }
            table #failures {
                tr { th { "Shop" } th { "Product" } th { "Job" } th { "Attempts" } th { "Reason" } th {} }
                @for f in &failures {
                    tr {
                        td { (name(&f["channel"])) }
                        td { (text(&f["product"])) }
                        td { (text(&f["kind"])) }
                        td { (text(&f["attempts"])) }
                        td { (text(&f["reason"])) }
                        td {
                            form.inline method="post" action=(format!("/failures/{}/retry", f["job"])) {
                                (csrf_field(&visitor)) button type="submit" { "Retry" }
                            }
                        }
                    }
                }
            }
        }
        p { "Orders that did not sync are on the " a href="/orders?state=failed" { "orders page" } "." }
        (super::progress::live_script())
    };
    page("Failures", &visitor, Nav::Failures, &notice, body)
}

async fn retry(
    visitor: Visitor,
    Path(job): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let outcome = visitor.change(&form, Method::POST, &format!("/api/jobs/{job}/retry"), None).await;
    back("/failures", outcome.map(|_| format!("Job {job} queued again.")))
}

/// Retries every failed job in the background; the page shows the task's progress.
async fn retry_all(visitor: Visitor, Form(form): Form<HashMap<String, String>>) -> Response {
    let outcome = visitor.change(&form, Method::POST, &visitor.org_path("/failures/retry"), None).await;
    back(
        "/failures",
        outcome.map(|task| {
            format!(
                "Retrying every failed job in the background: task {} (its progress is above).",
                text(&task["id"])
            )
        }),
    )
}
