//! WordPress's `_fields` parameter (`rest_filter_response_fields`): a successful JSON answer keeps
//! only the listed fields of its object, or of each object of its list. A field may name a
//! nested one with dots (`billing.email`); nesting into a list leaves the list empty, as PHP's
//! `array_intersect_key` over numeric keys does. Errors are answered whole.

use super::MAX_CHAOS_BODY;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Which fields to keep: every field below a name, or some of them.
#[derive(Debug, Clone, PartialEq)]
enum Keep {
    All,
    Some(BTreeMap<String, Keep>),
}

/// The tree of a `_fields` list; a field already kept whole ignores its sub-fields.
fn tree(list: &str) -> BTreeMap<String, Keep> {
    let mut root = BTreeMap::new();
    for field in list.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let parts: Vec<&str> = field.split('.').collect();
        insert(&mut root, &parts);
    }
    root
}

fn insert(node: &mut BTreeMap<String, Keep>, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else { return };
    if rest.is_empty() {
        node.insert(first.to_string(), Keep::All);
        return;
    }
    match node.entry(first.to_string()).or_insert_with(|| Keep::Some(BTreeMap::new())) {
        Keep::All => {}
        Keep::Some(children) => insert(children, rest),
    }
}

fn keep(value: Value, fields: &BTreeMap<String, Keep>) -> Value {
    match value {
        Value::Object(object) => {
            let kept: Map<String, Value> = object
                .into_iter()
                .filter_map(|(key, value)| match fields.get(&key)? {
                    Keep::All => Some((key, value)),
                    Keep::Some(children) => Some((key, keep(value, children))),
                })
                .collect();
            Value::Object(kept)
        }
        Value::Array(_) => Value::Array(Vec::new()),
        scalar => scalar,
    }
}

/// Applies `fields` to an answer: to each object of a list, or to the one object.
fn filter(body: Value, fields: &BTreeMap<String, Keep>) -> Value {
    match body {
        Value::Array(items) => Value::Array(items.into_iter().map(|item| keep(item, fields)).collect()),
        other => keep(other, fields),
    }
}

/// The `_fields` value of a query string, decoded.
fn asked(query: Option<&str>) -> Option<String> {
    let query = query?;
    let pairs: BTreeMap<String, String> = query_pairs(query);
    pairs.get("_fields").filter(|f| !f.trim().is_empty()).cloned()
}

/// `key=value` pairs of a query string, percent- and `+`-decoded.
fn query_pairs(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The middleware: filters a successful JSON answer when the request asks for `_fields`.
pub async fn only_asked(request: Request, next: Next) -> Response {
    let Some(list) = asked(request.uri().query()) else {
        return next.run(request).await;
    };
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CHAOS_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(json) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let filtered = filter(json, &tree(&list)).to_string();
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(filtered))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_object_of_a_list_keeps_only_the_asked_fields() {
        let list = json!([{"id": 1, "status": "processing", "total": "9.00", "meta_data": []},
                          {"id": 2, "status": "completed", "total": "3.00"}]);
        let kept = filter(list, &tree("id, status,meta_data"));
        assert_eq!(
            kept,
            json!([{"id": 1, "status": "processing", "meta_data": []},
                                {"id": 2, "status": "completed"}])
        );
    }

    #[test]
    fn dotted_fields_reach_into_objects_but_not_lists() {
        let order = json!({"id": 1, "billing": {"email": "a@b.c", "phone": "1"}, "line_items": [{"id": 5}]});
        assert_eq!(
            filter(order.clone(), &tree("billing.email,line_items.id")),
            json!({"billing": {"email": "a@b.c"}, "line_items": []})
        );
        assert_eq!(
            filter(order, &tree("billing,billing.email")),
            json!({"billing": {"email": "a@b.c", "phone": "1"}})
        );
    }

    #[test]
    fn the_parameter_is_read_decoded_from_the_query() {
        assert_eq!(asked(Some("page=2&_fields=id%2Cstatus")), Some("id,status".to_string()));
        assert_eq!(asked(Some("_fields=")), None);
        assert_eq!(asked(None), None);
    }
}
