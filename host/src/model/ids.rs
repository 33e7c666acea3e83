//! Typed row ids, so a channel id can never be passed where a product id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// A merchant organization: one store, any number of channels.
    OrgId
);
row_id!(
    /// The organization's eCommerce store connection.
    StoreId
);
row_id!(
    /// One TikTok Shop (sales channel) connection.
    ChannelId
);
row_id!(
    /// A product as stored locally (not the platform's id).
    ProductId
);
row_id!(
    /// A person who logs in to the admin (or owns API tokens).
    AccountId
);
