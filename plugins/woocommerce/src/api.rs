//! One connection's REST client: its site, key pair and units read from the settings, and
//! the calls every flow makes (authenticated, JSON, failures typed by [`mapping`]). It calls
//! the host's `http` and `config` imports, so it is exercised by the end-to-end tests.

use crate::endpoint::{AuthMode, Site};
use crate::mapping::{self, Setting, Units};
use crossdock_plugin_sdk::http::{Method, Request, Response};
use crossdock_plugin_sdk::types::ConnectorError;
use crossdock_plugin_sdk::{Result, config};
use serde_json::Value;

/// The most `per_page` WooCommerce allows.
pub const MAX_PER_PAGE: u32 = 100;

/// One connection's site, key pair and units.
pub struct Api {
    pub site: Site,
    pub units: Units,
}

impl Api {
    pub fn from_config() -> Result<Self> {
        let mode = AuthMode::parse(config::get("auth").as_deref())?;
        let site = Site::new(
            &config::require("base-url")?,
            config::require_secret("consumer-key")?,
            config::require_secret("consumer-secret")?,
            mode,
        )?;
        let grams_per_unit = Units::grams_per(config::get("weight-unit").as_deref())?;
        let unmanaged_stock = match config::get("unmanaged-stock").map(|s| s.trim().to_string()) {
            None => 0,
            Some(s) if s.is_empty() => 0,
            Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ConnectorError::Fatal(format!(
                    "connection setting `unmanaged-stock` must be a whole number, not `{s}`"
                ))
            })?,
        };
        Ok(Api { site, units: Units { grams_per_unit, unmanaged_stock } })
    }

    /// Sends a request with the key pair; only transport failures are errors here.
    pub fn send(&self, request: Request) -> Result<Response> {
        let request = request.header("accept", "application/json");
        let request = match self.site.authorization() {
            Some(value) => request.header("authorization", value),
            None => request,
        };
        request.send()
    }

    /// Sends `method path?params` with an optional JSON body; the response whatever its status.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response> {
        let request = Request::new(method, self.site.url(path, params));
        let request = match body {
            Some(body) => request.json(body)?,
            None => request,
        };
        self.send(request)
    }

    /// GETs `path` and returns the checked JSON and the response (for its headers).
    pub fn get(&self, path: &str, params: &[(&str, String)]) -> Result<(Value, Response)> {
        let response = self.call(Method::Get, path, params, None)?;
        let json = mapping::check_response(response.status, response.retry_after_ms(), &response.body)?;
        Ok((json, response))
    }

    /// POSTs or PUTs a JSON body and returns the checked JSON answer.
    pub fn write(&self, method: Method, path: &str, body: &Value) -> Result<Value> {
        let response = self.call(method, path, &[], Some(body))?;
        mapping::check_response(response.status, response.retry_after_ms(), &response.body)
    }

    /// The store currency, `woocommerce_currency`.
    pub fn currency(&self) -> Result<String> {
        let (json, _) = self.get("/settings/general/woocommerce_currency", &[])?;
        let setting: Setting = mapping::decode(json)?;
        setting.value.as_str().map(|c| c.trim().to_ascii_uppercase()).filter(|c| c.len() == 3).ok_or_else(
            || {
                ConnectorError::Transient(format!(
                    "woocommerce_currency is not a currency code: {}",
                    setting.value
                ))
            },
        )
    }
}
