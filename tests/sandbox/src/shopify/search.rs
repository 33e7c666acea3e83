//! The subset of Shopify's search syntax (`query:` argument) the sandbox understands:
//! `field:value`, comparisons `field:>value` / `:>=` / `:<` / `:<=`, quoted values, `-field:…`
//! negation, implicit `AND`, and `OR` between groups; bare words search titles (orders: names).
//! Fields a resource does not filter on are ignored, as Shopify ignores them (it adds a warning
//! we skip).

use super::data::{ProductRecord, VariantRecord};
use super::orders::{DisplayFulfillmentStatus, OrderRecord};
use super::timestamp;
use crate::catalog::ProductStatus;
use std::cmp::Ordering;

/// A parsed query: groups joined by `OR`, each a list of terms that must all match.
#[derive(Debug, Clone, Default)]
pub struct Search {
    groups: Vec<Vec<Term>>,
}

#[derive(Debug, Clone)]
struct Term {
    negated: bool,
    field: Option<String>,
    op: Op,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Search {
    /// Parses a query string; an empty or absent query matches everything.
    pub fn parse(query: Option<&str>) -> Search {
        let mut groups = vec![Vec::new()];
        for token in tokens(query.unwrap_or("")) {
            match token.as_str() {
                "AND" => {}
                "OR" => groups.push(Vec::new()),
                _ => {
                    if let Some(term) = Term::parse(&token)
                        && let Some(group) = groups.last_mut()
                    {
                        group.push(term);
                    }
                }
            }
        }
        groups.retain(|g| !g.is_empty());
        Search { groups }
    }

    pub fn matches_product(&self, product: &ProductRecord) -> bool {
        self.matches(|term| term.matches(product, None))
    }

    pub fn matches_variant(&self, product: &ProductRecord, variant: &VariantRecord) -> bool {
        self.matches(|term| term.matches(product, Some(variant)))
    }

    /// Order fields: `source_identifier`, `source_name`, `name`, `id`, `email`, `tag`,
    /// `status` (`open`, `closed`, `cancelled`, `any`), `financial_status`,
    /// `fulfillment_status` (`shipped`, `partial`, `unshipped`, `unfulfilled`), `sku`,
    /// `created_at`, `updated_at`, `processed_at`.
    pub fn matches_order(&self, order: &OrderRecord) -> bool {
        self.matches(|term| term.negated != term.matches_order(order))
    }

    fn matches(&self, test: impl Fn(&Term) -> bool) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|group| group.iter().all(&test))
    }
}

/// Splits on whitespace, keeping quoted runs together and dropping the quotes.
fn tokens(query: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

impl Term {
    fn parse(token: &str) -> Option<Term> {
        let (negated, token) = match token.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest),
            _ => (false, token),
        };
        let Some((field, rest)) = token.split_once(':') else {
            return Some(Term { negated, field: None, op: Op::Eq, value: token.to_lowercase() });
        };
        let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix('>') {
            (Op::Gt, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            (Op::Eq, rest)
        };
        Some(Term { negated, field: Some(field.to_lowercase()), op, value: value.to_string() })
    }

    fn matches(&self, product: &ProductRecord, variant: Option<&VariantRecord>) -> bool {
        self.negated != self.matches_plain(product, variant)
    }

    fn matches_plain(&self, product: &ProductRecord, variant: Option<&VariantRecord>) -> bool {
        let variants: Vec<&VariantRecord> = match variant {
            Some(v) => vec![v],
            None => product.variants.iter().collect(),
        };
        let Some(field) = self.field.as_deref() else {
            return product.title.to_lowercase().contains(&self.value);
        };
        match field {
            "id" => match variant {
                Some(v) => self.compare_number(v.id as i64),
                None => self.compare_number(product.id as i64),
            },
            "product_id" => self.compare_number(product.id as i64),
            "title" => self.text(match variant {
                Some(v) => &v.title,
                None => &product.title,
            }),
            "handle" => product.handle == self.value,
            "vendor" => self.text(&product.vendor),
            "product_type" => self.text(&product.product_type),
            "tag" => product.tags.iter().any(|t| t.eq_ignore_ascii_case(&self.value)),
            "tag_not" => !product.tags.iter().any(|t| t.eq_ignore_ascii_case(&self.value)),
            "status" => self.value.split(',').any(|s| status_matches(product.status, s.trim())),
            "sku" => variants.iter().any(|v| self.text(&v.sku)),
            "barcode" => variants.iter().any(|v| v.barcode.as_deref().is_some_and(|b| self.text(b))),
            "inventory_quantity" | "inventory_total" => {
                let total = match variant {
                    Some(v) => v.inventory_quantity(),
                    None => product.variants.iter().map(VariantRecord::inventory_quantity).sum(),
                };
                self.compare_number(total)
            }
            "updated_at" => self.compare_time(match variant {
                Some(v) => v.updated_at,
                None => product.updated_at,
            }),
            "created_at" => self.compare_time(product.created_at),
            // Fields this sandbox does not filter on are ignored, as Shopify ignores them.
            _ => true,
        }
    }

    fn matches_order(&self, order: &OrderRecord) -> bool {
        let Some(field) = self.field.as_deref() else {
            return order.name.to_lowercase().contains(&self.value);
        };
        match field {
            "source_identifier" => order.source_identifier.as_deref().is_some_and(|s| self.text(s)),
            "source_name" => self.text(&order.source_name),
            "name" => self.text(&order.name) || self.text(order.name.trim_start_matches('#')),
            "id" => self.compare_number(order.id as i64),
            "email" => order.email.as_deref().is_some_and(|e| self.text(e)),
            "tag" => order.tags.iter().any(|t| t.eq_ignore_ascii_case(&self.value)),
            "sku" => order.line_items.iter().any(|l| l.sku.as_deref().is_some_and(|s| self.text(s))),
            "status" => match self.value.to_lowercase().as_str() {
                "any" => true,
                "cancelled" => order.cancelled_at.is_some(),
                "open" => order.cancelled_at.is_none(),
                "closed" => order.cancelled_at.is_some(),
                _ => false,
            },
            "financial_status" => self.value.eq_ignore_ascii_case(order.financial_status.rest_name()),
            "fulfillment_status" => {
                let status = order.display_fulfillment_status();
                match self.value.to_lowercase().as_str() {
                    "shipped" | "fulfilled" => status == DisplayFulfillmentStatus::Fulfilled,
                    "partial" => status == DisplayFulfillmentStatus::PartiallyFulfilled,
                    "unshipped" | "unfulfilled" => status == DisplayFulfillmentStatus::Unfulfilled,
                    "any" => true,
                    _ => false,
                }
            }
            "created_at" => self.compare_time(order.created_at),
            "updated_at" => self.compare_time(order.updated_at),
            "processed_at" => self.compare_time(order.processed_at),
            _ => true,
        }
    }

    /// Case-insensitive equality; a trailing `*` makes it a prefix match.
    fn text(&self, actual: &str) -> bool {
        let actual = actual.to_lowercase();
        let wanted = self.value.to_lowercase();
        match wanted.strip_suffix('*') {
            Some(prefix) => actual.starts_with(prefix),
            None => actual == wanted,
        }
    }

    fn compare_number(&self, actual: i64) -> bool {
        match self.value.parse::<i64>() {
            Ok(wanted) => self.ordering_holds(actual.cmp(&wanted)),
            Err(_) => false,
        }
    }

    fn compare_time(&self, actual: i64) -> bool {
        match timestamp::parse(&self.value) {
            Some(wanted) => self.ordering_holds(actual.cmp(&wanted)),
            None => false,
        }
    }

    fn ordering_holds(&self, ordering: Ordering) -> bool {
        match self.op {
            Op::Eq => ordering == Ordering::Equal,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
        }
    }
}

fn status_matches(status: ProductStatus, wanted: &str) -> bool {
    let name = match status {
        ProductStatus::Active => "active",
        ProductStatus::Draft => "draft",
        ProductStatus::Archived => "archived",
    };
    name.eq_ignore_ascii_case(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::generated_catalog;
    use crate::shopify::data::ShopData;

    #[test]
    fn filters_by_field_comparison_negation_and_or() {
        let data = ShopData::new(generated_catalog(5, 2, 3));
        let snapshot = data.snapshot();
        let products = &snapshot.products;
        let count = |q: &str| products.iter().filter(|p| Search::parse(Some(q)).matches_product(p)).count();
        assert_eq!(count(""), 5);
        assert_eq!(count("sku:GEN-000002-01"), 1);
        assert_eq!(count("sku:gen-000002-*"), 1);
        assert_eq!(count("-sku:GEN-000002-01"), 4);
        assert_eq!(count("sku:GEN-000002-01 OR sku:GEN-000003-00"), 2);
        assert_eq!(count("status:active"), 5);
        assert_eq!(count("status:draft,archived"), 0);
        let third = products[2].id;
        assert_eq!(count(&format!("id:>{third}")), 2);
        let stamp = timestamp::format(products[2].updated_at);
        assert_eq!(count(&format!("updated_at:>='{stamp}'")), 3);
        assert_eq!(count("unknown_field:whatever"), 5);
    }
}
