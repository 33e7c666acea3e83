//! A plugin's `[authorization]` manifest section: how a connection is made through the
//! platform's own authorization (an OAuth-style redirect) instead of pasted credentials.
//! The host sends the merchant's browser to `url` (a template over the connection's
//! settings, the host's `state` and `redirect-uri`), and hands the callback's query
//! parameters to the connector as the section says: as secrets (the single-use code, or the
//! whole signed query) or as settings (Shopify's `shop`). The connector exchanges the code
//! itself on its first call and keeps the tokens with `config.set-secret`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The callback parameter that says the platform (or the merchant) refused (RFC 6749
/// §4.1.2.1; TikTok Shop sends `error=auth_denied`).
pub const ERROR_PARAM: &str = "error";
/// The platform's words about the refusal, when it gives any.
pub const ERROR_DESCRIPTION_PARAM: &str = "error_description";
/// The parameter that carries the host's state back.
pub const STATE_PARAM: &str = "state";

/// The `[authorization]` section as the plugin author writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuthorizationSpec {
    /// Where the merchant's browser goes: `{name}` stands for the connection's setting
    /// `name` (the operator's `[apps.<plugin>]` settings and the merchant's inputs included),
    /// `{state}` and `{redirect-uri}` for the host's. Values are percent-encoded after `?`.
    pub url: String,
    /// Settings the merchant gives when starting, with the label a page shows for each
    /// (`shop = "Shop domain (your-store.myshopify.com)"`).
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// Settings the merchant may give when starting, with their labels (TikTok Shop's
    /// `shop-id`, needed only when the seller has several shops).
    #[serde(default)]
    pub optional_inputs: BTreeMap<String, String>,
    /// Values the URL uses when the connection has no such setting, templates themselves
    /// over the other settings (`base-url = "https://{shop}"`). Not stored.
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// Callback parameters handed to the connector as secrets: parameter = secret name
    /// (`code = "auth-code"`). Each must be in the callback.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Callback parameters kept as the connection's settings: parameter = setting name
    /// (`shop = "shop"`). Each must be in the callback.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// A secret that receives the whole callback query as it arrived (`code=…&hmac=…`), for
    /// a connector that checks the platform's signature over it.
    #[serde(default)]
    pub query_secret: Option<String>,
}

/// What a callback gives the new connection.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackValues {
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for CallbackValues {
    /// Secret names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackValues")
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a callback gives no connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the platform refused the authorization ({error}{})", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { error: String, description: Option<String> },
    #[error("the platform's answer lacks `{0}`")]
    Missing(String),
}

impl AuthorizationSpec {
    /// Whether the section makes sense: a URL that carries `{state}`, closed placeholders,
    /// and no name used twice.
    pub fn check(&self) -> Result<(), String> {
        if !self.url.contains("{state}") {
            return Err("authorization.url must carry {state}".into());
        }
        placeholders(&self.url).map_err(|e| format!("authorization.url: {e}"))?;
        for (name, template) in &self.defaults {
            placeholders(template).map_err(|e| format!("authorization.defaults.{name}: {e}"))?;
        }
        let mut secret_names: Vec<&String> = self.secrets.values().chain(&self.query_secret).collect();
        secret_names.sort();
        if secret_names.windows(2).any(|w| w[0] == w[1]) {
            return Err("authorization: a secret name is used twice".into());
        }
        Ok(())
    }

    /// The URL to send the browser to. `settings` are the connection's (the app's and the
    /// merchant's); `state` and `redirect_uri` are the host's.
    pub fn url_for(
        &self,
        settings: &BTreeMap<String, String>,
        state: &str,
        redirect_uri: &str,
    ) -> Result<String, String> {
        let mut values = settings.clone();
        for (name, template) in &self.defaults {
            if !values.contains_key(name) {
                let value = render(template, settings, false)?;
                values.insert(name.clone(), value);
            }
        }
        values.insert("state".into(), state.into());
        values.insert("redirect-uri".into(), redirect_uri.into());
        let url = render(&self.url, &values, true)?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("the authorization URL {url:?} is not an http(s) URL"));
        }
        Ok(url)
    }

    /// Splits the callback's query (`raw`, as it arrived) into the connection's settings and
    /// secrets. A refusal (`error`) or a missing parameter gives no values.
    pub fn values_of(&self, raw: &str) -> Result<CallbackValues, CallbackError> {
        let params = parse_query(raw);
        let param = |name: &str| params.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v);
        if let Some(error) = param(ERROR_PARAM) {
            return Err(CallbackError::Refused {
                error: error.clone(),
                description: param(ERROR_DESCRIPTION_PARAM).cloned(),
            });
        }
        let mut values = CallbackValues::default();
        for (from, to) in &self.secrets {
            let value = param(from).ok_or_else(|| CallbackError::Missing(from.clone()))?;
            values.secrets.insert(to.clone(), value.clone());
        }
        for (from, to) in &self.settings {
            let value = param(from).ok_or_else(|| CallbackError::Missing(from.clone()))?;
            values.settings.insert(to.clone(), value.clone());
        }
        if let Some(name) = &self.query_secret {
            values.secrets.insert(name.clone(), raw.to_string());
        }
        Ok(values)
    }
}

/// The `{name}`s of a template, or why it is malformed.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("a `{{` is never closed in {template:?}"))?;
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(format!("a placeholder is malformed in {template:?}"));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Fills `{name}`s from `values`; after the first `?` (when `query` is set) values are
/// percent-encoded. A name without a value is an error naming it.
fn render(template: &str, values: &BTreeMap<String, String>, query: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("a `{{` is never closed in {template:?}"))?;
        let name = &after[..close];
        let value = values
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("the authorization URL needs the setting `{name}`"))?;
        if query && out.contains('?') {
            out.push_str(&encode(value));
        } else {
            out.push_str(value);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `k=v&…` decoded (`+` as a space), in order; a pair without `=` has an empty value.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiktok() -> AuthorizationSpec {
        toml::from_str(
            r#"
            url = "{authorize-base-url}/open/authorize?service_id={service-id}&state={state}"
            secrets = { code = "auth-code" }
            "#,
        )
        .expect("parses")
    }

    fn shopify() -> AuthorizationSpec {
        toml::from_str(
            r#"
            url = "{base-url}/admin/oauth/authorize?client_id={client-id}&scope={scopes}&redirect_uri={redirect-uri}&state={state}"
            inputs = { shop = "Shop domain" }
            defaults = { base-url = "https://{shop}" }
            settings = { shop = "shop" }
            query-secret = "authorization-query"
            "#,
        )
        .expect("parses")
    }

    #[test]
    fn the_url_is_filled_from_settings_state_and_redirect_uri() {
        let settings = BTreeMap::from([
            ("authorize-base-url".to_string(), "https://services.tiktokshop.com".to_string()),
            ("service-id".to_string(), "7100".to_string()),
        ]);
        let url = tiktok().url_for(&settings, "st/1", "http://h/connect/callback").expect("renders");
        assert_eq!(url, "https://services.tiktokshop.com/open/authorize?service_id=7100&state=st%2F1");
        let missing = tiktok().url_for(&BTreeMap::new(), "s", "r").expect_err("needs settings");
        assert!(missing.contains("`authorize-base-url`"), "{missing}");
    }

    #[test]
    fn defaults_fill_what_the_connection_lacks_and_query_values_are_encoded() {
        let settings = BTreeMap::from([
            ("shop".to_string(), "outfitters.myshopify.com".to_string()),
            ("client-id".to_string(), "cid".to_string()),
            ("scopes".to_string(), "read_products,write_orders".to_string()),
        ]);
        let url = shopify().url_for(&settings, "s", "http://h/connect/callback").expect("renders");
        assert_eq!(
            url,
            "https://outfitters.myshopify.com/admin/oauth/authorize?client_id=cid\
             &scope=read_products%2Cwrite_orders&redirect_uri=http%3A%2F%2Fh%2Fconnect%2Fcallback&state=s"
        );
        let mut sandbox = settings;
        sandbox.insert("base-url".into(), "http://127.0.0.1:9".into());
        let url = shopify().url_for(&sandbox, "s", "r").expect("renders");
        assert!(url.starts_with("http://127.0.0.1:9/admin/oauth/authorize?"), "{url}");
    }

    #[test]
    fn a_callback_gives_secrets_and_settings_or_says_why_not() {
        let values = tiktok().values_of("code=abc%2B1&state=s").expect("values");
        assert_eq!(values.secrets["auth-code"], "abc+1");
        assert!(values.settings.is_empty());
        let raw = "code=c&hmac=h&host=x&shop=o.myshopify.com&state=s&timestamp=1";
        let values = shopify().values_of(raw).expect("values");
        assert_eq!(values.settings["shop"], "o.myshopify.com");
        assert_eq!(values.secrets["authorization-query"], raw);
        assert!(!format!("{values:?}").contains("hmac=h"), "secret values stay out of Debug");

        let denied = tiktok().values_of("code=null&error=auth_denied&state=s").expect_err("refused");
        assert_eq!(denied, CallbackError::Refused { error: "auth_denied".into(), description: None });
        assert_eq!(tiktok().values_of("state=s"), Err(CallbackError::Missing("code".into())));
    }

    #[test]
    fn a_section_without_state_or_with_a_broken_placeholder_is_refused() {
        let mut spec = tiktok();
        spec.url = "https://x/authorize?service_id={service-id}".into();
        assert!(spec.check().is_err_and(|e| e.contains("{state}")));
        spec.url = "https://x/authorize?state={state}&a={open".into();
        assert!(spec.check().is_err_and(|e| e.contains("never closed")));
        assert!(tiktok().check().is_ok() && shopify().check().is_ok());
    }
}
