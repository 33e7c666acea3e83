//! Sandbox platforms over real HTTP on 127.0.0.1: a Shopify store (Admin GraphQL API), a
//! WooCommerce store (REST v3) and
//! TikTok Shop (Open API 202309+). Tests, benchmarks and `crossdock demo` run against them;
//! plugin authors develop against them. Each sandbox follows ../shared/reference/ and says in
//! its code where it had to pick a behaviour the reference marks unconfirmed.

mod authorize_page;
pub mod catalog;
pub mod chaos;
pub mod control;
mod http_post;
pub mod server;
pub mod shopify;
pub mod tiktok;
pub mod woocommerce;
