//! The use counts the witness outside the store holds (`crate::uses`): what every command that
//! shows or carries a record's count raises it to, so a store put back from an older copy never
//! shows, exports or backs up fewer uses than `verify` counts.

use crate::record::Record;

/// The use counts the witness outside the store holds (`crate::uses`), by token id: a store
/// put back from an older copy shows the uses `verify` counts, not the fewer it recorded.
pub(super) struct Witness(std::collections::HashMap<String, u64>);

impl Witness {
    pub(super) fn of(store: &dyn crate::engine::Engine) -> Witness {
        Witness(
            store
                .witness_id()
                .map(|id| vbx_tokens::uses::witness::counts_or_none(&id))
                .unwrap_or_default(),
        )
    }

    /// Whether it holds no count (no limited token of this store was used here): nothing to
    /// raise.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Raises a use-limited record's count to the witness's, as `verify` counts it; whether it
    /// was below.
    pub(super) fn raise(&self, r: &mut Record) -> bool {
        match self.0.get(&r.id) {
            Some(&seen) if r.max_uses.is_some() && seen > r.use_count => {
                r.use_count = seen;
                true
            }
            _ => false,
        }
    }
}
