//! `backup`, `restore` and `doctor`: a store whole in one file, back from it, and checked.

use crate::engine::Tokens as _;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use super::files::write_new_file;
use super::{Context, vault};
use crate::backup::{self, Head};
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::passphrase::{self, Purpose};
use crate::prompt;
use crate::record::{EventKind, Record};
use crate::store::{self, OpenMode};
use crate::time::Time;
use crate::vault::{Sealed, Vault};
use vbx_tokens::location::Location;

/// `backup FILE [--passphrase-file PATH]`.
#[derive(Debug, Clone)]
pub struct Backup {
    pub file: PathBuf,
    pub passphrase_file: Option<PathBuf>,
}

/// `restore FILE [--yes] [--force] [--passphrase-file PATH]`.
#[derive(Debug, Clone)]
pub struct Restore {
    pub file: PathBuf,
    pub yes: bool,
    pub force: bool,
    pub passphrase_file: Option<PathBuf>,
}

pub fn backup(ctx: &Context, req: Backup, p: &mut Printer) -> Result<Outcome> {
    if req.file.exists() {
        return Err(Error::usage(format!(
            "{} already exists: remove it or choose another file",
            req.file.display()
        )));
    }
    // The vault is sealed already: it goes in as the store holds it, so a backup (from cron,
    // say) needs no passphrase. Given one, every kept secret is also checked to open, so a
    // damaged one is found now rather than on the day it is needed; that is asked for first,
    // with the store closed.
    let unlocked = match &req.passphrase_file {
        Some(file) if ctx.engine(OpenMode::Existing)?.vault_header()?.is_some() => {
            Some(vault::unlock(ctx, Some(file), |_| Ok(()))?.0)
        }
        // No vault to check it against; still, a file named that cannot be read (a cron job's
        // typo) is said now, not on the day a vault is made and every backup fails.
        Some(file) => {
            passphrase::read(Some(file), Purpose::Unlock)?;
            None
        }
        None => None,
    };
    // Everything from here is read under the store's lock: one consistent state.
    let store = ctx.engine(OpenMode::Existing)?;
    let header = store.vault_header()?;
    if let Some(u) = &unlocked
        && header.as_ref() != Some(&u.header)
    {
        return Err(Error::vault(
            "the vault changed while this command ran: try again",
        ));
    }
    let (records, events, with_vault) = store.contents()?;
    let head = Head {
        format: backup::FORMAT.to_owned(),
        version: backup::VERSION,
        store_id: hex::encode(store.store_id()),
        taken_at: Time::now(),
        taken_by: store.actor().to_owned(),
        records,
        events,
        vault: with_vault,
    };
    let sealed = match header {
        Some(header) => {
            let kept = store.kept_all()?;
            if let Some(u) = &unlocked {
                for (id, secret) in &kept {
                    u.vault.open(id, secret).map_err(vault::in_store)?;
                }
            }
            Some(Sealed::new(header, kept).map_err(vault::in_store)?)
        }
        None => None,
    };
    // A store error met while writing stops the file and is reported as itself.
    let mut store_error = None;
    let written = write_new_file(&req.file, |out| {
        let mut w = backup::Writer::new(out, &head)?;
        // Each record as stored, but one whose count is below what the witness saw (a store
        // put back from an older copy): with the uses verify counts, so a spent token stays
        // spent wherever the backup is restored.
        let witness = super::witness::Witness::of(&*store);
        let records = |f: &mut dyn FnMut(&[u8]) -> Result<()>| {
            store.visit_stored_records(&mut |bytes| {
                if witness.is_empty() {
                    return f(bytes);
                }
                let Ok(mut r) = Record::from_bytes(bytes) else {
                    return f(bytes);
                };
                if witness.raise(&mut r) {
                    f(&r.to_bytes())
                } else {
                    f(bytes)
                }
            })
        };
        feed(records, |b| w.record(b), &mut store_error)?;
        let events = |f: &mut dyn FnMut(&[u8]) -> Result<()>| store.visit_stored_events(f);
        feed(events, |b| w.event(b), &mut store_error)?;
        if let Some(sealed) = &sealed {
            w.vault(sealed)?;
        }
        w.finish().map(drop)
    });
    if let Some(e) = store_error {
        return Err(e);
    }
    written?;
    let file = absolute(&req.file);
    store.log_detail(EventKind::BackedUp, &crate::paths::path_text(&file))?;
    store.note_backup(&file, head.taken_at)?;
    drop(store);
    p.backed_up(&file, &head);
    Ok(Outcome::Success)
}

/// Runs `each` (a walk over the store) with `write` for every item: a write error comes back
/// as itself, a store error is kept in `store_error` (and the walk stopped).
fn feed(
    each: impl FnOnce(&mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>,
    mut write: impl FnMut(&[u8]) -> io::Result<()>,
    store_error: &mut Option<Error>,
) -> io::Result<()> {
    let mut write_error = None;
    let walked = each(&mut |bytes| {
        write(bytes).map_err(|e| {
            write_error = Some(e);
            Error::internal("the backup stopped")
        })
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    walked.map_err(|e| {
        *store_error = Some(e);
        io::Error::other("the store could not be read")
    })
}

/// The path as the store should remember it: absolute, so `doctor` can name it from anywhere.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

pub fn restore(ctx: &Context, req: Restore, p: &mut Printer) -> Result<Outcome> {
    let unreadable = |e: io::Error| Error::unreadable("", &req.file, &e);
    let f = match super::files::open_input(&req.file) {
        Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
            return Err(Error::usage(format!(
                "{} is a directory, not a backup",
                req.file.display()
            )));
        }
        other => other.map_err(unreadable)?,
    };
    let backup = backup::read(BufReader::new(f)).map_err(|e| {
        Error::usage(format!(
            "{} is not a backup that can be restored: {e}; nothing was changed",
            req.file.display()
        ))
    })?;
    if !req.yes && !prompt::interactive() {
        return Err(Error::usage(
            "restoring replaces the store: pass --yes to confirm when not in a terminal",
        ));
    }
    // The vault comes back sealed, as it was: its layout and header were checked as the file
    // was read, and each secret is sealed to its vault and token, so the passphrase is needed
    // only to reveal. Given one, it must unlock the vault and open every kept secret; it is read
    // even when the backup holds no vault, since a file named that cannot be read is bad input.
    if let Some(file) = &req.passphrase_file {
        let pass = passphrase::read(Some(file), Purpose::Unlock)?;
        if let Some(sealed) = &backup.vault {
            let in_backup = |e| vault::in_file(&req.file, e);
            let unlocked = Vault::unlock(sealed.header(), &pass).map_err(in_backup)?;
            for (id, secret) in sealed.secrets() {
                unlocked.open_bytes(id, secret).map_err(in_backup)?;
            }
        }
    }
    if !req.yes {
        let question = format!(
            "Restore {} token(s) and {} event(s) from {} into {}?",
            backup.records.len(),
            backup.events.len(),
            req.file.display(),
            ctx.location.shown()
        );
        if !prompt::confirm(&question)? {
            return Err(Error::usage("not restored: you said no"));
        }
    }
    let restored = match &ctx.location {
        Location::Dir(dir) => store::restore(dir, &backup, &req.file, req.force, ctx.wait)?,
        Location::Postgres(target) => {
            vbx_tokens::pg::restore::restore(target, &backup, &req.file, req.force)?
        }
    };
    p.restored(&restored, &req.file);
    Ok(Outcome::Success)
}

pub fn doctor(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let diagnosed = match &ctx.location {
        Location::Dir(dir) => store::diagnose(dir, ctx.wait),
        Location::Postgres(target) => vbx_tokens::pg::doctor::diagnose(target),
    };
    let diagnosis = match diagnosed {
        // No store, or one in use: nothing was examined, and the line says so.
        Err(e @ (Error::NoStore(_) | Error::Busy { .. })) => return Err(e),
        // A store it will not examine (someone else's), or could not finish examining (one
        // it cannot write): `--json` still gets the shape a script parses.
        Err(e) => {
            let check = match e {
                Error::Untrusted { .. } => "ownership",
                _ => "store",
            };
            p.not_examined(check, &e);
            return Err(e);
        }
        Ok(d) => d,
    };
    p.diagnosis(&diagnosis);
    if diagnosis.whole() {
        return Ok(Outcome::Success);
    }
    let failed: Vec<&str> = diagnosis
        .findings
        .iter()
        .filter(|f| f.health == store::Health::Failed)
        .map(|f| f.check)
        .collect();
    // Lost uses are raised back, and a damaged witness rebuilt, by this very run: a backup
    // would not help, and is not advised.
    if failed
        .iter()
        .all(|check| matches!(*check, "use counts" | "use witness"))
    {
        return Err(Error::store(format!(
            "the store at {} had lost uses of limited tokens, or its witness of them was damaged; counts were raised back and the witness rebuilt: run `vbx-tokens doctor` again",
            ctx.location.shown()
        )));
    }
    let backup = match &diagnosis.last_backup {
        Some((at, file)) => format!(
            "restore the last backup, {file} (taken {at}): vbx-tokens restore {file:?} --yes --force"
        ),
        None => {
            "restore a backup (`vbx-tokens restore FILE --yes --force`); none was noted for this store"
                .to_owned()
        }
    };
    Err(Error::store(format!(
        "the store at {} is not whole ({} cannot be derived again): {backup}",
        ctx.location.shown(),
        failed.join(", ")
    )))
}
