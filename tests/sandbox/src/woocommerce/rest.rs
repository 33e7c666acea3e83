//! The catalog endpoints: the WordPress index, the store currency setting, products and
//! variations (list, read, partial update), and the paging every list shares (reference §9).

use super::data::{Product, parse_wp_date};
use super::product_writes;
use super::{AppState, error, json_response, now_seconds};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub type Params = Query<BTreeMap<String, String>>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/wp-json/wc/v3/settings/general/woocommerce_currency", get(currency))
        .route("/wp-json/wc/v3/products", get(list_products))
        .route("/wp-json/wc/v3/products/{id}", get(get_product).put(update_product))
        .route("/wp-json/wc/v3/products/{id}/variations", get(list_variations))
        .route("/wp-json/wc/v3/products/{id}/variations/{vid}", get(get_variation).put(update_variation))
}

/// `GET /wp-json/`: WordPress's index, which names the site.
pub async fn index(State(state): State<Arc<AppState>>) -> Response {
    let url = state.base_url().to_string();
    json_response(
        StatusCode::OK,
        json!({
            "name": state.store_name, "description": "", "url": url, "home": url,
            "gmt_offset": "0", "timezone_string": "UTC",
            "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wp/v2"],
        }),
    )
}

async fn currency(State(state): State<Arc<AppState>>) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "id": "woocommerce_currency", "label": "Currency",
            "description": "This controls what currency prices are listed at in the catalog and which currency gateways will take payments in.",
            "type": "select", "default": "USD", "value": state.currency, "group_id": "general",
        }),
    )
}

/// `page` and `per_page` as WordPress validates them.
pub struct Paging {
    pub page: usize,
    pub per_page: usize,
}

impl Paging {
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Paging, Box<Response>> {
        let invalid = |name: &str, rule: &str| {
            json_response(
                StatusCode::BAD_REQUEST,
                json!({
                    "code": "rest_invalid_param",
                    "message": format!("Invalid parameter(s): {name}"),
                    "data": {"status": 400, "params": {name: rule}},
                }),
            )
        };
        let per_page = match params.get("per_page").map(|v| v.trim().parse::<i64>()) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n as usize,
            Some(_) => {
                return Err(Box::new(invalid(
                    "per_page",
                    "per_page must be between 1 (inclusive) and 100 (inclusive)",
                )));
            }
        };
        let page = match params.get("page").map(|v| v.trim().parse::<i64>()) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n as usize,
            Some(_) => return Err(Box::new(invalid("page", "page must be greater than or equal to 1"))),
        };
        Ok(Paging { page, per_page })
    }

    /// One page of `items` with `X-WP-Total`, `X-WP-TotalPages` and a `Link` header built
    /// from the request's own path and parameters.
    pub fn respond(
        &self,
        items: Vec<Value>,
        base_url: &str,
        uri: &axum::http::Uri,
        params: &BTreeMap<String, String>,
    ) -> Response {
        let total = items.len();
        let pages = total.div_ceil(self.per_page);
        let page: Vec<Value> =
            items.into_iter().skip((self.page - 1) * self.per_page).take(self.per_page).collect();
        let mut response = json_response(StatusCode::OK, Value::Array(page));
        let link_to = |page: usize| {
            let mut query = params.clone();
            query.insert("page".into(), page.to_string());
            let query: Vec<String> =
                query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            format!("<{base_url}{}?{}>", uri.path(), query.join("&"))
        };
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(format!("{}; rel=\"prev\"", link_to((self.page - 1).min(pages.max(1)))));
        }
        if self.page < pages {
            links.push(format!("{}; rel=\"next\"", link_to(self.page + 1)));
        }
        let headers = response.headers_mut();
        for (name, value) in [("x-wp-total", total.to_string()), ("x-wp-totalpages", pages.to_string())] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        if !links.is_empty()
            && let Ok(value) = HeaderValue::from_str(&links.join(", "))
        {
            headers.insert("link", value);
        }
        response
    }
}

/// Percent-encodes a query component.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn list_products(
    State(state): State<Arc<AppState>>,
    OriginalUri(uri): OriginalUri,
    Query(params): Params,
) -> Response {
    let paging = match Paging::from_params(&params) {
        Ok(paging) => paging,
        Err(response) => return *response,
    };
    let status = params.get("status").map(String::as_str).unwrap_or("any");
    let sku = params.get("sku").filter(|s| !s.is_empty());
    let modified_after = params.get("modified_after").and_then(|t| parse_wp_date(t));
    let descending = params.get("order").map(String::as_str) != Some("asc");
    let orderby = params.get("orderby").map(String::as_str).unwrap_or("date");
    let store = state.store();
    let mut products: Vec<&Product> = store
        .products
        .values()
        .filter(|p| status == "any" || p.status == status)
        // A variation's SKU does not find its parent here (reference §3).
        .filter(|p| sku.is_none_or(|s| &p.stocked.sku == s))
        .filter(|p| modified_after.is_none_or(|t| p.date_modified > t))
        .collect();
    match orderby {
        "id" => products.sort_by_key(|p| p.id),
        "title" => products.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "modified" => products.sort_by_key(|p| (p.date_modified, p.id)),
        _ => products.sort_by_key(|p| (p.date_created, p.id)),
    }
    if descending {
        products.reverse();
    }
    let items = products.into_iter().map(|p| store.product_json(p, state.base_url())).collect();
    paging.respond(items, state.base_url(), &uri, &params)
}

fn product_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

fn variation_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
}

async fn get_product(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let store = state.store();
    match id.parse::<u64>().ok().and_then(|id| store.products.get(&id)) {
        Some(product) => json_response(StatusCode::OK, store.product_json(product, state.base_url())),
        None => product_not_found(),
    }
}

/// Parses a JSON object body, or answers `rest_invalid_json`.
pub fn object_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(Box::new(error(StatusCode::BAD_REQUEST, "rest_invalid_json", "Invalid JSON body passed."))),
    }
}

async fn update_product(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Response {
    let update = match object_body(&body) {
        Ok(update) => update,
        Err(response) => return *response,
    };
    let Some(id) = id.parse::<u64>().ok() else {
        return product_not_found();
    };
    let updated =
        product_writes::update_product(&mut state.store(), id, &update, state.base_url(), now_seconds());
    match updated {
        Ok(answer) => {
            state.webhooks.emit("product.updated", &answer);
            json_response(StatusCode::OK, answer)
        }
        Err(error) => error.response(),
    }
}

async fn list_variations(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(params): Params,
) -> Response {
    let paging = match Paging::from_params(&params) {
        Ok(paging) => paging,
        Err(response) => return *response,
    };
    let store = state.store();
    let Some(product) = id.parse::<u64>().ok().and_then(|id| store.products.get(&id)) else {
        return product_not_found();
    };
    let sku = params.get("sku").filter(|s| !s.is_empty());
    let items = product
        .variations
        .iter()
        .filter(|v| sku.is_none_or(|s| &v.stocked.sku == s))
        .map(|v| store.variation_json(product, v, state.base_url()))
        .collect();
    paging.respond(items, state.base_url(), &uri, &params)
}

async fn get_variation(
    State(state): State<Arc<AppState>>,
    Path((id, vid)): Path<(String, String)>,
) -> Response {
    let store = state.store();
    let Some(product) = id.parse::<u64>().ok().and_then(|id| store.products.get(&id)) else {
        return product_not_found();
    };
    match vid.parse::<u64>().ok().and_then(|vid| product.variations.iter().find(|v| v.id == vid)) {
        Some(variation) => {
            json_response(StatusCode::OK, store.variation_json(product, variation, state.base_url()))
        }
        None => variation_not_found(),
    }
}

async fn update_variation(
    State(state): State<Arc<AppState>>,
    Path((id, vid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let update = match object_body(&body) {
        Ok(update) => update,
        Err(response) => return *response,
    };
    let (Some(id), Some(vid)) = (id.parse::<u64>().ok(), vid.parse::<u64>().ok()) else {
        return product_not_found();
    };
    let updated = product_writes::update_variation(
        &mut state.store(),
        id,
        vid,
        &update,
        state.base_url(),
        now_seconds(),
    );
    match updated {
        Ok(answer) => {
            state.emit_product("product.updated", id);
            json_response(StatusCode::OK, answer)
        }
        Err(error) => error.response(),
    }
}
