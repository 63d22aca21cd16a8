//! The storage seam: what an engine must do, and the token lifecycle written once above it.
//!
//! Two engines keep a store: the directory store (`crate::store`: sled, the verification
//! index, the journal) and PostgreSQL (`crate::pg`). An [`Engine`] gives the few primitives
//! the lifecycle needs: a record by id or by its active name, every record in order, a fresh
//! creation order, and [`Engine::commit`], which writes changed records with their audit events
//! atomically. [`Tokens`] (create, revoke, rotate, disable, extend, the rotation chain, the
//! log as the commands read it) is written once over any engine, so the two cannot drift apart
//! on what a command means.

use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::record::{Event, Record, Status};
use crate::time::Time;
use crate::token::Token;
use crate::transfer::Incoming;
use crate::vault::Vault;

mod tokens;

pub use tokens::{Chain, Changed, Revoked, Rotated, Tokens};

/// One engine's store, open. Every method that writes is atomic and durable before it returns:
/// all of it happens, or (an error, a crash, a lost connection) none of it.
pub trait Engine {
    /// Where the store is, as messages name it (a directory, or a URL without its password).
    fn shown(&self) -> String;

    /// The user this process acts as: recorded as `created_by` and as each event's actor.
    fn actor(&self) -> &str;

    /// One record by id.
    ///
    /// # Errors
    /// The engine's own; a record that does not parse is damage ([`crate::Error::Store`]).
    fn get(&self, id: &str) -> Result<Option<Record>>;

    /// The active token whose name has the name key `key` (`crate::name::name_key`), if any.
    ///
    /// # Errors
    /// As for [`Engine::get`].
    fn active_named(&self, key: &str) -> Result<Option<Record>>;

    /// Calls `f` with every record, oldest first (creation time, then creation order), one at a
    /// time, until it returns `false`.
    ///
    /// # Errors
    /// As for [`Engine::get`], and `f`'s.
    fn visit_records(&self, f: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()>;

    /// A creation order for a new record (`Record::seq`), above every one given before.
    ///
    /// # Errors
    /// The engine's own.
    fn new_seq(&self) -> Result<u64>;

    /// Writes `changes` and appends `events` (in order, chained) in one atomic commit, with
    /// `secret` kept in the vault when given, provided the vault header is still the one it
    /// was sealed under. `points` name the crash points of this kind of change
    /// (`crate::fault`), where the engine has such steps.
    ///
    /// # Errors
    /// [`crate::Error::Usage`] when a change claims a name an active token holds, or adds a
    /// token already stored; [`crate::Error::Vault`] when the vault changed; the engine's own.
    /// Nothing is changed then.
    fn commit(
        &self,
        changes: &[Change],
        events: &[Event],
        secret: Option<NewSecret<'_>>,
        points: &Points,
    ) -> Result<()>;

    /// Appends `events` that change nothing else (a vault action, a backup), durably.
    ///
    /// # Errors
    /// The engine's own.
    fn append(&self, events: &[Event]) -> Result<()>;

    /// Calls `f` with every audit event's stored bytes, newest first, until it returns `false`.
    ///
    /// # Errors
    /// The engine's own, and `f`'s.
    fn visit_events_newest_first(&self, f: &mut dyn FnMut(&[u8]) -> Result<bool>) -> Result<()>;

    /// Walks the whole audit log in order, checking its hash chain (`crate::chain`) against
    /// the head; the number of events.
    ///
    /// # Errors
    /// [`crate::Error::BrokenLog`] naming the first broken event; the engine's own.
    fn check_log(&self) -> Result<u64>;

    /// The vault's header, when the store has a vault.
    ///
    /// # Errors
    /// The engine's own.
    fn vault_header(&self) -> Result<Option<Vec<u8>>>;

    /// One token's kept secret, sealed as the vault sealed it.
    ///
    /// # Errors
    /// The engine's own.
    fn kept(&self, id: &str) -> Result<Option<Vec<u8>>>;

    /// Every kept secret, sealed, by token id.
    ///
    /// # Errors
    /// The engine's own.
    fn kept_all(&self) -> Result<Vec<(String, Vec<u8>)>>;

    /// The ids of the tokens with a kept secret.
    ///
    /// # Errors
    /// The engine's own.
    fn kept_ids(&self) -> Result<HashSet<String>>;

    /// Writes the vault header and kept secrets, with `event`, in one atomic commit, provided
    /// the current header is still `expected`: `None` to install a vault (new, or adopted from
    /// an export) where there is none; the unlocked header to change the passphrase or import.
    ///
    /// # Errors
    /// [`Error::Vault`] when there is a vault where `None` was expected, or the header changed;
    /// the engine's own.
    fn put_vault(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        event: &Event,
    ) -> Result<()>;

    /// Erases token `id`'s kept secret with `event`, in one atomic commit; `false` (and no
    /// event) when there was none.
    ///
    /// # Errors
    /// The engine's own.
    fn remove_secret(&self, id: &str, event: &Event) -> Result<bool>;

    /// The store's id: 16 random bytes made with it, which a backup names.
    fn store_id(&self) -> [u8; 16];

    /// How many records and events the store holds, and whether it has a vault.
    ///
    /// # Errors
    /// The engine's own.
    fn contents(&self) -> Result<(u64, u64, bool)>;

    /// Calls `f` with every record's stored bytes (the record's JSON, `crate::record`).
    ///
    /// # Errors
    /// The engine's own, and `f`'s.
    fn visit_stored_records(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>;

    /// Calls `f` with every audit event's stored bytes, oldest first: the bytes the chain
    /// hashes.
    ///
    /// # Errors
    /// The engine's own, and `f`'s.
    fn visit_stored_events(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>;

    /// Remembers that a backup of the store was written to `file` at `at`, for `doctor` to
    /// name.
    ///
    /// # Errors
    /// The engine's own.
    fn note_backup(&self, file: &std::path::Path, at: Time) -> Result<()>;

    /// Starts an import: records come one at a time ([`Import::add`]), checked against the
    /// store and the import so far, and [`Import::finish`] makes all of them visible at once
    /// with one `imported` event; dropped unfinished, the import leaves nothing. With
    /// `skip_existing`, a record whose id, token or active name exists already is left out;
    /// otherwise it refuses the whole import.
    ///
    /// # Errors
    /// The engine's own.
    fn begin_import(&self, skip_existing: bool) -> Result<Box<dyn Import + '_>>;

    /// The id this machine's witness of granted uses (`crate::uses::witness`) keeps the
    /// store's counts under, so that a store put back from an older copy never shows fewer
    /// uses than were granted; `None` for an engine whose counts are not files here that
    /// could be put back (PostgreSQL's are the server's).
    fn witness_id(&self) -> Option<[u8; 16]> {
        None
    }

    /// Undoes a store this very open made, when the command that made it failed, so a failed
    /// command leaves no store behind; does nothing to one that was there before. (A
    /// PostgreSQL schema is left: an empty one is no store's data, and other hosts may be
    /// using it by now.)
    fn discard_if_new(self: Box<Self>) {}
}

/// An import under way ([`Engine::begin_import`]).
pub trait Import {
    /// Checks one record against the store and this import so far, and takes it.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the line when it clashes (without `skip_existing`), appears
    /// twice, or its hash does not parse; the engine's own. The import is then undone.
    fn add(&mut self, item: Incoming) -> Result<()>;

    /// How many records have been taken so far.
    fn accepted(&self) -> usize;

    /// Makes every record taken visible, with one `imported` event, durably.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the line whose rotation links do not hold together with the
    /// rest of the input and the store (`crate::transfer::RotationCheck`); the engine's own.
    /// The import is then undone.
    fn finish(self: Box<Self>) -> Result<ImportReport>;
}

/// What an import did: how many records went in, and which lines were skipped as existing.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub skipped: Vec<usize>,
}

/// What `create --keep` and `rotate --keep` need from the vault: the header it unlocked (so a
/// vault changed in between is noticed) and the unlocked vault, to seal the new token for its
/// id.
pub struct Keep<'a> {
    pub header: &'a [u8],
    pub vault: &'a Vault,
}

impl<'a> Keep<'a> {
    /// `token` sealed for the record `id`, with the header it was sealed under.
    pub fn seal(&self, token: &Token, id: &str) -> NewSecret<'a> {
        NewSecret {
            header: self.header,
            id: id.to_owned(),
            bytes: self.vault.seal(id, token.expose()),
        }
    }
}

/// A new token's sealed plaintext for the vault, and the vault header it was sealed under.
pub struct NewSecret<'a> {
    pub header: &'a [u8],
    pub id: String,
    pub bytes: Vec<u8>,
}

/// Whether a change makes the token verify in more cases or in fewer. The directory engine
/// writes its verification index after the commit for the one and before it for the other, so
/// a crash between them never leaves a token verifying that the store refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grants {
    More,
    Less,
}

/// What a change does to the token's hold on its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameChange {
    Keep,
    /// The token stops holding its name (revoked).
    Free,
    /// The token takes its name, which no active token may hold.
    Claim,
}

/// One record to write, and what goes with it.
#[derive(Debug, Clone)]
pub struct Change {
    pub record: Record,
    pub grants: Grants,
    pub name: NameChange,
    /// A new token: its id and hash must be new to the store (refused if not).
    pub new_hash: bool,
    /// Erase its kept secret.
    pub forget: bool,
}

impl Change {
    /// `record` written as it is, its name and secret left alone.
    pub fn new(record: Record, grants: Grants) -> Change {
        Change {
            record,
            grants,
            name: NameChange::Keep,
            new_hash: false,
            forget: false,
        }
    }

    /// ... taking its name.
    pub fn claim_name(self) -> Change {
        Change {
            name: NameChange::Claim,
            ..self
        }
    }

    /// ... letting its name go.
    pub fn free_name(self) -> Change {
        Change {
            name: NameChange::Free,
            ..self
        }
    }

    /// ... as a new token.
    pub fn new_hash(self) -> Change {
        Change {
            new_hash: true,
            ..self
        }
    }

    /// ... erasing its kept secret.
    pub fn forget(self) -> Change {
        Change {
            forget: true,
            ..self
        }
    }
}

/// The crash points of one kind of change (`crate::fault`).
pub struct Points {
    pub indexed: &'static str,
    pub committed: &'static str,
    pub durable: &'static str,
}

/// The crash points of a create.
pub const CREATE_POINTS: Points = Points {
    indexed: "create-indexed",
    committed: "create-committed",
    durable: "create-durable",
};
/// The crash points of a revoke.
pub const REVOKE_POINTS: Points = Points {
    indexed: "revoke-indexed",
    committed: "revoke-committed",
    durable: "revoke-durable",
};
/// The crash points of any other change (disable, enable, extend, rotate).
pub const CHANGE_POINTS: Points = Points {
    indexed: "change-indexed",
    committed: "change-committed",
    durable: "change-durable",
};

/// `record` revoked at `at` (ending any grace).
pub fn revoked(mut record: Record, at: Time) -> Record {
    record.status = Status::Revoked;
    record.revoked_at = Some(at);
    record.grace_until = None;
    record
}

/// A fresh token id: the record's prefix (`crate::record::ID_PREFIX`) and
/// `crate::record::ID_LEN` random lowercase letters and digits.
pub fn new_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let mut id = String::from(crate::record::ID_PREFIX);
    id.extend(
        (0..crate::record::ID_LEN).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char),
    );
    id
}

/// The refusal of a change that claims `name` while the active token `holder` holds it (its
/// name `theirs`, when known, which may only look the same): every engine's words.
pub fn name_taken(name: &str, holder: &str, theirs: Option<&str>) -> Error {
    match theirs {
        Some(theirs) if theirs != name => Error::usage(format!(
            "an active token ({holder}) is named {theirs:?}, which looks the same as {name:?}: pick another name, or revoke that one first"
        )),
        _ => Error::usage(format!(
            "an active token ({holder}) is already named {name:?}: pick another name, or revoke that one first"
        )),
    }
}

/// The refusal of a new token the store holds already (the same SHA-256).
pub fn hash_taken() -> Error {
    Error::usage("that token is already in the store")
}

/// The refusal of a vault installed where there is one already.
pub fn vault_exists() -> Error {
    Error::vault(
        "this store already has a vault: use `vbx-tokens vault passwd` to change its passphrase",
    )
}

/// The refusal of a change sealed under a vault header that is no longer the store's.
pub fn vault_changed() -> Error {
    Error::vault("the vault changed while this command ran (its passphrase or contents): try again")
}
