//! A store product becomes one channel's listing draft: the channel's product rule decides
//! whether it crosses (and its title, description, tags), the price rule prices each
//! variant in the channel's currency. Two hashes tell what changed since the last push:
//! the content (needs the channel's review) and the offer (prices and stock, no review).

use super::category::{CategoryMapper, Placement, PlacementOutcome};
use crate::connectors::{ListingDraft, ListingSku};
use crate::db::placement::HandCategory;
use crate::model::{ChannelId, Currency, Product};
use crate::rules::product_rule::ChannelFacts;
use crate::rules::{PriceInput, PriceOutcome, PriceRule, ProductOutcome, ProductRule, RuleEngine, RuleError};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// The channel-side inputs a draft needs.
#[derive(Debug, Clone)]
pub struct ChannelRules {
    pub channel_id: ChannelId,
    pub facts: ChannelFacts,
    pub currency: Currency,
    /// Channel currency per unit of store currency (1 when they match).
    pub rate: Decimal,
    pub product_rule: ProductRule,
    pub price_rule: PriceRule,
    pub categories: CategoryMapper,
    pub stock: StockPolicy,
}

/// How much of the store's stock a channel offers: its share of what is left after its
/// buffer, relative to the shares of all the organization's channels. Rounded down, so the
/// channels together never offer more than the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockPolicy {
    /// Units never offered on this channel.
    pub buffer: i64,
    /// This channel's share.
    pub share: i64,
    /// The shares of all the organization's channels added up.
    pub total_shares: i64,
}

impl Default for StockPolicy {
    fn default() -> Self {
        StockPolicy { buffer: 0, share: 1, total_shares: 1 }
    }
}

impl StockPolicy {
    pub fn allocate(&self, store_stock: i64) -> i64 {
        if self.total_shares <= 0 || self.share <= 0 {
            return 0;
        }
        // In i128: a large stock times a large share cannot overflow, and the quotient is at
        // most `available`, so it fits back in i64.
        let available = i128::from(store_stock.saturating_sub(self.buffer).max(0));
        let share = i128::from(self.share.min(self.total_shares));
        i64::try_from(available * share / i128::from(self.total_shares)).unwrap_or(i64::MAX)
    }
}

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

#[cfg(test)]
mod tests {
    use super::StockPolicy;

    #[test]
    fn shares_round_down_so_channels_never_oversell_together() {
        let half = StockPolicy { buffer: 1, share: 1, total_shares: 2 };
        assert_eq!(half.allocate(10), 4);
        assert_eq!(half.allocate(0), 0);
        assert_eq!(half.allocate(-3), 0);
        let third = StockPolicy { buffer: 0, share: 1, total_shares: 3 };
        assert!(third.allocate(10) * 3 <= 10);
        assert_eq!(
            StockPolicy { buffer: 0, share: 1, total_shares: 1 }.allocate(7),
            7,
            "a lone channel gets it all"
        );
        assert_eq!(StockPolicy { buffer: 0, share: 0, total_shares: 3 }.allocate(7), 0);
        let huge = StockPolicy { buffer: 0, share: i64::MAX - 1, total_shares: i64::MAX };
        assert_eq!(huge.allocate(i64::MAX), i64::MAX - 1, "no overflow, still rounded down");
        assert_eq!(StockPolicy { buffer: i64::MAX, share: 1, total_shares: 1 }.allocate(i64::MIN), 0);
    }
}
