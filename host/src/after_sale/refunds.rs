//! A request the channel paid becomes exactly one store refund: keyed by the request (a retried
//! refund is recorded once), in the store's currency, over the store lines of the units it
//! covers, restocked only when the goods came back (a return) and the settings say so.

use crate::db::orders::{ClaimedOrder, Failure, OrderSettle};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::Money;
use crate::model::order::{AfterSale, AfterSaleKind, StoreOrder};
use crate::orders::OrderSettings;
use crate::orders::create::{db_failure, source_identifier};
use crate::orders::failure::{Side, settle_for};
use rust_decimal::Decimal;

/// Whether the store puts the refunded units back in stock.
pub(super) fn restocks(settings: &OrderSettings, kind: AfterSaleKind) -> bool {
    match kind {
        AfterSaleKind::ReturnAndRefund => settings.refund.restock_returns,
        AfterSaleKind::RefundOnly => settings.refund.restock_refund_only,
        AfterSaleKind::Cancellation => settings.cancellation.restock,
    }
}

/// Records the paid request as a store refund and the refund on its row.
pub(super) async fn record_store_refund(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
    request: &AfterSale,
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let row = &claim.row;
    let restock = restocks(settings, request.kind);
    let lines = store_lines(store_order, &row.order.lines, &request.line_ids);
    let amount = refund_amount(engine, channel, request, store_order)?;
    let key = format!("{}:refund:{}", source_identifier(channel, &row.order.id), request.id);
    let note =
        format!("{} {} on {}: {}", request.kind.as_str(), request.id, channel.row.name, request.reason);
    match engine.store_connector.refund_order(&store_order.id, &key, &lines, &amount, restock, &note).await {
        Ok(refund_id) => {
            db.record_after_sale(row.id, request, Some(&refund_id), "done", None)
                .await
                .map_err(db_failure)?;
            tracing::info!(order = %row.order.id, request = %request.id, refund = %refund_id, %amount, restock, "store refund recorded");
            Ok(())
        }
        Err(e) => {
            let settle =
                settle_for(&e, Side::Store, row.attempts, &format!("recording refund {}", request.id));
            if let OrderSettle::Failed(f) = &settle {
                db.record_after_sale(row.id, request, None, "failed", Some(f)).await.map_err(db_failure)?;
            }
            Err(settle)
        }
    }
}

/// (store line id, units) for the channel unit or line ids a request covers.
fn store_lines(
    store_order: &StoreOrder,
    lines: &[crate::model::order::OrderLine],
    ids: &[String],
) -> Vec<(String, u32)> {
    let units: Vec<&str> = ids.iter().flat_map(|id| id.split(',')).collect();
    let mut out = Vec::new();
    for line in lines {
        let count = line.id.split(',').filter(|u| units.contains(u)).count();
        if count == 0 {
            continue;
        }
        if let Some(store_line) = store_order.line_for_source(&line.id) {
            out.push((store_line.id.clone(), u32::try_from(count).unwrap_or(u32::MAX)));
        }
    }
    out
}

/// The amount to refund in the store's currency.
fn refund_amount(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    request: &AfterSale,
    store_order: &StoreOrder,
) -> Result<Money, OrderSettle> {
    let Some(amount) = &request.refund_amount else {
        return Err(OrderSettle::Failed(Failure::new(
            "refund_amount_unknown",
            format!(
                "{} {} on order {} does not say how much was refunded",
                request.kind.as_str(),
                request.id,
                request.order_id
            ),
            format!("record the refund in the store by hand (store order {})", store_order.name),
        )));
    };
    let Some(store_currency) = engine.store.currency.clone() else {
        return Ok(amount.clone());
    };
    if amount.currency == store_currency {
        return Ok(amount.clone());
    }
    match channel.row.exchange_rate {
        Some(rate) if rate > Decimal::ZERO => {
            Ok(Money::new((amount.amount / rate).round_dp(2), store_currency))
        }
        _ => Err(OrderSettle::Failed(Failure::new(
            "currency_mismatch",
            format!(
                "refund {} is in {}, the store in {store_currency}, and no exchange rate is set",
                request.id, amount.currency
            ),
            "set the channel's exchange rate, then retry the order",
        ))),
    }
}
