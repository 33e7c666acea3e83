//! Calculated query cost and the leaky bucket that spends it, after Shopify's documented
//! model: scalars and enums cost 0, objects 1, a connection 2 plus `first` (or `last`) times
//! the cost of one node; the requested cost is charged before the query runs and the
//! difference to the actual cost (objects returned) refunded after. A mutation costs
//! [`MUTATION_COST`] per top-level field, requested and actual alike (Shopify documents 10
//! points a mutation; what its payload's selection adds is not published, so the sandbox adds
//! nothing).

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Value, Variables};
use std::collections::HashMap;
use tokio::time::Instant;

/// Points one mutation field costs.
pub const MUTATION_COST: u64 = 10;

/// Rate-limit settings of one sandbox shop. Its JSON shape is what
/// `PUT /_sandbox/cost-limits` takes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostLimits {
    /// Bucket size in points (`throttleStatus.maximumAvailable`).
    pub maximum_available: f64,
    /// Points restored per second (`throttleStatus.restoreRate`).
    pub restore_rate: f64,
    /// A single query requesting more than this is refused (`MAX_COST_EXCEEDED`).
    pub single_query_max: u64,
}

impl Default for CostLimits {
    /// Shopify's Standard plan as of 2026-01: 100 points/s; a 2,000-point bucket; 1,000 per query.
    fn default() -> Self {
        CostLimits { maximum_available: 2000.0, restore_rate: 100.0, single_query_max: 1000 }
    }
}

/// Nested fragments deeper than this are not followed (validation refuses cycles anyway).
const MAX_DEPTH: usize = 32;

/// What a request asks for: its points and whether it is a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requested {
    pub points: u64,
    /// A mutation's actual cost is its requested cost.
    pub mutation: bool,
}

/// The requested cost of the operation `operation_name` picks, or none when the document has
/// no such operation (execution then reports the error, at no cost).
pub fn requested(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Requested> {
    let operation = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name)?,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next()?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    let mut estimate = Estimate { fragments: &doc.fragments, variables };
    let root = &operation.node.selection_set.node;
    if operation.node.ty == OperationType::Mutation {
        let fields = estimate.root_fields(root, 0);
        return Some(Requested { points: MUTATION_COST.saturating_mul(fields), mutation: true });
    }
    Some(Requested { points: estimate.selection_set(root, 0), mutation: false })
}

struct Estimate<'a> {
    fragments: &'a HashMap<
        async_graphql::Name,
        async_graphql::Positioned<async_graphql::parser::types::FragmentDefinition>,
    >,
    variables: &'a Variables,
}

impl Estimate<'_> {
    /// Top-level fields, through fragments (`__typename` is free).
    fn root_fields(&self, set: &SelectionSet, depth: usize) -> u64 {
        if depth > MAX_DEPTH {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => u64::from(field.node.name.node.as_str() != "__typename"),
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.node.fragment_name.node) {
                        Some(fragment) => self.root_fields(&fragment.node.selection_set.node, depth + 1),
                        None => 0,
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.root_fields(&inline.node.selection_set.node, depth + 1)
                }
            })
            .sum()
    }

    fn selection_set(&mut self, set: &SelectionSet, depth: usize) -> u64 {
        self.sum(set, depth, false)
    }

    /// Sums the fields of `set`; inside a connection, `edges` and `pageInfo` are free wrappers.
    fn sum(&mut self, set: &SelectionSet, depth: usize, in_connection: bool) -> u64 {
        if depth > MAX_DEPTH {
            return 0;
        }
        let mut total = 0u64;
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let children = &field.selection_set.node;
                    if children.items.is_empty() || (in_connection && name == "pageInfo") {
                        0
                    } else if in_connection && name == "edges" {
                        self.sum(children, depth + 1, true)
                    } else if let Some(size) = self.page_size(field) {
                        let node = self.sum(children, depth + 1, true);
                        2u64.saturating_add(size.saturating_mul(node))
                    } else {
                        1u64.saturating_add(self.sum(children, depth + 1, false))
                    }
                }
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.node.fragment_name.node) {
                        Some(fragment) => {
                            self.sum(&fragment.node.selection_set.node, depth + 1, in_connection)
                        }
                        None => 0,
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.sum(&inline.node.selection_set.node, depth + 1, in_connection)
                }
            };
            total = total.saturating_add(cost);
        }
        total
    }

    /// `first` or `last`, literal or from a variable; a connection field always has one.
    fn page_size(&self, field: &async_graphql::parser::types::Field) -> Option<u64> {
        let argument = field.get_argument("first").or_else(|| field.get_argument("last"))?;
        let value = argument
            .node
            .clone()
            .into_const_with(|name| self.variables.get(&name).cloned().ok_or(()))
            .ok()?;
        match value {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }
}

/// A leaky bucket of query-cost points.
#[derive(Debug)]
pub struct Bucket {
    limits: CostLimits,
    available: f64,
    at: Instant,
}

/// The bucket after a charge, as `extensions.cost.throttleStatus` reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

impl Bucket {
    pub fn new(limits: CostLimits) -> Self {
        Bucket { limits, available: limits.maximum_available, at: Instant::now() }
    }

    pub fn limits(&self) -> CostLimits {
        self.limits
    }

    /// Replaces the limits and refills the bucket.
    pub fn reset(&mut self, limits: CostLimits) {
        *self = Bucket::new(limits);
    }

    fn restore(&mut self) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.available =
            (self.available + elapsed * self.limits.restore_rate).min(self.limits.maximum_available);
        self.at = now;
    }

    /// Takes `cost` points if the bucket holds them; `Err` carries the status when it does not.
    pub fn charge(&mut self, cost: u64) -> Result<ThrottleStatus, ThrottleStatus> {
        self.restore();
        if (cost as f64) > self.available {
            return Err(self.status());
        }
        self.available -= cost as f64;
        Ok(self.status())
    }

    /// Gives back points charged but not used.
    pub fn refund(&mut self, points: u64) -> ThrottleStatus {
        self.restore();
        self.available = (self.available + points as f64).min(self.limits.maximum_available);
        self.status()
    }

    fn status(&self) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: self.limits.maximum_available,
            // Shopify reports whole points.
            currently_available: self.available.floor(),
            restore_rate: self.limits.restore_rate,
        }
    }
}

/// The actual cost of a response: one point per object returned (connection wrappers such as
/// `pageInfo` and edges count too; Shopify's exact rule is not published).
pub fn actual_cost(data: &serde_json::Value) -> u64 {
    fn objects(value: &serde_json::Value) -> u64 {
        match value {
            serde_json::Value::Object(map) => 1 + map.values().map(objects).sum::<u64>(),
            serde_json::Value::Array(items) => items.iter().map(objects).sum(),
            _ => 0,
        }
    }
    // The root `data` object itself is free.
    objects(data).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let doc = parse_query(query).expect("valid query");
        requested(&doc, None, &Variables::from_json(variables)).expect("one operation").points
    }

    #[test]
    fn scalars_are_free_and_objects_cost_one() {
        assert_eq!(cost("{ shop { name currencyCode } }", serde_json::json!({})), 1);
    }

    #[test]
    fn connections_cost_two_plus_first_times_a_node() {
        assert_eq!(cost("{ products(first: 10) { nodes { id } } }", serde_json::json!({})), 12);
        assert_eq!(
            cost(
                "{ products(first: 10) { edges { cursor node { id } } pageInfo { hasNextPage } } }",
                serde_json::json!({})
            ),
            12
        );
        let nested =
            "query($n: Int!) { products(first: $n) { nodes { id variants(first: 5) { nodes { ...V } } } } }
                      fragment V on ProductVariant { id selectedOptions { name } }";
        // products: 2 + 4 * (1 + variants (2 + 5 * (1 + 1)))
        assert_eq!(cost(nested, serde_json::json!({"n": 4})), 2 + 4 * (1 + 2 + 5 * 2));
    }

    #[test]
    fn a_mutation_costs_ten_points_per_field() {
        let doc = parse_query(
            "mutation { a: inventoryAdjustQuantities(input: $i) { userErrors { message } }
                        b: orderCreate(order: {}) { order { id lineItems(first: 50) { nodes { id } } } } }",
        )
        .expect("valid mutation");
        let requested = requested(&doc, None, &Variables::default()).expect("one operation");
        assert_eq!(requested, Requested { points: 20, mutation: true });
    }

    #[test]
    fn the_bucket_throttles_when_empty_and_refunds_unused_points() {
        let mut bucket =
            Bucket::new(CostLimits { maximum_available: 10.0, restore_rate: 0.0, single_query_max: 10 });
        assert!(bucket.charge(8).is_ok());
        let status = bucket.charge(8).expect_err("only 2 points left");
        assert_eq!(status.currently_available, 2.0);
        bucket.refund(6);
        assert!(bucket.charge(8).is_ok());
    }

    #[test]
    fn actual_cost_counts_returned_objects() {
        let data = serde_json::json!({"products": {"nodes": [{"id": "1"}, {"id": "2"}]}});
        assert_eq!(actual_cost(&data), 3);
    }
}
