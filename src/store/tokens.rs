//! The directory engine's side of the seam (`crate::engine`): records in sled, and
//! [`Engine::commit`], the one way a change to token records is written (with its events, the
//! verification index kept in step).

use std::collections::HashSet;

use sled::Transactional;
use sled::transaction::TransactionError;

use super::derived::index_record;
use super::tx::{Abort, abort, append};
use super::vault::{SECRET_PREFIX, VAULT_HEADER, secret_key};
use super::{GENERATION_KEY, Store, damaged};
use crate::engine::{Change, Engine, Grants, NameChange, NewSecret, Points};
use crate::error::Result;
use crate::index::IndexRecord;
use crate::name::name_key;
use crate::record::{Event, Record};
use crate::token::TokenHash;

impl Engine for Store {
    fn shown(&self) -> String {
        self.dir.display().to_string()
    }

    fn actor(&self) -> &str {
        &self.actor
    }

    /// One record by id.
    fn get(&self, id: &str) -> Result<Option<Record>> {
        match self.tokens.get(id).map_err(|e| self.sled(e))? {
            Some(bytes) => Record::from_bytes(&bytes).map(Some),
            None => Ok(None),
        }
    }

    fn active_named(&self, key: &str) -> Result<Option<Record>> {
        let Some(id) = self.by_name.get(key.as_bytes()).map_err(|e| self.sled(e))? else {
            return Ok(None);
        };
        let id = String::from_utf8_lossy(&id);
        self.get(&id)?.map(Some).ok_or_else(|| {
            damaged(
                &self.dir,
                &format!("its name index points at a missing token {id}"),
            )
        })
    }

    fn visit_records(&self, f: &mut dyn FnMut(Record) -> Result<bool>) -> Result<()> {
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

    fn new_seq(&self) -> Result<u64> {
        self.db.generate_id().map_err(|e| self.sled(e))
    }

    /// Commits changes to token records with their events, in one sled transaction, and keeps
    /// the verification index in step: changes that take validity away reach the index before
    /// the commit, changes that grant it after (see `derived.rs`). Made durable before it
    /// returns.
    fn commit(
        &self,
        changes: &[Change],
        events: &[Event],
        secret: Option<NewSecret<'_>>,
        points: &Points,
    ) -> Result<()> {
        if let Some(s) = &secret {
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
            if let Some(s) = &secret {
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

    fn append(&self, events: &[Event]) -> Result<()> {
        (&self.log, &self.meta)
            .transaction(|(log, meta)| {
                for event in events {
                    append(log, meta, event)?;
                }
                Ok(())
            })
            .map_err(|e| self.tx_error(e))?;
        self.make_durable()
    }

    fn visit_events_newest_first(&self, f: &mut dyn FnMut(&[u8]) -> Result<bool>) -> Result<()> {
        for item in self.log.iter().rev() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            if !f(&bytes)? {
                break;
            }
        }
        Ok(())
    }

    fn check_log(&self) -> Result<u64> {
        self.check_chain()
    }

    fn vault_header(&self) -> Result<Option<Vec<u8>>> {
        let header = self.vault.get(VAULT_HEADER).map_err(|e| self.sled(e))?;
        Ok(header.map(|h| h.to_vec()))
    }

    fn kept(&self, id: &str) -> Result<Option<Vec<u8>>> {
        let sealed = self.vault.get(secret_key(id)).map_err(|e| self.sled(e))?;
        Ok(sealed.map(|s| s.to_vec()))
    }

    fn kept_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.vault.scan_prefix(SECRET_PREFIX) {
            let (key, sealed) = item.map_err(|e| self.sled(e))?;
            let id = String::from_utf8_lossy(&key[SECRET_PREFIX.len()..]).into_owned();
            out.push((id, sealed.to_vec()));
        }
        Ok(out)
    }

    fn kept_ids(&self) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for key in self.vault.scan_prefix(SECRET_PREFIX).keys() {
            let key = key.map_err(|e| self.sled(e))?;
            out.insert(String::from_utf8_lossy(&key[SECRET_PREFIX.len()..]).into_owned());
        }
        Ok(out)
    }

    fn put_vault(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        event: &Event,
    ) -> Result<()> {
        self.put_vault_tx(expected, header, kept, event)
    }

    fn remove_secret(&self, id: &str, event: &Event) -> Result<bool> {
        self.remove_secret_tx(id, event)
    }

    fn store_id(&self) -> [u8; 16] {
        Store::store_id(self)
    }

    fn contents(&self) -> Result<(u64, u64, bool)> {
        Store::contents(self)
    }

    fn visit_stored_records(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        self.each_stored_record(f)
    }

    fn visit_stored_events(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        self.each_stored_event(f)
    }

    fn note_backup(&self, file: &std::path::Path, at: crate::time::Time) -> Result<()> {
        super::note_backup(&self.dir, file, at)
    }

    fn begin_import(&self, skip_existing: bool) -> Result<Box<dyn crate::engine::Import + '_>> {
        Ok(Box::new(Store::begin_import(self, skip_existing)?))
    }

    fn witness_id(&self) -> Option<[u8; 16]> {
        Some(self.store_id())
    }

    fn discard_if_new(self: Box<Self>) {
        Store::discard_if_new(*self);
    }
}
