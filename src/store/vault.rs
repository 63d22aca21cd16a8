//! The vault's bytes in the store: its header and each token's sealed secret, in the `vault`
//! tree. What the bytes mean is `crate::vault`'s business; this only keeps them, transactionally.

use sled::Transactional;

use super::Store;
use super::tx::{Abort, abort, append};
use crate::error::Result;
use crate::record::Event;

pub(super) const VAULT_HEADER: &[u8] = b"header";

pub(super) const SECRET_PREFIX: &[u8] = b"secret/";

pub(super) fn secret_key(id: &str) -> Vec<u8> {
    [SECRET_PREFIX, id.as_bytes()].concat()
}

impl Store {
    /// [`crate::engine::Engine::put_vault`] in sled: one transaction, made durable.
    pub(super) fn put_vault_tx(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        event: &Event,
    ) -> Result<()> {
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
            append(log, meta, event)?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        self.make_durable()
    }

    /// [`crate::engine::Engine::remove_secret`] in sled.
    pub(super) fn remove_secret_tx(&self, id: &str, event: &Event) -> Result<bool> {
        let result = (&self.vault, &self.log, &self.meta).transaction(|(vault, log, meta)| {
            if vault.remove(secret_key(id))?.is_none() {
                return Ok(false);
            }
            append(log, meta, event)?;
            Ok(true)
        });
        let forgotten = result.map_err(|e| self.tx_error(e))?;
        if forgotten {
            self.make_durable()?;
        }
        Ok(forgotten)
    }
}
