//! Inventory quantities as the mutations change them: `inventorySetQuantities` (absolute, with
//! compare-and-set) and `inventoryAdjustQuantities` (deltas), plus the stock moves orders,
//! fulfillments and refunds make. Every function works on a copy of the shop inside one write
//! (`ShopData::write`), so a refusal leaves nothing changed.
//!
//! Choices where ../shared/reference and the 2026-01 docs are silent: a set or adjust whose
//! every delta is 0 returns no adjustment group (`inventoryAdjustmentGroup: null`); adjusting is
//! limited to `available` and `on_hand` (the sandbox keeps no `incoming`, `reserved`…
//! quantities); the only stock state besides `available` is `committed`.

use super::data::{Event, LevelRecord, ShopState, parse_gid};
use super::rest;
use super::user_error::Refusal;
use async_graphql::{Enum, InputObject, MaybeUndefined};

/// Reasons `inventorySetQuantities` and `inventoryAdjustQuantities` accept (Shopify's list).
pub const REASONS: [&str; 17] = [
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];

/// Quantity names `inventoryItem.inventoryLevel.quantities(names:)` answers.
pub const QUANTITY_NAMES: [&str; 8] = [
    "available",
    "committed",
    "damaged",
    "incoming",
    "on_hand",
    "quality_control",
    "reserved",
    "safety_stock",
];

/// `inventorySetQuantities` refuses a total above this (and below its negative).
const SET_LIMIT: i64 = 1_000_000_000;
/// `inventoryAdjustQuantities` refuses a result above this (and below its negative).
const ADJUST_LIMIT: i64 = 2_000_000_000;
/// Adjustment group ids look like Shopify's.
const ADJUSTMENT_GROUP_ID_BASE: u64 = 30_000_000_000;

/// `InventorySetQuantitiesUserErrorCode` (2026-01).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "InventorySetQuantitiesUserErrorCode")]
pub enum SetErrorCode {
    ChangeFromQuantityStale,
    CompareQuantityRequired,
    CompareQuantityStale,
    IdempotencyConcurrentRequest,
    IdempotencyKeyParameterMismatch,
    InvalidInventoryItem,
    InvalidLocation,
    InvalidName,
    InvalidQuantityNegative,
    InvalidQuantityTooHigh,
    InvalidQuantityTooLow,
    InvalidReason,
    InvalidReferenceDocument,
    ItemNotStockedAtLocation,
    NoDuplicateInventoryItemIdGroupIdPair,
    NonMutableInventoryItem,
}

/// `InventoryAdjustQuantitiesUserErrorCode` (2026-01).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "InventoryAdjustQuantitiesUserErrorCode")]
pub enum AdjustErrorCode {
    AdjustQuantitiesFailed,
    IdempotencyConcurrentRequest,
    IdempotencyKeyParameterMismatch,
    InternalLedgerDocument,
    InvalidAvailableDocument,
    InvalidInventoryItem,
    InvalidLedgerDocument,
    InvalidLocation,
    InvalidQuantityDocument,
    InvalidQuantityName,
    InvalidQuantityTooHigh,
    InvalidQuantityTooLow,
    InvalidReason,
    InvalidReferenceDocument,
    ItemNotStockedAtLocation,
    MaxOneLedgerDocument,
    NonMutableInventoryItem,
}

/// `InventorySetQuantitiesInput`.
#[derive(InputObject, Debug, Clone)]
pub struct InventorySetQuantitiesInput {
    /// `available` or `on_hand`.
    pub name: String,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    /// Skips the `compareQuantity` check (before 2026-04).
    #[graphql(default)]
    pub ignore_compare_quantity: bool,
    pub quantities: Vec<InventoryQuantityInput>,
}

/// `InventoryQuantityInput`.
#[derive(InputObject, Debug, Clone)]
pub struct InventoryQuantityInput {
    pub inventory_item_id: async_graphql::ID,
    pub location_id: async_graphql::ID,
    pub quantity: i32,
    /// The quantity the caller believes is stored (before 2026-04).
    pub compare_quantity: Option<i32>,
    /// The quantity the caller believes is stored; an explicit `null` opts out of the check
    /// (the 2026-04 rule, accepted here already).
    pub change_from_quantity: MaybeUndefined<i32>,
}

/// `InventoryAdjustQuantitiesInput`.
#[derive(InputObject, Debug, Clone)]
pub struct InventoryAdjustQuantitiesInput {
    pub name: String,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    pub changes: Vec<InventoryChangeInput>,
}

/// `InventoryChangeInput`.
#[derive(InputObject, Debug, Clone)]
pub struct InventoryChangeInput {
    pub delta: i32,
    pub inventory_item_id: async_graphql::ID,
    pub location_id: async_graphql::ID,
    /// Required for every name but `available`, refused for `available`.
    pub ledger_document_uri: Option<String>,
}

/// One quantity that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityChange {
    pub name: &'static str,
    pub delta: i64,
    pub quantity_after_change: i64,
    pub inventory_item_id: u64,
    pub location_id: u64,
    pub ledger_document_uri: Option<String>,
}

/// `InventoryAdjustmentGroup`: the changes one mutation made.
#[derive(Debug, Clone)]
pub struct AdjustmentGroupRecord {
    pub id: u64,
    pub created_at: i64,
    pub reason: String,
    pub reference_document_uri: Option<String>,
    pub changes: Vec<QuantityChange>,
}

impl AdjustmentGroupRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/InventoryAdjustmentGroup/{}", self.id)
    }
}

/// The codes both inventory mutations refuse with for the checks they share.
trait SharedCode: Copy {
    const INVALID_REASON: Self;
    const INVALID_INVENTORY_ITEM: Self;
    const INVALID_LOCATION: Self;
    const ITEM_NOT_STOCKED_AT_LOCATION: Self;
}

impl SharedCode for SetErrorCode {
    const INVALID_REASON: Self = SetErrorCode::InvalidReason;
    const INVALID_INVENTORY_ITEM: Self = SetErrorCode::InvalidInventoryItem;
    const INVALID_LOCATION: Self = SetErrorCode::InvalidLocation;
    const ITEM_NOT_STOCKED_AT_LOCATION: Self = SetErrorCode::ItemNotStockedAtLocation;
}

impl SharedCode for AdjustErrorCode {
    const INVALID_REASON: Self = AdjustErrorCode::InvalidReason;
    const INVALID_INVENTORY_ITEM: Self = AdjustErrorCode::InvalidInventoryItem;
    const INVALID_LOCATION: Self = AdjustErrorCode::InvalidLocation;
    const ITEM_NOT_STOCKED_AT_LOCATION: Self = AdjustErrorCode::ItemNotStockedAtLocation;
}

/// The quantity name an input changes, `available` or `on_hand`, after checking it and the
/// reason. An unknown name is refused with `invalid_name` and read as `available`, so the rest
/// of the input is still checked.
fn checked_name<C: SharedCode>(
    name: &str,
    reason: &str,
    invalid_name: (C, &str),
    refusals: &mut Vec<Refusal<C>>,
) -> &'static str {
    let name = match name {
        "available" => "available",
        "on_hand" => "on_hand",
        _ => {
            refusals.push(Refusal::new(invalid_name.0, &["input", "name"], invalid_name.1));
            "available"
        }
    };
    if !REASONS.contains(&reason) {
        refusals.push(Refusal::new(
            C::INVALID_REASON,
            &["input", "reason"],
            "The specified reason is invalid.",
        ));
    }
    name
}

/// One row of an input's list (`input.quantities[i]`, `input.changes[i]`), which refusals name.
struct Row {
    list: &'static str,
    index: String,
}

impl Row {
    fn new(list: &'static str, index: usize) -> Self {
        Row { list, index: index.to_string() }
    }

    fn refuse<C>(&self, code: C, field: &str, message: &str) -> Refusal<C> {
        Refusal::new(code, &["input", self.list, self.index.as_str(), field], message)
    }
}

/// The item (product and variant index), location and level a row names; `None`, with the
/// refusal pushed, for an unknown item or location, or an item not stocked there.
fn find_level<'s, C: SharedCode>(
    shop: &'s ShopState,
    (inventory_item_id, location_id): (&async_graphql::ID, &async_graphql::ID),
    row: &Row,
    refusals: &mut Vec<Refusal<C>>,
) -> Option<((usize, usize), u64, &'s LevelRecord)> {
    let item = parse_gid(inventory_item_id, "InventoryItem").and_then(|id| shop.find_item(id));
    let Some(item) = item else {
        let message = "The specified inventory item could not be found.";
        refusals.push(row.refuse(C::INVALID_INVENTORY_ITEM, "inventoryItemId", message));
        return None;
    };
    let Some(location) = parse_gid(location_id, "Location").filter(|id| shop.location(*id).is_some()) else {
        let message = "The specified location could not be found.";
        refusals.push(row.refuse(C::INVALID_LOCATION, "locationId", message));
        return None;
    };
    let Some(level) = shop.variant(item).level(location) else {
        let message = "The specified inventory item is not stocked at the location.";
        refusals.push(row.refuse(C::ITEM_NOT_STOCKED_AT_LOCATION, "locationId", message));
        return None;
    };
    Some((item, location, level))
}

/// A checked change to one level's `available` (`on_hand` moves with it).
struct Target {
    item: (usize, usize),
    location: u64,
    delta: i64,
    /// Goes with the `on_hand` change.
    ledger_document_uri: Option<String>,
}

/// Applies checked targets and lists both quantities each one moved, the named one first;
/// targets whose delta is 0 change nothing.
fn apply(
    shop: &mut ShopState,
    name: &'static str,
    targets: Vec<Target>,
    now: i64,
    events: &mut Vec<Event>,
) -> Vec<QuantityChange> {
    let mut changes = Vec::new();
    for Target { item, location, delta, ledger_document_uri } in targets {
        if delta == 0 {
            continue;
        }
        // Setting either name moves both: `on_hand = available + committed`.
        let (available, on_hand) = shift(shop, item, location, delta, 0, now, events);
        let item_id = shop.variant(item).inventory_item_id;
        let mut push = |name, after, ledger_document_uri| {
            changes.push(QuantityChange {
                name,
                delta,
                quantity_after_change: after,
                inventory_item_id: item_id,
                location_id: location,
                ledger_document_uri,
            })
        };
        if name == "available" {
            push("available", available, None);
            push("on_hand", on_hand, ledger_document_uri);
        } else {
            push("on_hand", on_hand, ledger_document_uri);
            push("available", available, None);
        }
    }
    changes
}

/// Applies `inventorySetQuantities`; refuses the whole input when any quantity is invalid or
/// stale.
pub fn set_quantities(
    shop: &mut ShopState,
    input: &InventorySetQuantitiesInput,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<Option<AdjustmentGroupRecord>, Vec<Refusal<SetErrorCode>>> {
    use SetErrorCode as Code;
    let mut refusals = Vec::new();
    let invalid_name = (Code::InvalidName, "The quantity name must be either 'available' or 'on_hand'.");
    let name = checked_name(&input.name, &input.reason, invalid_name, &mut refusals);
    let mut targets: Vec<Target> = Vec::new();
    for (i, quantity) in input.quantities.iter().enumerate() {
        let row = Row::new("quantities", i);
        let ids = (&quantity.inventory_item_id, &quantity.location_id);
        let Some((item, location, level)) = find_level(shop, ids, &row, &mut refusals) else {
            continue;
        };
        let wanted = i64::from(quantity.quantity);
        if wanted > SET_LIMIT {
            let message = "The total quantity can't be higher than 1,000,000,000.";
            refusals.push(row.refuse(Code::InvalidQuantityTooHigh, "quantity", message));
        } else if wanted < -SET_LIMIT {
            let message = "The total quantity can't be lower than -1,000,000,000.";
            refusals.push(row.refuse(Code::InvalidQuantityTooLow, "quantity", message));
        } else if wanted < 0 && name == "on_hand" {
            let message = "The quantity can't be negative.";
            refusals.push(row.refuse(Code::InvalidQuantityNegative, "quantity", message));
        }
        if targets.iter().any(|t| t.item == item && t.location == location) {
            let message = "The combination of inventoryItemId and locationId must be unique.";
            refusals.push(row.refuse(Code::NoDuplicateInventoryItemIdGroupIdPair, "locationId", message));
        }
        let current = level.quantity(name).unwrap_or_default();
        match &quantity.change_from_quantity {
            MaybeUndefined::Value(expected) if i64::from(*expected) != current => {
                let message = "The changeFromQuantity argument no longer matches the persisted quantity.";
                refusals.push(row.refuse(Code::ChangeFromQuantityStale, "changeFromQuantity", message));
            }
            MaybeUndefined::Value(_) | MaybeUndefined::Null => {}
            MaybeUndefined::Undefined => match quantity.compare_quantity {
                Some(expected) if i64::from(expected) != current => {
                    let message = "The compareQuantity argument no longer matches the persisted quantity.";
                    refusals.push(row.refuse(Code::CompareQuantityStale, "compareQuantity", message));
                }
                Some(_) => {}
                None if input.ignore_compare_quantity => {}
                None => {
                    let message = "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.";
                    refusals.push(row.refuse(Code::CompareQuantityRequired, "compareQuantity", message));
                }
            },
        }
        targets.push(Target { item, location, delta: wanted - current, ledger_document_uri: None });
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let changes = apply(shop, name, targets, now, events);
    Ok(group(shop, now, &input.reason, input.reference_document_uri.clone(), changes))
}

/// Applies `inventoryAdjustQuantities`; refuses the whole input when any change is invalid.
pub fn adjust_quantities(
    shop: &mut ShopState,
    input: &InventoryAdjustQuantitiesInput,
    now: i64,
    events: &mut Vec<Event>,
) -> Result<Option<AdjustmentGroupRecord>, Vec<Refusal<AdjustErrorCode>>> {
    use AdjustErrorCode as Code;
    let mut refusals = Vec::new();
    let invalid_name = (Code::InvalidQuantityName, "The specified quantity name is invalid.");
    let name = checked_name(&input.name, &input.reason, invalid_name, &mut refusals);
    // Deltas to one level add up, so a later change sees the earlier ones.
    let mut targets: Vec<Target> = Vec::new();
    for (i, change) in input.changes.iter().enumerate() {
        let row = Row::new("changes", i);
        let ids = (&change.inventory_item_id, &change.location_id);
        let Some((item, location, level)) = find_level(shop, ids, &row, &mut refusals) else {
            continue;
        };
        match (name, &change.ledger_document_uri) {
            ("available", Some(_)) => {
                let message = "A ledger document URI is not allowed when adjusting available.";
                refusals.push(row.refuse(Code::InvalidAvailableDocument, "ledgerDocumentUri", message));
            }
            ("on_hand", None) => {
                let message = "A ledger document URI is required except when adjusting available.";
                refusals.push(row.refuse(Code::InvalidQuantityDocument, "ledgerDocumentUri", message));
            }
            _ => {}
        }
        let delta = i64::from(change.delta);
        let earlier: i64 =
            targets.iter().filter(|t| t.item == item && t.location == location).map(|t| t.delta).sum();
        let after = level.quantity(name).unwrap_or_default() + earlier + delta;
        if after > ADJUST_LIMIT {
            let message = "The quantity can't be higher than 2,000,000,000.";
            refusals.push(row.refuse(Code::InvalidQuantityTooHigh, "delta", message));
        } else if after < -ADJUST_LIMIT {
            let message = "The quantity can't be lower than -2,000,000,000.";
            refusals.push(row.refuse(Code::InvalidQuantityTooLow, "delta", message));
        }
        // `available` refuses a ledger document above, so only `on_hand` carries one.
        let ledger_document_uri = change.ledger_document_uri.clone();
        targets.push(Target { item, location, delta, ledger_document_uri });
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let changes = apply(shop, name, targets, now, events);
    Ok(group(shop, now, &input.reason, input.reference_document_uri.clone(), changes))
}

fn group(
    shop: &mut ShopState,
    now: i64,
    reason: &str,
    reference_document_uri: Option<String>,
    changes: Vec<QuantityChange>,
) -> Option<AdjustmentGroupRecord> {
    if changes.is_empty() {
        return None;
    }
    Some(AdjustmentGroupRecord {
        id: ADJUSTMENT_GROUP_ID_BASE + shop.next_record_id(),
        created_at: now,
        reason: reason.to_string(),
        reference_document_uri,
        changes,
    })
}

/// Moves one level by `available` and `committed` units, bumps the variant's and product's
/// `updatedAt`, and queues `inventory_levels/update` when `available` changed. Returns the
/// level's `available` and `on_hand` after the move.
///
/// The caller found `item` and `location` in `shop`, and every item is stocked at every
/// location, so the level exists.
pub fn shift(
    shop: &mut ShopState,
    item: (usize, usize),
    location: u64,
    available: i64,
    committed: i64,
    now: i64,
    events: &mut Vec<Event>,
) -> (i64, i64) {
    let product = std::sync::Arc::make_mut(&mut shop.products[item.0]);
    let stamp = now.max(product.updated_at + 1);
    product.updated_at = stamp;
    let variant = &mut product.variants[item.1];
    variant.updated_at = stamp;
    let level = variant.level_mut(location).expect("every item is stocked at every location of the shop");
    level.available += available;
    level.committed += committed;
    level.updated_at = stamp;
    let after = (level.available, level.on_hand());
    if available != 0 {
        let variant = &product.variants[item.1];
        if let Some(level) = variant.level(location) {
            events.push(Event {
                topic: "inventory_levels/update",
                payload: rest::inventory_level(variant, level),
            });
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::generated_catalog;
    use crate::shopify::data::{PRIMARY_LOCATION_ID, ShopData};

    fn quantity(item: u64, quantity: i32, change_from: MaybeUndefined<i32>) -> InventoryQuantityInput {
        InventoryQuantityInput {
            inventory_item_id: format!("gid://shopify/InventoryItem/{item}").into(),
            location_id: format!("gid://shopify/Location/{PRIMARY_LOCATION_ID}").into(),
            quantity,
            compare_quantity: None,
            change_from_quantity: change_from,
        }
    }

    #[test]
    fn a_stale_quantity_refuses_the_whole_set_and_changes_nothing() {
        let data = ShopData::new(generated_catalog(2, 1, 4));
        let before = data.snapshot();
        let (a, b) = (&before.products[0].variants[0], &before.products[1].variants[0]);
        let input = InventorySetQuantitiesInput {
            name: "available".into(),
            reason: "correction".into(),
            reference_document_uri: None,
            ignore_compare_quantity: false,
            quantities: vec![
                quantity(a.inventory_item_id, 5, MaybeUndefined::Value(a.inventory_quantity() as i32)),
                quantity(b.inventory_item_id, 5, MaybeUndefined::Value(b.inventory_quantity() as i32 + 1)),
            ],
        };
        let refused = data.write(|shop, events| set_quantities(shop, &input, 0, events)).expect_err("stale");
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].code, Some(SetErrorCode::ChangeFromQuantityStale));
        assert_eq!(refused[0].field, ["input", "quantities", "1", "changeFromQuantity"]);
        assert!(Arc::ptr_eq(&before, &data.snapshot()), "nothing was written");
    }

    #[test]
    fn omitting_every_compare_is_refused_before_2026_04_unless_ignored() {
        let data = ShopData::new(generated_catalog(1, 1, 4));
        let item = data.snapshot().products[0].variants[0].inventory_item_id;
        let mut input = InventorySetQuantitiesInput {
            name: "on_hand".into(),
            reason: "correction".into(),
            reference_document_uri: None,
            ignore_compare_quantity: false,
            quantities: vec![quantity(item, 9, MaybeUndefined::Undefined)],
        };
        let refused =
            data.write(|shop, events| set_quantities(shop, &input, 0, events)).expect_err("required");
        assert_eq!(refused[0].code, Some(SetErrorCode::CompareQuantityRequired));
        input.ignore_compare_quantity = true;
        let written = data.write(|shop, events| set_quantities(shop, &input, 0, events)).expect("ignored");
        let group = written.value.expect("a change");
        assert_eq!(group.changes[0].name, "on_hand");
        assert_eq!(group.changes[0].quantity_after_change, 9);
        assert_eq!(written.snapshot.products[0].variants[0].inventory_quantity(), 9);
        assert_eq!(written.events.len(), 1);
    }

    use std::sync::Arc;
}
