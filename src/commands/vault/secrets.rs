//! `vault reveal`, `vault forget` and `vault status`: one kept secret, or how many there are.

use crate::engine::Tokens as _;
use std::path::Path;

use super::{Unlocked, in_store, status_of, unlock};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::record::EventKind;
use crate::store::OpenMode;
use crate::token::TokenHash;
use crate::vault::Header;

pub fn reveal(
    ctx: &Context,
    token: &str,
    passphrase_file: Option<&Path>,
    p: &mut Printer,
) -> Result<Outcome> {
    let (Unlocked { vault, .. }, (record, sealed)) = unlock(ctx, passphrase_file, |store| {
        let record = store.resolve(token)?;
        let sealed = store.kept(&record.id)?.ok_or_else(|| {
            Error::vault(format!(
                "{:?} ({}) has no kept secret: only tokens made with `create --keep` do",
                record.name, record.id
            ))
        })?;
        Ok((record, sealed))
    })?;
    let secret = vault.open(&record.id, &sealed).map_err(in_store)?;
    // The secret must be the token its record describes, or it is not shown.
    if TokenHash::of(&secret).to_hex() != record.sha256 {
        return Err(Error::store(format!(
            "the kept secret of {:?} ({}) is not that token (its SHA-256 differs): run `vbx-tokens vault forget {}`",
            record.name, record.id, record.id
        )));
    }
    // Revealing a secret is worth an audit line; it is written before the secret is shown.
    ctx.engine(OpenMode::Existing)?
        .log_event(EventKind::Revealed, Some(&record))?;
    p.revealed(&record, &secret);
    Ok(Outcome::Success)
}

pub fn status(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let (header, kept) = match ctx.engine(OpenMode::Existing) {
        Ok(store) => match store.vault_header()? {
            Some(bytes) => (
                Some(Header::parse(&bytes).map_err(in_store)?),
                store.kept_all()?.len(),
            ),
            None => (None, 0),
        },
        Err(e) => return Err(e),
    };
    p.vault_status(&status_of(header.as_ref(), kept));
    Ok(Outcome::Success)
}

pub fn forget(ctx: &Context, token: &str, p: &mut Printer) -> Result<Outcome> {
    let (record, forgotten) = {
        let store = ctx.engine(OpenMode::Existing)?;
        let record = store.resolve(token)?;
        if store.vault_header()?.is_none() {
            return Err(Error::vault(
                "this store has no vault: run `vbx-tokens vault init` first",
            ));
        }
        let forgotten = store.forget(&record)?;
        (record, forgotten)
    };
    p.forgotten(&record, forgotten);
    Ok(Outcome::Success)
}
