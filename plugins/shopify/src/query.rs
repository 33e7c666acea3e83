//! The GraphQL documents the connector sends, and the page size that keeps a page query
//! under Shopify's single-query cost limit (1,000 points).
//!
//! Shopify charges 1 point per object and `2 + first × node cost` per connection, before
//! running the query. A page of 250 products with 100 variants each would request ~150,000
//! points and be refused, so a list page reads 10 variants per product; a product with more is
//! read alone with [`PRODUCT`] (100 variants) and, past 100, [`PRODUCT_VARIANTS`].
//!
//! A big catalog is read in bulk instead ([`BULK_PRODUCTS`], see `bulk.rs`): the same fields,
//! every variant and image, in one JSONL file. The field lists are written once (the
//! `*_fields!` macros) so the paged and the bulk reads map the very same records.

use serde_json::{Value, json};

/// The Admin API version used when the connection does not set `api-version`.
pub const DEFAULT_API_VERSION: &str = "2026-01";

/// Shopify refuses a query that requests more than this.
pub const MAX_QUERY_COST: u32 = 1_000;
/// Shopify's largest page.
pub const MAX_PAGE_SIZE: u32 = 250;
/// Variants read with each product on a list page.
pub const VARIANTS_ON_PAGE: u32 = 10;
/// Images read per product.
pub const IMAGES_PER_PRODUCT: u32 = 10;

/// A variant node: itself, `selectedOptions`, `image`, `inventoryItem`, `measurement`, `weight`.
const VARIANT_COST: u32 = 6;
/// A product node: itself, its images connection and its variants connection.
const PRODUCT_COST: u32 = 1 + (2 + IMAGES_PER_PRODUCT) + (2 + VARIANTS_ON_PAGE * VARIANT_COST);
/// `shop` (1) and the products connection's own 2 points.
const PAGE_OVERHEAD: u32 = 3;

/// The fields of a product that `mapping::ProductNode` reads, besides its connections.
macro_rules! product_fields {
    () => {
        "id title handle descriptionHtml vendor productType tags status updatedAt"
    };
}

/// The fields of an image that `mapping::ImageNode` reads.
macro_rules! image_fields {
    () => {
        "url altText"
    };
}

/// The fields of a variant that `mapping::VariantNode` reads.
macro_rules! variant_fields {
    () => {
        "id title sku barcode price compareAtPrice inventoryQuantity
  selectedOptions { name value }
  image { url altText }
  inventoryItem { measurement { weight { value unit } } }"
    };
}

const VARIANT_FIELDS: &str =
    concat!("fragment VariantFields on ProductVariant {\n  ", variant_fields!(), "\n}");

/// One page of products, oldest id first, with the shop's currency.
pub const LIST_PRODUCTS: &str = "query ListProducts($first: Int!, $after: String) {
  shop { currencyCode }
  products(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...ProductFields variants(first: 10) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } } } }
  }
}";

const PRODUCT_FIELDS: &str = concat!(
    "fragment ProductFields on Product {\n  ",
    product_fields!(),
    "\n  images(first: 10) { nodes { ",
    image_fields!(),
    " } }\n}"
);

/// One product with its first 100 variants.
pub const PRODUCT: &str = "query Product($id: ID!) {
  shop { currencyCode }
  product(id: $id) {
    ...ProductFields
    variants(first: 100) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } }
  }
}";

/// The variants of one product after a cursor.
pub const PRODUCT_VARIANTS: &str = "query ProductVariants($id: ID!, $after: String) {
  product(id: $id) {
    variants(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } }
  }
}";

/// The product an inventory item stocks (a webhook for stock names only the item).
pub const INVENTORY_ITEM_PRODUCT: &str = "query InventoryItemProduct($id: ID!) {
  inventoryItem(id: $id) { variant { product { id } } }
}";

/// The shop's name and currency.
pub const SHOP_INFO: &str = "query ShopInfo { shop { name currencyCode } }";

/// How many products the shop has (counted up to Shopify's default limit, 10,000).
pub const PRODUCTS_COUNT: &str = "query ProductsCount { productsCount { count precision } }";

/// Every product with every image and variant, oldest id first, as a bulk query: connections
/// are `edges { node }` without `first` (a bulk query reads them whole), and each nested node
/// selects `id`, which is how the JSONL lines tell variants from images.
pub const BULK_PRODUCTS: &str = concat!(
    "{\n  products(sortKey: ID) {\n    edges { node {\n      ",
    product_fields!(),
    "\n      images { edges { node { id ",
    image_fields!(),
    " } } }\n      variants { edges { node { ",
    variant_fields!(),
    " } } }\n    } }\n  }\n}"
);

/// Starts [`BULK_PRODUCTS`] with each product's lines grouped together, which reading the file
/// in windows relies on.
pub const BULK_RUN: &str = "mutation BulkProducts($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";

/// A bulk operation's progress, with the shop's currency (the file has no prices' currency).
pub const BULK_POLL: &str = "query BulkOperation($id: ID!) {
  shop { currencyCode }
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url } }
}";

/// Products per list page: what the host asked for, within Shopify's page and cost limits.
pub fn page_size(limit: u32) -> u32 {
    let by_cost = (MAX_QUERY_COST - PAGE_OVERHEAD) / PRODUCT_COST;
    limit.clamp(1, MAX_PAGE_SIZE).min(by_cost)
}

/// The request body for a list page.
pub fn list_products(limit: u32, after: Option<&str>) -> Value {
    json!({
        "query": format!("{LIST_PRODUCTS}\n{PRODUCT_FIELDS}\n{VARIANT_FIELDS}"),
        "operationName": "ListProducts",
        "variables": {"first": page_size(limit), "after": after},
    })
}

/// The request body for one product read whole.
pub fn product(product_id: &str) -> Value {
    json!({
        "query": format!("{PRODUCT}\n{PRODUCT_FIELDS}\n{VARIANT_FIELDS}"),
        "operationName": "Product",
        "variables": {"id": product_id},
    })
}

/// The request body for the next variants of one product.
pub fn product_variants(product_id: &str, after: &str) -> Value {
    json!({
        "query": format!("{PRODUCT_VARIANTS}\n{VARIANT_FIELDS}"),
        "operationName": "ProductVariants",
        "variables": {"id": product_id, "after": after},
    })
}

/// The request body for the product of an inventory item (`gid://shopify/InventoryItem/…`).
pub fn inventory_item_product(inventory_item_id: &str) -> Value {
    json!({
        "query": INVENTORY_ITEM_PRODUCT,
        "operationName": "InventoryItemProduct",
        "variables": {"id": inventory_item_id},
    })
}

/// The request body for the shop's details.
pub fn shop_info() -> Value {
    json!({"query": SHOP_INFO, "operationName": "ShopInfo"})
}

/// The request body for the product count.
pub fn products_count() -> Value {
    json!({"query": PRODUCTS_COUNT, "operationName": "ProductsCount"})
}

/// The request body that starts a bulk read of the catalog.
pub fn bulk_run() -> Value {
    json!({"query": BULK_RUN, "operationName": "BulkProducts", "variables": {"query": BULK_PRODUCTS}})
}

/// The request body that polls a bulk operation (`gid://shopify/BulkOperation/…`).
pub fn bulk_poll(operation_id: &str) -> Value {
    json!({"query": BULK_POLL, "operationName": "BulkOperation", "variables": {"id": operation_id}})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variants read per follow-up query for a product with more.
    const VARIANTS_PER_FOLLOW_UP: u32 = 100;

    #[test]
    fn the_documents_ask_for_the_sizes_the_cost_model_assumes() {
        assert!(LIST_PRODUCTS.contains(&format!("variants(first: {VARIANTS_ON_PAGE})")));
        assert!(PRODUCT_VARIANTS.contains(&format!("variants(first: {VARIANTS_PER_FOLLOW_UP}")));
        assert!(PRODUCT.contains(&format!("variants(first: {VARIANTS_PER_FOLLOW_UP})")));
        assert!(PRODUCT_FIELDS.contains(&format!("images(first: {IMAGES_PER_PRODUCT})")));
    }

    #[test]
    fn a_page_stays_under_the_single_query_cost_limit() {
        assert_eq!(PRODUCT_COST, 75);
        assert_eq!(page_size(250), 13);
        assert_eq!(page_size(5), 5);
        assert_eq!(page_size(0), 1);
        assert!(PAGE_OVERHEAD + page_size(u32::MAX) * PRODUCT_COST <= MAX_QUERY_COST);
        let follow_up = 1 + 2 + VARIANTS_PER_FOLLOW_UP * VARIANT_COST;
        assert!(follow_up <= MAX_QUERY_COST);
        // shop, the product, its images, its first 100 variants.
        let whole = 1 + 1 + (2 + IMAGES_PER_PRODUCT) + (2 + VARIANTS_PER_FOLLOW_UP * VARIANT_COST);
        assert_eq!(whole, 616);
        assert!(whole <= MAX_QUERY_COST);
    }

    #[test]
    fn the_bulk_query_reads_what_the_pages_read() {
        assert!(PRODUCT_FIELDS.contains(product_fields!()) && BULK_PRODUCTS.contains(product_fields!()));
        assert!(VARIANT_FIELDS.contains(variant_fields!()) && BULK_PRODUCTS.contains(variant_fields!()));
        assert!(BULK_PRODUCTS.contains(concat!("images { edges { node { id ", image_fields!(), " } } }")));
        assert!(BULK_PRODUCTS.contains("variants { edges { node { id title"));
        assert!(!BULK_PRODUCTS.contains("first:") && !BULK_PRODUCTS.contains("nodes"));
        assert_eq!(bulk_run()["variables"]["query"], BULK_PRODUCTS);
        assert_eq!(
            bulk_poll("gid://shopify/BulkOperation/1")["variables"]["id"],
            "gid://shopify/BulkOperation/1"
        );
    }

    #[test]
    fn the_list_body_carries_the_cursor_and_fragment() {
        let body = list_products(50, Some("abc"));
        assert_eq!(body["variables"], json!({"first": 13, "after": "abc"}));
        assert!(body["query"].as_str().is_some_and(|q| q.contains("fragment VariantFields")));
        assert_eq!(list_products(2, None)["variables"]["after"], Value::Null);
    }
}
