//! After-sale, both ways: cancellations (`cancellations`), and the buyer's refund and return
//! requests on a channel, each followed from request to end. What Crossdock does at each step
//! is the channel's refund settings: decide what the channel waits for the seller to decide
//! (`decisions`: approve a return, accept the goods back) or leave it to the merchant, and
//! record the money once the channel paid it as exactly one store refund (`refunds`),
//! restocking the units only when goods came back. Rejected or withdrawn requests cost nothing.
//! The dispatcher (`dispatch::orders`) calls these for every due order.

pub mod cancellations;
mod decisions;
mod refunds;

use crate::db::orders::{ClaimedOrder, OrderSettle};
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::order::{AfterSale, AfterSaleKind, AfterSaleStage, OrderStage, StoreOrder};
use crate::orders::OrderSettings;
use crate::orders::create::db_failure;
use crate::orders::failure::{Side, settle_for};

pub use cancellations::sync_cancellations;

/// Reads the order's after-sale requests on the channel: makes the decisions the settings
/// take over, and records each request paid in the store once.
#[tracing::instrument(skip_all, fields(order = %claim.row.order.id, channel = %channel.row.name))]
pub async fn sync_after_sales(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    store_order: &StoreOrder,
) -> Result<(), OrderSettle> {
    let db = &engine.app.db;
    let row = &claim.row;
    let requests = channel.connector.order_after_sales(&row.order.id).await.map_err(|e| {
        settle_for(&e, Side::Channel, row.attempts, "reading the order's cancellations and returns")
    })?;
    if requests.is_empty() {
        return Ok(());
    }
    let known = db.after_sales(row.id).await.map_err(db_failure)?;
    for request in &requests {
        let refunded = known.iter().any(|k| k.after_sale_id == request.id && k.store_refund_id.is_some());
        if refunded {
            continue;
        }
        if refund_wanted(settings, row.order.stage, request) {
            refunds::record_store_refund(engine, channel, settings, claim, store_order, request).await?;
            continue;
        }
        let decided = decisions::decide_by_settings(channel, settings, claim, request).await?;
        db.record_after_sale(row.id, &decided, None, state_of(&decided), None).await.map_err(db_failure)?;
    }
    Ok(())
}

/// Whether the request's money is paid and becomes a store refund now.
fn refund_wanted(settings: &OrderSettings, order_stage: OrderStage, request: &AfterSale) -> bool {
    request.stage == AfterSaleStage::Completed
        && settings.refund.channel_to_store
        // A whole-order cancellation cancels the store order rather than refunding it.
        && !(request.kind == AfterSaleKind::Cancellation
            && (order_stage == OrderStage::Cancelled || request.line_ids.is_empty()))
}

/// What a request that is not refunded (yet) is for Crossdock.
fn state_of(request: &AfterSale) -> &'static str {
    match request.stage {
        AfterSaleStage::Requested | AfterSaleStage::InProgress if request.awaiting_seller.is_some() => {
            "awaiting_seller"
        }
        AfterSaleStage::Requested | AfterSaleStage::InProgress => "open",
        AfterSaleStage::Rejected => "rejected",
        AfterSaleStage::Closed => "closed",
        AfterSaleStage::Completed => "ignored",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::SellerDecision;

    fn request(kind: AfterSaleKind, stage: AfterSaleStage, lines: &[&str]) -> AfterSale {
        AfterSale {
            id: "return:1".into(),
            order_id: "57".into(),
            kind,
            stage,
            status: "X".into(),
            line_ids: lines.iter().map(|l| (*l).to_owned()).collect(),
            refund_amount: None,
            reason: String::new(),
            updated_at: 0,
            awaiting_seller: None,
            return_tracking: None,
        }
    }

    #[test]
    fn only_paid_requests_become_refunds_and_whole_cancellations_never_do() {
        let settings = OrderSettings::default();
        let paid = request(AfterSaleKind::ReturnAndRefund, AfterSaleStage::Completed, &["1"]);
        assert!(refund_wanted(&settings, OrderStage::Delivered, &paid));
        for stage in [AfterSaleStage::InProgress, AfterSaleStage::Rejected, AfterSaleStage::Closed] {
            let open = request(AfterSaleKind::ReturnAndRefund, stage, &["1"]);
            assert!(!refund_wanted(&settings, OrderStage::Delivered, &open), "{stage:?}");
        }
        let whole = request(AfterSaleKind::Cancellation, AfterSaleStage::Completed, &[]);
        assert!(!refund_wanted(&settings, OrderStage::AwaitingShipment, &whole));
        let partial = request(AfterSaleKind::Cancellation, AfterSaleStage::Completed, &["1"]);
        assert!(refund_wanted(&settings, OrderStage::AwaitingShipment, &partial));
        assert!(!refund_wanted(&settings, OrderStage::Cancelled, &partial));
        let mut off = settings.clone();
        off.refund.channel_to_store = false;
        assert!(!refund_wanted(&off, OrderStage::Delivered, &paid));
    }

    #[test]
    fn a_request_waiting_for_the_seller_says_so() {
        let mut waiting = request(AfterSaleKind::ReturnAndRefund, AfterSaleStage::InProgress, &["1"]);
        assert_eq!(state_of(&waiting), "open");
        waiting.awaiting_seller = Some(SellerDecision::ReceivedGoods);
        assert_eq!(state_of(&waiting), "awaiting_seller");
        assert_eq!(state_of(&request(AfterSaleKind::RefundOnly, AfterSaleStage::Rejected, &[])), "rejected");
    }
}
