//! Orders the platform ships itself (TikTok Shipping): the platform arranges the carrier and
//! the tracking, so shipments flow channel → store. Each platform package with tracking
//! becomes one store fulfillment of the store lines its units belong to, once (recorded per
//! package; the store connector also finds a fulfillment it made with that number before).
//! The store's own fulfillments of such an order are not sent to the channel, which would
//! refuse them: the order's detail says so instead of the order failing.

use super::units::unit_ids;
use super::{TO_CHANNEL, TO_STORE};
use crate::db::orders::{ClaimedOrder, Failure, OrderSettle, ShipmentOutcome, ShipmentRecord, ShipmentRow};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{ChannelOrder, OrderPackage, StoreOrder};
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};

/// Records every shipped platform package not recorded yet as a store fulfillment.
pub async fn record_packages(
    engine: &SyncEngine,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    shipments: &[ShipmentRow],
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let order = &claim.row.order;
    for package in &order.packages {
        let Some(tracking) = &package.tracking else { continue };
        let recorded =
            shipments.iter().any(|s| s.direction == TO_STORE && s.source_id == package.id && s.is_sent());
        if recorded {
            continue;
        }
        let lines = store_lines(order, package, store_order);
        if lines.is_empty() {
            // Units the store order does not have (lines the store dropped): nothing to record.
            continue;
        }
        let id =
            engine.store_connector.fulfill_order(&store_order.id, &lines, tracking).await.map_err(|e| {
                let what = format!(
                    "recording the platform's package {} in store order {}",
                    package.id, store_order.name
                );
                settle_for(&e, Side::Store, claim.row.attempts, &what)
            })?;
        let units: Vec<String> = unit_ids(&package.line_ids).map(str::to_string).collect();
        let record = ShipmentRecord {
            direction: TO_STORE,
            source_id: &package.id,
            target_id: Some(&id),
            carrier: &tracking.carrier,
            tracking_number: &tracking.tracking_number,
            units: &units,
        };
        db.record_shipment(claim.row.id, &record, ShipmentOutcome::Sent).await.map_err(db_failure)?;
        tracing::info!(order = %order.id, package = %package.id, fulfillment = %id, "platform shipment recorded in the store");
    }
    Ok(())
}

/// The store lines and units a platform package ships.
fn store_lines(order: &ChannelOrder, package: &OrderPackage, store_order: &StoreOrder) -> Vec<(String, u32)> {
    let in_package: Vec<&str> = unit_ids(&package.line_ids).collect();
    order
        .lines
        .iter()
        .filter_map(|line| {
            let units = unit_ids(std::slice::from_ref(&line.id)).filter(|u| in_package.contains(u)).count();
            let store_line = store_order.line_for_source(&line.id)?;
            (units > 0).then(|| (store_line.id.clone(), u32::try_from(units).unwrap_or(u32::MAX)))
        })
        .collect()
}

/// Records, once each, that the store's own fulfillments of a platform-shipped order are not
/// sent to the channel. The fulfillments recorded from the platform's packages (by id, or by
/// the package's tracking number) are the platform's own and need no note.
pub async fn hold_back_store_fulfillments(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    shipments: &[ShipmentRow],
) -> Result<(), OrderSettle> {
    let order = &claim.row.order;
    for fulfillment in store_order.fulfillments.iter().filter(|f| !f.cancelled) {
        let Some(tracking) = &fulfillment.tracking else { continue };
        let from_platform = shipments
            .iter()
            .any(|s| s.direction == TO_STORE && s.target_id.as_deref() == Some(fulfillment.id.as_str()))
            || order
                .packages
                .iter()
                .any(|p| p.tracking.as_ref().is_some_and(|t| t.tracking_number == tracking.tracking_number));
        let noted = shipments.iter().any(|s| s.direction == TO_CHANNEL && s.source_id == fulfillment.id);
        if from_platform || noted {
            continue;
        }
        let note = Failure::new(
            "shipped_by_platform",
            format!(
                "order {} is shipped by {} (TikTok Shipping): store fulfillment {} ({} {}) of {} is not sent to it",
                order.id,
                channel.row.name,
                fulfillment.id,
                tracking.carrier,
                tracking.tracking_number,
                store_order.name
            ),
            "nothing to do: the platform arranges the carrier, and its packages come into the store as fulfillments \
             with their tracking; ship the order with the platform's label",
        );
        let record = ShipmentRecord {
            direction: TO_CHANNEL,
            source_id: &fulfillment.id,
            target_id: None,
            carrier: &tracking.carrier,
            tracking_number: &tracking.tracking_number,
            units: &[],
        };
        engine
            .app
            .db
            .record_shipment(claim.row.id, &record, ShipmentOutcome::NotSent(&note))
            .await
            .map_err(db_failure)?;
        tracing::info!(order = %order.id, fulfillment = %fulfillment.id, "store fulfillment of a platform-shipped order not sent");
    }
    Ok(())
}
