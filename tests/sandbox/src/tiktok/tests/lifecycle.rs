//! Over real HTTP: the batch status endpoints (deactivate, activate, delete, recover), seeded
//! products, and search by seller SKU finding every product that holds one.

use super::*;

async fn batch(client: &Client, method: Method, path: &str, cipher: &str, ids: &[&str]) -> Value {
    let envelope = client.shop_call(method, path, cipher, Some(&json!({ "product_ids": ids }))).await;
    assert_eq!(envelope["code"], 0, "{envelope}");
    envelope["data"].clone()
}

const DEACTIVATE: &str = "/product/202309/products/deactivate";
const ACTIVATE: &str = "/product/202309/products/activate";
const RECOVER: &str = "/product/202309/products/recover";
const PRODUCTS: &str = "/product/202309/products";

fn status(sandbox: &TikTokSandbox, cipher: &str, id: &str) -> String {
    sandbox.product(cipher, id).map(|p| p.status).unwrap_or_default()
}

#[tokio::test]
async fn deactivate_hides_live_products_and_reports_the_others_per_item() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let live = sandbox.seed_product(&us.cipher, "Live mug", &["MUG-1"]);
    assert_eq!(status(&sandbox, &us.cipher, &live), "ACTIVATE");
    let pending = create(&client, &us, "pending").await["product_id"].as_str().expect("id").to_owned();

    let data =
        batch(&client, Method::POST, DEACTIVATE, &us.cipher, &[&live, &pending, "1799999999999999999"]).await;
    let errors = data["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{data}");
    assert_eq!(errors[0]["code"], 12052901);
    assert_eq!(errors[0]["detail"]["product_id"], pending.as_str());
    assert_eq!(errors[1]["code"], 12052032);
    assert_eq!(status(&sandbox, &us.cipher, &live), "SELLER_DEACTIVATED");
    assert_eq!(status(&sandbox, &us.cipher, &pending), "PENDING");

    // Get Product and Search show the new status; prices can no longer change.
    let got = client.shop_call(Method::GET, &format!("{PRODUCTS}/{live}"), &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "SELLER_DEACTIVATED");
    let again = batch(&client, Method::POST, DEACTIVATE, &us.cipher, &[&live]).await;
    assert_eq!(again["errors"][0]["code"], 12052901);

    let data = batch(&client, Method::POST, ACTIVATE, &us.cipher, &[&live]).await;
    assert_eq!(data["errors"], json!([]));
    assert_eq!(status(&sandbox, &us.cipher, &live), "ACTIVATE");
}

#[tokio::test]
async fn another_shops_product_is_not_yours_to_deactivate() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let (us, uk) = (sandbox.shops()[0].clone(), sandbox.shops()[1].clone());
    let theirs = sandbox.seed_product(&uk.cipher, "Tea", &["TEA-1"]);
    let data = batch(&client, Method::POST, DEACTIVATE, &us.cipher, &[&theirs]).await;
    assert_eq!(data["errors"][0]["code"], 12052048);
    assert_eq!(status(&sandbox, &uk.cipher, &theirs), "ACTIVATE");
    assert_eq!(sandbox.product(&us.cipher, &theirs), None);
}

#[tokio::test]
async fn deleted_products_disappear_from_get_and_recover_as_seller_deactivated() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = sandbox.seed_product(&us.cipher, "Vase", &["VASE-1"]);

    let recover_live = batch(&client, Method::POST, RECOVER, &us.cipher, &[&id]).await;
    assert_eq!(recover_live["errors"][0]["code"], 12052901);

    let data = batch(&client, Method::DELETE, PRODUCTS, &us.cipher, &[&id]).await;
    assert_eq!(data["errors"], json!([]));
    assert_eq!(status(&sandbox, &us.cipher, &id), "DELETED");
    let got = client.shop_call(Method::GET, &format!("{PRODUCTS}/{id}"), &us.cipher, None).await;
    assert_eq!(got["code"], 12052032);
    let edit = client
        .shop_call(Method::PUT, &format!("{PRODUCTS}/{id}"), &us.cipher, Some(&product_body(&us, "k")))
        .await;
    assert_eq!(edit["code"], 12052901);

    let data = batch(&client, Method::POST, RECOVER, &us.cipher, &[&id]).await;
    assert_eq!(data["errors"], json!([]));
    assert_eq!(status(&sandbox, &us.cipher, &id), "SELLER_DEACTIVATED");
    batch(&client, Method::POST, ACTIVATE, &us.cipher, &[&id]).await;
    assert_eq!(status(&sandbox, &us.cipher, &id), "ACTIVATE");
}

#[tokio::test]
async fn batches_take_one_to_twenty_ids() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let ids: Vec<String> = (0..21).map(|i| format!("17000000000000000{i:02}")).collect();
    let too_many =
        client.shop_call(Method::POST, DEACTIVATE, &us.cipher, Some(&json!({ "product_ids": ids }))).await;
    assert_eq!(too_many["code"], 12019120);
    let none =
        client.shop_call(Method::POST, DEACTIVATE, &us.cipher, Some(&json!({ "product_ids": [] }))).await;
    assert_ne!(none["code"], 0);
}

#[tokio::test]
async fn search_by_seller_sku_returns_every_product_that_holds_it() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let first = sandbox.seed_product(&us.cipher, "Cup", &["DUP-1", "CUP-2"]);
    let second = sandbox.seed_product(&us.cipher, "Cup again", &["DUP-1"]);
    sandbox.seed_product(&us.cipher, "Plate", &["PLATE-1"]);

    let (_, envelope) = client
        .call(
            Method::POST,
            "/product/202309/products/search",
            &[("shop_cipher", &us.cipher), ("page_size", "1")],
            Some(&json!({ "seller_skus": ["DUP-1"] })),
        )
        .await;
    assert_eq!(envelope["code"], 0, "{envelope}");
    assert_eq!(envelope["data"]["total_count"], 2);
    assert_eq!(envelope["data"]["products"][0]["id"], first.as_str());
    assert_eq!(envelope["data"]["products"][0]["status"], "ACTIVATE");
    let skus = envelope["data"]["products"][0]["skus"].as_array().expect("skus");
    assert_eq!(skus.len(), 2, "search returns the product's every SKU");
    let token = envelope["data"]["next_page_token"].as_str().expect("token").to_owned();
    let (_, page2) = client
        .call(
            Method::POST,
            "/product/202309/products/search",
            &[("shop_cipher", &us.cipher), ("page_size", "1"), ("page_token", &token)],
            Some(&json!({ "seller_skus": ["DUP-1"] })),
        )
        .await;
    assert_eq!(page2["data"]["products"][0]["id"], second.as_str());
    assert_eq!(page2["data"]["next_page_token"], "");

    let seeded = sandbox.product(&us.cipher, &second).expect("seeded");
    assert_eq!(seeded.skus[0].seller_sku, "DUP-1");
    assert_eq!(seeded.audit_status, "APPROVED");
    assert_eq!(seeded.category_id, "600001");
}
