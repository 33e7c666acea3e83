//! The API description cannot drift from the API: every route is called for real against a
//! seeded organization (a store, two shops, live products, orders synced and failed, jobs
//! that gave up), and every answer — successes and refusals — validates against the OpenAPI
//! document's JSON Schema for that route and status (objects closed: no field the document
//! does not name), as does every body sent.

use crossdock::api::{Access, ROUTES};
use crossdock::catalog::import::import_catalog;
use crossdock::dispatch::{QueueSettings, run_due};
use crossdock_e2e::{
    OWNER_PASSWORD, active_products, api_call, fast_settings, finished_task, fresh_sqlite_url, init_tracing,
    owner_email, run_queue, serve_api, sync_orders, world,
};
use crossdock_sandbox::chaos::Chaos;
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// `schema` with every object that names its properties closed to others.
fn closed(schema: Value) -> Value {
    match schema {
        Value::Object(mut map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, closed(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(closed).collect()),
        other => other,
    }
}

/// Whether `value` is of JSON Schema type `kind`.
fn is_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

/// Whether `text` matches `pattern`, one of the decimal patterns the document uses (a
/// decimal answered as a string, or read as one with an exponent); any other pattern fails.
fn matches_decimal_pattern(pattern: &str, text: &str) -> bool {
    let exponent = match pattern {
        r"^-?\d+(\.\d+)?$" => false,
        r"^-?\d+(\.\d+)?([eE]\d+)?$" => true,
        other => panic!("the pattern {other} is not one this check knows"),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let text = text.strip_prefix('-').unwrap_or(text);
    let (number, power) = match text.split_once(['e', 'E']) {
        Some((number, power)) if exponent => (number, Some(power)),
        _ => (text, None),
    };
    let whole = match number.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(number),
    };
    whole && power.is_none_or(digits)
}

/// The JSON Schema 2020-12 keywords the document uses, checked; a keyword this does not know
/// fails the test rather than being skipped.
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let rules = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return out.push(format!("{at}: nothing may be here")),
        Value::Object(rules) => rules,
        other => panic!("{at}: a schema is an object or a boolean, not {other}"),
    };
    let holds = |sub: &Value| {
        let mut found = Vec::new();
        violations(doc, sub, value, at, &mut found);
        found.is_empty()
    };
    for (keyword, rule) in rules {
        match keyword.as_str() {
            "$ref" => {
                let name = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                    .unwrap_or_else(|| panic!("{at}: a reference into the components: {rule}"));
                let target = &doc["components"]["schemas"][name];
                assert!(!target.is_null(), "{at}: {name} is referenced and defined");
                violations(doc, target, value, at, out);
            }
            "type" => {
                let kinds: Vec<&str> = match rule {
                    Value::String(kind) => vec![kind],
                    Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).collect(),
                    other => panic!("{at}: type {other}"),
                };
                if !kinds.iter().any(|k| is_type(value, k)) {
                    out.push(format!("{at}: {value} is not of type {kinds:?}"));
                }
            }
            "properties" => {
                if let (Some(object), Some(properties)) = (value.as_object(), rule.as_object()) {
                    for (name, sub) in properties {
                        if let Some(field) = object.get(name) {
                            violations(doc, sub, field, &format!("{at}.{name}"), out);
                        }
                    }
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for name in rule.as_array().into_iter().flatten().filter_map(Value::as_str) {
                        if !object.contains_key(name) {
                            out.push(format!("{at}: the required field {name} is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(object) = value.as_object() {
                    let named = rules.get("properties").and_then(Value::as_object);
                    for (name, field) in object {
                        if !named.is_some_and(|n| n.contains_key(name)) {
                            violations(doc, rule, field, &format!("{at}.{name} (not described)"), out);
                        }
                    }
                }
            }
            "prefixItems" => {
                if let Some(items) = value.as_array() {
                    for (i, (sub, item)) in rule.as_array().into_iter().flatten().zip(items).enumerate() {
                        violations(doc, sub, item, &format!("{at}[{i}]"), out);
                    }
                }
            }
            "items" => {
                if let Some(items) = value.as_array() {
                    let skip = rules.get("prefixItems").and_then(Value::as_array).map_or(0, Vec::len);
                    for (i, item) in items.iter().enumerate().skip(skip) {
                        violations(doc, rule, item, &format!("{at}[{i}]"), out);
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(items), Some(bound)) = (value.as_array(), rule.as_u64()) {
                    let n = items.len() as u64;
                    if (keyword == "minItems" && n < bound) || (keyword == "maxItems" && n > bound) {
                        out.push(format!("{at}: {n} items, {keyword} {bound}"));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(n), Some(bound)) = (value.as_f64(), rule.as_f64())
                    && ((keyword == "minimum" && n < bound) || (keyword == "maximum" && n > bound))
                {
                    out.push(format!("{at}: {n} is past its {keyword} {bound}"));
                }
            }
            "anyOf" => {
                if !rule.as_array().into_iter().flatten().any(holds) {
                    out.push(format!("{at}: {value} matches none of {rule}"));
                }
            }
            "oneOf" => {
                let matched = rule.as_array().into_iter().flatten().filter(|s| holds(s)).count();
                if matched != 1 {
                    out.push(format!("{at}: {value} matches {matched} of oneOf {rule}"));
                }
            }
            "allOf" => {
                for sub in rule.as_array().into_iter().flatten() {
                    violations(doc, sub, value, at, out);
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|allowed| allowed.contains(value)) {
                    out.push(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "pattern" => {
                if let Some(text) = value.as_str() {
                    let pattern = rule.as_str().unwrap_or_default();
                    if !matches_decimal_pattern(pattern, text) {
                        out.push(format!("{at}: {text:?} does not match {pattern}"));
                    }
                }
            }
            "const" => {
                if rule != value {
                    out.push(format!("{at}: {value} is not {rule}"));
                }
            }
            "description" | "title" | "format" | "default" | "examples" | "$schema" | "deprecated"
            | "readOnly" | "writeOnly" | "components" => {}
            other => panic!("{at}: the schema uses `{other}`, which this check does not know"),
        }
    }
}

/// Fails naming `what` unless `instance` is valid under `schema` (whose `$ref`s point into
/// the document's components), every described object closed to undescribed fields.
fn check(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let mut closed_doc = doc.clone();
    closed_doc["components"] = closed(doc["components"].clone());
    let mut found = Vec::new();
    violations(&closed_doc, &closed(schema.clone()), instance, "$", &mut found);
    assert!(found.is_empty(), "{what} does not match the API description: {found:#?}\n{instance:#}");
}

#[test]
fn the_check_refuses_what_the_schema_does_not_allow() {
    let doc = json!({ "components": { "schemas": { "T": {
        "type": "object", "required": ["id"],
        "properties": { "id": { "type": "integer", "minimum": 0 }, "name": { "type": ["string", "null"] } }
    } } } });
    let schema = json!({ "type": "array", "items": { "$ref": "#/components/schemas/T" } });
    let mut found = Vec::new();
    let closed_doc = json!({ "components": closed(doc["components"].clone()) });
    violations(&closed_doc, &schema, &json!([{ "id": 1, "name": null }]), "$", &mut found);
    assert!(found.is_empty(), "{found:?}");
    for wrong in
        [json!([{ "name": "x" }]), json!([{ "id": -1 }]), json!([{ "id": 1, "extra": 2 }]), json!({})]
    {
        let mut found = Vec::new();
        violations(&closed_doc, &schema, &wrong, "$", &mut found);
        assert!(!found.is_empty(), "{wrong} is refused");
    }
}

/// Calls routes and checks each exchange against the document.
struct Checker {
    doc: Value,
    base: String,
    /// (method, path template) → statuses seen and checked.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

impl Checker {
    /// `method template` with `{name}`s filled from `ids`, checked both ways.
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        ids: &[(&str, String)],
        body: Option<Value>,
    ) -> Value {
        let mut path = template.to_string();
        for (name, id) in ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        let operation =
            self.doc["paths"][template.split('?').next().unwrap_or(template)][method.to_lowercase()].clone();
        assert!(operation.is_object(), "{method} {template} is described");
        if let Some(body) = &body {
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            check(&self.doc, schema, body, &format!("the body sent to {method} {template}"));
        }
        let verb = Method::from_bytes(method.as_bytes()).expect("a method");
        let (status, answer) = api_call(verb, &format!("{}{path}", self.base), body).await;
        let response = &operation["responses"][status.as_str()];
        assert!(response.is_object(), "{method} {path} answered {status}, which is not described: {answer}");
        let schema = &response["content"]["application/json"]["schema"];
        check(&self.doc, schema, &answer, &format!("{method} {path} → {status}"));
        self.seen
            .entry((method.to_string(), template.split('?').next().unwrap_or(template).to_string()))
            .or_default()
            .insert(status.as_u16());
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_of_every_route_matches_the_api_description() {
    init_tracing();
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("UK", "GB", "GBP")];
    let world = world(&fresh_sqlite_url(), active_products(3), shops).await;
    let (us, uk) = (world.channels[0].clone(), world.channels[1].clone());
    // Jobs that gave up: TikTok fails every call and the queue tries once.
    let engine = world.engine(fast_settings()).await.expect("engine");
    import_catalog(&engine, &|_| {}).await.expect("imports");
    world.tiktok.set_chaos(Chaos { error_rate: 1.0, ..Chaos::default() });
    run_due(engine, &QueueSettings { max_attempts: 1, ..QueueSettings::default() }, &|| {})
        .await
        .expect("the attempt runs");
    world.tiktok.set_chaos(Chaos::default());
    let api = serve_api(&world).await;
    let base = api.base_url();
    let doc = api_call(Method::GET, &format!("{base}/api/openapi.json"), None).await.1;
    let mut c = Checker { doc, base: base.clone(), seen: BTreeMap::new() };
    let org = world.org.to_string();
    let mut ids: Vec<(&str, String)> =
        vec![("org", org.clone()), ("channel", us.id.to_string()), ("kind", "price".to_string())];

    c.call("GET", "/api/openapi.json", &ids, None).await;
    c.call("GET", "/healthz", &ids, None).await;
    c.call("GET", "/readyz", &ids, None).await;
    c.call("GET", "/api/failures", &ids, None).await;
    let failures = api_call(Method::GET, &format!("{base}/api/failures"), None).await.1;
    let job = failures[0]["job"].as_i64().expect("a job gave up");
    ids.push(("job", job.to_string()));
    c.call("POST", "/api/jobs/{job}/retry", &ids, None).await;
    c.call("POST", "/api/jobs/{job}/retry", &ids, None).await; // 409: queued already
    let task = c.call("POST", "/api/orgs/{org}/failures/retry", &ids, None).await;
    ids.push(("task", task["id"].to_string()));
    let done = finished_task(&base, &task).await;
    assert_eq!(done["state"], "done", "{done}");
    c.call("GET", "/api/orgs/{org}/tasks/{task}", &ids, None).await;
    c.call("GET", "/api/orgs/{org}/tasks", &ids, None).await;
    c.call("DELETE", "/api/orgs/{org}/tasks/{task}", &ids, None).await; // 409: it ended
    run_queue(&world).await;
    c.call("GET", "/api/orgs/{org}/sync-progress", &ids, None).await;

    // Orders: one synced, one failed on a SKU the store does not have.
    let sku = world.tiktok.products(&us.shop.cipher)[0].skus[0].seller_sku.clone();
    world.tiktok.place_order(&us.shop.cipher, &[(&sku, 1)]);
    world.tiktok.seed_product(&us.shop.cipher, "Seller Center only", &["SC-ONLY-1"]);
    world.tiktok.place_order(&us.shop.cipher, &[("SC-ONLY-1", 1)]);
    sync_orders(&world).await;
    let orders = c.call("GET", "/api/channels/{channel}/orders", &ids, None).await;
    let order = orders["orders"][0]["id"].to_string();
    ids.push(("order", order));
    c.call("GET", "/api/channels/{channel}/orders?state=failed", &ids, None).await;
    c.call("GET", "/api/orders/{order}", &ids, None).await;
    c.call("POST", "/api/orders/{order}/retry", &ids, None).await;
    c.call("POST", "/api/orders/{order}/release", &ids, None).await; // 409: not held
    ids.push(("request", "R-none".to_string()));
    c.call(
        "POST",
        "/api/orders/{order}/after-sales/{request}/decide",
        &ids,
        Some(json!({ "approve": true })),
    )
    .await;
    let retry = c.call("POST", "/api/channels/{channel}/orders/retry?kind=unlinked_sku", &ids, None).await;
    finished_task(&base, &retry).await;
    c.call("POST", "/api/channels/{channel}/orders/poll", &ids, None).await;
    let settings = c.call("GET", "/api/channels/{channel}/order-settings", &ids, None).await;
    c.call("PUT", "/api/channels/{channel}/order-settings", &ids, Some(settings)).await;
    let carriers = c.call("GET", "/api/channels/{channel}/carriers", &ids, None).await;
    let provider = carriers["providers"][0]["id"].clone();
    c.call(
        "PUT",
        "/api/channels/{channel}/carriers",
        &ids,
        Some(json!({ "store_carrier": "Acme", "provider_id": provider })),
    )
    .await;

    // Accounts and tokens.
    c.call("GET", "/api/me", &ids, None).await;
    let token = c.call("POST", "/api/tokens", &ids, Some(json!({ "name": "described" }))).await;
    ids.push(("token", token["id"].to_string()));
    c.call("GET", "/api/tokens", &ids, None).await;
    c.call("DELETE", "/api/tokens/{token}", &ids, None).await;
    c.call("PUT", "/api/session", &ids, Some(json!({ "organization": world.org.0 }))).await; // 409: a token
    c.call("DELETE", "/api/session", &ids, None).await; // 409: a token
    let login = json!({ "email": owner_email(world.org), "password": OWNER_PASSWORD });
    c.call("POST", "/api/session", &ids, Some(login.clone())).await;
    c.call("POST", "/api/setup/{token}", &[("token", "used-or-never-made".into())], Some(login.clone()))
        .await;
    session_routes(&mut c, &login, world.org.0).await;

    // The team: invite, look at the link, join, remove; revoke; change the password and back.
    c.call("GET", "/api/orgs/{org}/members", &ids, None).await;
    let invited = c
        .call("POST", "/api/orgs/{org}/invitations", &ids, Some(json!({ "email": "new@example.com" })))
        .await;
    let secret = invited["link"].as_str().expect("a link").trim_start_matches("/invite/").to_string();
    c.call("GET", "/api/orgs/{org}/invitations", &ids, None).await;
    c.call("GET", "/api/invitations/{token}", &[("token", secret.clone())], None).await;
    let joined = c
        .call(
            "POST",
            "/api/invitations/{token}",
            &[("token", secret)],
            Some(json!({ "password": "a long password" })),
        )
        .await;
    let member = [("org", org.clone()), ("account", joined["account"].to_string())];
    c.call("DELETE", "/api/orgs/{org}/members/{account}", &member, None).await;
    let revoked = c
        .call("POST", "/api/orgs/{org}/invitations", &ids, Some(json!({ "email": "late@example.com" })))
        .await;
    let invitation = [("org", org.clone()), ("invitation", revoked["id"].to_string())];
    c.call("DELETE", "/api/orgs/{org}/invitations/{invitation}", &invitation, None).await;
    for (current, new) in [(OWNER_PASSWORD, "an interim password"), ("an interim password", OWNER_PASSWORD)] {
        let body = json!({ "current_password": current, "new_password": new });
        c.call("PUT", "/api/me/password", &ids, Some(body)).await;
    }
    // Authorization needs an operator's app, which this API has none of: refused, described.
    let start = json!({ "plugin": "tiktok-shop", "role": "channel", "name": "x" });
    c.call("POST", "/api/orgs/{org}/authorizations", &ids, Some(start)).await;
    let callback = json!({ "query": "code=x&state=never-made" });
    c.call("POST", "/api/orgs/{org}/authorizations/callback", &ids, Some(callback)).await;

    // The organization, its channels and plugins.
    c.call("GET", "/api/orgs/{org}/onboarding", &ids, None).await;
    c.call("GET", "/api/orgs/{org}/channels", &ids, None).await;
    c.call("GET", "/api/orgs/{org}", &ids, None).await;
    c.call("PUT", "/api/orgs/{org}/auto-link", &ids, Some(json!({ "on": true }))).await;
    let connect = json!({ "name": "Second", "plugin": "no-such-plugin", "settings": {}, "secrets": {} });
    c.call("PUT", "/api/orgs/{org}/store", &ids, Some(connect.clone())).await; // 409: one store
    c.call("POST", "/api/orgs/{org}/channels", &ids, Some(connect)).await; // 422: no such plugin
    c.call("GET", "/api/plugins", &ids, None).await;
    c.call("GET", "/api/orgs/{org}/plugins", &ids, None).await;
    let options = json!({ "sync_content": false, "auto_select": true, "stock_buffer": 0, "stock_share": 1 });
    c.call("PUT", "/api/channels/{channel}/options", &ids, Some(options)).await;
    c.call(
        "PUT",
        "/api/channels/{channel}/options",
        &ids,
        Some(json!({ "sync_content": false, "auto_select": true, "stock_buffer": -5, "stock_share": 1 })),
    )
    .await; // 422 with field
    c.call(
        "PUT",
        "/api/channels/{channel}/exchange-rate",
        &[("channel", uk.id.to_string())],
        Some(json!({ "rate": "0.8" })),
    )
    .await;

    // The product center and rules.
    let products = c.call("GET", "/api/channels/{channel}/products", &ids, None).await;
    let product = products[0]["product_id"].to_string();
    ids.push(("product", product.clone()));
    c.call(
        "PUT",
        "/api/channels/{channel}/selection",
        &ids,
        Some(json!({ "product_ids": [products[0]["product_id"].clone()], "selected": true })),
    )
    .await;
    c.call(
        "PUT",
        "/api/channels/{channel}/products/{product}/category",
        &ids,
        Some(json!({ "category_id": "600001", "attributes": [] })),
    )
    .await;
    let template = json!({ "match_field": "product_type", "match_value": "Tents", "category_id": "600001", "attributes": [], "priority": 100 });
    c.call("PUT", "/api/channels/{channel}/templates", &ids, Some(template)).await;
    c.call("GET", "/api/channels/{channel}/templates", &ids, None).await;
    c.call("GET", "/api/channels/{channel}/link-issues", &ids, None).await;
    c.call("GET", "/api/channels/{channel}/drift", &ids, None).await;
    c.call(
        "PUT",
        "/api/channels/{channel}/rules/{kind}",
        &ids,
        Some(json!({ "source": "(price * rate).round(2)" })),
    )
    .await;
    c.call(
        "PUT",
        "/api/channels/{channel}/rules/{kind}",
        &ids,
        Some(json!({ "source": "throw \"no price\"" })),
    )
    .await; // 422 with the dry run's details
    c.call("GET", "/api/channels/{channel}/rules/{kind}/versions", &ids, None).await;
    c.call(
        "POST",
        "/api/channels/{channel}/rules/{kind}/dry-run",
        &ids,
        Some(json!({ "source": "price * rate" })),
    )
    .await;
    c.call("GET", "/api/orgs/{org}/dry-run", &ids, None).await;
    c.call("DELETE", "/api/orgs/{org}/dry-run", &ids, None).await;

    // Webhooks without a signature are refused, described.
    c.call("POST", "/webhooks/store/{org}", &ids, None).await;
    c.call("POST", "/webhooks/channel/{channel}", &ids, None).await;

    // Unknown ids, another organization's, and forgetting things last.
    c.call("GET", "/api/orders/{order}", &[("order", "999999".into())], None).await;
    c.call("DELETE", "/api/channels/{channel}", &[("channel", uk.id.to_string())], None).await;
    c.call("DELETE", "/api/orgs/{org}/store", &ids, None).await;

    // Every route was called and checked; and every one's success answer, but for those a
    // token cannot reach here (they are checked with their refusals).
    let refused_only: BTreeSet<(&str, &str)> = [
        ("POST", "/api/setup/{token}"),
        ("PUT", "/api/orgs/{org}/store"),
        ("POST", "/api/orgs/{org}/channels"),
        ("POST", "/api/orders/{order}/release"),
        ("POST", "/api/orders/{order}/after-sales/{request}/decide"),
        ("DELETE", "/api/orgs/{org}/tasks/{task}"),
        ("POST", "/api/orgs/{org}/authorizations"),
        ("POST", "/api/orgs/{org}/authorizations/callback"),
        ("POST", "/webhooks/store/{org}"),
        ("POST", "/webhooks/channel/{channel}"),
    ]
    .into();
    for route in ROUTES {
        let seen = c.seen.get(&(route.method.to_string(), route.path.to_string()));
        let seen = seen.unwrap_or_else(|| panic!("{} {} was called", route.method, route.path));
        if !refused_only.contains(&(route.method, route.path)) {
            assert!(
                seen.contains(&route.status),
                "{} {}: its success answer ({}) was checked; seen {seen:?}",
                route.method,
                route.path,
                route.status
            );
        }
        if route.access == Access::Webhook {
            assert!(
                seen.iter().all(|s| (400..500).contains(s)),
                "{} {}: refused unsigned",
                route.method,
                route.path
            );
        }
    }
    for status in [404u16, 409, 422] {
        assert!(c.seen.values().any(|s| s.contains(&status)), "a {status} was checked");
    }
}

/// Switching organization and logging out, with a session cookie and its CSRF token.
async fn session_routes(c: &mut Checker, login: &Value, org: i64) {
    let client = reqwest::Client::new();
    let response =
        client.post(format!("{}/api/session", c.base)).json(login).send().await.expect("the API answers");
    let cookie = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let session: Value = response.json().await.expect("JSON");
    let csrf = session["csrf_token"].as_str().expect("a CSRF token").to_string();
    for (method, body) in [(Method::PUT, Some(json!({ "organization": org }))), (Method::DELETE, None)] {
        let mut request = client
            .request(method.clone(), format!("{}/api/session", c.base))
            .header(reqwest::header::COOKIE, &cookie)
            .header("X-CSRF-Token", &csrf);
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        assert_eq!(status, StatusCode::OK, "{method} /api/session with the session");
        let answer: Value = response.json().await.expect("JSON");
        let schema =
            c.doc["paths"]["/api/session"][method.as_str().to_lowercase()]["responses"]["200"]["content"]
                ["application/json"]["schema"]
                .clone();
        check(&c.doc, &schema, &answer, &format!("{method} /api/session → 200"));
        c.seen.entry((method.to_string(), "/api/session".into())).or_default().insert(200);
    }
}
