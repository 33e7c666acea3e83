//! A channel connector that misbehaves on purpose, chosen by the product title: `[loop]`
//! spins forever, `[alloc]` allocates without end, `[panic]` panics, `[forbidden]` calls a
//! host it is not allowed, `[sleep]` blocks in a host call, `[secrets]` tries to set secrets
//! it may not (an undeclared name, a huge value, too many in one call) and `[read-secret]`
//! reads its `token` back; both report what the host answered as an `invalid` error on field
//! `secrets`. `[throttle]` asks the host to wait for ever (`rate-limited` with the largest
//! retry-after), `[huge]` answers with a list of 100,000 SKU ids (megabytes across the
//! boundary). Anything else is listed at once. The host's sandbox tests use it to prove one bad
//! call fails its job and nothing else.

use crossdock_plugin_sdk::http::Request;
use crossdock_plugin_sdk::listings::{
    ListingDraft, ListingRef, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
};
use crossdock_plugin_sdk::types::{AccountInfo, Attribute, Category, ConnectorError};
use crossdock_plugin_sdk::{ChannelListings, Result, config, export_channel, manifest};

manifest!("../crossdock.toml");

struct Chaos;

fn misbehave(title: &str) -> Result<()> {
    if title.contains("[loop]") {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
    if title.contains("[alloc]") {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
    if title.contains("[throttle]") {
        return Err(ConnectorError::rate_limited(u64::MAX, "come back never"));
    }
    if title.contains("[panic]") {
        panic!("chaos plugin panicked on purpose for {title:?}");
    }
    if title.contains("[forbidden]") {
        Request::get("http://forbidden.example.com/steal").send()?;
    }
    if title.contains("[sleep]") {
        let base = config::require("base-url")?;
        Request::get(format!("{base}/sleep")).send()?;
    }
    if title.contains("[secrets]") {
        let mut answers = vec![
            format!("undeclared: {:?}", config::set_secret("not-declared", "x")),
            format!("huge: {:?}", config::set_secret("token", &"x".repeat(64 * 1024))),
        ];
        for i in 0..6 {
            answers.push(format!("set {i}: {:?}", config::set_secret("token", &format!("v{i}"))));
        }
        answers.push(format!("read: {:?}", config::secret("token")));
        return Err(ConnectorError::invalid("secrets", answers.join("; ")));
    }
    if title.contains("[read-secret]") {
        return Err(ConnectorError::invalid("secrets", format!("read: {:?}", config::secret("token"))));
    }
    Ok(())
}

/// Listings this plugin made are `chaos-…`; anything else is not-found.
fn chaos_listing(listing_id: &str) -> Result<()> {
    if listing_id.starts_with("chaos-") {
        Ok(())
    } else {
        Err(ConnectorError::NotFound(format!("{listing_id:?} is not a chaos listing")))
    }
}

impl ChannelListings for Chaos {
    fn channel_info() -> Result<AccountInfo> {
        Ok(AccountInfo {
            id: "chaos".into(),
            name: "Chaos".into(),
            currency: config::get("currency").unwrap_or_else(|| "USD".into()),
            region: None,
        })
    }
    fn create_listing(draft: ListingDraft) -> Result<ListingRef> {
        misbehave(&draft.title)?;
        if draft.title.contains("[huge]") {
            let sku_ids = (0..100_000).map(|i| (format!("sku-{i}"), format!("chaos-sku-{i:0>12}"))).collect();
            return Ok(ListingRef { listing_id: format!("chaos-{}", draft.external_id), sku_ids });
        }
        Ok(ListingRef {
            listing_id: format!("chaos-{}", draft.external_id),
            sku_ids: draft
                .skus
                .iter()
                .map(|s| (s.seller_sku.clone(), format!("chaos-sku-{}", s.seller_sku)))
                .collect(),
        })
    }
    fn update_listing(listing_id: String, draft: ListingDraft) -> Result<ListingRef> {
        misbehave(&draft.title)?;
        Ok(ListingRef {
            listing_id,
            sku_ids: draft
                .skus
                .iter()
                .map(|s| (s.seller_sku.clone(), format!("chaos-sku-{}", s.seller_sku)))
                .collect(),
        })
    }
    fn update_prices(_listing_id: String, _prices: Vec<SkuPrice>) -> Result<()> {
        Ok(())
    }
    fn update_stock(_listing_id: String, _stock: Vec<SkuStock>) -> Result<()> {
        Ok(())
    }
    fn listing_status(listing_id: String) -> Result<ReviewStatus> {
        if listing_id.is_empty() {
            return Err(ConnectorError::NotFound("empty listing id".into()));
        }
        Ok(ReviewStatus::Active)
    }
    fn deactivate_listing(_listing_id: String) -> Result<()> {
        Ok(())
    }
    fn activate_listing(listing_id: String) -> Result<()> {
        chaos_listing(&listing_id)
    }
    /// Its listings hold nothing it could report; unlike `listing-status`, unknown ids are
    /// answered honestly.
    fn read_listing(listing_id: String) -> Result<ListingSnapshot> {
        chaos_listing(&listing_id)?;
        Ok(ListingSnapshot { status: ReviewStatus::Active, skus: Vec::new() })
    }
    /// The chaos channel holds no listings of its own.
    fn find_skus(_seller_skus: Vec<String>) -> Result<Vec<SkuMatch>> {
        Ok(Vec::new())
    }
    fn list_categories() -> Result<Vec<Category>> {
        Ok(vec![Category { id: "1".into(), parent_id: None, name: "Everything".into(), is_leaf: true }])
    }
    fn category_attributes(_category_id: String) -> Result<Vec<Attribute>> {
        Ok(Vec::new())
    }
}

impl crossdock_plugin_sdk::ChannelOrders for Chaos {
    fn list_orders(
        _updated_since: i64,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<crossdock_plugin_sdk::channel_orders::OrderPage> {
        Ok(crossdock_plugin_sdk::channel_orders::OrderPage { orders: Vec::new(), next_cursor: None })
    }
    fn get_order(_id: String) -> Result<Option<crossdock_plugin_sdk::commerce::ChannelOrder>> {
        Ok(None)
    }
    fn shipping_providers() -> Result<Vec<crossdock_plugin_sdk::channel_orders::ShippingProvider>> {
        Ok(Vec::new())
    }
    fn ship(_order_id: String, _shipment: crossdock_plugin_sdk::channel_orders::Shipment) -> Result<String> {
        Err(ConnectorError::Fatal("the chaos channel has no orders".into()))
    }
    fn update_tracking(
        _order_id: String,
        _package_id: String,
        _carrier_id: String,
        _tracking: String,
    ) -> Result<()> {
        Err(ConnectorError::Fatal("the chaos channel has no orders".into()))
    }
    fn cancel_order(_order_id: String, _reason: String) -> Result<()> {
        Err(ConnectorError::Fatal("the chaos channel has no orders".into()))
    }
    fn list_after_sales(
        _updated_since: i64,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<crossdock_plugin_sdk::channel_orders::AfterSalePage> {
        Ok(crossdock_plugin_sdk::channel_orders::AfterSalePage { requests: Vec::new(), next_cursor: None })
    }
    fn order_after_sales(_order_id: String) -> Result<Vec<crossdock_plugin_sdk::commerce::AfterSale>> {
        Ok(Vec::new())
    }
    fn decide_after_sale(_id: String, _approve: bool) -> Result<()> {
        Err(ConnectorError::Fatal("the chaos channel has no orders".into()))
    }
}

impl crossdock_plugin_sdk::ChannelWebhooks for Chaos {
    fn verify_webhook(
        _headers: Vec<(String, String)>,
        _body: Vec<u8>,
    ) -> Result<crossdock_plugin_sdk::channel_webhooks::ChannelDelivery> {
        Err(ConnectorError::Unauthorized("the chaos channel has no orders".into()))
    }
}

export_channel!(Chaos);
