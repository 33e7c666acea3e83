//! One compiled rule: a Rhai script of a known kind and version, compiled once (errors with
//! line and column) and evaluated per record with the engine's limits and deadline.

use super::engine::RuleEngine;
use super::error::RuleError;
use rhai::{AST, Dynamic, Scope};
use sha2::{Digest, Sha256};

/// What a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// Which products a channel carries, and their title/description/tags there.
    Product,
    /// A variant's price on a channel.
    Price,
    /// The channel category when no hand mapping or template decides.
    Category,
    /// Whether a channel order comes into the store (or is held or skipped), and its tags and
    /// note there.
    Order,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Product => "product",
            RuleKind::Price => "price",
            RuleKind::Category => "category",
            RuleKind::Order => "order",
        }
    }

    /// Variables in scope for this kind: scripts are compiled against them, so a typo in a
    /// name is a compile error, not a surprise at run time.
    pub(crate) fn variables(self) -> &'static [&'static str] {
        match self {
            RuleKind::Product | RuleKind::Category => &["product", "channel"],
            RuleKind::Order => &["order", "channel"],
            RuleKind::Price => {
                &["price", "compare_at", "rate", "currency", "store_currency", "sku", "product", "channel"]
            }
        }
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub kind: RuleKind,
    /// Names the rule in errors: `channel 2 price rule v3`.
    pub label: String,
    pub version: i64,
    /// `sha256:<hex>` of the source.
    pub hash: String,
    ast: AST,
}

impl CompiledRule {
    pub fn compile(
        engine: &RuleEngine,
        kind: RuleKind,
        label: &str,
        version: i64,
        source: &str,
    ) -> Result<Self, RuleError> {
        let mut template = Scope::new();
        for name in kind.variables() {
            template.push_dynamic(*name, Dynamic::UNIT);
        }
        let mut ast = engine
            .engine()
            .compile_with_scope(&template, source)
            .map_err(|e| RuleError::from_parse(label, &e))?;
        ast.set_source(label);
        Ok(CompiledRule { kind, label: label.to_string(), version, hash: source_hash(source), ast })
    }

    /// Evaluates the script with `scope`; `record` names what is being evaluated.
    pub(crate) fn eval(
        &self,
        engine: &RuleEngine,
        scope: &mut Scope,
        record: &str,
    ) -> Result<Dynamic, RuleError> {
        engine
            .with_deadline(|e| e.eval_ast_with_scope::<Dynamic>(scope, &self.ast))
            .map_err(|e| RuleError::from_eval(&self.label, record, &e))
    }
}

/// `sha256:<hex>` of a rule's source.
pub fn source_hash(source: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(source.as_bytes())))
}
