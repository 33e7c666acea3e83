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

/// The shopify plugin's bulk read, as plugins/shopify/src/query.rs writes it: `BULK_RUN`,
/// `BULK_PRODUCTS` and `BULK_POLL`.
const PLUGIN_RUN: &str = "mutation BulkProducts($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}";
const PLUGIN_PRODUCTS: &str = "{
  products(sortKey: ID) {
    edges { node {
      id title handle descriptionHtml vendor productType tags status updatedAt
      images { edges { node { id url altText } } }
      variants { edges { node { id title sku barcode price compareAtPrice inventoryQuantity
  selectedOptions { name value }
  image { url altText }
  inventoryItem { measurement { weight { value unit } } } } } }
    } }
  }
}";
const PLUGIN_POLL: &str = "query BulkOperation($id: ID!) {
  shop { currencyCode }
  node(id: $id) { ... on BulkOperation { id status errorCode objectCount rootObjectCount fileSize url } }
}";

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

/// The shopify plugin's bulk read (plugins/shopify/src/query.rs, `BULK_RUN` with
/// `BULK_PRODUCTS`), polled as it polls (`BULK_POLL`). With `CROSSDOCK_PRINT_BULK_FILE` set it
/// prints the file: plugins/shopify/testdata/bulk-products.jsonl is that output.
#[tokio::test]
async fn the_plugins_bulk_read_runs_and_groups_each_product_with_its_variants_and_images() {
    let mut catalog = generated_catalog(1, 2, 21);
    catalog.extend(generated_catalog(1, 1, 22));
    catalog.extend(generated_catalog(1, 3, 23));
    for (i, product) in catalog.iter_mut().enumerate() {
        product.handle = format!("{}-{i}", product.handle);
    }
    let shop = ShopifySandbox::start(config(catalog)).await.expect("starts");
    shop.set_bulk_settings(fast(0));
    let body = query(&shop, PLUGIN_RUN, json!({"query": PLUGIN_PRODUCTS})).await;
    let payload = &body["data"]["bulkOperationRunQuery"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 10);
    let id = payload["bulkOperation"]["id"].clone();
    let body = query(&shop, PLUGIN_POLL, json!({"id": id})).await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 2);
    let operation = &body["data"]["node"];
    assert_eq!(operation["status"], "COMPLETED", "{body}");
    assert_eq!(operation["rootObjectCount"], "3");
    let text = download(operation["url"].as_str().expect("url"), None).await.text().await.expect("body");
    let lines = lines(&text);
    let kinds: Vec<&str> =
        lines.iter().map(|l| l["id"].as_str().and_then(|id| id.split('/').nth(3)).unwrap_or("?")).collect();
    assert_eq!(
        kinds,
        [
            "Product",
            "ProductImage",
            "ProductVariant",
            "ProductVariant",
            "Product",
            "ProductImage",
            "ProductVariant",
            "Product",
            "ProductImage",
            "ProductVariant",
            "ProductVariant",
            "ProductVariant",
        ],
        "{text}"
    );
    if std::env::var_os("CROSSDOCK_PRINT_BULK_FILE").is_some() {
        print!("{text}");
    }
    shop.stop().await;
}

/// The shopify plugin's list page (plugins/shopify/src/query.rs, `LIST_PRODUCTS` with its
/// fragments) at the size it asks for a host page of 50: 13 products.
const PLUGIN_LIST: &str = "query ListProducts($first: Int!, $after: String) {
  shop { currencyCode }
  products(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ...ProductFields variants(first: 10) { pageInfo { hasNextPage endCursor } nodes { ...VariantFields } } } }
  }
}
fragment ProductFields on Product {
  id title handle descriptionHtml vendor productType tags status updatedAt
  images(first: 10) { nodes { url altText } }
}
fragment VariantFields on ProductVariant {
  id title sku barcode price compareAtPrice inventoryQuantity
  selectedOptions { name value }
  image { url altText }
  inventoryItem { measurement { weight { value unit } } }
}";

/// Shopify's Standard plan bucket, as the sandbox's default.
fn standard() -> CostLimits {
    CostLimits::default()
}

/// Seconds a run of pages takes against `limits` when each page asks `requested` points, costs
/// `actual` and takes `work` seconds: the leaky bucket the sandbox enforces, replayed.
fn throttled_seconds(pages: &[(f64, f64, f64)], limits: CostLimits) -> f64 {
    let (mut clock, mut available) = (0.0, limits.maximum_available);
    for &(requested, actual, work) in pages {
        if available < requested {
            let wait = (requested - available) / limits.restore_rate;
            clock += wait;
            available = requested;
        }
        available -= actual;
        clock += work;
        available = (available + work * limits.restore_rate).min(limits.maximum_available);
    }
    clock
}

/// How long reading `products` × 3 takes over the sandbox's HTTP: in bulk, as the shopify plugin
/// reads it (a poll and one byte window per host page of 50), against paging with the plugin's
/// list query under Shopify's standard cost limits. Prints the figures (run with
/// `--nocapture`, ideally optimized) and asserts that both reads see every product.
/// `CROSSDOCK_BENCH_PRODUCTS` sets the size (default 500, so the suite stays fast; the
/// figures in docs/benchmarks.md are at 10,000);
/// `CROSSDOCK_BENCH_THROTTLED=N` also pages N products for real under the standard bucket, to
/// check the replayed figure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_read_versus_paging_of_a_large_catalog() {
    use std::time::Instant;
    let env = |name: &str, default: usize| -> usize {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let products = env("CROSSDOCK_BENCH_PRODUCTS", 500);
    let shop = ShopifySandbox::start(config(generated_catalog(products, 3, 42))).await.expect("starts");
    shop.set_bulk_settings(fast(0));

    // Bulk, as the plugin reads it.
    let started = Instant::now();
    let body = query(&shop, PLUGIN_RUN, json!({"query": PLUGIN_PRODUCTS})).await;
    let submitted = started.elapsed();
    let id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"].clone();
    let mut offset = 0u64;
    let mut file_size;
    let (mut pages, mut downloaded, mut seen, mut points) = (0, 0u64, 0usize, 10u64);
    loop {
        let body = query(&shop, PLUGIN_POLL, json!({"id": id})).await;
        points += body["extensions"]["cost"]["actualQueryCost"].as_u64().unwrap_or(0);
        let operation = &body["data"]["node"];
        assert_eq!(operation["status"], "COMPLETED", "{body}");
        let size: u64 = operation["fileSize"].as_str().and_then(|s| s.parse().ok()).expect("a size");
        let roots: u64 = operation["rootObjectCount"].as_str().and_then(|s| s.parse().ok()).expect("a count");
        file_size = size;
        if offset >= size {
            break;
        }
        // The plugin's window for 50 products (bulk::window_size).
        let window = (size.div_ceil(roots) * 51 * 5 / 4).clamp(64 * 1024, 4 * 1024 * 1024);
        let url = operation["url"].as_str().expect("url");
        let response = download(url, Some(&format!("bytes={offset}-{}", offset + window - 1))).await;
        let bytes = response.bytes().await.expect("a body");
        downloaded += bytes.len() as u64;
        pages += 1;
        let at_end = offset + bytes.len() as u64 >= size;
        // Group as the plugin does: whole lines, a product whole once the next one starts.
        let (mut pos, mut page, mut current, mut next) = (0usize, 0usize, None, None);
        while pos < bytes.len() {
            let Some(newline) = bytes[pos..].iter().position(|b| *b == b'\n') else { break };
            let line: Value = serde_json::from_slice(&bytes[pos..pos + newline]).expect("a JSON line");
            if line.get("__parentId").is_none() {
                if current.is_some() {
                    page += 1;
                }
                if page == 50 {
                    next = Some(pos);
                    break;
                }
                current = Some(pos);
            }
            pos += newline + 1;
        }
        if next.is_none() {
            if at_end {
                page += usize::from(current.is_some());
            } else {
                next = current;
            }
        }
        seen += page;
        match next {
            Some(next) => offset += next as u64,
            None => offset = size,
        }
    }
    let bulk = started.elapsed();
    assert_eq!(seen, products);

    // Paging, as the plugin pages, without limits; then the standard bucket replayed.
    shop.set_cost_limits(CostLimits { maximum_available: 1e12, restore_rate: 1e12, single_query_max: 1000 });
    let started = Instant::now();
    let (mut after, mut records, mut count) = (Value::Null, Vec::new(), 0usize);
    loop {
        let page_started = Instant::now();
        let body = query(&shop, PLUGIN_LIST, json!({"first": 13, "after": after})).await;
        let cost = &body["extensions"]["cost"];
        let requested = cost["requestedQueryCost"].as_f64().expect("requested");
        let actual = cost["actualQueryCost"].as_f64().expect("actual");
        records.push((requested, actual, page_started.elapsed().as_secs_f64()));
        let connection = &body["data"]["products"];
        count += connection["edges"].as_array().map_or(0, Vec::len);
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    let unthrottled = started.elapsed();
    assert_eq!(count, products);
    let replayed = throttled_seconds(&records, standard());
    let actual_points: f64 = records.iter().map(|r| r.1).sum();

    println!("catalog: {products} products × 3 variants, Shopify sandbox over HTTP on 127.0.0.1");
    println!(
        "bulk: {:.2} s in all; bulkOperationRunQuery answered in {:.2} s (the sandbox runs the query then); \
         {pages} pages of ≤ 50 products, each a poll and one byte window; {:.1} MiB downloaded of a {:.1} MiB file; \
         {points} cost points",
        bulk.as_secs_f64(),
        submitted.as_secs_f64(),
        downloaded as f64 / 1_048_576.0,
        file_size as f64 / 1_048_576.0,
    );
    println!(
        "paging: {} pages of 13; {:.2} s without limits; {actual_points:.0} points actually spent ({:.0} a page); \
         at the standard bucket (2,000 points, 100/s) {:.0} s ({:.1} min)",
        records.len(),
        unthrottled.as_secs_f64(),
        actual_points / records.len() as f64,
        replayed,
        replayed / 60.0,
    );

    let throttled = env("CROSSDOCK_BENCH_THROTTLED", 0).min(products);
    if throttled > 0 {
        shop.set_cost_limits(standard());
        let started = Instant::now();
        let (mut after, mut count, mut throttles, mut records) = (Value::Null, 0usize, 0, Vec::new());
        while count < throttled {
            let page_started = Instant::now();
            let body = query(&shop, PLUGIN_LIST, json!({"first": 13, "after": after})).await;
            let cost = &body["extensions"]["cost"];
            if body["errors"][0]["extensions"]["code"] == "THROTTLED" {
                throttles += 1;
                // The plugin's wait: until the bucket holds the requested points.
                let requested = cost["requestedQueryCost"].as_f64().unwrap_or(1000.0);
                let available = cost["throttleStatus"]["currentlyAvailable"].as_f64().unwrap_or(0.0);
                let wait = ((requested - available).max(0.0) / 100.0).max(0.1);
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                continue;
            }
            let requested = cost["requestedQueryCost"].as_f64().expect("requested");
            let actual = cost["actualQueryCost"].as_f64().expect("actual");
            records.push((requested, actual, page_started.elapsed().as_secs_f64()));
            let connection = &body["data"]["products"];
            count += connection["edges"].as_array().map_or(0, Vec::len);
            after = connection["pageInfo"]["endCursor"].clone();
        }
        println!(
            "paging {count} products for real at the standard bucket: {:.1} s, {throttles} throttled answers; replayed: {:.1} s",
            started.elapsed().as_secs_f64(),
            throttled_seconds(&records, standard()),
        );
    }
    shop.stop().await;
}
