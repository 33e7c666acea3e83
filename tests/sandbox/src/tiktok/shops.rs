//! Seller-level endpoints: the authorized shops (§2.3) and each shop's warehouses (§5.6).

use super::state::{Shop, State};
use serde_json::{Value, json};

/// GET /authorization/{v}/shops. Like the real API, no currency: a connector derives it from
/// the region.
pub(crate) fn authorized_shops(state: &State) -> Value {
    // "Local sellers have only 1 shop"; several shops make a cross-border seller.
    let seller_type = if state.shops.len() == 1 { "LOCAL" } else { "CROSS_BORDER" };
    let shops: Vec<Value> = state
        .shops
        .iter()
        .map(|shop| {
            json!({
                "id": shop.id,
                "name": shop.name,
                "region": shop.region,
                "seller_type": seller_type,
                "cipher": shop.cipher,
                "code": shop.code,
            })
        })
        .collect();
    json!({ "shops": shops })
}

/// GET /logistics/{v}/warehouses: one default sales warehouse and one default return
/// warehouse (the same site, a different id per type).
pub(crate) fn warehouses(shop: &Shop) -> Value {
    let warehouse = |id: &str, kind: &str| {
        json!({
            "id": id,
            "entity_id": id,
            "name": format!("{} warehouse", shop.name),
            "effect_status": "ENABLED",
            "type": kind,
            "sub_type": "DOMESTIC_WAREHOUSE",
            "is_default": true,
            "address": {
                "region": shop.region,
                "region_code": shop.region,
                "state": "Sandbox State",
                "city": "Sandbox City",
                "distict": "Sandbox District",
                "postal_code": "00000",
                "full_address": "1 Sandbox Way, Sandbox City",
                "address_line1": "1 Sandbox Way",
                "phone_number": "+10000000000",
            },
        })
    };
    json!({
        "warehouses": [
            warehouse(&shop.sales_warehouse_id, "SALES_WAREHOUSE"),
            warehouse(&shop.return_warehouse_id, "RETURN_WAREHOUSE"),
        ]
    })
}
