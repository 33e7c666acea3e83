//! Finding the shop's existing SKUs by seller SKU through Search Products (reference §5.1):
//! the seller SKUs in chunks, each chunk's body, and the matches read back from each page.
//! Pure, so it is tested natively.

use crate::listing::id_of;
use crossdock_plugin_sdk::listings::SkuMatch;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Seller SKUs per Search Products call. The docs give no cap for `seller_skus` (only
/// `sku_ids`, at most 10); 20, the cap of TikTok's other product batches, keeps each body
/// small. UNCONFIRMED on the real API.
pub const SKUS_PER_SEARCH: usize = 20;
/// Products per page, the documented maximum.
pub const PAGE_SIZE: &str = "100";
/// Pages read per chunk at most: bounds the loop should a token never run out.
pub const MAX_PAGES: usize = 100;

/// The seller SKUs to look for: no blanks, each once, in the caller's order.
pub fn distinct(seller_skus: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    seller_skus
        .into_iter()
        .filter(|sku| !sku.trim().is_empty())
        .filter(|sku| seen.insert(sku.clone()))
        .collect()
}

/// Search Products' body: the chunk's seller SKUs, every status.
pub fn search_body(chunk: &[String]) -> Value {
    json!({ "seller_skus": chunk })
}

/// Every SKU of the page's products whose seller SKU is in `chunk`: a seller SKU held by two
/// products matches twice. Deleted products are skipped: Get Product no longer returns them,
/// so there is nothing to link to.
pub fn matches(data: &Value, chunk: &[String]) -> Vec<SkuMatch> {
    let mut found = Vec::new();
    for product in data["products"].as_array().into_iter().flatten() {
        let status = product["status"].as_str().unwrap_or_default();
        if status == "DELETED" {
            continue;
        }
        let Some(listing_id) = id_of(&product["id"]) else {
            continue;
        };
        for sku in product["skus"].as_array().into_iter().flatten() {
            let (Some(seller_sku), Some(sku_id)) = (sku["seller_sku"].as_str(), id_of(&sku["id"])) else {
                continue;
            };
            if chunk.iter().any(|wanted| wanted == seller_sku) {
                found.push(SkuMatch {
                    seller_sku: seller_sku.to_owned(),
                    listing_id: listing_id.clone(),
                    sku_id,
                    status: status.to_owned(),
                });
            }
        }
    }
    found
}

/// The token of the next page; none on the last one (TikTok sends an empty string).
pub fn next_page_token(data: &Value) -> Option<String> {
    data["next_page_token"].as_str().filter(|token| !token.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skus(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn seller_skus_are_searched_once_each_without_blanks() {
        assert_eq!(distinct(skus(&["A", "", "B", "A", "  "])), skus(&["A", "B"]));
        assert_eq!(search_body(&skus(&["A"])), json!({ "seller_skus": ["A"] }));
    }

    #[test]
    fn a_seller_sku_held_by_two_products_matches_twice() {
        let page = json!({ "products": [
            { "id": "1701", "status": "ACTIVATE", "skus": [
                { "id": "1711", "seller_sku": "DUP" }, { "id": "1712", "seller_sku": "OTHER" } ] },
            { "id": "1702", "status": "SELLER_DEACTIVATED", "skus": [{ "id": "1721", "seller_sku": "DUP" }] },
            { "id": "1703", "status": "DELETED", "skus": [{ "id": "1731", "seller_sku": "DUP" }] },
        ], "next_page_token": "" });
        let found = matches(&page, &skus(&["DUP"]));
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].listing_id.as_str(), found[0].sku_id.as_str(), found[0].status.as_str()),
            ("1701", "1711", "ACTIVATE")
        );
        assert_eq!((found[1].listing_id.as_str(), found[1].status.as_str()), ("1702", "SELLER_DEACTIVATED"));
        assert_eq!(next_page_token(&page), None);
        assert_eq!(next_page_token(&json!({ "next_page_token": "b2Zm" })).as_deref(), Some("b2Zm"));
    }
}
