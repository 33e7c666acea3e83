//! Plugins: the installed connectors with version, contract, limits, hash, who uses them,
//! and their recent failures.

use super::WebState;
use super::layout::{Nav, Notice, Visitor, error_page, page, text};
use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use maud::html;

pub fn router() -> Router<WebState> {
    Router::new().route("/plugins", get(list))
}

async fn list(visitor: Visitor, Query(notice): Query<Notice>) -> Response {
    let plugins = match visitor.get(&visitor.org_path("/plugins")).await {
        Ok(p) => p.as_array().cloned().unwrap_or_default(),
        Err(r) => return error_page(&r),
    };
    let body = html! {
        table #plugins {
            tr { th { "Connector" } th { "Kind" } th { "Version" } th { "Contract" } th { "Limits" } th { "Hosts" } th { "Hash" } th { "Used by" } th { "Health" } }
            @for p in &plugins {
                @let m = &p["manifest"];
                tr {
                    td { (text(&m["name"])) br; code { (text(&m["id"])) } }
                    td { (text(&m["kind"])) }
                    td { (text(&m["version"])) }
                    td { (text(&p["contract"])) }
                    td { small {
                        (text(&m["limits"]["memory_mb"])) " MiB, "
                        (text(&m["limits"]["cpu_ms"])) " ms CPU, "
                        (text(&m["limits"]["timeout_ms"])) " ms per call"
                    } }
                    td { small { @for h in m["allowed_hosts"].as_array().into_iter().flatten() { code { (text(h)) } " " } } }
                    td { small { code { (text(&p["hash"])) } } }
                    td { @for c in p["connections"].as_array().into_iter().flatten() { (text(c)) br; } }
                    td {
                        @if p["failures"] == 0 { span.done { "no failures" } }
                        @else {
                            span.todo { (text(&p["failures"])) " failed job(s)" }
                            ul { @for f in p["recent_failures"].as_array().into_iter().flatten() { li { small { (text(f)) } } } }
                        }
                    }
                }
            }
        }
    };
    page("Plugins", &visitor, Nav::Plugins, &notice, body)
}
