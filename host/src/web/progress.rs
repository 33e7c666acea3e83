//! Progress bars for long work: the catalog sync per channel and the organization's bulk
//! tasks. Rendered from the API on the server, so the page is right without script; a few
//! lines of script re-read the same API every two seconds while work runs and redraw them.

use super::layout::{Visitor, text};
use maud::{Markup, PreEscaped, html};
use serde_json::Value;

/// Redraws every `[data-sync]` and `[data-task]` bar from the JSON API while work runs.
const LIVE: &str = r#"
(function(){
  function set(el,k,v){const x=el.querySelector('[data-k="'+k+'"]'); if(x) x.textContent=v;}
  async function syncTick(){
    const bars=document.querySelectorAll('[data-sync]'); if(!bars.length) return false;
    const r=await fetch(bars[0].dataset.source,{credentials:'same-origin'}); if(!r.ok) return false;
    const o=await r.json();
    bars.forEach(el=>{const c=o.channels.find(c=>String(c.channel)===el.dataset.sync); if(!c) return;
      const bar=el.querySelector('progress'); bar.max=Math.max(c.selected,1); bar.value=c.settled;
      ['selected','queued','pushing','in_review','live','failed','held','settled'].forEach(k=>set(el,k,c[k]));
      set(el,'state',c.running?'syncing…':'up to date'); el.dataset.running=c.running;});
    return o.running;
  }
  async function taskTick(){
    const bars=document.querySelectorAll('[data-task]'); let running=false;
    for(const el of bars){ if(el.dataset.state!=='running') continue;
      const r=await fetch(el.dataset.source,{credentials:'same-origin'}); if(!r.ok) continue;
      const t=await r.json(); const bar=el.querySelector('progress'); bar.max=Math.max(t.total,1); bar.value=t.done;
      ['done','total','retried','error_count','state'].forEach(k=>set(el,k,t[k])); el.dataset.state=t.state;
      running=running||t.state==='running'; }
    return running;
  }
  async function tick(){
    let more=false; try{ more=(await syncTick())||more; more=(await taskTick())||more; }catch(e){ more=true; }
    if(more) setTimeout(tick,2000);
  }
  setTimeout(tick,2000);
})();
"#;

/// The sync progress of `channels` (all of the organization's when None), as bars.
pub async fn sync_bars(visitor: &Visitor, only: Option<i64>) -> Markup {
    let source = visitor.org_path("/sync-progress");
    let Ok(progress) = visitor.get(&source).await else {
        return html! {};
    };
    let channels: Vec<&Value> = progress["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| only.is_none_or(|id| c["channel"].as_i64() == Some(id)))
        .collect();
    html! {
        @for c in channels {
            @let running = c["running"].as_bool() == Some(true);
            div.sync data-sync=(text(&c["channel"])) data-source=(source) data-running=(running) {
                strong { (text(&c["name"])) } " "
                progress max=(c["selected"].as_i64().unwrap_or(0).max(1)) value=(text(&c["settled"])) {}
                " " span data-k="settled" { (text(&c["settled"])) } " of "
                span data-k="selected" { (text(&c["selected"])) } " selected products settled — "
                span data-k="state" { (if running { "syncing…" } else { "up to date" }) }
                br;
                small {
                    "queued " span data-k="queued" { (text(&c["queued"])) }
                    " · pushing " span data-k="pushing" { (text(&c["pushing"])) }
                    " · in review " span data-k="in_review" { (text(&c["in_review"])) }
                    " · live " span data-k="live" { (text(&c["live"])) }
                    " · failed " span data-k="failed" { (text(&c["failed"])) }
                    " · held " span data-k="held" { (text(&c["held"])) }
                    @if let Some(why) = c["blocked"].as_str() { " · blocked: " (why) }
                }
            }
        }
    }
}

/// The organization's recent bulk tasks of `kind`, as bars (nothing when there are none).
pub async fn task_bars(visitor: &Visitor, kind: &str) -> Markup {
    let Ok(tasks) = visitor.get(&visitor.org_path("/tasks")).await else {
        return html! {};
    };
    let tasks: Vec<&Value> =
        tasks.as_array().into_iter().flatten().filter(|t| t["kind"] == kind).take(3).collect();
    html! {
        @if !tasks.is_empty() {
            h2 { "Bulk retries" }
            @for t in tasks {
                @let id = text(&t["id"]);
                div.task data-task=(id) data-state=(text(&t["state"])) data-source=(visitor.org_path(&format!("/tasks/{id}"))) {
                    "Task " (id) " (" (text(&t["scope"])) "): "
                    progress max=(t["total"].as_u64().unwrap_or(0).max(1)) value=(text(&t["done"])) {}
                    " " span data-k="done" { (text(&t["done"])) } " of " span data-k="total" { (text(&t["total"])) }
                    " — " span data-k="state" { (text(&t["state"])) }
                    ", retried " span data-k="retried" { (text(&t["retried"])) }
                    ", errors " span data-k="error_count" { (text(&t["error_count"])) }
                    @for e in t["errors"].as_array().into_iter().flatten() { br; small { (text(e)) } }
                }
            }
        }
    }
}

/// The script that keeps the bars live (once per page).
pub fn live_script() -> Markup {
    html! { script { (PreEscaped(LIVE)) } }
}
