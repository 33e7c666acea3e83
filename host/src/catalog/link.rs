//! Auto-linking by SKU: before Crossdock lists a product on a channel, it looks for SKUs the
//! shop already sells under the same seller SKU and adopts that listing instead of creating
//! a duplicate. Anything it cannot decide for sure — a SKU used twice in the store, matched
//! twice on the channel, split across channel listings, or matched only in part — is held
//! and reported, never guessed.

use crate::connectors::SkuMatch;
use crate::db::jobs::JobKind;
use crate::db::listings::{ListingRow, ListingState};
use crate::db::now_ms;
use crate::db::placement::LinkIssue;
use crate::engine::{ChannelRuntime, SyncEngine, SyncError};
use crate::model::{ProductId, StoreId};
use crate::queue::retry_inline;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Seller SKUs asked for per channel call.
const SKUS_PER_CALL: usize = 50;

/// What linking decided for a set of products on one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkReport {
    /// Adopted an existing channel listing.
    pub linked: Vec<ProductId>,
    /// Held for a person (see `issues`).
    pub held: Vec<ProductId>,
    /// None of their SKUs is on the channel: listed as new.
    pub missing: Vec<ProductId>,
    pub issues: Vec<LinkIssue>,
}

/// Links `products` (none of which has a channel listing yet) on `channel`.
#[tracing::instrument(skip_all, fields(channel = %channel.row.id, products = products.len()))]
pub async fn link_products(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    products: &[ProductId],
) -> Result<LinkReport, SyncError> {
    let db = &engine.app.db;
    let mut skus_of: BTreeMap<ProductId, Vec<String>> = BTreeMap::new();
    for id in products {
        let product = db.product(*id).await?;
        let skus: Vec<String> =
            product.variants.iter().map(|v| v.sku.trim().to_string()).filter(|s| !s.is_empty()).collect();
        skus_of.insert(*id, skus);
    }
    let wanted: Vec<String> =
        skus_of.values().flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let mut on_channel: HashMap<String, Vec<SkuMatch>> = HashMap::new();
    for chunk in wanted.chunks(SKUS_PER_CALL) {
        for m in retry_inline("SKU search", || channel.connector.find_skus(chunk)).await? {
            on_channel.entry(m.seller_sku.clone()).or_default().push(m);
        }
    }

    let mut report = LinkReport::default();
    for (product, skus) in skus_of {
        match decide(db, engine.store.id, channel, product, &skus, &on_channel).await? {
            Decision::Missing => report.missing.push(product),
            Decision::Hold(issues) => {
                let mut listing = ListingRow::new(product, channel.row.id);
                listing.state = ListingState::Held;
                listing.reason = Some(issues.iter().map(|i| i.detail.clone()).collect::<Vec<_>>().join("; "));
                db.save_listing(&listing).await?;
                report.issues.extend(issues);
                report.held.push(product);
            }
            Decision::Link { listing_id, sku_ids, status } => {
                let mut listing = ListingRow::new(product, channel.row.id);
                let live = status == "ACTIVATE";
                listing.state = if live { ListingState::Active } else { ListingState::InReview };
                listing.external_id = Some(listing_id);
                listing.sku_ids = sku_ids;
                listing.explanation = Some(format!("linked by SKU to an existing listing ({status})"));
                db.save_listing(&listing).await?;
                if !live {
                    db.enqueue(JobKind::CheckReview, channel.row.id, product, now_ms()).await?;
                }
                report.linked.push(product);
            }
        }
    }
    tracing::info!(
        linked = report.linked.len(),
        held = report.held.len(),
        missing = report.missing.len(),
        "SKU linking done"
    );
    Ok(report)
}

enum Decision {
    Missing,
    Hold(Vec<LinkIssue>),
    Link { listing_id: String, sku_ids: BTreeMap<String, String>, status: String },
}

async fn decide(
    db: &crate::db::Db,
    store: StoreId,
    channel: &ChannelRuntime,
    product: ProductId,
    skus: &[String],
    on_channel: &HashMap<String, Vec<SkuMatch>>,
) -> Result<Decision, SyncError> {
    let matched: Vec<&String> = skus.iter().filter(|s| on_channel.contains_key(*s)).collect();
    if matched.is_empty() {
        return Ok(Decision::Missing);
    }
    let issue = |sku: &str, kind: &str, detail: String| LinkIssue {
        channel_id: channel.row.id,
        product_id: product,
        sku: sku.to_string(),
        kind: kind.to_string(),
        detail,
    };
    let mut issues = Vec::new();
    for sku in &matched {
        let users = db.products_with_sku(store, sku).await?;
        if users.len() > 1 {
            let ids: Vec<String> = users.iter().map(|p| p.to_string()).collect();
            issues.push(issue(sku, "duplicate_in_store", format!(
                "SKU {sku} is used by {} store products ({}); give each variant its own SKU, then it links",
                users.len(),
                ids.join(", ")
            )));
        }
        let matches = &on_channel[*sku];
        if matches.len() > 1 {
            let ids: Vec<String> = matches.iter().map(|m| format!("{}/{}", m.listing_id, m.sku_id)).collect();
            issues.push(issue(sku, "ambiguous_on_channel", format!(
                "SKU {sku} matches {} SKUs on the channel ({}); remove the duplicates there or link by hand",
                matches.len(),
                ids.join(", ")
            )));
        }
    }
    let listings: BTreeSet<&str> =
        matched.iter().flat_map(|s| on_channel[*s].iter().map(|m| m.listing_id.as_str())).collect();
    if listings.len() > 1 && issues.is_empty() {
        issues.push(issue(matched[0], "split_on_channel", format!(
            "the product's SKUs sit in {} different channel listings ({}); merge them on the channel or link by hand",
            listings.len(),
            listings.iter().copied().collect::<Vec<_>>().join(", ")
        )));
    }
    if matched.len() < skus.len() && issues.is_empty() {
        let absent: Vec<&str> =
            skus.iter().filter(|s| !on_channel.contains_key(*s)).map(String::as_str).collect();
        issues.push(issue(
            matched[0],
            "partial",
            format!(
                "only some of the product's SKUs are on the channel; missing there: {}",
                absent.join(", ")
            ),
        ));
    }
    if !issues.is_empty() {
        return Ok(Decision::Hold(issues));
    }
    let first = &on_channel[matched[0]][0];
    Ok(Decision::Link {
        listing_id: first.listing_id.clone(),
        sku_ids: matched.iter().map(|s| ((*s).clone(), on_channel[*s][0].sku_id.clone())).collect(),
        status: first.status.clone(),
    })
}
