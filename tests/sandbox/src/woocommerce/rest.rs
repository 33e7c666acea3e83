//! The catalog endpoints: the WordPress index, the store currency setting, products and
//! variations (list, read, partial update; a variation is also read and found by SKU as a
//! product), and the paging every list shares (reference §9).

use super::data::{Product, Store, Variation, parse_wp_date};
use super::product_writes::{self, product_not_found, variation_not_found};
use super::rest_error::{Answer, RestError};
use super::{AppState, json_response, now_seconds};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, OriginalUri, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
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

/// A list request: its parameters, `page` and `per_page` as WordPress validates them, and its
/// own URI, which the `Link` header points back to. A bad `page` or `per_page` is answered
/// (`rest_invalid_param`) before the handler runs.
pub struct Listing {
    pub params: BTreeMap<String, String>,
    page: usize,
    per_page: usize,
    uri: Uri,
}

impl<S: Send + Sync> FromRequestParts<S> for Listing {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Ok(OriginalUri(uri)) = OriginalUri::from_request_parts(parts, state).await;
        let Query(params) =
            Params::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        Listing::new(params, uri).map_err(IntoResponse::into_response)
    }
}

impl Listing {
    fn new(params: BTreeMap<String, String>, uri: Uri) -> Result<Listing, RestError> {
        let per_page = match params.get("per_page").map(|v| v.trim().parse::<i64>()) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n as usize,
            Some(_) => {
                let rule = "per_page must be between 1 (inclusive) and 100 (inclusive)";
                return Err(RestError::invalid_param("per_page", rule));
            }
        };
        let page = match params.get("page").map(|v| v.trim().parse::<i64>()) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n as usize,
            Some(_) => {
                return Err(RestError::invalid_param("page", "page must be greater than or equal to 1"));
            }
        };
        Ok(Listing { params, page, per_page, uri })
    }

    /// One page of `items` with `X-WP-Total`, `X-WP-TotalPages` and a `Link` header built
    /// from the request's own path and parameters.
    pub fn respond(&self, items: Vec<Value>, base_url: &str) -> Response {
        let total = items.len();
        let pages = total.div_ceil(self.per_page);
        let page: Vec<Value> =
            items.into_iter().skip((self.page - 1) * self.per_page).take(self.per_page).collect();
        let mut response = json_response(StatusCode::OK, Value::Array(page));
        let link_to = |page: usize| {
            let mut query = self.params.clone();
            query.insert("page".into(), page.to_string());
            let query: Vec<String> =
                query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
            format!("<{base_url}{}?{}>", self.uri.path(), query.join("&"))
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

/// A record `GET /products` lists: a product, or (found by SKU) a variation of one.
enum Listed<'s> {
    Product(&'s Product),
    Variation(&'s Product, &'s Variation),
}

impl Listed<'_> {
    fn id(&self) -> u64 {
        match self {
            Listed::Product(p) => p.id,
            Listed::Variation(_, v) => v.id,
        }
    }

    fn modified(&self) -> i64 {
        match self {
            Listed::Product(p) => p.date_modified,
            Listed::Variation(_, v) => v.date_modified,
        }
    }

    /// A variation was created with (after) its parent.
    fn created(&self) -> i64 {
        match self {
            Listed::Product(p) | Listed::Variation(p, _) => p.date_created,
        }
    }

    fn status(&self) -> &str {
        match self {
            Listed::Product(p) => &p.status,
            Listed::Variation(..) => "publish",
        }
    }
}

/// `GET /products`. With `sku` (a comma list of exact SKUs) variations are found too, each as a
/// product of type `variation`, as current WooCommerce finds them (reference §3 notes older
/// stores that did not).
async fn list_products(State(state): State<Arc<AppState>>, list: Listing) -> Response {
    let params = &list.params;
    let status = params.get("status").map(String::as_str).unwrap_or("any");
    let skus: Vec<&str> = params
        .get("sku")
        .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let modified_after = params.get("modified_after").and_then(|t| parse_wp_date(t));
    let descending = params.get("order").map(String::as_str) != Some("asc");
    let orderby = params.get("orderby").map(String::as_str).unwrap_or("date");
    let store = state.store();
    let mut listed: Vec<Listed> = Vec::new();
    for product in store.products.values() {
        if skus.is_empty() || skus.contains(&product.stocked.sku.as_str()) {
            listed.push(Listed::Product(product));
        }
        if !skus.is_empty() {
            let found = product.variations.iter().filter(|v| skus.contains(&v.stocked.sku.as_str()));
            listed.extend(found.map(|v| Listed::Variation(product, v)));
        }
    }
    listed.retain(|l| {
        (status == "any" || l.status() == status) && modified_after.is_none_or(|t| l.modified() > t)
    });
    let name = |l: &Listed| match l {
        Listed::Product(p) => p.name.clone(),
        Listed::Variation(p, _) => p.name.clone(),
    };
    match orderby {
        "id" => listed.sort_by_key(Listed::id),
        "title" => listed.sort_by(|a, b| name(a).cmp(&name(b)).then(a.id().cmp(&b.id()))),
        "modified" => listed.sort_by_key(|l| (l.modified(), l.id())),
        _ => listed.sort_by_key(|l| (l.created(), l.id())),
    }
    if descending {
        listed.reverse();
    }
    let base_url = state.base_url();
    let items = listed
        .into_iter()
        .map(|l| match l {
            Listed::Product(p) => store.product_json(p, base_url),
            Listed::Variation(p, v) => store.variation_product_json(p, v, base_url),
        })
        .collect();
    list.respond(items, base_url)
}

/// The product a path's `{id}` names.
fn path_product<'s>(store: &'s Store, id: &str) -> Result<&'s Product, RestError> {
    id.parse::<u64>().ok().and_then(|id| store.products.get(&id)).ok_or_else(product_not_found)
}

/// `GET /products/{id}`: a product, or a variation as a product of type `variation` (a
/// variation is a product post whose parent is the variable product).
async fn get_product(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Answer {
    let store = state.store();
    if let Ok(product) = path_product(&store, &id) {
        return Ok(json_response(StatusCode::OK, store.product_json(product, state.base_url())));
    }
    let variation = id.parse::<u64>().ok().and_then(|id| store.variation(id));
    let (product, variation) = variation.ok_or_else(product_not_found)?;
    Ok(json_response(StatusCode::OK, store.variation_product_json(product, variation, state.base_url())))
}

/// Parses a JSON object body, or refuses it as `rest_invalid_json`.
pub fn object_body(body: &Bytes) -> Result<serde_json::Map<String, Value>, RestError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(RestError::invalid_json()),
    }
}

async fn update_product(State(state): State<Arc<AppState>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let update = object_body(&body)?;
    let id = id.parse::<u64>().map_err(|_| product_not_found())?;
    let answer =
        product_writes::update_product(&mut state.store(), id, &update, state.base_url(), now_seconds())?;
    state.webhooks.emit("product.updated", &answer);
    Ok(json_response(StatusCode::OK, answer))
}

async fn list_variations(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    list: Listing,
) -> Answer {
    let store = state.store();
    let product = path_product(&store, &id)?;
    let sku = list.params.get("sku").filter(|s| !s.is_empty());
    let items = product
        .variations
        .iter()
        .filter(|v| sku.is_none_or(|s| &v.stocked.sku == s))
        .map(|v| store.variation_json(product, v, state.base_url()))
        .collect();
    Ok(list.respond(items, state.base_url()))
}

async fn get_variation(
    State(state): State<Arc<AppState>>,
    Path((id, vid)): Path<(String, String)>,
) -> Answer {
    let store = state.store();
    let product = path_product(&store, &id)?;
    let variation = vid
        .parse::<u64>()
        .ok()
        .and_then(|vid| product.variations.iter().find(|v| v.id == vid))
        .ok_or_else(variation_not_found)?;
    Ok(json_response(StatusCode::OK, store.variation_json(product, variation, state.base_url())))
}

async fn update_variation(
    State(state): State<Arc<AppState>>,
    Path((id, vid)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let update = object_body(&body)?;
    let (Some(id), Some(vid)) = (id.parse::<u64>().ok(), vid.parse::<u64>().ok()) else {
        return Err(product_not_found());
    };
    let answer = product_writes::update_variation(
        &mut state.store(),
        id,
        vid,
        &update,
        state.base_url(),
        now_seconds(),
    )?;
    state.emit_product("product.updated", id);
    Ok(json_response(StatusCode::OK, answer))
}
