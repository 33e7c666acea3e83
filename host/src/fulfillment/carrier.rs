//! The channel's shipping provider for a store carrier: the channel's carrier mapping first,
//! else the provider of the same name; neither is an `unmapped_carrier` failure naming the
//! fulfillment and pointing to the mapping.

use crate::db::orders::{ClaimedOrder, Failure, OrderSettle};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::StoreFulfillment;
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};

/// A channel shipping provider: its id and name.
pub struct Provider {
    pub id: String,
    pub name: String,
}

/// The provider for `carrier`, the carrier of `fulfillment`; `Err(Ok(failure))` when nothing
/// maps it (the caller records it on the fulfillment), `Err(Err(settle))` when the providers
/// could not be read.
pub async fn provider_for(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    fulfillment: &StoreFulfillment,
    carrier: &str,
) -> Result<Provider, Result<Failure, OrderSettle>> {
    let wanted = carrier.trim().to_lowercase();
    let mappings = engine.app.db.carrier_mappings(channel.row.id).await.map_err(|e| Err(db_failure(e)))?;
    if let Some((_, id, name)) = mappings.into_iter().find(|(c, _, _)| *c == wanted) {
        return Ok(Provider { id, name });
    }
    let providers = channel.connector.shipping_providers().await.map_err(|e| {
        Err(settle_for(&e, Side::Channel, claim.row.attempts, "reading the shipping providers"))
    })?;
    if let Some(p) = providers.iter().find(|p| p.name.trim().to_lowercase() == wanted) {
        return Ok(Provider { id: p.id.clone(), name: p.name.clone() });
    }
    Err(Ok(Failure::new(
        "unmapped_carrier",
        format!(
            "store carrier `{carrier}` (fulfillment {} of order {}) matches none of {}'s shipping providers",
            fulfillment.id, claim.row.order.id, channel.row.name
        ),
        format!(
            "map `{carrier}` to a shipping provider: PUT /api/channels/{}/carriers (GET it for the provider list), \
             then retry the order",
            channel.row.id
        ),
    )))
}
