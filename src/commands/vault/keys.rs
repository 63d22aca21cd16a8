//! `vault init` and `vault passwd`: setting the passphrase.

use crate::engine::Tokens as _;
use std::path::Path;

use super::{Kdf, Unlocked, in_store, kdf_params, status_of, unlock};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::passphrase::{self, Purpose};
use crate::prompt;
use crate::record::EventKind;
use crate::store::OpenMode;
use crate::vault::{DEFAULT_KDF, Vault};

/// Creates the vault. The store is created only at the commit, after the passphrase was read,
/// so an init that fails leaves nothing behind.
pub fn init(
    ctx: &Context,
    kdf: Kdf,
    passphrase_file: Option<&Path>,
    p: &mut Printer,
) -> Result<Outcome> {
    let params = kdf_params(kdf, DEFAULT_KDF)?;
    let exists = match ctx.engine(OpenMode::Existing) {
        Ok(store) => store.vault_header()?.is_some(),
        Err(Error::NoStore(_)) => false,
        Err(e) => return Err(e),
    };
    if exists {
        return Err(Error::vault(
            "this store already has a vault: use `vbx-tokens vault passwd` to change its passphrase",
        ));
    }
    let pass = passphrase::read(passphrase_file, Purpose::Choose)?;
    let vault = Vault::create(&pass, params).map_err(in_store)?;
    // `None`: commit only if no vault appeared meanwhile.
    let store = ctx.engine(OpenMode::Create)?;
    if let Err(e) = store.write_vault(None, &vault.header().to_bytes(), &[], EventKind::VaultInit) {
        store.discard_if_new();
        return Err(e);
    }
    drop(store);
    p.vault_ready(&status_of(Some(vault.header()), 0));
    Ok(Outcome::Success)
}

/// A new passphrase (and parameters) for the same vault: the data key is re-wrapped, the kept
/// secrets stay as they are.
pub fn passwd(
    ctx: &Context,
    kdf: Kdf,
    passphrase_file: Option<&Path>,
    new_passphrase_file: Option<&Path>,
    p: &mut Printer,
) -> Result<Outcome> {
    let (Unlocked { header, vault }, kept) =
        unlock(ctx, passphrase_file, |store| Ok(store.kept_all()?.len()))?;
    let params = kdf_params(kdf, vault.header().kdf)?;
    let new_pass = match new_passphrase_file {
        Some(path) => passphrase::from_file(path, Purpose::Choose)?,
        None if prompt::interactive() => passphrase::accept(
            &passphrase::ask("New passphrase", Purpose::Choose)?,
            Purpose::Choose,
            "the prompt",
        )?,
        None => {
            return Err(Error::vault(
                "no new passphrase: give it with --new-passphrase-file PATH, or run in a terminal",
            ));
        }
    };
    let rewrapped = vault.rewrap(&new_pass, params).map_err(in_store)?;
    ctx.engine(OpenMode::Existing)?.write_vault(
        Some(&header),
        &rewrapped.header().to_bytes(),
        &[],
        EventKind::PassphraseChanged,
    )?;
    p.passphrase_changed(&status_of(Some(rewrapped.header()), kept));
    Ok(Outcome::Success)
}
