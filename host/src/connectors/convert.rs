//! The one place where WIT records become domain types and back. Data a plugin returns is
//! checked here (money, currencies), so the flows only ever see valid records.
//!
//! The shared records (`types`) are one set of Rust types for every contract version; the
//! records of the exported interfaces are generated per version, so their conversions are
//! written once (`exported_records!`) and stamped out in `v0_1` and `v0_2`.

use super::bindings::types as wit;
use super::error::ErrorKind;
use crate::model::{AccountInfo, Currency, Image, Money, Product, ProductStatus, Variant};
use crate::model::{Attribute, Category};
use std::time::Duration;

impl From<wit::ConnectorError> for ErrorKind {
    fn from(e: wit::ConnectorError) -> Self {
        match e {
            wit::ConnectorError::Unauthorized(m) => ErrorKind::Unauthorized(m),
            wit::ConnectorError::RateLimited(r) => ErrorKind::RateLimited {
                retry_after: Duration::from_millis(r.retry_after_ms),
                message: r.message,
            },
            wit::ConnectorError::NotFound(m) => ErrorKind::NotFound(m),
            wit::ConnectorError::Invalid(f) => ErrorKind::Invalid { field: f.field, message: f.message },
            wit::ConnectorError::Transient(m) => ErrorKind::Transient(m),
            wit::ConnectorError::Fatal(m) => ErrorKind::Fatal(m),
        }
    }
}

/// A plugin returned a record the host cannot accept.
fn bad_result(what: String) -> ErrorKind {
    ErrorKind::Fatal(format!("plugin returned an invalid record: {what}"))
}

pub(crate) fn money_from_wit(m: &wit::Money, at: &str) -> Result<Money, ErrorKind> {
    Money::parse(&m.amount, &m.currency).map_err(|e| bad_result(format!("{at}: {e}")))
}

pub(crate) fn money_to_wit(m: &Money) -> wit::Money {
    wit::Money { amount: m.amount.normalize().to_string(), currency: m.currency.to_string() }
}

fn image_from_wit(i: wit::Image) -> Image {
    Image { url: i.url, alt: i.alt }
}

pub(crate) fn image_to_wit(i: &Image) -> wit::Image {
    wit::Image { url: i.url.clone(), alt: i.alt.clone() }
}

pub(crate) fn account_from_wit(a: wit::AccountInfo) -> Result<AccountInfo, ErrorKind> {
    let currency = Currency::new(&a.currency).map_err(|e| bad_result(format!("account {}: {e}", a.id)))?;
    Ok(AccountInfo { id: a.id, name: a.name, currency, region: a.region })
}

pub(crate) fn product_from_wit(p: wit::Product) -> Result<Product, ErrorKind> {
    if p.variants.is_empty() {
        return Err(bad_result(format!("product {} has no variants", p.id)));
    }
    let variants = p
        .variants
        .into_iter()
        .map(|v| {
            let at = format!("product {} variant {}", p.id, v.id);
            Ok(Variant {
                price: money_from_wit(&v.price, &format!("{at} price"))?,
                compare_at_price: v
                    .compare_at_price
                    .as_ref()
                    .map(|m| money_from_wit(m, &format!("{at} compare-at price")))
                    .transpose()?,
                external_id: v.id,
                sku: v.sku,
                barcode: v.barcode,
                title: v.title,
                stock: v.stock,
                weight_grams: v.weight_grams,
                options: v.options.into_iter().map(|o| (o.name, o.value)).collect(),
                image: v.image.map(image_from_wit),
            })
        })
        .collect::<Result<Vec<_>, ErrorKind>>()?;
    Ok(Product {
        external_id: p.id,
        title: p.title,
        description_html: p.description_html,
        vendor: p.vendor,
        product_type: p.product_type,
        tags: p.tags,
        status: match p.status {
            wit::ProductStatus::Active => ProductStatus::Active,
            wit::ProductStatus::Draft => ProductStatus::Draft,
            wit::ProductStatus::Archived => ProductStatus::Archived,
        },
        images: p.images.into_iter().map(image_from_wit).collect(),
        variants,
        updated_at_ms: p.updated_at,
    })
}

pub(crate) fn category_from_wit(c: wit::Category) -> Category {
    Category { id: c.id, parent_id: c.parent_id, name: c.name, is_leaf: c.is_leaf }
}

pub(crate) fn attribute_from_wit(a: wit::Attribute) -> Attribute {
    Attribute {
        id: a.id,
        name: a.name,
        required: a.required,
        options: a.options.into_iter().map(|o| (o.id, o.name)).collect(),
        custom_allowed: a.custom_allowed,
        is_sales_attribute: a.is_sales_attribute,
    }
}

/// The conversions of the records in the exported interfaces, for one contract version: the
/// caller brings `wit_listings` (channel-listings) and `wit_webhooks` (store-webhooks) into
/// scope, along with the domain types.
macro_rules! exported_records {
    () => {
        pub(crate) fn draft_to_wit(d: &ListingDraft) -> wit_listings::ListingDraft {
            wit_listings::ListingDraft {
                external_id: d.external_id.clone(),
                title: d.title.clone(),
                description_html: d.description_html.clone(),
                category_id: d.category_id.clone(),
                brand: d.brand.clone(),
                images: d.images.iter().map(image_to_wit).collect(),
                weight_grams: d.weight_grams,
                skus: d
                    .skus
                    .iter()
                    .map(|s| wit_listings::ListingSku {
                        seller_sku: s.seller_sku.clone(),
                        price: money_to_wit(&s.price),
                        compare_at_price: s.compare_at_price.as_ref().map(money_to_wit),
                        stock: s.stock,
                        options: s
                            .options
                            .iter()
                            .map(|(name, value)| wit::OptionValue {
                                name: name.clone(),
                                value: value.clone(),
                            })
                            .collect(),
                        barcode: s.barcode.clone(),
                        image: s.image.as_ref().map(image_to_wit),
                    })
                    .collect(),
                attributes: d
                    .attributes
                    .iter()
                    .map(|a| wit::AttributeValue {
                        attribute_id: a.attribute_id.clone(),
                        option_ids: a.option_ids.clone(),
                        custom_values: a.custom_values.clone(),
                    })
                    .collect(),
                idempotency_key: d.idempotency_key.clone(),
            }
        }

        pub(crate) fn sku_match_from_wit(m: wit_listings::SkuMatch) -> SkuMatch {
            SkuMatch {
                seller_sku: m.seller_sku,
                listing_id: m.listing_id,
                sku_id: m.sku_id,
                status: m.status,
            }
        }

        pub(crate) fn delivery_from_wit(d: wit_webhooks::WebhookDelivery) -> WebhookDelivery {
            WebhookDelivery {
                event_id: d.event_id,
                topic: d.topic,
                events: d.events.into_iter().map(store_event_from_wit).collect(),
            }
        }

        pub(crate) fn listing_ref_from_wit(r: wit_listings::ListingRef) -> ListingRef {
            ListingRef { listing_id: r.listing_id, sku_ids: r.sku_ids.into_iter().collect() }
        }

        pub(crate) fn review_from_wit(s: wit_listings::ReviewStatus) -> ReviewStatus {
            match s {
                wit_listings::ReviewStatus::InReview => ReviewStatus::InReview,
                wit_listings::ReviewStatus::Active => ReviewStatus::Active,
                wit_listings::ReviewStatus::Rejected(reasons) => ReviewStatus::Rejected(reasons),
                wit_listings::ReviewStatus::Inactive(status) => ReviewStatus::Inactive(status),
                wit_listings::ReviewStatus::Draft => ReviewStatus::Draft,
            }
        }

        pub(crate) fn prices_to_wit(prices: &[SkuPrice]) -> Vec<wit_listings::SkuPrice> {
            prices
                .iter()
                .map(|p| wit_listings::SkuPrice {
                    sku_id: p.sku_id.clone(),
                    price: money_to_wit(&p.price),
                    compare_at_price: p.compare_at_price.as_ref().map(money_to_wit),
                })
                .collect()
        }

        pub(crate) fn stock_to_wit(stock: &[SkuStock]) -> Vec<wit_listings::SkuStock> {
            stock
                .iter()
                .map(|s| wit_listings::SkuStock { sku_id: s.sku_id.clone(), stock: s.stock })
                .collect()
        }
    };
}

/// `read-listing`'s records, which 0.2.0 added.
macro_rules! snapshot_records {
    () => {
        /// What the channel holds for a listing; prices are checked like every money a plugin
        /// returns.
        pub(crate) fn snapshot_from_wit(
            s: wit_listings::ListingSnapshot,
        ) -> Result<ListingSnapshot, ErrorKind> {
            let skus = s
                .skus
                .into_iter()
                .map(|sku| {
                    let at = format!("SKU {}", sku.sku_id);
                    Ok(SkuSnapshot {
                        price: money_from_wit(&sku.price, &format!("{at} price"))?,
                        compare_at_price: sku
                            .compare_at_price
                            .as_ref()
                            .map(|m| money_from_wit(m, &format!("{at} compare-at price")))
                            .transpose()?,
                        sku_id: sku.sku_id,
                        seller_sku: sku.seller_sku,
                        stock: sku.stock,
                    })
                })
                .collect::<Result<Vec<_>, ErrorKind>>()?;
            Ok(ListingSnapshot { status: review_from_wit(s.status), skus })
        }
    };
}

/// Contract 0.1.0's exported records.
pub(crate) mod v0_1 {
    use super::{image_to_wit, money_to_wit, wit};
    use crate::connectors::bindings::v0_1::channel_world::exports::crossdock::connector::channel_listings as wit_listings;
    use crate::connectors::bindings::v0_1::store_world::exports::crossdock::connector::store_webhooks as wit_webhooks;
    use crate::connectors::channel_connector::{
        ListingDraft, ListingRef, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
    };
    use crate::connectors::store_connector::{StoreEvent, WebhookDelivery};

    exported_records!();

    fn store_event_from_wit(e: wit_webhooks::StoreEvent) -> StoreEvent {
        match e {
            wit_webhooks::StoreEvent::ProductChanged(id) => StoreEvent::ProductChanged(id),
            wit_webhooks::StoreEvent::ProductDeleted(id) => StoreEvent::ProductDeleted(id),
        }
    }
}

/// Contract 0.2.0's exported records, and what 0.2.0 added.
pub(crate) mod v0_2 {
    use super::{image_to_wit, money_from_wit, money_to_wit, wit};
    use crate::connectors::bindings::v0_2::channel_world::exports::crossdock::connector::channel_listings as wit_listings;
    use crate::connectors::bindings::v0_2::store_world::exports::crossdock::connector::store_webhooks as wit_webhooks;
    use crate::connectors::channel_connector::{
        ListingDraft, ListingRef, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuSnapshot, SkuStock,
    };
    use crate::connectors::error::ErrorKind;
    use crate::connectors::store_connector::{StoreEvent, WebhookDelivery};

    exported_records!();

    fn store_event_from_wit(e: wit_webhooks::StoreEvent) -> StoreEvent {
        match e {
            wit_webhooks::StoreEvent::ProductChanged(id) => StoreEvent::ProductChanged(id),
            wit_webhooks::StoreEvent::ProductDeleted(id) => StoreEvent::ProductDeleted(id),
        }
    }

    snapshot_records!();
}

/// Contract 0.3.0's exported records, and what 0.3.0 added: orders, fulfillment, after-sale.
pub(crate) mod v0_3 {
    use super::{image_to_wit, money_from_wit, money_to_wit, wit};
    use crate::connectors::bindings::v0_3::channel_world::exports::crossdock::connector::channel_listings as wit_listings;
    use crate::connectors::bindings::v0_3::store_world::exports::crossdock::connector::store_webhooks as wit_webhooks;
    use crate::connectors::channel_connector::{
        ListingDraft, ListingRef, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuSnapshot, SkuStock,
    };
    use crate::connectors::error::ErrorKind;
    use crate::connectors::store_connector::{StoreEvent, WebhookDelivery};

    exported_records!();
    snapshot_records!();

    fn store_event_from_wit(e: wit_webhooks::StoreEvent) -> StoreEvent {
        match e {
            wit_webhooks::StoreEvent::ProductChanged(id) => StoreEvent::ProductChanged(id),
            wit_webhooks::StoreEvent::ProductDeleted(id) => StoreEvent::ProductDeleted(id),
            wit_webhooks::StoreEvent::OrderChanged(id) => StoreEvent::OrderChanged(id),
        }
    }
}

/// Contract 0.3.0's order, fulfillment and after-sale records. Every amount a plugin returns is
/// checked like every money (a valid decimal and currency).
pub(crate) mod orders {
    use super::{money_from_wit, money_to_wit, wit};
    use crate::connectors::bindings::v0_3::commerce as wc;
    use crate::connectors::bindings::v0_3::store_world::exports::crossdock::connector::store_orders as ws;
    use crate::connectors::error::ErrorKind;
    use crate::model::order::*;

    fn address_from_wit(a: wit::Address) -> Address {
        Address {
            name: a.name,
            phone: a.phone,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country_code: a.country_code,
        }
    }

    fn address_to_wit(a: &Address) -> wit::Address {
        wit::Address {
            name: a.name.clone(),
            phone: a.phone.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country_code: a.country_code.clone(),
        }
    }

    pub(crate) fn tracking_from_wit(t: wc::Tracking) -> Tracking {
        Tracking {
            carrier: t.carrier,
            carrier_id: t.carrier_id,
            tracking_number: t.tracking_number,
            url: t.url,
        }
    }

    fn tracking_to_wit(t: &Tracking) -> wc::Tracking {
        wc::Tracking {
            carrier: t.carrier.clone(),
            carrier_id: t.carrier_id.clone(),
            tracking_number: t.tracking_number.clone(),
            url: t.url.clone(),
        }
    }

    fn stage_from_wit(s: wc::OrderStage) -> OrderStage {
        match s {
            wc::OrderStage::Unpaid => OrderStage::Unpaid,
            wc::OrderStage::OnHold => OrderStage::OnHold,
            wc::OrderStage::AwaitingShipment => OrderStage::AwaitingShipment,
            wc::OrderStage::PartiallyShipped => OrderStage::PartiallyShipped,
            wc::OrderStage::Shipped => OrderStage::Shipped,
            wc::OrderStage::Delivered => OrderStage::Delivered,
            wc::OrderStage::Completed => OrderStage::Completed,
            wc::OrderStage::Cancelled => OrderStage::Cancelled,
        }
    }

    pub(crate) fn channel_order_from_wit(o: wc::ChannelOrder) -> Result<ChannelOrder, ErrorKind> {
        let at = format!("order {}", o.id);
        let m = |money: &wit::Money, what: &str| money_from_wit(money, &format!("{at} {what}"));
        let lines = o
            .lines
            .iter()
            .map(|l| {
                let what = |w: &str| format!("line {} {w}", l.id);
                Ok(OrderLine {
                    id: l.id.clone(),
                    seller_sku: l.seller_sku.clone(),
                    sku_id: l.sku_id.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_price: m(&l.unit_price, &what("unit price"))?,
                    seller_discount: m(&l.seller_discount, &what("seller discount"))?,
                    platform_discount: m(&l.platform_discount, &what("platform discount"))?,
                })
            })
            .collect::<Result<Vec<_>, ErrorKind>>()?;
        let t = &o.totals;
        let totals = OrderTotals {
            subtotal: m(&t.subtotal, "subtotal")?,
            shipping: m(&t.shipping, "shipping")?,
            tax: m(&t.tax, "tax")?,
            seller_discount: m(&t.seller_discount, "seller discount")?,
            platform_discount: m(&t.platform_discount, "platform discount")?,
            buyer_paid: m(&t.buyer_paid, "buyer paid")?,
        };
        Ok(ChannelOrder {
            stage: stage_from_wit(o.stage),
            shipped_by: match o.shipped_by {
                wc::ShippedBy::Seller => ShippedBy::Seller,
                wc::ShippedBy::Platform => ShippedBy::Platform,
            },
            created_at: o.created_at,
            updated_at: o.updated_at,
            lines,
            totals,
            shipping_address: o.shipping_address.map(address_from_wit),
            buyer_email: o.buyer_email,
            buyer_message: o.buyer_message,
            packages: o
                .packages
                .into_iter()
                .map(|p| OrderPackage {
                    id: p.id,
                    line_ids: p.line_ids,
                    tracking: p.tracking.map(tracking_from_wit),
                })
                .collect(),
            id: o.id,
            status: o.status,
        })
    }

    pub(crate) fn after_sale_from_wit(a: wc::AfterSale) -> Result<AfterSale, ErrorKind> {
        let refund_amount = a
            .refund_amount
            .as_ref()
            .map(|m| money_from_wit(m, &format!("after-sale {} refund amount", a.id)))
            .transpose()?;
        Ok(AfterSale {
            kind: match a.kind {
                wc::AfterSaleKind::Cancellation => AfterSaleKind::Cancellation,
                wc::AfterSaleKind::RefundOnly => AfterSaleKind::RefundOnly,
                wc::AfterSaleKind::ReturnAndRefund => AfterSaleKind::ReturnAndRefund,
            },
            stage: match a.stage {
                wc::AfterSaleStage::Requested => AfterSaleStage::Requested,
                wc::AfterSaleStage::InProgress => AfterSaleStage::InProgress,
                wc::AfterSaleStage::Completed => AfterSaleStage::Completed,
                wc::AfterSaleStage::Rejected => AfterSaleStage::Rejected,
                wc::AfterSaleStage::Closed => AfterSaleStage::Closed,
            },
            id: a.id,
            order_id: a.order_id,
            status: a.status,
            line_ids: a.line_ids,
            refund_amount,
            reason: a.reason,
            updated_at: a.updated_at,
            awaiting_seller: a.awaiting_seller.map(|d| match d {
                wc::SellerDecision::Request => SellerDecision::Request,
                wc::SellerDecision::ReceivedGoods => SellerDecision::ReceivedGoods,
            }),
            return_tracking: a.return_tracking.map(tracking_from_wit),
        })
    }

    pub(crate) fn store_order_from_wit(o: ws::StoreOrder) -> Result<StoreOrder, ErrorKind> {
        let refunds = o
            .refunds
            .into_iter()
            .map(|r| {
                Ok(StoreRefund {
                    amount: money_from_wit(&r.amount, &format!("store refund {}", r.id))?,
                    id: r.id,
                    lines: r.lines,
                })
            })
            .collect::<Result<Vec<_>, ErrorKind>>()?;
        Ok(StoreOrder {
            id: o.id,
            name: o.name,
            source_identifier: o.source_identifier,
            lines: o
                .lines
                .into_iter()
                .map(|l| StoreOrderLine {
                    id: l.id,
                    variant_id: l.variant_id,
                    sku: l.sku,
                    quantity: l.quantity,
                    source_line_id: l.source_line_id,
                })
                .collect(),
            cancelled: o.cancelled,
            fulfillments: o
                .fulfillments
                .into_iter()
                .map(|f| StoreFulfillment {
                    id: f.id,
                    lines: f.lines,
                    tracking: f.tracking.map(tracking_from_wit),
                    cancelled: f.cancelled,
                    updated_at: f.updated_at,
                })
                .collect(),
            refunds,
            updated_at: o.updated_at,
        })
    }

    pub(crate) fn new_order_to_wit(o: &NewOrder) -> ws::NewOrder {
        ws::NewOrder {
            source_identifier: o.source_identifier.clone(),
            source_name: o.source_name.clone(),
            idempotency_key: o.idempotency_key.clone(),
            lines: o
                .lines
                .iter()
                .map(|l| ws::NewOrderLine {
                    variant_id: l.variant_id.clone(),
                    sku: l.sku.clone(),
                    title: l.title.clone(),
                    quantity: l.quantity,
                    unit_price: money_to_wit(&l.unit_price),
                    discount: money_to_wit(&l.discount),
                    source_line_id: l.source_line_id.clone(),
                })
                .collect(),
            shipping: money_to_wit(&o.shipping),
            tax: money_to_wit(&o.tax),
            buyer_paid: money_to_wit(&o.buyer_paid),
            platform_discount: money_to_wit(&o.platform_discount),
            shipping_address: o.shipping_address.as_ref().map(address_to_wit),
            email: o.email.clone(),
            note: o.note.clone(),
            tags: o.tags.clone(),
            attributes: o.attributes.clone(),
            decrement_stock: o.decrement_stock,
        }
    }

    pub(crate) fn refund_to_wit(
        idempotency_key: &str,
        lines: &[(String, u32)],
        amount: &crate::model::Money,
        restock: bool,
        note: &str,
    ) -> ws::NewRefund {
        ws::NewRefund {
            idempotency_key: idempotency_key.to_string(),
            lines: lines.to_vec(),
            amount: money_to_wit(amount),
            restock,
            note: note.to_string(),
        }
    }

    pub(crate) fn fulfillment_to_wit(lines: &[(String, u32)], tracking: &Tracking) -> ws::NewFulfillment {
        ws::NewFulfillment { lines: lines.to_vec(), tracking: tracking_to_wit(tracking) }
    }
}
