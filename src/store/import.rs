//! Bulk import of token records, streamed and all or nothing.
//!
//! Records arrive one at a time ([`Importer::add`]) and commit in chunks of [`IMPORT_CHUNK`],
//! each record marked *pending* (in the `pending` tree, under this import's number) while
//! `meta/import_pending` names the import. [`Import::finish`](crate::engine::Import::finish) then, in one transaction,
//! clears the mark, moves the generation on and logs one `imported` event, and writes the
//! verification index. Until then nothing is visible to verify (the index does not have the
//! records) and everything can be undone: a bad line, a clash, a dropped importer or a crash
//! (the next open rolls back a pending import) removes every pending record. So memory stays
//! bounded by a chunk, and an import of any size either happens whole or not at all.

use crate::engine::{Engine as _, Tokens as _};
use std::collections::HashSet;

use sled::Transactional;

use super::tx::append;
use super::{GENERATION_KEY, Store};
use crate::engine::new_id;
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::{EventKind, Record};
use crate::token::TokenHash;
use crate::transfer::Incoming;

/// The `meta` key naming the import under way.
pub(super) const IMPORT_PENDING_KEY: &str = "import_pending";

/// sled's cache for an import: a ceiling, not an allocation. Larger caches were no faster here
/// and cost resident memory.
pub const BULK_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Records an import commits per transaction: large enough to amortise the commit, small
/// enough that sled's in-memory write set stays small.
pub const IMPORT_CHUNK: usize = 2048;

pub use crate::engine::ImportReport;

/// An import under way. Dropped without [`Import::finish`](crate::engine::Import::finish), it undoes itself.
pub struct Importer<'a> {
    store: &'a Store,
    batch: u64,
    skip_existing: bool,
    chunk: Vec<(TokenHash, Record)>,
    /// Ids, hashes and name keys in `chunk` (earlier chunks are in sled, pending).
    ids: HashSet<String>,
    hashes: HashSet<[u8; 32]>,
    names: HashSet<String>,
    report: ImportReport,
    finished: bool,
    /// What every witness on this machine saw granted, by token id (`crate::uses`).
    witness: std::collections::HashMap<String, u64>,
    /// Imported records with rotation links, and their lines: checked against each other and
    /// the store once all are in ([`Import::finish`](crate::engine::Import::finish)).
    linked: Vec<(String, usize)>,
}

/// The `pending` key of one record: the import's number (big-endian) then the token id.
fn pending_key(batch: u64, id: &str) -> Vec<u8> {
    [&batch.to_be_bytes()[..], id.as_bytes()].concat()
}

impl Store {
    /// Starts an import. With `skip_existing`, a record whose id, token or active name already
    /// exists (in the store or earlier in this import) is left out; otherwise it refuses the
    /// whole import.
    ///
    /// # Errors
    /// The store's own errors.
    pub(super) fn begin_import(&self, skip_existing: bool) -> Result<Importer<'_>> {
        Ok(Importer {
            store: self,
            batch: self.db.generate_id().map_err(|e| self.sled(e))?,
            skip_existing,
            chunk: Vec::with_capacity(IMPORT_CHUNK),
            ids: HashSet::new(),
            hashes: HashSet::new(),
            names: HashSet::new(),
            report: ImportReport::default(),
            finished: false,
            witness: crate::uses::witness::by_any_store(),
            linked: Vec::new(),
        })
    }

    /// Undoes an import that did not finish (a crash, or one given up): every record it left
    /// pending is removed. Called at open, under the lock.
    pub(super) fn roll_back_import(&self) -> Result<()> {
        let pending = self
            .meta
            .get(IMPORT_PENDING_KEY)
            .map_err(|e| self.sled(e))?;
        let batch = match pending.as_deref().map(<[u8; 8]>::try_from) {
            Some(Ok(b)) => Some(u64::from_be_bytes(b)),
            _ => None,
        };
        if let Some(batch) = batch {
            self.remove_pending(batch)?;
            self.meta
                .remove(IMPORT_PENDING_KEY)
                .map_err(|e| self.sled(e))?;
            self.make_durable()?;
        }
        // Marks a finished import did not get to clear.
        if self.pending.first().map_err(|e| self.sled(e))?.is_some() {
            self.pending.clear().map_err(|e| self.sled(e))?;
            self.make_durable()?;
        }
        Ok(())
    }

    /// Removes the pending marks of import `batch` and the records they mark.
    fn remove_pending(&self, batch: u64) -> Result<()> {
        let prefix = batch.to_be_bytes();
        loop {
            let keys: Vec<sled::IVec> = self
                .pending
                .scan_prefix(prefix)
                .keys()
                .take(IMPORT_CHUNK)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| self.sled(e))?;
            if keys.is_empty() {
                return Ok(());
            }
            let mut doomed = Vec::new();
            for key in &keys {
                let id = String::from_utf8_lossy(&key[8..]).into_owned();
                if let Some(r) = self.get(&id)? {
                    doomed.push(r);
                }
            }
            let trees = (&self.tokens, &self.by_hash, &self.by_name, &self.pending);
            trees
                .transaction(|(tokens, by_hash, by_name, pending)| {
                    for r in &doomed {
                        tokens.remove(r.id.as_bytes())?;
                        if let Some(h) = TokenHash::from_hex(&r.sha256)
                            && by_hash.get(h.0)?.as_deref() == Some(r.id.as_bytes())
                        {
                            by_hash.remove(&h.0)?;
                        }
                        let key = name_key(&r.name);
                        if by_name.get(key.as_bytes())?.as_deref() == Some(r.id.as_bytes()) {
                            by_name.remove(key.as_bytes())?;
                        }
                    }
                    for key in &keys {
                        pending.remove(key)?;
                    }
                    Ok(())
                })
                .map_err(|e| self.tx_error(e))?;
        }
    }
}

impl crate::engine::Import for Importer<'_> {
    /// Checks one record against the store and this import so far, and queues it.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the line when it clashes (without `skip_existing`) or its hash
    /// does not parse; the store's own errors. The import is then undone when dropped.
    fn add(&mut self, item: Incoming) -> Result<()> {
        let store = self.store;
        let mut record = item.record;
        let hash = TokenHash::from_hex(&record.sha256).ok_or_else(|| {
            Error::usage(format!(
                "line {}: `sha256` is not 64 hex digits; nothing was imported",
                item.line
            ))
        })?;
        let key = name_key(&record.name);
        let taken = |tree: &sled::Tree, k: &[u8]| tree.get(k).map(|v| v.is_some());
        let sled = |e| store.sled(e);
        // The same id twice in one input is a data error, whatever the flags.
        if item.keeps_id
            && (self.ids.contains(&record.id)
                || taken(&store.pending, &pending_key(self.batch, &record.id)).map_err(sled)?)
        {
            return Err(Error::usage(format!(
                "line {}: the id {} appears twice in the input; nothing was imported",
                item.line, record.id
            )));
        }
        let clash = if item.keeps_id
            && (self.ids.contains(&record.id)
                || taken(&store.tokens, record.id.as_bytes()).map_err(sled)?)
        {
            Some("id")
        } else if self.hashes.contains(&hash.0) || taken(&store.by_hash, &hash.0).map_err(sled)? {
            Some("token (the same SHA-256)")
        } else if record.is_active()
            && (self.names.contains(&key) || taken(&store.by_name, key.as_bytes()).map_err(sled)?)
        {
            Some("active name")
        } else {
            None
        };
        match clash {
            Some(_) if self.skip_existing => {
                self.report.skipped.push(item.line);
                return Ok(());
            }
            Some(what) => {
                return Err(Error::usage(format!(
                    "line {}: a token with this {what} already exists (pass --skip-existing to leave such lines out); nothing was imported",
                    item.line
                )));
            }
            None => {}
        }
        // A count never goes down, not even by an import: uses granted after the export was
        // taken (in the store it came from, which any witness here saw) stay spent.
        if record.max_uses.is_some()
            && let Some(&seen) = self.witness.get(&record.id)
        {
            record.use_count = record.use_count.max(seen);
        }
        if !item.keeps_id {
            record.id = loop {
                let id = new_id();
                if !self.ids.contains(&id) && !taken(&store.tokens, id.as_bytes()).map_err(sled)? {
                    break id;
                }
            };
        }
        if !item.keeps_seq {
            record.seq = store.db.generate_id().map_err(sled)?;
        }
        if record.replaces.is_some() || record.replaced_by.is_some() {
            self.linked.push((record.id.clone(), item.line));
        }
        self.ids.insert(record.id.clone());
        self.hashes.insert(hash.0);
        if record.is_active() {
            self.names.insert(key);
        }
        self.chunk.push((hash, record));
        if self.chunk.len() >= IMPORT_CHUNK {
            self.commit_chunk()?;
        }
        Ok(())
    }

    /// How many records have been accepted so far.
    fn accepted(&self) -> usize {
        self.report.imported + self.chunk.len()
    }

    /// Commits the rest, writes the verification index with every imported token, then makes
    /// the import visible in one transaction (one `imported` event with the count), durably.
    ///
    /// # Errors
    /// [`Error::Usage`] naming the line whose rotation links do not hold together with the
    /// rest of the input and the store (`crate::transfer::RotationCheck`); the store's own errors. The
    /// import is then undone.
    fn finish(mut self: Box<Self>) -> Result<ImportReport> {
        self.commit_chunk()?;
        let store = self.store;
        // Every imported record is in sled now (pending), so a link is looked up alike
        // whether its other end came in this input or was in the store.
        crate::transfer::check_imported_rotations(&self.linked, |id| store.get(id))?;
        if self.report.imported > 0 {
            let generation = store.generation()? + 1;
            let mut event = store.event(EventKind::Imported, None, None);
            event.count = self.report.imported as u64;
            // The point of no return: a signal from here on lets the import finish and be
            // reported; one before it undoes the import, as "nothing more was done" says.
            crate::cleanup::commit();
            (&store.meta, &store.log)
                .transaction(|(meta, log)| {
                    meta.remove(IMPORT_PENDING_KEY)?;
                    meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                    append(log, meta, &event)?;
                    Ok(())
                })
                .map_err(|e| store.tx_error(e))?;
            store.make_durable()?;
            crate::fault::point("import-durable");
            crate::fault::pause("import-durable");
            // New tokens reach the index after sled (see `Store::create`): built from sled,
            // which now holds them all.
            store.rebuild_index_at(generation)?;
            // The marks only mattered while the import could be undone (one import at a time:
            // every mark is this one's).
            store.pending.clear().map_err(|e| store.sled(e))?;
        }
        self.finished = true;
        Ok(std::mem::take(&mut self.report))
    }
}

impl Importer<'_> {
    /// Commits the queued records, pending.
    fn commit_chunk(&mut self) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let store = self.store;
        let batch = self.batch;
        let trees = (
            &store.tokens,
            &store.by_hash,
            &store.by_name,
            &store.pending,
            &store.meta,
        );
        let chunk = &self.chunk;
        trees
            .transaction(|(tokens, by_hash, by_name, pending, meta)| {
                meta.insert(IMPORT_PENDING_KEY, &batch.to_be_bytes())?;
                for (hash, record) in chunk {
                    tokens.insert(record.id.as_bytes(), record.to_bytes())?;
                    by_hash.insert(&hash.0, record.id.as_bytes())?;
                    if record.is_active() {
                        let key = name_key(&record.name);
                        by_name.insert(key.as_bytes(), record.id.as_bytes())?;
                    }
                    pending.insert(pending_key(batch, &record.id), &[])?;
                }
                Ok(())
            })
            .map_err(|e| store.tx_error(e))?;
        crate::fault::point("import-chunk");
        crate::fault::hold("import-chunk");
        self.report.imported += self.chunk.len();
        self.chunk.clear();
        self.ids.clear();
        self.hashes.clear();
        self.names.clear();
        Ok(())
    }
}

impl Drop for Importer<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Best effort: what is left pending is rolled back at the next open anyway.
        let store = self.store;
        if store.remove_pending(self.batch).is_ok() {
            let _ = store.meta.remove(IMPORT_PENDING_KEY);
            let _ = store.make_durable();
        }
    }
}
