//! Rules: edit a channel's Rhai rule with errors shown at their line, dry-run it over the
//! real catalog and see the diff before it goes live, save (activate) it, see its history
//! and roll back (saving an older version again).

use super::WebState;
use super::api_client::Refusal;
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
use serde_json::{Value, json};
use std::collections::HashMap;

pub fn router() -> Router<WebState> {
    Router::new().route("/rules", get(editor)).route("/rules/{channel}/{kind}", post(submit))
}

const KINDS: [&str; 4] = ["price", "product", "category", "order"];

#[derive(Debug, Deserialize)]
struct Pick {
    channel: Option<i64>,
    kind: Option<String>,
    ok: Option<String>,
    error: Option<String>,
}

/// What the editor shows besides the stored rule: a candidate the merchant typed, its dry
/// run, or why it was refused.
#[derive(Default)]
struct Draft {
    source: Option<String>,
    report: Option<Value>,
    refusal: Option<String>,
}

async fn editor(visitor: Visitor, Query(pick): Query<Pick>) -> Response {
    let notice = Notice { ok: pick.ok.clone(), error: pick.error.clone() };
    render(visitor, pick.channel, pick.kind.as_deref(), notice, Draft::default()).await
}

async fn render(
    visitor: Visitor,
    asked: Option<i64>,
    kind: Option<&str>,
    notice: Notice,
    draft: Draft,
) -> Response {
    let channels = match channels(&visitor).await {
        Ok(c) => c,
        Err(r) => return error_page(&r),
    };
    let kind = kind.filter(|k| KINDS.contains(k)).unwrap_or("price");
    let Some(channel) = pick_channel(&channels, asked) else {
        let body = html! { p { "No TikTok shop yet. " a href="/stores" { "Add one" } "." } };
        return page("Rules", &visitor, Nav::Rules, &notice, body);
    };
    let history =
        visitor.get(&format!("/api/channels/{channel}/rules/{kind}/versions")).await.unwrap_or_default();
    let active = text(&history["active"]["source"]);
    let source = draft.source.clone().unwrap_or(active);
    let error_line = draft.refusal.as_deref().and_then(line_of);
    let body = html! {
        (channel_tabs(&channels, Some(channel), &format!("/rules?kind={kind}")))
        nav.tabs {
            @for k in KINDS {
                a href=(format!("/rules?channel={channel}&kind={k}")) class=[(k == kind).then_some("on")] { (k) " rule" }
            }
        }
        p {
            "Active: " strong { "version " (text(&history["active"]["version"])) }
            " · " a href="https://rhai.rs/book/" { "Rhai" } " · see docs/rules.md for the functions a rule can call."
        }
        @if let Some(refusal) = &draft.refusal { div.error #rule-error role="alert" { (refusal) } }
        form method="post" action=(format!("/rules/{channel}/{kind}")) data-progress=(visitor.org_path("/dry-run")) {
            (csrf_field(&visitor))
            textarea name="source" rows="16" spellcheck="false" #rule-source { (source) }
            @if let Some(line) = error_line { (numbered(&source, line)) }
            p {
                button type="submit" name="action" value="dry-run" { "Dry run over the catalog" } " "
                button type="submit" name="action" value="save" { "Save and activate" } " "
                label title="A rule whose dry run fails on more than 5 % of the products, or runs past its budget, is refused unless forced" {
                    input type="checkbox" name="force" value="true"; " save even if its dry run refuses it"
                }
            }
        }
        p #dry-run-progress role="status" {}
        @if let Some(report) = &draft.report { (diff(report)) }
        h2 { "History" }
        table #rule-history {
            tr { th { "Version" } th { "Saved" } th { "Hash" } th {} }
            @for v in history["versions"].as_array().into_iter().flatten() {
                tr {
                    td { (text(&v["version"])) @if v["active"] == true { " (active)" } }
                    td.when data-ms=(text(&v["created_at"])) { (text(&v["created_at"])) }
                    td { small { code { (text(&v["hash"]).chars().take(16).collect::<String>()) } } }
                    td {
                        @if v["active"] != true {
                            form.inline method="post" action=(format!("/rules/{channel}/{kind}")) {
                                (csrf_field(&visitor))
                                input type="hidden" name="source" value=(text(&v["source"]));
                                button type="submit" name="action" value="save" { "Roll back to this version" }
                            }
                        }
                    }
                }
            }
        }
        script { (maud::PreEscaped(PROGRESS)) }
        script { (maud::PreEscaped("document.querySelectorAll('td.when').forEach(td=>{const ms=+td.dataset.ms;if(ms)td.textContent=new Date(ms).toLocaleString();});")) }
    };
    page("Rules", &visitor, Nav::Rules, &notice, body)
}

/// While a dry run runs (the form is submitting), shows how far it got from the API.
const PROGRESS: &str = r#"
(function(){
  const form=document.querySelector('form[data-progress]'), out=document.getElementById('dry-run-progress');
  if(!form||!out) return;
  form.addEventListener('submit', e => {
    if(!e.submitter || e.submitter.value !== 'dry-run') return;
    out.textContent = 'Dry run starting…';
    setInterval(async () => {
      try {
        const r = await fetch(form.dataset.progress, {credentials: 'same-origin'});
        if(!r.ok) return;
        const s = await r.json();
        if(s.running) out.textContent = 'Dry run: ' + s.evaluated + ' of ' + s.products + ' products evaluated…';
      } catch(_) {}
    }, 500);
  });
})();
"#;

/// The line a rule error names (`… at line 3, column 7: …`).
fn line_of(message: &str) -> Option<usize> {
    let rest = message.split(" at line ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The source with line numbers, the failing line marked.
fn numbered(source: &str, failing: usize) -> Markup {
    html! {
        table.source #rule-lines {
            @for (i, line) in source.lines().enumerate() {
                tr class=[(i + 1 == failing).then_some("line-error")] {
                    td { (i + 1) } td { code { (line) } }
                }
            }
        }
    }
}

/// A dry run's answer: what would change, and where the candidate fails.
fn diff(report: &Value) -> Markup {
    html! {
        section #dry-run {
            h2 { "Dry run" }
            p {
                (text(&report["products"])) " products: " (text(&report["unchanged"])) " unchanged, "
                (report["changes"].as_array().map_or(0, Vec::len)) " would change, "
                (report["errors"].as_array().map_or(0, Vec::len)) " fail."
            }
            @if let Some(errors) = report["errors"].as_array().filter(|e| !e.is_empty()) {
                h3 { "Fails on" }
                table #dry-run-errors {
                    tr { th { "Product" } th { "Error" } }
                    @for e in errors { tr { td { (text(&e["title"])) } td { (text(&e["after"])) } } }
                }
            }
            table #dry-run-changes {
                tr { th { "Product" } th { "Now" } th { "With this rule" } }
                @for c in report["changes"].as_array().into_iter().flatten() {
                    tr { td { (text(&c["title"])) } td { (text(&c["before"])) } td { (text(&c["after"])) } }
                }
            }
        }
    }
}

async fn submit(
    visitor: Visitor,
    Path((channel, kind)): Path<(i64, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let source = form.get("source").cloned().unwrap_or_default().replace("\r\n", "\n");
    let force = form.get("force").map(String::as_str) == Some("true");
    match form.get("action").map(String::as_str) {
        Some("dry-run") => {
            let path = format!("/api/channels/{channel}/rules/{kind}/dry-run");
            let body = json!({ "source": source });
            let draft = match visitor.change(&form, Method::POST, &path, Some(body)).await {
                Ok(report) => Draft { source: Some(source), report: Some(report), refusal: None },
                Err(Refusal { message, .. }) => {
                    Draft { source: Some(source), report: None, refusal: Some(message) }
                }
            };
            render(visitor, Some(channel), Some(&kind), Notice::default(), draft).await
        }
        _ => {
            let path = format!("/api/channels/{channel}/rules/{kind}");
            let body = json!({ "source": source, "force": force });
            match visitor.change(&form, Method::PUT, &path, Some(body)).await {
                Ok(saved) => back(
                    &format!("/rules?channel={channel}&kind={kind}"),
                    Ok(format!(
                        "Version {} is active; every listing of this shop follows it.",
                        text(&saved["version"])
                    )),
                ),
                Err(Refusal { message, .. }) => {
                    let draft = Draft { source: Some(source), report: None, refusal: Some(message) };
                    render(visitor, Some(channel), Some(&kind), Notice::default(), draft).await
                }
            }
        }
    }
}
