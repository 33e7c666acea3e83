//! Home: the onboarding progress bar with its steps, and the connected stores. The bar
//! follows long work (the first sync) live by re-reading the onboarding API.

use super::WebState;
use super::layout::{Nav, Notice, Visitor, error_page, page, text};
use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use maud::{PreEscaped, html};

pub fn router() -> Router<WebState> {
    Router::new().route("/", get(home))
}

/// Re-reads the onboarding progress every two seconds and redraws the bar and the steps.
const LIVE: &str = r#"
(function(){
  const bar=document.getElementById('progress'), list=document.getElementById('steps');
  if(!bar||!list) return;
  const url=bar.dataset.source;
  async function tick(){
    try{
      const r=await fetch(url,{credentials:'same-origin'}); if(!r.ok) return;
      const o=await r.json(); const done=o.steps.filter(s=>s.done).length;
      bar.max=o.steps.length; bar.value=done;
      document.getElementById('progress-text').textContent=done+' of '+o.steps.length+' steps done';
      list.replaceChildren(...o.steps.map(s=>{const li=document.createElement('li');
        li.className=s.done?'done':'todo'; li.textContent=(s.done?'✓ ':'○ ')+s.step+' — '+s.detail; return li;}));
    }catch(e){}
  }
  setInterval(tick,2000);
})();
"#;

async fn home(visitor: Visitor, Query(notice): Query<Notice>) -> Response {
    let onboarding = match visitor.get(&visitor.org_path("/onboarding")).await {
        Ok(o) => o,
        Err(r) => return error_page(&r),
    };
    let channels = visitor.get(&visitor.org_path("/channels")).await.unwrap_or_default();
    let steps = onboarding["steps"].as_array().cloned().unwrap_or_default();
    let sync = super::progress::sync_bars(&visitor, None).await;
    let done = steps.iter().filter(|s| s["done"].as_bool() == Some(true)).count();
    let body = html! {
        section {
            h2 { "Onboarding" }
            progress #progress max=(steps.len()) value=(done) data-source=(visitor.org_path("/onboarding")) {}
            p #progress-text { (done) " of " (steps.len()) " steps done" }
            ol #steps {
                @for s in &steps {
                    @let ok = s["done"].as_bool() == Some(true);
                    li class=(if ok { "done" } else { "todo" }) {
                        (if ok { "✓ " } else { "○ " }) (text(&s["step"])) " — " (text(&s["detail"]))
                    }
                }
            }
            p {
                "Next: "
                a href="/stores" { "connect stores" } " · "
                a href="/settings" { "currency converter and sync settings" } " · "
                a href="/settings#carriers" { "carrier mapping" } " · "
                a href="/products" { "choose products" }
            }
        }
        section #sync-progress {
            h2 { "Catalog sync" }
            (sync)
        }
        section {
            h2 { "Sales channels" }
            table {
                tr { th { "Shop" } th { "Plugin" } th { "Currency" } th { "Listings" } th { "Blocked" } }
                @for c in channels.as_array().into_iter().flatten() {
                    tr {
                        td { a href=(format!("/products?channel={}", c["id"])) { (text(&c["name"])) } }
                        td { (text(&c["plugin"])) }
                        td { (text(&c["currency"])) }
                        td {
                            @for (state, n) in c["listings"].as_object().into_iter().flatten() {
                                (state) ": " (n) " "
                            }
                        }
                        td { (text(&c["blocked"])) }
                    }
                }
            }
        }
        script { (PreEscaped(LIVE)) }
        (super::progress::live_script())
    };
    page("Home", &visitor, Nav::Home, &notice, body)
}
