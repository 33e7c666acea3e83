//! The seller's decisions the channel's refund settings take over: approving a buyer's return
//! (`approve-returns`) and accepting the goods that came back (`approve-received-goods`).
//! Everything else waits for the merchant (`POST /api/orders/{id}/after-sales/{request}/decide`).
//! Crossdock only ever approves on its own; refusing is the merchant's call.

use crate::db::orders::{ClaimedOrder, Failure, OrderSettle};
use crate::engine::ChannelRuntime;
use crate::model::order::{AfterSale, AfterSaleKind, SellerDecision};
use crate::orders::OrderSettings;
use crate::orders::failure::{Side, settle_for};

/// Whether the settings approve what `request` waits for.
pub(super) fn approved_by_settings(settings: &OrderSettings, request: &AfterSale) -> bool {
    match (request.awaiting_seller, request.kind) {
        (Some(SellerDecision::Request), AfterSaleKind::ReturnAndRefund) => settings.refund.approve_returns,
        (Some(SellerDecision::ReceivedGoods), _) => settings.refund.approve_received_goods,
        _ => false,
    }
}

/// Approves what the request waits for when the settings say so; answers the request as it
/// stands afterwards (no longer waiting for the seller once approved).
pub(super) async fn decide_by_settings(
    channel: &ChannelRuntime,
    settings: &OrderSettings,
    claim: &ClaimedOrder,
    request: &AfterSale,
) -> Result<AfterSale, OrderSettle> {
    let Some(decision) = request.awaiting_seller.filter(|_| approved_by_settings(settings, request)) else {
        return Ok(request.clone());
    };
    let row = &claim.row;
    let doing = match decision {
        SellerDecision::Request => format!("approving return {} of order {}", request.id, row.order.id),
        SellerDecision::ReceivedGoods => {
            format!("accepting the goods of return {} of order {}", request.id, row.order.id)
        }
    };
    match channel.connector.decide_after_sale(&request.id, true).await {
        Ok(()) => {
            tracing::info!(order = %row.order.id, request = %request.id, decision = decision.as_str(), "approved by the channel's settings");
            Ok(AfterSale { awaiting_seller: None, ..request.clone() })
        }
        Err(e) if matches!(e.kind, crate::connectors::ErrorKind::Invalid { .. }) => {
            Err(OrderSettle::Failed(Failure::new(
                "channel_refused",
                format!("{} refused {doing}: {e}", channel.row.name),
                "decide the request in the platform's seller center (or turn the automatic approval off and \
                 decide it from the order page), then retry the order",
            )))
        }
        Err(e) => Err(settle_for(&e, Side::Channel, row.attempts, &doing)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::AfterSaleStage;

    #[test]
    fn settings_approve_returns_and_received_goods_but_never_refunds_or_cancellations() {
        let mut request = AfterSale {
            id: "return:1".into(),
            order_id: "57".into(),
            kind: AfterSaleKind::ReturnAndRefund,
            stage: AfterSaleStage::Requested,
            status: "RETURN_OR_REFUND_REQUEST_PENDING".into(),
            line_ids: vec![],
            refund_amount: None,
            reason: String::new(),
            updated_at: 0,
            awaiting_seller: Some(SellerDecision::Request),
            return_tracking: None,
        };
        let mut settings = OrderSettings::default();
        assert!(!approved_by_settings(&settings, &request), "off by default: the merchant decides");
        settings.refund.approve_returns = true;
        assert!(approved_by_settings(&settings, &request));
        request.awaiting_seller = Some(SellerDecision::ReceivedGoods);
        assert!(!approved_by_settings(&settings, &request));
        settings.refund.approve_received_goods = true;
        assert!(approved_by_settings(&settings, &request));
        request.awaiting_seller = None;
        assert!(!approved_by_settings(&settings, &request), "nothing to decide");
        for kind in [AfterSaleKind::RefundOnly, AfterSaleKind::Cancellation] {
            let asked = AfterSale { kind, awaiting_seller: Some(SellerDecision::Request), ..request.clone() };
            assert!(!approved_by_settings(&settings, &asked), "{kind:?}");
        }
    }
}
