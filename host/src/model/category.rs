//! Channel categories and the attributes they ask for, as the host keeps and maps them.

use serde::{Deserialize, Serialize};

/// A category in a channel's taxonomy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    /// Only leaves can carry listings on TikTok Shop.
    pub is_leaf: bool,
}

/// An attribute a leaf category asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub id: String,
    pub name: String,
    pub required: bool,
    /// (id, name) of the allowed values; empty when any text is accepted.
    pub options: Vec<(String, String)>,
    pub custom_allowed: bool,
    pub is_sales_attribute: bool,
}

/// A value given for an attribute on a listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttributeValue {
    pub attribute_id: String,
    #[serde(default)]
    pub option_ids: Vec<String>,
    #[serde(default)]
    pub custom_values: Vec<String>,
}

impl AttributeValue {
    pub fn is_empty(&self) -> bool {
        self.option_ids.is_empty() && self.custom_values.iter().all(|v| v.trim().is_empty())
    }
}
