//! Bulk operations in the schema: the `bulkOperationRunQuery` and `bulkOperationCancel`
//! mutations, `currentBulkOperation`, and the `BulkOperation` object (also reached through
//! `node(id:)`). A bulk query runs through this same schema, over the snapshot the mutation
//! sees, with connections unbounded (see [`super::unbounded_pages`]); its `data` becomes the
//! JSONL file (see `shopify/bulk/jsonl.rs`).

use super::{ShopSchema, snapshot, unbounded_pages};
use crate::shopify::bulk::{
    BulkErrorCode, BulkOperationState, BulkOperations, BulkStatus, BulkUserErrorCode, jsonl,
};
use crate::shopify::data::parse_gid;
use crate::shopify::scalars::{DateTime, UnsignedInt64, Url};
use crate::shopify::shop::now_seconds;
use crate::shopify::user_error::{Refusal, UserError, user_error_type};
use async_graphql::{Context, Enum, Error, ID, Object, SimpleObject};
use std::sync::Arc;

/// `BulkOperationType`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkOperationType {
    Mutation,
    Query,
}

/// `BulkOperation`: an operation as it was when the request read it.
#[derive(Clone)]
pub struct BulkOperation(pub BulkOperationState);

impl BulkOperation {
    /// The operation with this GID, if it is one of the shop's.
    pub fn find(bulk: &BulkOperations, gid: &str) -> Option<BulkOperation> {
        parse_gid(gid, "BulkOperation").and_then(|number| bulk.find(number)).map(BulkOperation)
    }
}

#[Object]
impl BulkOperation {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn status(&self) -> BulkStatus {
        self.0.status
    }
    async fn error_code(&self) -> Option<BulkErrorCode> {
        self.0.error_code
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    async fn completed_at(&self) -> Option<DateTime> {
        self.0.completed_at.map(DateTime)
    }
    async fn object_count(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.object_count)
    }
    async fn root_object_count(&self) -> UnsignedInt64 {
        UnsignedInt64(self.0.root_object_count)
    }
    async fn file_size(&self) -> Option<UnsignedInt64> {
        self.0.file_size.map(UnsignedInt64)
    }
    async fn url(&self) -> Option<Url> {
        self.0.url.clone().map(Url)
    }
    async fn partial_data_url(&self) -> Option<Url> {
        self.0.partial_data_url.clone().map(Url)
    }
    async fn query(&self) -> &str {
        &self.0.query
    }
    #[graphql(name = "type")]
    async fn operation_type(&self) -> BulkOperationType {
        BulkOperationType::Query
    }
}

user_error_type!(BulkOperationUserError, BulkUserErrorCode);

/// `BulkOperationRunQueryPayload`.
#[derive(SimpleObject)]
pub struct BulkOperationRunQueryPayload {
    bulk_operation: Option<BulkOperation>,
    user_errors: Vec<BulkOperationUserError>,
}

impl BulkOperationRunQueryPayload {
    fn refused(refusal: Refusal<BulkUserErrorCode>) -> Self {
        BulkOperationRunQueryPayload { bulk_operation: None, user_errors: vec![refusal.into()] }
    }
}

/// `BulkOperationCancelPayload`.
#[derive(SimpleObject)]
pub struct BulkOperationCancelPayload {
    bulk_operation: Option<BulkOperation>,
    user_errors: Vec<UserError>,
}

fn operations<'a>(ctx: &Context<'a>) -> Result<&'a Arc<BulkOperations>, Error> {
    ctx.data::<Arc<BulkOperations>>()
}

/// The bulk operation queries.
#[derive(Default)]
pub struct BulkQuery;

#[Object]
impl BulkQuery {
    /// The app's most recent bulk operation of this type; the sandbox runs only queries.
    async fn current_bulk_operation(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", default_with = "BulkOperationType::Query")]
        operation_type: BulkOperationType,
    ) -> Result<Option<BulkOperation>, Error> {
        if operation_type == BulkOperationType::Mutation {
            return Ok(None);
        }
        Ok(operations(ctx)?.latest().map(BulkOperation))
    }
}

/// The bulk operation mutations.
#[derive(Default)]
pub struct BulkMutation;

#[Object]
impl BulkMutation {
    /// Runs `query` over the whole shop and writes the result as JSONL; poll the operation
    /// until it is `COMPLETED`, then download its `url`.
    async fn bulk_operation_run_query(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(default = false)] group_objects: bool,
    ) -> Result<BulkOperationRunQueryPayload, Error> {
        let bulk = operations(ctx)?;
        if let Err(refusal) = bulk.check_room() {
            return Ok(BulkOperationRunQueryPayload::refused(refusal));
        }
        let invalid = |message: String| {
            BulkOperationRunQueryPayload::refused(Refusal::new(
                BulkUserErrorCode::Invalid,
                &["query"],
                message,
            ))
        };
        if let Err(message) = jsonl::check_shape(&query) {
            return Ok(invalid(message));
        }
        let schema = ctx.data::<ShopSchema>()?;
        let request = async_graphql::Request::new(query.clone()).data(snapshot(ctx)?);
        let response = Box::pin(unbounded_pages(schema.execute(request))).await;
        if !response.errors.is_empty() {
            let messages: Vec<_> = response.errors.iter().map(|e| e.message.as_str()).collect();
            return Ok(invalid(format!("Invalid bulk query: {}", messages.join("; "))));
        }
        let file = match jsonl::flatten(response.data, group_objects) {
            Ok(file) => file,
            Err(message) => return Ok(invalid(message)),
        };
        Ok(match bulk.start(query, file, now_seconds()) {
            Ok(state) => {
                tracing::debug!(id = %state.id, "bulk operation created");
                BulkOperationRunQueryPayload {
                    bulk_operation: Some(BulkOperation(state)),
                    user_errors: vec![],
                }
            }
            Err(refusal) => BulkOperationRunQueryPayload::refused(refusal),
        })
    }

    /// Stops a running bulk operation: `CANCELING`, then `CANCELED`.
    async fn bulk_operation_cancel(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<BulkOperationCancelPayload, Error> {
        let bulk = operations(ctx)?;
        let canceled = match parse_gid(&id, "BulkOperation") {
            Some(number) => bulk.cancel(number),
            None => Err("Bulk operation does not exist".to_string()),
        };
        Ok(match canceled {
            Ok(state) => {
                BulkOperationCancelPayload { bulk_operation: Some(BulkOperation(state)), user_errors: vec![] }
            }
            Err(message) => {
                let current = BulkOperation::find(bulk, &id);
                BulkOperationCancelPayload {
                    bulk_operation: current,
                    user_errors: vec![Refusal::uncoded(&["id"], message).into()],
                }
            }
        })
    }
}
