//! Shopify's order nodes ([`query::ORDER_FIELDS`](super::query::ORDER_FIELDS)) and how they
//! become the contract's `store-order`: lines with the channel line each was created from,
//! fulfillments with their tracking, refunds with their amounts, and what a read left out.

use crate::iso8601;
use crate::mapping::PageInfo;
use crossdock_plugin_sdk::commerce::Tracking;
use crossdock_plugin_sdk::store_orders::{StoreFulfillment, StoreOrder, StoreOrderLine, StoreRefund};
use crossdock_plugin_sdk::types::{ConnectorError, Money};
use serde::Deserialize;

/// The order attribute that lists, by store line position, the channel line each store line
/// was created from (a JSON array of strings). Shopify's `orderCreate` keeps no custom data
/// on a line, and line items keep their creation order (an edit only adds lines after them).
pub const SOURCE_LINES_ATTRIBUTE: &str = "_crossdock_source_lines";

#[derive(Debug, Deserialize)]
pub struct OrderData {
    pub order: Option<OrderNode>,
}

#[derive(Debug, Deserialize)]
pub struct OrdersData {
    pub orders: OrderConnection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderConnection {
    #[serde(default)]
    pub nodes: Vec<OrderNode>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNode {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub source_identifier: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub custom_attributes: Vec<AttributeNode>,
    pub line_items: Lines,
    #[serde(default)]
    pub fulfillments: Vec<FulfillmentNode>,
    #[serde(default)]
    pub refunds: Vec<RefundNode>,
}

#[derive(Debug, Deserialize)]
pub struct AttributeNode {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lines {
    #[serde(default)]
    pub nodes: Vec<LineNode>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
pub struct LineNode {
    pub id: String,
    #[serde(default)]
    pub sku: Option<String>,
    pub quantity: i64,
    #[serde(default)]
    pub variant: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
pub struct IdNode {
    pub id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentNode {
    pub id: String,
    pub status: String,
    pub updated_at: String,
    #[serde(default)]
    pub tracking_info: Vec<TrackingNode>,
    pub fulfillment_line_items: UnitLines,
}

#[derive(Debug, Deserialize)]
pub struct TrackingNode {
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A connection of (line, units): a fulfillment's or a refund's lines.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitLines {
    #[serde(default)]
    pub nodes: Vec<UnitLine>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitLine {
    pub quantity: i64,
    #[serde(default)]
    pub line_item: Option<IdNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundNode {
    pub id: String,
    pub total_refunded_set: MoneyBag,
    pub refund_line_items: UnitLines,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: MoneyNode,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyNode {
    pub amount: String,
    pub currency_code: String,
}

/// `order { lineItems }` of a follow-up page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLinesData {
    pub order: Option<OrderLinesNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLinesNode {
    pub line_items: Lines,
}

/// `fulfillment { fulfillmentLineItems }` of a follow-up page.
#[derive(Debug, Deserialize)]
pub struct FulfillmentLinesData {
    pub fulfillment: Option<FulfillmentLinesNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentLinesNode {
    pub fulfillment_line_items: UnitLines,
}

/// What one read of an order left out, against the sizes it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The cursor after the last line read, when the order has more lines.
    pub lines_after: Option<String>,
    /// (fulfillment index, cursor) for each fulfillment with more lines.
    pub fulfillment_lines_after: Vec<(usize, String)>,
    /// The read returned as many fulfillments as it asked for: there may be more.
    pub fulfillments_full: bool,
    /// The read returned as many refunds as it asked for: there may be more.
    pub refunds_full: bool,
    /// A refund has more lines than were read.
    pub refund_lines_cut: bool,
}

impl Missing {
    pub fn nothing(&self) -> bool {
        self.lines_after.is_none()
            && self.fulfillment_lines_after.is_empty()
            && !self.fulfillments_full
            && !self.refunds_full
            && !self.refund_lines_cut
    }
}

impl OrderNode {
    /// What this read did not return, given the sizes it asked for.
    pub fn missing(&self, sizes: super::query::Sizes) -> Missing {
        let more = |info: &PageInfo| info.has_next_page.then(|| info.end_cursor.clone()).flatten();
        Missing {
            lines_after: more(&self.line_items.page_info),
            fulfillment_lines_after: self
                .fulfillments
                .iter()
                .enumerate()
                .filter_map(|(i, f)| more(&f.fulfillment_line_items.page_info).map(|c| (i, c)))
                .collect(),
            fulfillments_full: self.fulfillments.len() >= sizes.fulfillments as usize,
            refunds_full: self.refunds.len() >= sizes.refunds as usize,
            refund_lines_cut: self.refunds.iter().any(|r| r.refund_line_items.page_info.has_next_page),
        }
    }

    /// The source lines attribute, by store line position; empty when the order has none.
    fn source_lines(&self) -> Vec<String> {
        self.custom_attributes
            .iter()
            .find(|a| a.key == SOURCE_LINES_ATTRIBUTE)
            .and_then(|a| a.value.as_deref())
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            .unwrap_or_default()
    }
}

/// Maps an order read whole to the contract's record.
pub fn store_order(node: OrderNode) -> Result<StoreOrder, ConnectorError> {
    let order_id = node.id.clone();
    let time = |what: &str, text: &str| {
        iso8601::parse_millis(text).ok_or_else(|| {
            ConnectorError::Fatal(format!("order {order_id}: {what} `{text}` is not an ISO 8601 time"))
        })
    };
    let updated_at = time("updatedAt", &node.updated_at)?;
    let source_lines = node.source_lines();
    let lines = node
        .line_items
        .nodes
        .into_iter()
        .enumerate()
        .map(|(position, line)| StoreOrderLine {
            quantity: units(line.quantity),
            variant_id: line.variant.map(|v| v.id),
            sku: line.sku.filter(|s| !s.trim().is_empty()),
            source_line_id: source_lines.get(position).cloned(),
            id: line.id,
        })
        .collect();
    let mut fulfillments = Vec::with_capacity(node.fulfillments.len());
    for fulfillment in node.fulfillments {
        fulfillments.push(StoreFulfillment {
            updated_at: time("a fulfillment's updatedAt", &fulfillment.updated_at)?,
            lines: unit_lines(fulfillment.fulfillment_line_items),
            tracking: fulfillment.tracking_info.into_iter().find_map(tracking),
            cancelled: fulfillment.status.eq_ignore_ascii_case("CANCELLED"),
            id: fulfillment.id,
        });
    }
    let refunds = node
        .refunds
        .into_iter()
        .map(|refund| StoreRefund {
            amount: Money::new(
                refund.total_refunded_set.shop_money.amount,
                refund.total_refunded_set.shop_money.currency_code,
            ),
            lines: unit_lines(refund.refund_line_items),
            id: refund.id,
        })
        .collect();
    Ok(StoreOrder {
        id: node.id,
        name: node.name,
        source_identifier: node.source_identifier.filter(|s| !s.is_empty()),
        lines,
        cancelled: node.cancelled_at.is_some(),
        fulfillments,
        refunds,
        updated_at,
    })
}

/// A tracking entry with a number; Shopify also keeps entries with a carrier alone.
fn tracking(node: TrackingNode) -> Option<Tracking> {
    let number = node.number.filter(|n| !n.trim().is_empty())?;
    Some(Tracking {
        carrier: node.company.unwrap_or_default(),
        carrier_id: None,
        tracking_number: number,
        url: node.url.filter(|u| !u.is_empty()),
    })
}

/// (line id, units), for the lines still known (a deleted line has no `lineItem`).
fn unit_lines(lines: UnitLines) -> Vec<(String, u32)> {
    lines.nodes.into_iter().filter_map(|l| Some((l.line_item?.id, units(l.quantity)))).collect()
}

fn units(quantity: i64) -> u32 {
    u32::try_from(quantity.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{check_response, decode};
    use crate::orders::query::Sizes;

    pub const ORDER: &str = include_str!("../../testdata/order.json");

    fn order() -> OrderNode {
        let (data, _) = check_response(200, None, ORDER.as_bytes(), 0.0).expect("a good answer");
        decode::<OrderData>(data).expect("the order shape").order.expect("an order")
    }

    #[test]
    fn an_order_maps_lines_to_their_source_lines_by_position() {
        let order = store_order(order()).expect("maps");
        assert_eq!(order.id, "gid://shopify/Order/6100000000001");
        assert_eq!(order.name, "#1001");
        assert_eq!(order.source_identifier.as_deref(), Some("tiktok-shop:7495:576486014771843072"));
        assert_eq!(order.updated_at, 1_768_471_800_000);
        assert!(!order.cancelled);
        let lines: Vec<_> = order
            .lines
            .iter()
            .map(|l| {
                (
                    l.id.as_str(),
                    l.variant_id.as_deref(),
                    l.sku.as_deref(),
                    l.quantity,
                    l.source_line_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                (
                    "gid://shopify/LineItem/16000000000001",
                    Some("gid://shopify/ProductVariant/45000000000011"),
                    Some("TEST-MUG"),
                    2,
                    Some("576486014771900001,576486014771900002")
                ),
                (
                    "gid://shopify/LineItem/16000000000002",
                    Some("gid://shopify/ProductVariant/45000000000012"),
                    Some("TEST-TEE-M"),
                    2,
                    Some("576486014771900003,576486014771900004,576486014771900005")
                ),
                (
                    "gid://shopify/LineItem/16000000000003",
                    Some("gid://shopify/ProductVariant/45000000000012"),
                    Some("TEST-TEE-M"),
                    1,
                    Some("576486014771900003,576486014771900004,576486014771900005")
                ),
                ("gid://shopify/LineItem/16000000000004", None, None, 1, None),
            ]
        );
    }

    #[test]
    fn fulfillments_carry_their_lines_tracking_and_cancellation() {
        let order = store_order(order()).expect("maps");
        let [shipped, cancelled] = order.fulfillments.as_slice() else {
            panic!("two fulfillments: {:?}", order.fulfillments)
        };
        assert_eq!(shipped.id, "gid://shopify/Fulfillment/5500000000001");
        assert_eq!(shipped.lines, [("gid://shopify/LineItem/16000000000001".to_string(), 2)]);
        let tracking = shipped.tracking.as_ref().expect("tracking");
        assert_eq!(tracking.carrier, "UPS");
        assert_eq!(tracking.tracking_number, "1Z999AA10123456784");
        assert_eq!(
            tracking.url.as_deref(),
            Some("https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums=1Z999AA10123456784")
        );
        assert!(tracking.carrier_id.is_none());
        assert!(!shipped.cancelled);
        assert_eq!(shipped.updated_at, 1_768_471_500_000);
        assert!(cancelled.cancelled, "status CANCELLED");
        assert!(cancelled.tracking.is_none(), "a carrier without a number is no tracking");
    }

    #[test]
    fn refunds_carry_their_amount_and_lines() {
        let order = store_order(order()).expect("maps");
        let [refund] = order.refunds.as_slice() else { panic!("one refund: {:?}", order.refunds) };
        assert_eq!(refund.id, "gid://shopify/Refund/9100000000001");
        assert_eq!((refund.amount.amount.as_str(), refund.amount.currency.as_str()), ("12.00", "USD"));
        assert_eq!(refund.lines, [("gid://shopify/LineItem/16000000000002".to_string(), 1)]);
    }

    #[test]
    fn a_whole_read_that_fits_misses_nothing() {
        let node = order();
        let missing = node.missing(Sizes::WHOLE);
        assert!(missing.nothing(), "{missing:?}");
        // 2 fulfillments and 1 refund fit a list page's 3 of each too.
        assert!(node.missing(Sizes::PAGE).nothing());
    }

    #[test]
    fn cut_connections_and_full_lists_are_reported() {
        let text = ORDER
            .replacen(
                r#""hasNextPage": false, "endCursor": "bGluZXM=""#,
                r#""hasNextPage": true, "endCursor": "bGluZXM=""#,
                1,
            )
            .replacen(
                r#""hasNextPage": false, "endCursor": "ZnVs""#,
                r#""hasNextPage": true, "endCursor": "ZnVs""#,
                1,
            );
        assert_ne!(text, ORDER, "the fixture has the cursors this test flips");
        let (data, _) = check_response(200, None, text.as_bytes(), 0.0).expect("a good answer");
        let node = decode::<OrderData>(data).expect("shape").order.expect("an order");
        let missing = node.missing(Sizes { fulfillments: 2, ..Sizes::PAGE });
        assert_eq!(missing.lines_after.as_deref(), Some("bGluZXM="));
        assert_eq!(missing.fulfillment_lines_after, [(0, "ZnVs".to_string())]);
        assert!(missing.fulfillments_full, "2 fulfillments read of 2 asked");
        assert!(!missing.refunds_full && !missing.refund_lines_cut);
        assert!(!missing.nothing());
    }

    #[test]
    fn an_order_without_the_attribute_has_no_source_lines_and_a_bad_time_is_fatal() {
        let mut node = order();
        node.custom_attributes.retain(|a| a.key != SOURCE_LINES_ATTRIBUTE);
        let order = store_order(node).expect("maps");
        assert!(order.lines.iter().all(|l| l.source_line_id.is_none()));

        let mut node = self::order();
        node.custom_attributes
            .iter_mut()
            .filter(|a| a.key == SOURCE_LINES_ATTRIBUTE)
            .for_each(|a| a.value = Some("not json".into()));
        assert!(store_order(node).expect("maps").lines.iter().all(|l| l.source_line_id.is_none()));

        let mut node = self::order();
        node.updated_at = "yesterday".into();
        match store_order(node) {
            Err(ConnectorError::Fatal(m)) => {
                assert!(m.contains("gid://shopify/Order/6100000000001") && m.contains("yesterday"), "{m}")
            }
            other => panic!("expected fatal, got {other:?}"),
        }
    }
}
