//! The category rule: the fallback that places a product in a channel category when
//! neither a hand mapping nor a category template does. It sees `product` and `channel`
//! and returns a category id, `#{ category: "id", attributes: #{ "<attribute id>": "value" } }`,
//! `()` for "no idea", or `skip(reason)`.

use super::engine::RuleEngine;
use super::error::RuleError;
use super::product_rule::{ChannelFacts, product_map};
use super::script::{CompiledRule, RuleKind};
use super::verdict::Verdict;
use crate::model::{AttributeValue, Product};
use rhai::{Dynamic, Map, Scope};

/// What the category rule decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryOutcome {
    Category { id: String, attributes: Vec<AttributeValue> },
    Undecided,
    Skip(String),
}

/// A compiled category rule.
#[derive(Debug, Clone)]
pub struct CategoryRule(pub CompiledRule);

impl CategoryRule {
    pub fn compile(engine: &RuleEngine, label: &str, version: i64, source: &str) -> Result<Self, RuleError> {
        CompiledRule::compile(engine, RuleKind::Category, label, version, source).map(CategoryRule)
    }

    pub fn apply(
        &self,
        engine: &RuleEngine,
        product: &Product,
        channel: &ChannelFacts,
    ) -> Result<CategoryOutcome, RuleError> {
        let record = format!("product {} ({})", product.external_id, product.title);
        let mut scope = Scope::new();
        scope.push_dynamic("product", product_map(product));
        scope.push_dynamic("channel", channel.to_dynamic());
        let result = self.0.eval(engine, &mut scope, &record)?;
        let fail = |m: String| RuleError::result(&self.0.label, &record, m);
        if result.is_unit() {
            return Ok(CategoryOutcome::Undecided);
        }
        if let Some(verdict) = result.clone().try_cast::<Verdict>() {
            return match verdict {
                Verdict::Skip(reason) | Verdict::Hold(reason) => Ok(CategoryOutcome::Skip(reason)),
                Verdict::Keep => Ok(CategoryOutcome::Undecided),
            };
        }
        if result.is_string() {
            let id = result.into_string().map_err(|t| fail(format!("unexpected {t}")))?;
            return Ok(CategoryOutcome::Category { id, attributes: Vec::new() });
        }
        if let Some(map) = result.clone().try_cast::<Map>() {
            let id = map
                .get("category")
                .and_then(|d| d.clone().into_string().ok())
                .ok_or_else(|| fail("the returned map needs a string `category`".into()))?;
            let attributes = match map.get("attributes") {
                None => Vec::new(),
                Some(d) => attribute_values(d).map_err(fail)?,
            };
            return Ok(CategoryOutcome::Category { id, attributes });
        }
        Err(fail(format!(
            "a category rule returns a category id, #{{category, attributes}}, () or skip(reason); it returned {}",
            result.type_name()
        )))
    }
}

/// `#{ "100001": "Cotton", "100002": ["a", "b"] }` → custom attribute values.
fn attribute_values(d: &Dynamic) -> Result<Vec<AttributeValue>, String> {
    let map = d.clone().try_cast::<Map>().ok_or("`attributes` must be a map of attribute id to value")?;
    map.into_iter()
        .map(|(id, value)| {
            let values = if value.is_array() {
                value.into_array().map_err(|t| t.to_string())?.into_iter().map(|v| v.to_string()).collect()
            } else {
                vec![value.to_string()]
            };
            Ok(AttributeValue { attribute_id: id.to_string(), option_ids: Vec::new(), custom_values: values })
        })
        .collect()
}
