//! The sandbox shop behind the API: its records and the webhooks their changes send. Every
//! change, from a mutation or a control call, goes through [`Shop::write`], so the records and
//! the webhooks never disagree.

use super::data::{Committed, Event, ShopData, ShopState, Snapshot};
use super::webhooks::Emitter;

/// Records plus webhooks.
pub struct Shop {
    pub data: ShopData,
    pub webhooks: Emitter,
    /// ISO 4217 code of every price.
    pub currency: String,
}

impl Shop {
    /// The records as they are now.
    pub fn snapshot(&self) -> Snapshot {
        self.data.snapshot()
    }

    /// Runs one write (see `ShopData::write`) and, when it took effect, sends its webhooks.
    pub fn write<T, E>(
        &self,
        change: impl FnOnce(&mut ShopState, &mut Vec<Event>) -> Result<T, E>,
    ) -> Result<Committed<T>, E> {
        let committed = self.data.write(change)?;
        for event in &committed.events {
            self.webhooks.emit(event.topic, &event.payload);
        }
        Ok(committed)
    }
}

/// Unix seconds now.
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
