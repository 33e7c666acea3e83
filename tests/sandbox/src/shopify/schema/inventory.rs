//! Locations, inventory levels and the inventory mutations: `locations`, `location`,
//! `InventoryLevel { quantities(names:) }`, `inventorySetQuantities` and
//! `inventoryAdjustQuantities` with their `InventoryAdjustmentGroup` payloads.

use super::payload::{answer_once, payload_type};
use super::{
    InventoryItem, PageArgs, ProductVariant, connection, find_by_gid, find_variant, page_by_id, snapshot,
};
use crate::shopify::data::{Committed, LocationRecord, PRIMARY_LOCATION_ID, Snapshot, parse_gid};
use crate::shopify::inventory::{
    self as domain, AdjustErrorCode, AdjustmentGroupRecord, InventoryAdjustQuantitiesInput,
    InventorySetQuantitiesInput, QUANTITY_NAMES, QuantityChange, SetErrorCode,
};
use crate::shopify::rest::level_gid;
use crate::shopify::scalars::DateTime;
use crate::shopify::shop::now_seconds;
use crate::shopify::user_error::user_error_type;
use async_graphql::{Context, Error, ErrorExtensions, ID, Object, SimpleObject};
use std::sync::Arc;

/// A place that stocks inventory.
#[derive(Clone)]
pub struct Location(pub LocationRecord);

#[Object]
impl Location {
    async fn id(&self) -> ID {
        ID(self.0.gid())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn is_active(&self) -> bool {
        true
    }
    /// Deprecated on Shopify; the shop's first location.
    async fn is_primary(&self) -> bool {
        self.0.id == PRIMARY_LOCATION_ID
    }
    async fn fulfills_online_orders(&self) -> bool {
        true
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }
    /// Every item's level here.
    async fn inventory_levels(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<InventoryLevelConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let items: Vec<InventoryLevel> = snapshot
            .products
            .iter()
            .flat_map(|p| {
                (0..p.variants.len()).map(move |index| ProductVariant { product: Arc::clone(p), index })
            })
            .map(|variant| InventoryLevel { variant, location: self.0.clone() })
            .collect();
        page_by_id(
            &items,
            |l| l.variant.record().inventory_item_id,
            PageArgs::new(first, after, last, before),
        )
    }
    /// One item's level here.
    async fn inventory_level(
        &self,
        ctx: &Context<'_>,
        inventory_item_id: ID,
    ) -> Result<Option<InventoryLevel>, Error> {
        find_by_gid(ctx, &inventory_item_id, "InventoryItem", |snapshot, id| {
            let variant = find_variant(snapshot, |v| v.inventory_item_id == id);
            variant.map(|variant| InventoryLevel { variant, location: self.0.clone() })
        })
    }
}

/// An item's quantities at one location.
#[derive(Clone)]
pub struct InventoryLevel {
    pub variant: ProductVariant,
    pub location: LocationRecord,
}

/// The levels of one variant, in location order.
pub fn levels_of(snapshot: &Snapshot, variant: &ProductVariant) -> Vec<InventoryLevel> {
    snapshot
        .locations
        .iter()
        .filter(|location| variant.record().level(location.id).is_some())
        .map(|location| InventoryLevel { variant: variant.clone(), location: location.clone() })
        .collect()
}

#[Object]
impl InventoryLevel {
    async fn id(&self) -> ID {
        ID(level_gid(self.variant.record().inventory_item_id, self.location.id))
    }
    /// Quantities by name (`available`, `on_hand`, `committed`, `incoming`, `reserved`,
    /// `damaged`, `safety_stock`, `quality_control`).
    async fn quantities(&self, names: Vec<String>) -> Result<Vec<InventoryQuantity>, Error> {
        let Some(level) = self.variant.record().level(self.location.id) else {
            return Ok(Vec::new());
        };
        names
            .into_iter()
            .map(|name| {
                let Some(quantity) = level.quantity(&name) else {
                    // The wording is ours.
                    let message =
                        format!("{name} is not a quantity name; use one of {}", QUANTITY_NAMES.join(", "));
                    return Err(Error::new(message).extend_with(|_, e| e.set("code", "BAD_REQUEST")));
                };
                Ok(InventoryQuantity {
                    id: ID(format!(
                        "gid://shopify/InventoryQuantity/{}?inventory_item_id={}&name={name}",
                        self.location.id,
                        self.variant.record().inventory_item_id
                    )),
                    name,
                    quantity,
                    updated_at: Some(DateTime(level.updated_at)),
                })
            })
            .collect()
    }
    async fn item(&self) -> InventoryItem {
        InventoryItem { variant: self.variant.clone() }
    }
    async fn location(&self) -> Location {
        Location(self.location.clone())
    }
    async fn can_deactivate(&self) -> bool {
        false
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.variant.product.created_at)
    }
    async fn updated_at(&self) -> DateTime {
        DateTime(self.variant.record().level(self.location.id).map_or(0, |l| l.updated_at))
    }
}

/// One named quantity of a level.
#[derive(SimpleObject, Clone)]
pub struct InventoryQuantity {
    id: ID,
    name: String,
    quantity: i64,
    updated_at: Option<DateTime>,
}

connection!(LocationConnection, LocationEdge, Location);
connection!(InventoryLevelConnection, InventoryLevelEdge, InventoryLevel);

/// `locations` and `location`.
#[derive(Default)]
pub struct LocationQuery;

#[Object]
impl LocationQuery {
    async fn locations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LocationConnection, Error> {
        let snapshot = snapshot(ctx)?;
        let items: Vec<Location> = snapshot.locations.iter().cloned().map(Location).collect();
        page_by_id(&items, |l| l.0.id, PageArgs::new(first, after, last, before))
    }
    /// A location by GID; the primary location without one.
    async fn location(&self, ctx: &Context<'_>, id: Option<ID>) -> Result<Option<Location>, Error> {
        let snapshot = snapshot(ctx)?;
        let wanted = match id {
            Some(id) => parse_gid(&id, "Location"),
            None => Some(PRIMARY_LOCATION_ID),
        };
        Ok(wanted.and_then(|id| snapshot.location(id).cloned()).map(Location))
    }
}

/// `InventoryAdjustmentGroup`: what one mutation changed.
#[derive(Clone)]
pub struct InventoryAdjustmentGroup {
    record: AdjustmentGroupRecord,
    snapshot: Snapshot,
}

#[Object]
impl InventoryAdjustmentGroup {
    async fn id(&self) -> ID {
        ID(self.record.gid())
    }
    async fn created_at(&self) -> DateTime {
        DateTime(self.record.created_at)
    }
    async fn reason(&self) -> &str {
        &self.record.reason
    }
    async fn reference_document_uri(&self) -> Option<&str> {
        self.record.reference_document_uri.as_deref()
    }
    /// The changes, optionally narrowed to items, locations and quantity names.
    async fn changes(
        &self,
        inventory_item_ids: Option<Vec<ID>>,
        location_ids: Option<Vec<ID>>,
        quantity_names: Option<Vec<String>>,
    ) -> Vec<InventoryChange> {
        let items: Option<Vec<u64>> = inventory_item_ids
            .map(|ids| ids.iter().filter_map(|id| parse_gid(id, "InventoryItem")).collect());
        let locations: Option<Vec<u64>> =
            location_ids.map(|ids| ids.iter().filter_map(|id| parse_gid(id, "Location")).collect());
        self.record
            .changes
            .iter()
            .filter(|c| items.as_ref().is_none_or(|i| i.contains(&c.inventory_item_id)))
            .filter(|c| locations.as_ref().is_none_or(|l| l.contains(&c.location_id)))
            .filter(|c| quantity_names.as_ref().is_none_or(|n| n.iter().any(|n| n == c.name)))
            .map(|c| InventoryChange { change: c.clone(), snapshot: Arc::clone(&self.snapshot) })
            .collect()
    }
}

/// One quantity change.
#[derive(Clone)]
pub struct InventoryChange {
    change: QuantityChange,
    snapshot: Snapshot,
}

#[Object]
impl InventoryChange {
    async fn name(&self) -> &str {
        self.change.name
    }
    async fn delta(&self) -> i64 {
        self.change.delta
    }
    async fn quantity_after_change(&self) -> Option<i64> {
        Some(self.change.quantity_after_change)
    }
    async fn ledger_document_uri(&self) -> Option<&str> {
        self.change.ledger_document_uri.as_deref()
    }
    async fn item(&self) -> Option<InventoryItem> {
        let variant = find_variant(&self.snapshot, |v| v.inventory_item_id == self.change.inventory_item_id)?;
        Some(InventoryItem { variant })
    }
    async fn location(&self) -> Option<Location> {
        self.snapshot.location(self.change.location_id).cloned().map(Location)
    }
}

user_error_type!(InventorySetQuantitiesUserError, SetErrorCode);
user_error_type!(InventoryAdjustQuantitiesUserError, AdjustErrorCode);

payload_type!(
    /// `InventorySetQuantitiesPayload`.
    InventorySetQuantitiesPayload { inventory_adjustment_group: InventoryAdjustmentGroup },
    errors: InventorySetQuantitiesUserError,
    mismatch: SetErrorCode = SetErrorCode::IdempotencyKeyParameterMismatch,
);

payload_type!(
    /// `InventoryAdjustQuantitiesPayload`.
    InventoryAdjustQuantitiesPayload { inventory_adjustment_group: InventoryAdjustmentGroup },
    errors: InventoryAdjustQuantitiesUserError,
    mismatch: AdjustErrorCode = AdjustErrorCode::IdempotencyKeyParameterMismatch,
);

/// The adjustment group a mutation committed, as the shop was right after it.
fn committed_group(committed: Committed<Option<AdjustmentGroupRecord>>) -> Option<InventoryAdjustmentGroup> {
    let snapshot = committed.snapshot;
    committed.value.map(|record| InventoryAdjustmentGroup { record, snapshot })
}

/// The inventory mutations.
#[derive(Default)]
pub struct InventoryMutation;

#[Object]
impl InventoryMutation {
    /// Sets quantities to absolute values, compare-and-set per quantity.
    async fn inventory_set_quantities(
        &self,
        ctx: &Context<'_>,
        input: InventorySetQuantitiesInput,
    ) -> Result<InventorySetQuantitiesPayload, Error> {
        answer_once(
            ctx,
            |shop, events| domain::set_quantities(shop, &input, now_seconds(), events),
            |c| InventorySetQuantitiesPayload {
                inventory_adjustment_group: committed_group(c),
                user_errors: Vec::new(),
            },
        )
    }

    /// Adds deltas to quantities.
    async fn inventory_adjust_quantities(
        &self,
        ctx: &Context<'_>,
        input: InventoryAdjustQuantitiesInput,
    ) -> Result<InventoryAdjustQuantitiesPayload, Error> {
        answer_once(
            ctx,
            |shop, events| domain::adjust_quantities(shop, &input, now_seconds(), events),
            |c| InventoryAdjustQuantitiesPayload {
                inventory_adjustment_group: committed_group(c),
                user_errors: Vec::new(),
            },
        )
    }
}
