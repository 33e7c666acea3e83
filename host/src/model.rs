//! Domain records shared by every flow: ids, money and the catalog as the host sees it.

pub mod ids;
pub mod limits;
pub mod money;
pub mod product;

pub use ids::{AccountId, ChannelId, OrgId, ProductId, StoreId};
pub use money::{Currency, Money, MoneyError};
pub use product::{Image, Product, ProductStatus, Variant};
pub mod account;
pub use account::AccountInfo;
pub mod category;
pub use category::{Attribute, AttributeValue, Category};
pub mod order;
