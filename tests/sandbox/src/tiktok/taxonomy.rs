//! The sandbox's built-in taxonomy (reference §5.1): a small category tree, the attributes each
//! leaf asks for, and the two endpoints that serve them. Leaf `600001` (Home Organizers) asks
//! for nothing; leaf `600002` (Home Decor) requires the product attribute Material (`100198`).

use super::envelope::{ApiError, code};
use serde_json::{Value, json};

/// One node of the built-in category tree (a flat list, roots have parent "0").
#[derive(Debug)]
pub(crate) struct Category {
    pub id: &'static str,
    pub parent_id: &'static str,
    pub name: &'static str,
    pub is_leaf: bool,
}

/// A small tree with leaves at depth 2 and 3; `600001` is the usual default leaf.
pub(crate) const CATEGORIES: &[Category] = &[
    Category { id: "600000", parent_id: "0", name: "Home Supplies", is_leaf: false },
    Category { id: "600001", parent_id: "600000", name: "Home Organizers", is_leaf: true },
    Category { id: "600002", parent_id: "600000", name: "Home Decor", is_leaf: true },
    Category { id: "601000", parent_id: "0", name: "Womenswear & Underwear", is_leaf: false },
    Category { id: "601100", parent_id: "601000", name: "Women's Tops", is_leaf: false },
    Category { id: "601101", parent_id: "601100", name: "T-shirts", is_leaf: true },
    Category { id: "601102", parent_id: "601100", name: "Blouses & Shirts", is_leaf: true },
    Category { id: "602000", parent_id: "0", name: "Beauty & Personal Care", is_leaf: false },
    Category { id: "602001", parent_id: "602000", name: "Skincare", is_leaf: true },
];

pub(crate) fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

/// Sales attributes tell a product's SKUs apart; product attributes describe the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttributeKind {
    Sales,
    Product,
}

/// One built-in value of an attribute.
#[derive(Debug)]
pub(crate) struct AttributeValue {
    pub id: &'static str,
    pub name: &'static str,
}

/// A built-in attribute; ids are short decimal strings like the real ones (`100392`).
#[derive(Debug)]
pub(crate) struct Attribute {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: AttributeKind,
    pub values: &'static [AttributeValue],
    /// Whether a seller may send a value by `name` instead of a built-in `id`.
    pub customizable: bool,
    pub multiple: bool,
}

const fn value(id: &'static str, name: &'static str) -> AttributeValue {
    AttributeValue { id, name }
}

pub(crate) const MATERIAL: Attribute = Attribute {
    id: "100198",
    name: "Material",
    kind: AttributeKind::Product,
    values: &[
        value("1000058", "Cotton"),
        value("1000059", "Polyester"),
        value("1000061", "Wood"),
        value("1000063", "Ceramic"),
        value("1000064", "Glass"),
    ],
    customizable: true,
    multiple: true,
};

const OCCASION: Attribute = Attribute {
    id: "100392",
    name: "Occasion",
    kind: AttributeKind::Product,
    values: &[value("1001533", "Birthday"), value("1001534", "Wedding"), value("1001535", "Christmas")],
    customizable: false,
    multiple: true,
};

const STYLE: Attribute = Attribute {
    id: "100347",
    name: "Style",
    kind: AttributeKind::Product,
    values: &[value("1000710", "Modern"), value("1000711", "Rustic"), value("1000712", "Minimalist")],
    customizable: false,
    multiple: false,
};

const NECKLINE: Attribute = Attribute {
    id: "100156",
    name: "Neckline",
    kind: AttributeKind::Product,
    values: &[value("1000301", "Crew Neck"), value("1000302", "V-Neck")],
    customizable: false,
    multiple: false,
};

const SKIN_TYPE: Attribute = Attribute {
    id: "100485",
    name: "Skin Type",
    kind: AttributeKind::Product,
    values: &[
        value("1002001", "Dry"),
        value("1002002", "Oily"),
        value("1002003", "Combination"),
        value("1002004", "Normal"),
    ],
    customizable: false,
    multiple: true,
};

const COLOR: Attribute = Attribute {
    id: "100000",
    name: "Color",
    kind: AttributeKind::Sales,
    values: &[
        value("1000010", "Black"),
        value("1000011", "White"),
        value("1000012", "Red"),
        value("1000013", "Blue"),
    ],
    customizable: true,
    multiple: false,
};

const SIZE: Attribute = Attribute {
    id: "100007",
    name: "Size",
    kind: AttributeKind::Sales,
    values: &[value("1000020", "S"), value("1000021", "M"), value("1000022", "L"), value("1000023", "XL")],
    customizable: true,
    multiple: false,
};

/// (leaf, attribute, required).
const BINDINGS: &[(&str, &Attribute, bool)] = &[
    ("600001", &MATERIAL, false),
    ("600001", &COLOR, false),
    ("600002", &MATERIAL, true),
    ("600002", &STYLE, false),
    ("600002", &OCCASION, false),
    ("600002", &COLOR, false),
    ("601101", &NECKLINE, false),
    ("601101", &MATERIAL, false),
    ("601101", &COLOR, false),
    ("601101", &SIZE, false),
    ("601102", &MATERIAL, false),
    ("601102", &COLOR, false),
    ("601102", &SIZE, false),
    ("602001", &SKIN_TYPE, false),
];

/// The attributes of a leaf category, with whether each is required.
pub(crate) fn attributes(category_id: &str) -> impl Iterator<Item = (&'static Attribute, bool)> {
    BINDINGS
        .iter()
        .filter(move |(leaf, _, _)| *leaf == category_id)
        .map(|(_, attribute, required)| (*attribute, *required))
}

/// GET /product/{v}/categories: the flat list, optionally filtered by `keyword`.
pub(crate) fn categories(keyword: Option<&str>) -> Value {
    let keyword = keyword.map(str::to_lowercase);
    let categories: Vec<Value> = CATEGORIES
        .iter()
        .filter(|c| keyword.as_ref().is_none_or(|k| c.name.to_lowercase().contains(k)))
        .map(|c| {
            json!({
                "id": c.id,
                "parent_id": c.parent_id,
                "local_name": c.name,
                "is_leaf": c.is_leaf,
                "permission_statuses": ["AVAILABLE"],
            })
        })
        .collect();
    json!({ "categories": categories })
}

/// GET /product/{v}/categories/{id}/attributes. Required-ness comes back as `is_requried`,
/// the real API's spelling; unknown categories get 12052023 and non-leaves 12052024 (codes
/// from the official Get Attributes error list).
pub(crate) fn category_attributes(category_id: &str) -> Result<Value, ApiError> {
    let category = category(category_id).ok_or_else(|| {
        ApiError::new(code::CATEGORY_NOT_FOUND, format!("The category {category_id} does not exist."))
    })?;
    if !category.is_leaf {
        return Err(ApiError::new(
            code::CATEGORY_NOT_FINAL,
            format!("The category {category_id} is not a final (leaf) category."),
        ));
    }
    let attributes: Vec<Value> = attributes(category_id)
        .map(|(attribute, required)| {
            json!({
                "id": attribute.id,
                "name": attribute.name,
                "type": match attribute.kind {
                    AttributeKind::Sales => "SALES_PROPERTY",
                    AttributeKind::Product => "PRODUCT_PROPERTY",
                },
                "is_requried": required,
                "values": attribute.values.iter()
                    .map(|v| json!({ "id": v.id, "name": v.name }))
                    .collect::<Vec<_>>(),
                "is_customizable": attribute.customizable,
                "is_multiple_selection": attribute.multiple,
                "requirement_conditions": [],
            })
        })
        .collect();
    Ok(json!({ "attributes": attributes }))
}
