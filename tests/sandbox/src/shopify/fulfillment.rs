//! Fulfillment orders and fulfillments (reference §7): `fulfillmentCreate` against
//! fulfillment-order line items (all remaining units when none are listed), partial
//! fulfillment, and `fulfillmentTrackingInfoUpdate`. A fulfilled unit that was claimed leaves
//! `committed`, so `on_hand` drops and `available` stays.
//!
//! Choices where the reference is unconfirmed: the tracking-update mutation is
//! `fulfillmentTrackingInfoUpdate`; the refusal wording is ours except for Shopify's
//! "Invalid fulfillment order line item quantity requested."; a fulfillment is named
//! `#1001.1`, `#1001.2`…; a few carriers get a tracking URL built from the number when none is
//! given (`company` must match exactly, capitalisation included).

use super::data::{Event, ShopState, parse_gid};
use super::inventory::shift;
use super::rest;
use super::user_error::Refusal;
use async_graphql::{Enum, ID, InputObject};

const FULFILLMENT_ID_BASE: u64 = 5_500_000_000_000;

/// Carriers whose tracking URL Shopify builds from the number (a few of its list).
const CARRIER_URLS: [(&str, &str); 5] = [
    ("UPS", "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums="),
    ("USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels="),
    ("FedEx", "https://www.fedex.com/fedextrack/?trknbr="),
    ("DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB="),
    ("Canada Post", "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor="),
];

/// `FulfillmentOrderStatus`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentOrderStatus {
    Cancelled,
    Closed,
    Incomplete,
    InProgress,
    OnHold,
    Open,
    Scheduled,
}

impl FulfillmentOrderStatus {
    /// Whether units can still be fulfilled from it.
    pub fn is_open(self) -> bool {
        matches!(self, FulfillmentOrderStatus::Open | FulfillmentOrderStatus::InProgress)
    }
}

/// `FulfillmentOrderAction`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentOrderAction {
    CancelFulfillmentOrder,
    CreateFulfillment,
    External,
    Hold,
    MarkAsOpen,
    Merge,
    Move,
    ReleaseHold,
    RequestCancellation,
    RequestFulfillment,
    Split,
}

/// `FulfillmentStatus`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentStatus {
    Cancelled,
    Error,
    Failure,
    Open,
    Pending,
    Success,
}

/// The units of one order one location ships.
#[derive(Debug, Clone)]
pub struct FulfillmentOrderRecord {
    pub id: u64,
    pub location_id: u64,
    pub status: FulfillmentOrderStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub lines: Vec<FulfillmentOrderLineRecord>,
}

impl FulfillmentOrderRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/FulfillmentOrder/{}", self.id)
    }

    /// `supportedActions` of a merchant-managed fulfillment order.
    pub fn supported_actions(&self) -> Vec<FulfillmentOrderAction> {
        use FulfillmentOrderAction as Action;
        if !self.status.is_open() {
            return Vec::new();
        }
        let mut actions = vec![Action::CreateFulfillment, Action::Hold, Action::Move];
        if self.lines.iter().map(|l| l.remaining_quantity).sum::<i64>() > 1 {
            actions.push(Action::Split);
        }
        actions
    }
}

/// A line item's units in a fulfillment order.
#[derive(Debug, Clone)]
pub struct FulfillmentOrderLineRecord {
    pub id: u64,
    pub line_item_id: u64,
    pub total_quantity: i64,
    pub remaining_quantity: i64,
}

impl FulfillmentOrderLineRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/FulfillmentOrderLineItem/{}", self.id)
    }
}

/// One shipment.
#[derive(Debug, Clone)]
pub struct FulfillmentRecord {
    pub id: u64,
    pub name: String,
    pub status: FulfillmentStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub location_id: u64,
    pub tracking: Vec<TrackingRecord>,
    pub notify_customer: bool,
    /// `(line item id, units)`.
    pub lines: Vec<(u64, i64)>,
    pub fulfillment_order_ids: Vec<u64>,
}

impl FulfillmentRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Fulfillment/{}", self.id)
    }
}

/// `FulfillmentTrackingInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingRecord {
    pub company: Option<String>,
    pub number: Option<String>,
    pub url: Option<String>,
}

/// `FulfillmentInput`.
#[derive(InputObject, Debug, Clone)]
pub struct FulfillmentInput {
    pub line_items_by_fulfillment_order: Vec<FulfillmentOrderLineItemsInput>,
    pub tracking_info: Option<FulfillmentTrackingInput>,
    #[graphql(default)]
    pub notify_customer: bool,
}

/// `FulfillmentOrderLineItemsInput`.
#[derive(InputObject, Debug, Clone)]
pub struct FulfillmentOrderLineItemsInput {
    pub fulfillment_order_id: ID,
    /// All remaining units when absent.
    pub fulfillment_order_line_items: Option<Vec<FulfillmentOrderLineItemInput>>,
}

/// `FulfillmentOrderLineItemInput`.
#[derive(InputObject, Debug, Clone)]
pub struct FulfillmentOrderLineItemInput {
    pub id: ID,
    pub quantity: i32,
}

/// `FulfillmentTrackingInput`.
#[derive(InputObject, Debug, Clone, Default)]
pub struct FulfillmentTrackingInput {
    pub company: Option<String>,
    pub number: Option<String>,
    pub numbers: Option<Vec<String>>,
    pub url: Option<String>,
    pub urls: Option<Vec<String>>,
}

/// The tracking entries one input describes; a known carrier gets its URL built.
fn tracking(input: Option<&FulfillmentTrackingInput>) -> Vec<TrackingRecord> {
    let Some(input) = input else { return Vec::new() };
    let mut numbers: Vec<String> = input.number.iter().cloned().collect();
    numbers.extend(input.numbers.iter().flatten().cloned());
    let mut urls: Vec<String> = input.url.iter().cloned().collect();
    urls.extend(input.urls.iter().flatten().cloned());
    if numbers.is_empty() {
        if input.company.is_none() && urls.is_empty() {
            return Vec::new();
        }
        return vec![TrackingRecord {
            company: input.company.clone(),
            number: None,
            url: urls.first().cloned(),
        }];
    }
    let template = CARRIER_URLS.iter().find(|(name, _)| Some(*name) == input.company.as_deref());
    numbers
        .into_iter()
        .enumerate()
        .map(|(i, number)| TrackingRecord {
            company: input.company.clone(),
            url: urls.get(i).cloned().or_else(|| template.map(|(_, base)| format!("{base}{number}"))),
            number: Some(number),
        })
        .collect()
}

/// Applies `fulfillmentCreate`: every listed fulfillment order must be open and belong to one
/// order; every quantity must fit what remains. Returns the order's index.
pub fn create_fulfillment(
    shop: &mut ShopState,
    input: &FulfillmentInput,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<usize, Vec<Refusal<()>>> {
    let refuse = |field: &[&str], message: String| vec![Refusal::uncoded(field, message)];
    if input.line_items_by_fulfillment_order.is_empty() {
        return Err(refuse(
            &["fulfillment", "lineItemsByFulfillmentOrder"],
            "Line items can't be blank.".into(),
        ));
    }
    // (fulfillment order index, line index, units) per request, all in one order.
    let mut order_index = None;
    let mut picks: Vec<(usize, usize, i64)> = Vec::new();
    for group in &input.line_items_by_fulfillment_order {
        let id = parse_gid(&group.fulfillment_order_id, "FulfillmentOrder");
        let found = id.and_then(|id| {
            shop.orders.iter().enumerate().find_map(|(o, order)| {
                order.fulfillment_orders.iter().position(|f| f.id == id).map(|f| (o, f))
            })
        });
        let Some((o, f)) = found else {
            let message =
                format!("Fulfillment order {} does not exist.", group.fulfillment_order_id.as_str());
            return Err(refuse(&["fulfillment"], message));
        };
        if *order_index.get_or_insert(o) != o {
            let message = "All fulfillment orders must belong to the same order.".to_string();
            return Err(refuse(&["fulfillment"], message));
        }
        let fulfillment_order = &shop.orders[o].fulfillment_orders[f];
        if !fulfillment_order.status.is_open() {
            let status = format!("{:?}", fulfillment_order.status).to_lowercase();
            let message =
                format!("Fulfillment order {} has an unfulfillable status= {status}.", fulfillment_order.id);
            return Err(refuse(&["fulfillment"], message));
        }
        match &group.fulfillment_order_line_items {
            None => {
                for (l, line) in fulfillment_order.lines.iter().enumerate() {
                    if line.remaining_quantity > 0 {
                        picks.push((f, l, line.remaining_quantity));
                    }
                }
            }
            Some(items) => {
                for item in items {
                    let id = parse_gid(&item.id, "FulfillmentOrderLineItem");
                    let line = id.and_then(|id| fulfillment_order.lines.iter().position(|l| l.id == id));
                    let earlier: i64 =
                        picks.iter().filter(|(pf, pl, _)| *pf == f && Some(*pl) == line).map(|p| p.2).sum();
                    let fits = line.is_some_and(|l| {
                        item.quantity > 0
                            && earlier + i64::from(item.quantity)
                                <= fulfillment_order.lines[l].remaining_quantity
                    });
                    match line {
                        Some(l) if fits => picks.push((f, l, i64::from(item.quantity))),
                        _ => {
                            let message =
                                "Invalid fulfillment order line item quantity requested.".to_string();
                            return Err(refuse(&["fulfillment"], message));
                        }
                    }
                }
            }
        }
    }
    let Some(index) = order_index else {
        return Err(refuse(&["fulfillment"], "Nothing to fulfil.".into()));
    };
    if picks.is_empty() {
        let message = "Invalid fulfillment order line item quantity requested.".to_string();
        return Err(refuse(&["fulfillment"], message));
    }

    let fulfillment_id = FULFILLMENT_ID_BASE + shop.next_record_id();
    // Claimed units leave `committed` where the fulfillment order is.
    let mut releases = Vec::new();
    {
        let order = &shop.orders[index];
        for (f, l, units) in &picks {
            let fulfillment_order = &order.fulfillment_orders[*f];
            let line_item_id = fulfillment_order.lines[*l].line_item_id;
            if let Some(line) = order.line_item(line_item_id).filter(|l| l.claimed) {
                let item = line.inventory_item_id.and_then(|id| shop.find_item(id));
                releases.push((item, fulfillment_order.location_id, *units));
            }
        }
    }
    for (item, location, units) in releases {
        if let Some(item) = item {
            shift(shop, item, location, 0, -units, now, events);
        }
    }
    let order = shop.order_mut(index);
    let mut lines: Vec<(u64, i64)> = Vec::new();
    let mut fulfillment_order_ids = Vec::new();
    let location_id = order.fulfillment_orders[picks[0].0].location_id;
    for (f, l, units) in &picks {
        let fulfillment_order = &mut order.fulfillment_orders[*f];
        let line = &mut fulfillment_order.lines[*l];
        line.remaining_quantity -= units;
        let line_item_id = line.line_item_id;
        fulfillment_order.status = if fulfillment_order.lines.iter().all(|l| l.remaining_quantity == 0) {
            FulfillmentOrderStatus::Closed
        } else {
            FulfillmentOrderStatus::InProgress
        };
        fulfillment_order.updated_at = now;
        if !fulfillment_order_ids.contains(&fulfillment_order.id) {
            fulfillment_order_ids.push(fulfillment_order.id);
        }
        if let Some(item) = order.line_items.iter_mut().find(|i| i.id == line_item_id) {
            item.fulfilled += units;
        }
        match lines.iter_mut().find(|(id, _)| *id == line_item_id) {
            Some((_, total)) => *total += units,
            None => lines.push((line_item_id, *units)),
        }
    }
    let name = format!("{}.{}", order.name, order.fulfillments.len() + 1);
    order.fulfillments.push(FulfillmentRecord {
        id: fulfillment_id,
        name,
        status: FulfillmentStatus::Success,
        created_at: now,
        updated_at: now,
        location_id,
        tracking: tracking(input.tracking_info.as_ref()),
        notify_customer: input.notify_customer,
        lines,
        fulfillment_order_ids,
    });
    order.updated_at = now;
    if let Some(fulfillment) = order.fulfillments.last() {
        events.push(Event { topic: "fulfillments/create", payload: rest::fulfillment(order, fulfillment) });
    }
    Ok(index)
}

/// Applies `fulfillmentTrackingInfoUpdate`: replaces the tracking of one fulfillment and
/// queues `fulfillments/update`. Returns the order's and the fulfillment's indexes.
pub fn update_tracking(
    shop: &mut ShopState,
    fulfillment_id: &ID,
    tracking_input: &FulfillmentTrackingInput,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<(usize, usize), Vec<Refusal<()>>> {
    let id = parse_gid(fulfillment_id, "Fulfillment");
    let found = id.and_then(|id| {
        shop.orders
            .iter()
            .enumerate()
            .find_map(|(o, order)| order.fulfillments.iter().position(|f| f.id == id).map(|f| (o, f)))
    });
    let Some((o, f)) = found else {
        let message = format!("Fulfillment {} does not exist.", fulfillment_id.as_str());
        return Err(vec![Refusal::uncoded(&["fulfillmentId"], message)]);
    };
    let order = shop.order_mut(o);
    let fulfillment = &mut order.fulfillments[f];
    fulfillment.tracking = tracking(Some(tracking_input));
    fulfillment.updated_at = now;
    let payload = rest::fulfillment(order, &order.fulfillments[f]);
    events.push(Event { topic: "fulfillments/update", payload });
    Ok((o, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_carrier_gets_its_tracking_url_and_case_matters() {
        let input = |company: &str| FulfillmentTrackingInput {
            company: Some(company.into()),
            number: Some("1Z999".into()),
            ..Default::default()
        };
        let built = tracking(Some(&input("UPS")));
        assert_eq!(built.len(), 1);
        assert!(built[0].url.as_deref().is_some_and(|u| u.ends_with("1Z999")), "{built:?}");
        assert_eq!(tracking(Some(&input("ups")))[0].url, None);
        let given = FulfillmentTrackingInput { url: Some("https://t.example/1".into()), ..input("UPS") };
        assert_eq!(tracking(Some(&given))[0].url.as_deref(), Some("https://t.example/1"));
    }
}
