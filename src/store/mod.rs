//! The store: the only module that touches sled. It owns the lock, opening, durable commits and
//! the typed operations on token records and the audit log.
//!
//! Layout: one sled database in the store directory, with trees
//! - `tokens`:  token id → [`Record`] JSON
//! - `by_hash`: SHA-256 of the token (32 bytes) → token id; every lookup goes through this
//! - `by_name`: the name key (`crate::name::name_key`: names that look alike share one) of an
//!   *active* token → token id; keeps active names unique
//! - `log`:     big-endian u64 from `generate_id` → [`Event`] JSON, append-only
//! - `vault`:   `header` → the vault header; `secret/` + token id → a sealed kept secret
//! - `meta`:    `format` → the store format version (2: `by_name` holds name keys; a format 1
//!   store, keyed by the names as typed, is migrated when it is first opened)
//!
//! Every change and its audit event commit in one sled transaction. Every command that changed
//! something calls [`Store::make_durable`] before it reports success: sled's `flush` ends in
//! `sync_file_range` on Linux, which is not an fsync, so we also `sync_all` the data file
//! (`shared/NOTES.md` has the measurements).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::Rng;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::{Event, EventKind, RECORD_VERSION, Record, Status};
use crate::time::Time;
use crate::token::Token;

mod import;
mod open;
mod vault;

pub use import::{BULK_CACHE_BYTES, IMPORT_CHUNK, ImportReport, Incoming};
use open::{
    create_dir_durably, exists, holds_sled_files, lock_store, open_sled, recover_leftovers,
    refuse_foreign_dir, write_marker,
};
use vault::{VAULT_HEADER, secret_key};

/// The store layout this build writes. A store with a higher number is refused; a lower one is
/// migrated.
pub(crate) const STORE_FORMAT: u64 = 2;
/// Where in the `meta` tree the format number is.
const FORMAT_KEY: &str = "format";
/// sled's data file, the one `sync_all` must reach.
const DB_FILE: &str = "db";
/// Written once a new store is complete. sled opens a damaged data file as an empty database,
/// so a store with this marker whose database lacks our format key is damaged, not new.
pub(crate) const MARKER_FILE: &str = "vbx-tokens-store";
/// A CLI touches a handful of records; sled's 1 GiB default cache is for servers.
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
/// Token ids: a prefix that says what they are, then this many characters of `0-9a-z`.
const ID_PREFIX: &str = "tok_";
const ID_LEN: usize = 8;

/// Whether opening may create a store that is not there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the store on first use (commands that write something new).
    Create,
    /// The store must already exist (commands that read or change existing tokens).
    Existing,
}

/// How a verification came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Valid,
    Unknown,
    Revoked,
    Malformed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::Unknown => "unknown",
            Reason::Revoked => "revoked",
            Reason::Malformed => "malformed",
        }
    }
}

/// The answer to "is this token valid?", with the token's id and name when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reason: Reason,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        self.reason == Reason::Valid
    }
}

/// Whether a valid verification counts as a use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    Yes,
    No,
}

/// The outcome of a revoke: the record as it now stands, and whether it was revoked already.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub record: Record,
    pub already: bool,
}

/// What `create --keep` needs from the vault: the header it unlocked (so a vault changed in
/// between is noticed) and a way to seal the new token for its id.
pub struct Keep<'a> {
    pub header: &'a [u8],
    pub seal: &'a dyn Fn(&str) -> Vec<u8>,
}

/// Why a transaction gave up; turned into an [`Error`] outside it.
#[derive(Debug)]
enum Abort {
    VaultChanged,
    VaultExists,
    NameTaken { name: String, holder: String },
    IdTaken,
    HashTaken,
    Damaged(String),
}

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
    db: sled::Db,
    dir: PathBuf,
    actor: String,
    _lock: File,
}

impl Store {
    /// Opens (or in [`OpenMode::Create`], creates) the store in `dir`, waiting up to `wait` for
    /// another process to let go of it.
    ///
    /// Sets the process umask to 077 so every file sled creates is private to the user: sled
    /// creates its files with the default mode.
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
        rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
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
                OpenMode::Existing => return Err(Error::NoStore(dir.to_owned())),
                OpenMode::Create => create_dir_durably(dir)?,
            },
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read the store at {}", dir.display()),
                    e,
                ));
            }
        }

        let marker = dir.join(MARKER_FILE);
        if !exists(&marker)? {
            match mode {
                // A first `create` that died before writing the marker leaves sled's files:
                // look inside (under the lock) before saying there is no store.
                OpenMode::Existing if !holds_sled_files(dir)? => {
                    return Err(Error::NoStore(dir.to_owned()));
                }
                OpenMode::Existing => {}
                OpenMode::Create => refuse_foreign_dir(dir)?,
            }
        }
        let lock = lock_store(dir, deadline, wait)?;
        // Under the lock and before sled reads anything: what a crash left half-done.
        recover_leftovers(dir)?;
        let db = open_sled(dir, deadline, wait, cache_bytes)?;
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| damaged(dir, &format!("cannot open its {name} tree: {e}")))
        };
        let store = Store {
            tokens: tree("tokens")?,
            by_hash: tree("by_hash")?,
            by_name: tree("by_name")?,
            log: tree("log")?,
            vault: tree("vault")?,
            dir: dir.to_owned(),
            actor: current_user(),
            _lock: lock,
            db,
        };
        store.check_format(mode)?;
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The OS user this process runs as: recorded as `created_by` and as each event's actor.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Checks the store's format key against the marker file, under the lock: initialises a
    /// new store, restores a marker a crash lost, migrates an older format, and refuses a store
    /// that has lost its records or was written by a newer build.
    fn check_format(&self, mode: OpenMode) -> Result<()> {
        let meta = self.db.open_tree("meta").map_err(|e| self.sled(e))?;
        let marker = self.dir.join(MARKER_FILE);
        let Some(v) = meta.get(FORMAT_KEY).map_err(|e| self.sled(e))? else {
            if exists(&marker)? {
                return Err(damaged(&self.dir, "its database has lost its records"));
            }
            // New, or a first open that died before finishing: nothing was acknowledged from
            // it, so (re)initialising loses nothing.
            if mode == OpenMode::Existing {
                return Err(Error::NoStore(self.dir.clone()));
            }
            meta.insert(FORMAT_KEY, STORE_FORMAT.to_string().as_bytes())
                .map_err(|e| self.sled(e))?;
            self.make_durable()?;
            return write_marker(&self.dir);
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
        if !exists(&marker)? {
            // The format key is durable, so the store was complete but for its marker.
            write_marker(&self.dir)?;
        }
        if found < STORE_FORMAT {
            self.migrate(&meta)?;
        }
        Ok(())
    }

    /// Format 1 kept `by_name` under the names as typed; format 2 keys it by
    /// [`name_key`]. Rebuilt from the records in one transaction with the new format number.
    fn migrate(&self, meta: &sled::Tree) -> Result<()> {
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
        let result = (&self.by_name, meta).transaction(|(by_name, meta)| {
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
            meta.insert(FORMAT_KEY, STORE_FORMAT.to_string().as_bytes())?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        self.make_durable()
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

    /// Records a new token, with its `created` event, and makes it durable. With `keep`, the
    /// token's sealed plaintext (made by `keep` from the new id) commits in the same
    /// transaction, provided the vault header is still `keep`'s.
    pub fn create(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        keep: Option<Keep<'_>>,
    ) -> Result<Record> {
        let hash = token.hash();
        let key = name_key(name);
        let mut last = None;
        // An id collision (1 in 2^41 per pair) only costs another try.
        for _ in 0..8 {
            let record = Record {
                v: RECORD_VERSION,
                id: new_id(),
                seq: self.db.generate_id().map_err(|e| self.sled(e))?,
                name: name.to_owned(),
                note: note.clone(),
                sha256: hash.to_hex(),
                hint: token.hint(),
                created_at: now(),
                created_by: self.actor.clone(),
                status: Status::Active,
                revoked_at: None,
                last_used_at: None,
                use_count: 0,
                extra: Default::default(),
            };
            let event = self.event(EventKind::Created, Some(&record), None);
            let sealed = keep.as_ref().map(|k| (k.seal)(&record.id));
            let trees = (
                &self.tokens,
                &self.by_hash,
                &self.by_name,
                &self.log,
                &self.vault,
            );
            let result = trees.transaction(|(tokens, by_hash, by_name, log, vault)| {
                if tokens.get(&record.id)?.is_some() {
                    return abort(Abort::IdTaken);
                }
                if by_hash.get(hash.0)?.is_some() {
                    return abort(Abort::HashTaken);
                }
                if let Some(holder) = by_name.get(key.as_bytes())? {
                    return abort(Abort::NameTaken {
                        name: record.name.clone(),
                        holder: String::from_utf8_lossy(&holder).into(),
                    });
                }
                tokens.insert(record.id.as_bytes(), record.to_bytes())?;
                by_hash.insert(&hash.0, record.id.as_bytes())?;
                by_name.insert(key.as_bytes(), record.id.as_bytes())?;
                append(log, &event)?;
                if let (Some(keep), Some(sealed)) = (&keep, &sealed) {
                    if vault.get(VAULT_HEADER)?.as_deref() != Some(keep.header) {
                        return abort(Abort::VaultChanged);
                    }
                    vault.insert(secret_key(&record.id), sealed.as_slice())?;
                }
                Ok(())
            });
            match result {
                Ok(()) => {
                    self.make_durable()?;
                    return Ok(record);
                }
                Err(TransactionError::Abort(Abort::IdTaken)) => last = Some(Abort::IdTaken),
                Err(e) => return Err(self.tx_error(e)),
            }
        }
        Err(Error::internal(format!(
            "no free token id after 8 tries ({last:?})"
        )))
    }

    /// One record by id.
    pub fn get(&self, id: &str) -> Result<Option<Record>> {
        match self.tokens.get(id).map_err(|e| self.sled(e))? {
            Some(bytes) => Record::from_bytes(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Finds a token by id, else by the name of an active token, else by the name of a revoked
    /// one (refusing to guess between several).
    pub fn resolve(&self, id_or_name: &str) -> Result<Record> {
        let given = id_or_name.trim();
        if let Some(record) = self.get(given)? {
            return Ok(record);
        }
        let key = name_key(given);
        if let Some(id) = self.by_name.get(key.as_bytes()).map_err(|e| self.sled(e))? {
            let id = String::from_utf8_lossy(&id);
            return self.get(&id)?.ok_or_else(|| {
                damaged(
                    &self.dir,
                    &format!("its name index points at a missing token {id}"),
                )
            });
        }
        let mut revoked: Vec<Record> = self
            .records()?
            .into_iter()
            .filter(|r| name_key(&r.name) == key)
            .collect();
        match revoked.len() {
            0 => Err(Error::not_found(given)),
            1 => Ok(revoked.remove(0)),
            n => Err(Error::usage(format!(
                "{n} revoked tokens are named {given:?} ({}): give an id instead",
                revoked
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Every record, oldest first.
    pub fn records(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for item in self.tokens.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            out.push(Record::from_bytes(&bytes)?);
        }
        out.sort_by_key(|r| (r.created_at, r.seq));
        Ok(out)
    }

    /// Revokes a token at once, with its `revoked` event, and makes it durable. Revoking a
    /// revoked token changes nothing and says so.
    pub fn revoke(&self, id: &str) -> Result<Revoked> {
        let at = now();
        let result = (&self.tokens, &self.by_name, &self.log, &self.vault).transaction(
            |(tokens, by_name, log, vault)| {
                let mut record = read_record(tokens, id)?;
                if record.status == Status::Revoked {
                    return Ok(Revoked {
                        record,
                        already: true,
                    });
                }
                record.status = Status::Revoked;
                record.revoked_at = Some(at);
                tokens.insert(record.id.as_bytes(), record.to_bytes())?;
                // Free the name for reuse, unless the index already points elsewhere.
                let key = name_key(&record.name);
                if by_name.get(key.as_bytes())?.as_deref() == Some(record.id.as_bytes()) {
                    by_name.remove(key.as_bytes())?;
                }
                // A revoked token's kept secret is worthless and still a secret: erase it.
                vault.remove(secret_key(&record.id))?;
                append(log, &self.event(EventKind::Revoked, Some(&record), None))?;
                Ok(Revoked {
                    record,
                    already: false,
                })
            },
        );
        let revoked = result.map_err(|e| self.tx_error(e))?;
        if !revoked.already {
            self.make_durable()?;
        }
        Ok(revoked)
    }

    /// Verifies one candidate token; see [`Store::verify_many`].
    pub fn verify(&self, candidate: &str, touch: Touch) -> Result<Verdict> {
        let mut verdicts = self.verify_many(std::iter::once(candidate), touch)?;
        Ok(verdicts.pop().expect("one candidate gives one verdict"))
    }

    /// Verifies candidates in order. A valid one counts a use (unless `touch` is `No`); every
    /// failure is logged. Everything is made durable once, before returning.
    pub fn verify_many<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        touch: Touch,
    ) -> Result<Vec<Verdict>> {
        let mut wrote = false;
        let mut out = Vec::new();
        for candidate in candidates {
            let (verdict, changed) = self.verify_one(candidate, touch)?;
            wrote |= changed;
            out.push(verdict);
        }
        if wrote {
            self.make_durable()?;
        }
        Ok(out)
    }

    fn verify_one(&self, candidate: &str, touch: Touch) -> Result<(Verdict, bool)> {
        let hash = match Token::parse(candidate) {
            Ok(token) => token.hash(),
            Err(_) => return self.log_failure(Reason::Malformed).map(|v| (v, true)),
        };
        let Some(id) = self.by_hash.get(hash.0).map_err(|e| self.sled(e))? else {
            return self.log_failure(Reason::Unknown).map(|v| (v, true));
        };
        let id = String::from_utf8_lossy(&id).into_owned();
        let at = now();
        let result = (&self.tokens, &self.log).transaction(|(tokens, log)| {
            let mut record = read_record(tokens, &id)?;
            let verdict = |reason| Verdict {
                reason,
                id: Some(record.id.clone()),
                name: Some(record.name.clone()),
            };
            if record.status == Status::Revoked {
                let v = verdict(Reason::Revoked);
                append(
                    log,
                    &self.event(
                        EventKind::VerifyFailed,
                        Some(&record),
                        Some(Reason::Revoked),
                    ),
                )?;
                return Ok((v, true));
            }
            let v = verdict(Reason::Valid);
            if touch == Touch::No {
                return Ok((v, false));
            }
            record.use_count += 1;
            record.last_used_at = Some(at);
            tokens.insert(record.id.as_bytes(), record.to_bytes())?;
            Ok((v, true))
        });
        result.map_err(|e| self.tx_error(e))
    }

    /// Logs a failure for a token we could not tie to a record (malformed or unknown).
    fn log_failure(&self, reason: Reason) -> Result<Verdict> {
        self.append_event(&self.event(EventKind::VerifyFailed, None, Some(reason)))?;
        Ok(Verdict {
            reason,
            id: None,
            name: None,
        })
    }

    /// The audit log, oldest first: the last `limit` events, of one token if `token_id` is given.
    pub fn events(&self, limit: Option<usize>, token_id: Option<&str>) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for item in self.log.iter().rev() {
            if limit.is_some_and(|n| out.len() >= n) {
                break;
            }
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            let event = Event::from_bytes(&bytes)?;
            if token_id.is_none_or(|id| event.token_id.as_deref() == Some(id)) {
                out.push(event);
            }
        }
        out.reverse();
        Ok(out)
    }

    /// Logs an event that needs no other change (a vault action, a reveal), durably.
    pub fn log_event(&self, kind: EventKind, record: Option<&Record>) -> Result<()> {
        self.append_event(&self.event(kind, record, None))?;
        self.make_durable()
    }

    /// An audit event by this process's user, about a token when there is one.
    fn event(&self, kind: EventKind, record: Option<&Record>, reason: Option<Reason>) -> Event {
        Event {
            at: now(),
            event: kind,
            token_id: record.map(|r| r.id.clone()),
            name: record.map(|r| r.name.clone()),
            actor: self.actor.clone(),
            reason: reason.map(|r| r.as_str().to_owned()),
        }
    }

    /// Appends one event outside a transaction, for events that change nothing else.
    fn append_event(&self, event: &Event) -> Result<()> {
        let id = self.db.generate_id().map_err(|e| self.sled(e))?;
        self.log
            .insert(id.to_be_bytes(), event.to_bytes())
            .map_err(|e| self.sled(e))?;
        Ok(())
    }

    fn tx_error(&self, e: TransactionError<Abort>) -> Error {
        match e {
            TransactionError::Abort(Abort::NameTaken { name, holder }) => Error::usage(format!(
                "an active token ({holder}) is already named {name:?}, or something that looks the same: pick another name, or revoke that one first"
            )),
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
            TransactionError::Abort(Abort::Damaged(what)) => damaged(&self.dir, &what),
            TransactionError::Storage(e) => self.sled(e),
        }
    }
}

/// The OS user this process runs as.
pub fn current_user() -> String {
    whoami::username()
}

fn now() -> Time {
    Time::now()
}

fn new_id() -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let mut id = String::from(ID_PREFIX);
    id.extend((0..ID_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char));
    id
}

/// True for strings shaped like a token id; names may not look like one, so an id and a name
/// can never be confused.
pub fn looks_like_id(s: &str) -> bool {
    s.strip_prefix(ID_PREFIX).is_some_and(|rest| {
        rest.len() == ID_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

fn abort<T>(why: Abort) -> std::result::Result<T, ConflictableTransactionError<Abort>> {
    Err(ConflictableTransactionError::Abort(why))
}

fn read_record(
    tokens: &TransactionalTree,
    id: &str,
) -> std::result::Result<Record, ConflictableTransactionError<Abort>> {
    let bytes = match tokens.get(id)? {
        Some(bytes) => bytes,
        None => {
            return abort(Abort::Damaged(format!(
                "its hash index points at a missing token {id}"
            )));
        }
    };
    Record::from_bytes(&bytes).or_else(|e| abort(Abort::Damaged(e.to_string())))
}

fn append(
    log: &TransactionalTree,
    event: &Event,
) -> std::result::Result<(), ConflictableTransactionError<Abort>> {
    let key = log.generate_id()?;
    log.insert(&key.to_be_bytes(), event.to_bytes())?;
    Ok(())
}

fn damaged(dir: &Path, what: &str) -> Error {
    Error::store(format!(
        "the store at {} is damaged or unreadable: {what}; restore it from a backup",
        dir.display()
    ))
}

/// What a sled error means to the user: a full disk or another I/O failure (with the OS's
/// reason), or damage.
fn sled_error(dir: &Path, e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) => Error::io_at(
            format!("cannot use the store at {}", dir.display()),
            dir,
            io,
        ),
        other => damaged(dir, &other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
