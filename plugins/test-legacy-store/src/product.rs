//! Shopify's product answers and their mapping to the 0.2.0 contract's `product` record:
//! a Relay page becomes a product page whose next cursor is Shopify's `endCursor`.

use crate::crossdock::connector::types::{
    ConnectorError, Image, Money, OptionValue, Product, ProductStatus, ProductVariant,
};
use crate::graphql::VARIANTS_PER_PRODUCT;
use crate::iso8601;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopNode {
    #[serde(default)]
    pub name: Option<String>,
    pub currency_code: String,
}

#[derive(Debug, Deserialize)]
pub struct ShopInfoData {
    pub shop: ShopNode,
}

#[derive(Debug, Deserialize)]
pub struct ListProductsData {
    pub shop: ShopNode,
    pub products: Connection<ProductNode>,
}

#[derive(Debug, Deserialize)]
pub struct ProductData {
    pub shop: ShopNode,
    pub product: Option<ProductNode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(default)]
    pub has_next_page: bool,
    #[serde(default)]
    pub end_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection<T> {
    #[serde(default = "Vec::new")]
    pub nodes: Vec<T>,
    #[serde(default)]
    pub page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductNode {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description_html: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: String,
    pub updated_at: String,
    pub images: Connection<ImageNode>,
    pub variants: Connection<VariantNode>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageNode {
    pub url: String,
    #[serde(default)]
    pub alt_text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantNode {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub barcode: Option<String>,
    pub price: String,
    #[serde(default)]
    pub compare_at_price: Option<String>,
    #[serde(default)]
    pub inventory_quantity: Option<i64>,
    #[serde(default)]
    pub selected_options: Vec<SelectedOption>,
}

#[derive(Debug, Deserialize)]
pub struct SelectedOption {
    pub name: String,
    pub value: String,
}

/// Whether `id` is a product GID (`gid://shopify/Product/123`).
pub fn is_product_gid(id: &str) -> bool {
    id.strip_prefix("gid://shopify/Product/")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A list page's products and the cursor of the next page (none on the last).
pub fn page(data: ListProductsData) -> Result<(Vec<Product>, Option<String>), ConnectorError> {
    let currency = data.shop.currency_code;
    let products =
        data.products.nodes.into_iter().map(|node| product(node, &currency)).collect::<Result<_, _>>()?;
    let info = data.products.page_info;
    let next = if info.has_next_page {
        Some(info.end_cursor.ok_or_else(|| {
            ConnectorError::Fatal(
                "ListProducts: Shopify says more products follow but gave no endCursor".into(),
            )
        })?)
    } else {
        None
    };
    Ok((products, next))
}

/// The product of a `Product` answer; none when the store no longer has it.
pub fn one(data: ProductData) -> Result<Option<Product>, ConnectorError> {
    data.product.map(|node| product(node, &data.shop.currency_code)).transpose()
}

/// Maps a product node to the contract's record; prices are in the shop's `currency`.
pub fn product(node: ProductNode, currency: &str) -> Result<Product, ConnectorError> {
    if node.variants.page_info.has_next_page {
        return Err(ConnectorError::Fatal(format!(
            "product {}: has more than {VARIANTS_PER_PRODUCT} variants, more than the legacy test store reads",
            node.id
        )));
    }
    let updated_at = iso8601::parse_millis(&node.updated_at).ok_or_else(|| {
        ConnectorError::Fatal(format!(
            "product {}: updatedAt `{}` is not an ISO 8601 time",
            node.id, node.updated_at
        ))
    })?;
    let status = match node.status.as_str() {
        "ACTIVE" => ProductStatus::Active,
        "ARCHIVED" => ProductStatus::Archived,
        // DRAFT, and statuses newer than this connector (UNLISTED): not for a channel.
        _ => ProductStatus::Draft,
    };
    let variants = node
        .variants
        .nodes
        .into_iter()
        .map(|v| variant(v, currency))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| ConnectorError::Fatal(format!("product {}: {m}", node.id)))?;
    Ok(Product {
        id: node.id,
        title: node.title,
        description_html: node.description_html.unwrap_or_default(),
        vendor: non_empty(node.vendor),
        product_type: non_empty(node.product_type),
        tags: node.tags,
        status,
        images: node
            .images
            .nodes
            .into_iter()
            .map(|i| Image { url: i.url, alt: non_empty(i.alt_text) })
            .collect(),
        variants,
        updated_at,
    })
}

/// One variant; the error names the variant and the field.
fn variant(node: VariantNode, currency: &str) -> Result<ProductVariant, String> {
    let price = money(&node.id, "price", node.price, currency)?;
    let compare_at_price = match non_empty(node.compare_at_price) {
        Some(amount) => Some(money(&node.id, "compareAtPrice", amount, currency)?),
        None => None,
    };
    // A variant of a product without options carries Shopify's placeholder option.
    let options = node
        .selected_options
        .into_iter()
        .filter(|o| !(o.name == "Title" && o.value == "Default Title"))
        .map(|o| OptionValue { name: o.name, value: o.value })
        .collect();
    Ok(ProductVariant {
        id: node.id,
        sku: node.sku.unwrap_or_default(),
        barcode: non_empty(node.barcode),
        title: node.title,
        price,
        compare_at_price,
        stock: node.inventory_quantity.unwrap_or(0),
        weight_grams: None,
        options,
        image: None,
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

/// Checks a `Money` scalar is a plain decimal string (`"19.99"`) before passing it on.
fn money(variant_id: &str, field: &str, amount: String, currency: &str) -> Result<Money, String> {
    let digits = amount.strip_prefix('-').unwrap_or(&amount);
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(format!("variant {variant_id}: {field} `{amount}` is not a decimal amount"));
    }
    Ok(Money { amount, currency: currency.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql;

    /// A page as Shopify answers `ListProducts`: a product with options and a "was" price, and
    /// a draft with one unnamed variant and no SKU.
    const PAGE: &str = r#"{"data":{
      "shop":{"currencyCode":"EUR"},
      "products":{
        "pageInfo":{"hasNextPage":true,"endCursor":"eyJsYXN0X2lkIjo4MTAwMDAwMDAwMDAxfQ=="},
        "nodes":[
          {"id":"gid://shopify/Product/8100000000000","title":"Test Kettle",
           "descriptionHtml":"<p>Boils.</p>","vendor":"Hearth Test Co","productType":"",
           "tags":["kitchen"],"status":"ACTIVE","updatedAt":"2026-01-15T10:00:00Z",
           "images":{"nodes":[{"url":"https://cdn.example.com/k1.jpg","altText":"Kettle"},
                              {"url":"https://cdn.example.com/k2.jpg","altText":null}]},
           "variants":{"pageInfo":{"hasNextPage":false},"nodes":[
             {"id":"gid://shopify/ProductVariant/45000000000001","title":"Black","sku":"TEST-KETTLE-BLK",
              "barcode":"0860000000042","price":"54.00","compareAtPrice":null,"inventoryQuantity":25,
              "selectedOptions":[{"name":"Color","value":"Black"}]},
             {"id":"gid://shopify/ProductVariant/45000000000002","title":"Copper","sku":"TEST-KETTLE-CPR",
              "barcode":"","price":"64.00","compareAtPrice":"79.00","inventoryQuantity":-2,
              "selectedOptions":[{"name":"Color","value":"Copper"}]}]}},
          {"id":"gid://shopify/Product/8100000000001","title":"Bivy","descriptionHtml":"",
           "vendor":"","productType":"Shelter","tags":[],"status":"DRAFT",
           "updatedAt":"2026-01-15T11:00:00.250+01:00","images":{"nodes":[]},
           "variants":{"pageInfo":{"hasNextPage":false},"nodes":[
             {"id":"gid://shopify/ProductVariant/45000000000003","title":"Default Title","sku":null,
              "barcode":null,"price":"120","compareAtPrice":"","inventoryQuantity":12,
              "selectedOptions":[{"name":"Title","value":"Default Title"}]}]}}
        ]}}}"#;

    fn list_data(body: &str) -> ListProductsData {
        let data = graphql::check("ListProducts", 200, None, body.as_bytes()).expect("a good page");
        graphql::decode("ListProducts", data).expect("the list shape")
    }

    #[test]
    fn a_relay_page_maps_to_contract_products_and_passes_on_the_end_cursor() {
        let (products, next) = page(list_data(PAGE)).expect("maps");
        assert_eq!(next.as_deref(), Some("eyJsYXN0X2lkIjo4MTAwMDAwMDAwMDAxfQ=="));
        let [kettle, bivy] = products.as_slice() else { panic!("two products: {products:?}") };

        assert_eq!(kettle.id, "gid://shopify/Product/8100000000000");
        assert_eq!(kettle.status, ProductStatus::Active);
        assert_eq!(kettle.updated_at, 1_768_471_200_000);
        assert_eq!(kettle.vendor.as_deref(), Some("Hearth Test Co"));
        assert_eq!(kettle.product_type, None, "an empty product type is none");
        assert_eq!(kettle.images.len(), 2);
        assert_eq!(kettle.images[1].alt, None);
        let copper = &kettle.variants[1];
        assert_eq!(copper.sku, "TEST-KETTLE-CPR");
        assert_eq!((copper.price.amount.as_str(), copper.price.currency.as_str()), ("64.00", "EUR"));
        assert_eq!(copper.compare_at_price.as_ref().map(|m| m.amount.as_str()), Some("79.00"));
        assert_eq!(copper.stock, -2, "oversold stock passes through");
        assert_eq!(copper.barcode, None);
        assert_eq!(copper.options.len(), 1);
        assert_eq!((copper.options[0].name.as_str(), copper.options[0].value.as_str()), ("Color", "Copper"));
        assert_eq!(kettle.variants[0].barcode.as_deref(), Some("0860000000042"));

        assert_eq!(bivy.status, ProductStatus::Draft);
        assert_eq!(bivy.updated_at, 1_768_471_200_250, "the offset and the fraction are applied");
        let only = &bivy.variants[0];
        assert!(only.options.is_empty(), "the Default Title placeholder is dropped");
        assert_eq!(only.sku, "", "a null SKU reads as empty");
        assert!(only.compare_at_price.is_none(), "an empty compareAtPrice is none");
        assert_eq!((only.price.amount.as_str(), only.stock), ("120", 12));
    }

    #[test]
    fn the_last_page_has_no_next_cursor() {
        let last = PAGE.replace(r#""hasNextPage":true"#, r#""hasNextPage":false"#);
        assert_eq!(page(list_data(&last)).expect("maps").1, None);
        let broken = PAGE.replace(r#","endCursor":"eyJsYXN0X2lkIjo4MTAwMDAwMDAwMDAxfQ==""#, "");
        assert!(matches!(page(list_data(&broken)), Err(ConnectorError::Fatal(m)) if m.contains("endCursor")));
    }

    #[test]
    fn one_product_or_none() {
        let data: ProductData =
            graphql::decode("Product", serde_json::json!({"shop": {"currencyCode": "USD"}, "product": null}))
                .expect("shape");
        assert!(one(data).expect("maps").is_none());
        let list = list_data(PAGE);
        let node = list.products.nodes.into_iter().next().expect("a product");
        let data = ProductData { shop: list.shop, product: Some(node) };
        let found = one(data).expect("maps").expect("a product");
        assert_eq!(found.variants.len(), 2);
    }

    #[test]
    fn product_ids_are_product_gids() {
        assert!(is_product_gid("gid://shopify/Product/8100000000000"));
        for not in ["gid://shopify/Product/", "gid://shopify/ProductVariant/1", "8100000000000", "x"] {
            assert!(!is_product_gid(not), "{not}");
        }
    }

    #[test]
    fn bad_records_are_fatal_and_name_the_product_and_the_field() {
        let bad_price = PAGE.replace(r#""price":"64.00""#, r#""price":"64,00""#);
        assert!(matches!(
            page(list_data(&bad_price)),
            Err(ConnectorError::Fatal(m)) if m.contains("Product/8100000000000") && m.contains("price `64,00`")
        ));
        let bad_time = PAGE.replace("2026-01-15T10:00:00Z", "soon");
        assert!(
            matches!(page(list_data(&bad_time)), Err(ConnectorError::Fatal(m)) if m.contains("updatedAt `soon`"))
        );
        let too_many = PAGE.replacen(
            r#""variants":{"pageInfo":{"hasNextPage":false}"#,
            r#""variants":{"pageInfo":{"hasNextPage":true}"#,
            1,
        );
        assert!(
            matches!(page(list_data(&too_many)), Err(ConnectorError::Fatal(m)) if m.contains("more than 100 variants"))
        );
    }
}
