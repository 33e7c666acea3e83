//! The input objects of `orderCreate` (`OrderCreateOrderInput` and what it holds).

use super::{InventoryBehaviour, OrderCreateFinancialStatus, OrderTransactionKind, OrderTransactionStatus};
use crate::shopify::scalars::{CountryCode, CurrencyCode, DateTime, DecimalValue};
use async_graphql::{ID, InputObject};

/// `OrderCreateOrderInput` (the fields the sandbox keeps; others are refused by validation).
#[derive(InputObject, Debug, Clone, Default)]
pub struct OrderCreateOrderInput {
    pub line_items: Option<Vec<OrderCreateLineItemInput>>,
    pub source_identifier: Option<String>,
    pub source_name: Option<String>,
    pub source_url: Option<String>,
    pub currency: Option<CurrencyCode>,
    pub presentment_currency: Option<CurrencyCode>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub name: Option<String>,
    pub test: Option<bool>,
    pub taxes_included: Option<bool>,
    pub processed_at: Option<DateTime>,
    pub financial_status: Option<OrderCreateFinancialStatus>,
    pub custom_attributes: Option<Vec<AttributeInput>>,
    pub shipping_address: Option<MailingAddressInput>,
    pub billing_address: Option<MailingAddressInput>,
    pub shipping_lines: Option<Vec<OrderCreateShippingLineInput>>,
    pub transactions: Option<Vec<OrderCreateOrderTransactionInput>>,
}

/// `OrderCreateLineItemInput`.
#[derive(InputObject, Debug, Clone)]
pub struct OrderCreateLineItemInput {
    pub variant_id: Option<ID>,
    pub quantity: i32,
    pub price_set: Option<MoneyBagInput>,
    /// Required for a custom item (no `variantId`).
    pub title: Option<String>,
    pub sku: Option<String>,
    pub requires_shipping: Option<bool>,
    pub taxable: Option<bool>,
}

/// `MoneyBagInput`.
#[derive(InputObject, Debug, Clone)]
pub struct MoneyBagInput {
    pub shop_money: MoneyInput,
    pub presentment_money: Option<MoneyInput>,
}

/// `MoneyInput`.
#[derive(InputObject, Debug, Clone)]
pub struct MoneyInput {
    pub amount: DecimalValue,
    pub currency_code: CurrencyCode,
}

/// `AttributeInput`.
#[derive(InputObject, Debug, Clone)]
pub struct AttributeInput {
    pub key: String,
    pub value: String,
}

/// `MailingAddressInput`.
#[derive(InputObject, Debug, Clone, Default)]
pub struct MailingAddressInput {
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub country_code: Option<CountryCode>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub zip: Option<String>,
}

/// `OrderCreateShippingLineInput`.
#[derive(InputObject, Debug, Clone)]
pub struct OrderCreateShippingLineInput {
    pub title: String,
    pub price_set: MoneyBagInput,
    pub code: Option<String>,
    pub source: Option<String>,
}

/// `OrderCreateOrderTransactionInput`.
#[derive(InputObject, Debug, Clone)]
pub struct OrderCreateOrderTransactionInput {
    pub amount_set: MoneyBagInput,
    pub kind: Option<OrderTransactionKind>,
    pub status: Option<OrderTransactionStatus>,
    pub gateway: Option<String>,
    pub test: Option<bool>,
    pub authorization_code: Option<String>,
    pub processed_at: Option<DateTime>,
}

/// `OrderCreateOptionsInput`.
#[derive(InputObject, Debug, Clone, Default)]
pub struct OrderCreateOptionsInput {
    pub inventory_behaviour: Option<InventoryBehaviour>,
    pub send_receipt: Option<bool>,
    pub send_fulfillment_receipt: Option<bool>,
}
