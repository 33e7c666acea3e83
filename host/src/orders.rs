//! The order flow: every channel's orders come into the store exactly once, and what happens
//! to them afterwards (shipments, cancellations, refunds and returns) crosses both ways.
//!
//! Level-triggered, as the catalog is: webhooks and polling only record what a channel or
//! the store reports and make the order due; a worker then reads the order's state (the
//! channel's latest snapshot, the store order, the channel's settings) and does whatever is
//! still missing. Running it twice does nothing the second time. The worker loop that
//! claims due orders and runs them through this flow, `fulfillment` and `after_sale` is
//! `dispatch::orders`.

pub mod create;
pub mod failure;
pub mod import;
pub mod settings;

pub use settings::OrderSettings;
