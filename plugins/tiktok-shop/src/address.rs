//! An order's `recipient_address` (reference §6.3) as the contract's address: street lines,
//! the city and state from `district_info` (202309 has no city field), none while TikTok
//! hides it (UNPAID, ON_HOLD).

use crossdock_plugin_sdk::types::Address;
use serde_json::Value;

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `district_info[]` as (level, level name, name).
fn districts(recipient: &Value) -> Vec<(String, String, String)> {
    recipient["district_info"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            Some((
                text(&d["address_level"]).unwrap_or_default(),
                text(&d["address_level_name"]).unwrap_or_default(),
                text(&d["address_name"])?,
            ))
        })
        .collect()
}

/// `L3` -> 3.
fn depth(level: &str) -> Option<u32> {
    level.strip_prefix('L').and_then(|n| n.parse().ok())
}

/// The UK's `post_town`, else the level named City, else L3, else the deepest level below
/// the state.
fn city(recipient: &Value, districts: &[(String, String, String)]) -> String {
    text(&recipient["post_town"])
        .or_else(|| {
            districts.iter().find(|(_, kind, _)| kind.eq_ignore_ascii_case("city")).map(|d| d.2.clone())
        })
        .or_else(|| districts.iter().find(|(level, _, _)| level == "L3").map(|d| d.2.clone()))
        .or_else(|| {
            districts
                .iter()
                .filter(|(level, _, _)| depth(level).is_some_and(|n| n > 1))
                .max_by_key(|(level, _, _)| depth(level))
                .map(|d| d.2.clone())
        })
        .unwrap_or_default()
}

/// The shipping address, or none when TikTok shows none.
pub fn shipping_address(recipient: &Value) -> Option<Address> {
    let name = text(&recipient["name"]).or_else(|| {
        let full = format!(
            "{} {}",
            text(&recipient["first_name"]).unwrap_or_default(),
            text(&recipient["last_name"]).unwrap_or_default()
        );
        text(&Value::String(full))
    });
    let line1 = text(&recipient["address_line1"])
        .or_else(|| text(&recipient["address_detail"]))
        .or_else(|| text(&recipient["full_address"]));
    let postal_code = text(&recipient["postal_code"]);
    if name.is_none() && line1.is_none() && postal_code.is_none() {
        return None;
    }
    let rest: Vec<String> = ["address_line2", "address_line3", "address_line4"]
        .iter()
        .filter_map(|k| text(&recipient[*k]))
        .collect();
    let districts = districts(recipient);
    Some(Address {
        name: name.unwrap_or_default(),
        phone: text(&recipient["phone_number"]),
        line1: line1.unwrap_or_default(),
        line2: (!rest.is_empty()).then(|| rest.join(", ")),
        city: city(recipient, &districts),
        region: districts.iter().find(|(level, _, _)| level == "L1").map(|d| d.2.clone()),
        postal_code: postal_code.unwrap_or_default(),
        country_code: text(&recipient["region_code"]).unwrap_or_default().to_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_us_address_takes_city_and_state_from_district_info() {
        let recipient = json!({
            "name": "Jane Doe", "phone_number": "(+1)213-***-1234",
            "address_line1": "2 Main St", "address_line2": "Apt 4", "address_line3": "", "address_line4": "",
            "address_detail": "Apt 4", "postal_code": "90001", "region_code": "US",
            "district_info": [
                { "address_level": "L0", "address_level_name": "Country", "address_name": "United States" },
                { "address_level": "L1", "address_level_name": "State", "address_name": "California" },
                { "address_level": "L2", "address_level_name": "County", "address_name": "Los Angeles" },
                { "address_level": "L3", "address_level_name": "City", "address_name": "Los Angeles" },
            ],
        });
        let address = shipping_address(&recipient).expect("an address");
        assert_eq!(address.name, "Jane Doe");
        assert_eq!(address.phone.as_deref(), Some("(+1)213-***-1234"));
        assert_eq!((address.line1.as_str(), address.line2.as_deref()), ("2 Main St", Some("Apt 4")));
        assert_eq!((address.city.as_str(), address.region.as_deref()), ("Los Angeles", Some("California")));
        assert_eq!((address.postal_code.as_str(), address.country_code.as_str()), ("90001", "US"));
    }

    #[test]
    fn a_uk_address_takes_the_post_town_and_joins_names() {
        let recipient = json!({
            "first_name": "Sam", "last_name": "Smith", "full_address": "1 High St, Leeds",
            "post_town": "Leeds", "postal_code": "LS1 1AA", "region_code": "gb",
            "district_info": [
                { "address_level": "L0", "address_name": "United Kingdom" },
                { "address_level": "L1", "address_name": "England" },
                { "address_level": "L2", "address_name": "West Yorkshire" },
            ],
        });
        let address = shipping_address(&recipient).expect("an address");
        assert_eq!(address.name, "Sam Smith");
        assert_eq!(address.line1, "1 High St, Leeds");
        assert_eq!(address.line2, None);
        assert_eq!((address.city.as_str(), address.country_code.as_str()), ("Leeds", "GB"));
        assert_eq!(address.region.as_deref(), Some("England"));
    }

    #[test]
    fn without_a_named_city_the_deepest_level_below_the_state_is_the_city() {
        let recipient = json!({ "name": "A", "address_line1": "x", "district_info": [
            { "address_level": "L1", "address_name": "State" },
            { "address_level": "L2", "address_name": "Town" },
        ] });
        assert_eq!(shipping_address(&recipient).map(|a| a.city).as_deref(), Some("Town"));
    }

    #[test]
    fn a_hidden_address_is_none() {
        assert!(shipping_address(&json!({})).is_none());
        assert!(shipping_address(&Value::Null).is_none());
        assert!(shipping_address(&json!({ "name": "", "district_info": [] })).is_none());
    }
}
