//! A WooCommerce REST error, `{code, message, data: {status[, params]}}`: the single-object
//! endpoints answer it as the response, the batch endpoints report it in place of the item.

use super::json_response;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct RestError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `data.params` of `rest_invalid_param`: the field and why.
    pub params: Option<Value>,
}

impl RestError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        RestError { status, code, message: message.into(), params: None }
    }

    /// WordPress's 400 for a parameter that fails its schema.
    pub fn invalid_param(field: &str, why: impl Into<String>) -> Self {
        RestError {
            status: StatusCode::BAD_REQUEST,
            code: "rest_invalid_param",
            message: format!("Invalid parameter(s): {field}"),
            params: Some(json!({ field: why.into() })),
        }
    }

    /// WordPress's 400 for a body that is not a JSON object.
    pub fn invalid_json() -> Self {
        RestError::new(StatusCode::BAD_REQUEST, "rest_invalid_json", "Invalid JSON body passed.")
    }

    pub fn body(&self) -> Value {
        let mut data = json!({ "status": self.status.as_u16() });
        if let Some(params) = &self.params {
            data["params"] = params.clone();
        }
        json!({ "code": self.code, "message": self.message, "data": data })
    }

    pub fn response(&self) -> Response {
        json_response(self.status, self.body())
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        self.response()
    }
}

/// What a single-object endpoint answers: its response, or the error as core answers it.
pub type Answer = Result<Response, RestError>;
