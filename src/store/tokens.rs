//! Token records: create, look up, list, revoke, and [`Store::commit`], the one way a change to
//! token records is written (with its events, the verification index kept in step).

use sled::Transactional;
use sled::transaction::TransactionError;

use super::derived::index_record;
use super::tx::{Abort, abort, append};
use super::vault::{VAULT_HEADER, secret_key};
use super::{GENERATION_KEY, Store, damaged, new_id, now};
use crate::error::{Error, Result};
use crate::index::IndexRecord;
use crate::name::name_key;
use crate::policy::Policy;
use crate::record::{Event, EventKind, RECORD_VERSION, Record, Status};
use crate::time::Time;
use crate::token::{Token, TokenHash};
use crate::vault::Vault;

/// The outcome of a revoke: the record as it now stands, and whether it was revoked already.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub record: Record,
    pub already: bool,
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
    pub(super) fn seal(&self, token: &Token, id: &str) -> Sealed<'a> {
        Sealed {
            header: self.header,
            id: id.to_owned(),
            bytes: self.vault.seal(id, token.expose()),
        }
    }
}

impl Store {
    /// Records a new token with its policy, and its `created` event, and makes it durable.
    /// With `keep`, the token's sealed plaintext (made by `keep` from the new id) commits in the
    /// same transaction, provided the vault header is still `keep`'s. The verification index
    /// gets the token after sled does.
    ///
    /// # Errors
    /// [`Error::Usage`] when an active token has a name that looks the same, or the token is
    /// already stored; [`Error::Vault`] when the vault changed; the store's own errors.
    pub fn create(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        policy: &Policy,
        keep: Option<Keep<'_>>,
    ) -> Result<Record> {
        let record = self.new_record(token, name, note, policy, None)?;
        let event = self.event(EventKind::Created, Some(&record), None);
        self.commit(
            &[Change::new(record.clone(), Grants::More)
                .claim_name()
                .new_hash()],
            &[event],
            keep.map(|k| k.seal(token, &record.id)),
            &CREATE_POINTS,
        )?;
        Ok(record)
    }

    /// A new active record for `token`, with a fresh id and creation order; not stored yet.
    pub(super) fn new_record(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        policy: &Policy,
        replaces: Option<String>,
    ) -> Result<Record> {
        // An id collision (1 in 2^41 per pair) only costs another draw.
        let id = loop {
            let id = new_id();
            if self.tokens.get(&id).map_err(|e| self.sled(e))?.is_none() {
                break id;
            }
        };
        Ok(Record {
            v: RECORD_VERSION,
            id,
            seq: self.db.generate_id().map_err(|e| self.sled(e))?,
            name: name.to_owned(),
            note,
            sha256: token.hash().to_hex(),
            hint: token.hint(),
            created_at: now(),
            created_by: self.actor.clone(),
            status: Status::Active,
            revoked_at: None,
            last_used_at: None,
            use_count: 0,
            last_used_ip: None,
            expires_at: policy.expires_at,
            scopes: policy.scopes.clone(),
            max_uses: policy.max_uses,
            allow_ip: policy.allow_ip.clone(),
            disabled: false,
            disabled_at: None,
            grace_until: None,
            replaces,
            replaced_by: None,
            extra: Default::default(),
        })
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
    ///
    /// # Errors
    /// The store's own errors; a record that does not parse is damage.
    pub fn records(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.each_record(|r| {
            out.push(r);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Calls `f` with every record, oldest first, one at a time, until it returns `false`.
    /// Memory holds the stored bytes and the order, not parsed records.
    ///
    /// # Errors
    /// The store's own errors, and `f`'s.
    pub fn each_record(&self, mut f: impl FnMut(Record) -> Result<bool>) -> Result<()> {
        /// The fields that order records, read without the rest.
        #[derive(serde::Deserialize)]
        struct Order {
            #[serde(default)]
            seq: u64,
            created_at: crate::time::Time,
        }
        let mut order = Vec::new();
        for item in self.tokens.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            let o: Order = serde_json::from_slice(&bytes)
                .map_err(|e| damaged(&self.dir, &format!("a token record does not parse ({e})")))?;
            order.push((o.created_at, o.seq, bytes));
        }
        order.sort_unstable_by_key(|o| (o.0, o.1));
        for (_, _, bytes) in order {
            if !f(Record::from_bytes(&bytes)?)? {
                break;
            }
        }
        Ok(())
    }

    /// Revokes a token at once, with its `revoked` event, and makes it durable. Revoking a
    /// revoked token changes nothing and says so; revoking one still in a rotation's grace
    /// ends the grace now. The verification index says "revoked" before sled does, so the
    /// revoke may take effect early (if this crashes) but never late.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id; the store's own errors.
    pub fn revoke(&self, id: &str) -> Result<Revoked> {
        let at = now();
        let current = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        if current.status == Status::Revoked && !current.in_grace(at) {
            return Ok(Revoked {
                record: current,
                already: true,
            });
        }
        let record = revoked(current, at);
        let mut changes = vec![
            Change::new(record.clone(), Grants::Less)
                .free_name()
                .forget(),
        ];
        let mut events = vec![self.event(EventKind::Revoked, Some(&record), None)];
        self.end_graces(&record, at, &mut changes, &mut events)?;
        self.commit(&changes, &events, None, &REVOKE_POINTS)?;
        Ok(Revoked {
            record,
            already: false,
        })
    }

    /// Adds to `changes` and `events` the revoke of every token `record` replaced (directly or
    /// through others) that still verifies in its grace, unless `changes` has it already: once
    /// a name's token is revoked, no token of that name verifies.
    pub(super) fn end_graces(
        &self,
        record: &Record,
        at: Time,
        changes: &mut Vec<Change>,
        events: &mut Vec<Event>,
    ) -> Result<()> {
        for old in self.graced_predecessors(record, at)? {
            if changes.iter().any(|c| c.record.id == old.id) {
                continue;
            }
            let old = revoked(old, at);
            let mut e = self.event(EventKind::Revoked, Some(&old), None);
            e.detail = Some(format!(
                "its grace ended: {} replaced it and was revoked",
                record.id
            ));
            events.push(e);
            changes.push(Change::new(old, Grants::Less).free_name().forget());
        }
        Ok(())
    }

    /// The tokens `record` replaced, directly or through others, that are still in the grace
    /// a rotation gave them at `at`.
    fn graced_predecessors(&self, record: &Record, at: Time) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::from([record.id.clone()]);
        let mut next = record.replaces.clone();
        while let Some(id) = next.filter(|id| seen.insert(id.clone())) {
            let Some(r) = self.get(&id)? else { break };
            next = r.replaces.clone();
            if r.in_grace(at) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Commits changes to token records with their events, in one sled transaction, and keeps
    /// the verification index in step: changes that take validity away reach the index before
    /// the commit, changes that grant it after (see `derived.rs`). Made durable before it
    /// returns.
    pub(super) fn commit(
        &self,
        changes: &[Change],
        events: &[Event],
        sealed: Option<Sealed<'_>>,
        points: &Points,
    ) -> Result<()> {
        if let Some(s) = &sealed {
            let current = self.vault.get(VAULT_HEADER).map_err(|e| self.sled(e))?;
            if current.as_deref() != Some(s.header) {
                return Err(self.tx_error(TransactionError::Abort(Abort::VaultChanged)));
            }
        }
        let indexed = |grants: Grants| -> Vec<IndexRecord> {
            changes
                .iter()
                .filter(|c| c.grants == grants)
                .filter_map(|c| index_record(&c.record))
                .collect()
        };
        let (less, more) = (indexed(Grants::Less), indexed(Grants::More));
        let before = self.generation()?;
        let last = before + u64::from(!less.is_empty()) + u64::from(!more.is_empty());
        if !less.is_empty() {
            self.update_index(&less, before + 1)?;
        }
        crate::fault::point(points.indexed);
        // From here the change is made and reported, whatever signal comes.
        crate::cleanup::commit();
        let trees = (
            &self.tokens,
            &self.by_hash,
            &self.by_name,
            &self.log,
            &self.vault,
            &self.meta,
        );
        let result = trees.transaction(|(tokens, by_hash, by_name, log, vault, meta)| {
            for c in changes {
                let r = &c.record;
                let key = name_key(&r.name);
                if c.new_hash {
                    if tokens.get(&r.id)?.is_some() {
                        return abort(Abort::IdTaken);
                    }
                    let hash = TokenHash::from_hex(&r.sha256).expect("a hash we made parses");
                    if by_hash.get(hash.0)?.is_some() {
                        return abort(Abort::HashTaken);
                    }
                    by_hash.insert(&hash.0, r.id.as_bytes())?;
                }
                match c.name {
                    NameChange::Keep => {}
                    // Free the name for reuse, unless the name index already points elsewhere.
                    NameChange::Free => {
                        if by_name.get(key.as_bytes())?.as_deref() == Some(r.id.as_bytes()) {
                            by_name.remove(key.as_bytes())?;
                        }
                    }
                    NameChange::Claim => {
                        if let Some(holder) = by_name.get(key.as_bytes())? {
                            return abort(Abort::NameTaken {
                                name: r.name.clone(),
                                holder: String::from_utf8_lossy(&holder).into(),
                            });
                        }
                        by_name.insert(key.as_bytes(), r.id.as_bytes())?;
                    }
                }
                // A revoked token's kept secret is worthless and still a secret: erase it.
                if c.forget {
                    vault.remove(secret_key(&r.id))?;
                }
                tokens.insert(r.id.as_bytes(), r.to_bytes())?;
            }
            if let Some(s) = &sealed {
                if vault.get(VAULT_HEADER)?.as_deref() != Some(s.header) {
                    return abort(Abort::VaultChanged);
                }
                vault.insert(secret_key(&s.id), s.bytes.as_slice())?;
            }
            for e in events {
                append(log, meta, e)?;
            }
            meta.insert(GENERATION_KEY, &last.to_be_bytes())?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        crate::fault::point(points.committed);
        self.make_durable()?;
        crate::fault::point(points.durable);
        // What grants validity reaches the index after sled: a crash in between leaves the
        // index behind (rebuilt at the next open), never a token verifying that sled refuses.
        if !more.is_empty() {
            self.update_index(&more, last)?;
        }
        Ok(())
    }
}

/// `record` revoked at `at` (ending any grace).
pub(super) fn revoked(mut record: Record, at: Time) -> Record {
    record.status = Status::Revoked;
    record.revoked_at = Some(at);
    record.grace_until = None;
    record
}

/// Whether a change makes the token verify in more cases or in fewer; it decides whether the
/// index is written after the commit or before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grants {
    More,
    Less,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameChange {
    Keep,
    /// The token stops holding its name (revoked).
    Free,
    /// The token takes its name, which no active token may hold.
    Claim,
}

/// One record to write, and what goes with it.
#[derive(Debug, Clone)]
pub(super) struct Change {
    pub record: Record,
    pub grants: Grants,
    pub name: NameChange,
    /// A new token: its hash joins `by_hash` (refused if there already).
    pub new_hash: bool,
    /// Erase its kept secret.
    pub forget: bool,
}

impl Change {
    pub fn new(record: Record, grants: Grants) -> Change {
        Change {
            record,
            grants,
            name: NameChange::Keep,
            new_hash: false,
            forget: false,
        }
    }

    pub fn claim_name(self) -> Change {
        Change {
            name: NameChange::Claim,
            ..self
        }
    }

    pub fn free_name(self) -> Change {
        Change {
            name: NameChange::Free,
            ..self
        }
    }

    pub fn new_hash(self) -> Change {
        Change {
            new_hash: true,
            ..self
        }
    }

    pub fn forget(self) -> Change {
        Change {
            forget: true,
            ..self
        }
    }
}

/// A new token's sealed plaintext for the vault, and the vault header it was sealed under.
pub(super) struct Sealed<'a> {
    pub header: &'a [u8],
    pub id: String,
    pub bytes: Vec<u8>,
}

/// The crash points of one kind of change (`crate::fault`).
pub(super) struct Points {
    pub indexed: &'static str,
    pub committed: &'static str,
    pub durable: &'static str,
}

const CREATE_POINTS: Points = Points {
    indexed: "create-indexed",
    committed: "create-committed",
    durable: "create-durable",
};
pub(super) const REVOKE_POINTS: Points = Points {
    indexed: "revoke-indexed",
    committed: "revoke-committed",
    durable: "revoke-durable",
};
