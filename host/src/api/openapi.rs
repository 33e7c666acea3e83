//! The API description, an OpenAPI 3.1 document built from `api::ROUTES` (so a route cannot
//! be served without being described): every path and method, its parameters, who may call
//! it (the `apiToken` and `session` schemes, or nobody for the public ones) and the error
//! answers it can give. Request and answer bodies are described in docs/api.md.

use super::{Access, ApiState, ROUTES};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

pub fn router() -> Router<ApiState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Json<Value> {
    Json(document())
}

/// `{name}` parameters of a path, in order.
fn parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))).collect()
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let params: Vec<Value> = parameters(route.path)
            .into_iter()
            .map(|name| {
                let text = matches!(name, "kind" | "request") || route.path.starts_with("/api/setup/");
                json!({
                    "name": name,
                    "in": "path",
                    "required": true,
                    "schema": { "type": if text { "string" } else { "integer" } }
                })
            })
            .collect();
        let mut responses = Map::new();
        let created = route.method == "POST" && route.path == "/api/tokens";
        responses.insert(if created { "201" } else { "200" }.into(), json!({ "description": "done" }));
        match route.access {
            Access::Caller => {
                responses
                    .insert("401".into(), error("no credentials, or an unknown, revoked or expired one"));
                if route.method != "GET" {
                    responses.insert("403".into(), error("a cookie session without its CSRF token"));
                }
                if !params.is_empty() {
                    responses.insert(
                        "404".into(),
                        error("an id that does not exist or is another organization's (the same answer)"),
                    );
                }
                responses.insert("422".into(), error("invalid input, named"));
            }
            Access::Webhook => {
                responses.insert("401".into(), error("the platform's signature does not verify"));
                responses.insert("503".into(), error("cannot be acted on now: the sender retries"));
            }
            Access::Public => {
                if route.method == "POST" {
                    responses.insert("401".into(), error("wrong email or password"));
                    responses.insert("422".into(), error("invalid input, named"));
                }
                if route.path == "/api/session" {
                    responses.insert("429".into(), error("too many failed logins: wait a minute"));
                }
            }
        }
        let security = match route.access {
            Access::Caller => json!([{ "apiToken": [] }, { "session": [], "csrf": [] }]),
            Access::Public | Access::Webhook => json!([]),
        };
        let operation_id = format!(
            "{}{}",
            route.method.to_lowercase(),
            route
                .path
                .split(['/', '-', '.', '{', '}'])
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut chars = w.chars();
                    chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<String>()
        );
        let operation = json!({
            "summary": route.summary,
            "operationId": operation_id,
            "parameters": params,
            "security": security,
            "responses": responses,
        });
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        if let Some(methods) = entry.as_object_mut() {
            methods.insert(route.method.to_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Crossdock API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every /api route but login, setup and this document acts for one organization: \
                an API token's, or the session's. An id of another organization answers 404, as a missing \
                one does. Webhook receivers are public; the platform's signature is the check. Bodies: \
                docs/api.md."
        },
        "components": {
            "securitySchemes": {
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`cdk_…`) from `crossdock token create` or POST /api/tokens"
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": crate::auth::session::SESSION_COOKIE,
                    "description": "The cookie POST /api/session sets"
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "With a session, every unsafe method (POST, PUT, DELETE) carries the session's CSRF token"
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "string", "description": "what went wrong and how to fix it" } }
                }
            }
        },
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_every_route_with_who_may_call_it() {
        let doc = document();
        for route in ROUTES {
            let operation = &doc["paths"][route.path][route.method.to_lowercase()];
            assert_eq!(operation["summary"], route.summary, "{} {}", route.method, route.path);
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(secured, route.access == Access::Caller, "{} {}", route.method, route.path);
            for name in parameters(route.path) {
                assert!(
                    operation["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["name"] == name))
                );
            }
        }
        assert_eq!(doc["components"]["securitySchemes"]["apiToken"]["scheme"], "bearer");
        assert_eq!(doc["components"]["securitySchemes"]["session"]["name"], "crossdock_session");
        let operations: usize = doc["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|m| m.as_object().map_or(0, |m| m.len()))
            .sum();
        assert_eq!(operations, ROUTES.len());
    }
}
