//! The `channel-orders` export: TikTok orders read incrementally and by id (reference §6),
//! carriers for mapping and shipping with tracking (§7), seller cancellation, and the
//! cancellations and returns of §8 listed and decided. The mappings live in `order`,
//! `shipping`, `after_sale`, `cursor` and `cancel_reason`; this module makes the calls.

use crate::after_sale::{self, Decision, RequestId};
use crate::cancel_reason::reason_code;
use crate::client::{Client, Scope};
use crate::cursor::{Cursor, Stream};
use crate::errors::context;
use crate::listing::id_of;
use crate::order::channel_order;
use crate::shipping::{self, Route};
use crossdock_plugin_sdk::channel_orders::{AfterSalePage, OrderPage, Shipment, ShippingProvider};
use crossdock_plugin_sdk::commerce::{AfterSale, ChannelOrder};
use crossdock_plugin_sdk::http::Method;
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::{ChannelOrders, Result};
use serde_json::{Value, json};

const ORDER_SEARCH: &str = "/order/202309/orders/search";
const ORDER_DETAIL: &str = "/order/202309/orders";
const CANCELLATIONS: &str = "/return_refund/202309/cancellations";
const CANCELLATION_SEARCH: &str = "/return_refund/202309/cancellations/search";
const RETURN_SEARCH: &str = "/return_refund/202309/returns/search";
/// Get Order List's largest page (§6.1).
const MAX_ORDER_PAGE: u32 = 100;
/// Search Cancellations' and Search Returns' largest page (§8.1).
const MAX_AFTER_SALE_PAGE: u32 = 50;
/// Search Returns' smallest page, as its doc gives it (10–50).
const MIN_RETURN_PAGE: u32 = 10;
/// Pages read at most for one order's requests: bounds the loop should a token never end.
const MAX_PAGES: usize = 50;
/// A documented cancellation reject reason (§8.1).
const CANCELLATION_REJECT_REASON: &str = "seller_reject_apply_product_has_been_packed";
/// A return reject reason ("the buyer's return reason is not valid"), the one integrators'
/// captured reject-reason lists share for refunds and returns. UNCONFIRMED for every market:
/// Get Reject Reasons names the ones a given request takes.
const RETURN_REJECT_REASON: &str = "reverse_reject_request_reason_1";

/// An id TikTok could have given (decimal digits).
fn is_tiktok_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

fn not_ours(what: &str, id: &str) -> ConnectorError {
    ConnectorError::NotFound(format!("{id:?} is not a TikTok {what} id"))
}

/// The order object of Get Order Detail; none when the shop has no such order.
fn order_object(client: &Client, order_id: &str) -> Result<Option<Value>> {
    if !is_tiktok_id(order_id) {
        return Ok(None);
    }
    let data = match client.call(Method::Get, ORDER_DETAIL, Scope::Shop, &[("ids", order_id)], None) {
        Err(ConnectorError::NotFound(_)) => return Ok(None),
        other => other?,
    };
    let found = data["orders"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| id_of(&o["id"]).as_deref() == Some(order_id));
    Ok(found.cloned())
}

/// The order, or not-found naming it.
fn existing_order(client: &Client, order_id: &str) -> Result<Value> {
    order_object(client, order_id)?
        .ok_or_else(|| ConnectorError::NotFound(format!("the TikTok shop has no order {order_id}")))
}

/// One page of a return-refund search sorted by update time, oldest first.
fn search_page(
    client: &Client,
    path: &str,
    body: &Value,
    page_size: u32,
    token: Option<&str>,
) -> Result<Value> {
    let size = page_size.to_string();
    let mut query = vec![("page_size", size.as_str()), ("sort_field", "update_time"), ("sort_order", "ASC")];
    if let Some(token) = token {
        query.push(("page_token", token));
    }
    client.call(Method::Post, path, Scope::Shop, &query, Some(body))
}

fn next_token(data: &Value) -> Option<&str> {
    data["next_page_token"].as_str().filter(|t| !t.is_empty())
}

fn cancellations_of(data: &Value) -> Result<Vec<AfterSale>> {
    data["cancellations"].as_array().into_iter().flatten().map(after_sale::from_cancellation).collect()
}

fn returns_of(data: &Value) -> Result<Vec<AfterSale>> {
    data["return_orders"].as_array().into_iter().flatten().map(after_sale::from_return).collect()
}

/// Every request of one search for `body`, page after page.
fn search_all(
    client: &Client,
    path: &str,
    body: &Value,
    page_size: u32,
    read: fn(&Value) -> Result<Vec<AfterSale>>,
) -> Result<Vec<AfterSale>> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let data = search_page(client, path, body, page_size, token.as_deref())?;
        found.extend(read(&data)?);
        token = next_token(&data).map(str::to_owned);
        if token.is_none() {
            return Ok(found);
        }
    }
    Err(ConnectorError::Fatal(format!("TikTok {path} did not end after {MAX_PAGES} pages")))
}

/// The one request a search by id finds, as its raw object.
fn find_request(client: &Client, request: &RequestId) -> Result<Value> {
    let (path, body, list, key, id) = match request {
        RequestId::Cancellation(id) => {
            (CANCELLATION_SEARCH, json!({ "cancel_ids": [id] }), "cancellations", "cancel_id", id)
        }
        RequestId::Return(id) => {
            (RETURN_SEARCH, json!({ "return_ids": [id] }), "return_orders", "return_id", id)
        }
    };
    let data = search_page(client, path, &body, MAX_AFTER_SALE_PAGE, None)?;
    data[list]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| id_of(&r[key]).as_deref() == Some(id.as_str()))
        .cloned()
        .ok_or_else(|| ConnectorError::NotFound(format!("the TikTok shop has no {list} request {id}")))
}

/// What deciding `request` takes now, with its status for messages.
fn plan_decision(client: &Client, request: &RequestId, approve: bool) -> Result<(Decision, String)> {
    let found = find_request(client, request)?;
    Ok(match request {
        RequestId::Cancellation(_) => {
            let status = found["cancel_status"].as_str().unwrap_or_default().to_owned();
            (after_sale::cancellation_decision(&status, approve), status)
        }
        RequestId::Return(_) => {
            let status = found["return_status"].as_str().unwrap_or_default().to_owned();
            let kind = found["return_type"].as_str().unwrap_or_default();
            (after_sale::return_decision(kind, &status, approve), status)
        }
    })
}

/// Approve/reject route and body of a decision call.
fn decision_call(request: &RequestId, decision: &str, approve: bool) -> (String, Option<Value>) {
    let verb = if approve { "approve" } else { "reject" };
    match request {
        RequestId::Cancellation(id) => {
            let body = (!approve).then(|| json!({ "reject_reason": CANCELLATION_REJECT_REASON }));
            (format!("{CANCELLATIONS}/{id}/{verb}"), body)
        }
        RequestId::Return(id) => {
            let mut body = json!({ "decision": decision });
            if !approve {
                body["reject_reason"] = json!(RETURN_REJECT_REASON);
            }
            (format!("/return_refund/202309/returns/{id}/{verb}"), Some(body))
        }
    }
}

impl ChannelOrders for crate::TikTokShop {
    fn list_orders(updated_since: i64, cursor: Option<String>, limit: u32) -> Result<OrderPage> {
        let client = Client::from_config()?;
        let size = limit.clamp(1, MAX_ORDER_PAGE).to_string();
        let mut query =
            vec![("page_size", size.as_str()), ("sort_field", "update_time"), ("sort_order", "ASC")];
        if let Some(token) = cursor.as_deref().filter(|c| !c.is_empty()) {
            query.push(("page_token", token));
        }
        // TikTok speaks seconds; rounding down keeps the change of that very millisecond.
        let body = json!({ "update_time_ge": updated_since.max(0).div_euclid(1000) });
        let data = client
            .call(Method::Post, ORDER_SEARCH, Scope::Shop, &query, Some(&body))
            .map_err(|e| context(e, "reading TikTok orders"))?;
        let orders =
            data["orders"].as_array().into_iter().flatten().map(channel_order).collect::<Result<Vec<_>>>()?;
        Ok(OrderPage { orders, next_cursor: next_token(&data).map(str::to_owned) })
    }

    fn get_order(id: String) -> Result<Option<ChannelOrder>> {
        let client = Client::from_config()?;
        let found =
            order_object(&client, &id).map_err(|e| context(e, &format!("reading TikTok order {id}")))?;
        found.as_ref().map(channel_order).transpose()
    }

    fn shipping_providers() -> Result<Vec<ShippingProvider>> {
        let client = Client::from_config()?;
        let doing = "reading TikTok shipping providers";
        let warehouses = client
            .call(Method::Get, crate::WAREHOUSES, Scope::Shop, &[], None)
            .map_err(|e| context(e, doing))?;
        let mut found = Vec::new();
        for warehouse in shipping::sales_warehouses(&warehouses) {
            let path = format!("{}/{warehouse}/delivery_options", crate::WAREHOUSES);
            let options =
                client.call(Method::Get, &path, Scope::Shop, &[], None).map_err(|e| context(e, doing))?;
            for option in shipping::delivery_options(&options) {
                let path = format!("/logistics/202309/delivery_options/{option}/shipping_providers");
                match client.call(Method::Get, &path, Scope::Shop, &[], None) {
                    Ok(data) => shipping::add_providers(&mut found, &data),
                    // A TikTok-shipped option (21008117) or one without a subscription
                    // (21008116) takes no seller tracking.
                    Err(ConnectorError::Invalid(refused)) if refused.field == "delivery_option_id" => {}
                    Err(other) => return Err(context(other, doing)),
                }
            }
        }
        Ok(found)
    }

    fn ship(order_id: String, shipment: Shipment) -> Result<String> {
        let client = Client::from_config()?;
        let doing = format!("shipping TikTok order {order_id}");
        let order = existing_order(&client, &order_id).map_err(|e| context(e, &doing))?;
        match shipping::plan(&order, &shipment)? {
            Route::Already(package_id) => Ok(package_id),
            Route::Package { package_id, body } => {
                let path = format!("/fulfillment/202309/packages/{package_id}/ship");
                client
                    .call(Method::Post, &path, Scope::Shop, &[], Some(&body))
                    .map_err(|e| context(e, &doing))?;
                Ok(package_id)
            }
            Route::Order { body } => {
                let path = format!("/fulfillment/202309/orders/{order_id}/packages");
                let data = match client.call(Method::Post, &path, Scope::Shop, &[], Some(&body)) {
                    Ok(data) => data,
                    Err(ConnectorError::Invalid(refused)) if refused.field == "region" => {
                        return Err(ConnectorError::invalid(
                            "line_ids",
                            format!(
                                "{doing}: this market ships whole packages only; split the package in Seller Center or ship all its lines ({})",
                                refused.message
                            ),
                        ));
                    }
                    Err(other) => return Err(context(other, &doing)),
                };
                id_of(&data["package_id"]).ok_or_else(|| {
                    ConnectorError::Fatal(format!("{doing}: Mark Package As Shipped answered no package_id"))
                })
            }
        }
    }

    fn update_tracking(
        order_id: String,
        package_id: String,
        carrier_id: String,
        tracking: String,
    ) -> Result<()> {
        if !is_tiktok_id(&package_id) {
            return Err(not_ours("package", &package_id));
        }
        if tracking.trim().is_empty() || carrier_id.trim().is_empty() {
            return Err(ConnectorError::invalid(
                "tracking",
                format!(
                    "updating the tracking of TikTok package {package_id}: the carrier and tracking number are required"
                ),
            ));
        }
        let client = Client::from_config()?;
        let doing = format!("updating the tracking of TikTok package {package_id} of order {order_id}");
        let path = format!("/fulfillment/202309/packages/{package_id}");
        let package =
            client.call(Method::Get, &path, Scope::Shop, &[], None).map_err(|e| context(e, &doing))?;
        if !shipping::belongs_to(&package, &order_id) {
            return Err(ConnectorError::NotFound(format!("{doing}: the package is not this order's")));
        }
        // A retried update: TikTok allows one per order, so never spend it twice.
        if shipping::tracking_unchanged(&package, &carrier_id, &tracking) {
            return Ok(());
        }
        let body = json!({ "tracking_number": tracking.trim(), "shipping_provider_id": carrier_id.trim() });
        let path = format!("{path}/shipping_info/update");
        client.call(Method::Post, &path, Scope::Shop, &[], Some(&body)).map_err(|e| context(e, &doing))?;
        Ok(())
    }

    fn cancel_order(order_id: String, reason: String) -> Result<()> {
        if !is_tiktok_id(&order_id) {
            return Err(not_ours("order", &order_id));
        }
        let client = Client::from_config()?;
        let doing = format!("cancelling TikTok order {order_id}");
        let shop = crate::authorized_shop(&client)?;
        let body =
            json!({ "order_id": order_id, "cancel_reason": reason_code(&reason, shop["region"].as_str()) });
        match client.call(Method::Post, CANCELLATIONS, Scope::Shop, &[], Some(&body)) {
            Ok(_) => Ok(()),
            Err(ConnectorError::Invalid(refused)) if refused.field == "status" => {
                // A retried cancel finds the order cancelled already: that is what was asked.
                let order = existing_order(&client, &order_id).map_err(|e| context(e, &doing))?;
                let status = order["status"].as_str().unwrap_or_default();
                if matches!(status, "CANCELLED" | "CANCEL") {
                    return Ok(());
                }
                Err(ConnectorError::invalid(
                    "status",
                    format!(
                        "{doing}: TikTok does not let the seller cancel an order that is {status} ({}); cancel it in Seller Center or wait for the buyer",
                        refused.message
                    ),
                ))
            }
            Err(other) => Err(context(other, &doing)),
        }
    }

    fn list_after_sales(updated_since: i64, cursor: Option<String>, limit: u32) -> Result<AfterSalePage> {
        let mut place = match cursor.as_deref().filter(|c| !c.is_empty()) {
            None => Cursor::start(),
            Some(text) => Cursor::decode(text).map_err(|why| ConnectorError::invalid("cursor", why))?,
        };
        let client = Client::from_config()?;
        let doing = "reading TikTok cancellations and returns";
        let body = json!({ "update_time_ge": updated_since.max(0).div_euclid(1000) });
        let mut requests = Vec::new();
        if place.cancellations != Stream::Done {
            let size = limit.clamp(1, MAX_AFTER_SALE_PAGE);
            let token = place.cancellations.token().map(str::to_owned);
            let data = search_page(&client, CANCELLATION_SEARCH, &body, size, token.as_deref())
                .map_err(|e| context(e, doing))?;
            requests.extend(cancellations_of(&data)?);
            place.cancellations = Stream::after(next_token(&data));
        }
        if place.returns != Stream::Done {
            let size = limit.clamp(MIN_RETURN_PAGE, MAX_AFTER_SALE_PAGE);
            let token = place.returns.token().map(str::to_owned);
            let data = search_page(&client, RETURN_SEARCH, &body, size, token.as_deref())
                .map_err(|e| context(e, doing))?;
            requests.extend(returns_of(&data)?);
            place.returns = Stream::after(next_token(&data));
        }
        requests.sort_by_key(|r| r.updated_at);
        Ok(AfterSalePage { requests, next_cursor: place.encode() })
    }

    fn order_after_sales(order_id: String) -> Result<Vec<AfterSale>> {
        if !is_tiktok_id(&order_id) {
            return Err(not_ours("order", &order_id));
        }
        let client = Client::from_config()?;
        let doing = format!("reading the cancellations and returns of TikTok order {order_id}");
        let body = json!({ "order_ids": [order_id] });
        let mut requests =
            search_all(&client, CANCELLATION_SEARCH, &body, MAX_AFTER_SALE_PAGE, cancellations_of)
                .map_err(|e| context(e, &doing))?;
        requests.extend(
            search_all(&client, RETURN_SEARCH, &body, MAX_AFTER_SALE_PAGE, returns_of)
                .map_err(|e| context(e, &doing))?,
        );
        requests.sort_by_key(|r| r.updated_at);
        Ok(requests)
    }

    fn decide_after_sale(id: String, approve: bool) -> Result<()> {
        let request = RequestId::parse(&id).ok_or_else(|| {
            ConnectorError::NotFound(format!(
                "{id:?} is not an after-sale id of this connector (cancel:<id> or return:<id>)"
            ))
        })?;
        let client = Client::from_config()?;
        let verb = if approve { "approving" } else { "rejecting" };
        let doing = format!("{verb} TikTok after-sale request {id}");
        let (decision, status) = plan_decision(&client, &request, approve).map_err(|e| context(e, &doing))?;
        let call = match decision {
            Decision::AlreadyDone => return Ok(()),
            Decision::NotWaiting => {
                return Err(ConnectorError::invalid(
                    "status",
                    format!("{doing}: it is {status} and waits for no decision of the seller"),
                ));
            }
            Decision::Call(call) => call,
        };
        let (path, body) = decision_call(&request, call, approve);
        // One key per request and decision (a return takes two approvals: the request, then the
        // goods): TikTok answers a repeat as the first call.
        let key = format!("crossdock-{}-{}", call.to_lowercase(), id.replace(':', "-"));
        match client.call(
            Method::Post,
            &path,
            Scope::Shop,
            &[("idempotency_key", key.as_str())],
            body.as_ref(),
        ) {
            Ok(_) => Ok(()),
            // Refused for its state, or lost on the way: decided meanwhile (by this very call,
            // a retry of it, or in Seller Center)?
            Err(error @ (ConnectorError::Invalid(_) | ConnectorError::Transient(_))) => {
                match plan_decision(&client, &request, approve) {
                    Ok((Decision::AlreadyDone, _)) => Ok(()),
                    _ => Err(context(error, &doing)),
                }
            }
            Err(error) => Err(context(error, &doing)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_calls_take_their_route_reason_and_decision() {
        let cancel = RequestId::Cancellation("40".into());
        assert_eq!(
            decision_call(&cancel, "APPROVE", true),
            ("/return_refund/202309/cancellations/40/approve".into(), None)
        );
        let (path, body) = decision_call(&cancel, "REJECT", false);
        assert_eq!(path, "/return_refund/202309/cancellations/40/reject");
        assert_eq!(body, Some(json!({ "reject_reason": "seller_reject_apply_product_has_been_packed" })));
        let refund = RequestId::Return("41".into());
        let (path, body) = decision_call(&refund, "APPROVE_REFUND", true);
        assert_eq!(
            (path.as_str(), body),
            ("/return_refund/202309/returns/41/approve", Some(json!({ "decision": "APPROVE_REFUND" })))
        );
        let (path, body) = decision_call(&refund, "REJECT_RETURN", false);
        assert_eq!(path, "/return_refund/202309/returns/41/reject");
        assert_eq!(
            body,
            Some(json!({ "decision": "REJECT_RETURN", "reject_reason": "reverse_reject_request_reason_1" }))
        );
    }

    #[test]
    fn only_decimal_ids_reach_tiktok() {
        assert!(is_tiktok_id("576461413038785752"));
        assert!(!is_tiktok_id(""));
        assert!(!is_tiktok_id("gid://shopify/Order/1"));
        assert!(matches!(not_ours("order", "x"), ConnectorError::NotFound(m) if m.contains("\"x\"")));
    }

    #[test]
    fn search_answers_read_into_after_sales() {
        let data = json!({ "cancellations": [{ "cancel_id": "40", "order_id": "57", "cancel_status": "CANCELLATION_REQUEST_PENDING" }],
                           "next_page_token": "" });
        let found = cancellations_of(&data).expect("maps");
        assert_eq!(found[0].id, "cancel:40");
        assert_eq!(next_token(&data), None);
        let data = json!({ "return_orders": [{ "return_id": "41", "order_id": "57", "return_type": "REFUND",
                                               "return_status": "RETURN_OR_REFUND_REQUEST_PENDING" }],
                           "next_page_token": "b2Zmc2V0OjE" });
        assert_eq!(returns_of(&data).expect("maps")[0].id, "return:41");
        assert_eq!(next_token(&data), Some("b2Zmc2V0OjE"));
        assert!(returns_of(&json!({})).expect("none").is_empty());
    }
}
