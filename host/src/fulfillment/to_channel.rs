//! Store fulfillments to the channel, for orders the seller ships: each fulfillment with a
//! carrier and tracking number becomes its own package on the channel, carrying exactly the
//! units it ships (`units`), with the carrier mapped (`carrier`); a tracking number changed in
//! the store later corrects that package alone. What was sent is recorded per fulfillment, so
//! working the order again sends nothing twice.

use super::TO_CHANNEL;
use super::carrier::{Provider, provider_for};
use super::units::{Plan, Taken};
use crate::connectors::ErrorKind;
use crate::db::orders::{ClaimedOrder, Failure, OrderSettle, ShipmentOutcome, ShipmentRecord, ShipmentRow};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{StoreFulfillment, StoreOrder, Tracking};
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};

/// Sends every store fulfillment not sent yet, and corrects the packages whose tracking
/// changed in the store. Stops at the first failure, recorded on its fulfillment.
pub async fn send_fulfillments(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    shipments: &[ShipmentRow],
) -> Result<(), OrderSettle> {
    let mut taken = Taken::new(&claim.row.order, shipments);
    for fulfillment in store_order.fulfillments.iter().filter(|f| !f.cancelled) {
        let Some(tracking) = &fulfillment.tracking else { continue };
        let record = shipments.iter().find(|s| s.direction == TO_CHANNEL && s.source_id == fulfillment.id);
        match record {
            Some(sent) if sent.is_sent() => {
                if sent.tracking_number != tracking.tracking_number || sent.carrier != tracking.carrier {
                    correct(engine, channel, claim, fulfillment, tracking, sent).await?;
                }
            }
            Some(not_sent) if not_sent.is_not_sent() => {}
            _ => send(engine, channel, claim, store_order, fulfillment, tracking, &mut taken).await?,
        }
    }
    Ok(())
}

/// Sends one fulfillment as a package of its own units.
async fn send(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    fulfillment: &StoreFulfillment,
    tracking: &Tracking,
    taken: &mut Taken,
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let order = &claim.row.order;
    let units = match taken.plan(store_order, fulfillment, order, &tracking.tracking_number) {
        Plan::Units(units) => units,
        other => {
            let cause = match other {
                Plan::NothingLeft => format!(
                    "store fulfillment {} ({} {}) of {} ships units of order {} that are shipped on {} already \
                     (by an earlier fulfillment or in the platform's seller center)",
                    fulfillment.id,
                    tracking.carrier,
                    tracking.tracking_number,
                    store_order.name,
                    order.id,
                    channel.row.name
                ),
                _ => format!(
                    "store fulfillment {} ({} {}) of {} ships no line that came from order {} on {}",
                    fulfillment.id,
                    tracking.carrier,
                    tracking.tracking_number,
                    store_order.name,
                    order.id,
                    channel.row.name
                ),
            };
            let note = Failure::new(
                "nothing_to_ship",
                cause,
                "nothing to do; if a unit is missing on the channel, fulfill it in the store with its own tracking number",
            );
            let record = record_of(fulfillment, None, tracking, &[]);
            db.record_shipment(claim.row.id, &record, ShipmentOutcome::NotSent(&note))
                .await
                .map_err(db_failure)?;
            tracing::info!(order = %order.id, fulfillment = %fulfillment.id, "store fulfillment ships nothing new");
            return Ok(());
        }
    };
    let provider = provider_or_record(engine, channel, claim, fulfillment, tracking, &units).await?;
    match channel.connector.ship(&order.id, &units, &provider.id, &tracking.tracking_number).await {
        Ok(package) => {
            let record = record_of(fulfillment, Some(&package), tracking, &units);
            db.record_shipment(claim.row.id, &record, ShipmentOutcome::Sent).await.map_err(db_failure)?;
            tracing::info!(
                order = %order.id, fulfillment = %fulfillment.id, package = %package, carrier = %provider.name,
                units = units.len(), "shipment sent to the channel"
            );
            Ok(())
        }
        Err(e) => {
            let what = format!("sending store fulfillment {} ({} unit(s))", fulfillment.id, units.len());
            let settle = settle_for(&e, Side::Channel, claim.row.attempts, &what);
            let OrderSettle::Failed(f) = &settle else { return Err(settle) };
            let refused = Failure::new("tracking_refused", f.cause.clone(), REFUSED_FIX);
            let record = record_of(fulfillment, None, tracking, &units);
            db.record_shipment(claim.row.id, &record, ShipmentOutcome::Failed(&refused))
                .await
                .map_err(db_failure)?;
            Err(OrderSettle::Failed(refused))
        }
    }
}

const REFUSED_FIX: &str = "check the tracking number and carrier in the store (the channel refused them; orders on \
                           hold or with an open cancellation cannot ship yet), then retry the order";

/// Corrects the package a fulfillment was sent as, after its tracking changed in the store.
async fn correct(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    fulfillment: &StoreFulfillment,
    tracking: &Tracking,
    sent: &ShipmentRow,
) -> Result<(), OrderSettle> {
    let order = &claim.row.order;
    let package = sent.target_id.clone().unwrap_or_default();
    let provider = match provider_for(engine, channel, claim, fulfillment, &tracking.carrier).await {
        Ok(provider) => provider,
        // The package stays as sent; the failure is the order's until the mapping exists.
        Err(Ok(unmapped)) => return Err(OrderSettle::Failed(unmapped)),
        Err(Err(settle)) => return Err(settle),
    };
    let updated =
        channel.connector.update_tracking(&order.id, &package, &provider.id, &tracking.tracking_number).await;
    if let Err(e) = updated {
        let what =
            format!("correcting the tracking of package {package} (store fulfillment {})", fulfillment.id);
        return Err(match settle_for(&e, Side::Channel, claim.row.attempts, &what) {
            OrderSettle::Failed(f) if matches!(e.kind, ErrorKind::Invalid { .. }) => {
                OrderSettle::Failed(Failure::new(
                    "tracking_refused",
                    f.cause,
                    "the channel refused the correction (TikTok allows one, within 72 hours of shipment): correct it in \
                 the platform's seller center, or put the number it has back in the store, then retry the order",
                ))
            }
            other => other,
        });
    }
    let record = record_of(fulfillment, Some(&package), tracking, &sent.units);
    engine.app.db.record_shipment(claim.row.id, &record, ShipmentOutcome::Sent).await.map_err(db_failure)?;
    tracing::info!(order = %order.id, fulfillment = %fulfillment.id, package = %package, "tracking corrected on the channel");
    Ok(())
}

/// The provider for a fulfillment's carrier; an unmapped carrier is recorded on the
/// fulfillment and stops the order.
async fn provider_or_record(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    fulfillment: &StoreFulfillment,
    tracking: &Tracking,
    units: &[String],
) -> Result<Provider, OrderSettle> {
    match provider_for(engine, channel, claim, fulfillment, &tracking.carrier).await {
        Ok(provider) => Ok(provider),
        Err(Ok(unmapped)) => {
            let record = record_of(fulfillment, None, tracking, units);
            engine
                .app
                .db
                .record_shipment(claim.row.id, &record, ShipmentOutcome::Failed(&unmapped))
                .await
                .map_err(db_failure)?;
            Err(OrderSettle::Failed(unmapped))
        }
        Err(Err(settle)) => Err(settle),
    }
}

fn record_of<'a>(
    fulfillment: &'a StoreFulfillment,
    package: Option<&'a str>,
    tracking: &'a Tracking,
    units: &'a [String],
) -> ShipmentRecord<'a> {
    ShipmentRecord {
        direction: TO_CHANNEL,
        source_id: &fulfillment.id,
        target_id: package,
        carrier: &tracking.carrier,
        tracking_number: &tracking.tracking_number,
        units,
    }
}
