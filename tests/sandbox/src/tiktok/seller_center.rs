//! What the seller does in Seller Center, outside the Open API: change a SKU's price or stock,
//! or deactivate a product. A connector only learns of it by reading the product back (drift),
//! so tests use these to make a listing drift. Like every control, one `App` method serves both
//! `TikTokSandbox` and the HTTP route:
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /_sandbox/shops/{cipher}/products/{id}/seller-edit` | `{sku_id?, price?, quantity?, deactivate?}` | the product |

use super::control::ControlError;
use super::state::{Lifecycle, Stock};
use super::{App, SandboxProduct, envelope};
use crate::control::json_body;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::time::Instant;

/// One edit made in Seller Center.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerEdit {
    /// The SKU whose price or stock changes (required with `price` or `quantity`).
    #[serde(default)]
    pub sku_id: Option<String>,
    /// The new price, in the shop's currency (a decimal string, `"12.50"`).
    #[serde(default)]
    pub price: Option<Decimal>,
    /// The new stock, in the SKU's first warehouse.
    #[serde(default)]
    pub quantity: Option<u32>,
    /// Hides a live product (ACTIVATE -> SELLER_DEACTIVATED).
    #[serde(default)]
    pub deactivate: bool,
}

impl App {
    /// Applies a Seller Center edit to the shop's product. Price and stock changes skip review
    /// and show at once; deactivation needs a live product.
    pub(crate) fn seller_edit(
        &self,
        cipher: &str,
        product_id: &str,
        edit: &SellerEdit,
    ) -> Result<SandboxProduct, ControlError> {
        let product = {
            let mut state = self.lock_state();
            if state.shop(cipher).is_none() {
                return Err(ControlError::NotFound(format!("no shop has the cipher {cipher:?}")));
            }
            let owned = state.products.get(product_id).is_some_and(|p| p.cipher == cipher);
            if !owned {
                return Err(ControlError::NotFound(format!("the shop has no product {product_id:?}")));
            }
            state.settle(product_id, Instant::now());
            let product = state.products.get_mut(product_id).expect("checked above");
            if edit.price.is_some() || edit.quantity.is_some() {
                let sku_id = edit
                    .sku_id
                    .as_deref()
                    .ok_or_else(|| ControlError::Invalid("a price or quantity edit needs sku_id".into()))?;
                if !product.content.skus.iter().any(|s| s.id == sku_id) {
                    return Err(ControlError::NotFound(format!("the product has no SKU {sku_id:?}")));
                }
                if edit.price.is_some_and(|p| p <= Decimal::ZERO) {
                    return Err(ControlError::Invalid("the price must be above zero".into()));
                }
                product.update_sku(sku_id, |sku| {
                    if let Some(price) = edit.price {
                        sku.price = price;
                    }
                    if let Some(quantity) = edit.quantity {
                        match sku.inventory.first_mut() {
                            Some(first) => first.quantity = quantity,
                            None => sku.inventory.push(Stock { warehouse_id: String::new(), quantity }),
                        }
                    }
                });
            }
            if edit.deactivate {
                if product.status() != "ACTIVATE" {
                    return Err(ControlError::Conflict(format!(
                        "only a live product can be deactivated; this one is {}",
                        product.status()
                    )));
                }
                product.lifecycle = Lifecycle::SellerDeactivated;
                state.announce_status_change(cipher, product_id);
            }
            let product = state.products.get_mut(product_id).expect("checked above");
            product.update_time = envelope::unix_now();
            product.to_sandbox()
        };
        self.flush_events();
        Ok(product)
    }
}

/// The Seller Center route, to be merged beside the Open API handler.
pub(crate) fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/_sandbox/shops/{cipher}/products/{id}/seller-edit", post(seller_edit))
        .with_state(app)
}

async fn seller_edit(
    State(app): State<Arc<App>>,
    Path((cipher, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, Response> {
    let edit: SellerEdit = json_body(&body, "bad body")?;
    let product =
        app.seller_edit(&cipher, &id, &edit).map_err(axum::response::IntoResponse::into_response)?;
    let skus: Vec<Value> = product
        .skus
        .iter()
        .map(|s| {
            json!({ "id": s.id, "seller_sku": s.seller_sku, "quantity": s.quantity,
                         "price": { "amount": s.price.amount.to_string(), "currency": s.price.currency } })
        })
        .collect();
    Ok(Json(json!({ "id": product.id, "status": product.status, "skus": skus })))
}
