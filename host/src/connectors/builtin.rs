//! The connectors that ship inside the `crossdock` binary, compiled from `plugins/` by
//! `host/build.rs`. Anything else is installed from a `.wasm` file.

/// The Shopify store connector component.
pub const SHOPIFY: &[u8] = include_bytes!(concat!(env!("CROSSDOCK_PLUGIN_DIR"), "/shopify.wasm"));
/// The WooCommerce store connector component.
pub const WOOCOMMERCE: &[u8] = include_bytes!(concat!(env!("CROSSDOCK_PLUGIN_DIR"), "/woocommerce.wasm"));
/// The TikTok Shop channel connector component.
pub const TIKTOK_SHOP: &[u8] = include_bytes!(concat!(env!("CROSSDOCK_PLUGIN_DIR"), "/tiktok-shop.wasm"));

/// Where the build put every plugin component, test plugins included.
pub const PLUGIN_DIR: &str = env!("CROSSDOCK_PLUGIN_DIR");

/// (id, bytes) of every built-in connector.
pub fn all() -> [(&'static str, &'static [u8]); 3] {
    [("shopify", SHOPIFY), ("woocommerce", WOOCOMMERCE), ("tiktok-shop", TIKTOK_SHOP)]
}
