//! Plugins: the installed connectors (version, contract, hosts, hash), and each connection's
//! plugin with the limits it runs under, its health and its recent failures.

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
    let installed = match visitor.get("/api/plugins").await {
        Ok(p) => p.as_array().cloned().unwrap_or_default(),
        Err(r) => return error_page(&r),
    };
    let connections = match visitor.get(&visitor.org_path("/plugins")).await {
        Ok(p) => p.as_array().cloned().unwrap_or_default(),
        Err(r) => return error_page(&r),
    };
    let failures = visitor.get("/api/failures").await.unwrap_or_default();
    let failures = failures.as_array().cloned().unwrap_or_default();
    let body = html! {
        h2 { "Your connections" }
        table #connections {
            tr { th { "Connection" } th { "Connector" } th { "Origin" } th { "Limits per call" } th { "Health" } th { "Recent failures" } }
            @for c in &connections {
                @let i = &c["installed"];
                @let recent: Vec<String> = failures.iter()
                    .filter(|f| c["kind"] == "channel" && f["channel"] == c["id"])
                    .take(3).map(|f| text(&f["reason"])).collect();
                tr {
                    td { (text(&c["kind"])) " " (text(&c["name"])) }
                    td { code { (text(&c["plugin"])) } " " (text(&i["version"])) br; small { "contract " (text(&i["contract"])) } }
                    td { small { (text(&i["origin"])) br; code { (text(&i["hash"])) } } }
                    td { small { (text(&i["memory_mb"])) " MiB, " (text(&i["cpu_ms"])) " ms CPU, " (text(&i["timeout_ms"])) " ms" } }
                    td {
                        @let state = text(&c["health"]["state"]);
                        span class=(if state == "healthy" { "done" } else { "todo" }) { (state) }
                        @if !c["health"]["reason"].is_null() { br; small { (text(&c["health"]["reason"])) } }
                    }
                    td { @for r in &recent { small { (r) } br; } }
                }
            }
        }
        h2 { "Installed connectors" }
        table #plugins {
            tr { th { "Connector" } th { "Kind" } th { "Version" } th { "Contract" } th { "Asks for" } th { "Hosts" } th { "Hash" } }
            @for p in &installed {
                @let m = &p["manifest"];
                tr {
                    td { (text(&m["name"])) br; code { (text(&m["id"])) } }
                    td { (text(&m["kind"])) }
                    td { (text(&m["version"])) }
                    td { (text(&p["contract"])) }
                    td { small { (text(&m["limits"]["memory-mb"])) " MiB, " (text(&m["limits"]["cpu-ms"])) " ms CPU" } }
                    td { small { @for h in m["allowed-hosts"].as_array().into_iter().flatten() { code { (text(h)) } " " } } }
                    td { small { code { (text(&p["hash"])) } } }
                }
            }
        }
    };
    page("Plugins", &visitor, Nav::Plugins, &notice, body)
}
