//! Which of the channel's units a store fulfillment ships. A channel line carries its units
//! (TikTok: one line item per unit, the line id their ids joined with `,`); a store
//! fulfillment names store lines and quantities. Each fulfillment takes, per line, as many
//! units as it ships among those no other fulfillment took: not carried by a fulfillment sent
//! before (the record of what was sent, so a channel snapshot that does not show that package
//! yet changes nothing), not in a package the channel shipped with another tracking number
//! (shipped in Seller Center), not taken earlier in the same pass. Units in a channel package
//! with the fulfillment's own tracking number come first: an attempt that shipped them but
//! was not recorded, which the channel connector then recognises instead of shipping again.

use crate::db::orders::ShipmentRow;
use crate::model::order::{ChannelOrder, StoreFulfillment, StoreOrder};
use std::collections::HashSet;

/// The unit ids in contract line ids (`a,b,c` or `a`).
pub fn unit_ids(line_ids: &[String]) -> impl Iterator<Item = &str> {
    line_ids.iter().flat_map(|id| id.split(',')).map(str::trim).filter(|u| !u.is_empty())
}

/// What a store fulfillment ships on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// These units, in the order of the fulfillment's lines.
    Units(Vec<String>),
    /// Its lines came from the channel, but every unit of them is shipped already.
    NothingLeft,
    /// None of its lines came from the channel order.
    NoChannelLine,
}

/// The units spoken for, shared by the fulfillments of one pass.
#[derive(Debug, Default)]
pub struct Taken {
    units: HashSet<String>,
    /// Units in a shipped channel package, by tracking number, that no sent record carries.
    unrecorded: Vec<(String, HashSet<String>)>,
}

impl Taken {
    /// From the fulfillments sent before (`to_channel` rows) and the channel's packages.
    pub fn new(order: &ChannelOrder, sent: &[ShipmentRow]) -> Taken {
        let recorded: HashSet<String> = sent
            .iter()
            .filter(|s| s.direction == super::TO_CHANNEL && s.is_sent())
            .flat_map(|s| s.units.iter().cloned())
            .collect();
        let mut taken = Taken { units: recorded.clone(), unrecorded: Vec::new() };
        for package in &order.packages {
            let Some(tracking) = &package.tracking else { continue };
            let units: HashSet<String> = unit_ids(&package.line_ids).map(str::to_string).collect();
            let unrecorded: HashSet<String> = units.difference(&recorded).cloned().collect();
            taken.units.extend(units);
            if !unrecorded.is_empty() {
                taken.unrecorded.push((tracking.tracking_number.clone(), unrecorded));
            }
        }
        taken
    }

    fn own(&self, tracking_number: &str) -> HashSet<&str> {
        self.unrecorded
            .iter()
            .filter(|(number, _)| number == tracking_number)
            .flat_map(|(_, units)| units.iter().map(String::as_str))
            .collect()
    }

    /// The units `fulfillment` (shipped with `tracking_number`) ships, now taken.
    pub fn plan(
        &mut self,
        store_order: &StoreOrder,
        fulfillment: &StoreFulfillment,
        order: &ChannelOrder,
        tracking_number: &str,
    ) -> Plan {
        let own: HashSet<String> = self.own(tracking_number).into_iter().map(str::to_string).collect();
        let mut picked: Vec<String> = Vec::new();
        let mut from_channel = false;
        for (store_line, quantity) in &fulfillment.lines {
            let source = store_order
                .lines
                .iter()
                .find(|l| &l.id == store_line)
                .and_then(|l| l.source_line_id.as_deref());
            let Some(line) = source.and_then(|s| order.lines.iter().find(|l| l.id == s)) else { continue };
            from_channel = true;
            let units: Vec<&str> = unit_ids(std::slice::from_ref(&line.id)).collect();
            let first = units.iter().filter(|u| own.contains(**u));
            let free = units.iter().filter(|u| !own.contains(**u) && !self.units.contains(**u));
            let chosen: Vec<String> = first
                .chain(free)
                .filter(|u| !picked.iter().any(|p| p == *u))
                .take(*quantity as usize)
                .map(|u| u.to_string())
                .collect();
            picked.extend(chosen);
        }
        if picked.is_empty() {
            return if from_channel { Plan::NothingLeft } else { Plan::NoChannelLine };
        }
        self.units.extend(picked.iter().cloned());
        self.unrecorded.retain(|(number, _)| number != tracking_number);
        Plan::Units(picked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Money;
    use crate::model::order::{
        OrderLine, OrderPackage, OrderStage, OrderTotals, ShippedBy, StoreOrderLine, Tracking,
    };

    fn money() -> Money {
        Money::parse("0", "USD").expect("money")
    }

    /// A channel order of a mug line of units 1,2 and a cup line of unit 3.
    fn channel_order(packages: Vec<OrderPackage>) -> ChannelOrder {
        let line = |id: &str, sku: &str, quantity| OrderLine {
            id: id.into(),
            seller_sku: sku.into(),
            sku_id: None,
            title: sku.into(),
            quantity,
            unit_price: money(),
            seller_discount: money(),
            platform_discount: money(),
        };
        ChannelOrder {
            id: "5700".into(),
            status: "AWAITING_SHIPMENT".into(),
            stage: OrderStage::AwaitingShipment,
            shipped_by: ShippedBy::Seller,
            created_at: 0,
            updated_at: 0,
            lines: vec![line("1,2", "MUG", 2), line("3", "CUP", 1)],
            totals: OrderTotals {
                subtotal: money(),
                shipping: money(),
                tax: money(),
                seller_discount: money(),
                platform_discount: money(),
                buyer_paid: money(),
            },
            shipping_address: None,
            buyer_email: None,
            buyer_message: None,
            packages,
        }
    }

    fn store_order() -> StoreOrder {
        let line = |id: &str, source: &str, quantity| StoreOrderLine {
            id: id.into(),
            variant_id: None,
            sku: None,
            quantity,
            source_line_id: Some(source.into()),
        };
        StoreOrder {
            id: "gid://shopify/Order/1".into(),
            name: "#1001".into(),
            source_identifier: None,
            lines: vec![
                line("L-MUG", "1,2", 2),
                line("L-CUP", "3", 1),
                StoreOrderLine {
                    id: "L-GIFT".into(),
                    variant_id: None,
                    sku: None,
                    quantity: 1,
                    source_line_id: None,
                },
            ],
            cancelled: false,
            fulfillments: Vec::new(),
            refunds: Vec::new(),
            updated_at: 0,
        }
    }

    fn fulfillment(id: &str, lines: &[(&str, u32)]) -> StoreFulfillment {
        StoreFulfillment {
            id: id.into(),
            lines: lines.iter().map(|(l, q)| (l.to_string(), *q)).collect(),
            tracking: None,
            cancelled: false,
            updated_at: 0,
        }
    }

    fn sent(source: &str, units: &[&str]) -> ShipmentRow {
        ShipmentRow {
            direction: super::super::TO_CHANNEL.into(),
            source_id: source.into(),
            target_id: Some("1150".into()),
            carrier: "USPS".into(),
            tracking_number: "9400".into(),
            units: units.iter().map(|u| u.to_string()).collect(),
            state: "sent".into(),
            failure: None,
        }
    }

    fn package(id: &str, lines: &[&str], tracking: &str) -> OrderPackage {
        OrderPackage {
            id: id.into(),
            line_ids: lines.iter().map(|l| l.to_string()).collect(),
            tracking: Some(Tracking {
                carrier: "USPS".into(),
                carrier_id: None,
                tracking_number: tracking.into(),
                url: None,
            }),
        }
    }

    fn units(list: &[&str]) -> Plan {
        Plan::Units(list.iter().map(|u| u.to_string()).collect())
    }

    #[test]
    fn a_quantity_two_line_shipped_one_unit_at_a_time_takes_one_unit_each() {
        let order = channel_order(Vec::new());
        let mut taken = Taken::new(&order, &[]);
        let first = fulfillment("F1", &[("L-MUG", 1), ("L-CUP", 1)]);
        assert_eq!(taken.plan(&store_order(), &first, &order, "9400"), units(&["1", "3"]));
        let second = fulfillment("F2", &[("L-MUG", 1)]);
        assert_eq!(taken.plan(&store_order(), &second, &order, "1Z"), units(&["2"]));
        let third = fulfillment("F3", &[("L-MUG", 1)]);
        assert_eq!(taken.plan(&store_order(), &third, &order, "1Y"), Plan::NothingLeft);
    }

    #[test]
    fn units_a_sent_fulfillment_carried_are_taken_before_the_channel_shows_its_package() {
        let order = channel_order(Vec::new());
        let mut taken = Taken::new(&order, &[sent("F1", &["1", "3"])]);
        let second = fulfillment("F2", &[("L-MUG", 2)]);
        assert_eq!(taken.plan(&store_order(), &second, &order, "1Z"), units(&["2"]));
    }

    #[test]
    fn units_shipped_with_the_fulfillments_own_number_come_first_and_others_are_skipped() {
        // Unit 1 went out with 1Z in an attempt never recorded; unit 2 in Seller Center.
        let order = channel_order(vec![package("1150", &["1"], "1Z"), package("1151", &["2"], "SC-1")]);
        let mut taken = Taken::new(&order, &[]);
        let retried = fulfillment("F1", &[("L-MUG", 1), ("L-CUP", 1)]);
        assert_eq!(taken.plan(&store_order(), &retried, &order, "1Z"), units(&["1", "3"]));
        let again = fulfillment("F2", &[("L-MUG", 1)]);
        assert_eq!(taken.plan(&store_order(), &again, &order, "1Z"), Plan::NothingLeft);
    }

    #[test]
    fn a_fulfillment_of_lines_the_channel_order_does_not_have_ships_nothing() {
        let order = channel_order(Vec::new());
        let mut taken = Taken::new(&order, &[]);
        let gift = fulfillment("F1", &[("L-GIFT", 1), ("L-UNKNOWN", 1)]);
        assert_eq!(taken.plan(&store_order(), &gift, &order, "9400"), Plan::NoChannelLine);
    }

    #[test]
    fn package_line_ids_split_into_units() {
        let ids = vec!["1,2".to_string(), "3".to_string(), " ".to_string()];
        assert_eq!(unit_ids(&ids).collect::<Vec<_>>(), vec!["1", "2", "3"]);
    }
}
