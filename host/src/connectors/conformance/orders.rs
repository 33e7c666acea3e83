//! The kit's order checks (contract 0.3.0), reading only: nothing is ordered, shipped,
//! cancelled or refunded. A plugin built for an older contract is told they are not
//! available, which is not a failure.

use super::Report;
use crate::connectors::channel_connector::ChannelConnector;
use crate::connectors::error::ErrorKind;
use crate::connectors::store_connector::StoreConnector;
use crate::model::order::ChannelOrder;
use std::collections::HashSet;

/// How far back the kit reads orders.
const LOOKBACK_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// An order's lines and amounts make sense together.
fn check_order(order: &ChannelOrder) -> Result<(), String> {
    let currency = &order.totals.buyer_paid.currency;
    if order.lines.is_empty() {
        return Err(format!("order {} has no lines", order.id));
    }
    for line in &order.lines {
        if line.quantity == 0 {
            return Err(format!("order {} line {} has quantity 0", order.id, line.id));
        }
        if line.seller_sku.trim().is_empty() {
            return Err(format!("order {} line {} has no seller SKU", order.id, line.id));
        }
        if &line.unit_price.currency != currency {
            return Err(format!(
                "order {} line {} is in {}, the order in {currency}",
                order.id, line.id, line.unit_price.currency
            ));
        }
    }
    Ok(())
}

pub(super) async fn check_channel_orders(channel: &ChannelConnector, report: &mut Report) {
    const CHECKS: [(&str, &str); 5] = [
        ("list-orders", "reads the last 30 days of orders with valid lines and amounts"),
        ("get-order", "answers none or not-found for an unknown order"),
        ("shipping-providers", "lists the carriers tracking can be sent with"),
        ("list-after-sales", "reads the last 30 days of cancellations and returns"),
        ("channel-webhooks", "refuses a delivery with a forged signature"),
    ];
    if !channel.supports_orders() {
        for (operation, check) in CHECKS {
            report.skip(operation, check, format!("not available (contract {})", channel.contract()));
        }
        return;
    }
    report
        .run(CHECKS[0].0, CHECKS[0].1, async {
            let page = channel
                .list_orders(crate::db::now_ms() - LOOKBACK_MS, None, 20)
                .await
                .map_err(|e| e.to_string())?;
            for order in &page.orders {
                check_order(order)?;
            }
            Ok(format!("{} orders on the first page", page.orders.len()))
        })
        .await;
    report
        .run(CHECKS[1].0, CHECKS[1].1, async {
            match channel.get_order("1000000000000000001").await {
                Ok(None) => Ok("none".into()),
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_) | ErrorKind::Invalid { .. }) => {
                    Ok(e.to_string())
                }
                Err(e) => Err(format!("expected none or not-found, got: {e}")),
                Ok(Some(order)) => Err(format!("answered order {} for a made-up id", order.id)),
            }
        })
        .await;
    report
        .run(CHECKS[2].0, CHECKS[2].1, async {
            let providers = channel.shipping_providers().await.map_err(|e| e.to_string())?;
            let ids: HashSet<&str> = providers.iter().map(|p| p.id.as_str()).collect();
            if providers.is_empty() {
                return Err("no shipping providers: no tracking could ever be sent".into());
            }
            if ids.len() != providers.len() {
                return Err("a provider id is listed twice".into());
            }
            let names: Vec<&str> = providers.iter().take(5).map(|p| p.name.as_str()).collect();
            Ok(format!("{} providers ({}…)", providers.len(), names.join(", ")))
        })
        .await;
    report
        .run(CHECKS[3].0, CHECKS[3].1, async {
            let page = channel
                .list_after_sales(crate::db::now_ms() - LOOKBACK_MS, None, 20)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("{} requests on the first page", page.requests.len()))
        })
        .await;
    report
        .run(CHECKS[4].0, CHECKS[4].1, async {
            let headers = vec![
                ("authorization".to_string(), "0".repeat(64)),
                ("content-type".to_string(), "application/json".to_string()),
            ];
            let body = br#"{"type":1,"shop_id":"1","timestamp":1,"data":{"order_id":"1"}}"#.to_vec();
            match channel.verify_webhook(headers, body).await {
                Err(e) if matches!(e.kind, ErrorKind::Unauthorized(_)) => Ok(e.to_string()),
                Err(e) => Err(format!("expected unauthorized, got: {e}")),
                Ok(d) => Err(format!("accepted a forged delivery (topic {})", d.topic)),
            }
        })
        .await;
}

pub(super) async fn check_store_orders(store: &StoreConnector, report: &mut Report) {
    const CHECKS: [(&str, &str); 3] = [
        ("find-order", "finds nothing for a source identifier never used"),
        ("get-order", "answers none or not-found for an unknown order"),
        ("list-orders", "reads the orders Crossdock created in the last 30 days"),
    ];
    if !store.supports_orders() {
        for (operation, check) in CHECKS {
            report.skip(operation, check, format!("not available (contract {})", store.plugin().contract()));
        }
        return;
    }
    report
        .run(CHECKS[0].0, CHECKS[0].1, async {
            match store.find_order("crossdock:conformance:0:no-such-order").await {
                Ok(None) => Ok("none".into()),
                Ok(Some(order)) => {
                    Err(format!("answered order {} for a made-up source identifier", order.id))
                }
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    report
        .run(CHECKS[1].0, CHECKS[1].1, async {
            match store.get_order("1000000000000000001").await {
                Ok(None) => Ok("none".into()),
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_) | ErrorKind::Invalid { .. }) => {
                    Ok(e.to_string())
                }
                Err(e) => Err(format!("expected none or not-found, got: {e}")),
                Ok(Some(order)) => Err(format!("answered order {} for a made-up id", order.id)),
            }
        })
        .await;
    report
        .run(CHECKS[2].0, CHECKS[2].1, async {
            let page = store
                .list_orders(crate::db::now_ms() - LOOKBACK_MS, None, 20)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(order) = page.orders.iter().find(|o| o.source_identifier.is_none()) {
                return Err(format!("listed store order {} which has no source identifier", order.id));
            }
            Ok(format!("{} orders on the first page", page.orders.len()))
        })
        .await;
}
