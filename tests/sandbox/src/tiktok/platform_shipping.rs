//! Orders TikTok ships itself (TikTok Shipping, `shipping_type` TIKTOK, reference §7.1): the
//! platform, not the seller, hands units to its carrier and assigns the provider and tracking
//! number, a package per hand-over. The seller's ship calls on such orders are refused
//! (`fulfillment`); tests and the demo ship them through the control API.

use super::fulfillment::{self, Handover};
use super::logistics;
use super::orders::ShippingType;
use super::state::State;

/// What the platform shipped: the package, its units, the carrier and number it assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformShipment {
    pub package_id: String,
    pub line_item_ids: Vec<String>,
    pub shipping_provider_id: String,
    pub shipping_provider_name: String,
    pub tracking_number: String,
}

/// The platform ships `lines` (seller SKU, units; none: every unit not shipped yet) of a
/// TikTok-shipped order with `provider` (a provider name; USPS when none). Errors say why in
/// words a test reads: not the shop's order, shipped by the seller, an unknown provider, too
/// few units left, or the order's state.
pub(crate) fn ship(
    state: &mut State,
    cipher: &str,
    order_id: &str,
    lines: &[(&str, u32)],
    provider: Option<&str>,
) -> Result<PlatformShipment, String> {
    let order = state
        .orders
        .orders
        .get(order_id)
        .filter(|o| o.cipher == cipher)
        .ok_or_else(|| format!("the shop has no order {order_id:?}"))?;
    if order.shipping_type != ShippingType::Tiktok {
        return Err(format!("order {order_id} is shipped by the seller, not by TikTok"));
    }
    let (provider_id, provider_name) = logistics::provider_named(provider.unwrap_or("USPS"))
        .ok_or_else(|| format!("no shipping provider is named {:?}", provider.unwrap_or_default()))?;
    let units = if lines.is_empty() {
        None
    } else {
        let shipped = |package: &Option<String>| {
            package
                .as_ref()
                .and_then(|p| state.orders.packages.get(p))
                .is_some_and(|p| p.tracking_number.is_some())
        };
        let mut units = Vec::new();
        for (seller_sku, quantity) in lines {
            let left: Vec<String> = order
                .lines
                .iter()
                .filter(|l| l.seller_sku == *seller_sku && !shipped(&l.package_id))
                .map(|l| l.id.clone())
                .take(*quantity as usize)
                .collect();
            if left.len() < *quantity as usize {
                return Err(format!(
                    "order {order_id} has {} unit(s) of {seller_sku:?} left to ship, not {quantity}",
                    left.len()
                ));
            }
            units.extend(left);
        }
        Some(units)
    };
    let tracking_number = state.next_id("94");
    let handover = Handover {
        tracking_number: Some(tracking_number.clone()),
        provider_id: Some(provider_id.to_owned()),
        units,
    };
    let (package_id, line_item_ids) =
        fulfillment::ship(state, cipher, order_id, handover).map_err(|e| e.message)?;
    Ok(PlatformShipment {
        package_id,
        line_item_ids,
        shipping_provider_id: provider_id.to_owned(),
        shipping_provider_name: provider_name.to_owned(),
        tracking_number,
    })
}
