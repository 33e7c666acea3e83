//! Shipments, both ways: a store fulfillment (carrier and tracking number, whole, partial or
//! split by line) reaches the channel through the channel's carrier mapping, and tracking
//! corrections follow it; an order the platform ships itself (TikTok Shipping) has its
//! packages recorded as store fulfillments.

use crate::db::orders::{ClaimedOrder, Failure, OrderSettle, ShipmentRow};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{ShippedBy, StoreFulfillment, StoreOrder};
use crate::orders::OrderSettings;
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};
use std::collections::HashSet;

const TO_CHANNEL: &str = "to_channel";
const TO_STORE: &str = "to_store";

/// Sends what the store shipped to the channel and records what the channel shipped in the
/// store, as the settings say.
pub async fn sync_shipments(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let shipments = db.shipments(claim.row.id).await.map_err(db_failure)?;
    match claim.row.order.shipped_by {
        ShippedBy::Seller if settings.fulfillment.send_tracking => {
            to_channel(engine, channel, claim, store_order, &shipments).await
        }
        ShippedBy::Platform if settings.fulfillment.record_platform_shipments => {
            to_store(engine, claim, store_order, &shipments).await
        }
        _ => Ok(()),
    }
}

async fn to_channel(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    shipments: &[ShipmentRow],
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let order = &claim.row.order;
    // Units already in a package with tracking, and those handed over in this pass.
    let mut shipped_units: HashSet<String> = order
        .packages
        .iter()
        .filter(|p| p.tracking.is_some())
        .flat_map(|p| p.line_ids.iter().flat_map(|id| id.split(',').map(str::to_string)))
        .collect();
    for fulfillment in store_order.fulfillments.iter().filter(|f| !f.cancelled) {
        let Some(tracking) = &fulfillment.tracking else { continue };
        let sent = shipments.iter().find(|s| s.direction == TO_CHANNEL && s.source_id == fulfillment.id);
        if let Some(sent) = sent
            && sent.state == "sent"
        {
            if sent.tracking_number == tracking.tracking_number && sent.carrier == tracking.carrier {
                continue;
            }
            // A tracking correction made in the store.
            let provider = provider_for(engine, channel, claim, fulfillment, &tracking.carrier).await?;
            let package = sent.target_id.clone().unwrap_or_default();
            channel
                .connector
                .update_tracking(&order.id, &package, &provider.0, &tracking.tracking_number)
                .await
                .map_err(|e| {
                    settle_for(&e, Side::Channel, claim.row.attempts, "correcting the tracking number")
                })?;
            db.record_shipment(
                claim.row.id,
                TO_CHANNEL,
                &fulfillment.id,
                Some(&package),
                &tracking.carrier,
                &tracking.tracking_number,
                None,
            )
            .await
            .map_err(db_failure)?;
            tracing::info!(order = %order.id, package = %package, "tracking corrected on the channel");
            continue;
        }
        let provider = provider_for(engine, channel, claim, fulfillment, &tracking.carrier).await?;
        let line_ids = channel_units(store_order, fulfillment, &claim.row.order.lines, &mut shipped_units);
        match channel.connector.ship(&order.id, &line_ids, &provider.0, &tracking.tracking_number).await {
            Ok(package) => {
                db.record_shipment(
                    claim.row.id,
                    TO_CHANNEL,
                    &fulfillment.id,
                    Some(&package),
                    &tracking.carrier,
                    &tracking.tracking_number,
                    None,
                )
                .await
                .map_err(db_failure)?;
                tracing::info!(order = %order.id, package = %package, carrier = %provider.1, "shipment sent to the channel");
            }
            Err(e) => {
                let settle = settle_for(&e, Side::Channel, claim.row.attempts, "sending the tracking number");
                if let OrderSettle::Failed(f) = &settle {
                    let f = Failure::new(
                        "tracking_refused",
                        f.cause.clone(),
                        "check the tracking number and carrier in the store (the channel refused them; orders on hold \
                         or with an open cancellation cannot ship yet), then retry the order",
                    );
                    db.record_shipment(
                        claim.row.id,
                        TO_CHANNEL,
                        &fulfillment.id,
                        None,
                        &tracking.carrier,
                        &tracking.tracking_number,
                        Some(&f),
                    )
                    .await
                    .map_err(db_failure)?;
                    return Err(OrderSettle::Failed(f));
                }
                return Err(settle);
            }
        }
    }
    Ok(())
}

/// The channel's shipping provider (id, name) for a store carrier: the channel's carrier
/// mapping first, else the provider of the same name.
async fn provider_for(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    claim: &ClaimedOrder,
    fulfillment: &StoreFulfillment,
    carrier: &str,
) -> Result<(String, String), OrderSettle> {
    let db = &engine.app.db;
    let wanted = carrier.trim().to_lowercase();
    let mappings = db.carrier_mappings(channel.row.id).await.map_err(db_failure)?;
    if let Some((_, id, name)) = mappings.into_iter().find(|(c, _, _)| *c == wanted) {
        return Ok((id, name));
    }
    let providers =
        channel.connector.shipping_providers().await.map_err(|e| {
            settle_for(&e, Side::Channel, claim.row.attempts, "reading the shipping providers")
        })?;
    if let Some(p) = providers.iter().find(|p| p.name.trim().to_lowercase() == wanted) {
        return Ok((p.id.clone(), p.name.clone()));
    }
    let f = Failure::new(
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
    );
    let number = fulfillment.tracking.as_ref().map(|t| t.tracking_number.as_str()).unwrap_or_default();
    db.record_shipment(claim.row.id, TO_CHANNEL, &fulfillment.id, None, carrier, number, Some(&f))
        .await
        .map_err(db_failure)?;
    Err(OrderSettle::Failed(f))
}

/// The channel's unit line ids a store fulfillment covers: for each store line, as many units
/// of its channel line as the fulfillment ships, skipping units already shipped.
fn channel_units(
    store_order: &StoreOrder,
    fulfillment: &StoreFulfillment,
    lines: &[crate::model::order::OrderLine],
    shipped: &mut HashSet<String>,
) -> Vec<String> {
    let mut units = Vec::new();
    for (store_line, quantity) in &fulfillment.lines {
        let source =
            store_order.lines.iter().find(|l| &l.id == store_line).and_then(|l| l.source_line_id.clone());
        let Some(line) = source.and_then(|s| lines.iter().find(|l| l.id == s)) else { continue };
        let pending: Vec<String> = line
            .id
            .split(',')
            .map(str::to_string)
            .filter(|u| !shipped.contains(u))
            .take(*quantity as usize)
            .collect();
        for unit in &pending {
            shipped.insert(unit.clone());
        }
        units.extend(pending);
    }
    units
}

async fn to_store(
    engine: &SyncEngine,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    shipments: &[ShipmentRow],
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let order = &claim.row.order;
    for package in &order.packages {
        let Some(tracking) = &package.tracking else { continue };
        if shipments.iter().any(|s| s.direction == TO_STORE && s.source_id == package.id && s.state == "sent")
        {
            continue;
        }
        let mut lines: Vec<(String, u32)> = Vec::new();
        for line in &order.lines {
            let units: Vec<&str> = line.id.split(',').collect();
            let in_package = package
                .line_ids
                .iter()
                .flat_map(|id| id.split(','))
                .filter(|unit| units.contains(unit))
                .count();
            if in_package == 0 {
                continue;
            }
            if let Some(store_line) = store_order.line_for_source(&line.id) {
                lines.push((store_line.id.clone(), u32::try_from(in_package).unwrap_or(u32::MAX)));
            }
        }
        let id =
            engine.store_connector.fulfill_order(&store_order.id, &lines, tracking).await.map_err(|e| {
                settle_for(&e, Side::Store, claim.row.attempts, "recording the platform's shipment")
            })?;
        db.record_shipment(
            claim.row.id,
            TO_STORE,
            &package.id,
            Some(&id),
            &tracking.carrier,
            &tracking.tracking_number,
            None,
        )
        .await
        .map_err(db_failure)?;
        tracing::info!(order = %order.id, package = %package.id, "platform shipment recorded in the store");
    }
    Ok(())
}
