//! TikTok keeps one line item per unit (reference §6.3, no `quantity` field): the units of an
//! order grouped by SKU into the contract's lines (id = the unit ids joined with `,`), and line
//! ids expanded back into unit ids when the host names lines to ship or cancel.

use crate::listing::id_of;
use serde_json::Value;
use std::collections::HashSet;

/// The units of one SKU, in the order they came.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// The unit line items.
    pub units: Vec<&'a Value>,
    /// Their ids, in the same order.
    pub unit_ids: Vec<String>,
}

impl Group<'_> {
    /// The contract's `order-line.id`: the unit ids joined with `,`.
    pub fn line_id(&self) -> String {
        self.unit_ids.join(",")
    }

    /// The first unit, which carries what every unit of the SKU shares.
    pub fn first(&self) -> &Value {
        self.units.first().copied().unwrap_or(&Value::Null)
    }
}

/// What units of one SKU share: the SKU id, else the seller SKU, else the unit stands alone.
fn key_of(unit: &Value, unit_id: &str) -> String {
    match (id_of(&unit["sku_id"]), unit["seller_sku"].as_str().filter(|s| !s.is_empty())) {
        (Some(sku_id), _) => format!("sku:{sku_id}"),
        (None, Some(seller_sku)) => format!("seller_sku:{seller_sku}"),
        (None, None) => format!("unit:{unit_id}"),
    }
}

/// `line_items[]` grouped by SKU, groups in the order of their first unit. A unit without an
/// id is an error naming its position.
pub fn group(line_items: &[Value]) -> Result<Vec<Group<'_>>, String> {
    let mut keys: Vec<String> = Vec::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (index, unit) in line_items.iter().enumerate() {
        let unit_id = id_of(&unit["id"]).ok_or_else(|| format!("line_items[{index}] has no id"))?;
        let key = key_of(unit, &unit_id);
        match keys.iter().position(|k| *k == key) {
            Some(at) => {
                groups[at].units.push(unit);
                groups[at].unit_ids.push(unit_id);
            }
            None => {
                keys.push(key);
                groups.push(Group { units: vec![unit], unit_ids: vec![unit_id] });
            }
        }
    }
    Ok(groups)
}

/// The unit ids that `requested` names (line ids `a,b,c` or single unit ids), each once, in
/// the order named. A unit the order does not have is an error naming it.
pub fn expand(requested: &[String], order_units: &[String]) -> Result<Vec<String>, String> {
    let mut seen = HashSet::new();
    let mut units = Vec::new();
    for unit in requested.iter().flat_map(|line| line.split(',')).map(str::trim).filter(|u| !u.is_empty()) {
        if !order_units.iter().any(|u| u == unit) {
            return Err(format!("the order has no line item {unit}"));
        }
        if seen.insert(unit.to_owned()) {
            units.push(unit.to_owned());
        }
    }
    Ok(units)
}

/// The contract's line ids for a subset of the order's units (a package's): a line whose
/// units are all in it by its line id, a line only partly in it by its single unit ids.
pub fn line_ids_of(groups: &[Group<'_>], in_subset: &HashSet<&str>) -> Vec<String> {
    let mut ids = Vec::new();
    for group in groups {
        let inside: Vec<&String> =
            group.unit_ids.iter().filter(|id| in_subset.contains(id.as_str())).collect();
        if inside.is_empty() {
            continue;
        }
        if inside.len() == group.unit_ids.len() {
            ids.push(group.line_id());
        } else {
            ids.extend(inside.into_iter().cloned());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items() -> Vec<Value> {
        vec![
            json!({ "id": "5701", "sku_id": "1729001", "seller_sku": "TEE-S" }),
            json!({ "id": "5702", "sku_id": "1729002", "seller_sku": "TEE-M" }),
            json!({ "id": "5703", "sku_id": "1729001", "seller_sku": "TEE-S" }),
            json!({ "id": "5704", "sku_id": "1729001", "seller_sku": "TEE-S" }),
        ]
    }

    #[test]
    fn units_of_one_sku_make_one_line_in_the_order_they_came() {
        let items = items();
        let groups = group(&items).expect("ids");
        let lines: Vec<(String, usize)> = groups.iter().map(|g| (g.line_id(), g.units.len())).collect();
        assert_eq!(lines, vec![("5701,5703,5704".into(), 3), ("5702".into(), 1)]);
        assert_eq!(groups[1].first()["seller_sku"], "TEE-M");
    }

    #[test]
    fn units_without_a_sku_id_group_by_seller_sku_or_stand_alone() {
        let items = vec![
            json!({ "id": "1", "seller_sku": "A" }),
            json!({ "id": "2", "seller_sku": "A" }),
            json!({ "id": "3" }),
            json!({ "id": "4" }),
        ];
        let ids: Vec<String> = group(&items).expect("ids").iter().map(Group::line_id).collect();
        assert_eq!(ids, vec!["1,2", "3", "4"]);
        assert_eq!(group(&[json!({ "sku_id": "9" })]).err().as_deref(), Some("line_items[0] has no id"));
    }

    #[test]
    fn line_ids_expand_back_into_units_each_once() {
        let order: Vec<String> = ["5701", "5702", "5703", "5704"].map(String::from).to_vec();
        let requested = vec!["5701,5703,5704".to_owned(), "5703".to_owned(), " 5702 ".to_owned()];
        assert_eq!(
            expand(&requested, &order),
            Ok(vec!["5701".into(), "5703".into(), "5704".into(), "5702".into()])
        );
        assert_eq!(expand(&[], &order), Ok(vec![]));
        assert_eq!(expand(&["5701,9999".to_owned()], &order), Err("the order has no line item 9999".into()));
    }

    #[test]
    fn a_subset_names_whole_lines_by_line_id_and_split_lines_by_unit() {
        let items = items();
        let groups = group(&items).expect("ids");
        let all: HashSet<&str> = ["5701", "5702", "5703", "5704"].into();
        assert_eq!(line_ids_of(&groups, &all), vec!["5701,5703,5704", "5702"]);
        let part: HashSet<&str> = ["5703", "5702"].into();
        assert_eq!(line_ids_of(&groups, &part), vec!["5703", "5702"]);
        assert!(line_ids_of(&groups, &HashSet::new()).is_empty());
    }
}
