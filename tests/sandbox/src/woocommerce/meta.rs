//! `meta_data` on orders and order items, kept as WooCommerce keeps it: every entry has a meta
//! id, and a request's list is merged, never taken as the whole list. Each entry goes through
//! `WC_Data::update_meta_data(key, value, id)`, as the orders controller sends it:
//!
//! - with an `id` the order has: that entry gets the key and value;
//! - with an `id` it does not have: every entry with the key goes, and one is added
//!   (`add_meta_data(key, value, unique: true)`);
//! - without an `id`: the first entry with the key gets the value and the others with the key
//!   go; with no such entry, one is added;
//! - a `null` (or missing) value deletes, when the entries are saved (`save_meta_data`).
//!
//! Values are stored as WordPress stores meta: arrays and objects as they are, scalars as
//! strings (`5` reads back `"5"`, `true` as `"1"`, `false` as `""`). Entries without a `key` are
//! skipped, as the line-item code skips them.

use serde_json::{Map, Value, json};

/// One meta entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub id: u64,
    pub key: String,
    pub value: Value,
}

impl Meta {
    /// `{id, key, value}`, as order meta reads.
    pub fn json(&self) -> Value {
        json!({"id": self.id, "key": self.key, "value": self.value})
    }

    /// `{id, key, value, display_key, display_value}`, as order item meta reads.
    pub fn item_json(&self) -> Value {
        json!({"id": self.id, "key": self.key, "value": self.value,
               "display_key": self.key, "display_value": self.value})
    }
}

/// A request's meta id, as a number or a numeric string; none for 0 or anything else.
fn meta_id(entry: &Map<String, Value>) -> Option<u64> {
    let id = entry.get("id")?;
    id.as_u64().or_else(|| id.as_str().and_then(|s| s.trim().parse().ok())).filter(|id| *id != 0)
}

/// A value as WordPress reads it back from the meta table.
fn stored(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(true) => Value::String("1".into()),
        Value::Bool(false) => Value::String(String::new()),
        other => other,
    }
}

/// Merges a request's `meta_data` entries into `list`; `next_id` numbers the entries added.
pub fn apply(list: &mut Vec<Meta>, entries: &[Value], mut next_id: impl FnMut() -> u64) {
    // (meta id once saved, key, value); a null value is deleted on save.
    let mut working: Vec<(Option<u64>, String, Value)> =
        list.iter().map(|m| (Some(m.id), m.key.clone(), m.value.clone())).collect();
    for entry in entries {
        let Some(entry) = entry.as_object() else { continue };
        let Some(key) = entry.get("key").and_then(Value::as_str) else { continue };
        let value = entry.get("value").cloned().unwrap_or(Value::Null);
        if let Some(id) = meta_id(entry) {
            if let Some(slot) = working.iter_mut().find(|m| m.0 == Some(id)) {
                slot.1 = key.to_string();
                slot.2 = value;
            } else {
                for slot in working.iter_mut().filter(|m| m.1 == key) {
                    slot.2 = Value::Null;
                }
                working.push((None, key.to_string(), value));
            }
            continue;
        }
        let matches: Vec<usize> =
            working.iter().enumerate().filter(|(_, m)| m.1 == key).map(|(i, _)| i).collect();
        match matches.first() {
            None => working.push((None, key.to_string(), value)),
            Some(first) => {
                for i in &matches {
                    working[*i].2 = Value::Null;
                }
                working[*first].2 = value;
            }
        }
    }
    *list = working
        .into_iter()
        .filter(|(_, _, value)| !value.is_null())
        .map(|(id, key, value)| Meta { id: id.unwrap_or_else(&mut next_id), key, value: stored(value) })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<Meta> {
        vec![
            Meta { id: 1, key: "_crossdock_source".into(), value: json!("tiktok-shop:1:2") },
            Meta { id: 2, key: "note".into(), value: json!("a") },
            Meta { id: 3, key: "note".into(), value: json!("b") },
        ]
    }

    fn merged(entries: Value) -> Vec<Meta> {
        let mut meta = list();
        let mut next = 10;
        apply(&mut meta, entries.as_array().expect("a list"), || {
            next += 1;
            next
        });
        meta
    }

    #[test]
    fn an_entry_with_a_known_id_updates_only_that_entry() {
        let meta = merged(json!([{"id": 3, "key": "note", "value": "c"}]));
        assert_eq!(meta.len(), 3);
        assert_eq!(meta[1].value, "a");
        assert_eq!((meta[2].id, meta[2].value.as_str()), (3, Some("c")));
    }

    #[test]
    fn an_entry_without_an_id_updates_its_key_and_folds_duplicates() {
        let meta = merged(json!([{"key": "note", "value": "z"}]));
        assert_eq!(meta.len(), 2, "the other `note` entry goes: {meta:?}");
        assert_eq!((meta[1].id, meta[1].value.as_str()), (2, Some("z")));
        assert_eq!(meta[0], list()[0], "other keys are left as they are");
    }

    #[test]
    fn new_keys_are_added_with_new_ids_and_other_entries_stay() {
        let meta =
            merged(json!([{"key": "_wc_shipment_tracking_items", "value": [{"tracking_number": "1Z"}]}]));
        assert_eq!(meta.len(), 4);
        assert_eq!(meta[3].id, 11);
        assert_eq!(meta[3].value, json!([{"tracking_number": "1Z"}]), "arrays are kept as sent");
    }

    #[test]
    fn a_null_value_deletes_by_id_or_by_key() {
        assert_eq!(merged(json!([{"id": 2, "key": "note", "value": null}])).len(), 2);
        let by_key = merged(json!([{"key": "note", "value": null}]));
        assert_eq!(by_key.iter().map(|m| m.id).collect::<Vec<_>>(), vec![1], "every `note` goes");
        assert_eq!(merged(json!([{"key": "absent"}])).len(), 3, "nothing to delete, nothing added");
    }

    #[test]
    fn an_unknown_id_replaces_every_entry_with_its_key() {
        let meta = merged(json!([{"id": 99, "key": "note", "value": "only"}]));
        assert_eq!(meta.iter().filter(|m| m.key == "note").count(), 1);
        assert_eq!(meta.last().map(|m| (m.id, m.value.clone())), Some((11, json!("only"))));
    }

    #[test]
    fn scalars_read_back_as_strings_and_keyless_entries_are_skipped() {
        let meta = merged(json!([{"key": "n", "value": 5}, {"key": "t", "value": true},
                                 {"key": "f", "value": false}, {"value": "no key"}]));
        let values: Vec<&Value> = meta[3..].iter().map(|m| &m.value).collect();
        assert_eq!(values, vec![&json!("5"), &json!("1"), &json!("")]);
    }
}
