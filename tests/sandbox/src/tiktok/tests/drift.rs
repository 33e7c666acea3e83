//! Over real HTTP: what a connector reads back to notice drift (Get Product's price and stock
//! after the Open API's updates and after edits made in Seller Center), activation of a
//! deactivated product, and the counters pacing and token-refresh tests measure with.

use super::*;
use rust_decimal::Decimal;

const PRODUCTS: &str = "/product/202309/products";

#[tokio::test]
async fn get_product_shows_what_the_api_and_seller_center_set_and_activation_restores_sale() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = sandbox.seed_product(&us.cipher, "Mug", &["MUG-1"]);
    let sku = sandbox.product(&us.cipher, &id).expect("seeded").skus[0].id.clone();
    let path = format!("{PRODUCTS}/{id}");

    let prices = json!({ "skus": [{ "id": sku, "price": { "amount": "12.5", "currency": "USD" } }] });
    let answer =
        client.shop_call(Method::POST, &format!("{path}/prices/update"), &us.cipher, Some(&prices)).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let stock =
        json!({ "skus": [{ "id": sku, "inventory": [{ "warehouse_id": us.warehouse_id, "quantity": 7 }] }] });
    let answer =
        client.shop_call(Method::POST, &format!("{path}/inventory/update"), &us.cipher, Some(&stock)).await;
    assert_eq!(answer["data"]["errors"], json!([]), "{answer}");
    let got = client.shop_call(Method::GET, &path, &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "ACTIVATE");
    assert_eq!(got["data"]["skus"][0]["price"]["sale_price"], "12.5");
    assert_eq!(got["data"]["skus"][0]["price"]["currency"], "USD");
    assert_eq!(
        got["data"]["skus"][0]["inventory"],
        json!([{ "warehouse_id": us.warehouse_id, "quantity": 7 }])
    );

    // The seller edits and hides it in Seller Center: only a read-back shows it.
    let edit = SellerEdit {
        sku_id: Some(sku.clone()),
        price: Some(Decimal::new(1399, 2)),
        quantity: Some(3),
        deactivate: true,
    };
    let edited = sandbox.seller_edit(&us.cipher, &id, &edit);
    assert_eq!(edited.status, "SELLER_DEACTIVATED");
    let got = client.shop_call(Method::GET, &path, &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "SELLER_DEACTIVATED");
    assert_eq!(got["data"]["skus"][0]["price"]["sale_price"], "13.99");
    assert_eq!(got["data"]["skus"][0]["inventory"][0]["quantity"], 3);

    // Activate (the sample body, listing_platforms included) puts it back on sale as it was.
    let body = json!({ "product_ids": [id], "listing_platforms": ["TIKTOK_SHOP"] });
    let answer =
        client.shop_call(Method::POST, &format!("{PRODUCTS}/activate"), &us.cipher, Some(&body)).await;
    assert_eq!(answer["data"]["errors"], json!([]), "{answer}");
    let got = client.shop_call(Method::GET, &path, &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "ACTIVATE");
    assert_eq!(got["data"]["skus"][0]["price"]["sale_price"], "13.99");
    // A live product is not activated again: the per-item error says why.
    let again =
        client.shop_call(Method::POST, &format!("{PRODUCTS}/activate"), &us.cipher, Some(&body)).await;
    assert_eq!(again["data"]["errors"][0]["code"], 12052901, "{again}");
}

#[tokio::test]
async fn seller_edits_over_http_are_checked() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let us = sandbox.shops()[0].clone();
    let id = sandbox.seed_product(&us.cipher, "Mug", &["MUG-1"]);
    let sku = sandbox.product(&us.cipher, &id).expect("seeded").skus[0].id.clone();
    let http = reqwest::Client::new();
    let edit = |product: &str, body: Value| {
        let url =
            format!("{}/_sandbox/shops/{}/products/{product}/seller-edit", sandbox.base_url(), us.cipher);
        let request = http.post(url).json(&body);
        async move {
            let response = request.send().await.expect("answers");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = edit(&id, json!({ "sku_id": sku, "price": "9.99", "quantity": 4 })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["skus"][0]["price"]["amount"], "9.99");
    assert_eq!(body["skus"][0]["quantity"], 4);
    assert_eq!(edit(&id, json!({ "price": "1" })).await.0, 400, "a price needs its SKU");
    assert_eq!(edit("1799999999999999999", json!({ "deactivate": true })).await.0, 404);
    assert_eq!(edit(&id, json!({ "deactivate": true })).await.0, 200);
    assert_eq!(edit(&id, json!({ "deactivate": true })).await.0, 409, "only a live product is hidden");
    assert_eq!(edit(&id, json!({ "colour": "red" })).await.0, 400);
}

#[tokio::test(start_paused = true)]
async fn calls_are_counted_per_api_admitted_and_throttled() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    for _ in 0..51 {
        client.shop_call(Method::GET, "/product/202309/categories", &us.cipher, None).await;
    }
    client.shop_call(Method::GET, "/logistics/202309/warehouses", &us.cipher, None).await;
    let calls = sandbox.api_calls(&us.cipher);
    let categories = calls.iter().find(|c| c.api == "product.categories").expect("counted");
    assert_eq!((categories.admitted, categories.throttled), (50, 1));
    let warehouses = calls.iter().find(|c| c.api == "logistics.warehouses").expect("counted");
    assert_eq!((warehouses.admitted, warehouses.throttled), (1, 0));
    assert_eq!(warehouses.per_second(), None, "one call has no rate");
    assert!(sandbox.api_calls(&sandbox.shops()[1].cipher).is_empty());

    let url = format!("{}/_sandbox/shops/{}/api-calls", sandbox.base_url(), us.cipher);
    let over_http: Value = reqwest::get(url).await.expect("answers").json().await.expect("json");
    let listed = over_http["apis"].as_array().expect("apis");
    assert!(listed.iter().any(|a| a["api"] == "product.categories" && a["throttled"] == 1), "{over_http}");
}

#[tokio::test]
async fn successful_token_refreshes_are_counted() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let refresh = |token: &str| {
        format!(
            "{}/api/v2/token/refresh?app_key={KEY}&app_secret={SECRET}&refresh_token={token}&grant_type=refresh_token",
            sandbox.base_url()
        )
    };
    let ok: Value =
        reqwest::get(refresh(&sandbox.refresh_token())).await.expect("answers").json().await.expect("json");
    assert_eq!(ok["code"], 0, "{ok}");
    let refused: Value =
        reqwest::get(refresh("TTP_wrong")).await.expect("answers").json().await.expect("json");
    assert_ne!(refused["code"], 0);
    assert_eq!(sandbox.token_refreshes(), 1);
    let url = format!("{}/_sandbox/token-refreshes", sandbox.base_url());
    let over_http: Value = reqwest::get(url).await.expect("answers").json().await.expect("json");
    assert_eq!(over_http["token_refreshes"], 1);
}
