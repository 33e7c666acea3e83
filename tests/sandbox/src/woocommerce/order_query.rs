//! What `GET /orders` lists and in which order, from its collection parameters as the v3
//! orders controller reads them: `status` (a comma list; `any`, the default, leaves out the
//! trash), `created_via` (a comma list), `after`/`before` on the creation date and
//! `modified_after`/`modified_before` on the modification date (all exclusive, whole seconds,
//! GMT or with their own offset), `include`, `exclude`, `customer`, `product`, `orderby`
//! (`date`, the default, `id`, `include`, `title`, `slug`, `modified`) and `order` (`desc`, the
//! default, or `asc`). A value outside its schema is refused with `rest_invalid_param`.
//!
//! Choices of ours: `title` and `slug` sort as `date` (an order's post title is its creation
//! date); orders with the same sort key keep id order in the asked direction.

use super::data::parse_wp_date;
use super::order_data::Order;
use super::rest_error::RestError;
use serde_json::Value;
use std::collections::BTreeMap;

/// Every status `status` accepts.
const STATUSES: [&str; 11] = [
    "any",
    "trash",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
    "auto-draft",
];
const ORDERBY: [&str; 6] = ["date", "id", "include", "title", "slug", "modified"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Date,
    Id,
    Include,
    Modified,
}

/// A parsed `GET /orders` request.
#[derive(Debug)]
pub struct OrderQuery {
    /// None: any status but `trash`.
    statuses: Option<Vec<String>>,
    created_via: Vec<String>,
    after: Option<i64>,
    before: Option<i64>,
    modified_after: Option<i64>,
    modified_before: Option<i64>,
    include: Vec<u64>,
    exclude: Vec<u64>,
    customer: Option<u64>,
    product: Option<u64>,
    sort: SortKey,
    descending: bool,
}

/// `wp_parse_list`: comma (or space) separated, empty entries dropped.
fn list(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

fn ids(params: &BTreeMap<String, String>, field: &str) -> Result<Vec<u64>, RestError> {
    list(params.get(field))
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<u64>()
                .map_err(|_| RestError::invalid_param(field, format!("{field}[{i}] is not of type integer.")))
        })
        .collect()
}

fn date(params: &BTreeMap<String, String>, field: &str) -> Result<Option<i64>, RestError> {
    match params.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            parse_wp_date(text).map(Some).ok_or_else(|| RestError::invalid_param(field, "Invalid date."))
        }
    }
}

fn integer(params: &BTreeMap<String, String>, field: &str) -> Result<Option<u64>, RestError> {
    match params.get(field).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| RestError::invalid_param(field, format!("{field} is not of type integer."))),
    }
}

impl OrderQuery {
    pub fn parse(params: &BTreeMap<String, String>) -> Result<Self, RestError> {
        let statuses = list(params.get("status"));
        for (i, status) in statuses.iter().enumerate() {
            if !STATUSES.contains(&status.as_str()) {
                return Err(RestError::invalid_param(
                    "status",
                    format!("status[{i}] is not one of {}.", STATUSES.join(", ")),
                ));
            }
        }
        let statuses = (!statuses.is_empty() && !statuses.iter().any(|s| s == "any")).then_some(statuses);
        let sort = match params.get("orderby").map(String::as_str).unwrap_or("date") {
            "date" | "title" | "slug" => SortKey::Date,
            "id" => SortKey::Id,
            "include" => SortKey::Include,
            "modified" => SortKey::Modified,
            _ => {
                return Err(RestError::invalid_param(
                    "orderby",
                    format!("orderby is not one of {}.", ORDERBY.join(", ")),
                ));
            }
        };
        let descending = match params.get("order").map(String::as_str).unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            _ => return Err(RestError::invalid_param("order", "order is not one of asc, desc.")),
        };
        Ok(OrderQuery {
            statuses,
            created_via: list(params.get("created_via")),
            after: date(params, "after")?,
            before: date(params, "before")?,
            modified_after: date(params, "modified_after")?,
            modified_before: date(params, "modified_before")?,
            include: ids(params, "include")?,
            exclude: ids(params, "exclude")?,
            customer: integer(params, "customer")?,
            product: integer(params, "product")?,
            sort,
            descending,
        })
    }

    fn admits(&self, order: &Order) -> bool {
        let status_ok = match &self.statuses {
            None => order.status != "trash",
            Some(statuses) => statuses.contains(&order.status),
        };
        let customer = order.extra.get("customer_id").and_then(Value::as_u64).unwrap_or(0);
        status_ok
            && (self.created_via.is_empty() || self.created_via.contains(&order.created_via))
            && self.after.is_none_or(|t| order.date_created > t)
            && self.before.is_none_or(|t| order.date_created < t)
            && self.modified_after.is_none_or(|t| order.date_modified > t)
            && self.modified_before.is_none_or(|t| order.date_modified < t)
            && (self.include.is_empty() || self.include.contains(&order.id))
            && !self.exclude.contains(&order.id)
            && self.customer.is_none_or(|c| c == customer)
            && self.product.is_none_or(|p| order.line_items.iter().any(|l| l.product_id == p))
    }

    /// The orders this query lists, in its order.
    pub fn select<'o>(&self, orders: impl Iterator<Item = &'o Order>) -> Vec<&'o Order> {
        let mut selected: Vec<&Order> = orders.filter(|o| self.admits(o)).collect();
        let position = |id: u64| self.include.iter().position(|i| *i == id).unwrap_or(usize::MAX);
        match self.sort {
            SortKey::Date => selected.sort_by_key(|o| (o.date_created, o.id)),
            SortKey::Id => selected.sort_by_key(|o| o.id),
            SortKey::Modified => selected.sort_by_key(|o| (o.date_modified, o.id)),
            // `include` keeps the asked order whatever `order` says.
            SortKey::Include => {
                selected.sort_by_key(|o| (position(o.id), o.id));
                return selected;
            }
        }
        if self.descending {
            selected.reverse();
        }
        selected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn order(id: u64, status: &str, created_via: &str, created: i64, modified: i64) -> Order {
        let mut order = Order::new(id, "USD", created_via, created);
        order.status = status.into();
        order.date_modified = modified;
        order
    }

    fn orders() -> Vec<Order> {
        vec![
            order(101, "processing", "crossdock", 1_000, 5_000),
            order(102, "completed", "checkout", 2_000, 3_000),
            order(103, "cancelled", "crossdock", 3_000, 4_000),
            order(104, "trash", "crossdock", 4_000, 6_000),
        ]
    }

    fn ids(pairs: &[(&str, &str)]) -> Vec<u64> {
        let orders = orders();
        let query = OrderQuery::parse(&params(pairs)).expect("valid");
        query.select(orders.iter()).iter().map(|o| o.id).collect()
    }

    #[test]
    fn the_default_is_newest_first_without_the_trash() {
        assert_eq!(ids(&[]), vec![103, 102, 101]);
        assert_eq!(ids(&[("status", "trash")]), vec![104]);
        assert_eq!(ids(&[("status", "processing,cancelled")]), vec![103, 101]);
    }

    #[test]
    fn modified_after_is_exclusive_and_orderby_modified_ascends_when_asked() {
        let after = "1970-01-01T01:06:40"; // 4_000
        assert_eq!(ids(&[("modified_after", after), ("orderby", "modified"), ("order", "asc")]), vec![101]);
        assert_eq!(ids(&[("orderby", "modified"), ("order", "asc")]), vec![102, 103, 101]);
        assert_eq!(ids(&[("modified_before", "1970-01-01T01:06:40Z")]), vec![102]);
    }

    #[test]
    fn created_via_include_and_exclude_filter() {
        assert_eq!(ids(&[("created_via", "crossdock"), ("orderby", "id"), ("order", "asc")]), vec![101, 103]);
        assert_eq!(ids(&[("created_via", "checkout,crossdock")]), vec![103, 102, 101]);
        assert_eq!(ids(&[("include", "103,101"), ("orderby", "include")]), vec![103, 101]);
        assert_eq!(ids(&[("exclude", "102")]), vec![103, 101]);
    }

    #[test]
    fn values_outside_the_schema_are_refused() {
        for (field, value) in
            [("orderby", "price"), ("order", "up"), ("status", "shipped"), ("modified_after", "soon")]
        {
            let refused = OrderQuery::parse(&params(&[(field, value)])).expect_err(field);
            assert_eq!((refused.code, refused.status.as_u16()), ("rest_invalid_param", 400));
            assert!(refused.params.is_some_and(|p| p.get(field).is_some()), "{field}");
        }
    }
}
