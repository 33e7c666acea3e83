//! The API description, an OpenAPI 3.1 document built from `api::ROUTES` (so a route cannot
//! be served without being described): every path and method, its parameters, who may call
//! it (the `apiToken` and `session` schemes, or nobody for the public ones), the body it
//! reads and the body it answers — JSON Schemas (2020-12) derived from the Rust types the
//! handlers use — and the error answers it can give, all of the shared `ErrorBody`.

use super::{Access, ApiState, ErrorBody, ROUTES};
use axum::routing::get;
use axum::{Json, Router};
use schemars::generate::SchemaSettings;
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
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

fn body(description: &str, schema: schemars::Schema) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    // Every error answer refers to it by name.
    generator.subschema_for::<ErrorBody>();
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
        let params: Vec<Value> = params
            .into_iter()
            .chain(route.query.iter().map(|(name, meaning)| {
                json!({ "name": name, "in": "query", "required": false, "description": meaning,
                        "schema": { "type": "string" } })
            }))
            .collect();
        let mut responses = Map::new();
        let done = match route.status {
            201 => "created",
            202 => "accepted: the work runs in the background; follow the task",
            _ => "done",
        };
        responses.insert(route.status.to_string(), body(done, (route.answer)(&mut generator)));
        for (status, answer) in route.also {
            responses.insert(status.to_string(), body("see the body", answer(&mut generator)));
        }
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
                let conflict = if route.status == 202 {
                    "a task of this kind already runs (its id in `task`): follow it, then try again"
                } else {
                    "the record's state does not allow it now (the message says why and what to do)"
                };
                responses.insert("409".into(), error(conflict));
                responses.insert(
                    "503".into(),
                    error("the platform or a plugin cannot be reached now: try again later"),
                );
            }
            Access::Webhook => {
                responses.insert("401".into(), error("the platform's signature does not verify"));
                responses.insert("404".into(), error("no such organization or channel"));
                responses.insert("409".into(), error("the organization has no store connected"));
                responses.insert("422".into(), error("the delivery cannot be read"));
                responses.insert("503".into(), error("cannot be acted on now: the sender retries"));
            }
            Access::Public => {
                if route.method == "POST" {
                    responses.insert("401".into(), error("wrong email or password"));
                    responses.insert("422".into(), error("invalid input, named"));
                }
                if !params.is_empty() {
                    responses.insert("404".into(), error("an unknown, used or expired link"));
                }
                if route.path == "/api/session" {
                    responses.insert("429".into(), error("too many failed logins: wait a minute"));
                }
            }
        }
        responses.insert("500".into(), error("the server failed; the message says where"));
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
        let mut operation = json!({
            "summary": route.summary,
            "operationId": operation_id,
            "parameters": params,
            "security": security,
            "responses": responses,
        });
        if let Some(request) = route.request {
            operation["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": request(&mut generator) } }
            });
        }
        let entry = paths.entry(route.path.to_string()).or_insert_with(|| json!({}));
        if let Some(methods) = entry.as_object_mut() {
            methods.insert(route.method.to_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Crossdock API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every /api route but login, setup and this document acts for one organization: \
                an API token's, or the session's. An id of another organization answers 404, as a missing \
                one does. Webhook receivers are public; the platform's signature is the check. Every error \
                answer is an ErrorBody. Guide: docs/api.md."
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
            "schemas": generator.take_definitions(true),
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
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        assert!(schemas.contains_key("ErrorBody") && schemas.contains_key("TaskView"), "{schemas:?}");
        for route in ROUTES {
            let responses = &doc["paths"][route.path][route.method.to_lowercase()]["responses"];
            let success = &responses[route.status.to_string()]["content"]["application/json"]["schema"];
            assert!(
                success.is_object() || success.is_boolean(),
                "{} {}: its answer's schema",
                route.method,
                route.path
            );
            for (status, response) in responses.as_object().expect("responses") {
                let is_error = status.starts_with('4') || status.starts_with('5');
                let own = route.also.iter().any(|(s, _)| s.to_string() == *status);
                if is_error && !own {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{} {} {status}",
                        route.method,
                        route.path
                    );
                }
            }
            let request = &doc["paths"][route.path][route.method.to_lowercase()]["requestBody"];
            assert_eq!(request.is_object(), route.request.is_some(), "{} {}", route.method, route.path);
        }
        // Every reference resolves to a schema of the document.
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().expect("a name");
            assert!(schemas.contains_key(name), "{name} is referenced but not defined");
        }
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
