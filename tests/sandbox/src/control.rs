//! What every sandbox's control API (`/_sandbox/*`) shares: JSON bodies in, errors out as
//! `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The control API's error body: `{"error": "..."}`.
pub fn control_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({"error": message.into()}))).into_response()
}

/// Parses a control call's JSON body; `why` and serde's reason say what is wrong with one that
/// does not parse.
pub fn json_body<T: DeserializeOwned>(body: &[u8], why: &str) -> Result<T, BadBody> {
    serde_json::from_slice(body).map_err(|error| BadBody(format!("{why}: {error}")))
}

/// A control body that does not parse, answered 400 (`?` turns it into the handler's error
/// response).
#[derive(Debug)]
pub struct BadBody(String);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        control_error(StatusCode::BAD_REQUEST, self.0)
    }
}

impl From<BadBody> for Response {
    fn from(bad: BadBody) -> Response {
        bad.into_response()
    }
}
