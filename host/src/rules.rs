//! Merchant rules written in Rhai: compiled once per version, evaluated per record under
//! hard limits, each verdict explainable. `engine` builds the one sandboxed engine;
//! `script` compiles and runs a rule; `product_rule` and `price_rule` are the two kinds a
//! channel carries today.

pub mod engine;
pub mod error;
pub mod price_rule;
pub mod product_rule;
pub mod script;
pub mod verdict;

pub use engine::RuleEngine;
pub use error::RuleError;
pub use price_rule::{PriceInput, PriceOutcome, PriceRule};
pub use product_rule::{ProductOutcome, ProductRule};
pub use script::{CompiledRule, RuleKind};
pub use verdict::Verdict;

/// The product rule a new channel starts with.
pub const DEFAULT_PRODUCT_RULE: &str = include_str!("../../rules/product-default.rhai");
/// The price rule a new channel starts with.
pub const DEFAULT_PRICE_RULE: &str = include_str!("../../rules/price-default.rhai");

#[cfg(test)]
mod tests;
