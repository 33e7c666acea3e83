//! The GraphQL documents of the order operations, and the sizes that keep each under
//! Shopify's single-query cost limit (see `crate::query` for the cost model: 1 point per
//! object, `2 + first × node` per connection or sized list).
//!
//! One fragment ([`ORDER_FIELDS`]) is what `read::OrderNode` maps; its sizes are variables, so
//! a list page reads each order small ([`Sizes::PAGE`]) and an order that does not fit is read
//! again alone ([`Sizes::WHOLE`], a third of a standard shop's bucket), with follow-up pages for
//! long line lists; only an order with more fulfillments or refunds than that is read once
//! more, large ([`Sizes::LARGE`]).

use crate::query::MAX_QUERY_COST;
use serde_json::{Value, json};

/// How many of each nested record one order read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub lines: u32,
    pub fulfillments: u32,
    pub fulfillment_lines: u32,
    pub refunds: u32,
    pub refund_lines: u32,
}

impl Sizes {
    /// One order read alone: room for most orders in one call (longer line lists page on).
    pub const WHOLE: Sizes =
        Sizes { lines: 25, fulfillments: 5, fulfillment_lines: 10, refunds: 5, refund_lines: 10 };
    /// An order with more fulfillments or refunds than [`Sizes::WHOLE`] holds, read again (the
    /// lists of fulfillments and refunds do not page).
    pub const LARGE: Sizes =
        Sizes { lines: 50, fulfillments: 10, fulfillment_lines: 20, refunds: 10, refund_lines: 15 };
    /// Each order of a list page; an order with more is read again with [`Sizes::WHOLE`].
    pub const PAGE: Sizes =
        Sizes { lines: 10, fulfillments: 3, fulfillment_lines: 10, refunds: 3, refund_lines: 10 };

    /// The points one order costs at these sizes: the order and its attributes list; lines
    /// with their variant; fulfillments with one tracking entry and their lines; refunds with
    /// their amount (a bag and its money) and their lines.
    pub const fn cost(self) -> u32 {
        let line = 2;
        let fulfillment = 1 + (2 + 1) + (2 + self.fulfillment_lines * line);
        let refund = 1 + 2 + (2 + self.refund_lines * line);
        2 + (2 + self.lines * line) + (2 + self.fulfillments * fulfillment) + (2 + self.refunds * refund)
    }

    fn variables(self) -> Value {
        json!({
            "lines": self.lines,
            "fulfillments": self.fulfillments,
            "fulfillmentLines": self.fulfillment_lines,
            "refunds": self.refunds,
            "refundLines": self.refund_lines,
        })
    }
}

const _: () = assert!(Sizes::LARGE.cost() <= MAX_QUERY_COST);

/// Lines read per follow-up query of a long order or fulfillment.
pub const MORE_LINES: u32 = 100;
/// Orders a `find-order` search reads; Shopify's search may match more than the exact value.
pub const FIND_CANDIDATES: u32 = 10;
/// The largest list page: what fits under the cost limit at [`Sizes::PAGE`].
pub const MAX_ORDERS_PER_PAGE: u32 = (MAX_QUERY_COST - 2) / Sizes::PAGE.cost();

/// The variables every document that spreads [`ORDER_FIELDS`] declares.
const SIZE_VARIABLES: &str =
    "$lines: Int!, $fulfillments: Int!, $fulfillmentLines: Int!, $refunds: Int!, $refundLines: Int!";

/// What `read::OrderNode` maps.
pub const ORDER_FIELDS: &str = "fragment OrderFields on Order {
  id name sourceIdentifier cancelledAt updatedAt
  customAttributes { key value }
  lineItems(first: $lines) { pageInfo { hasNextPage endCursor } nodes { ...LineFields } }
  fulfillments(first: $fulfillments) {
    id status updatedAt
    trackingInfo(first: 1) { company number url }
    fulfillmentLineItems(first: $fulfillmentLines) { pageInfo { hasNextPage endCursor } nodes { quantity lineItem { id } } }
  }
  refunds(first: $refunds) {
    id
    totalRefundedSet { shopMoney { amount currencyCode } }
    refundLineItems(first: $refundLines) { pageInfo { hasNextPage endCursor } nodes { quantity lineItem { id } } }
  }
}
fragment LineFields on LineItem { id sku quantity variant { id } }";

/// One order by id.
const ORDER: &str = "query Order($id: ID!, SIZES) { order(id: $id) { ...OrderFields } }";

/// Orders changed since a time, oldest change first.
const ORDERS: &str = "query Orders($first: Int!, $after: String, $query: String!, SIZES) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}";

/// The lines of a long order after a cursor.
const ORDER_LINES: &str = "query OrderLines($id: ID!, $first: Int!, $after: String!) {
  order(id: $id) { lineItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...LineFields } } }
}
fragment LineFields on LineItem { id sku quantity variant { id } }";

/// The lines of a long fulfillment after a cursor.
const FULFILLMENT_LINES: &str = "query FulfillmentLines($id: ID!, $first: Int!, $after: String!) {
  fulfillment(id: $id) {
    fulfillmentLineItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { quantity lineItem { id } } }
  }
}";

/// Orders whose source identifier matches a search, ids only.
const FIND_ORDERS: &str = "query FindOrders($first: Int!, $query: String!) {
  orders(first: $first, query: $query) { nodes { id sourceIdentifier } }
}";

/// Whether an order exists and is cancelled.
const ORDER_STATUS: &str = "query OrderStatus($id: ID!) { order(id: $id) { id cancelledAt } }";

fn with_fragment(document: &str) -> String {
    format!("{}\n{ORDER_FIELDS}", document.replace("SIZES", SIZE_VARIABLES))
}

fn merged(mut variables: Value, sizes: Sizes) -> Value {
    if let (Some(target), Value::Object(sizes)) = (variables.as_object_mut(), sizes.variables()) {
        target.extend(sizes);
    }
    variables
}

/// The request body for one order read whole at these sizes.
pub fn order(id: &str, sizes: Sizes) -> Value {
    json!({
        "query": with_fragment(ORDER),
        "operationName": "Order",
        "variables": merged(json!({"id": id}), sizes),
    })
}

/// The request body for a page of orders changed at or after `since` (`2026-01-15T10:00:00Z`).
pub fn orders(since: &str, limit: u32, after: Option<&str>) -> Value {
    json!({
        "query": with_fragment(ORDERS),
        "operationName": "Orders",
        "variables": merged(
            json!({"first": limit.clamp(1, MAX_ORDERS_PER_PAGE), "after": after, "query": updated_since(since)}),
            Sizes::PAGE,
        ),
    })
}

/// The request body for the next lines of an order.
pub fn order_lines(id: &str, after: &str) -> Value {
    json!({
        "query": ORDER_LINES,
        "operationName": "OrderLines",
        "variables": {"id": id, "first": MORE_LINES, "after": after},
    })
}

/// The request body for the next lines of a fulfillment.
pub fn fulfillment_lines(id: &str, after: &str) -> Value {
    json!({
        "query": FULFILLMENT_LINES,
        "operationName": "FulfillmentLines",
        "variables": {"id": id, "first": MORE_LINES, "after": after},
    })
}

/// The request body that looks orders up by source identifier.
pub fn find_orders(source_identifier: &str) -> Value {
    json!({
        "query": FIND_ORDERS,
        "operationName": "FindOrders",
        "variables": {"first": FIND_CANDIDATES, "query": source_identifier_search(source_identifier)},
    })
}

/// The request body that reads whether an order is cancelled.
pub fn order_status(id: &str) -> Value {
    json!({"query": ORDER_STATUS, "operationName": "OrderStatus", "variables": {"id": id}})
}

/// `source_identifier:"…"`: the value quoted, with `\` and `"` escaped, as Shopify's search
/// syntax wants a value holding `:` or spaces.
pub fn source_identifier_search(source_identifier: &str) -> String {
    format!("source_identifier:{}", quoted(source_identifier))
}

/// `updated_at:>='…'`.
pub fn updated_since(since: &str) -> String {
    format!("updated_at:>={}", quoted(since))
}

fn quoted(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragment_asks_for_the_sizes_the_cost_model_assumes() {
        for wanted in [
            "lineItems(first: $lines)",
            "fulfillments(first: $fulfillments)",
            "trackingInfo(first: 1)",
            "fulfillmentLineItems(first: $fulfillmentLines)",
            "refunds(first: $refunds)",
            "refundLineItems(first: $refundLines)",
        ] {
            assert!(ORDER_FIELDS.contains(wanted), "{wanted}");
        }
        assert_eq!(Sizes::WHOLE.cost(), 313, "a third of a standard shop's 1,000-point bucket");
        assert_eq!(Sizes::LARGE.cost(), 918);
        assert_eq!(Sizes::PAGE.cost(), 181);
        assert_eq!(MAX_ORDERS_PER_PAGE, 5);
    }

    // A full page, and a follow-up page (the order or fulfillment and 100 lines of 2 points),
    // stay under the limit.
    const _: () = assert!(2 + MAX_ORDERS_PER_PAGE * Sizes::PAGE.cost() <= MAX_QUERY_COST);
    const _: () = assert!(1 + 2 + MORE_LINES * 2 <= MAX_QUERY_COST);

    #[test]
    fn an_order_read_declares_and_sends_every_size() {
        let body = order("gid://shopify/Order/6100000000001", Sizes::WHOLE);
        let query = body["query"].as_str().expect("a document");
        assert!(query.contains("$refundLines: Int!") && query.contains("fragment OrderFields"));
        assert!(!query.contains("SIZES"));
        assert_eq!(
            body["variables"],
            json!({"id": "gid://shopify/Order/6100000000001", "lines": 25, "fulfillments": 5,
                "fulfillmentLines": 10, "refunds": 5, "refundLines": 10})
        );
    }

    #[test]
    fn a_page_filters_by_update_time_sorted_oldest_first() {
        let body = orders("2026-01-15T10:00:00Z", 50, Some("eyJsYXN0X2lkIjoxfQ=="));
        assert_eq!(body["variables"]["query"], "updated_at:>=\"2026-01-15T10:00:00Z\"");
        assert_eq!(body["variables"]["first"], 5, "clamped to what the cost limit allows");
        assert_eq!(body["variables"]["after"], "eyJsYXN0X2lkIjoxfQ==");
        assert_eq!(body["variables"]["lines"], 10);
        assert!(body["query"].as_str().is_some_and(|q| q.contains("sortKey: UPDATED_AT")));
        assert_eq!(orders("2026-01-15T10:00:00Z", 0, None)["variables"]["first"], 1);
        assert_eq!(orders("2026-01-15T10:00:00Z", 2, None)["variables"]["after"], Value::Null);
    }

    #[test]
    fn source_identifiers_are_quoted_and_escaped_for_search() {
        assert_eq!(
            source_identifier_search("tiktok-shop:7495:576486014771843072"),
            "source_identifier:\"tiktok-shop:7495:576486014771843072\""
        );
        assert_eq!(source_identifier_search(r#"a "b" \c"#), r#"source_identifier:"a \"b\" \\c""#);
        let body = find_orders("tiktok-shop:1:2");
        assert_eq!(body["variables"], json!({"first": 10, "query": "source_identifier:\"tiktok-shop:1:2\""}));
    }

    #[test]
    fn follow_up_pages_carry_the_cursor() {
        let lines = order_lines("gid://shopify/Order/1", "c1");
        assert_eq!(lines["variables"], json!({"id": "gid://shopify/Order/1", "first": 100, "after": "c1"}));
        let lines = fulfillment_lines("gid://shopify/Fulfillment/2", "c2");
        assert_eq!(lines["variables"]["id"], "gid://shopify/Fulfillment/2");
        assert!(lines["query"].as_str().is_some_and(|q| q.contains("fulfillment(id: $id)")));
    }
}
