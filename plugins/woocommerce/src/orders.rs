//! The store-orders flows over the REST API v3: creating a channel order once, finding it by
//! its source identifier, reading and listing orders with their shipments and refunds, and
//! cancelling, refunding and fulfilling them. The bodies and mappings are in
//! [`crate::new_order`], [`crate::order_changes`], [`crate::order_mapping`] and
//! [`crate::tracking`]; this module sequences the calls.
//!
//! Choices the host should know:
//! - WooCommerce has no idempotency keys and its REST API cannot filter orders by meta, so
//!   `find-order` reads Crossdock's orders newest first (`created_via=crossdock`,
//!   `orderby=date`, only `id,status,meta_data`), 100 a page, for at most
//!   `order-lookup-pages` pages (setting, default 5), and compares `_crossdock_source`. The
//!   host asks right after a create whose answer it lost, when that order is among the
//!   newest; two orders with one identifier is `fatal`.
//! - `list-orders` pages (`page` is the cursor) through `modified_after` (GMT, one second
//!   early: WooCommerce's bound is exclusive and keeps whole seconds), `orderby=modified`,
//!   `order=asc`, `created_via=crossdock`, and keeps the orders with `_crossdock_source`
//!   changed at or after the asked second. An order changed while the host pages moves to the
//!   end and may shift one later order back a page; the host's next poll from its own
//!   watermark, or its reconciliation, reads it.
//! - `decrement-stock = false` is refused (`invalid`, field `decrement-stock`) when a line's
//!   product manages stock: WooCommerce takes stock for every paid order of such a product.
//! - Cancelling puts the order's units back in stock whatever `restock` says: WooCommerce
//!   restores stock on every move to `cancelled`. With `refund`, the rest of the total is
//!   recorded as a manual refund first (no gateway is asked; the channel moved the money).
//! - A refund's `restock` is WooCommerce's `api_restock`.

use crate::api::{Api, MAX_PER_PAGE};
use crate::mapping::{self, about, decode, gmt_date, next_page};
use crate::new_order::{self, LineRef, Resolved, VariantNode};
use crate::order_changes::{self, CancelPlan};
use crate::order_mapping::{self, OrderNode, RefundNode};
use crate::tracking;
use crossdock_plugin_sdk::http::Method;
use crossdock_plugin_sdk::store_orders::{
    Cancellation, NewFulfillment, NewOrder, NewRefund, StoreOrder, StoreOrderPage,
};
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::{Result, clock, config, log};
use serde_json::{Value, json};

/// Pages of 100 orders `find-order` reads when the setting is absent.
const DEFAULT_LOOKUP_PAGES: u32 = 5;

/// The order id in a path, or `invalid`.
fn order_number(id: &str) -> Result<u64> {
    id.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ConnectorError::invalid("id", format!("`{id}` is not a WooCommerce order id")))
}

/// `GET /orders/{id}`; none when WooCommerce has no such order or it is in the trash.
fn read_order(api: &Api, id: u64) -> Result<Option<OrderNode>> {
    match api.get(&format!("/orders/{id}"), &[]) {
        Ok((json, _)) => {
            let node: OrderNode = decode(json).map_err(|e| about(&format!("reading order {id}"), e))?;
            Ok((node.status != "trash").then_some(node))
        }
        Err(ConnectorError::NotFound(_)) => Ok(None),
        Err(other) => Err(about(&format!("reading order {id}"), other)),
    }
}

/// The order, or `not-found` naming it.
fn existing_order(api: &Api, id: u64) -> Result<OrderNode> {
    read_order(api, id)?.ok_or_else(|| {
        ConnectorError::NotFound(format!("order {id} is not in WooCommerce (deleted or in the trash)"))
    })
}

/// Every refund of an order (`GET /orders/{id}/refunds`), when it has any.
fn refunds(api: &Api, order: &OrderNode) -> Result<Vec<RefundNode>> {
    if order.refunds.is_empty() {
        return Ok(Vec::new());
    }
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let params = [("page", page.to_string()), ("per_page", MAX_PER_PAGE.to_string())];
        let (json, response) = api
            .get(&format!("/orders/{}/refunds", order.id), &params)
            .map_err(|e| about(&format!("reading the refunds of order {}", order.id), e))?;
        let batch: Vec<RefundNode> =
            decode(json).map_err(|e| about(&format!("reading the refunds of order {}", order.id), e))?;
        let next = next_page(page, response.header("x-wp-totalpages"), batch.len(), MAX_PER_PAGE);
        all.extend(batch);
        match next {
            Some(n) => page = n,
            None => return Ok(all),
        }
    }
}

/// The contract's order, with its refunds read in full.
fn full_order(api: &Api, order: &OrderNode) -> Result<StoreOrder> {
    let refunds = refunds(api, order)?;
    order_mapping::store_order(order, Some(&refunds))
}

/// Where a line's variant is: `GET /products/{id}` (a simple product, or a variation where
/// the store serves it there), else the SKU's products (`GET /products?sku=`), else the SKU
/// on the line for WooCommerce to resolve.
fn resolve_line(api: &Api, variant_id: &str, sku: &str) -> Result<Resolved> {
    let number = new_order::variant_number(variant_id)?;
    match api.get(&format!("/products/{number}"), &[]) {
        Ok((json, _)) => {
            let node: VariantNode =
                decode(json).map_err(|e| about(&format!("reading variant {variant_id} (SKU {sku})"), e))?;
            return new_order::resolve(variant_id, sku, &node);
        }
        Err(ConnectorError::NotFound(_)) => {}
        Err(other) => return Err(about(&format!("reading variant {variant_id} (SKU {sku})"), other)),
    }
    let sku = sku.trim();
    if sku.is_empty() {
        return Err(new_order::variant_gone(variant_id, sku, "WooCommerce has no product with this id"));
    }
    let (json, _) = api
        .get("/products", &[("sku", sku.to_string())])
        .map_err(|e| about(&format!("looking up SKU {sku} of variant {variant_id}"), e))?;
    let found: Vec<VariantNode> =
        decode(json).map_err(|e| about(&format!("looking up SKU {sku} of variant {variant_id}"), e))?;
    if let Some(node) = found.iter().find(|n| n.id == number) {
        return new_order::resolve(variant_id, sku, node);
    }
    if let Some(other) = found.first() {
        return Err(new_order::variant_gone(
            variant_id,
            sku,
            &format!(
                "WooCommerce has no product with this id, and the SKU belongs to product {} now",
                other.id
            ),
        ));
    }
    Ok(Resolved { line: LineRef::Sku { variation: number, sku: sku.to_string() }, stock: None })
}

pub fn create_order(api: &Api, order: NewOrder) -> Result<StoreOrder> {
    let what = format!("creating order {}", order.source_identifier);
    let mut resolved: Vec<Resolved> = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let earlier = order.lines[..i].iter().position(|l| l.variant_id.trim() == line.variant_id.trim());
        let r = match earlier {
            Some(j) => resolved[j].clone(),
            None => resolve_line(api, &line.variant_id, &line.sku).map_err(|e| about(&what, e))?,
        };
        resolved.push(r);
    }
    new_order::check_stock(&order, &resolved).map_err(|e| about(&what, e))?;
    if !order.decrement_stock {
        new_order::check_no_decrement(&order, &resolved).map_err(|e| about(&what, e))?;
    }
    let refs: Vec<LineRef> = resolved.into_iter().map(|r| r.line).collect();
    let body = new_order::create_body(&order, &refs).map_err(|e| about(&what, e))?;
    let response = api.call(Method::Post, "/orders", &[], Some(&body)).map_err(|e| about(&what, e))?;
    if response.status == 400
        && mapping::error_code(&response.body).as_deref() == Some("woocommerce_rest_invalid_product_id")
    {
        let lines: Vec<String> =
            order.lines.iter().map(|l| format!("variant {} (SKU {})", l.variant_id, l.sku)).collect();
        return Err(ConnectorError::NotFound(format!(
            "{what}: WooCommerce no longer has a product of {}; relink the SKU to a product WooCommerce still sells",
            lines.join(", ")
        )));
    }
    let json = mapping::check_response(response.status, response.retry_after_ms(), &response.body)
        .map_err(|e| about(&what, e))?;
    let created: OrderNode = decode(json).map_err(|e| about(&what, e))?;
    let missing = new_order::missing_variants(&created, &order);
    if !missing.is_empty() {
        log::warn(&format!(
            "woocommerce order={} source={} created without variants {} (WooCommerce resolved their SKUs to other products)",
            created.id,
            order.source_identifier,
            missing.join(",")
        ));
    }
    log::info(&format!("woocommerce order={} created source={}", created.id, order.source_identifier));
    order_mapping::store_order(&created, Some(&[]))
}

fn lookup_pages() -> Result<u32> {
    match config::get("order-lookup-pages").map(|s| s.trim().to_string()) {
        None => Ok(DEFAULT_LOOKUP_PAGES),
        Some(s) if s.is_empty() => Ok(DEFAULT_LOOKUP_PAGES),
        Some(s) => s.parse::<u32>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
            ConnectorError::Fatal(format!(
                "connection setting `order-lookup-pages` must be a whole number from 1 to 1000, not `{s}`"
            ))
        }),
    }
}

pub fn find_order(api: &Api, source_identifier: String) -> Result<Option<StoreOrder>> {
    let wanted = source_identifier.trim();
    if wanted.is_empty() {
        return Err(ConnectorError::invalid("source-identifier", "the source identifier is empty"));
    }
    let what = format!("finding order {wanted}");
    let pages = lookup_pages()?;
    let mut matches: Vec<OrderNode> = Vec::new();
    let mut page = 1;
    loop {
        let params = [
            ("created_via", new_order::CREATED_VIA.to_string()),
            ("orderby", "date".to_string()),
            ("order", "desc".to_string()),
            ("page", page.to_string()),
            ("per_page", MAX_PER_PAGE.to_string()),
            // WooCommerce prepares only these fields, which makes a page of 100 quick.
            ("_fields", "id,status,meta_data".to_string()),
        ];
        let (json, response) = api.get("/orders", &params).map_err(|e| about(&what, e))?;
        let batch: Vec<OrderNode> = decode(json).map_err(|e| about(&what, e))?;
        let next = next_page(page, response.header("x-wp-totalpages"), batch.len(), MAX_PER_PAGE);
        matches.extend(batch.into_iter().filter(|o| o.source_identifier() == Some(wanted)));
        match next {
            Some(n) if n <= pages => page = n,
            Some(_) => {
                log::debug(&format!("woocommerce find-order source={wanted} stopped after {pages} pages"));
                break;
            }
            None => break,
        }
    }
    match matches.as_slice() {
        [] => Ok(None),
        [one] => match read_order(api, one.id)? {
            Some(order) => full_order(api, &order).map(Some),
            None => Ok(None),
        },
        [first, second, ..] => Err(ConnectorError::Fatal(format!(
            "{what}: WooCommerce orders {} and {} both carry this source identifier; cancel or delete the duplicate in WooCommerce",
            first.id, second.id
        ))),
    }
}

pub fn get_order(api: &Api, id: String) -> Result<Option<StoreOrder>> {
    let number = order_number(&id)?;
    match read_order(api, number)? {
        Some(node) => full_order(api, &node).map(Some),
        None => Ok(None),
    }
}

/// The `list-orders` page number in a cursor.
fn page_cursor(cursor: Option<&str>) -> Result<u32> {
    match cursor.map(str::trim) {
        None | Some("") => Ok(1),
        Some(c) => c
            .parse::<u32>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ConnectorError::invalid("cursor", format!("`{c}` is not a page number"))),
    }
}

pub fn list_orders(
    api: &Api,
    updated_since: i64,
    cursor: Option<String>,
    limit: u32,
) -> Result<StoreOrderPage> {
    let page = page_cursor(cursor.as_deref())?;
    let per_page = limit.clamp(1, MAX_PER_PAGE);
    let since_secs = updated_since.div_euclid(1000);
    let mut params = vec![
        ("created_via", new_order::CREATED_VIA.to_string()),
        ("orderby", "modified".to_string()),
        ("order", "asc".to_string()),
        ("dates_are_gmt", "true".to_string()),
        ("page", page.to_string()),
        ("per_page", per_page.to_string()),
    ];
    if since_secs > 0 {
        params.push(("modified_after", gmt_date(since_secs - 1)));
    }
    let (json, response) =
        api.get("/orders", &params).map_err(|e| about(&format!("listing orders (page {page})"), e))?;
    let batch: Vec<OrderNode> =
        decode(json).map_err(|e| about(&format!("listing orders (page {page})"), e))?;
    let next = next_page(page, response.header("x-wp-totalpages"), batch.len(), per_page);
    let mut kept: Vec<OrderNode> = batch
        .into_iter()
        .filter(|o| o.source_identifier().is_some() && o.modified_millis() >= since_secs * 1000)
        .collect();
    kept.sort_by_key(|o| (o.modified_millis(), o.id));
    let mut orders = Vec::with_capacity(kept.len());
    for node in &kept {
        orders.push(full_order(api, node)?);
    }
    log::debug(&format!("woocommerce list-orders page={page} per_page={per_page} orders={}", orders.len()));
    Ok(StoreOrderPage { orders, next_cursor: next.map(|n| n.to_string()) })
}

/// Records a refund body on an order, mapping WooCommerce's refusals to the field they concern.
fn post_refund(api: &Api, order: u64, body: &Value) -> Result<u64> {
    let what = format!("refunding order {order}");
    let path = format!("/orders/{order}/refunds");
    let response = api.call(Method::Post, &path, &[], Some(body)).map_err(|e| about(&what, e))?;
    let code = mapping::error_code(&response.body);
    let refused = matches!(
        (response.status, code.as_deref()),
        (500, Some("woocommerce_rest_cannot_create_order_refund"))
            | (400, Some("woocommerce_rest_invalid_order_refund"))
    );
    if refused {
        let message = serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|j| j.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        let field = if message.to_ascii_lowercase().contains("quantity") { "lines" } else { "amount" };
        return Err(ConnectorError::invalid(
            field,
            format!("{what}: WooCommerce refused the refund: {message}"),
        ));
    }
    let json = mapping::check_response(response.status, response.retry_after_ms(), &response.body)
        .map_err(|e| about(&what, e))?;
    let refund: RefundNode = decode(json).map_err(|e| about(&what, e))?;
    Ok(refund.id)
}

pub fn cancel_order(api: &Api, id: String, how: Cancellation) -> Result<()> {
    let number = order_number(&id)?;
    let order = existing_order(api, number)?;
    let CancelPlan::Cancel { refund } = order_changes::cancel_plan(&order, &how)? else {
        return Ok(());
    };
    if let Some(body) = refund {
        let refund = post_refund(api, number, &body)?;
        log::info(&format!("woocommerce order={number} refunded before cancel refund={refund}"));
    }
    api.write(Method::Put, &format!("/orders/{number}"), &json!({"status": "cancelled"}))
        .map_err(|e| about(&format!("cancelling order {number}"), e))?;
    let reason = how.reason.trim();
    if !reason.is_empty() {
        let note = json!({"note": format!("Cancelled through Crossdock: {reason}"), "customer_note": false});
        // The order is cancelled; a missing note is not worth a retry that would find it so.
        if let Err(e) = api.write(Method::Post, &format!("/orders/{number}/notes"), &note) {
            log::warn(&format!("woocommerce order={number} cancel note not added: {e:?}"));
        }
    }
    log::info(&format!("woocommerce order={number} cancelled restock_asked={}", how.restock));
    Ok(())
}

pub fn refund_order(api: &Api, id: String, refund: NewRefund) -> Result<String> {
    let number = order_number(&id)?;
    let order = existing_order(api, number)?;
    let recorded = refunds(api, &order)?;
    if let Some(existing) = order_changes::recorded_refund(&recorded, &refund.idempotency_key) {
        return Ok(existing.id.to_string());
    }
    let body = order_changes::refund_body(&order, &refund)
        .map_err(|e| about(&format!("refunding order {number}"), e))?;
    let created = post_refund(api, number, &body)?;
    log::info(&format!("woocommerce order={number} refund={created} recorded"));
    Ok(created.to_string())
}

pub fn fulfill_order(api: &Api, id: String, fulfillment: NewFulfillment) -> Result<String> {
    let number = order_number(&id)?;
    let what = format!("recording a shipment on order {number}");
    if fulfillment.tracking.tracking_number.trim().is_empty() {
        return Err(ConnectorError::invalid("tracking", format!("{what}: the tracking number is empty")));
    }
    let order = existing_order(api, number)?;
    let items = tracking::items(&order.meta_data);
    if let Some(item) =
        items.iter().find(|i| tracking::same_number(&i.number, &fulfillment.tracking.tracking_number))
    {
        return Ok(item.id());
    }
    let shipment =
        order_changes::shipment(&order, &items, &fulfillment.lines).map_err(|e| about(&what, e))?;
    let item = tracking::new_item(number, &fulfillment.tracking, &shipment.lines, clock::now_seconds());
    let tracking_id = tracking::tracking_id(number, &fulfillment.tracking.tracking_number);
    let mut list: Vec<Value> = items.into_iter().map(|i| i.raw).collect();
    list.push(item);
    let mut body = json!({"meta_data": tracking::meta_update(&order.meta_data, list)});
    if shipment.completes {
        body["status"] = json!("completed");
    }
    api.write(Method::Put, &format!("/orders/{number}"), &body).map_err(|e| about(&what, e))?;
    log::info(&format!(
        "woocommerce order={number} shipment={tracking_id} lines={} completed={}",
        shipment.lines.len(),
        shipment.completes
    ));
    Ok(tracking_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_and_cursors_are_checked_before_any_call() {
        assert_eq!(order_number(" 812 ").expect("an id"), 812);
        assert!(matches!(order_number("#812"), Err(ConnectorError::Invalid(f)) if f.field == "id"));
        assert!(matches!(order_number("0"), Err(ConnectorError::Invalid(_))));
        assert_eq!(page_cursor(None).expect("first"), 1);
        assert_eq!(page_cursor(Some("3")).expect("third"), 3);
        assert!(matches!(page_cursor(Some("abc")), Err(ConnectorError::Invalid(f)) if f.field == "cursor"));
    }
}
