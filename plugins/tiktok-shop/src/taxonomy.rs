//! Between TikTok Shop's category tree and category attributes (reference §5.1) and the
//! contract's `category` and `attribute` records. Pure, so it is tested natively.

use crate::listing::id_of;
use crossdock_plugin_sdk::Result;
use crossdock_plugin_sdk::types::{Attribute, AttributeOption, Category, ConnectorError};
use serde_json::Value;

/// The `parent_id` TikTok gives roots.
const ROOT_PARENT: &str = "0";

/// Get Categories' flat `categories[{id, parent_id, local_name, is_leaf}]`; a root's parent
/// `"0"` becomes none.
pub fn categories(data: &Value) -> Result<Vec<Category>> {
    let list = data["categories"].as_array().ok_or_else(|| unexpected("categories", data))?;
    list.iter()
        .map(|category| {
            let id = id_of(&category["id"]).ok_or_else(|| unexpected("categories[].id", data))?;
            Ok(Category {
                id,
                parent_id: id_of(&category["parent_id"]).filter(|p| p != ROOT_PARENT),
                name: text(category, &["local_name", "name"]),
                is_leaf: category["is_leaf"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

/// Get Attributes' `attributes[{id, name, type, is_requried, values[{id, name}],
/// is_customizable}]`. The real API spells the flag `is_requried`; SDK samples spell it
/// `is_required`, so either counts.
pub fn attributes(data: &Value) -> Result<Vec<Attribute>> {
    let list = data["attributes"].as_array().ok_or_else(|| unexpected("attributes", data))?;
    list.iter()
        .map(|attribute| {
            let id = id_of(&attribute["id"]).ok_or_else(|| unexpected("attributes[].id", data))?;
            let options = attribute["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|value| {
                    Some(AttributeOption { id: id_of(&value["id"])?, name: text(value, &["name"]) })
                })
                .collect();
            Ok(Attribute {
                id,
                name: text(attribute, &["name"]),
                required: attribute["is_requried"] == true || attribute["is_required"] == true,
                options,
                custom_allowed: attribute["is_customizable"] == true,
                is_sales_attribute: attribute["type"] == "SALES_PROPERTY",
            })
        })
        .collect()
}

/// The first of `keys` holding a string, else empty.
fn text(value: &Value, keys: &[&str]) -> String {
    keys.iter().find_map(|key| value[*key].as_str()).unwrap_or_default().to_owned()
}

fn unexpected(field: &str, data: &Value) -> ConnectorError {
    let preview: String = data.to_string().chars().take(300).collect();
    ConnectorError::Fatal(format!("TikTok answer without `{field}`: {preview}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn categories_are_flat_with_roots_parentless() {
        let data = json!({ "categories": [
            { "id": "600000", "parent_id": "0", "local_name": "Home Supplies", "is_leaf": false,
              "permission_statuses": ["AVAILABLE"] },
            { "id": "600001", "parent_id": "600000", "local_name": "Home Organizers", "is_leaf": true },
        ] });
        let list = categories(&data).ok().unwrap_or_default();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].parent_id, None);
        assert!(!list[0].is_leaf);
        assert_eq!(list[1].parent_id.as_deref(), Some("600000"));
        assert_eq!(list[1].name, "Home Organizers");
        assert!(list[1].is_leaf);
        assert!(categories(&json!({})).is_err());
    }

    #[test]
    fn attributes_read_either_spelling_of_required() {
        let data = json!({ "attributes": [
            { "id": "100198", "name": "Material", "type": "PRODUCT_PROPERTY", "is_requried": true,
              "values": [{ "id": "1000058", "name": "Cotton" }], "is_customizable": true,
              "is_multiple_selection": true, "requirement_conditions": [] },
            { "id": "100000", "name": "Color", "type": "SALES_PROPERTY", "is_required": true,
              "values": [] },
            { "id": "100392", "name": "Occasion", "type": "PRODUCT_PROPERTY", "is_requried": false },
        ] });
        let list = attributes(&data).ok().unwrap_or_default();
        assert_eq!(list.len(), 3);
        let material = &list[0];
        assert_eq!((material.id.as_str(), material.name.as_str()), ("100198", "Material"));
        assert!(material.required && material.custom_allowed && !material.is_sales_attribute);
        assert_eq!(material.options.len(), 1);
        assert_eq!(material.options[0].id, "1000058");
        assert_eq!(material.options[0].name, "Cotton");
        assert!(list[1].required && list[1].is_sales_attribute && !list[1].custom_allowed);
        assert!(!list[2].required && list[2].options.is_empty());
    }
}
