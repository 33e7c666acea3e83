//! The catalog as the host keeps it: a store product with its variants, in store currency.

use super::money::Money;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "archived",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    pub alt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The store's id of the variant.
    pub external_id: String,
    pub sku: String,
    pub barcode: Option<String>,
    pub title: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub stock: i64,
    pub weight_grams: Option<u32>,
    pub options: Vec<(String, String)>,
    pub image: Option<Image>,
}

/// A store product; `external_id` is the store's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub external_id: String,
    pub title: String,
    pub description_html: String,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub status: ProductStatus,
    pub images: Vec<Image>,
    pub variants: Vec<Variant>,
    pub updated_at_ms: i64,
}
