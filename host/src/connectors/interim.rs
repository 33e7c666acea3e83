//! Interim: the 0.2.0 channel operations the sync engine calls, until the contract lands.

use super::channel_connector::{ChannelConnector, ReviewStatus};
use super::error::{ConnectorError, ErrorKind};
use crate::model::Money;

/// What a channel holds for a listing, read back (drift checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingSnapshot {
    pub status: ReviewStatus,
    pub skus: Vec<SnapshotSku>,
}

/// One SKU of a listing as the channel holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSku {
    pub sku_id: String,
    pub seller_sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub stock: i64,
}

impl ChannelConnector {
    pub async fn activate_listing(&self, _listing_id: &str) -> Result<(), ConnectorError> {
        Err(ConnectorError::new("interim", "activate-listing", ErrorKind::Fatal("not available yet".into())))
    }
    pub async fn read_listing(&self, _listing_id: &str) -> Result<ListingSnapshot, ConnectorError> {
        Err(ConnectorError::new("interim", "read-listing", ErrorKind::Fatal("not available yet".into())))
    }
}
