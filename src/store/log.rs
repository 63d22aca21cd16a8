//! Appending an event that changes nothing else, in a transaction of its own.

use sled::Transactional;

use super::Store;
use super::tx::append;
use crate::error::Result;
use crate::record::Event;

impl Store {
    /// Appends one event that changes nothing else: a transaction of its own, since the event
    /// and the log head move together.
    pub(super) fn append_event(&self, event: &Event) -> Result<()> {
        (&self.log, &self.meta)
            .transaction(|(log, meta)| append(log, meta, event))
            .map_err(|e| self.tx_error(e))
    }
}
