//! A channel connector exactly as one was built for `crossdock:connector@0.1.0`: generated
//! straight from `wit/0.1.0` (the SDK speaks 0.2.0 now), so it has no `activate-listing`,
//! `read-listing` or `config.set-secret`. It lists every product at once under made-up ids,
//! and touches each 0.1.0 import on the way (config, log, clock, and http to the connection's
//! `base-url` when it has one), so the host's tests see the old imports served too.

wit_bindgen::generate!({ world: "channel", path: "../../wit/0.1.0" });

use crossdock::connector::types::{AccountInfo, Attribute, Category, ConnectorError};
use crossdock::connector::{clock, config, http, log};
use exports::crossdock::connector::channel_listings::{
    Guest, ListingDraft, ListingRef, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
};

// The manifest section the host reads before anything else (what the SDK's `manifest!` does).
#[unsafe(link_section = "crossdock-manifest")]
#[used]
static CROSSDOCK_MANIFEST: [u8; include_bytes!("../crossdock.toml").len()] =
    *include_bytes!("../crossdock.toml");

struct Legacy;

fn listing_ref(listing_id: String, draft: &ListingDraft) -> ListingRef {
    ListingRef {
        listing_id,
        sku_ids: draft
            .skus
            .iter()
            .map(|s| (s.seller_sku.clone(), format!("legacy-sku-{}", s.seller_sku)))
            .collect(),
    }
}

impl Guest for Legacy {
    fn channel_info() -> Result<AccountInfo, ConnectorError> {
        // Any answer will do: what matters is that the 0.1.0 http import reached the host.
        if let Some(base) = config::get("base-url") {
            let request = http::Request {
                method: http::Method::Get,
                url: format!("{base}/legacy/ping"),
                headers: Vec::new(),
                body: None,
                timeout_ms: Some(2_000),
            };
            let response = http::send(&request)
                .map_err(|e| ConnectorError::Transient(format!("the host could not send: {e:?}")))?;
            log::log(log::Level::Debug, &format!("legacy ping answered {}", response.status));
        }
        Ok(AccountInfo {
            id: "legacy".into(),
            name: "Legacy".into(),
            currency: config::get("currency").unwrap_or_else(|| "USD".into()),
            region: None,
        })
    }
    fn create_listing(draft: ListingDraft) -> Result<ListingRef, ConnectorError> {
        log::log(
            log::Level::Info,
            &format!("legacy listing {} at {}", draft.external_id, clock::now_millis()),
        );
        Ok(listing_ref(format!("legacy-{}", draft.external_id), &draft))
    }
    fn update_listing(listing_id: String, draft: ListingDraft) -> Result<ListingRef, ConnectorError> {
        Ok(listing_ref(listing_id, &draft))
    }
    fn update_prices(_listing_id: String, _prices: Vec<SkuPrice>) -> Result<(), ConnectorError> {
        Ok(())
    }
    fn update_stock(_listing_id: String, _stock: Vec<SkuStock>) -> Result<(), ConnectorError> {
        Ok(())
    }
    fn listing_status(listing_id: String) -> Result<ReviewStatus, ConnectorError> {
        if listing_id.starts_with("legacy-") {
            Ok(ReviewStatus::Active)
        } else {
            Err(ConnectorError::NotFound(format!("{listing_id:?} is not a legacy listing")))
        }
    }
    fn deactivate_listing(_listing_id: String) -> Result<(), ConnectorError> {
        Ok(())
    }
    fn find_skus(_seller_skus: Vec<String>) -> Result<Vec<SkuMatch>, ConnectorError> {
        Ok(Vec::new())
    }
    fn list_categories() -> Result<Vec<Category>, ConnectorError> {
        Ok(vec![Category { id: "1".into(), parent_id: None, name: "Everything".into(), is_leaf: true }])
    }
    fn category_attributes(_category_id: String) -> Result<Vec<Attribute>, ConnectorError> {
        Ok(Vec::new())
    }
}

export!(Legacy);
