//! Who may call the API, and for which organization, over HTTP against the real API: every
//! route of `api::ROUTES` refuses a request without credentials or with a revoked token
//! (401); a token of organization A gets 404 for each of organization B's ids and changes
//! nothing of B's (read back from the database); a cookie session needs its CSRF token for
//! unsafe methods (403); logins with a wrong password are refused and throttled; the
//! first-run setup link works once; the webhook receivers stay public, with their signature
//! as the check, on the admin listener or on their own.

use crossdock::api::{Access, ROUTES};
use crossdock::demo::WEBHOOK_SECRET;
use crossdock::model::ProductId;
use crossdock_e2e::{
    OWNER_PASSWORD, WebhookRecorder, active_products, api_token, fresh_postgres_url, fresh_sqlite_url,
    init_tracing, org_api_token, owner_email, product_with_sku, run_queue, serve_api, shopify_settings,
    sku_on_shop, sync, sync_orders, world,
};
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Row;

fn one_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("US", "US", "USD")]
}

/// `path` with its `{…}` parameters replaced by `ids`.
fn fill(path: &str, ids: &[(&str, String)]) -> String {
    ids.iter().fold(path.to_string(), |path, (name, value)| path.replace(&format!("{{{name}}}"), value))
}

/// A request that would succeed for the owner of the ids (so a refusal is about the caller).
fn body_for(method: &str, path: &str, product: ProductId) -> Option<Value> {
    let body = match (method, path) {
        ("PUT", "/api/orgs/{org}/auto-link") => json!({ "on": false }),
        ("PUT", "/api/orgs/{org}/store") | ("POST", "/api/orgs/{org}/channels") => {
            json!({ "name": "x", "plugin": "tiktok-shop", "settings": {}, "secrets": {} })
        }
        ("POST", "/api/orgs/{org}/authorizations") => {
            json!({ "plugin": "tiktok-shop", "role": "channel", "name": "x" })
        }
        ("POST", "/api/orgs/{org}/authorizations/callback") => json!({ "query": "code=c&state=s" }),
        ("PUT", "/api/channels/{channel}/options") => {
            json!({ "sync_content": true, "auto_select": false, "stock_buffer": 3, "stock_share": 2 })
        }
        ("PUT", "/api/channels/{channel}/exchange-rate") => json!({ "rate": "0.0001" }),
        ("PUT", "/api/channels/{channel}/selection") => {
            json!({ "product_ids": [product.0], "selected": false })
        }
        ("PUT", "/api/channels/{channel}/products/{product}/category") => {
            json!({ "category_id": "600002", "attributes": [] })
        }
        ("PUT", "/api/channels/{channel}/templates") => {
            json!({ "match_field": "product_type", "match_value": "Tents", "category_id": "600002" })
        }
        ("PUT", "/api/channels/{channel}/rules/{kind}") => json!({ "source": "price * 0.01" }),
        ("POST", "/api/channels/{channel}/rules/{kind}/dry-run") => json!({ "source": "price * 0.01" }),
        ("PUT", "/api/channels/{channel}/order-settings") => json!({}),
        ("PUT", "/api/channels/{channel}/carriers") => json!({ "store_carrier": "ups", "provider_id": "x" }),
        ("POST", "/api/orders/{order}/after-sales/{request}/decide") => json!({ "approve": true }),
        ("POST", "/api/tokens") => json!({ "name": "x" }),
        ("PUT", "/api/session") => json!({ "organization": 1 }),
        ("POST", "/api/session") => json!({ "email": "x@example.com", "password": "x" }),
        ("POST", "/api/setup/{token}") => json!({ "email": "x@example.com", "password": "xxxxxxxxxxxx" }),
        ("PUT", "/api/me/password") => {
            json!({ "current_password": OWNER_PASSWORD, "new_password": "a new long password" })
        }
        ("POST", "/api/orgs/{org}/invitations") => json!({ "email": "x@example.com" }),
        ("POST", "/api/invitations/{token}") => json!({ "password": "xxxxxxxxxxxx" }),
        _ => return None,
    };
    Some(body)
}

async fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let text = response.text().await.expect("the body reads");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Everything of the database a request could change (credentials aside), as text.
async fn database_state(db: &crossdock::db::Db) -> Vec<String> {
    let queries = [
        "SELECT CAST(id AS TEXT) || '|' || name || '|' || CAST(auto_link AS TEXT) AS r FROM organizations ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || CAST(org_id AS TEXT) || '|' || name AS r FROM stores ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || name || '|' || COALESCE(exchange_rate, '-') || '|' || \
         CAST(sync_content AS TEXT) || '|' || CAST(auto_select AS TEXT) || '|' || CAST(stock_buffer AS TEXT) \
         || '|' || CAST(stock_share AS TEXT) || '|' || order_settings AS r FROM channels ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || kind || '|' || CAST(version AS TEXT) || '|' || CAST(active AS TEXT) \
         AS r FROM rules ORDER BY id",
        "SELECT CAST(product_id AS TEXT) || '|' || CAST(channel_id AS TEXT) || '|' || CAST(selected AS TEXT) \
         AS r FROM product_selections ORDER BY product_id, channel_id",
        "SELECT CAST(product_id AS TEXT) || '|' || CAST(channel_id AS TEXT) || '|' || category_id AS r \
         FROM product_categories ORDER BY product_id, channel_id",
        "SELECT CAST(id AS TEXT) || '|' || match_value || '|' || category_id AS r FROM category_templates ORDER BY id",
        "SELECT CAST(channel_id AS TEXT) || '|' || store_carrier || '|' || provider_id AS r FROM carrier_mappings \
         ORDER BY channel_id, store_carrier",
        "SELECT CAST(id AS TEXT) || '|' || state || '|' || CAST(attempts AS TEXT) || '|' || CAST(run_after AS TEXT) \
         || '|' || CAST(generation AS TEXT) AS r FROM jobs ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || state || '|' || CAST(version AS TEXT) AS r FROM channel_orders ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || state AS r FROM listings ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || COALESCE(CAST(revoked_at AS TEXT), '-') AS r FROM api_tokens ORDER BY id",
        "SELECT CAST(account_id AS TEXT) || '|' || CAST(org_id AS TEXT) || '|' || role AS r FROM memberships \
         ORDER BY account_id, org_id",
        "SELECT CAST(id AS TEXT) || '|' || COALESCE(CAST(used_at AS TEXT), '-') || '|' \
         || COALESCE(CAST(revoked_at AS TEXT), '-') AS r FROM invitations ORDER BY id",
        "SELECT CAST(id AS TEXT) || '|' || password_hash AS r FROM accounts ORDER BY id",
    ];
    let mut rows = Vec::new();
    for query in queries {
        for row in sqlx::query(query).fetch_all(db.pool()).await.unwrap_or_else(|e| panic!("{query}: {e}")) {
            rows.push(row.try_get::<String, _>("r").expect("text"));
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_a_request_without_credentials_or_with_a_revoked_token() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let token = api_token(&base);
    let (status, made) =
        call("POST", &format!("{base}/api/tokens"), Some(&token), Some(json!({ "name": "to revoke" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let revoked = made["token"].as_str().expect("the new token is shown").to_string();
    let (status, _) = call("GET", &format!("{base}/api/me"), Some(&revoked), None).await;
    assert_eq!(status, StatusCode::OK, "the new token works until revoked");
    let (status, _) = call("DELETE", &format!("{base}/api/tokens/{}", made["id"]), Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = call("GET", &format!("{base}/api/tokens"), Some(&token), None).await;
    assert!(!listed.to_string().contains(&revoked[4..]), "a token's value is never listed: {listed}");
    assert!(
        listed
            .as_array()
            .expect("a list")
            .iter()
            .any(|t| t["id"] == made["id"] && !t["revoked_at"].is_null())
    );

    let ids = [
        ("org", world.org.to_string()),
        ("channel", world.channels[0].id.to_string()),
        ("product", "1".to_string()),
        ("order", "1".to_string()),
        ("job", "1".to_string()),
        ("kind", "price".to_string()),
        ("request", "1".to_string()),
        ("token", "1".to_string()),
        ("account", "1".to_string()),
        ("invitation", "1".to_string()),
        ("task", "1".to_string()),
    ];
    let before = database_state(&world.app.db).await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.access == Access::Caller) {
        let url = format!("{base}{}", fill(route.path, &ids));
        let body = body_for(route.method, route.path, ProductId(1));
        let (status, answer) = call(route.method, &url, None, body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {} without credentials: {answer}",
            route.method,
            route.path
        );
        assert!(answer["error"].as_str().is_some_and(|e| e.contains("Authorization: Bearer")), "{answer}");
        let (status, answer) = call(route.method, &url, Some(&revoked), body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{} {} with a revoked token: {answer}",
            route.method,
            route.path
        );
        assert!(answer["error"].as_str().is_some_and(|e| e.contains("revoked")), "{answer}");
        let (status, _) = call(route.method, &url, Some("cdk_made_up"), body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {} with a made-up token", route.method, route.path);
        checked += 1;
    }
    assert!(checked > 30, "every authenticated route was called ({checked})");
    assert_eq!(database_state(&world.app.db).await, before, "refused requests change nothing");
}

/// Organization B (the world's: a synced shop, an order, a failed job) and organization A
/// (its own store and channel, no order); A's token on each of B's ids.
async fn another_organizations_ids(database_url: &str) {
    let catalog = active_products(2);
    let world = world(database_url, catalog.clone(), one_shop()).await;
    sync(&world).await;
    let cipher = world.channels[0].shop.cipher.clone();
    let sku = catalog[0].variants[0].sku.clone();
    world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    let db = &world.app.db;
    let b_channel = world.channels[0].id;
    let b_product = product_with_sku(&world, &sku).await;
    let order: i64 = sqlx::query("SELECT id FROM channel_orders ORDER BY id LIMIT 1")
        .fetch_one(db.pool())
        .await
        .expect("B has an order")
        .try_get("id")
        .expect("an id");
    let job: i64 = sqlx::query("SELECT id FROM jobs ORDER BY id LIMIT 1")
        .fetch_one(db.pool())
        .await
        .expect("B has a job")
        .try_get("id")
        .expect("an id");
    sqlx::query("UPDATE jobs SET state = 'failed', last_error = 'B''s failure' WHERE id = $1")
        .bind(job)
        .execute(db.pool())
        .await
        .expect("a failed job of B's");
    let api = serve_api(&world).await;
    let base = api.base_url();
    let b_token_id: i64 = sqlx::query("SELECT id FROM api_tokens ORDER BY id LIMIT 1")
        .fetch_one(db.pool())
        .await
        .expect("B's token")
        .try_get("id")
        .expect("an id");

    // Organization A: its own store (the same sandbox platform) and a channel.
    let a_org = db.create_org("Intruder Org").await.expect("A is made");
    crossdock::connections::connect_store(
        &world.app,
        a_org,
        "A's store",
        "shopify",
        shopify_settings(&world.shopify.base_url()),
    )
    .await
    .expect("A's store connects");
    let a_channel = crossdock::connections::add_channel(
        &world.app,
        a_org,
        "A's shop",
        "tiktok-shop",
        crossdock_e2e::tiktok_settings(&world, &world.channels[0].shop),
    )
    .await
    .expect("A's channel connects");
    let a_token = org_api_token(&world.app, a_org, "A").await;

    // An invitation of B's, for its id.
    let b_invitation = crossdock::auth::team::invite(
        db,
        world.org,
        db.account_by_email(&owner_email(world.org)).await.expect("reads").expect("B's owner").id,
        "b-invitee@example.com",
        "member",
    )
    .await
    .expect("B invites")
    .invitation
    .id;

    // B's failures are not A's.
    let (status, failures) = call("GET", &format!("{base}/api/failures"), Some(&a_token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failures, json!([]), "A sees none of B's failures");
    let (_, b_failures) = call("GET", &format!("{base}/api/failures"), Some(&api_token(&base)), None).await;
    assert_eq!(b_failures.as_array().map(Vec::len), Some(1), "B sees its own: {b_failures}");

    let ids = [
        ("org", world.org.to_string()),
        ("channel", b_channel.to_string()),
        ("product", b_product.to_string()),
        ("order", order.to_string()),
        ("job", job.to_string()),
        ("kind", "price".to_string()),
        ("request", "R1".to_string()),
        ("token", b_token_id.to_string()),
        ("account", "1".to_string()),
        ("invitation", b_invitation.to_string()),
        ("task", "1".to_string()),
    ];
    let before = database_state(db).await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|r| r.access == Access::Caller && r.path.contains('{')) {
        let url = format!("{base}{}", fill(route.path, &ids));
        let body = body_for(route.method, route.path, b_product);
        let (status, answer) = call(route.method, &url, Some(&a_token), body).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{} {} with B's ids and A's token: {answer}",
            route.method,
            route.path
        );
        // The same answer as for an id that does not exist.
        let missing = answer["error"].as_str().expect("an error").to_string();
        assert!(missing.ends_with("not found"), "{missing}");
        checked += 1;
    }
    assert!(checked > 25, "every route with an id was called ({checked})");
    assert_eq!(database_state(db).await, before, "nothing of B's changed");

    // The reported hole: B's product selected onto A's own shop.
    let (status, answer) = call(
        "PUT",
        &format!("{base}/api/channels/{a_channel}/selection"),
        Some(&a_token),
        Some(json!({ "product_ids": [b_product.0], "selected": true })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert!(db.selection(b_product, a_channel).await.expect("reads").is_none(), "no selection was stored");
    // And a job naming B's product on A's channel (however it came to be) lists nothing.
    db.enqueue(crossdock::db::jobs::JobKind::PushListing, a_channel, b_product, 0).await.expect("queued");
    let engine = crossdock::engine::SyncEngine::load(&world.app, a_org, crossdock_e2e::fast_settings())
        .await
        .expect("A's engine loads");
    crossdock::dispatch::run_until_idle(&engine, &crossdock::dispatch::QueueSettings::default(), &|| {})
        .await
        .expect("A's queue drains");
    assert!(
        db.listing(b_product, a_channel).await.expect("reads").is_none(),
        "B's product is not listed for A"
    );
    let listed_for_a = world.tiktok.products(&cipher).len();
    run_queue(&world).await;
    assert_eq!(world.tiktok.products(&cipher).len(), listed_for_a);
    assert_eq!(sku_on_shop(&world, &cipher, &sku).seller_sku, sku, "B's listing is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_ids_answer_404_and_change_nothing() {
    init_tracing();
    another_organizations_ids(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_ids_answer_404_and_change_nothing_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    another_organizations_ids(&url).await;
}

/// A browser's login: the cookie alone reads; an unsafe request also needs the CSRF token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_session_reads_and_needs_its_csrf_token_to_change_anything() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let email = owner_email(world.org);
    let anonymous = reqwest::Client::new();

    let wrong = anonymous
        .post(format!("{base}/api/session"))
        .json(&json!({ "email": email, "password": "not the password" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let unknown = anonymous
        .post(format!("{base}/api/session"))
        .json(&json!({ "email": "nobody@example.com", "password": OWNER_PASSWORD }))
        .send()
        .await
        .expect("answers");
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.text().await.expect("body"),
        wrong_body(),
        "an unknown email and a wrong password look alike"
    );

    let login = anonymous
        .post(format!("{base}/api/session"))
        .json(&json!({ "email": email.to_uppercase(), "password": OWNER_PASSWORD }))
        .send()
        .await
        .expect("answers");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers().get("set-cookie").expect("a cookie").to_str().expect("text").to_string();
    assert!(cookie.starts_with("crossdock_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    let session: Value = login.json().await.expect("json");
    // A browser sends the cookie back with every request.
    let pair = cookie.split(';').next().expect("name=value").to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, pair.parse().expect("a header value"));
    let browser = reqwest::Client::builder().default_headers(headers).build().expect("a client");
    let csrf = session["csrf_token"].as_str().expect("a CSRF token").to_string();
    assert_eq!(session["organization"], world.org.0);

    let me: Value =
        browser.get(format!("{base}/api/me")).send().await.expect("answers").json().await.expect("json");
    assert_eq!(me["via"], "session");
    assert_eq!(me["email"], email);
    assert_eq!(me["csrf_token"], csrf.as_str());

    let channel = world.channels[0].id;
    let rate = format!("{base}/api/channels/{channel}/exchange-rate");
    let no_csrf = browser.put(&rate).json(&json!({ "rate": "0.0001" })).send().await.expect("answers");
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    let bad_csrf = browser
        .put(&rate)
        .header("X-CSRF-Token", "guess")
        .json(&json!({ "rate": "0.0001" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(bad_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(world.app.db.channel(channel).await.expect("reads").exchange_rate, None, "nothing changed");
    let with_csrf = browser
        .put(&rate)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "rate": "1.25" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(with_csrf.status(), StatusCode::OK);
    assert_eq!(
        world.app.db.channel(channel).await.expect("reads").exchange_rate.map(|r| r.to_string()),
        Some("1.25".to_string())
    );

    let logout = browser
        .delete(format!("{base}/api/session"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("answers");
    assert_eq!(logout.status(), StatusCode::OK);
    let after = browser.get(format!("{base}/api/me")).send().await.expect("answers");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the session ended");
}

fn wrong_body() -> String {
    json!({ "error": "wrong email or password" }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_are_throttled_even_before_the_right_one() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let url = format!("{}/api/session", api.base_url());
    let email = owner_email(world.org);
    for _ in 0..crossdock::auth::throttle::MAX_FAILURES {
        let (status, _) =
            call("POST", &url, None, Some(json!({ "email": email, "password": "guess guess" }))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, answer) =
        call("POST", &url, None, Some(json!({ "email": email, "password": OWNER_PASSWORD }))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("wait a minute")), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setup_link_creates_the_first_account_once() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let db = &world.app.db;
    let secret = crossdock::auth::account::setup_link_if_unclaimed(db, world.org)
        .await
        .expect("reads")
        .expect("no account yet: a link");
    let api = serve_api(&world).await; // makes the kit's owner account too
    assert_eq!(crossdock::auth::account::setup_link_if_unclaimed(db, world.org).await.expect("reads"), None);
    let url = format!("{}/api/setup/{secret}", api.base_url());
    let (status, answer) =
        call("POST", &url, None, Some(json!({ "email": "first@example.com", "password": "short" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("password")), "{answer}");
    let body = json!({ "email": "First@Example.com", "password": "a long enough password" });
    let (status, answer) = call("POST", &url, None, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["csrf_token"].is_string());
    let account = db.account_by_email("first@example.com").await.expect("reads").expect("the account exists");
    assert!(account.password_hash.starts_with("$argon2id$"), "stored as an Argon2id PHC string");
    let orgs = db.memberships(account.id).await.expect("reads");
    assert_eq!(
        orgs.iter().map(|m| (m.organization, m.role.as_str())).collect::<Vec<_>>(),
        [(world.org, "owner")]
    );
    let (status, _) = call(
        "POST",
        &url,
        None,
        Some(json!({ "email": "second@example.com", "password": "another long password" })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a setup link works once");
    assert!(db.account_by_email("second@example.com").await.expect("reads").is_none());
}

/// The webhook receivers need no credentials (the signature is the check), on the admin
/// listener and on a listener of their own, which serves nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_work_without_credentials_and_on_their_own_listener() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let cipher = world.channels[0].shop.cipher.clone();
    sync(&world).await;
    let recorder = WebhookRecorder::start().await;
    world.shopify.subscribe_webhooks(&recorder.address(), WEBHOOK_SECRET);
    let sku = catalog[0].variants[0].sku.clone();
    assert!(world.shopify.set_variant_stock(&sku, 6));
    world.shopify.wait_for_webhooks().await;
    let delivery = recorder.deliveries().pop().expect("a delivery");

    let state = crossdock::api::ApiState::new(world.app.clone(), crossdock_e2e::fast_settings());
    let admin =
        crossdock_sandbox::server::ServerHandle::start(crossdock::api::admin_router(state.clone()), 0)
            .await
            .expect("binds");
    let hooks = crossdock_sandbox::server::ServerHandle::start(crossdock::api::webhook_router(state), 0)
        .await
        .expect("binds");
    let token = org_api_token(&world.app, world.org, "admin").await;
    let path = format!("/webhooks/store/{}", world.org);

    let on_admin = delivery.replay(&format!("{}{path}", admin.base_url())).await;
    assert_eq!(on_admin.status(), StatusCode::NOT_FOUND, "the admin listener does not serve webhooks");
    let (status, _) = call("GET", &format!("{}/api/me", hooks.base_url()), Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the webhook listener does not serve the API");
    let (status, _) = call("GET", &format!("{}/api/me", admin.base_url()), Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);

    let mut forged = delivery.clone();
    forged.body = br#"{"inventory_item_id": 1, "available": 1000}"#.to_vec();
    assert_eq!(
        forged.replay(&format!("{}{path}", hooks.base_url())).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let handled = delivery.replay(&format!("{}{path}", hooks.base_url())).await;
    assert_eq!(handled.status(), StatusCode::OK, "no credentials, a valid signature");
    run_queue(&world).await;
    assert_eq!(sku_on_shop(&world, &cipher, &sku).quantity, 6, "the webhook's stock is live");

    // On the one listener `router` serves, too.
    let both = serve_api(&world).await;
    let again = delivery.replay(&format!("{}{path}", both.base_url())).await;
    assert_eq!(again.status(), StatusCode::OK, "a duplicate is acknowledged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_public_and_lists_every_route_with_its_security() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let (status, doc) = call("GET", &format!("{}/api/openapi.json", api.base_url()), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for route in ROUTES {
        let operation = &doc["paths"][route.path][route.method.to_lowercase()];
        assert!(operation.is_object(), "{} {} is described", route.method, route.path);
        let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, route.access == Access::Caller, "{} {}", route.method, route.path);
    }
}

/// An account in two organizations: login picks the oldest membership or the one asked for,
/// the session switches between its own, never to another; a token stays with its one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_acts_for_one_of_its_accounts_organizations_at_a_time() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let db = &world.app.db;
    let account =
        db.account_by_email(&owner_email(world.org)).await.expect("reads").expect("the kit's owner");
    let second = db.create_org("Second Org").await.expect("made");
    db.add_membership(account.id, second, "member").await.expect("added");
    let stranger = db.create_org("Stranger Org").await.expect("made");
    let login = |organization: Option<i64>| {
        let url = format!("{base}/api/session");
        async move {
            let mut body = json!({ "email": owner_email(world.org), "password": OWNER_PASSWORD });
            if let Some(org) = organization {
                body["organization"] = json!(org);
            }
            let response = reqwest::Client::new().post(url).json(&body).send().await.expect("answers");
            let status = response.status();
            let cookie = response
                .headers()
                .get("set-cookie")
                .map(|c| c.to_str().expect("text").split(';').next().expect("pair").to_string());
            (status, cookie, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (_, cookie, session) = login(None).await;
    assert_eq!(session["organization"], world.org.0, "the oldest membership by default");
    let (_, _, asked) = login(Some(second.0)).await;
    assert_eq!(asked["organization"], second.0);
    let (status, cookie_for_stranger, _) = login(Some(stranger.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not a member");
    assert!(cookie_for_stranger.is_none());

    let cookie = cookie.expect("a cookie");
    let csrf = session["csrf_token"].as_str().expect("csrf").to_string();
    let client = reqwest::Client::new();
    let switch = |org: i64| {
        client
            .put(format!("{base}/api/session"))
            .header("cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .json(&json!({ "organization": org }))
            .send()
    };
    assert_eq!(switch(stranger.0).await.expect("answers").status(), StatusCode::NOT_FOUND);
    assert_eq!(switch(second.0).await.expect("answers").status(), StatusCode::OK);
    let me: Value = client
        .get(format!("{base}/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(me["organization"], second.0);
    assert_eq!(me["organizations"].as_array().map(Vec::len), Some(2));
    // Now the first organization's channel is someone else's to this session.
    let channel = world.channels[0].id;
    let (status, _) = {
        let response = client
            .get(format!("{base}/api/channels/{channel}/products"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("answers");
        (response.status(), ())
    };
    assert_eq!(status, StatusCode::NOT_FOUND);

    let token = api_token(&base);
    let (status, answer) =
        call("PUT", &format!("{base}/api/session"), Some(&token), Some(json!({ "organization": second.0 })))
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "a token keeps its organization: {answer}");
}
