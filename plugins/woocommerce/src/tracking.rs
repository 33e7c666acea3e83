//! Shipments as WooCommerce stores them without a core fulfillment API: the order meta
//! `_wc_shipment_tracking_items` of the Shipment Tracking extension, which Advanced Shipment
//! Tracking and most carrier plugins read and write too. Each item is `{tracking_provider,
//! custom_tracking_provider, custom_tracking_link, tracking_number, date_shipped,
//! tracking_id}`; `tracking_provider` is the extension's provider slug (`usps`), a custom
//! carrier goes in `custom_tracking_provider`. Pure functions, tested natively.
//!
//! Crossdock writes custom-provider items (the carrier's name as given, its link) with a
//! `tracking_id` derived from the order and the tracking number, so a retried write finds
//! the same item, and adds `crossdock_lines` (`[[line id, units]]`), which the extension
//! ignores; an item without it covers every line, as the extension means it.

use crate::order_mapping::MetaNode;
use crossdock_plugin_sdk::commerce::Tracking;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The order meta key.
pub const META_KEY: &str = "_wc_shipment_tracking_items";
/// Our addition to an item: the lines it ships.
const LINES_FIELD: &str = "crossdock_lines";

/// The extension's provider slugs merchants use most, with the names carriers go by.
const PROVIDERS: [(&str, &str); 16] = [
    ("usps", "USPS"),
    ("ups", "UPS"),
    ("fedex", "FedEx"),
    ("dhl", "DHL"),
    ("dhl-us", "DHL"),
    ("dhl-express", "DHL Express"),
    ("ontrac", "OnTrac"),
    ("royal-mail", "Royal Mail"),
    ("parcelforce", "Parcelforce"),
    ("dpd", "DPD"),
    ("dpd-uk", "DPD"),
    ("evri", "Evri"),
    ("hermes", "Hermes"),
    ("canada-post", "Canada Post"),
    ("australia-post", "Australia Post"),
    ("new-zealand-post", "New Zealand Post"),
];

/// One tracking item as stored, with its fields read.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item as stored, so rewriting the meta keeps fields we do not know.
    pub raw: Value,
    pub provider: String,
    pub custom_provider: String,
    pub link: String,
    pub number: String,
    /// Unix seconds.
    pub date_shipped: Option<i64>,
    pub tracking_id: String,
    /// `crossdock_lines`, when Crossdock wrote the item.
    pub lines: Option<Vec<(String, u32)>>,
}

impl Item {
    fn read(raw: &Value) -> Option<Item> {
        let object = raw.as_object()?;
        let text = |field: &str| match object.get(field) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let date_shipped = match object.get("date_shipped") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) if !s.trim().is_empty() => {
                s.trim().parse::<i64>().ok().or_else(|| crate::mapping::unix_millis(s).map(|ms| ms / 1000))
            }
            _ => None,
        };
        let lines = object.get(LINES_FIELD).and_then(Value::as_array).map(|lines| {
            lines
                .iter()
                .filter_map(|pair| {
                    let pair = pair.as_array()?;
                    let id = match pair.first()? {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    let units = u32::try_from(pair.get(1)?.as_u64()?).ok()?;
                    Some((id, units))
                })
                .collect()
        });
        Some(Item {
            raw: raw.clone(),
            provider: text("tracking_provider"),
            custom_provider: text("custom_tracking_provider"),
            link: text("custom_tracking_link"),
            number: text("tracking_number"),
            date_shipped,
            tracking_id: text("tracking_id"),
            lines,
        })
    }

    /// The fulfillment id: the item's `tracking_id`, else its tracking number.
    pub fn id(&self) -> String {
        if self.tracking_id.is_empty() {
            format!("tracking:{}", self.number)
        } else {
            self.tracking_id.clone()
        }
    }

    /// The carrier and number, when the item has a number.
    pub fn tracking(&self) -> Option<Tracking> {
        if self.number.is_empty() {
            return None;
        }
        let carrier = if !self.custom_provider.is_empty() {
            self.custom_provider.clone()
        } else if !self.provider.is_empty() {
            provider_name(&self.provider)
        } else {
            "Other".to_string()
        };
        Some(Tracking {
            carrier,
            carrier_id: (!self.provider.is_empty()).then(|| self.provider.clone()),
            tracking_number: self.number.clone(),
            url: (!self.link.is_empty()).then(|| self.link.clone()),
        })
    }

    pub fn shipped_millis(&self) -> Option<i64> {
        self.date_shipped.filter(|s| *s > 0).map(|s| s * 1000)
    }
}

/// The carrier name for a provider slug; an unknown slug (or a name stored as is) is shown as
/// stored.
fn provider_name(provider: &str) -> String {
    let slug = provider.trim().to_ascii_lowercase().replace(' ', "-");
    PROVIDERS
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| provider.to_string())
}

/// The order's tracking items; the meta holds a JSON list, or an object keyed by position
/// when PHP re-indexed it.
pub fn items(meta: &[MetaNode]) -> Vec<Item> {
    let Some(value) = meta.iter().find(|m| m.key == META_KEY).map(|m| &m.value) else {
        return Vec::new();
    };
    let parsed;
    let value = match value {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        other => other,
    };
    match value {
        Value::Array(list) => list.iter().filter_map(Item::read).collect(),
        Value::Object(map) => map.values().filter_map(Item::read).collect(),
        _ => Vec::new(),
    }
}

/// Tracking numbers compare without case and spaces, as carriers print them.
pub fn same_number(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    !a.trim().is_empty() && norm(a) == norm(b)
}

/// What of `lines` (line id, units) no item ships yet; an item without `crossdock_lines`
/// ships everything.
pub fn unshipped(lines: &[(String, u32)], items: &[Item]) -> Vec<(String, u32)> {
    if items.iter().any(|i| i.lines.is_none()) {
        return Vec::new();
    }
    lines
        .iter()
        .filter_map(|(id, units)| {
            let shipped: u32 = items
                .iter()
                .flat_map(|i| i.lines.iter().flatten())
                .filter(|(line, _)| line == id)
                .map(|(_, u)| *u)
                .sum();
            let rest = units.saturating_sub(shipped);
            (rest > 0).then(|| (id.clone(), rest))
        })
        .collect()
}

/// A stable `tracking_id` for a tracking number on an order (32 hex digits, like the
/// extension's md5 ids).
pub fn tracking_id(order: u64, number: &str) -> String {
    let norm: String = number.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let digest = Sha256::digest(format!("crossdock:{order}:{norm}").as_bytes());
    hex::encode(&digest[..16])
}

/// A new item for a shipment Crossdock records.
pub fn new_item(order: u64, tracking: &Tracking, lines: &[(String, u32)], shipped_at_secs: i64) -> Value {
    json!({
        "tracking_provider": "",
        "custom_tracking_provider": tracking.carrier.trim(),
        "custom_tracking_link": tracking.url.as_deref().map(str::trim).unwrap_or_default(),
        "tracking_number": tracking.tracking_number.trim(),
        "date_shipped": shipped_at_secs.to_string(),
        "tracking_id": tracking_id(order, &tracking.tracking_number),
        LINES_FIELD: lines.iter().map(|(id, units)| json!([id, units])).collect::<Vec<_>>(),
    })
}

/// The order's whole `meta_data` to send back with the tracking items replaced (or added).
/// Every entry keeps its id: WooCommerce updates meta by id or key and leaves the rest, and a
/// store that replaces the list keeps everything.
pub fn meta_update(meta: &[MetaNode], items: Vec<Value>) -> Vec<Value> {
    let entry = |m: &MetaNode, value: Value| match m.id {
        Some(id) => json!({"id": id, "key": m.key, "value": value}),
        None => json!({"key": m.key, "value": value}),
    };
    let mut items = Some(Value::Array(items));
    let mut update: Vec<Value> = meta
        .iter()
        .map(|m| {
            let replaced = if m.key == META_KEY { items.take() } else { None };
            entry(m, replaced.unwrap_or_else(|| m.value.clone()))
        })
        .collect();
    if let Some(value) = items {
        update.push(json!({"key": META_KEY, "value": value}));
    }
    update
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(value: Value) -> Vec<MetaNode> {
        vec![
            MetaNode { id: Some(1), key: "_crossdock_source".into(), value: json!("tiktok-shop:1:2") },
            MetaNode { id: Some(2), key: META_KEY.into(), value },
        ]
    }

    fn plugin_item() -> Value {
        json!({"tracking_provider": "usps", "custom_tracking_provider": "", "custom_tracking_link": "",
               "tracking_number": "9400 1000 0000 0000 0000 00", "date_shipped": "1748736000",
               "tracking_id": "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4"})
    }

    #[test]
    fn an_extension_item_reads_as_tracking_over_every_line() {
        let items = items(&meta(json!([plugin_item()])));
        assert_eq!(items.len(), 1);
        let item = &items[0];
        assert_eq!(item.id(), "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4");
        assert_eq!(item.lines, None);
        assert_eq!(item.shipped_millis(), Some(1_748_736_000_000));
        let t = item.tracking().expect("a number");
        assert_eq!((t.carrier.as_str(), t.carrier_id.as_deref()), ("USPS", Some("usps")));
        assert_eq!(t.tracking_number, "9400 1000 0000 0000 0000 00");
        assert_eq!(unshipped(&[("813".into(), 2)], &items), Vec::new());
    }

    #[test]
    fn custom_providers_keep_their_name_and_link() {
        let mut raw = plugin_item();
        raw["tracking_provider"] = json!("");
        raw["custom_tracking_provider"] = json!("Yun Express");
        raw["custom_tracking_link"] = json!("https://track.example.com/YT1");
        raw["date_shipped"] = json!(1_748_736_000);
        let t = items(&meta(json!([raw])))[0].tracking().expect("a number");
        assert_eq!((t.carrier.as_str(), t.carrier_id), ("Yun Express", None));
        assert_eq!(t.url.as_deref(), Some("https://track.example.com/YT1"));
    }

    #[test]
    fn items_stored_as_a_string_or_a_keyed_object_are_read() {
        let as_string = json!(serde_json::to_string(&json!([plugin_item()])).expect("encodes"));
        assert_eq!(items(&meta(as_string)).len(), 1);
        assert_eq!(items(&meta(json!({"0": plugin_item(), "2": plugin_item()}))).len(), 2);
        assert!(items(&meta(json!("not json"))).is_empty());
        assert!(items(&[]).is_empty());
    }

    #[test]
    fn our_items_name_their_lines_and_leave_the_rest_unshipped() {
        let tracking = Tracking {
            carrier: "UPS".into(),
            carrier_id: Some("tiktok-ups".into()),
            tracking_number: "1Z999".into(),
            url: None,
        };
        let item = new_item(812, &tracking, &[("813".into(), 1)], 1_748_736_000);
        assert_eq!(item["custom_tracking_provider"], "UPS");
        assert_eq!(item["tracking_provider"], "");
        assert_eq!(item["date_shipped"], "1748736000");
        assert_eq!(item["tracking_id"], json!(tracking_id(812, "1z 999")), "ids ignore case and spaces");
        assert_eq!(item["crossdock_lines"], json!([["813", 1]]));
        let read = items(&meta(json!([item])));
        assert_eq!(read[0].lines, Some(vec![("813".to_string(), 1)]));
        let rest = unshipped(&[("813".into(), 2), ("814".into(), 1)], &read);
        assert_eq!(rest, vec![("813".to_string(), 1), ("814".to_string(), 1)]);
    }

    #[test]
    fn tracking_ids_differ_per_order_and_number() {
        assert_ne!(tracking_id(812, "1Z999"), tracking_id(813, "1Z999"));
        assert_ne!(tracking_id(812, "1Z999"), tracking_id(812, "1Z998"));
        assert_eq!(tracking_id(812, "1Z999").len(), 32);
    }

    #[test]
    fn numbers_match_without_case_or_spaces() {
        assert!(same_number("1z 999", "1Z999"));
        assert!(!same_number("1Z999", "1Z998"));
        assert!(!same_number(" ", ""));
    }

    #[test]
    fn the_meta_update_replaces_the_items_and_keeps_every_other_entry() {
        let update = meta_update(&meta(json!([plugin_item()])), vec![json!({"tracking_number": "X"})]);
        assert_eq!(update.len(), 2);
        assert_eq!(update[0], json!({"id": 1, "key": "_crossdock_source", "value": "tiktok-shop:1:2"}));
        assert_eq!(update[1], json!({"id": 2, "key": META_KEY, "value": [{"tracking_number": "X"}]}));
        let first = meta_update(&meta(json!(null))[..1], vec![json!({"tracking_number": "X"})]);
        assert_eq!(
            first[1],
            json!({"key": META_KEY, "value": [{"tracking_number": "X"}]}),
            "added when absent"
        );
    }
}
