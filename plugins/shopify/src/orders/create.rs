//! `orderCreate` from a channel order: the variables, and its refusals as contract errors.
//!
//! The store order's total must equal what the buyer paid. Shopify's `orderCreate` takes one
//! discount code per order and no discount per line, so each line's discount is folded into
//! its unit price instead: the line is created at `(unit price × units − discount) / units`.
//! When that does not come out in whole cents the line becomes two store lines of the same
//! variant, one a cent dearer per unit, so the line total stays exact; both keep the channel
//! line's id (see [`SOURCE_LINES_ATTRIBUTE`]). Shipping is a shipping line, tax an order tax
//! line (only when there is tax), and a paid `SALE` transaction records the buyer's payment.

use super::read::SOURCE_LINES_ATTRIBUTE;
use super::user_error::{UserError, joined, messages};
use crate::gid;
use crate::money::{self, Amount};
use crossdock_plugin_sdk::store_orders::NewOrder;
use crossdock_plugin_sdk::types::{Address, ConnectorError, Money};
use serde_json::{Map, Value, json};

/// The attribute that keeps the platform-funded discount for reconciling the payout.
pub const PLATFORM_DISCOUNT_ATTRIBUTE: &str = "Platform discount";
/// Decimals of a tax line's rate.
const RATE_DECIMALS: u32 = 6;

/// `orderCreate` with the order's `@idempotent` key; its payload names the order only, which
/// is then read whole.
const ORDER_CREATE: &str =
    "mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput, $key: String!) {
  orderCreate(order: $order, options: $options) @idempotent(key: $key) {
    order { id }
    userErrors { field message code }
  }
}";

/// What to send, and how to name a refused store line in the contract's terms.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The request body.
    pub body: Value,
    /// For each store line, in order, the index of the `new-order` line it comes from.
    pub line_of: Vec<usize>,
}

/// One store line to create.
struct StoreLine {
    from: usize,
    variant_id: String,
    quantity: u32,
    /// Unit price in units of `10^-scale`.
    price: i128,
}

/// Builds the `orderCreate` request for `order`, or says which field the host must fix.
pub fn plan(order: &NewOrder) -> Result<Plan, ConnectorError> {
    let currency = order.buyer_paid.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid(
            order,
            "buyer-paid.currency",
            format!("`{currency}` is not an ISO 4217 currency code"),
        ));
    }
    if order.lines.is_empty() {
        return Err(invalid(order, "lines", "the order has no lines".into()));
    }
    let amount = |field: &str, money: &Money| -> Result<Amount, ConnectorError> {
        if !money.currency.trim().eq_ignore_ascii_case(&currency) {
            return Err(invalid(
                order,
                field,
                format!(
                    "is in {}, the order in {currency}; every amount of an order is in one currency",
                    money.currency
                ),
            ));
        }
        Amount::parse(&money.amount)
            .ok_or_else(|| invalid(order, field, format!("`{}` is not a decimal amount", money.amount)))
    };
    let shipping = amount("shipping", &order.shipping)?;
    let tax = amount("tax", &order.tax)?;
    let buyer_paid = amount("buyer-paid", &order.buyer_paid)?;
    let platform_discount = amount("platform-discount", &order.platform_discount)?;
    let mut line_amounts = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let price = amount(&format!("lines[{i}].unit-price"), &line.unit_price)?;
        let discount = amount(&format!("lines[{i}].discount"), &line.discount)?;
        line_amounts.push((price, discount));
    }
    let scale = line_amounts
        .iter()
        .flat_map(|(p, d)| [p.scale(), d.scale()])
        .chain([shipping.scale(), tax.scale(), buyer_paid.scale(), platform_discount.scale()])
        .max()
        .unwrap_or(0);

    let mut lines = Vec::new();
    let mut net_total = 0i128;
    for (i, (line, (price, discount))) in order.lines.iter().zip(&line_amounts).enumerate() {
        if line.quantity == 0 {
            return Err(invalid(order, &format!("lines[{i}].quantity"), "must be at least 1".into()));
        }
        if !gid::is("ProductVariant", &line.variant_id) {
            return Err(invalid(
                order,
                &format!("lines[{i}].variant-id"),
                format!("`{}` is not a Shopify variant id (gid://shopify/ProductVariant/…)", line.variant_id),
            ));
        }
        let units = i128::from(line.quantity);
        let gross = price.at(scale) * units;
        let discount = discount.at(scale);
        if price.at(scale) < 0 || discount < 0 || discount > gross {
            return Err(invalid(
                order,
                &format!("lines[{i}].discount"),
                format!(
                    "{} off {} × {} is not a discount Shopify can record (negative, or more than the line)",
                    line.discount.amount, line.quantity, line.unit_price.amount
                ),
            ));
        }
        let net = gross - discount;
        net_total += net;
        let (base, dearer) = (net / units, net % units);
        // `dearer` units cost one `10^-scale` more, so the two lines add up to `net` exactly.
        let cheaper = line.quantity - u32::try_from(dearer).unwrap_or(0);
        if cheaper > 0 {
            lines.push(StoreLine {
                from: i,
                variant_id: line.variant_id.clone(),
                quantity: cheaper,
                price: base,
            });
        }
        if dearer > 0 {
            let quantity = line.quantity - cheaper;
            lines.push(StoreLine { from: i, variant_id: line.variant_id.clone(), quantity, price: base + 1 });
        }
    }
    let (shipping, tax, paid) = (shipping.at(scale), tax.at(scale), buyer_paid.at(scale));
    if shipping < 0 || tax < 0 {
        let field = if shipping < 0 { "shipping" } else { "tax" };
        return Err(invalid(order, field, "must not be negative".into()));
    }
    if net_total + shipping + tax != paid {
        return Err(invalid(
            order,
            "buyer-paid",
            format!(
                "the lines after their discounts ({}) plus shipping ({}) plus tax ({}) make {}, not the {} the buyer paid; send figures that add up",
                money::format(net_total, scale),
                money::format(shipping, scale),
                money::format(tax, scale),
                money::format(net_total + shipping + tax, scale),
                money::format(paid, scale),
            ),
        ));
    }

    let money_bag =
        |units: i128| json!({"shopMoney": {"amount": money::format(units, scale), "currencyCode": currency}});
    let mut input = Map::new();
    input.insert("sourceIdentifier".into(), json!(order.source_identifier));
    input.insert("sourceName".into(), json!(order.source_name));
    input.insert("currency".into(), json!(currency));
    input.insert(
        "lineItems".into(),
        lines
            .iter()
            .map(|l| json!({"variantId": l.variant_id, "quantity": l.quantity, "priceSet": money_bag(l.price)}))
            .collect(),
    );
    if shipping > 0 {
        input.insert("shippingLines".into(), json!([{"title": "Shipping", "priceSet": money_bag(shipping)}]));
    }
    if tax > 0 {
        // Omitted without tax: a tax line needs a rate, and there is none to state.
        input.insert(
            "taxLines".into(),
            json!([{"title": "Tax", "rate": money::ratio(tax, net_total, RATE_DECIMALS), "priceSet": money_bag(tax), "channelLiable": null}]),
        );
    }
    if paid > 0 {
        input.insert(
            "transactions".into(),
            json!([{"kind": "SALE", "status": "SUCCESS", "gateway": order.source_name, "amountSet": money_bag(paid)}]),
        );
    }
    if let Some(address) = &order.shipping_address {
        input.insert("shippingAddress".into(), mailing_address(address));
    }
    if let Some(email) = order.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        input.insert("email".into(), json!(email));
    }
    if let Some(note) = order.note.as_deref().filter(|n| !n.trim().is_empty()) {
        input.insert("note".into(), json!(note));
    }
    let tags: Vec<&str> = order.tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    if !tags.is_empty() {
        input.insert("tags".into(), json!(tags));
    }
    let source_lines: Vec<&str> = lines.iter().map(|l| order.lines[l.from].source_line_id.as_str()).collect();
    let mut attributes: Vec<Value> =
        order.attributes.iter().map(|(key, value)| json!({"key": key, "value": value})).collect();
    attributes.push(json!({
        "key": PLATFORM_DISCOUNT_ATTRIBUTE,
        "value": format!("{} {currency}", money::format(platform_discount.at(scale), scale)),
    }));
    attributes.push(json!({
        "key": SOURCE_LINES_ATTRIBUTE,
        "value": serde_json::to_string(&source_lines).map_err(|e| ConnectorError::Fatal(format!("could not encode the source lines: {e}")))?,
    }));
    input.insert("customAttributes".into(), Value::Array(attributes));

    let behaviour = if order.decrement_stock { "DECREMENT_OBEYING_POLICY" } else { "BYPASS" };
    let body = json!({
        "query": ORDER_CREATE,
        "operationName": "OrderCreate",
        "variables": {
            "order": input,
            "options": {"inventoryBehaviour": behaviour, "sendReceipt": false, "sendFulfillmentReceipt": false},
            "key": order.idempotency_key,
        },
    });
    Ok(Plan { body, line_of: lines.iter().map(|l| l.from).collect() })
}

/// `MailingAddressInput`; the recipient's name splits at its last space (`Ada L***` → `Ada`,
/// `L***`), a single word being the last name.
fn mailing_address(address: &Address) -> Value {
    let name = address.name.trim();
    let (first, last) = match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (Some(first.trim()), last),
        None => (None, name),
    };
    let mut fields = Map::new();
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            fields.insert(key.into(), json!(value));
        }
    };
    put("firstName", first);
    put("lastName", Some(last));
    put("phone", address.phone.as_deref());
    put("address1", Some(&address.line1));
    put("address2", address.line2.as_deref());
    put("city", Some(&address.city));
    put("provinceCode", address.region.as_deref());
    put("zip", Some(&address.postal_code));
    let country = address.country_code.trim().to_ascii_uppercase();
    put("countryCode", Some(&country));
    Value::Object(fields)
}

/// `orderCreate`'s refusals as one contract error: a variant the shop no longer has is
/// `not-found`, stock it cannot claim `invalid` with field `stock`, anything else `invalid`
/// with the field in the contract's terms (`lines[2].quantity`).
pub fn refused(order: &NewOrder, plan: &Plan, errors: &[UserError]) -> ConnectorError {
    let describe = |e: &UserError| -> (String, String) {
        let path = e.field.as_deref().unwrap_or_default();
        // ["order", "lineItems", "3", "quantity"] → lines[i].quantity, through the plan.
        let line = match path {
            [_, items, index, rest @ ..] if items == "lineItems" => {
                index.parse::<usize>().ok().and_then(|i| plan.line_of.get(i).copied()).map(|i| (i, rest))
            }
            _ => None,
        };
        match line {
            Some((i, [])) => (format!("lines[{i}]"), e.message.clone()),
            Some((i, rest)) => (format!("lines[{i}].{}", rest.join(".")), e.message.clone()),
            None => (joined(path).unwrap_or_else(|| "order".into()), e.message.clone()),
        }
    };
    let summary = messages(errors);
    if let Some(error) = errors.iter().find(|e| e.code.as_deref() == Some("INVENTORY_CLAIM_FAILED")) {
        let (field, _) = describe(error);
        return ConnectorError::invalid(
            "stock",
            format!(
                "order {}: Shopify cannot take the stock of {field}: {summary}; restock the variant, let it sell when out of stock, or create the order without decrementing stock",
                order.source_identifier
            ),
        );
    }
    let missing_variant = errors.iter().find_map(|e| {
        let path = e.field.as_deref().unwrap_or_default();
        let (field, _) = describe(e);
        (path.last().is_some_and(|f| f == "variantId")).then(|| {
            let variant = field
                .strip_prefix("lines[")
                .and_then(|rest| rest.split(']').next())
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| order.lines.get(i))
                .map_or("(unknown)", |l| l.variant_id.as_str());
            (variant.to_string(), field)
        })
    });
    if let Some((variant, field)) = missing_variant {
        return ConnectorError::NotFound(format!(
            "order {}: Shopify has no variant {variant} ({field}): {summary}; link the channel SKU to a variant the store still has",
            order.source_identifier
        ));
    }
    match errors.first() {
        Some(error) => {
            let (field, message) = describe(error);
            refused_field(order, &field, &message)
        }
        None => ConnectorError::Fatal(format!(
            "order {}: Shopify created no order and said nothing why",
            order.source_identifier
        )),
    }
}

/// `invalid` naming the order and the field: "order X: lines[0].quantity must be at least 1".
fn invalid(order: &NewOrder, field: &str, message: String) -> ConnectorError {
    ConnectorError::invalid(field, format!("order {}: {field} {message}", order.source_identifier))
}

/// `invalid` for a field Shopify refused, with its words.
fn refused_field(order: &NewOrder, field: &str, message: &str) -> ConnectorError {
    ConnectorError::invalid(
        field,
        format!("order {}: Shopify refused {field}: {message}", order.source_identifier),
    )
}

#[cfg(test)]
mod tests;
