//! Creating a channel order in the store, exactly once: the schema keeps one row per
//! (channel, channel order id); the store's create carries an idempotency key and a source
//! identifier; and a create whose answer was never recorded (a crash, a lost response) is
//! followed by a lookup at the store by source identifier before any new create.

use super::failure::{Side, settle_for};
use super::settings::OrderSettings;
use crate::db::orders::{ClaimedOrder, Failure, OrderSettle, OrderState};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{ChannelOrder, NewOrder, NewOrderLine, StoreOrder};
use crate::model::{Currency, Money};
use crate::rules::OrderOutcome;
use crate::rules::product_rule::ChannelFacts;
use rust_decimal::Decimal;

/// The identifier the store keeps for a channel order: unique per channel and order.
pub fn source_identifier(channel: &ChannelRuntime, order_id: &str) -> String {
    format!("crossdock:{}:{}:{order_id}", channel.row.plugin_id, channel.row.id)
}

/// Finds the store order made for this channel order, or creates it.
pub async fn ensure_store_order(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
) -> Result<StoreOrder, OrderSettle> {
    let db = &engine.app.db;
    let order = &claim.row.order;
    let source = source_identifier(channel, &order.id);
    let attempts = claim.row.attempts;
    let store = &engine.store_connector;
    if claim.row.create_started_at.is_some() {
        // A create was started and its answer not recorded: the store may have the order.
        match store.find_order(&source).await {
            Ok(Some(found)) => {
                tracing::info!(order = %order.id, store_order = %found.id, "found the order a lost create made");
                return Ok(found);
            }
            Ok(None) => {}
            Err(e) => return Err(settle_for(&e, Side::Store, attempts, "looking the order up in the store")),
        }
    }
    let new_order = build_new_order(engine, channel, settings, order, &source, claim.row.released).await?;
    match db.mark_store_create_started(claim).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(OrderSettle::Retry {
                after: std::time::Duration::from_millis(100),
                failure: Failure::new("lease_lost", "another worker took the order over", "nothing to do"),
            });
        }
        Err(e) => return Err(db_failure(e)),
    }
    store
        .create_order(&new_order)
        .await
        .map_err(|e| settle_for(&e, Side::Store, attempts, "creating the store order"))
}

pub(crate) fn db_failure(e: crate::db::DbError) -> OrderSettle {
    OrderSettle::Retry {
        after: std::time::Duration::from_secs(1),
        failure: Failure::new("database", e.to_string(), "nothing to do: Crossdock retries"),
    }
}

/// The store order for a channel order: lines mapped by SKU to store variants, amounts in the
/// store's currency.
async fn build_new_order(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    order: &ChannelOrder,
    source: &str,
    released: bool,
) -> Result<NewOrder, OrderSettle> {
    let db = &engine.app.db;
    let convert = Converter::for_channel(engine, channel, order)?;
    let mut lines = Vec::new();
    for line in &order.lines {
        let variants =
            db.store_variants_with_sku(engine.store.id, &line.seller_sku).await.map_err(db_failure)?;
        let live: Vec<_> = variants.iter().filter(|v| !v.deleted).collect();
        let variant = match live.as_slice() {
            [one] => *one,
            [] if variants.iter().any(|v| v.deleted) => {
                return Err(OrderSettle::Failed(Failure::new(
                    "variant_deleted",
                    format!(
                        "order {} line {}: SKU {} belongs to a product deleted in the store",
                        order.id, line.id, line.seller_sku
                    ),
                    "restore the product in the store (or give another variant this SKU), then retry the order",
                )));
            }
            [] => {
                return Err(OrderSettle::Failed(Failure::new(
                    "unlinked_sku",
                    format!(
                        "order {} line {}: no store variant has SKU {} ({})",
                        order.id, line.id, line.seller_sku, line.title
                    ),
                    "give the store variant this SKU (or correct the SKU on the channel), then retry the order",
                )));
            }
            many => {
                return Err(OrderSettle::Failed(Failure::new(
                    "ambiguous_sku",
                    format!(
                        "order {} line {}: {} store variants share SKU {} ({})",
                        order.id,
                        line.id,
                        many.len(),
                        line.seller_sku,
                        many.iter().map(|v| v.product_title.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    "make the SKU unique in the store, then retry the order",
                )));
            }
        };
        let discount = line.seller_discount.amount + line.platform_discount.amount;
        lines.push(NewOrderLine {
            variant_id: variant.variant_id.clone(),
            sku: line.seller_sku.clone(),
            title: line.title.clone(),
            quantity: line.quantity,
            unit_price: convert.money(line.unit_price.amount),
            discount: convert.money(discount),
            source_line_id: line.id.clone(),
        });
    }
    let totals = &order.totals;
    let mut tags = vec![channel.row.plugin_id.clone()];
    if settings.order.tag_with_shop_name {
        tags.push(channel.row.name.clone());
    }
    let note = order.buyer_message.as_ref().map(|m| format!("Buyer's message: {m}"));
    let (tags, note) = apply_order_rule(engine, channel, order, tags, note, released)?;
    let mut attributes = vec![
        ("channel".to_string(), channel.row.name.clone()),
        ("channel order id".to_string(), order.id.clone()),
        ("buyer paid".to_string(), totals.buyer_paid.to_string()),
        ("seller discount".to_string(), totals.seller_discount.to_string()),
        ("platform discount".to_string(), totals.platform_discount.to_string()),
    ];
    if convert.rate != Decimal::ONE {
        attributes.push(("exchange rate".to_string(), convert.rate.to_string()));
    }
    Ok(NewOrder {
        source_identifier: source.to_string(),
        source_name: format!("TikTok Shop — {}", channel.row.name),
        idempotency_key: format!("{source}:create"),
        lines,
        shipping: convert.money(totals.shipping.amount),
        tax: convert.money(totals.tax.amount),
        buyer_paid: convert.money(totals.buyer_paid.amount),
        platform_discount: convert.money(totals.platform_discount.amount),
        shipping_address: order.shipping_address.clone(),
        email: order.buyer_email.clone(),
        note,
        tags,
        attributes,
        decrement_stock: settings.order.decrement_stock,
    })
}

/// Runs the channel's order rule: the tags and note the store order carries, or why the
/// order stops (held, skipped, or the rule failed).
fn apply_order_rule(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    order: &ChannelOrder,
    tags: Vec<String>,
    note: Option<String>,
    released: bool,
) -> Result<(Vec<String>, Option<String>), OrderSettle> {
    let rule = match channel.order_rule.as_ref() {
        Ok(rule) => rule,
        Err(reason) => {
            return Err(OrderSettle::Failed(Failure::new(
                "rule_error",
                format!("order {}: {reason}", order.id),
                "fix the channel's order rule and save it, then retry the order",
            )));
        }
    };
    let facts = ChannelFacts {
        name: channel.row.name.clone(),
        currency: channel.row.currency.as_ref().map(|c| c.to_string()).unwrap_or_default(),
        region: channel.row.region.clone(),
    };
    match rule.apply(&engine.app.rules, order, &facts, &tags, note.as_deref()) {
        Ok(OrderOutcome::Keep { tags, note }) => Ok((tags, note)),
        Ok(OrderOutcome::Skip(reason)) => Err(OrderSettle::Stopped(
            OrderState::Skipped,
            Failure::new(
                "skipped_by_rule",
                format!("order {}: {reason}", order.id),
                "change the order rule to import such orders, then retry the order",
            ),
        )),
        Ok(OrderOutcome::Hold(_)) if released => Ok((tags, note)),
        Ok(OrderOutcome::Hold(reason)) => Err(OrderSettle::Stopped(
            OrderState::Held,
            Failure::new(
                "held_by_rule",
                format!("order {}: {reason}", order.id),
                "check the order, then release it (POST /api/orders/{id}/release) to import it as it is",
            ),
        )),
        Err(e) => Err(OrderSettle::Failed(Failure::new(
            "rule_error",
            e.to_string(),
            "fix the channel's order rule and save it, then retry the order",
        ))),
    }
}

/// Amounts from the order's currency to the store's, at the channel's exchange rate (channel
/// currency per unit of store currency).
struct Converter {
    currency: Currency,
    rate: Decimal,
}

impl Converter {
    fn for_channel(
        engine: &SyncEngine,
        channel: &ChannelRuntime,
        order: &ChannelOrder,
    ) -> Result<Self, OrderSettle> {
        let order_currency = order.totals.buyer_paid.currency.clone();
        let Some(store_currency) = engine.store.currency.clone() else {
            return Err(OrderSettle::Failed(Failure::new(
                "currency_mismatch",
                "the store's currency is unknown",
                "reconnect the store so Crossdock reads its currency, then retry the order",
            )));
        };
        if order_currency == store_currency {
            return Ok(Converter { currency: store_currency, rate: Decimal::ONE });
        }
        let channel_currency = channel.row.currency.clone();
        match (channel_currency, channel.row.exchange_rate) {
            (Some(c), Some(rate)) if c == order_currency && rate > Decimal::ZERO => {
                Ok(Converter { currency: store_currency, rate })
            }
            _ => Err(OrderSettle::Failed(Failure::new(
                "currency_mismatch",
                format!(
                    "order {} is in {order_currency}, the store sells in {store_currency}, and channel {} has no \
                     exchange rate for {order_currency}",
                    order.id, channel.row.name
                ),
                format!(
                    "set the channel's exchange rate ({order_currency} per {store_currency}), then retry the order"
                ),
            ))),
        }
    }

    fn money(&self, amount: Decimal) -> Money {
        Money::new((amount / self.rate).round_dp(2), self.currency.clone())
    }
}
