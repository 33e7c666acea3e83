//! Rules: saving a new version — compiled first, then gated by a dry run over the whole
//! catalog, so neither a broken rule nor one that fails on many products (or runs past its
//! budget) becomes active unless the caller forces it — and dry runs before saving. One
//! dry run at a time per organization, off the request thread, within a budget.

use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::catalog::dry_run::{DryRunError, DryRunLimits, DryRunProgress, DryRunReport, dry_run};
use crate::model::{ChannelId, OrgId};
use crate::rules::RuleKind;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Largest share of the catalog, in percent, a rule may fail on and still be saved without
/// `force`.
pub const MAX_FAILING_PERCENT: usize = 5;
/// Longest rule source accepted.
pub const MAX_SOURCE_BYTES: usize = 64 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub source: String,
    /// Save even when the dry run refuses the rule.
    #[serde(default)]
    pub force: bool,
}

/// The organizations with a dry run under way.
#[derive(Debug, Clone, Default)]
pub struct DryRunSlots(Arc<Mutex<HashMap<OrgId, Run>>>);

/// A running dry run: what it tries, its cancel flag and its progress.
#[derive(Debug, Clone)]
struct Run {
    channel: ChannelId,
    kind: RuleKind,
    started: std::time::Instant,
    cancel: Arc<AtomicBool>,
    progress: Arc<DryRunProgress>,
}

/// Holds an organization's dry-run slot; frees it when dropped (also when the request is
/// dropped half-way).
struct Slot(DryRunSlots, OrgId, Run);

impl DryRunSlots {
    fn take(&self, org: OrgId, channel: ChannelId, kind: RuleKind) -> Result<Slot, ApiError> {
        let mut running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if running.contains_key(&org) {
            return Err(ApiError::Conflict(format!(
                "a dry run of organization {org} is under way; wait for it to end, or cancel it \
                 (DELETE /api/orgs/{org}/dry-run), and try again"
            )));
        }
        let run = Run {
            channel,
            kind,
            started: std::time::Instant::now(),
            cancel: Arc::new(AtomicBool::new(false)),
            progress: Arc::default(),
        };
        running.insert(org, run.clone());
        Ok(Slot(self.clone(), org, run))
    }

    /// The organization's running dry run, as its watchers see it.
    fn status(&self, org: OrgId) -> DryRunStatus {
        let running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match running.get(&org) {
            None => DryRunStatus::default(),
            Some(run) => DryRunStatus {
                running: true,
                channel: Some(run.channel),
                kind: Some(run.kind.as_str()),
                evaluated: Some(run.progress.evaluated.load(Ordering::Relaxed)),
                products: Some(run.progress.total.load(Ordering::Relaxed)),
                elapsed_ms: Some(u64::try_from(run.started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            },
        }
    }

    /// Asks the organization's running dry run to stop; whether one was running.
    fn cancel(&self, org: OrgId) -> bool {
        let running = self.0.lock().unwrap_or_else(|p| p.into_inner());
        running.get(&org).inspect(|run| run.cancel.store(true, Ordering::Relaxed)).is_some()
    }
}

impl Slot {
    /// `limits` that stop when this run is cancelled.
    fn limits(&self, mut limits: DryRunLimits) -> DryRunLimits {
        limits.cancel = Some(self.2.cancel.clone());
        limits.progress = Some(self.2.progress.clone());
        limits
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.1);
    }
}

/// The organization's running dry run (only `running: false` when none runs).
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct DryRunStatus {
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    /// The rule kind tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Products evaluated so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluated: Option<usize>,
    /// Products in the catalog.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

/// Whether a dry run was running and was asked to stop.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DryRunCancelled {
    pub cancelled: bool,
}

/// A rule version saved (or the active one, when the source did not change).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleSaved {
    pub kind: &'static str,
    pub version: i64,
    pub hash: String,
    /// Saved without its dry run's verdict.
    pub forced: bool,
    /// What the gating dry run found (null when the rule was not gated).
    pub dry_run: Option<GateSummary>,
}

/// The gating dry run, in counts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GateSummary {
    pub products: usize,
    pub errors: usize,
    pub changes: usize,
}

pub fn router() -> Router<ApiState> {
    Router::new()
        .route("/api/channels/{channel}/rules/{kind}", put(save))
        .route("/api/channels/{channel}/rules/{kind}/dry-run", post(run_dry))
        .route("/api/orgs/{org}/dry-run", get(dry_run_status).delete(cancel_dry_run))
}

/// The organization's running dry run and how far it got (`{"running": false}` when none).
async fn dry_run_status(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<DryRunStatus>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(state.dry_runs.status(org)))
}

/// Stops the organization's running dry run (it answers with `stopped: "… cancelled"`).
async fn cancel_dry_run(
    caller: Caller,
    State(state): State<ApiState>,
    Path(org): Path<i64>,
) -> Result<Json<DryRunCancelled>, ApiError> {
    let org = state.org_of(&caller, org)?;
    Ok(Json(DryRunCancelled { cancelled: state.dry_runs.cancel(org) }))
}

pub(super) fn kind(name: &str) -> Result<RuleKind, ApiError> {
    match name {
        "product" => Ok(RuleKind::Product),
        "price" => Ok(RuleKind::Price),
        "category" => Ok(RuleKind::Category),
        "order" => Ok(RuleKind::Order),
        other => Err(ApiError::NotFound(format!("rule kind `{other}` (product, price, category, order)"))),
    }
}

async fn save(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, name)): Path<(i64, String)>,
    Json(body): Json<RuleBody>,
) -> Result<Json<RuleSaved>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let (channel, kind) = (row.id, kind(&name)?);
    crate::model::limits::check_range("source (bytes)", body.source.len(), 0, MAX_SOURCE_BYTES)?;
    let label = format!("channel {channel} {} rule (new version)", kind.as_str());
    crate::rules::check(&state.app.rules, kind, &label, &body.source)?;
    let gate = if body.force || kind == RuleKind::Order {
        None
    } else {
        gate(&state, row.org_id, channel, kind, &body.source).await?
    };
    let saved = state.app.db.save_rule(channel, kind, &body.source).await?;
    // Every pair of the channel is reconciled with the new version by the workers.
    state.work_queued.notify_one();
    Ok(Json(RuleSaved {
        kind: kind.as_str(),
        version: saved.version,
        hash: saved.hash,
        forced: body.force,
        dry_run: gate.map(|r| GateSummary {
            products: r.products,
            errors: r.errors.len(),
            changes: r.changes.len(),
        }),
    }))
}

/// Runs the dry run that decides whether the rule may become active: refused (422, with the
/// errors) when it fails on more than [`MAX_FAILING_PERCENT`] % of the products or runs past
/// its budget. A channel that cannot sync yet (no rate, a broken active rule) is not gated:
/// the rule being saved may be its fix.
async fn gate(
    state: &ApiState,
    org: OrgId,
    channel: ChannelId,
    kind: RuleKind,
    source: &str,
) -> Result<Option<DryRunReport>, ApiError> {
    let slot = state.dry_runs.take(org, channel, kind)?;
    let engine = match state.engine(org).await {
        Ok(engine) => engine,
        // No store yet: there is no catalog to try the rule on.
        Err(ApiError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let products = engine.app.db.product_ids(engine.store.id).await?.len();
    let limits = slot
        .limits(DryRunLimits::new(state.settings.dry_run_budget, Some(products * MAX_FAILING_PERCENT / 100)));
    let report = match dry_run(&engine, channel, kind, source, limits).await {
        Ok(report) => report,
        Err(DryRunError::Blocked(..)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let too_many = report.errors.len() * 100 > report.products.max(1) * MAX_FAILING_PERCENT;
    if too_many || report.stopped.is_some() {
        let why = match &report.stopped {
            Some(stopped) if !too_many => stopped.clone(),
            _ => format!(
                "fails on {} of {} products tried (more than {MAX_FAILING_PERCENT} %)",
                report.errors.len(),
                report.products
            ),
        };
        return Err(ApiError::Refused {
            message: format!(
                "the {} rule was not saved: its dry run {why}; fix the rule (the first errors are in \
                 `details`), or save it anyway with \"force\": true",
                kind.as_str()
            ),
            details: serde_json::json!({
                "products": report.products,
                "errors": report.errors.iter().take(20).collect::<Vec<_>>(),
                "error_count": report.errors.len(),
                "stopped": report.stopped,
            }),
        });
    }
    Ok(Some(report))
}

async fn run_dry(
    caller: Caller,
    State(state): State<ApiState>,
    Path((channel, name)): Path<(i64, String)>,
    Json(body): Json<RuleBody>,
) -> Result<Json<DryRunReport>, ApiError> {
    let row = state.channel_of(&caller, channel).await?;
    let (channel, kind) = (row.id, kind(&name)?);
    crate::model::limits::check_range("source (bytes)", body.source.len(), 0, MAX_SOURCE_BYTES)?;
    let slot = state.dry_runs.take(row.org_id, channel, kind)?;
    let engine = state.engine(row.org_id).await?;
    let limits = slot.limits(DryRunLimits::new(state.settings.dry_run_budget, None));
    Ok(Json(dry_run(&engine, channel, kind, &body.source, limits).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dry_run_at_a_time_per_organization_and_the_slot_frees_itself() {
        let slots = DryRunSlots::default();
        let first = slots.take(OrgId(1), ChannelId(1), RuleKind::Price).expect("free");
        assert!(
            matches!(slots.take(OrgId(1), ChannelId(1), RuleKind::Price), Err(ApiError::Conflict(_))),
            "409 while one runs"
        );
        let other =
            slots.take(OrgId(2), ChannelId(1), RuleKind::Price).expect("another organization is not held up");
        drop(first);
        drop(other);
        slots.take(OrgId(1), ChannelId(1), RuleKind::Price).expect("free again once the first ended");
    }
}
