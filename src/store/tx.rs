//! Transactions: why one gives up, and the helpers every transaction uses.

use crate::engine::Engine as _;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{LOG_HEAD_KEY, Store};
use crate::chain::{self, GENESIS, Head};
use crate::error::Error;
use crate::record::Event;

/// Why a transaction gave up; turned into an [`Error`] outside it.
#[derive(Debug)]
pub(super) enum Abort {
    VaultChanged,
    VaultExists,
    NameTaken { name: String, holder: String },
    IdTaken,
    HashTaken,
}

pub(super) type TxResult<T> = std::result::Result<T, ConflictableTransactionError<Abort>>;

pub(super) fn abort<T>(why: Abort) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(why))
}

/// Appends an event to the audit log: the one function that writes an event, inside a
/// transaction that also holds `meta`. It reads the log head, sets the event's `prev` to the
/// head's hash, writes the event under a key past the head's and moves the head to it. So an
/// append never scans the log (a transaction cannot iterate a tree), and events appended in one
/// transaction chain to each other in order (a transaction reads its own writes).
pub(super) fn append(
    log: &TransactionalTree,
    meta: &TransactionalTree,
    event: &Event,
) -> TxResult<()> {
    // A head that does not decode is damage `log --check` reports (the event after it will not
    // link); refusing every create and revoke over it would punish the user for it.
    let head = meta.get(LOG_HEAD_KEY)?.and_then(|b| Head::decode(&b));
    // sled's ids only grow, but the chain's order is key order, so never write behind the head.
    let id = log.generate_id()?;
    let key = head.map_or(id, |h| id.max(h.key.saturating_add(1)));
    let mut event = event.clone();
    event.prev = head.map_or_else(|| GENESIS.to_owned(), |h| h.prev());
    let bytes = event.to_bytes();
    let new_head = Head {
        key,
        hash: chain::hash(&bytes),
    };
    log.insert(&key.to_be_bytes(), bytes)?;
    meta.insert(LOG_HEAD_KEY, &new_head.encode()[..])?;
    Ok(())
}

impl Store {
    pub(super) fn tx_error(&self, e: TransactionError<Abort>) -> Error {
        match e {
            TransactionError::Abort(Abort::NameTaken { name, holder }) => {
                let theirs = self.get(&holder).ok().flatten().map(|r| r.name);
                crate::engine::name_taken(&name, &holder, theirs.as_deref())
            }
            TransactionError::Abort(Abort::HashTaken) => crate::engine::hash_taken(),
            TransactionError::Abort(Abort::IdTaken) => Error::internal("token id taken"),
            TransactionError::Abort(Abort::VaultChanged) => crate::engine::vault_changed(),
            TransactionError::Abort(Abort::VaultExists) => crate::engine::vault_exists(),
            TransactionError::Storage(e) => self.sled(e),
        }
    }
}
