//! A store or shop account as its platform describes it.

use super::money::Currency;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The platform's id of the shop.
    pub id: String,
    pub name: String,
    /// The currency prices are set in.
    pub currency: Currency,
    /// Market code (`US`, `GB`) when the platform has one.
    pub region: Option<String>,
}
