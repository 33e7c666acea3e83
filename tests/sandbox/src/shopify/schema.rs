//! The Admin GraphQL schema subset the sandbox serves, with Shopify's type and field names:
//! the catalog here (`shop`, `products`, `productsCount`, `product`, `productVariants`,
//! `productVariant`, `inventoryItem`, `node`), Relay connections (`edges { cursor node }`,
//! `nodes`, `pageInfo`) with Shopify-shaped opaque cursors; locations and inventory, orders,
//! fulfillments, refunds and bulk operations in `schema/*`. Queries and mutations are merged
//! into one `QueryRoot` and one `MutationRoot`.

mod bulk;
mod fulfillment;
mod inventory;
mod orders;
mod payload;
mod refunds;

use super::bulk::BulkOperations;
use super::data::{InventoryPolicy, ProductRecord, Snapshot, VariantRecord, parse_gid};
use super::idempotency::{self, IdempotencyCache};
use super::scalars::{DateTime, Money, Url};
use super::search::Search;
use super::shop::Shop as ShopRecords;
use super::timestamp;
use crate::catalog::ProductStatus as CatalogStatus;
use async_graphql::{
    Context, EmptySubscription, Enum, Error, ErrorExtensions, ID, Interface, MergedObject, Object, Schema,
    SimpleObject,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::cmp::Ordering;
use std::future::Future;
use std::sync::Arc;

pub use inventory::InventoryLevel;

/// Every query field.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    CatalogQuery,
    inventory::LocationQuery,
    orders::OrderQuery,
    fulfillment::FulfillmentQuery,
    bulk::BulkQuery,
);

/// Every mutation field.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    inventory::InventoryMutation,
    orders::OrderMutation,
    fulfillment::FulfillmentMutation,
    refunds::RefundMutation,
    bulk::BulkMutation,
);

/// The executable schema.
pub type ShopSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Shopify refuses pages larger than this.
pub const MAX_PAGE_SIZE: i32 = 250;

/// The shop's identity, set once when the schema is built.
#[derive(Debug, Clone)]
pub struct ShopInfo {
    pub name: String,
    pub currency: String,
}

/// The schema over `records`; resolvers read the request's snapshot and write through
/// `records`. Bulk operations live in `bulk`.
pub fn build(shop: ShopInfo, records: Arc<ShopRecords>, bulk: Arc<BulkOperations>) -> ShopSchema {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .data(shop)
        .data(records)
        .data(bulk)
        .data(IdempotencyCache::default())
        .directive(idempotency::idempotent)
        .limit_depth(24)
        .limit_recursive_depth(32)
        .finish()
}

// ---- enums -----------------------------------------------------------------------------

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl From<CatalogStatus> for ProductStatus {
    fn from(status: CatalogStatus) -> Self {
        match status {
            CatalogStatus::Active => ProductStatus::Active,
            CatalogStatus::Draft => ProductStatus::Draft,
            CatalogStatus::Archived => ProductStatus::Archived,
        }
    }
}

/// How `products` can be ordered; `RELEVANCE` and `INVENTORY_TOTAL` fall back to `ID`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSortKeys {
    Id,
    Title,
    UpdatedAt,
    CreatedAt,
    ProductType,
    Vendor,
    InventoryTotal,
    Relevance,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    Grams,
    Kilograms,
    Ounces,
    Pounds,
}

// ---- connections -----------------------------------------------------------------------

#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    has_next_page: bool,
    has_previous_page: bool,
    start_cursor: Option<String>,
    end_cursor: Option<String>,
}

/// One page of items with their cursors, before it becomes a concrete connection type.
pub struct Page<T> {
    edges: Vec<(String, T)>,
    page_info: PageInfo,
}

/// Declares a Relay connection and edge type for one node type, with Shopify's names.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            cursor: String,
            node: $node,
        }

        #[derive(SimpleObject)]
        pub struct $connection {
            edges: Vec<$edge>,
            nodes: Vec<$node>,
            page_info: $crate::shopify::schema::PageInfo,
        }

        impl From<$crate::shopify::schema::Page<$node>> for $connection {
            fn from(page: $crate::shopify::schema::Page<$node>) -> Self {
                let nodes = page.edges.iter().map(|(_, node)| node.clone()).collect();
                let edges = page.edges.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect();
                $connection { edges, nodes, page_info: page.page_info }
            }
        }
    };
}

pub(crate) use connection;

connection!(ProductConnection, ProductEdge, Product);
connection!(ProductVariantConnection, ProductVariantEdge, ProductVariant);
connection!(ImageConnection, ImageEdge, Image);

/// A position in a sorted list: the sort value and the id that breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum SortValue {
    Int(i64),
    Text(String),
}

impl SortValue {
    fn encode(&self) -> String {
        match self {
            SortValue::Int(n) => n.to_string(),
            SortValue::Text(s) => s.clone(),
        }
    }
}

/// `first`/`after`/`last`/`before` as the resolvers receive them.
pub(super) struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    pub reverse: bool,
}

impl PageArgs {
    /// Forward or backward paging in the natural order.
    pub fn new(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> Self {
        PageArgs { first, after, last, before, reverse: false }
    }
}

/// One page of `items` (already in id order) keyed by id, as a connection.
pub(super) fn page_by_id<T: Clone, C: From<Page<T>>>(
    items: &[T],
    id: impl Fn(&T) -> u64,
    args: PageArgs,
) -> Result<C, Error> {
    paginate(items, |item| (SortValue::Int(id(item) as i64), id(item)), true, args).map(Into::into)
}

/// One page of `items` ordered by `key`, descending when `args.reverse`, as a connection.
/// `numeric` says how the cursors' `last_value` is read back.
pub(super) fn page_sorted<T: Clone, C: From<Page<T>>>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> (SortValue, u64),
    numeric: bool,
    args: PageArgs,
) -> Result<C, Error> {
    // Lists come in id order, so paging by id needs no sort.
    if !items.is_sorted_by_key(&key) {
        items.sort_by_cached_key(&key);
    }
    if args.reverse {
        items.reverse();
    }
    paginate(&items, key, numeric, args).map(Into::into)
}

/// Encodes a cursor the way Shopify's look: base64 of `{"last_id":…,"last_value":"…"}`.
fn encode_cursor(id: u64, value: &SortValue) -> String {
    BASE64.encode(serde_json::json!({"last_id": id, "last_value": value.encode()}).to_string())
}

fn decode_cursor(cursor: &str, numeric: bool) -> Result<(SortValue, u64), Error> {
    let invalid =
        || Error::new(format!("Invalid cursor: {cursor}")).extend_with(|_, e| e.set("code", "BAD_REQUEST"));
    let bytes = BASE64.decode(cursor.trim()).map_err(|_| invalid())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let id = json.get("last_id").and_then(serde_json::Value::as_u64).ok_or_else(invalid)?;
    let raw = json.get("last_value").and_then(serde_json::Value::as_str).ok_or_else(invalid)?;
    let value = if numeric {
        SortValue::Int(raw.parse().map_err(|_| invalid())?)
    } else {
        SortValue::Text(raw.to_string())
    };
    Ok((value, id))
}

tokio::task_local! {
    /// Set while a bulk query runs: connections return every node, whatever `first` says.
    static UNBOUNDED_PAGES: ();
}

/// Runs `execution` (a bulk query) with connections unbounded, as Shopify runs bulk queries:
/// pagination arguments are ignored and the 250-node page limit does not apply.
pub(super) async fn unbounded_pages<F: Future>(execution: F) -> F::Output {
    UNBOUNDED_PAGES.scope((), execution).await
}

fn page_size_error(message: &str) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", "BAD_REQUEST"))
}

/// Cuts one page out of `items`, already sorted by `key` (ascending, or descending when
/// `args.reverse`). `numeric` says how the cursors' `last_value` is read back.
fn paginate<T: Clone>(
    items: &[T],
    key: impl Fn(&T) -> (SortValue, u64),
    numeric: bool,
    args: PageArgs,
) -> Result<Page<T>, Error> {
    if UNBOUNDED_PAGES.try_with(|_| ()).is_ok() {
        return Ok(page_of(items, key, false, false));
    }
    // Shopify's own wording for the missing-size case; the over-250 wording is ours.
    let size = match (args.first, args.last) {
        (None, None) => return Err(page_size_error("you must provide one of first or last")),
        (Some(_), Some(_)) => {
            return Err(page_size_error("you may provide only one of first or last"));
        }
        (Some(n), None) | (None, Some(n)) => n,
    };
    if size < 0 {
        return Err(page_size_error("first and last must be non-negative"));
    }
    if size > MAX_PAGE_SIZE {
        return Err(page_size_error(&format!(
            "The page size is {size}; first and last accept at most {MAX_PAGE_SIZE}."
        )));
    }
    let size = size as usize;
    let order = |a: &(SortValue, u64), b: &(SortValue, u64)| -> Ordering {
        if args.reverse { b.cmp(a) } else { a.cmp(b) }
    };
    let start = match &args.after {
        Some(cursor) => {
            let at = decode_cursor(cursor, numeric)?;
            items.partition_point(|item| order(&key(item), &at) != Ordering::Greater)
        }
        None => 0,
    };
    let end = match &args.before {
        Some(cursor) => {
            let at = decode_cursor(cursor, numeric)?;
            items.partition_point(|item| order(&key(item), &at) == Ordering::Less).max(start)
        }
        None => items.len(),
    };
    let window = &items[start..end];
    let (page, has_next, has_previous) = if args.first.is_some() {
        let page = &window[..window.len().min(size)];
        (page, window.len() > size, start > 0)
    } else {
        let page = &window[window.len().saturating_sub(size)..];
        (page, end < items.len(), window.len() > size)
    };
    Ok(page_of(page, key, has_next, has_previous))
}

/// `items` as one page with their cursors.
fn page_of<T: Clone>(
    items: &[T],
    key: impl Fn(&T) -> (SortValue, u64),
    has_next_page: bool,
    has_previous_page: bool,
) -> Page<T> {
    let edges: Vec<(String, T)> = items
        .iter()
        .map(|item| {
            let (value, id) = key(item);
            (encode_cursor(id, &value), item.clone())
        })
        .collect();
    let page_info = PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: edges.first().map(|(cursor, _)| cursor.clone()),
        end_cursor: edges.last().map(|(cursor, _)| cursor.clone()),
    };
    Page { edges, page_info }
}

// ---- objects ---------------------------------------------------------------------------

/// The shop as it was when the request started.
pub(super) fn snapshot(ctx: &Context<'_>) -> Result<Snapshot, Error> {
    ctx.data::<Snapshot>().cloned()
}

/// The records resolvers write through.
pub(super) fn records<'a>(ctx: &Context<'a>) -> Result<&'a Arc<ShopRecords>, Error> {
    ctx.data::<Arc<ShopRecords>>()
}

/// A node by GID: `find` looks up the id in the request's snapshot. A GID of another kind, or
/// not a GID, finds nothing.
pub(super) fn find_by_gid<T>(
    ctx: &Context<'_>,
    gid: &ID,
    kind: &str,
    find: impl FnOnce(&Snapshot, u64) -> Option<T>,
) -> Result<Option<T>, Error> {
    let snapshot = snapshot(ctx)?;
    Ok(parse_gid(gid, kind).and_then(|id| find(&snapshot, id)))
}

/// The catalog queries.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    async fn shop(&self, ctx: &Context<'_>) -> Result<Shop, Error> {
        Ok(Shop(ctx.data::<ShopInfo>()?.clone()))
    }

    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        sort_key: Option<ProductSortKeys>,
        reverse: Option<bool>,
    ) -> Result<ProductConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let search = Search::parse(query.as_deref());
        let sort_key = sort_key.unwrap_or(ProductSortKeys::Id);
        let key = move |p: &Product| -> (SortValue, u64) {
            let r = &p.0;
            let value = match sort_key {
                ProductSortKeys::Id | ProductSortKeys::InventoryTotal | ProductSortKeys::Relevance => {
                    SortValue::Int(r.id as i64)
                }
                ProductSortKeys::Title => SortValue::Text(r.title.to_lowercase()),
                ProductSortKeys::UpdatedAt => SortValue::Text(timestamp::format(r.updated_at)),
                ProductSortKeys::CreatedAt => SortValue::Text(timestamp::format(r.created_at)),
                ProductSortKeys::ProductType => SortValue::Text(r.product_type.to_lowercase()),
                ProductSortKeys::Vendor => SortValue::Text(r.vendor.to_lowercase()),
            };
            (value, r.id)
        };
        let numeric = matches!(
            sort_key,
            ProductSortKeys::Id | ProductSortKeys::InventoryTotal | ProductSortKeys::Relevance
        );
        let reverse = reverse.unwrap_or(false);
        let items: Vec<Product> = snapshot
            .products
            .iter()
            .filter(|p| search.matches_product(p))
            .map(|p| Product(Arc::clone(p)))
            .collect();
        page_sorted(items, key, numeric, PageArgs { first, after, last, before, reverse })
    }

    /// How many products match `query`, counted up to `limit` (Shopify's default 10,000;
    /// `null` for no limit); past it the count is `limit` with precision `AT_LEAST`.
    async fn products_count(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        #[graphql(default = 10_000)] limit: Option<i32>,
    ) -> Result<Count, Error> {
        let snapshot = snapshot(ctx)?;
        let search = Search::parse(query.as_deref());
        let matching = snapshot.products.iter().filter(|p| search.matches_product(p)).count();
        let limit = limit.map(|l| usize::try_from(l).unwrap_or(0));
        Ok(match limit {
            Some(limit) if matching > limit => {
                Count { count: limit as i64, precision: CountPrecision::AtLeast }
            }
            _ => Count { count: matching as i64, precision: CountPrecision::Exact },
        })
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>, Error> {
        find_by_gid(ctx, &id, "Product", Product::find)
    }

    /// Any object with an id the sandbox serves through `node`: bulk operations, products
    /// and variants.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>, Error> {
        if id.starts_with("gid://shopify/BulkOperation/") {
            let bulk = ctx.data::<Arc<BulkOperations>>()?;
            return Ok(bulk::BulkOperation::find(bulk, &id).map(Node::BulkOperation));
        }
        if let Some(product) = find_by_gid(ctx, &id, "Product", Product::find)? {
            return Ok(Some(Node::Product(product)));
        }
        let variant =
            find_by_gid(ctx, &id, "ProductVariant", |snapshot, id| find_variant(snapshot, |v| v.id == id))?;
        Ok(variant.map(Node::ProductVariant))
    }

    #[allow(clippy::too_many_arguments)]
    async fn product_variants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        reverse: Option<bool>,
    ) -> Result<ProductVariantConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let search = Search::parse(query.as_deref());
        let reverse = reverse.unwrap_or(false);
        // Variant ids grow with product ids, so the list is in id order already.
        let items: Vec<ProductVariant> = snapshot
            .products
            .iter()
            .flat_map(|p| {
                (0..p.variants.len()).map(move |index| ProductVariant { product: Arc::clone(p), index })
            })
            .filter(|v| search.matches_variant(&v.product, v.record()))
            .collect();
        let key = |v: &ProductVariant| (SortValue::Int(v.record().id as i64), v.record().id);
        page_sorted(items, key, true, PageArgs { first, after, last, before, reverse })
    }

    async fn product_variant(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ProductVariant>, Error> {
        find_by_gid(ctx, &id, "ProductVariant", |snapshot, id| find_variant(snapshot, |v| v.id == id))
    }

    /// An inventory item by GID; each variant has exactly one.
    async fn inventory_item(&self, ctx: &Context<'_>, id: ID) -> Result<Option<InventoryItem>, Error> {
        find_by_gid(ctx, &id, "InventoryItem", |snapshot, id| {
            find_variant(snapshot, |v| v.inventory_item_id == id).map(|variant| InventoryItem { variant })
        })
    }
}

/// The first variant `select` picks, with its product.
pub(super) fn find_variant(
    snapshot: &Snapshot,
    select: impl Fn(&VariantRecord) -> bool,
) -> Option<ProductVariant> {
    snapshot.products.iter().find_map(|product| {
        let index = product.variants.iter().position(&select)?;
        Some(ProductVariant { product: Arc::clone(product), index })
    })
}

/// `Node`: an object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    BulkOperation(bulk::BulkOperation),
    Product(Product),
    ProductVariant(ProductVariant),
}

/// `CountPrecision`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountPrecision {
    AtLeast,
    Exact,
}

/// `Count`.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct Count {
    count: i64,
    precision: CountPrecision,
}

pub struct Shop(ShopInfo);

#[Object]
impl Shop {
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// An enum on Shopify (`CurrencyCode`); the JSON is the same string.
    async fn currency_code(&self) -> &str {
        &self.0.currency
    }
}

#[derive(Clone)]
pub struct Product(pub Arc<ProductRecord>);

impl Product {
    /// The product with this id.
    pub fn find(snapshot: &Snapshot, id: u64) -> Option<Product> {
        let products = &snapshot.products;
        products.binary_search_by_key(&id, |p| p.id).ok().map(|i| Product(Arc::clone(&products[i])))
    }

    fn image(&self, index: usize) -> Option<Image> {
        let url = self.0.images.get(index)?;
        Some(Image {
            id: image_id(&self.0, index),
            url: url.clone(),
            alt_text: (index == 0).then(|| self.0.title.clone()),
        })
    }
}

/// Image ids are derived from the product id and the image's position.
pub fn image_id(product: &ProductRecord, index: usize) -> u64 {
    40_000_000_000_000 + (product.id % 1_000_000_000) * 1_000 + index as u64
}

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.0.gid())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn handle(&self) -> &str {
        &self.0.handle
    }
    async fn description_html(&self) -> &str {
        &self.0.body_html
    }
    async fn vendor(&self) -> &str {
        &self.0.vendor
    }
    async fn product_type(&self) -> &str {
        &self.0.product_type
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn status(&self) -> ProductStatus {
        self.0.status.into()
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
    async fn total_inventory(&self) -> i64 {
        self.0.variants.iter().map(VariantRecord::inventory_quantity).sum()
    }
    async fn featured_image(&self) -> Option<Image> {
        self.image(0)
    }
    async fn images(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ImageConnection, Error> {
        let items: Vec<Image> = (0..self.0.images.len()).filter_map(|i| self.image(i)).collect();
        page_by_id(&items, |image| image.id, PageArgs::new(first, after, last, before))
    }
    async fn variants(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<ProductVariantConnection, Error> {
        let items: Vec<ProductVariant> = (0..self.0.variants.len())
            .map(|index| ProductVariant { product: Arc::clone(&self.0), index })
            .collect();
        page_by_id(&items, |v| v.record().id, PageArgs::new(first, after, last, before))
    }
}

#[derive(Clone)]
pub struct ProductVariant {
    pub product: Arc<ProductRecord>,
    pub index: usize,
}

impl ProductVariant {
    pub fn record(&self) -> &VariantRecord {
        &self.product.variants[self.index]
    }
}

#[Object]
impl ProductVariant {
    async fn id(&self) -> ID {
        ID(self.record().gid())
    }
    async fn title(&self) -> &str {
        &self.record().title
    }
    async fn display_name(&self) -> String {
        format!("{} - {}", self.product.title, self.record().title)
    }
    /// Shopify returns `null` for a variant without SKU on recent versions; so do we.
    async fn sku(&self) -> Option<&str> {
        Some(self.record().sku.as_str()).filter(|s| !s.is_empty())
    }
    async fn barcode(&self) -> Option<&str> {
        self.record().barcode.as_deref()
    }
    async fn price(&self) -> Money {
        Money(self.record().price)
    }
    async fn compare_at_price(&self) -> Option<Money> {
        self.record().compare_at_price.map(Money)
    }
    async fn inventory_quantity(&self) -> Option<i64> {
        Some(self.record().inventory_quantity())
    }
    async fn inventory_policy(&self) -> InventoryPolicy {
        self.record().inventory_policy
    }
    async fn position(&self) -> i32 {
        self.index as i32 + 1
    }
    async fn selected_options(&self) -> Vec<SelectedOption> {
        self.record()
            .options
            .iter()
            .map(|(name, value)| SelectedOption { name: name.clone(), value: value.clone() })
            .collect()
    }
    async fn image(&self) -> Option<Image> {
        let index = self.record().image?;
        Product(Arc::clone(&self.product)).image(index)
    }
    async fn inventory_item(&self) -> InventoryItem {
        InventoryItem { variant: self.clone() }
    }
    async fn product(&self) -> Product {
        Product(Arc::clone(&self.product))
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.product.created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.record().updated_at)
    }
}

#[derive(SimpleObject, Clone)]
pub struct SelectedOption {
    name: String,
    value: String,
}

#[derive(Clone)]
pub struct Image {
    id: u64,
    url: String,
    alt_text: Option<String>,
}

#[Object]
impl Image {
    async fn id(&self) -> ID {
        ID(format!("gid://shopify/ProductImage/{}", self.id))
    }
    async fn url(&self) -> Url {
        Url(self.url.clone())
    }
    async fn alt_text(&self) -> Option<&str> {
        self.alt_text.as_deref()
    }
    async fn width(&self) -> Option<i32> {
        None
    }
    async fn height(&self) -> Option<i32> {
        None
    }
}

pub struct InventoryItem {
    pub variant: ProductVariant,
}

#[Object]
impl InventoryItem {
    async fn id(&self) -> ID {
        ID(format!("gid://shopify/InventoryItem/{}", self.variant.record().inventory_item_id))
    }
    async fn sku(&self) -> Option<&str> {
        Some(self.variant.record().sku.as_str()).filter(|s| !s.is_empty())
    }
    async fn tracked(&self) -> bool {
        true
    }
    /// The variant this item stocks.
    async fn variant(&self) -> ProductVariant {
        self.variant.clone()
    }
    async fn measurement(&self) -> InventoryItemMeasurement {
        InventoryItemMeasurement { grams: self.variant.record().grams }
    }
    /// The item's level at each location.
    async fn inventory_levels(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<inventory::InventoryLevelConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let items = inventory::levels_of(&snapshot, &self.variant);
        page_by_id(&items, |l| l.location.id, PageArgs::new(first, after, last, before))
    }
    /// The item's level at one location; `null` where it is not stocked.
    async fn inventory_level(
        &self,
        ctx: &Context<'_>,
        location_id: ID,
    ) -> Result<Option<InventoryLevel>, Error> {
        find_by_gid(ctx, &location_id, "Location", |snapshot, location| {
            inventory::levels_of(snapshot, &self.variant).into_iter().find(|l| l.location.id == location)
        })
    }
}

pub struct InventoryItemMeasurement {
    grams: u32,
}

#[Object]
impl InventoryItemMeasurement {
    /// Shopify stores weight as a float with a unit; the sandbox always answers in grams.
    async fn weight(&self) -> Weight {
        Weight { value: f64::from(self.grams), unit: WeightUnit::Grams }
    }
}

#[derive(SimpleObject)]
pub struct Weight {
    value: f64,
    unit: WeightUnit,
}
