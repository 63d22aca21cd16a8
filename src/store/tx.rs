//! Transactions: why one gives up, and the helpers every transaction uses.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::Store;
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

/// Appends an event to the audit log inside a transaction.
pub(super) fn append(log: &TransactionalTree, event: &Event) -> TxResult<()> {
    let key = log.generate_id()?;
    log.insert(&key.to_be_bytes(), event.to_bytes())?;
    Ok(())
}

impl Store {
    pub(super) fn tx_error(&self, e: TransactionError<Abort>) -> Error {
        match e {
            TransactionError::Abort(Abort::NameTaken { name, holder }) => {
                let theirs = self.get(&holder).ok().flatten().map(|r| r.name);
                match theirs {
                    Some(theirs) if theirs != name => Error::usage(format!(
                        "an active token ({holder}) is named {theirs:?}, which looks the same as {name:?}: pick another name, or revoke that one first"
                    )),
                    _ => Error::usage(format!(
                        "an active token ({holder}) is already named {name:?}: pick another name, or revoke that one first"
                    )),
                }
            }
            TransactionError::Abort(Abort::HashTaken) => {
                Error::usage("that token is already in the store")
            }
            TransactionError::Abort(Abort::IdTaken) => Error::internal("token id taken"),
            TransactionError::Abort(Abort::VaultChanged) => Error::vault(
                "the vault changed while this command ran (its passphrase or contents): try again",
            ),
            TransactionError::Abort(Abort::VaultExists) => Error::vault(
                "this store already has a vault: use `vbx-tokens vault passwd` to change its passphrase",
            ),
            TransactionError::Storage(e) => self.sled(e),
        }
    }
}
