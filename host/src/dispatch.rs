//! The dispatcher: above the flows (`catalog`, `orders`, `fulfillment`, `after_sale`), it
//! claims work — jobs, due orders, store webhooks — and hands each flow the loaded
//! [`SyncEngine`](crate::engine::SyncEngine) it needs. No flow imports it back.

pub mod jobs;
pub mod orders;
pub mod store_webhook;

pub use jobs::{QueueSettings, run_due, run_until_idle};
pub use orders::run_due_orders;
