//! What a channel should hold for one product, derived from state alone: the store product
//! (deleted, archived), the merchant's selection, the channel's rules at their
//! active versions, its exchange rate, stock buffer and share of the stock, its category
//! mapping and templates, and its content setting. Events never decide this; they only say
//! where to look. The fingerprint of the desired state, compared with the one the last push
//! acted on (`listings.target_hash`), tells whether a pair is out of date.

use super::draft::{Draft, DraftOutcome, build_draft};
use crate::db::DbError;
use crate::db::listings::{ListingRow, ListingState};
use crate::db::placement::HandCategory;
use crate::engine::{ChannelRuntime, SyncEngine};
use crate::model::ProductId;
use crate::model::{Product, ProductStatus};
use sha2::{Digest, Sha256};

/// The state one channel should hold for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    /// On sale with this draft.
    Listed(Box<Draft>),
    /// Off the channel: deactivated there when it was listed.
    Withdrawn { state: ListingState, reason: String },
    /// A rule held it for a person: the channel keeps what it has.
    Held(String),
    /// Cannot be worked out until the merchant fixes something (no category, a rule error, a
    /// blocked channel): the channel keeps what it has, the reason says what to fix.
    Blocked(String),
}

/// The inputs of one (product, channel) pair besides the channel's own settings.
#[derive(Debug, Clone, Copy)]
pub struct PairInputs<'a> {
    pub product: &'a Product,
    /// Deleted in the store.
    pub deleted: bool,
    /// The merchant's explicit choice, when there is one.
    pub selected: Option<bool>,
    pub hand_category: Option<&'a HandCategory>,
}

/// Works out what `channel` should hold for the product.
pub fn derive(
    rules_engine: &crate::rules::RuleEngine,
    channel: &ChannelRuntime,
    inputs: PairInputs<'_>,
) -> Desired {
    let Some(rules) = &channel.rules else {
        return Desired::Blocked(channel.blocked.clone().unwrap_or_else(|| "the channel is blocked".into()));
    };
    let withdrawn = |state, reason: &str| Desired::Withdrawn { state, reason: reason.to_string() };
    if inputs.deleted {
        return withdrawn(ListingState::Inactive, "deleted in the store");
    }
    match inputs.product.status {
        ProductStatus::Archived => return withdrawn(ListingState::Inactive, "archived in the store"),
        // A draft is the product rule's call (the default rule skips it).
        ProductStatus::Draft | ProductStatus::Active => {}
    }
    if !inputs.selected.unwrap_or(channel.row.options.auto_select) {
        return withdrawn(ListingState::NotSelected, "not selected for this channel");
    }
    match build_draft(rules_engine, rules, inputs.product, inputs.hand_category.cloned()) {
        Ok(DraftOutcome::List(draft)) => Desired::Listed(draft),
        Ok(DraftOutcome::Skip(reason)) => Desired::Withdrawn { state: ListingState::Skipped, reason },
        Ok(DraftOutcome::Hold(reason)) => Desired::Held(reason),
        Ok(DraftOutcome::Unplaced(reason)) => Desired::Blocked(reason),
        Err(rule_error) => Desired::Blocked(rule_error.to_string()),
    }
}

/// What `channel` should hold for one product now, read from the database; None when the
/// product no longer exists (or is not the channel's organization's).
pub async fn desired_now(
    engine: &SyncEngine,
    channel: &ChannelRuntime,
    product: ProductId,
) -> Result<Option<Desired>, DbError> {
    let db = &engine.app.db;
    // Only the organization's own store's products: a job naming another organization's
    // product (an id from elsewhere) finds nothing to list.
    let Some(stored) = db.products_for(&[product]).await?.pop().filter(|p| p.store_id == engine.store.id)
    else {
        return Ok(None);
    };
    let hand = db.hand_category(product, channel.row.id).await?;
    let inputs = PairInputs {
        product: &stored.product,
        deleted: stored.deleted,
        selected: db.selection(product, channel.row.id).await?,
        hand_category: hand.as_ref(),
    };
    Ok(Some(derive(&engine.app.rules, channel, inputs)))
}

impl Desired {
    /// A short, stable hash of the desired state; equal fingerprints need no work. The
    /// content setting is part of it: turning it on makes content differences count.
    pub fn fingerprint(&self, sync_content: bool) -> String {
        let text = match self {
            Desired::Listed(draft) => {
                format!("listed|{}|{}|{}", draft.content_hash, draft.offer_hash, u8::from(sync_content))
            }
            Desired::Withdrawn { state, reason } => format!("withdrawn|{}|{reason}", state.as_str()),
            Desired::Held(reason) => format!("held|{reason}"),
            Desired::Blocked(reason) => format!("blocked|{reason}"),
        };
        format!("sha256:{}", hex::encode(&Sha256::digest(text.as_bytes())[..16]))
    }
}

/// Whether the pair needs a push: what the last push acted on differs from what the channel
/// should hold now. A pair never pushed is out of date.
pub fn out_of_date(desired: &Desired, listing: Option<&ListingRow>, sync_content: bool) -> bool {
    match listing {
        None => true,
        Some(l) => l.target_hash.as_deref() != Some(desired.fingerprint(sync_content).as_str()),
    }
}
