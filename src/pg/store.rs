//! A PostgreSQL store, open: the [`Engine`] the commands use, on one connection.
//!
//! Writers take the store's writer lock (a session-level advisory lock) for as long as the
//! store is open, as a command holds a store directory's lock: two admins on two hosts change
//! tokens one after the other, so what a command read is still true when it commits. Verifies
//! never take it (`vbx_tokens.count_use` decides and counts in one statement), and a lock held
//! past `--wait` ends the command with exit 5 (the connection's `lock_timeout`). The lock ends
//! with the connection, however the process ends.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::PathBuf;

use postgres::types::Type;
use postgres::{Client, GenericClient, Transaction};

use super::config::Target;
use super::connect::{connect, failure};
use super::{log, schema, tokens};
use crate::engine::{Change, Engine, NameChange, NewSecret, Points};
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::{Event, Record};
use crate::store::OpenMode;

/// The advisory lock key writers hold: the first 8 bytes of `SHA-256("vbx-tokens writer")`.
pub const WRITER_KEY: i64 = 0x3b1e_6f2a_9c47_d805;

/// The vault table's key of the header, and the prefix of each kept secret's key.
const VAULT_HEADER: &str = "header";
const SECRET_PREFIX: &str = "secret/";

/// An open PostgreSQL store.
pub struct Store {
    client: RefCell<Client>,
    target: Target,
    actor: String,
    store_id: [u8; 16],
    /// This open made the schema: a command that then fails takes it away
    /// ([`Engine::discard_if_new`]).
    made: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("target", &self.target)
            .finish()
    }
}

impl Store {
    /// Connects to `target` and readies its schema (made in [`OpenMode::Create`], moved on to
    /// this build's step otherwise); a command that changes something also takes the writer
    /// lock.
    ///
    /// # Errors
    /// [`Error::NoStore`] when a command that needs a store finds no schema; the connection's
    /// errors ([`connect`]); [`Error::Store`] for a schema a newer build made.
    pub fn open(target: &Target, mode: OpenMode) -> Result<Store> {
        let mut client = connect(target)?;
        let actor = crate::store::current_user();
        let opened = schema::open(&mut client, target, &actor, mode == OpenMode::Create)?;
        if opened == schema::Opened::Missing {
            return Err(Error::NoStore(PathBuf::from(target.shown())));
        }
        if mode != OpenMode::Records {
            client
                .query_typed("SELECT pg_advisory_lock($1)", &[(&WRITER_KEY, Type::INT8)])
                .map_err(|e| failure(target, &e))?;
        }
        // The store's id, and whether failures wait to be folded, in one round trip.
        let row = client
            .query_typed_one(
                "SELECT (SELECT value FROM vbx_tokens.meta WHERE key = 'store_id'),
                        EXISTS (SELECT 1 FROM vbx_tokens.failures)",
                &[],
            )
            .map_err(|e| failure(target, &e))?;
        let (id, failures): (Option<Vec<u8>>, bool) = (row.get(0), row.get(1));
        if mode != OpenMode::Records && failures {
            // As a directory store folds its journal when a writer opens it: the failures
            // counted since reach the log before the command adds to it.
            let mut tx = client.transaction().map_err(|e| failure(target, &e))?;
            super::failures::fold(&mut tx, target)?;
            tx.commit().map_err(|e| failure(target, &e))?;
        }
        let id = id.unwrap_or_default();
        let store_id = <[u8; 16]>::try_from(&id[..]).map_err(|_| {
            Error::store(format!(
                "the store at {} is damaged: its store id is not 16 bytes",
                target.shown()
            ))
        })?;
        Ok(Store {
            client: RefCell::new(client),
            target: target.clone(),
            actor,
            store_id,
            made: opened == schema::Opened::Made,
        })
    }

    /// The connection, for what the seam does not cover (a verify, a grant).
    pub fn client(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// The server this store is on.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Runs `sql` (no parameters, no rows) on the connection.
    pub(super) fn execute(&self, sql: &str) -> Result<()> {
        self.client().batch_execute(sql).map_err(|e| self.fail(&e))
    }

    /// Lets the database role `role` verify and count, and nothing else
    /// ([`schema::grant_verify`]), and logs it (`granted_verify`, the role in `detail`), in
    /// one transaction.
    ///
    /// # Errors
    /// As for [`schema::grant_verify`]; nothing is granted or logged then.
    pub fn grant_verify(&self, role: &str) -> Result<()> {
        use crate::engine::Tokens as _;
        if role.eq_ignore_ascii_case("public") {
            return Err(Error::usage(
                "PUBLIC is every role: give the hosts that verify a role of their own, and grant-verify that",
            ));
        }
        // A role that may do everything already would be told it may now only verify.
        let mighty: Option<bool> = self
            .client()
            .query_typed_opt(
                "SELECT r.rolsuper OR pg_has_role(r.oid, n.nspowner, 'MEMBER')
                 FROM pg_roles r, pg_namespace n
                 WHERE r.rolname = $1 AND n.nspname = 'vbx_tokens'",
                &[(&role, Type::TEXT)],
            )
            .map_err(|e| self.fail(&e))?
            .map(|row| row.get(0));
        if mighty == Some(true) {
            return Err(Error::usage(format!(
                "the role {role:?} is a superuser or owns the store, so it may do everything already: give the hosts that verify a role of their own, and grant-verify that"
            )));
        }
        let mut event = self.event(crate::record::EventKind::GrantedVerify, None, None);
        event.detail = Some(crate::record::fit_detail(&format!("to the role {role}")));
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.fail(&e))?;
        schema::grant_verify(&mut tx, &self.target, role)?;
        log::append(&mut tx, &self.target, &event)?;
        tx.commit().map_err(|e| self.fail(&e))
    }

    /// Appends `event` within the transaction the connection has open (an import's).
    pub(super) fn append_in_transaction(&self, event: &Event) -> Result<()> {
        log::append(&mut *self.client(), &self.target, event)
    }

    fn fail(&self, e: &postgres::Error) -> Error {
        failure(&self.target, e)
    }

    fn one_record(&self, filter: &str, key: &str) -> Result<Option<Record>> {
        tokens::one(&mut *self.client(), &self.target, filter, key)
    }

    /// Refuses a change that claims a name an active token other than it holds, with the
    /// directory store's words.
    fn refuse_taken_name(&self, tx: &mut Transaction<'_>, r: &Record) -> Result<()> {
        let key = name_key(&r.name);
        let row = tx
            .query_typed_opt(
                "SELECT id, record->>'name' FROM vbx_tokens.tokens
                 WHERE active AND name_key = $1 AND id <> $2",
                &[(&key, Type::TEXT), (&r.id, Type::TEXT)],
            )
            .map_err(|e| self.fail(&e))?;
        let Some(row) = row else { return Ok(()) };
        let (holder, theirs): (String, Option<String>) = (row.get(0), row.get(1));
        Err(crate::engine::name_taken(
            &r.name,
            &holder,
            theirs.as_deref(),
        ))
    }
}

impl Engine for Store {
    fn shown(&self) -> String {
        self.target.shown()
    }

    fn actor(&self) -> &str {
        &self.actor
    }

    fn get(&self, id: &str) -> Result<Option<Record>> {
        self.one_record("id = $1", id)
    }

    fn active_named(&self, key: &str) -> Result<Option<Record>> {
        self.one_record("active AND name_key = $1", key)
    }

    fn visit_records(&self, f: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()> {
        tokens::each_record(&mut *self.client(), &self.target, f)
    }

    fn new_seq(&self) -> Result<u64> {
        let n: i64 = self
            .client()
            .query_typed_one("SELECT nextval('vbx_tokens.record_seq')", &[])
            .map_err(|e| self.fail(&e))?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn commit(
        &self,
        changes: &[Change],
        events: &[Event],
        secret: Option<NewSecret<'_>>,
        _points: &Points,
    ) -> Result<()> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.fail(&e))?;
        if let Some(s) = &secret {
            let header = vault_bytes(&mut tx, &self.target, VAULT_HEADER, true)?;
            if header.as_deref() != Some(s.header) || s.header.is_empty() {
                return Err(crate::engine::vault_changed());
            }
        }
        for c in changes {
            if c.name == NameChange::Claim {
                self.refuse_taken_name(&mut tx, &c.record)?;
            }
            tokens::put(&mut tx, &self.target, &c.record, !c.new_hash)?;
            if c.forget {
                tx.query_typed(
                    "DELETE FROM vbx_tokens.vault WHERE key = $1",
                    &[(&secret_key(&c.record.id), Type::TEXT)],
                )
                .map_err(|e| self.fail(&e))?;
            }
        }
        if let Some(s) = &secret {
            tx.query_typed(
                "INSERT INTO vbx_tokens.vault (key, bytes) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes",
                &[(&secret_key(&s.id), Type::TEXT), (&s.bytes, Type::BYTEA)],
            )
            .map_err(|e| self.fail(&e))?;
        }
        for e in events {
            log::append(&mut tx, &self.target, e)?;
        }
        // From here the change is made and reported, whatever signal comes.
        crate::cleanup::commit();
        tx.commit().map_err(|e| self.fail(&e))
    }

    fn append(&self, events: &[Event]) -> Result<()> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.fail(&e))?;
        for e in events {
            log::append(&mut tx, &self.target, e)?;
        }
        tx.commit().map_err(|e| self.fail(&e))
    }

    fn visit_events_newest_first(&self, f: &mut dyn FnMut(&[u8]) -> Result<bool>) -> Result<()> {
        let mut before = i64::MAX;
        loop {
            let rows = self
                .client()
                .query(
                    "SELECT seq, bytes FROM vbx_tokens.events WHERE seq < $1
                     ORDER BY seq DESC LIMIT 4096",
                    &[&before],
                )
                .map_err(|e| self.fail(&e))?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                before = row.get(0);
                if !f(row.get::<_, &[u8]>(1))? {
                    return Ok(());
                }
            }
        }
    }

    fn check_log(&self) -> Result<u64> {
        log::check(&mut *self.client(), &self.target)
    }

    fn vault_header(&self) -> Result<Option<Vec<u8>>> {
        // An empty row is the lock `put_vault` takes, not a vault.
        Ok(
            vault_bytes(&mut *self.client(), &self.target, VAULT_HEADER, false)?
                .filter(|h| !h.is_empty()),
        )
    }

    fn kept(&self, id: &str) -> Result<Option<Vec<u8>>> {
        vault_bytes(&mut *self.client(), &self.target, &secret_key(id), false)
    }

    fn put_vault(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        event: &Event,
    ) -> Result<()> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.fail(&e))?;
        // Locked from here to the commit: two hosts installing a vault at once cannot both
        // find none (the row is there to lock, empty, once the first one makes it).
        tx.execute(
            "INSERT INTO vbx_tokens.vault (key, bytes) VALUES ($1, '') ON CONFLICT (key) DO NOTHING",
            &[&VAULT_HEADER],
        )
        .map_err(|e| self.fail(&e))?;
        let current =
            vault_bytes(&mut tx, &self.target, VAULT_HEADER, true)?.filter(|h| !h.is_empty());
        if current.as_deref() != expected {
            return Err(match expected {
                None => crate::engine::vault_exists(),
                Some(_) => crate::engine::vault_changed(),
            });
        }
        let put = "INSERT INTO vbx_tokens.vault (key, bytes) VALUES ($1, $2)
                   ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes";
        tx.execute(put, &[&VAULT_HEADER, &header])
            .map_err(|e| self.fail(&e))?;
        for (id, sealed) in kept {
            tx.execute(put, &[&secret_key(id), sealed])
                .map_err(|e| self.fail(&e))?;
        }
        log::append(&mut tx, &self.target, event)?;
        tx.commit().map_err(|e| self.fail(&e))
    }

    fn remove_secret(&self, id: &str, event: &Event) -> Result<bool> {
        let mut client = self.client();
        let mut tx = client.transaction().map_err(|e| self.fail(&e))?;
        let removed = tx
            .execute(
                "DELETE FROM vbx_tokens.vault WHERE key = $1",
                &[&secret_key(id)],
            )
            .map_err(|e| self.fail(&e))?;
        if removed == 0 {
            return Ok(false);
        }
        log::append(&mut tx, &self.target, event)?;
        tx.commit().map_err(|e| self.fail(&e))?;
        Ok(true)
    }

    fn store_id(&self) -> [u8; 16] {
        self.store_id
    }

    fn contents(&self) -> Result<(u64, u64, bool)> {
        let row = self
            .client()
            .query_typed_one(
                "SELECT (SELECT count(*) FROM vbx_tokens.tokens),
                        (SELECT count(*) FROM vbx_tokens.events)",
                &[],
            )
            .map_err(|e| self.fail(&e))?;
        let count = |i| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok((count(0), count(1), self.vault_header()?.is_some()))
    }

    fn visit_stored_records(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        // The record as the directory store keeps it: its JSON, with the counts the columns
        // hold.
        self.visit_records(&mut |r| f(&r.to_bytes()).map(|()| true))
    }

    fn visit_stored_events(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let mut after = 0i64;
        loop {
            let rows = self
                .client()
                .query(
                    "SELECT seq, bytes FROM vbx_tokens.events WHERE seq > $1
                     ORDER BY seq LIMIT 4096",
                    &[&after],
                )
                .map_err(|e| self.fail(&e))?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                after = row.get(0);
                f(row.get::<_, &[u8]>(1))?;
            }
        }
    }

    fn note_backup(&self, file: &std::path::Path, at: crate::time::Time) -> Result<()> {
        let text = format!("{at}\t{}", crate::paths::path_text(file));
        self.client()
            .execute(
                "INSERT INTO vbx_tokens.meta (key, value) VALUES ('last_backup', $1)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&text.as_bytes()],
            )
            .map_err(|e| self.fail(&e))?;
        Ok(())
    }

    fn discard_if_new(self: Box<Self>) {
        if self.made {
            // Best effort, as a directory store's: the command's own error is what is said.
            let _ = schema::drop_if_empty(&mut self.client.borrow_mut(), &self.target);
        }
    }

    fn begin_import(&self, skip_existing: bool) -> Result<Box<dyn crate::engine::Import + '_>> {
        Ok(Box::new(super::import::Importer::begin(
            self,
            skip_existing,
        )?))
    }

    fn kept_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let rows = self
            .client()
            .query(
                "SELECT substr(key, $2), bytes FROM vbx_tokens.vault WHERE starts_with(key, $1)
                 ORDER BY key",
                &[&SECRET_PREFIX, &(SECRET_PREFIX.len() as i32 + 1)],
            )
            .map_err(|e| self.fail(&e))?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn kept_ids(&self) -> Result<HashSet<String>> {
        let rows = self
            .client()
            .query(
                "SELECT substr(key, $2) FROM vbx_tokens.vault WHERE starts_with(key, $1)",
                &[&SECRET_PREFIX, &(SECRET_PREFIX.len() as i32 + 1)],
            )
            .map_err(|e| self.fail(&e))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }
}

fn secret_key(id: &str) -> String {
    format!("{SECRET_PREFIX}{id}")
}

/// The vault row `key`'s bytes; `lock` holds the row until the transaction ends.
fn vault_bytes(
    c: &mut impl GenericClient,
    target: &Target,
    key: &str,
    lock: bool,
) -> Result<Option<Vec<u8>>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = c
        .query_opt(
            &format!("SELECT bytes FROM vbx_tokens.vault WHERE key = $1{lock}"),
            &[&key],
        )
        .map_err(|e| failure(target, &e))?;
    Ok(row.map(|row| row.get(0)))
}
