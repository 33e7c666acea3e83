//! The one error type handlers return, and how it becomes an HTTP response.

use crate::catalog::dry_run::DryRunError;
use crate::connections::SetupError;
use crate::db::DbError;
use crate::engine::SyncError;
use crate::rules::RuleError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// One field out of its range: 422 naming the field and the allowed range.
    #[error(transparent)]
    Invalid(#[from] crate::model::limits::FieldError),
    #[error("{0}")]
    Conflict(String),
    /// 409: a bulk task of this kind already runs; `task` is its id.
    #[error("{message}")]
    Busy { message: String, task: u64 },
    /// 422 with details the caller needs to act (a dry run's errors).
    #[error("{message}")]
    Refused { message: String, details: serde_json::Value },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

/// The body of every error answer (the API description's `Error`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// What went wrong, naming the record and the cause, and how to fix it where one can.
    pub error: String,
    /// The input field out of its range (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The field's allowed range (422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// What a refusing dry run found (422 from a rule save).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
    /// The running task that made this one wait (409 from a bulk retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<u64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Invalid(_) | ApiError::Refused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Conflict(_) | ApiError::Busy { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "api error");
        }
        let mut body =
            ErrorBody { error: self.to_string(), field: None, allowed: None, details: None, task: None };
        match self {
            ApiError::Invalid(e) => {
                body.field = Some(e.field);
                body.allowed = Some(e.allowed);
            }
            ApiError::Refused { details, .. } => body.details = Some(details),
            ApiError::Busy { task, .. } => body.task = Some(task),
            _ => {}
        }
        (status, Json(body)).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => ApiError::NotFound(what),
            DbError::Conflict(m) => ApiError::Conflict(m),
            DbError::Invalid(m) => ApiError::BadRequest(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<SetupError> for ApiError {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::Db(db) => db.into(),
            SetupError::Connector(c) if !c.is_retryable() => ApiError::BadRequest(c.to_string()),
            SetupError::Connector(c) => ApiError::Unavailable(c.to_string()),
            SetupError::BadRate(e) => ApiError::Invalid(e),
            other => ApiError::BadRequest(other.to_string()),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Db(db) => db.into(),
            SyncError::Setup(s) => s.into(),
            SyncError::Connector(c) => ApiError::Unavailable(c.to_string()),
            SyncError::NoStore(org) => {
                ApiError::Conflict(format!("organization {org} has no store connected"))
            }
        }
    }
}

impl From<DryRunError> for ApiError {
    fn from(e: DryRunError) -> Self {
        match e {
            DryRunError::Rule(r) => r.into(),
            DryRunError::Db(d) => d.into(),
            blocked @ DryRunError::Blocked(..) => ApiError::Conflict(blocked.to_string()),
            DryRunError::NotCatalog(m) => ApiError::BadRequest(m),
            DryRunError::Panicked(m) => ApiError::Internal(m),
        }
    }
}

impl From<crate::authorization::AuthorizationError> for ApiError {
    fn from(e: crate::authorization::AuthorizationError) -> Self {
        use crate::authorization::AuthorizationError as E;
        match e {
            E::Db(db) => db.into(),
            E::Setup { source, .. } if matches!(&*source, SetupError::Connector(c) if c.is_retryable()) => {
                ApiError::Unavailable(format!("the platform could not be reached: {source}; try again"))
            }
            E::UnknownPlugin(_) | E::NotSupported(_) | E::WrongKind { .. } | E::BadRequest(_) => {
                ApiError::BadRequest(e.to_string())
            }
            E::NoApp(_) | E::Url { .. } => ApiError::Conflict(e.to_string()),
            E::OtherStore { .. } | E::OtherChannel { .. } => ApiError::Conflict(e.to_string()),
            other => ApiError::Refused { message: other.to_string(), details: serde_json::Value::Null },
        }
    }
}
