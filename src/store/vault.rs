//! The vault's bytes in the store: its header and each token's sealed secret, in the `vault`
//! tree. What the bytes mean is `crate::vault`'s business; this only keeps them, transactionally.

use sled::Transactional;

use super::Store;
use super::tx::{Abort, abort, append};
use crate::engine::Tokens;
use crate::error::Result;
use crate::record::{EventKind, Record};

pub(super) const VAULT_HEADER: &[u8] = b"header";

pub(super) const SECRET_PREFIX: &[u8] = b"secret/";

pub(super) fn secret_key(id: &str) -> Vec<u8> {
    [SECRET_PREFIX, id.as_bytes()].concat()
}

impl Store {
    /// Writes the vault header and kept secrets, with the event, in one transaction, provided
    /// the current header is still `expected`: `None` to install a vault (new, or adopted from
    /// an export) where there is none; the unlocked header to change the passphrase or import.
    pub fn write_vault(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        kind: EventKind,
    ) -> Result<()> {
        let event = self.event(kind, None, None);
        // From here the change is made and reported, whatever signal comes.
        crate::cleanup::commit();
        let result = (&self.vault, &self.log, &self.meta).transaction(|(vault, log, meta)| {
            if vault.get(VAULT_HEADER)?.as_deref() != expected {
                return abort(match expected {
                    None => Abort::VaultExists,
                    Some(_) => Abort::VaultChanged,
                });
            }
            vault.insert(VAULT_HEADER, header)?;
            for (id, sealed) in kept {
                vault.insert(secret_key(id), sealed.as_slice())?;
            }
            append(log, meta, &event)?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        self.make_durable()
    }

    /// Erases one token's kept secret, with a `forgotten` event. False if there was none.
    pub fn forget(&self, record: &Record) -> Result<bool> {
        let event = self.event(EventKind::Forgotten, Some(record), None);
        crate::cleanup::commit();
        let result = (&self.vault, &self.log, &self.meta).transaction(|(vault, log, meta)| {
            if vault.remove(secret_key(&record.id))?.is_none() {
                return Ok(false);
            }
            append(log, meta, &event)?;
            Ok(true)
        });
        let forgotten = result.map_err(|e| self.tx_error(e))?;
        if forgotten {
            self.make_durable()?;
        }
        Ok(forgotten)
    }
}
