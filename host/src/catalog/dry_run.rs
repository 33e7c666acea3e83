//! Dry runs: a candidate rule evaluated over the whole stored catalog next to the active
//! one, listing what would change on the channel before the merchant saves it. The
//! evaluation runs on a blocking thread, off the async runtime that answers requests, and
//! within a budget: past it the run stops and says so.

use super::draft::{DraftOutcome, build_draft};
use crate::channel_rules::ChannelRules;
use crate::db::DbError;
use crate::engine::SyncEngine;
use crate::model::ChannelId;
use crate::rules::{CategoryRule, PriceRule, ProductRule, RuleError, RuleKind};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One product whose outcome differs between the active rule and the candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DryRunChange {
    pub product_id: i64,
    pub title: String,
    pub before: String,
    pub after: String,
}

/// The whole comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DryRunReport {
    pub products: usize,
    pub unchanged: usize,
    pub changes: Vec<DryRunChange>,
    /// Products the candidate fails on, with the rule error.
    pub errors: Vec<DryRunChange>,
    /// The run stopped before the end of the catalog: past its time budget, or past the
    /// error count that already decides the outcome. `products` counts what was evaluated.
    pub stopped: Option<String>,
}

/// How far a dry run may go.
#[derive(Debug, Clone)]
pub struct DryRunLimits {
    /// Time for the whole evaluation (each record also has the rule engine's own limits).
    pub budget: Duration,
    /// Stop after this many products failed.
    pub max_errors: Option<usize>,
    /// Set by someone who wants the run to stop (the merchant cancelled it).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Where the run says how far it got, for whoever watches it.
    pub progress: Option<Arc<DryRunProgress>>,
}

/// How far a running dry run got: products evaluated of the catalog's.
#[derive(Debug, Default)]
pub struct DryRunProgress {
    pub evaluated: AtomicUsize,
    pub total: AtomicUsize,
}

impl Default for DryRunLimits {
    fn default() -> Self {
        DryRunLimits::new(Duration::from_secs(30), None)
    }
}

impl DryRunLimits {
    pub fn new(budget: Duration, max_errors: Option<usize>) -> Self {
        DryRunLimits { budget, max_errors, cancel: None, progress: None }
    }
}

/// Why a dry run could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("channel {0} cannot sync yet: {1}")]
    Blocked(ChannelId, String),
    /// The rule kind does not decide the catalog (an order rule).
    #[error("{0}")]
    NotCatalog(String),
    #[error("{0}")]
    Panicked(String),
}

/// Compares `source` as the channel's `kind` rule against the active rules.
pub async fn dry_run(
    engine: &SyncEngine,
    channel_id: ChannelId,
    kind: RuleKind,
    source: &str,
    limits: DryRunLimits,
) -> Result<DryRunReport, DryRunError> {
    let channel = engine
        .channel(channel_id)
        .ok_or_else(|| DryRunError::Blocked(channel_id, "no such channel".into()))?;
    let active = channel
        .rules
        .as_ref()
        .ok_or_else(|| DryRunError::Blocked(channel_id, channel.blocked.clone().unwrap_or_default()))?;
    let rules = &engine.app.rules;
    let label = format!("channel {channel_id} {} rule (draft)", kind.as_str());
    let mut candidate: ChannelRules = active.clone();
    match kind {
        RuleKind::Product => candidate.product_rule = ProductRule::compile(rules, &label, 0, source)?,
        RuleKind::Price => candidate.price_rule = PriceRule::compile(rules, &label, 0, source)?,
        RuleKind::Category => {
            candidate.categories.rule = Some(CategoryRule::compile(rules, &label, 0, source)?)
        }
        RuleKind::Order => {
            return Err(DryRunError::NotCatalog(
                "an order rule decides orders, not the catalog: check it with `crossdock rules check` or save it; \
                 the orders dashboard shows what it held or skipped"
                    .into(),
            ));
        }
    }
    let db = &engine.app.db;
    let mut products = Vec::new();
    for id in db.product_ids(engine.store.id).await? {
        if db.is_deleted(id).await? {
            continue;
        }
        products.push((id, db.product(id).await?, db.hand_category(id, channel_id).await?));
    }
    let (rules, active) = (rules.clone(), active.clone());
    if let Some(progress) = &limits.progress {
        progress.total.store(products.len(), Ordering::Relaxed);
    }
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut report = DryRunReport::default();
        for (id, product, by_hand) in products {
            if limits.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                report.stopped = Some(format!("stopped after {} products: cancelled", report.products));
                break;
            }
            if started.elapsed() >= limits.budget {
                report.stopped = Some(format!(
                    "stopped after {} products: past the dry run's budget of {} s; the rule is too slow \
                     for this catalog",
                    report.products,
                    limits.budget.as_secs()
                ));
                break;
            }
            if limits.max_errors.is_some_and(|max| report.errors.len() > max) {
                report.stopped =
                    Some(format!("stopped after {} products: too many errors already", report.products));
                break;
            }
            report.products += 1;
            if let Some(progress) = &limits.progress {
                progress.evaluated.store(report.products, Ordering::Relaxed);
            }
            let before = describe(build_draft(&rules, &active, &product, by_hand.clone()));
            let after = build_draft(&rules, &candidate, &product, by_hand);
            let row = |after: String| DryRunChange {
                product_id: id.0,
                title: product.title.clone(),
                before: before.clone(),
                after,
            };
            match after {
                Err(e) => report.errors.push(row(e.to_string())),
                Ok(outcome) => {
                    let after = describe(Ok(outcome));
                    if after == before {
                        report.unchanged += 1;
                    } else {
                        report.changes.push(row(after));
                    }
                }
            }
        }
        report
    })
    .await
    .map_err(|e| DryRunError::Panicked(crate::queue::panic_reason("the dry run", e)))
}

/// What the channel would get, in words: prices per SKU, or why nothing.
fn describe(outcome: Result<DraftOutcome, RuleError>) -> String {
    match outcome {
        Err(e) => format!("error: {e}"),
        Ok(DraftOutcome::Skip(r)) => format!("skipped: {r}"),
        Ok(DraftOutcome::Hold(r)) => format!("held: {r}"),
        Ok(DraftOutcome::Unplaced(r)) => format!("unplaced: {r}"),
        Ok(DraftOutcome::List(d)) => {
            let skus: Vec<String> = d
                .listing
                .skus
                .iter()
                .map(|s| match &s.compare_at_price {
                    Some(c) => format!("{} {} (was {})", s.seller_sku, s.price, c),
                    None => format!("{} {}", s.seller_sku, s.price),
                })
                .collect();
            format!("\"{}\" in category {}: {}", d.listing.title, d.placement.category_id, skus.join(", "))
        }
    }
}
