//! Bulk query operations over HTTP: submitting, polling, downloading the JSONL by byte ranges,
//! the concurrency limit, cancellation, failures, and `productsCount`.

use super::*;
use std::time::Duration;

const RUN: &str = "mutation($q: String!, $group: Boolean!) {
  bulkOperationRunQuery(query: $q, groupObjects: $group) {
    bulkOperation { id status url }
    userErrors { field message code }
  }
}";

const POLL: &str = "query($id: ID!) { node(id: $id) { ... on BulkOperation {
  id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl } } }";

/// What the shopify plugin asks for, in a bulk query's shape.
const PRODUCTS: &str = "{ products(sortKey: ID) { edges { node {
  id title handle status updatedAt
  images { edges { node { id url altText } } }
  variants { edges { node { id title sku price inventoryQuantity selectedOptions { name value } } } } } } } }";

fn fast(run_ms: u64) -> BulkSettings {
    BulkSettings { run_time: Duration::from_millis(run_ms), ..BulkSettings::default() }
}

/// Submits a bulk query and returns the mutation's payload.
async fn run(shop: &ShopifySandbox, q: &str, group: bool) -> Value {
    let body = query(shop, RUN, json!({"q": q, "group": group})).await;
    body["data"]["bulkOperationRunQuery"].clone()
}

/// Polls until the operation leaves `CREATED`/`RUNNING`; returns it and how many polls saw it run.
async fn finish(shop: &ShopifySandbox, id: &Value) -> (Value, usize) {
    for polls in 0..500 {
        let body = query(shop, POLL, json!({"id": id})).await;
        let operation = body["data"]["node"].clone();
        if !matches!(operation["status"].as_str(), Some("CREATED" | "RUNNING")) {
            return (operation, polls);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the bulk operation never finished");
}

async fn download(url: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    request.send().await.expect("sandbox answers")
}

fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

#[tokio::test]
async fn a_bulk_query_runs_a_while_then_its_file_lists_each_product_before_its_variants() {
    let shop = ShopifySandbox::start(config(generated_catalog(7, 3, 11))).await.expect("starts");
    shop.set_bulk_settings(fast(150));
    let payload = run(&shop, PRODUCTS, true).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    assert_eq!(payload["bulkOperation"]["status"], "CREATED");
    assert_eq!(payload["bulkOperation"]["url"], Value::Null);
    let (operation, polls) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    assert!(polls >= 1, "it was RUNNING for a while");
    assert_eq!(operation["status"], "COMPLETED", "{operation}");
    assert_eq!(operation["errorCode"], Value::Null);
    assert_eq!(operation["objectCount"], "35", "7 products, 21 variants, 7 images");
    assert_eq!(operation["rootObjectCount"], "7");
    assert!(operation["completedAt"].is_string());

    let url = operation["url"].as_str().expect("a url");
    assert!(url.contains("X-Goog-Signature="), "{url}");
    let response = download(url, None).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/jsonl");
    assert_eq!(response.headers()["accept-ranges"], "bytes");
    let text = response.text().await.expect("a body");
    assert_eq!(operation["fileSize"], text.len().to_string());
    let lines = lines(&text);
    assert_eq!(lines.len(), 35);
    let mut product = None;
    let mut products = Vec::new();
    for line in &lines {
        match line.get("__parentId") {
            None => {
                assert!(line.get("variants").is_none() && line.get("images").is_none(), "{line}");
                product = line["id"].as_str();
                products.push(line["handle"].clone());
            }
            Some(parent) => assert_eq!(parent.as_str(), product, "grouped: children follow their parent"),
        }
    }
    let handles: Vec<Value> = generated_catalog(7, 3, 11).iter().map(|p| json!(p.handle)).collect();
    assert_eq!(products, handles, "products in id order");
    let variant = lines.iter().find(|l| l["id"].as_str().is_some_and(|id| id.contains("ProductVariant")));
    let variant = variant.expect("a variant line");
    assert!(variant["price"].is_string() && variant["selectedOptions"].is_array(), "{variant}");
    shop.stop().await;
}

#[tokio::test]
async fn without_grouping_children_still_come_after_their_parent() {
    let shop = ShopifySandbox::start(config(generated_catalog(5, 2, 3))).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let payload = run(&shop, PRODUCTS, false).await;
    let (operation, _) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    let text = download(operation["url"].as_str().expect("url"), None).await.text().await.expect("body");
    let lines = lines(&text);
    assert!(lines[..5].iter().all(|l| l.get("__parentId").is_none()), "the products first");
    let at = |id: &Value| lines.iter().position(|l| &l["id"] == id).expect("listed");
    for (i, line) in lines.iter().enumerate() {
        if let Some(parent) = line.get("__parentId") {
            assert!(at(parent) < i, "{line}");
        }
    }
    shop.stop().await;
}

#[tokio::test]
async fn the_file_serves_byte_ranges_and_refuses_a_forged_signature() {
    let shop = ShopifySandbox::start(config(generated_catalog(20, 3, 5))).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let payload = run(&shop, PRODUCTS, true).await;
    let (operation, _) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    let url = operation["url"].as_str().expect("url");
    let whole = download(url, None).await.bytes().await.expect("body");
    let total = whole.len();

    let part = download(url, Some("bytes=100-1123")).await;
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 100-1123/{total}").as_str());
    assert_eq!(part.bytes().await.expect("body"), whole.slice(100..1124));
    let tail = download(url, Some(&format!("bytes={}-", total - 10))).await;
    assert_eq!(tail.status().as_u16(), 206);
    assert_eq!(tail.bytes().await.expect("body"), whole.slice(total - 10..));
    let past = download(url, Some(&format!("bytes={total}-"))).await;
    assert_eq!(past.status().as_u16(), 416);
    assert_eq!(past.headers()["content-range"], format!("bytes */{total}").as_str());

    let forged = url.replace("X-Goog-Signature=", "X-Goog-Signature=00");
    let refused = download(&forged, None).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(refused.text().await.expect("body").contains("<Code>SignatureDoesNotMatch</Code>"));
    let unsigned = url.split('?').next().expect("a path");
    assert_eq!(download(unsigned, None).await.status().as_u16(), 400);
    assert_eq!(shop.stats().bulk_downloads, 6);
    shop.stop().await;
}

#[tokio::test]
async fn a_sixth_bulk_query_is_refused_while_five_run_and_a_cancelled_one_frees_its_place() {
    let shop = ShopifySandbox::start(config(generated_catalog(3, 1, 1))).await.expect("starts");
    shop.set_bulk_settings(fast(60_000));
    let mut ids = Vec::new();
    for _ in 0..5 {
        let payload = run(&shop, PRODUCTS, true).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        ids.push(payload["bulkOperation"]["id"].clone());
    }
    let refused = run(&shop, PRODUCTS, true).await;
    assert_eq!(refused["bulkOperation"], Value::Null);
    assert_eq!(refused["userErrors"][0]["code"], "LIMIT_REACHED", "{refused}");

    let current = query(&shop, "{ currentBulkOperation { id status type } }", json!({})).await;
    assert_eq!(current["data"]["currentBulkOperation"]["id"], ids[4]);
    assert_eq!(current["data"]["currentBulkOperation"]["status"], "RUNNING");
    assert_eq!(current["data"]["currentBulkOperation"]["type"], "QUERY");

    let cancel = "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }";
    let body = query(&shop, cancel, json!({"id": ids[0]})).await;
    assert_eq!(body["data"]["bulkOperationCancel"]["bulkOperation"]["status"], "CANCELING", "{body}");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 10);
    tokio::time::sleep(crate::shopify::bulk::CANCEL_TIME).await;
    let (cancelled, _) = finish(&shop, &ids[0]).await;
    assert_eq!(cancelled["status"], "CANCELED");
    assert_eq!(cancelled["url"], Value::Null);
    let again = query(&shop, cancel, json!({"id": ids[0]})).await;
    let errors = &again["data"]["bulkOperationCancel"]["userErrors"];
    assert_eq!(errors[0]["message"], "A bulk operation cannot be canceled when it is canceled", "{again}");
    assert_eq!(run(&shop, PRODUCTS, true).await["userErrors"], json!([]));
    shop.stop().await;
}

#[tokio::test]
async fn a_bulk_query_shopify_would_not_run_is_a_user_error() {
    let shop = ShopifySandbox::start(config(generated_catalog(2, 1, 1))).await.expect("starts");
    for (q, says) in [
        ("{ products { edges { node { id nope } } } }", "Unknown field \"nope\""),
        ("{ shop { name } }", "at least one connection"),
        ("{ products { edges { node { title variants { edges { node { id } } } } } } }", "must select `id`"),
    ] {
        let payload = run(&shop, q, true).await;
        assert_eq!(payload["bulkOperation"], Value::Null, "{q}");
        let error = &payload["userErrors"][0];
        assert_eq!(error["code"], "INVALID", "{q}");
        assert_eq!(error["field"], json!(["query"]), "{q}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains(says)), "{q}: {error}");
    }
    assert!(shop.bulk_operations().is_empty());
    shop.stop().await;
}

#[tokio::test]
async fn a_failed_operation_names_its_error_code_and_offers_partial_data() {
    let shop = ShopifySandbox::start(config(generated_catalog(10, 2, 2))).await.expect("starts");
    let body = reqwest::Client::new()
        .put(format!("{}/_sandbox/bulk", shop.base_url()))
        .json(&json!({"run_ms": 30, "fail_next": "INTERNAL_SERVER_ERROR"}))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(body.status().as_u16(), 200);
    let payload = run(&shop, PRODUCTS, true).await;
    let (operation, _) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    assert_eq!(operation["status"], "FAILED", "{operation}");
    assert_eq!(operation["errorCode"], "INTERNAL_SERVER_ERROR");
    assert_eq!(operation["url"], Value::Null);
    let partial = operation["partialDataUrl"].as_str().expect("partial data");
    let text = download(partial, None).await.text().await.expect("body");
    assert_eq!(operation["objectCount"], lines(&text).len().to_string());

    let next = run(&shop, PRODUCTS, true).await;
    let (operation, _) = finish(&shop, &next["bulkOperation"]["id"]).await;
    assert_eq!(operation["status"], "COMPLETED", "only the next operation fails");
    let control: Value = reqwest::get(format!("{}/_sandbox/bulk", shop.base_url()))
        .await
        .expect("sandbox answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(control["settings"]["run_ms"], 30);
    assert_eq!(control["operations"].as_array().map(Vec::len), Some(2));
    assert_eq!(control["operations"][0]["status"], "FAILED");
    shop.stop().await;
}

#[tokio::test]
async fn an_operation_that_finds_nothing_completes_without_a_file() {
    let shop = ShopifySandbox::start(config(Vec::new())).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let payload = run(&shop, PRODUCTS, true).await;
    let (operation, _) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    assert_eq!(operation["status"], "COMPLETED");
    assert_eq!((&operation["url"], &operation["fileSize"]), (&Value::Null, &Value::Null));
    assert_eq!(operation["objectCount"], "0");
    shop.stop().await;
}

#[tokio::test]
async fn bulk_calls_cost_what_shopify_charges_and_the_run_itself_costs_nothing() {
    let shop = ShopifySandbox::start(config(generated_catalog(300, 3, 4))).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let body = query(&shop, RUN, json!({"q": PRODUCTS, "group": true})).await;
    let cost = &body["extensions"]["cost"];
    assert_eq!((cost["requestedQueryCost"].as_u64(), cost["actualQueryCost"].as_u64()), (Some(10), Some(10)));
    let available = cost["throttleStatus"]["currentlyAvailable"].as_f64().expect("available");
    let id = &body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"];
    let polled = query(&shop, POLL, json!({"id": id})).await;
    assert_eq!(polled["extensions"]["cost"]["actualQueryCost"], 1);
    assert!(
        polled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_f64()
            >= Some(available - 1.0)
    );
    shop.stop().await;
}

#[tokio::test]
async fn chaos_reaches_the_file_downloads_too() {
    let shop = ShopifySandbox::start(config(generated_catalog(3, 1, 1))).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let payload = run(&shop, PRODUCTS, true).await;
    let (operation, _) = finish(&shop, &payload["bulkOperation"]["id"]).await;
    let url = operation["url"].as_str().expect("url");
    shop.set_chaos(Chaos { error_rate: 1.0, ..Chaos::default() });
    let failed = download(url, Some("bytes=0-9")).await;
    assert_eq!(failed.status().as_u16(), 503);
    shop.set_chaos(Chaos { malformed_rate: 1.0, ..Chaos::default() });
    let cut = download(url, Some("bytes=0-99")).await;
    assert_eq!(cut.status().as_u16(), 206);
    assert_eq!(cut.bytes().await.expect("body").len(), 50, "half the asked window");
    shop.stop().await;
}

#[tokio::test]
async fn products_count_counts_up_to_its_limit() {
    let shop = ShopifySandbox::start(config(generated_catalog(12, 1, 1))).await.expect("starts");
    let body = query(
        &shop,
        "{ all: productsCount { count precision } some: productsCount(limit: 5) { count precision }
           none: productsCount(query: \"handle:nope\") { count } }",
        json!({}),
    )
    .await;
    assert_eq!(body["data"]["all"], json!({"count": 12, "precision": "EXACT"}));
    assert_eq!(body["data"]["some"], json!({"count": 5, "precision": "AT_LEAST"}));
    assert_eq!(body["data"]["none"]["count"], 0);
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 3);
    shop.stop().await;
}

#[tokio::test]
async fn node_finds_products_variants_and_bulk_operations() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 1))).await.expect("starts");
    let q = "query($id: ID!) { node(id: $id) { __typename id } }";
    for (id, typename) in [
        ("gid://shopify/Product/8100000000000", json!("Product")),
        ("gid://shopify/ProductVariant/45000000000001", json!("ProductVariant")),
        ("gid://shopify/BulkOperation/1", Value::Null),
    ] {
        let body = query(&shop, q, json!({"id": id})).await;
        assert_eq!(body["data"]["node"]["__typename"], typename, "{id}: {body}");
    }
    shop.stop().await;
}
