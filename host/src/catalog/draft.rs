//! A store product becomes one channel's listing draft: the channel's product rule decides
//! whether it crosses (and its title, description, tags), the price rule prices each
//! variant in the channel's currency. Two hashes tell what changed since the last push:
//! the content (needs the channel's review) and the offer (prices and stock, no review).

use crate::channel_rules::ChannelRules;
use crate::channel_rules::category::{Placement, PlacementOutcome};
use crate::connectors::{ListingDraft, ListingSku};
use crate::db::placement::HandCategory;
use crate::model::Product;
use crate::rules::{PriceInput, PriceOutcome, ProductOutcome, RuleEngine, RuleError};
use sha2::{Digest, Sha256};

/// What the rules made of a product for one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftOutcome {
    List(Box<Draft>),
    Skip(String),
    Hold(String),
    /// No category could be found; the reason says how to give it one.
    Unplaced(String),
}

/// A listing draft with its hashes and the rule versions that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub listing: ListingDraft,
    pub content_hash: String,
    pub offer_hash: String,
    /// `product rule v1, price rule v2, category from template product_type=Tents`.
    pub explanation: String,
    pub placement: Placement,
}

/// Runs the channel's rules over one product.
pub fn build_draft(
    engine: &RuleEngine,
    rules: &ChannelRules,
    product: &Product,
    by_hand: Option<HandCategory>,
) -> Result<DraftOutcome, RuleError> {
    let kept = match rules.product_rule.apply(engine, product, &rules.facts)? {
        ProductOutcome::Keep(p) => p,
        ProductOutcome::Skip(reason) => return Ok(DraftOutcome::Skip(reason)),
        ProductOutcome::Hold(reason) => return Ok(DraftOutcome::Hold(reason)),
    };
    let placement = match rules.categories.place(engine, &kept, &rules.facts, by_hand)? {
        PlacementOutcome::Placed(p) => p,
        PlacementOutcome::Skip(reason) => return Ok(DraftOutcome::Skip(reason)),
        PlacementOutcome::Unmapped => {
            return Ok(DraftOutcome::Unplaced(format!(
                "no channel category for this product: map it by hand, add a category template for \
                 its product type{}, or set the channel's default category",
                kept.product_type.as_deref().map(|t| format!(" `{t}`")).unwrap_or_default()
            )));
        }
    };
    let mut skus = Vec::with_capacity(kept.variants.len());
    let mut skipped = Vec::new();
    for variant in &kept.variants {
        let input = PriceInput {
            product: &kept,
            variant,
            rate: rules.rate,
            channel: &rules.facts,
            channel_currency: &rules.currency,
        };
        match rules.price_rule.apply(engine, input)? {
            PriceOutcome::Price { price, compare_at } => skus.push(ListingSku {
                seller_sku: variant.sku.clone(),
                price,
                compare_at_price: compare_at,
                stock: rules.stock.allocate(variant.stock),
                options: variant.options.clone(),
                barcode: variant.barcode.clone(),
                image: variant.image.clone(),
            }),
            PriceOutcome::Skip(reason) => skipped.push(format!("{}: {reason}", variant.sku)),
        }
    }
    if skus.is_empty() {
        return Ok(DraftOutcome::Skip(format!(
            "the price rule skipped every variant ({})",
            skipped.join("; ")
        )));
    }
    let mut listing = ListingDraft {
        external_id: kept.external_id.clone(),
        title: kept.title.clone(),
        description_html: kept.description_html.clone(),
        category_id: Some(placement.category_id.clone()),
        brand: kept.vendor.clone(),
        images: kept.images.clone(),
        weight_grams: kept.variants.iter().find_map(|v| v.weight_grams),
        skus,
        attributes: placement.attributes.clone(),
        idempotency_key: String::new(),
    };
    let content_hash = content_hash(&listing);
    let offer_hash = offer_hash(&listing);
    listing.idempotency_key = format!("crossdock-{}-{}", rules.channel_id, &content_hash[7..39]);
    Ok(DraftOutcome::List(Box::new(Draft {
        listing,
        content_hash,
        offer_hash,
        explanation: format!(
            "product rule v{}, price rule v{}, category {} ({})",
            rules.product_rule.0.version, rules.price_rule.0.version, placement.category_id, placement.source
        ),
        placement,
    })))
}

fn sha(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// Everything the channel reviews: title, description, category, images, the SKU set.
fn content_hash(d: &ListingDraft) -> String {
    let mut parts: Vec<String> = vec![
        d.external_id.clone(),
        d.title.clone(),
        d.description_html.clone(),
        d.category_id.clone().unwrap_or_default(),
        d.brand.clone().unwrap_or_default(),
        d.weight_grams.map(|w| w.to_string()).unwrap_or_default(),
    ];
    parts.extend(d.images.iter().map(|i| i.url.clone()));
    for a in &d.attributes {
        parts.push(format!("{}={}|{}", a.attribute_id, a.option_ids.join(","), a.custom_values.join(",")));
    }
    for s in &d.skus {
        parts.push(s.seller_sku.clone());
        parts.extend(s.options.iter().map(|(n, v)| format!("{n}={v}")));
        parts.push(s.barcode.clone().unwrap_or_default());
        parts.push(s.image.as_ref().map(|i| i.url.clone()).unwrap_or_default());
    }
    sha(&parts.iter().map(String::as_str).collect::<Vec<_>>())
}

/// What changes without review: prices and stock.
fn offer_hash(d: &ListingDraft) -> String {
    let parts: Vec<String> = d
        .skus
        .iter()
        .map(|s| {
            format!(
                "{}|{}|{}|{}",
                s.seller_sku,
                s.price,
                s.compare_at_price.as_ref().map(|m| m.to_string()).unwrap_or_default(),
                s.stock
            )
        })
        .collect();
    sha(&parts.iter().map(String::as_str).collect::<Vec<_>>())
}
