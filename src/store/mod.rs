//! The store: the only module that touches sled. It owns the lock, opening, durable commits and
//! the typed operations on token records and the audit log.
//!
//! Layout: one sled database in the store directory, with trees
//! - `tokens`:  token id → [`Record`] JSON
//! - `by_hash`: SHA-256 of the token (32 bytes) → token id; every lookup goes through this
//! - `by_name`: the name key (`crate::name::name_key`: names that look alike share one) of an
//!   *active* token → token id; keeps active names unique
//! - `log`:     big-endian u64 from `generate_id` → [`Event`] JSON, append-only, each event
//!   carrying the SHA-256 of the one before (`crate::chain`)
//! - `vault`:   `header` → the vault header; `secret/` + token id → a sealed kept secret
//! - `pending`: an import's number + token id → (), while that import can still be undone
//! - `meta`:    `format` → the store format version; `store_id` → 16 random bytes naming this
//!   store; `generation` → a u64 that every change to what verify would answer increases;
//!   `journal_folded` → the id of the last journal folded in; `log_head` → the last event's
//!   key and the SHA-256 of its bytes ([`crate::chain::Head`])
//!
//! Beside sled: the verification index (`crate::index`, derived from `tokens`, read by verify
//! without opening sled) and the journal (`crate::journal`, where verify writes its uses and
//! failures). Opening the store folds the journal in and rebuilds the index if it is not the
//! one for this store at this generation. Formats: 2 keyed `by_name` by name key (format 1 by
//! the names as typed); 3 added the store id, the generation, the index and the journal; 4 the
//! log's hash chain and its head. Older stores are migrated when first opened.
//!
//! [`Event`]: crate::record::Event
//!
//! Every change and its audit event commit in one sled transaction. Every command that changed
//! something calls [`Store::make_durable`] before it reports success: sled's `flush` ends in
//! `sync_file_range` on Linux, which is not an fsync, so we also `sync_all` the data file
//! (`shared/NOTES.md` has the measurements).

use crate::engine::Tokens as _;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::TryRngCore;
use sled::Transactional;

use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::Record;
use crate::time::Time;
pub use crate::verdict::{Reason, Touch, Verdict};

mod chain;
mod derived;
mod doctor;
mod failures;
pub use crate::record::{FURTHER_ADDRESSES, MAX_ADDRESSES, MAX_TOKENS};
mod import;
mod log;
mod open;
mod restore;
mod tokens;
mod tx;
mod vault;

pub use crate::engine::{Chain, Changed, Keep, Revoked, Rotated};
pub use crate::transfer::Incoming;
pub use doctor::{Diagnosis, Finding, Health, diagnose};
pub use import::{BULK_CACHE_BYTES, IMPORT_CHUNK, ImportReport, Importer};
pub use open::read_marker_id;
use open::{
    create_dir_durably, exists, holds_sled_files, lock_store, make_private, marker_is_current,
    open_sled, recover_leftovers, refuse_foreign_dir, write_marker,
};
pub use restore::{LAST_BACKUP_FILE, Restored, last_backup, note_backup, restore};

/// The store layout this build writes. A store with a higher number is refused; a lower one is
/// migrated.
pub(crate) const STORE_FORMAT: u64 = 4;
/// Keys of the `meta` tree.
const FORMAT_KEY: &str = "format";
const STORE_ID_KEY: &str = "store_id";
pub(crate) const GENERATION_KEY: &str = "generation";
const JOURNAL_FOLDED_KEY: &str = "journal_folded";
const LOG_HEAD_KEY: &str = "log_head";
/// sled's data file, the one `sync_all` must reach.
const DB_FILE: &str = "db";
/// Written once a new store is complete. sled opens a damaged data file as an empty database,
/// so a store with this marker whose database lacks our format key is damaged, not new.
pub const MARKER_FILE: &str = "vbx-tokens-store";
/// A CLI touches a handful of records; sled's 1 GiB default cache is for servers.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
// Token ids, their shape and `looks_like_id`, are the record's (`crate::record`).
pub use crate::record::looks_like_id;

/// Whether opening may create a store that is not there yet, and what the command reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the store on first use (commands that write something new).
    Create,
    /// The store must already exist (commands that read or change existing tokens).
    Existing,
    /// As [`OpenMode::Existing`], for a command that reads the records alone (`list`, `show`,
    /// `export`): failed verifications waiting in the journal, with no use among them, are left
    /// there, up to [`FAILURES_WAITING`] bytes of them, for the next command that reads the log
    /// or writes to fold. So a `list` run after every failure costs no write: the failures
    /// cost their journal entries and one fold for many (README, "Failures cannot fill the
    /// disk").
    Records,
}

/// The most bytes of failures (about 35 an entry) an [`OpenMode::Records`] open leaves in the
/// journal: past this, it folds them, once for thousands.
pub const FAILURES_WAITING: u64 = 128 * 1024;

/// An open store. It holds the store's lock until dropped, so keep it only as long as a command
/// needs it.
pub struct Store {
    // Field order is drop order: the trees and the database close (and flush) before the lock
    // is released.
    tokens: sled::Tree,
    by_hash: sled::Tree,
    by_name: sled::Tree,
    log: sled::Tree,
    vault: sled::Tree,
    meta: sled::Tree,
    pending: sled::Tree,
    db: sled::Db,
    dir: PathBuf,
    actor: String,
    /// How long a lock this store takes beside its own (the journal's) is waited for.
    wait: Duration,
    /// This store's id, from `meta` (all zero until `check_format` has read it).
    store_id: [u8; 16],
    /// The store was made by this open: initialised now, in a directory that held no store.
    new: bool,
    /// ... in a directory this open created.
    created_dir: Option<PathBuf>,
    /// Declared after sled's handles, so it runs once sled has written its last file.
    _hand_back: crate::trust::HandBack,
    _lock: File,
}

impl Store {
    /// Opens (or in [`OpenMode::Create`], creates) the store in `dir`, waiting up to `wait` for
    /// another process to let go of it.
    ///
    /// The store directory is made 0700, so what sled creates in it (with the process's
    /// umask) is private to the user whatever its mode; every file is then set to 0600. The
    /// process umask is left alone (the `vbx-tokens` binary sets 077 itself).
    ///
    /// Under the lock, before anything else: what a crash left half-done is recovered, the
    /// journal is folded in, and the verification index is rebuilt unless it is this store's
    /// at this generation.
    ///
    /// # Errors
    /// [`Error::NoStore`], [`Error::Busy`] past `wait`, [`Error::Store`] for damage or a newer
    /// format, [`Error::Untrusted`] for a store someone else could have written (`crate::trust`),
    /// [`Error::DiskFull`] and [`Error::Io`].
    pub fn open(dir: &Path, mode: OpenMode, wait: Duration) -> Result<Store> {
        Store::open_with_cache(dir, mode, wait, CACHE_BYTES)
    }

    /// [`Store::open`] with a given sled cache size, for bulk work such as an import.
    pub fn open_with_cache(
        dir: &Path,
        mode: OpenMode,
        wait: Duration,
        cache_bytes: u64,
    ) -> Result<Store> {
        let mut created_dir = None;
        let mut result = Store::open_inner(dir, mode, wait, cache_bytes, &mut created_dir);
        if let Ok(store) = &mut result {
            store.created_dir = created_dir.clone();
        }
        if let (Err(_), Some(top)) = (&result, &created_dir) {
            // The directory is ours from this very call and holds nothing acknowledged: a
            // create that failed leaves no store behind.
            let _ = fs::remove_dir_all(top);
            crate::cleanup::forget_on_signal(top);
        }
        result
    }

    fn open_inner(
        dir: &Path,
        mode: OpenMode,
        wait: Duration,
        cache_bytes: u64,
        created_dir: &mut Option<PathBuf>,
    ) -> Result<Store> {
        let deadline = Instant::now() + wait;
        match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::store(format!(
                    "the store path {} is not a directory: point --store or VBX_TOKENS_HOME at a directory",
                    dir.display()
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => match mode {
                OpenMode::Existing | OpenMode::Records => {
                    return Err(Error::NoStore(dir.to_owned()));
                }
                OpenMode::Create => {
                    *created_dir = Some(create_dir_durably(dir)?);
                }
            },
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read the store at {}", dir.display()),
                    e,
                ));
            }
        }

        // Nothing is read from a store someone else could have written, and it is opened where
        // the check found it (`trust`), so a link swapped after the check is not followed.
        let real = crate::trust::check_store(dir)?.ok_or_else(|| Error::NoStore(dir.to_owned()))?;
        let dir = real.as_path();
        let marker = dir.join(MARKER_FILE);
        if !exists(&marker)? {
            match mode {
                // A first `create` that died before writing the marker leaves sled's files:
                // look inside (under the lock) before saying there is no store.
                OpenMode::Existing | OpenMode::Records if !holds_sled_files(dir)? => {
                    return Err(Error::NoStore(dir.to_owned()));
                }
                OpenMode::Existing | OpenMode::Records => {}
                OpenMode::Create => refuse_foreign_dir(dir)?,
            }
        }
        let lock = lock_store(dir, deadline, wait)?;
        // Under the lock and before sled reads anything: what a crash left half-done.
        recover_leftovers(dir)?;
        let db = open_sled(dir, deadline, wait, cache_bytes)?;
        let tree = |name: &str| {
            db.open_tree(name)
                // sled's own text for damage carries its debug output ("backtrace ()").
                .map_err(|e| sled_error(dir, e))
        };
        let store = Store {
            tokens: tree("tokens")?,
            by_hash: tree("by_hash")?,
            by_name: tree("by_name")?,
            log: tree("log")?,
            vault: tree("vault")?,
            meta: tree("meta")?,
            pending: tree("pending")?,
            dir: dir.to_owned(),
            actor: current_user(),
            wait,
            store_id: [0; 16],
            new: false,
            created_dir: None,
            _hand_back: crate::trust::HandBack::new(dir),
            _lock: lock,
            db,
        };
        let mut store = store;
        let (store_id, new) = store.check_format(mode)?;
        store.store_id = store_id;
        store.new = new;
        make_private(dir)?;
        store.roll_back_import()?;
        if mode != OpenMode::Records || !store.only_failures_waiting() {
            store.fold_journal()?;
        }
        store.check_index()?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The OS user this process runs as: recorded as `created_by` and as each event's actor.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// This store's id: it names the store in its marker, its index and its journal, so a file
    /// copied from another store is never taken for this one's.
    pub fn store_id(&self) -> [u8; 16] {
        self.store_id
    }

    /// Checks the store's format key against the marker file, under the lock: initialises a
    /// new store, restores a marker a crash lost, migrates an older format, and refuses a store
    /// that has lost its records or was written by a newer build. Returns the store id.
    fn check_format(&self, mode: OpenMode) -> Result<([u8; 16], bool)> {
        let meta = &self.meta;
        let marker = self.dir.join(MARKER_FILE);
        let Some(v) = meta.get(FORMAT_KEY).map_err(|e| self.sled(e))? else {
            if exists(&marker)? {
                return Err(damaged(&self.dir, "its database has lost its records"));
            }
            // New, or a first open that died before finishing: nothing was acknowledged from
            // it, so (re)initialising loses nothing.
            if mode != OpenMode::Create {
                return Err(Error::NoStore(self.dir.clone()));
            }
            let id = new_store_id();
            (&self.meta,)
                .transaction(|(meta,)| {
                    meta.insert(STORE_ID_KEY, &id)?;
                    meta.insert(GENERATION_KEY, &0u64.to_be_bytes())?;
                    meta.insert(FORMAT_KEY, STORE_FORMAT.to_string().as_bytes())?;
                    Ok(())
                })
                .map_err(|e| self.tx_error(e))?;
            self.make_durable()?;
            write_marker(&self.dir, &id)?;
            return Ok((id, true));
        };
        let found: u64 = std::str::from_utf8(&v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| damaged(&self.dir, "its format marker does not parse"))?;
        if found > STORE_FORMAT {
            return Err(Error::store(format!(
                "the store at {} was written by a newer vbx-tokens (format {found}, this build knows {STORE_FORMAT}): upgrade vbx-tokens",
                self.dir.display()
            )));
        }
        if found < 2 {
            self.migrate_names()?;
        }
        let id = match meta.get(STORE_ID_KEY).map_err(|e| self.sled(e))? {
            Some(id) => <[u8; 16]>::try_from(&id[..])
                .map_err(|_| damaged(&self.dir, "its store id is not 16 bytes"))?,
            None => {
                // Format 2 had no id: one is given now, with the generation it starts from.
                let id = new_store_id();
                (&self.meta,)
                    .transaction(|(meta,)| {
                        meta.insert(STORE_ID_KEY, &id)?;
                        meta.insert(GENERATION_KEY, &0u64.to_be_bytes())?;
                        Ok(())
                    })
                    .map_err(|e| self.tx_error(e))?;
                id
            }
        };
        if found < 4 {
            // Chunked and resumable: the format key moves only once the whole log is chained.
            self.migrate_chain()?;
        }
        if found < STORE_FORMAT {
            meta.insert(FORMAT_KEY, STORE_FORMAT.to_string().as_bytes())
                .map_err(|e| self.sled(e))?;
            self.make_durable()?;
        }
        // The format key is durable, so the store was complete: a missing marker (a crash
        // between the first commit and the marker's rename), or one from an older build
        // (without the id, or naming the format it migrated from), is written now.
        if !marker_is_current(&self.dir, &id) {
            write_marker(&self.dir, &id)?;
        }
        Ok((id, false))
    }

    /// Undoes a store this very open made, when the command that made it failed: a failed
    /// command leaves no store behind. Does nothing to a store that was there before.
    pub fn discard_if_new(self) {
        if !self.new {
            return;
        }
        let dir = self.dir.clone();
        let created_dir = self.created_dir.clone();
        drop(self);
        if let Some(top) = created_dir {
            let _ = fs::remove_dir_all(&top);
            crate::cleanup::forget_on_signal(&top);
        } else if let Ok(entries) = fs::read_dir(&dir) {
            // The directory was the user's and empty (`refuse_foreign_dir` saw to that).
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = if path.is_dir() {
                    fs::remove_dir_all(&path)
                } else {
                    fs::remove_file(&path)
                };
            }
        }
    }

    /// Format 1 kept `by_name` under the names as typed; format 2 keys it by
    /// [`name_key`]. Rebuilt from the records in one transaction.
    fn migrate_names(&self) -> Result<()> {
        let active: Vec<Record> = self
            .records()?
            .into_iter()
            .filter(Record::is_active)
            .collect();
        let old_keys = self
            .by_name
            .iter()
            .keys()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.sled(e))?;
        let result = (&self.by_name,).transaction(|(by_name,)| {
            for key in &old_keys {
                by_name.remove(key)?;
            }
            // Oldest first, so of two legacy names that now look alike the older keeps it; the
            // other is still found by its id or by scanning.
            for r in &active {
                let key = name_key(&r.name);
                if by_name.get(key.as_bytes())?.is_none() {
                    by_name.insert(key.as_bytes(), r.id.as_bytes())?;
                }
            }
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        self.make_durable()
    }

    /// The store's write generation: it grows with every change to what verify would answer.
    pub fn generation(&self) -> Result<u64> {
        let v = self.meta.get(GENERATION_KEY).map_err(|e| self.sled(e))?;
        match v.as_deref().map(<[u8; 8]>::try_from) {
            Some(Ok(b)) => Ok(u64::from_be_bytes(b)),
            None => Ok(0),
            Some(Err(_)) => Err(damaged(&self.dir, "its generation is not a number")),
        }
    }

    /// Makes everything committed so far survive a crash or power loss: sled's flush, then an
    /// fsync of the data file, because the flush alone is not one on Linux.
    pub fn make_durable(&self) -> Result<()> {
        self.db.flush().map_err(|e| self.sled(e))?;
        File::open(self.dir.join(DB_FILE))
            .and_then(|f| f.sync_all())
            .map_err(|e| {
                Error::io_at(
                    format!("cannot sync the store at {}", self.dir.display()),
                    &self.dir,
                    e,
                )
            })
    }

    fn sled(&self, e: sled::Error) -> Error {
        sled_error(&self.dir, e)
    }
}

/// The OS user this process runs as.
pub fn current_user() -> String {
    whoami::username()
}

fn now() -> Time {
    Time::now()
}

/// A new random store id.
fn new_store_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    rand::rngs::OsRng
        .unwrap_err()
        .try_fill_bytes(&mut id)
        .expect("the OS random source works");
    id
}

fn damaged(dir: &Path, what: &str) -> Error {
    Error::store(format!(
        "the store at {} is damaged or unreadable: {what}; run `vbx-tokens doctor` to repair what can be, or restore a backup",
        dir.display()
    ))
}

/// What a sled error means to the user: a full disk or another I/O failure (with the OS's
/// reason), or damage.
pub(super) fn sled_error(dir: &Path, e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) => Error::io_at(
            format!("cannot use the store at {}", dir.display()),
            dir,
            io,
        ),
        // sled's own text for these carries its debug output ("backtrace ()").
        sled::Error::Corruption { .. } => damaged(dir, "its data fails sled's checks (corrupted)"),
        sled::Error::ReportableBug(what) => damaged(dir, &format!("sled stopped: {what}")),
        other => {
            let text = other.to_string();
            damaged(dir, text.split(" backtrace").next().unwrap_or(&text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::new_id;

    #[test]
    fn ids_have_their_shape_and_names_cannot_mimic_them() {
        for _ in 0..100 {
            let id = new_id();
            assert!(looks_like_id(&id), "{id}");
        }
        assert!(!looks_like_id("tok_ABCDEFGH"));
        assert!(!looks_like_id("tok_abc"));
        assert!(!looks_like_id("ci"));
    }
}
