//! Generated requests against every API route of a running service (the real router on a
//! real socket, a real SQLite database and the sandboxes behind it): path ids that exist,
//! that do not, that overflow or are not numbers; bodies that are arbitrary JSON or the
//! route's own body with fields swapped for extreme values. None may answer 5xx, and the
//! service must still answer `/healthz` afterwards.

use crossdock::demo::SandboxWorld;
use crossdock_e2e::{active_products, api_token, fresh_sqlite_url, init_tracing, serve_api, sync, world};
use crossdock_sandbox::server::ServerHandle;
use crossdock_sandbox::tiktok::ShopSpec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// Each route with a body that route accepts, so that generated changes to it reach the
/// route's own validation rather than stopping at the JSON parser.
fn routes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let options = json!({ "sync_content": false, "auto_select": true, "stock_buffer": 0, "stock_share": 1 });
    let template = json!({ "match_field": "product_type", "match_value": "Tents", "category_id": "600001", "priority": 1 });
    vec![
        ("POST", "/api/session", Some(json!({ "email": "x@example.com", "password": "wrong password" }))),
        ("PUT", "/api/session", Some(json!({ "organization": 1 }))),
        ("DELETE", "/api/session", None),
        ("GET", "/api/me", None),
        ("POST", "/api/tokens", Some(json!({ "name": "fuzz" }))),
        ("GET", "/api/tokens", None),
        // Revoking the caller's own token would leave every later case a 401.
        ("DELETE", "/api/tokens/{token}", None),
        ("POST", "/api/setup/{token}", Some(json!({ "email": "x@example.com", "password": "long enough!" }))),
        (
            "PUT",
            "/api/me/password",
            Some(json!({ "current_password": "a guess", "new_password": "long enough!" })),
        ),
        ("GET", "/api/orgs/{org}/members", None),
        ("DELETE", "/api/orgs/{org}/members/{account}", None),
        ("POST", "/api/orgs/{org}/invitations", Some(json!({ "email": "x@example.com", "role": "member" }))),
        ("GET", "/api/orgs/{org}/invitations", None),
        ("DELETE", "/api/orgs/{org}/invitations/{invitation}", None),
        ("GET", "/api/invitations/{token}", None),
        ("POST", "/api/invitations/{token}", Some(json!({ "password": "long enough!" }))),
        ("GET", "/api/openapi.json", None),
        ("GET", "/api/plugins", None),
        ("GET", "/api/orgs/{org}", None),
        ("GET", "/api/orgs/{org}/plugins", None),
        (
            "PUT",
            "/api/orgs/{org}/store",
            Some(json!({ "name": "x", "plugin": "shopify", "settings": {}, "secrets": {} })),
        ),
        (
            "POST",
            "/api/orgs/{org}/channels",
            Some(json!({ "name": "x", "plugin": "tiktok-shop", "settings": {}, "secrets": {} })),
        ),
        (
            "POST",
            "/api/orgs/{org}/authorizations",
            Some(json!({ "plugin": "tiktok-shop", "role": "channel", "name": "x", "settings": {} })),
        ),
        ("POST", "/api/orgs/{org}/authorizations/callback", Some(json!({ "query": "code=c&state=s" }))),
        ("GET", "/api/channels/{channel}/rules/{kind}/versions", None),
        ("GET", "/api/orgs/{org}/dry-run", None),
        ("DELETE", "/api/orgs/{org}/dry-run", None),
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/api/orgs/{org}/onboarding", None),
        ("GET", "/api/orgs/{org}/channels", None),
        ("PUT", "/api/orgs/{org}/auto-link", Some(json!({ "on": true }))),
        ("DELETE", "/api/orgs/{org}/store", None),
        ("PUT", "/api/channels/{channel}/exchange-rate", Some(json!({ "rate": "0.8" }))),
        ("PUT", "/api/channels/{channel}/options", Some(options)),
        ("DELETE", "/api/channels/{channel}", None),
        ("GET", "/api/channels/{channel}/products", None),
        ("PUT", "/api/channels/{channel}/selection", Some(json!({ "product_ids": [1], "selected": true }))),
        (
            "PUT",
            "/api/channels/{channel}/products/{product}/category",
            Some(json!({ "category_id": "600001", "attributes": [] })),
        ),
        ("PUT", "/api/channels/{channel}/templates", Some(template)),
        ("GET", "/api/channels/{channel}/templates", None),
        ("GET", "/api/channels/{channel}/link-issues", None),
        ("GET", "/api/channels/{channel}/drift", None),
        ("PUT", "/api/channels/{channel}/rules/{kind}", Some(json!({ "source": "(price * rate).round(2)" }))),
        ("POST", "/api/channels/{channel}/rules/{kind}/dry-run", Some(json!({ "source": "price * rate" }))),
        ("GET", "/api/failures", None),
        ("POST", "/api/jobs/{job}/retry", None),
        ("GET", "/api/channels/{channel}/orders", None),
        ("POST", "/api/channels/{channel}/orders/retry", None),
        ("POST", "/api/orgs/{org}/failures/retry", None),
        ("GET", "/api/orgs/{org}/tasks", None),
        ("GET", "/api/orgs/{org}/tasks/{task}", None),
        ("DELETE", "/api/orgs/{org}/tasks/{task}", None),
        ("GET", "/api/orgs/{org}/sync-progress", None),
        ("POST", "/api/channels/{channel}/orders/poll", None),
        ("GET", "/api/channels/{channel}/order-settings", None),
        ("PUT", "/api/channels/{channel}/order-settings", Some(json!({}))),
        ("GET", "/api/channels/{channel}/carriers", None),
        (
            "PUT",
            "/api/channels/{channel}/carriers",
            Some(json!({ "store_carrier": "Acme", "provider_id": "1" })),
        ),
        ("GET", "/api/orders/{order}", None),
        ("POST", "/api/orders/{order}/retry", None),
        ("POST", "/api/orders/{order}/release", None),
        ("POST", "/api/orders/{order}/after-sales/{request}/decide", Some(json!({ "approve": true }))),
        ("POST", "/webhooks/store/{org}", Some(json!({ "id": 1 }))),
        ("POST", "/webhooks/channel/{channel}", Some(json!({ "type": 1 }))),
    ]
}

/// A client that opens a connection per request, with the API token when given.
fn fresh_connections(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("a header value"),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client builds")
}

/// Ids of every kind: real ones, unknown ones, extremes and things that are not ids.
fn path_id(real: Vec<i64>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(real).prop_map(|id| id.to_string()),
        1 => prop_oneof![Just(0_i64), Just(-1), Just(i64::MAX), Just(i64::MIN), any::<i64>()]
            .prop_map(|id| id.to_string()),
        1 => prop_oneof![
            Just("99999999999999999999999".to_string()),
            Just("abc".to_string()),
            Just("1.5".to_string()),
            Just("%00".to_string()),
            Just("price".to_string()),
            Just("product".to_string()),
            "[a-z%0-9]{0,12}",
        ],
    ]
}

/// JSON scalars, extremes first.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(0), Just(-1), any::<i64>()].prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
        prop_oneof![
            Just("1000000000000000000000000000".to_string()),
            Just("-1".to_string()),
            Just("0.0000000000001".to_string()),
            Just("NaN".to_string()),
            Just("loop {}".to_string()),
            Just("throw \"x\"".to_string()),
            Just("x".repeat(70_000)),
            ".{0,24}",
        ]
        .prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The route's own body with some fields replaced, or dropped, or an arbitrary body.
fn body_for(valid: Option<Value>) -> BoxedStrategy<Option<Value>> {
    let fields = match valid {
        Some(Value::Object(fields)) if !fields.is_empty() => fields,
        _ => return prop_oneof![Just(None), any_json().prop_map(Some)].boxed(),
    };
    let keys: Vec<String> = fields.keys().cloned().collect();
    let changed = proptest::collection::vec((proptest::sample::select(keys), scalar(), any::<bool>()), 0..4)
        .prop_map(move |changes| {
            let mut body = fields.clone();
            for (key, value, drop) in changes {
                if drop {
                    body.remove(&key);
                } else {
                    body.insert(key, value);
                }
            }
            Some(Value::Object(body))
        });
    prop_oneof![4 => changed, 1 => any_json().prop_map(Some), 1 => Just(None)].boxed()
}

/// A runtime for the property runner's blocking loop, and a synced world whose API listens.
fn synced_world_with_api() -> (tokio::runtime::Runtime, SandboxWorld, ServerHandle) {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (world, api) = runtime.block_on(async {
        let world =
            world(&fresh_sqlite_url(), active_products(2), vec![ShopSpec::new("US", "US", "USD")]).await;
        sync(&world).await;
        let api = serve_api(&world).await;
        (world, api)
    });
    (runtime, world, api)
}

#[test]
fn the_fuzzed_routes_are_every_route_of_the_api() {
    let fuzzed: std::collections::BTreeSet<(&str, &str)> =
        routes().iter().map(|(m, p, _)| (*m, *p)).collect();
    let served: std::collections::BTreeSet<(&str, &str)> =
        crossdock::api::ROUTES.iter().map(|r| (r.method, r.path)).collect();
    assert_eq!(fuzzed, served, "api_fuzz's table and api::ROUTES differ: add the new route's body here");
}

#[test]
fn generated_requests_to_every_route_never_get_a_server_error_and_the_service_stays_up() {
    let (runtime, world, api) = synced_world_with_api();
    let base = api.base_url();
    let org = world.org.0;
    let channel = world.channels[0].id.0;
    // A fresh connection per request: a kept-alive one the server has just closed would fail
    // the request on the client side, which says nothing about the service.
    let client = fresh_connections(Some(&api_token(&base)));
    let strategy = proptest::sample::select(routes()).prop_flat_map(move |(method, template, valid)| {
        (
            Just(method),
            Just(template),
            // Deleting the store or the channel would leave every later case a 404; the
            // deletes get ids that are not real (their real use is tested in api_routes).
            path_id(if method == "DELETE" { vec![999_999] } else { vec![org, channel, 1, 2] }),
            prop_oneof![Just("price".to_string()), Just("product".to_string()), "[a-z]{0,8}"],
            body_for(valid),
        )
    });
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut runner = TestRunner::new(Config { cases: 600, failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |(method, template, id, kind, body)| {
        let path = template
            .replace("{org}", &id)
            .replace("{channel}", &id)
            .replace("{product}", &id)
            .replace("{job}", &id)
            .replace("{order}", &id)
            .replace("{request}", &id)
            .replace("{token}", &id)
            .replace("{account}", &id)
            .replace("{invitation}", &id)
            .replace("{task}", &id)
            .replace("{kind}", &kind);
        let url = format!("{base}{path}");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let (status, answer) = runtime.block_on(async {
            let mut request = client.request(method.clone(), &url);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
            let status = response.status();
            Ok::<_, TestCaseError>((status, response.text().await.unwrap_or_default()))
        })?;
        *statuses.lock().expect("not poisoned").entry(status.as_u16()).or_default() += 1;
        prop_assert!(
            !status.is_server_error(),
            "{method} {path} with {} answered {status}: {answer}",
            body.map(|b| b.to_string().chars().take(300).collect::<String>()).unwrap_or_default()
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // The cases reached the handlers: some were accepted, some refused by validation.
    let statuses = statuses.into_inner().expect("not poisoned");
    tracing::info!(?statuses, "answers by status");
    assert!(statuses.keys().any(|s| (200..300).contains(s)), "{statuses:?}");
    for expected in [404, 422] {
        assert!(statuses.contains_key(&expected), "no {expected} among {statuses:?}");
    }
    let health = runtime.block_on(async { client.get(format!("{base}/healthz")).send().await });
    assert_eq!(health.expect("the service still answers").status(), reqwest::StatusCode::OK);
    drop(api);
    drop(world);
}

/// Store webhooks with generated bodies, correctly signed, so they pass the signature check
/// and reach the connector's parser (the real Shopify plugin): every one is answered with a
/// success or a 4xx naming why, never a server error, and the service keeps running.
#[test]
fn signed_webhooks_with_generated_bodies_are_parsed_or_refused_never_a_server_error() {
    let (runtime, world, api) = synced_world_with_api();
    let url = format!("{}/webhooks/store/{}", api.base_url(), world.org.0);
    let client = fresh_connections(None);
    let topics = vec![
        "products/create",
        "products/update",
        "products/delete",
        "inventory_levels/update",
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "refunds/create",
        "fulfillments/create",
        "app/uninstalled",
        "",
    ];
    let bodies = prop_oneof![
        3 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        1 => Just(b"{\"id\": 99999999999999999999999, \"variants\": [{}]}".to_vec()),
        1 => Just(b"{\"id\": \"gid://shopify/Product/1\", \"title\": null}".to_vec()),
    ];
    let strategy = (proptest::sample::select(topics), bodies);
    let mut runner = TestRunner::new(Config { cases: 160, failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |(topic, body)| {
        let signature = crossdock_sandbox::shopify::sign_webhook(crossdock::demo::WEBHOOK_SECRET, &body);
        let (status, answer) = runtime.block_on(async {
            let response = client
                .post(&url)
                .header("Content-Type", "application/json")
                .header("X-Shopify-Topic", topic)
                .header("X-Shopify-Hmac-Sha256", signature)
                .header("X-Shopify-Event-Id", "generated")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
            let status = response.status();
            Ok::<_, TestCaseError>((status, response.text().await.unwrap_or_default()))
        })?;
        prop_assert!(!status.is_server_error(), "{topic} answered {status}: {answer}");
        if status.is_client_error() {
            prop_assert!(answer.contains("error"), "a refusal says why: {answer}");
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let health = runtime.block_on(async { client.get(format!("{}/healthz", api.base_url())).send().await });
    assert_eq!(health.expect("the service still answers").status(), reqwest::StatusCode::OK);
    drop(api);
    drop(world);
}
