//! Create and Edit Product request bodies (reference §5.2, §5.4): parsing, validation against
//! the shop's market and the category's attributes, and the product content they become.

use super::envelope::{ApiError, code};
use super::region;
use super::state::{Content, ProductAttribute, SalesAttribute, Shop, Sku, State, Stock};
use super::taxonomy::{self, AttributeKind};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};
use std::str::FromStr;

/// Unknown fields are accepted and ignored, as the real API does for optional features the
/// sandbox does not model (certifications, size charts, dimensions…).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProductBody {
    save_mode: Option<String>,
    title: Option<String>,
    description: Option<String>,
    category_id: Option<String>,
    brand_id: Option<String>,
    main_images: Option<Vec<ImageBody>>,
    package_weight: Option<WeightBody>,
    skus: Option<Vec<SkuBody>>,
    product_attributes: Option<Vec<ProductAttributeBody>>,
    external_product_id: Option<String>,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProductAttributeBody {
    id: Option<String>,
    name: Option<String>,
    values: Option<Vec<AttributeValueBody>>,
}

#[derive(Debug, Deserialize)]
struct AttributeValueBody {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ImageBody {
    uri: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WeightBody {
    value: Option<String>,
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SkuBody {
    id: Option<String>,
    seller_sku: Option<String>,
    price: Option<PriceBody>,
    inventory: Option<Vec<InventoryBody>>,
    sales_attributes: Option<Vec<SalesAttributeBody>>,
    external_sku_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PriceBody {
    pub amount: Option<String>,
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct InventoryBody {
    pub warehouse_id: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct SalesAttributeBody {
    id: Option<String>,
    name: Option<String>,
    value_id: Option<String>,
    value_name: Option<String>,
}

/// `LISTING` submits for review; `AS_DRAFT` saves a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SaveMode {
    Listing,
    Draft,
}

/// A body that passed validation.
#[derive(Debug)]
pub(crate) struct Validated {
    pub content: Content,
    pub save_mode: SaveMode,
}

const MAX_QUANTITY: i64 = 99_999;
const MAX_IMAGES: usize = 9;
const MAX_DESCRIPTION_CHARS: usize = 10_000;
const MAX_SELLER_SKU_CHARS: usize = 50;
const MAX_SALES_ATTRIBUTES: usize = 3;
pub(crate) const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// Decodes a JSON body; an empty body is an empty object.
pub(crate) fn decode<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", e))
}

/// Validates a Create (`existing` none) or Edit (`existing` the product's newest content)
/// body. In an edit, SKUs are matched by `id`; price and inventory may be omitted for an
/// existing SKU and are then kept.
pub(crate) fn validate(
    state: &mut State,
    shop: &Shop,
    body: ProductBody,
    existing: Option<&Content>,
) -> Result<Validated, ApiError> {
    let save_mode = match body.save_mode.as_deref() {
        None | Some("LISTING") => SaveMode::Listing,
        Some("AS_DRAFT") => SaveMode::Draft,
        Some(other) => return Err(ApiError::invalid("save_mode", format!("unknown {other:?}"))),
    };
    if let Some(key) = &body.idempotency_key
        && key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
    {
        return Err(ApiError::invalid("idempotency_key", "at most 128 characters"));
    }

    let title = required(body.title, "title")?;
    let (min, max) = region::title_length(&shop.region);
    let length = title.chars().count();
    if length < min || length > max {
        return Err(ApiError::invalid(
            "title",
            format!("must be {min}-{max} characters in {}, got {length}", shop.region),
        ));
    }

    let description = required(body.description, "description")?;
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid("description", "at most 10000 characters"));
    }

    let category_id = required(body.category_id, "category_id")?;
    let Some(category) = taxonomy::category(&category_id) else {
        return Err(ApiError::new(
            code::CATEGORY_NOT_FOUND,
            format!("The category {category_id} does not exist."),
        ));
    };
    if !category.is_leaf {
        return Err(ApiError::new(
            code::CATEGORY_NOT_LEAF,
            format!("The category {category_id} is not a leaf category."),
        ));
    }

    let product_attributes =
        validate_product_attributes(state, &category_id, body.product_attributes.unwrap_or_default())?;

    let images = body.main_images.unwrap_or_default();
    if images.is_empty() || images.len() > MAX_IMAGES {
        return Err(ApiError::invalid("main_images", "1 to 9 images are required"));
    }
    let main_images = images
        .into_iter()
        .enumerate()
        .map(|(i, image)| required(image.uri, &format!("main_images[{i}].uri")))
        .collect::<Result<Vec<_>, _>>()?;

    let package_weight = validate_weight(shop, body.package_weight)?;

    let sku_bodies = body.skus.unwrap_or_default();
    let cap = region::max_skus(&shop.region);
    if sku_bodies.is_empty() || sku_bodies.len() > cap {
        return Err(ApiError::invalid("skus", format!("1 to {cap} SKUs are required")));
    }
    let mut skus = Vec::with_capacity(sku_bodies.len());
    let mut seller_skus = HashSet::new();
    for (i, sku_body) in sku_bodies.into_iter().enumerate() {
        let sku = validate_sku(state, shop, i, sku_body, existing)?;
        if !seller_skus.insert(sku.seller_sku.clone()) {
            return Err(ApiError::invalid(
                &format!("skus[{i}].seller_sku"),
                format!("{:?} is used by another SKU of this product", sku.seller_sku),
            ));
        }
        skus.push(sku);
    }
    check_sales_attributes(&skus)?;

    Ok(Validated {
        content: Content {
            title,
            description,
            category_id,
            brand_id: body.brand_id.filter(|b| !b.is_empty()),
            main_images,
            package_weight,
            external_product_id: body.external_product_id.filter(|e| !e.is_empty()),
            product_attributes,
            skus,
        },
        save_mode,
    })
}

/// `product_attributes[{id, values[{id | name}]}]` against the leaf's built-in attributes
/// (reference §5.2; codes from the official Create Product error list): ids only, values by
/// built-in id or, where the attribute is customizable, by name (the value then gets an id),
/// one value unless multiple selection is allowed, and every required attribute present.
fn validate_product_attributes(
    state: &mut State,
    category_id: &str,
    bodies: Vec<ProductAttributeBody>,
) -> Result<Vec<ProductAttribute>, ApiError> {
    let mut attributes: Vec<ProductAttribute> = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.into_iter().enumerate() {
        let at = format!("product_attributes[{i}]");
        let Some(id) = body.id.filter(|id| !id.is_empty()) else {
            return Err(match body.name.filter(|n| !n.is_empty()) {
                Some(name) => ApiError::new(
                    code::CUSTOM_PROPERTY,
                    format!("Do not support custom property: {at} names {name:?} without an id."),
                ),
                None => ApiError::new(
                    code::ATTRIBUTE_ID_EMPTY,
                    format!("attribute name or attribute id is empty: {at}."),
                ),
            });
        };
        let Some(attribute) = taxonomy::attributes(category_id)
            .map(|(attribute, _)| attribute)
            .find(|a| a.id == id && a.kind == AttributeKind::Product)
        else {
            return Err(ApiError::invalid(
                &format!("{at}.id"),
                format!("{id} is not a product attribute of category {category_id}"),
            ));
        };
        if attributes.iter().any(|a| a.id == id) {
            return Err(ApiError::new(
                code::DUPLICATE_ATTRIBUTE,
                format!("Duplicate attribute id {id} ({}).", attribute.name),
            ));
        }
        let value_bodies = body.values.unwrap_or_default();
        if value_bodies.is_empty() {
            return Err(ApiError::new(
                code::VALUE_EMPTY,
                format!("The product attribute {} ({id}) has no value.", attribute.name),
            ));
        }
        if value_bodies.len() > 1 && !attribute.multiple {
            return Err(ApiError::new(
                code::MULTIPLE_SELECTION,
                format!(
                    "The product attribute not support multi selected, attribute id is :{id} ({}).",
                    attribute.name
                ),
            ));
        }
        let mut values: Vec<(String, String)> = Vec::with_capacity(value_bodies.len());
        for (j, value) in value_bodies.into_iter().enumerate() {
            let value_id = value.id.filter(|v| !v.is_empty());
            let value_name = value.name.filter(|v| !v.is_empty());
            let pair = match (value_id, value_name) {
                (Some(value_id), _) => {
                    let builtin = attribute
                        .values
                        .iter()
                        .find(|v| v.id == value_id)
                        .ok_or_else(|| {
                            ApiError::new(
                                code::VALUE_NOT_FOUND,
                                format!(
                                    "The property value id not exist: {at}.values[{j}].id {value_id} is not a value of {} ({id}).",
                                    attribute.name
                                ),
                            )
                        })?;
                    (value_id, builtin.name.to_owned())
                }
                (None, Some(name)) if attribute.customizable => (state.value_id(&id, &name), name),
                (None, Some(name)) => {
                    return Err(ApiError::new(
                        code::CUSTOM_VALUE,
                        format!(
                            "Do not support custom product attribute: {} ({id}) takes built-in values only, not {name:?}.",
                            attribute.name
                        ),
                    ));
                }
                (None, None) => {
                    return Err(ApiError::new(
                        code::VALUE_EMPTY,
                        format!(
                            "The product attribute value name or attribute value id is empty: {at}.values[{j}]."
                        ),
                    ));
                }
            };
            if values.iter().any(|(v, _)| *v == pair.0) {
                return Err(ApiError::new(
                    code::DUPLICATE_VALUE,
                    format!("Duplicated attribute values found for {} ({id}).", attribute.name),
                ));
            }
            values.push(pair);
        }
        attributes.push(ProductAttribute { id, name: attribute.name.to_owned(), values });
    }
    for (attribute, required) in taxonomy::attributes(category_id) {
        if required
            && attribute.kind == AttributeKind::Product
            && !attributes.iter().any(|a| a.id == attribute.id)
        {
            return Err(ApiError::new(
                code::PROPERTY_REQUIRED,
                format!(
                    "property is required: the product attribute {} ({}) is required in category {category_id}.",
                    attribute.name, attribute.id
                ),
            ));
        }
    }
    Ok(attributes)
}

fn required(value: Option<String>, field: &str) -> Result<String, ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ApiError::invalid(field, "is required")),
    }
}

fn validate_weight(shop: &Shop, weight: Option<WeightBody>) -> Result<(String, String), ApiError> {
    let weight = weight.ok_or_else(|| ApiError::invalid("package_weight", "is required"))?;
    let value = required(weight.value, "package_weight.value")?;
    match Decimal::from_str(&value) {
        Ok(v) if v > Decimal::ZERO => {}
        _ => {
            return Err(ApiError::invalid("package_weight.value", "must be a positive decimal"));
        }
    }
    let unit = required(weight.unit, "package_weight.unit")?;
    let units = region::weight_units(&shop.region);
    if !units.contains(&unit.as_str()) {
        return Err(ApiError::invalid(
            "package_weight.unit",
            format!("{unit:?} is not accepted in {}; use {}", shop.region, units.join(" or ")),
        ));
    }
    Ok((value, unit))
}

fn validate_sku(
    state: &mut State,
    shop: &Shop,
    i: usize,
    body: SkuBody,
    existing: Option<&Content>,
) -> Result<Sku, ApiError> {
    let field = |name: &str| format!("skus[{i}].{name}");
    let previous = match (&body.id, existing) {
        (None, _) => None,
        (Some(id), Some(content)) => match content.skus.iter().find(|s| &s.id == id) {
            Some(sku) => Some(sku),
            None => {
                return Err(ApiError::invalid(&field("id"), "the SKU does not belong to this product"));
            }
        },
        (Some(_), None) => {
            return Err(ApiError::invalid(&field("id"), "must not be set when creating a product"));
        }
    };

    let seller_sku = required(body.seller_sku, &field("seller_sku"))?;
    if seller_sku.chars().count() > MAX_SELLER_SKU_CHARS || seller_sku.contains(char::is_whitespace) {
        return Err(ApiError::invalid(&field("seller_sku"), "1-50 characters, no spaces"));
    }

    let (price, currency) = match (body.price, previous) {
        (Some(price), _) => validate_price(shop, &field("price"), price)?,
        (None, Some(sku)) => (sku.price, sku.currency.clone()),
        (None, None) => return Err(ApiError::invalid(&field("price"), "is required")),
    };

    let inventory = match (body.inventory, previous) {
        (Some(inventory), _) => validate_inventory(shop, &field("inventory"), inventory)?,
        (None, Some(sku)) => sku.inventory.clone(),
        (None, None) => return Err(ApiError::invalid(&field("inventory"), "is required")),
    };

    let mut sales_attributes = Vec::new();
    for (j, attribute) in body.sales_attributes.unwrap_or_default().into_iter().enumerate() {
        let at = field(&format!("sales_attributes[{j}]"));
        let name = attribute.name.filter(|n| !n.is_empty());
        let id = match (attribute.id.filter(|v| !v.is_empty()), &name) {
            (Some(id), _) => id,
            (None, Some(name)) => state.attribute_id(name),
            (None, None) => return Err(ApiError::invalid(&at, "needs an id or a name")),
        };
        let value_name = attribute.value_name.filter(|v| !v.is_empty());
        let value_id = match (attribute.value_id.filter(|v| !v.is_empty()), &value_name) {
            (Some(value_id), _) => value_id,
            (None, Some(value)) => state.value_id(&id, value),
            (None, None) => return Err(ApiError::invalid(&at, "needs a value_id or a value_name")),
        };
        sales_attributes.push(SalesAttribute {
            id,
            name: name.unwrap_or_default(),
            value_id,
            value_name: value_name.unwrap_or_default(),
        });
    }

    Ok(Sku {
        id: match previous {
            Some(sku) => sku.id.clone(),
            None => state.next_id("17"),
        },
        seller_sku,
        price,
        currency,
        inventory,
        sales_attributes,
        external_sku_id: body.external_sku_id.filter(|e| !e.is_empty()),
    })
}

/// A price in the shop's currency and within the market's range.
pub(crate) fn validate_price(
    shop: &Shop,
    field: &str,
    price: PriceBody,
) -> Result<(Decimal, String), ApiError> {
    let amount = required(price.amount, &format!("{field}.amount"))?;
    let amount = Decimal::from_str(amount.trim())
        .map_err(|_| ApiError::invalid(&format!("{field}.amount"), "must be a decimal string"))?;
    let currency = required(price.currency, &format!("{field}.currency"))?;
    if currency != shop.currency {
        return Err(ApiError::new(
            code::CURRENCY_NOT_AVAILABLE,
            format!("The currency {currency} is not available for this shop (region {}).", shop.region),
        ));
    }
    let (low, high) = region::price_range(&shop.region);
    if amount < low || amount > high {
        return Err(ApiError::invalid(
            &format!("{field}.amount"),
            format!("must be between {low} and {high} {currency}"),
        ));
    }
    Ok((amount, currency))
}

/// Stock in the shop's sales warehouse. Quantity 0 is accepted: the documented range is
/// 1–99 999, but whether 0 (out of stock) is refused is UNCONFIRMED (reference §5.5) and a
/// sync engine must be able to zero a SKU.
fn validate_inventory(
    shop: &Shop,
    field: &str,
    inventory: Vec<InventoryBody>,
) -> Result<Vec<Stock>, ApiError> {
    if inventory.is_empty() {
        return Err(ApiError::invalid(field, "at least one warehouse is required"));
    }
    let mut stock: Vec<Stock> = Vec::with_capacity(inventory.len());
    for (j, entry) in inventory.into_iter().enumerate() {
        let at = format!("{field}[{j}]");
        let warehouse_id = required(entry.warehouse_id, &format!("{at}.warehouse_id"))?;
        if warehouse_id != shop.sales_warehouse_id {
            return Err(ApiError::invalid(
                &format!("{at}.warehouse_id"),
                format!("{warehouse_id} is not a sales warehouse of this shop"),
            ));
        }
        if stock.iter().any(|s| s.warehouse_id == warehouse_id) {
            return Err(ApiError::invalid(&format!("{at}.warehouse_id"), "listed twice"));
        }
        stock.push(Stock { warehouse_id, quantity: quantity(entry.quantity, &at)? });
    }
    Ok(stock)
}

/// A quantity in 0..=99 999 (0 accepted: see [`validate_inventory`]).
pub(crate) fn quantity(value: Option<i64>, at: &str) -> Result<u32, ApiError> {
    match value {
        Some(q @ 0..=MAX_QUANTITY) => Ok(q as u32),
        Some(q) => Err(ApiError::invalid(&format!("{at}.quantity"), format!("{q} is outside 0-99999"))),
        None => Err(ApiError::invalid(&format!("{at}.quantity"), "is required")),
    }
}

/// With more than one SKU every SKU carries the same 1–3 sales attributes and no two SKUs
/// share a combination of values (reference §5.2).
fn check_sales_attributes(skus: &[Sku]) -> Result<(), ApiError> {
    let mut combinations = HashSet::new();
    let mut first_set: Option<BTreeSet<&str>> = None;
    for (i, sku) in skus.iter().enumerate() {
        let field = format!("skus[{i}].sales_attributes");
        if sku.sales_attributes.len() > MAX_SALES_ATTRIBUTES {
            return Err(ApiError::invalid(&field, "at most 3 sales attributes"));
        }
        if skus.len() == 1 {
            continue;
        }
        if sku.sales_attributes.is_empty() {
            return Err(ApiError::invalid(&field, "required when a product has several SKUs"));
        }
        let set: BTreeSet<&str> = sku.sales_attributes.iter().map(|a| a.id.as_str()).collect();
        if set.len() != sku.sales_attributes.len() {
            return Err(ApiError::invalid(&field, "an attribute is repeated"));
        }
        match &first_set {
            None => first_set = Some(set),
            Some(first) if *first != set => {
                return Err(ApiError::invalid(&field, "every SKU must use the same attributes"));
            }
            Some(_) => {}
        }
        let mut values: Vec<(&str, &str)> =
            sku.sales_attributes.iter().map(|a| (a.id.as_str(), a.value_id.as_str())).collect();
        values.sort_unstable();
        if !combinations.insert(values) {
            return Err(ApiError::invalid(&field, "another SKU has the same attribute values"));
        }
    }
    Ok(())
}
