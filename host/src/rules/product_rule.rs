//! The product rule: does this channel carry the product, and with which title,
//! description and tags. The script sees `product` and `channel` and ends with a verdict.

use super::engine::RuleEngine;
use super::error::RuleError;
use super::script::{CompiledRule, RuleKind};
use super::verdict::Verdict;
use crate::model::{Product, Variant};
use rhai::{Array, Dynamic, Map, Scope};

/// What a rule sees of the channel it runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFacts {
    pub name: String,
    pub currency: String,
    pub region: Option<String>,
}

impl ChannelFacts {
    pub(crate) fn to_dynamic(&self) -> Dynamic {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert("currency".into(), self.currency.clone().into());
        m.insert("region".into(), self.region.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT));
        m.into()
    }
}

/// The decision about one product on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductOutcome {
    /// List it, with the rule's changes applied.
    Keep(Box<Product>),
    Skip(String),
    Hold(String),
}

/// A compiled product rule.
#[derive(Debug, Clone)]
pub struct ProductRule(pub CompiledRule);

impl ProductRule {
    pub fn compile(engine: &RuleEngine, label: &str, version: i64, source: &str) -> Result<Self, RuleError> {
        CompiledRule::compile(engine, RuleKind::Product, label, version, source).map(ProductRule)
    }

    pub fn apply(
        &self,
        engine: &RuleEngine,
        product: &Product,
        channel: &ChannelFacts,
    ) -> Result<ProductOutcome, RuleError> {
        let record = format!("product {} ({})", product.external_id, product.title);
        let mut scope = Scope::new();
        scope.push("product", product_map(product));
        scope.push("channel", channel.to_dynamic());
        let result = self.0.eval(engine, &mut scope, &record)?;
        let verdict = result.try_cast::<Verdict>().ok_or_else(|| {
            RuleError::result(
                &self.0.label,
                &record,
                "a product rule must end with keep(), skip(reason) or hold(reason)".into(),
            )
        })?;
        match verdict {
            Verdict::Skip(reason) => Ok(ProductOutcome::Skip(reason)),
            Verdict::Hold(reason) => Ok(ProductOutcome::Hold(reason)),
            Verdict::Keep => {
                let changed = scope.get_value::<Map>("product").ok_or_else(|| {
                    RuleError::result(&self.0.label, &record, "`product` must stay a map".into())
                })?;
                read_back(product, &changed)
                    .map(|p| ProductOutcome::Keep(Box::new(p)))
                    .map_err(|m| RuleError::result(&self.0.label, &record, m))
            }
        }
    }
}

/// The product as a script sees it. Money is decimal; absent values are `()`.
pub(crate) fn product_map(p: &Product) -> Dynamic {
    let mut m = Map::new();
    m.insert("id".into(), p.external_id.clone().into());
    m.insert("title".into(), p.title.clone().into());
    m.insert("description".into(), p.description_html.clone().into());
    m.insert("vendor".into(), opt(&p.vendor));
    m.insert("product_type".into(), opt(&p.product_type));
    m.insert("tags".into(), p.tags.iter().cloned().map(Dynamic::from).collect::<Array>().into());
    m.insert("status".into(), p.status.as_str().into());
    m.insert(
        "images".into(),
        p.images.iter().map(|i| Dynamic::from(i.url.clone())).collect::<Array>().into(),
    );
    m.insert("variants".into(), p.variants.iter().map(variant_map).collect::<Array>().into());
    m.into()
}

pub(crate) fn variant_map(v: &Variant) -> Dynamic {
    let mut m = Map::new();
    m.insert("sku".into(), v.sku.clone().into());
    m.insert("title".into(), v.title.clone().into());
    m.insert("price".into(), Dynamic::from_decimal(v.price.amount));
    m.insert(
        "compare_at".into(),
        v.compare_at_price.as_ref().map(|c| Dynamic::from_decimal(c.amount)).unwrap_or(Dynamic::UNIT),
    );
    m.insert("stock".into(), v.stock.into());
    let mut options = Map::new();
    for (name, value) in &v.options {
        options.insert(name.as_str().into(), value.clone().into());
    }
    m.insert("options".into(), options.into());
    m.into()
}

fn opt(v: &Option<String>) -> Dynamic {
    v.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT)
}

/// Applies the fields a product rule may change: title, description, tags.
fn read_back(original: &Product, m: &Map) -> Result<Product, String> {
    let mut p = original.clone();
    if let Some(title) = m.get("title") {
        p.title =
            title.clone().into_string().map_err(|t| format!("product.title must be a string, not {t}"))?;
        if p.title.trim().is_empty() {
            return Err("product.title became empty".into());
        }
    }
    if let Some(description) = m.get("description") {
        p.description_html = description
            .clone()
            .into_string()
            .map_err(|t| format!("product.description must be a string, not {t}"))?;
    }
    if let Some(tags) = m.get("tags") {
        let tags =
            tags.clone().into_array().map_err(|t| format!("product.tags must be an array, not {t}"))?;
        p.tags = tags
            .into_iter()
            .map(|t| t.into_string().map_err(|t| format!("product.tags must hold strings, not {t}")))
            .collect::<Result<_, _>>()?;
    }
    Ok(p)
}
