//! A channel's merchant rules, compiled: the product and price rules, category mapping
//! (hand mappings, templates, the category rule, the default category), the exchange rate,
//! the stock policy and the order rule. Loaded from state for every run, so a saved rule,
//! rate, option or template is what the next run works from.

pub mod category;

use crate::app::App;
use crate::db::DbError;
use crate::db::orgs::{ChannelRow, StoreRow};
use crate::model::{ChannelId, Currency};
use crate::rules::product_rule::ChannelFacts;
use crate::rules::{CategoryRule, OrderRule, PriceRule, ProductRule, RuleError, RuleKind};
use category::CategoryMapper;
use rust_decimal::Decimal;

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

/// The channel's active order rule (the default when none was saved), or why it does not
/// compile.
pub(crate) async fn order_rule(app: &App, row: &ChannelRow) -> Result<Result<OrderRule, String>, DbError> {
    let (version, source) = match app.db.active_rule(row.id, RuleKind::Order).await? {
        Some(rule) => (rule.version, rule.source),
        None => (0, crate::rules::order_rule::DEFAULT_ORDER_RULE.to_string()),
    };
    let label = format!("channel {} order rule v{version}", row.id);
    Ok(OrderRule::compile(&app.rules, &label, version, &source)
        .map_err(|e| format!("{e}; fix the order rule and save it again")))
}

/// The channel's compiled rules and exchange rate, or why it cannot sync.
pub(crate) async fn channel_rules(
    app: &App,
    store: &StoreRow,
    row: &ChannelRow,
    total_shares: i64,
) -> Result<Result<ChannelRules, String>, DbError> {
    let Some(currency) = row.currency.clone() else {
        return Ok(Err(format!("channel {} ({}) has no currency yet; reconnect it", row.id, row.name)));
    };
    let store_currency: Option<&Currency> = store.currency.as_ref();
    let rate = match (store_currency, row.exchange_rate) {
        (Some(s), _) if *s == currency => row.exchange_rate.unwrap_or(Decimal::ONE),
        (_, Some(rate)) => rate,
        (Some(s), None) => {
            return Ok(Err(format!(
                "channel {} ({}) sells in {currency} but the store in {s}: set an exchange rate \
                 (`crossdock channel rate {} <{currency} per {s}>`) before anything is listed",
                row.id, row.name, row.id
            )));
        }
        (None, None) => {
            return Ok(Err("the store's currency is unknown; reconnect the store".into()));
        }
    };
    let facts =
        ChannelFacts { name: row.name.clone(), currency: currency.to_string(), region: row.region.clone() };
    let source_of = |kind: RuleKind| async move {
        let stored = app.db.active_rule(row.id, kind).await?;
        Ok::<_, DbError>(stored.map(|r| (r.version, r.source)))
    };
    let (pv, product_source) =
        source_of(RuleKind::Product).await?.unwrap_or((0, crate::rules::DEFAULT_PRODUCT_RULE.to_string()));
    let (qv, price_source) =
        source_of(RuleKind::Price).await?.unwrap_or((0, crate::rules::DEFAULT_PRICE_RULE.to_string()));
    let category_source = source_of(RuleKind::Category).await?;
    let label = |kind: &str, v: i64| format!("channel {} {kind} rule v{v}", row.id);
    let compiled: Result<(ProductRule, PriceRule, Option<CategoryRule>), RuleError> = (|| {
        Ok((
            ProductRule::compile(&app.rules, &label("product", pv), pv, &product_source)?,
            PriceRule::compile(&app.rules, &label("price", qv), qv, &price_source)?,
            category_source
                .map(|(v, source)| CategoryRule::compile(&app.rules, &label("category", v), v, &source))
                .transpose()?,
        ))
    })();
    let templates = app.db.templates(row.id).await?;
    Ok(match compiled {
        Ok((product_rule, price_rule, category_rule)) => Ok(ChannelRules {
            channel_id: row.id,
            facts,
            currency,
            rate,
            product_rule,
            price_rule,
            categories: CategoryMapper {
                templates,
                rule: category_rule,
                default_category: row.settings.settings.get("category-id").cloned(),
            },
            stock: StockPolicy {
                buffer: row.options.stock_buffer,
                share: row.options.stock_share,
                total_shares,
            },
        }),
        Err(e) => Err(format!("{e}; fix the rule and save it again")),
    })
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
