//! Merchant rules written in Rhai: compiled once per version, evaluated per record under
//! hard limits, each verdict explainable. `engine` builds the one sandboxed engine;
//! `script` compiles and runs a rule; `product_rule` and `price_rule` are the two kinds a
//! channel carries today.

pub mod category_rule;
pub mod engine;
pub mod error;
pub mod order_rule;
pub mod price_rule;
pub mod product_rule;
pub mod script;
pub mod verdict;

pub use category_rule::{CategoryOutcome, CategoryRule};
pub use engine::RuleEngine;
pub use error::RuleError;
pub use order_rule::{OrderOutcome, OrderRule};
pub use price_rule::{PriceInput, PriceOutcome, PriceRule};
pub use product_rule::{ProductOutcome, ProductRule};
pub use script::{CompiledRule, RuleKind};
pub use verdict::Verdict;

/// The product rule a new channel starts with.
pub const DEFAULT_PRODUCT_RULE: &str = include_str!("../../rules/product-default.rhai");
/// The price rule a new channel starts with.
pub const DEFAULT_PRICE_RULE: &str = include_str!("../../rules/price-default.rhai");

/// Compiles `source` as a rule of `kind`, reporting errors with line and column; used
/// wherever a rule is checked before it is saved.
pub fn check(engine: &RuleEngine, kind: RuleKind, label: &str, source: &str) -> Result<(), RuleError> {
    match kind {
        RuleKind::Product => ProductRule::compile(engine, label, 0, source).map(drop),
        RuleKind::Price => PriceRule::compile(engine, label, 0, source).map(drop),
        RuleKind::Category => CategoryRule::compile(engine, label, 0, source).map(drop),
        RuleKind::Order => OrderRule::compile(engine, label, 0, source).map(drop),
    }
}

#[cfg(test)]
mod tests;
