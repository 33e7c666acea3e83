//! The REST Admin API's JSON shapes of the sandbox's records, which Shopify's webhooks carry
//! (`products/*` send a product, `inventory_levels/update` a level), with REST's snake_case
//! names, numeric ids beside `admin_graphql_api_id`, decimal strings for money and
//! comma-joined tags. Order-side shapes (`orders/*`, `fulfillments/*`, `refunds/create`) are in
//! `rest/orders.rs`.

mod orders;

pub use orders::{fulfillment, order, refund};

use super::data::InventoryPolicy;
use super::data::{LevelRecord, ProductRecord, VariantRecord};
use super::schema::image_id;
use super::timestamp;
use crate::catalog::ProductStatus;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// A product as `products/create` and `products/update` send it.
pub fn product(product: &ProductRecord) -> Value {
    let status = match product.status {
        ProductStatus::Active => "active",
        ProductStatus::Draft => "draft",
        ProductStatus::Archived => "archived",
    };
    let images: Vec<Value> = (0..product.images.len()).map(|i| image(product, i)).collect();
    json!({
        "admin_graphql_api_id": product.gid(),
        "body_html": product.body_html,
        "created_at": timestamp::format(product.created_at),
        "handle": product.handle,
        "id": product.id,
        "product_type": product.product_type,
        "published_at": (product.status == ProductStatus::Active)
            .then(|| timestamp::format(product.created_at)),
        "template_suffix": null,
        "title": product.title,
        "updated_at": timestamp::format(product.updated_at),
        "vendor": product.vendor,
        "status": status,
        "published_scope": "web",
        "tags": product.tags.join(", "),
        "variants": product
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| variant(product, i, v))
            .collect::<Vec<_>>(),
        "options": options(product),
        "image": images.first().cloned(),
        "images": images,
        "media": [],
        "variant_gids": product
            .variants
            .iter()
            .map(|v| json!({
                "admin_graphql_api_id": v.gid(),
                "updated_at": timestamp::format(v.updated_at),
            }))
            .collect::<Vec<_>>(),
        "has_variants_that_requires_components": false,
        "category": null,
    })
}

fn variant(product: &ProductRecord, index: usize, variant: &VariantRecord) -> Value {
    let option = |n: usize| variant.options.get(n).map(|(_, value)| value.clone());
    json!({
        "admin_graphql_api_id": variant.gid(),
        "barcode": variant.barcode,
        "compare_at_price": variant.compare_at_price.map(money),
        "created_at": timestamp::format(product.created_at),
        "id": variant.id,
        "inventory_policy": match variant.inventory_policy {
            InventoryPolicy::Deny => "deny",
            InventoryPolicy::Continue => "continue",
        },
        "position": index + 1,
        "price": money(variant.price),
        "product_id": product.id,
        "sku": (!variant.sku.is_empty()).then(|| variant.sku.clone()),
        "taxable": true,
        "title": variant.title,
        "updated_at": timestamp::format(variant.updated_at),
        "option1": option(0),
        "option2": option(1),
        "option3": option(2),
        "image_id": variant.image.map(|i| image_id(product, i)),
        "inventory_item_id": variant.inventory_item_id,
        "inventory_quantity": variant.inventory_quantity(),
        "old_inventory_quantity": variant.inventory_quantity(),
        "grams": variant.grams,
    })
}

/// The product's option names with their values in first-seen order.
fn options(product: &ProductRecord) -> Vec<Value> {
    let mut options: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in product.variants.iter().flat_map(|v| &v.options) {
        match options.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) if !values.contains(value) => values.push(value.clone()),
            Some(_) => {}
            None => options.push((name.clone(), vec![value.clone()])),
        }
    }
    options
        .into_iter()
        .enumerate()
        .map(|(i, (name, values))| {
            json!({
                "id": product.id * 10 + i as u64,
                "product_id": product.id,
                "name": name,
                "position": i + 1,
                "values": values,
            })
        })
        .collect()
}

fn image(product: &ProductRecord, index: usize) -> Value {
    let id = image_id(product, index);
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/ProductImage/{id}"),
        "product_id": product.id,
        "position": index + 1,
        "src": product.images[index],
        "alt": (index == 0).then(|| product.title.clone()),
        "width": null,
        "height": null,
        "variant_ids": product
            .variants
            .iter()
            .filter(|v| v.image == Some(index))
            .map(|v| v.id)
            .collect::<Vec<_>>(),
    })
}

/// What `products/delete` sends: the id alone.
pub fn deleted_product(product: &ProductRecord) -> Value {
    json!({"id": product.id})
}

/// A variant's level at one location, as `inventory_levels/update` sends it.
pub fn inventory_level(variant: &VariantRecord, level: &LevelRecord) -> Value {
    json!({
        "inventory_item_id": variant.inventory_item_id,
        "location_id": level.location_id,
        "available": level.available,
        "updated_at": timestamp::format(level.updated_at),
        "admin_graphql_api_id": level_gid(variant.inventory_item_id, level.location_id),
    })
}

/// An inventory level's GID: it has no id of its own, only the item and location pair.
pub fn level_gid(inventory_item_id: u64, location_id: u64) -> String {
    format!("gid://shopify/InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}")
}

/// REST money: a decimal string with at least two places (`"19.90"`).
pub fn money(amount: Decimal) -> String {
    let mut amount = amount;
    if amount.scale() < 2 {
        amount.rescale(2);
    }
    amount.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::demo_catalog;
    use crate::shopify::data::ShopData;

    #[test]
    fn a_product_has_the_rest_shape() {
        let data = ShopData::new(demo_catalog());
        let snapshot = data.snapshot();
        let record = snapshot
            .products
            .iter()
            .find(|p| p.variants.len() > 1)
            .expect("the demo catalog has multi-variant products");
        let json = product(record);
        assert_eq!(json["id"], record.id);
        assert_eq!(json["admin_graphql_api_id"], record.gid());
        assert_eq!(json["title"], record.title.as_str());
        assert_eq!(json["tags"], record.tags.join(", "));
        let first = &json["variants"][0];
        assert_eq!(first["product_id"], record.id);
        assert_eq!(first["inventory_item_id"], record.variants[0].inventory_item_id);
        let price = first["price"].as_str().expect("price is a string");
        assert!(price.contains('.'), "{price}");
        assert_eq!(json["variants"].as_array().map(Vec::len), Some(record.variants.len()));
        assert!(json["options"][0]["values"].as_array().is_some_and(|v| v.len() > 1));
    }

    #[test]
    fn an_inventory_level_names_item_and_location() {
        let data = ShopData::new(demo_catalog());
        let variant = data.snapshot().products[0].variants[0].clone();
        let json = inventory_level(&variant, &variant.levels[0]);
        assert_eq!(json["inventory_item_id"], variant.inventory_item_id);
        assert_eq!(json["location_id"], crate::shopify::data::PRIMARY_LOCATION_ID);
        assert_eq!(json["available"], variant.inventory_quantity());
        assert!(
            json["admin_graphql_api_id"]
                .as_str()
                .is_some_and(|g| g.starts_with("gid://shopify/InventoryLevel/"))
        );
    }
}
