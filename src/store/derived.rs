//! What lives beside sled and is kept in step with it: the verification index (derived from the
//! records) and the journal (verify's uses and failures, folded into the records and the log).
//!
//! Crash ordering, all under the store lock: a change that takes a token away (a revoke) writes
//! the new index *before* its sled commit; a change that adds tokens (create, import) writes it
//! *after*. A crash between them leaves the index a generation apart from sled, and the next
//! open rebuilds it from sled; meanwhile verify answers from the index, which errs on the safe
//! side: a revoke can take effect early (before it is acknowledged), never late, and a token is
//! never valid before sled has it.

use crate::engine::Engine as _;
use std::collections::{BTreeMap, HashMap};
use std::fs;

use sled::Transactional;

use super::failures;
use super::tx::append;
use super::{JOURNAL_FOLDED_KEY, Store, damaged};
use crate::counters::Failure;
use crate::error::{Error, Result};
use crate::index::{self, Index, IndexRecord, IndexStatus};
use crate::journal::{self, EntryKind};
use crate::record::{Record, Status};
use crate::time::Time;
use crate::token::TokenHash;
use crate::verdict::Reason;

/// What the index holds for a record; `None` for a record whose hash does not parse.
pub(crate) fn index_record(r: &Record) -> Option<IndexRecord> {
    let hash = TokenHash::from_hex(&r.sha256)?;
    let status = match r.status {
        Status::Active => IndexStatus::Active,
        Status::Revoked => IndexStatus::Revoked,
    };
    Some(IndexRecord {
        disabled: r.disabled,
        expires_at: r.expires_at,
        grace_until: r.grace_until,
        max_uses: r.max_uses,
        // What sled has counted: a floor for the use limit (`crate::uses` counts the rest).
        uses: r.use_count,
        scopes: r.scopes.clone(),
        allow_ip: r.allow_ip.clone(),
        ..IndexRecord::plain(hash, &r.id, &r.name, status)
    })
}

/// Journal entries folded per transaction: sled holds a transaction's writes in memory.
const FOLD_CHUNK: usize = 4096;

impl Store {
    /// Rebuilds the index unless it is this store's, at this generation, with a sound header.
    pub(super) fn check_index(&self) -> Result<()> {
        let generation = self.generation()?;
        match Index::open(&self.dir) {
            Ok(ix)
                if ix.header().store_id == self.store_id
                    && ix.header().generation == generation => {}
            _ => self.rebuild_index()?,
        }
        Ok(())
    }

    /// Writes the index afresh from every record in sled, at the current generation.
    ///
    /// # Errors
    /// The store's errors reading the records; [`Error::DiskFull`] or [`Error::Io`] writing.
    pub fn rebuild_index(&self) -> Result<()> {
        self.rebuild_index_at(self.generation()?)
    }

    /// The index built afresh from sled at the current generation, in memory; it is also
    /// written in place of the file, unless that fails (then the file is left as it was).
    ///
    /// # Errors
    /// The store's errors reading the records.
    pub fn fresh_index(&self) -> Result<Index> {
        let bytes = self.index_bytes(self.generation()?)?;
        let _ = index::write(&self.dir, &bytes);
        Index::from_bytes(bytes).map_err(|e| Error::internal(format!("a fresh index: {e}")))
    }

    /// Writes the index afresh from every record in sled, marked with `generation`.
    pub(super) fn rebuild_index_at(&self, generation: u64) -> Result<()> {
        let bytes = self.index_bytes(generation)?;
        self.write_index_bytes(&bytes)
    }

    /// A whole index file for every record in sled, marked with `generation`.
    fn index_bytes(&self, generation: u64) -> Result<Vec<u8>> {
        let mut records: Vec<(TokenHash, Vec<u8>)> = Vec::new();
        for item in self.tokens.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            if let Some(r) = index_record(&Record::from_bytes(&bytes)?) {
                records.push((r.hash, r.encode()));
            }
        }
        records.sort_by_key(|r| r.0.0);
        // Two records of one hash cannot both be in sled (`by_hash` keeps it unique); if damage
        // made it so, the first wins here and `doctor` reports it.
        records.dedup_by(|a, b| a.0 == b.0);
        self.build_index(&records, generation)
    }

    /// Writes the index for `generation`: the index of the generation before, with each changed
    /// token replaced or added. Called under the lock, just before or just after the commit
    /// that makes `generation` (see the module's note on order).
    pub(super) fn update_index(&self, changes: &[IndexRecord], generation: u64) -> Result<()> {
        let current = Index::load(&self.dir)
            .ok()
            .filter(|ix| {
                ix.header().store_id == self.store_id
                    && ix.header().generation == generation.saturating_sub(1)
            })
            .and_then(|ix| ix.records().ok());
        let Some(current) = current else {
            // No sound index to start from: everything comes from sled, plus the changes.
            let mut all: BTreeMap<[u8; 32], Vec<u8>> = BTreeMap::new();
            for item in self.tokens.iter() {
                let (_, bytes) = item.map_err(|e| self.sled(e))?;
                if let Some(r) = index_record(&Record::from_bytes(&bytes)?) {
                    all.insert(r.hash.0, r.encode());
                }
            }
            for c in changes {
                all.insert(c.hash.0, c.encode());
            }
            let records: Vec<(TokenHash, Vec<u8>)> =
                all.into_iter().map(|(h, r)| (TokenHash(h), r)).collect();
            return self.write_index(&records, generation);
        };
        let mut changed: Vec<(TokenHash, Vec<u8>)> =
            changes.iter().map(|c| (c.hash, c.encode())).collect();
        changed.sort_by_key(|c| c.0.0);
        changed.dedup_by(|a, b| a.0 == b.0);
        // Merge two sorted runs; a changed token replaces its old record.
        let mut merged = Vec::with_capacity(current.len() + changed.len());
        let mut old = current.into_iter().peekable();
        for (hash, record) in changed {
            while old.peek().is_some_and(|(h, _)| h.0 < hash.0) {
                merged.push(old.next().expect("peeked"));
            }
            if old.peek().is_some_and(|(h, _)| *h == hash) {
                old.next();
            }
            merged.push((hash, record));
        }
        merged.extend(old);
        self.write_index(&merged, generation)
    }

    fn write_index(&self, records: &[(TokenHash, Vec<u8>)], generation: u64) -> Result<()> {
        let bytes = self.build_index(records, generation)?;
        self.write_index_bytes(&bytes)
    }

    fn build_index(&self, records: &[(TokenHash, Vec<u8>)], generation: u64) -> Result<Vec<u8>> {
        index::build(
            self.store_id,
            generation,
            records.iter().map(|(h, r)| (*h, r.as_slice())),
        )
        .map_err(|e| Error::internal(format!("building the index: {e}")))
    }

    fn write_index_bytes(&self, bytes: &[u8]) -> Result<()> {
        index::write(&self.dir, bytes).map_err(|e| {
            Error::io_at(
                format!(
                    "cannot write the verification index in {}",
                    self.dir.display()
                ),
                &self.dir,
                e,
            )
        })
    }

    /// Folds the journal into the records and the audit log, once, then removes it: each
    /// token's uses add to its `use_count` and move its `last_used_at`; failures are added to
    /// the `verify_failed` counters of their reason, token, user and hour (`failures`).
    pub(super) fn fold_journal(&self) -> Result<()> {
        // A `journal.folding` a crash left behind first, then the journal verifies have written
        // to since: both, so every acknowledged use is visible at once.
        self.fold_set_aside()?;
        for _ in 0..2 {
            self.fold_one()?;
        }
        Ok(())
    }

    /// Whether all the journal holds is failures of this store's verifies, fewer than
    /// [`super::FAILURES_WAITING`] bytes of them, with nothing a crashed or refused fold left
    /// beside it: what an [`super::OpenMode::Records`] open may leave for later. Anything it
    /// cannot read says no, so the fold decides.
    pub(super) fn only_failures_waiting(&self) -> bool {
        use std::io::Read;
        let aside = [journal::FOLDING_FILE, journal::DAMAGED_FILE];
        if aside
            .iter()
            .any(|f| fs::symlink_metadata(self.dir.join(f)).is_ok())
        {
            return false;
        }
        let Ok(file) = fs::File::open(self.dir.join(journal::FILE)) else {
            return false;
        };
        let mut bytes = Vec::new();
        // One byte past the bound tells a journal over it.
        let read = file
            .take(super::FAILURES_WAITING + 1)
            .read_to_end(&mut bytes);
        if read.is_err() || bytes.len() as u64 > super::FAILURES_WAITING {
            return false;
        }
        let waiting = journal::read(&bytes);
        waiting.header.is_some_and(|h| h.store_id == self.store_id)
            && waiting.entries.iter().all(|e| e.kind == EntryKind::Failure)
    }

    fn fold_one(&self) -> Result<()> {
        let Some(folding) = journal::take(&self.dir, self.wait).map_err(|e| self.fold_io(e))?
        else {
            return Ok(());
        };
        crate::fault::point("fold-read");
        // Another store's journal (a copied file) has nothing of ours to count: it is kept
        // aside for `doctor` to report, not folded.
        if folding.header.is_some_and(|h| h.store_id != self.store_id) {
            return journal::set_aside_folding(&self.dir).map_err(|e| self.fold_io(e));
        }
        self.fold_entries(&folding)?;
        journal::finish(&self.dir).map_err(|e| self.fold_io(e))
    }

    /// A journal `verify` set aside for its damaged header (`journal.damaged`) still holds
    /// acknowledged entries, each with its own CRC: they are folded in like any journal's, and
    /// the file removed. One that is another store's is left for `doctor`.
    fn fold_set_aside(&self) -> Result<()> {
        let path = self.dir.join(journal::DAMAGED_FILE);
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            return Ok(());
        }
        let bytes = fs::read(&path).map_err(|e| self.fold_io(e))?;
        let folding = journal::read(&bytes);
        if folding.header.is_some_and(|h| h.store_id != self.store_id) {
            return Ok(());
        }
        self.fold_entries(&folding)?;
        fs::remove_file(&path)
            .and_then(|()| fs::File::open(&self.dir)?.sync_all())
            .map_err(|e| self.fold_io(e))
    }

    /// Folds a journal's entries into sled, resuming where a fold of the same journal cut
    /// short by a crash left off (never counting twice), and makes them durable.
    fn fold_entries(&self, folding: &journal::Folding) -> Result<()> {
        // A damaged header: each entry still carries its own CRC, and a use counts only for a
        // token this store has, so the acknowledged entries are folded, not lost.
        let journal_id = folding.header.map_or(folding.fallback_id, |h| h.journal_id);
        let folded = self
            .meta
            .get(JOURNAL_FOLDED_KEY)
            .map_err(|e| self.sled(e))?;
        let done = match folded.as_deref() {
            Some(b) if b.len() == 24 && b[..16] == journal_id => {
                u64::from_be_bytes(b[16..24].try_into().expect("8 bytes")) as usize
            }
            _ => 0,
        };
        let mut at = done.min(folding.entries.len());
        for chunk in folding.entries[at..].chunks(FOLD_CHUNK) {
            at += chunk.len();
            self.apply(chunk, journal_id, at as u64)?;
            crate::fault::point("fold-chunk");
        }
        self.make_durable()?;
        crate::fault::point("fold-committed");
        Ok(())
    }

    fn fold_io(&self, e: std::io::Error) -> Error {
        if let Some(path) = crate::lockfile::locked_path(&e) {
            return Error::Busy {
                path,
                waited: crate::lockfile::waited(self.wait),
            };
        }
        Error::io_at(
            format!("cannot fold the journal in {}", self.dir.display()),
            &self.dir,
            e,
        )
    }

    /// Applies one chunk of a journal's entries, recording that the first `done` are in.
    fn apply(&self, entries: &[journal::Entry], journal_id: [u8; 16], done: u64) -> Result<()> {
        // Uses, per token: how many, the latest time, the address of the latest use that gave
        // one.
        let mut uses: HashMap<&str, (u64, Time, Option<std::net::IpAddr>)> = HashMap::new();
        // Failures, in order, to count (`failures`).
        let mut failed = Vec::new();
        // The journal is read from a file: only what verify writes is believed. A time ahead of
        // the clock is taken as now, so no later change can come before it.
        let now = super::now();
        // Whether each token is this store's, looked up once per chunk.
        let mut known: HashMap<&str, bool> = HashMap::new();
        for e in entries {
            match e.kind {
                EntryKind::Use => {
                    let Some(id) = e.token_id.as_deref() else {
                        continue;
                    };
                    let at = e.at.min(now);
                    let slot = uses.entry(id).or_insert((0, at, None));
                    slot.0 += 1;
                    slot.1 = slot.1.max(at);
                    // Entries are in the order they were acknowledged.
                    if e.ip.is_some() {
                        slot.2 = e.ip;
                    }
                }
                EntryKind::Failure => {
                    // A reason verify never gives for a failure is no entry it wrote.
                    let Some(reason) = Reason::from_code(e.reason).filter(|r| *r != Reason::Valid)
                    else {
                        continue;
                    };
                    // An id that is no token of ours (not an id at all, or a token itself) is
                    // not kept: the failure is counted as of no known token.
                    let token_id = match e.token_id.as_deref().filter(|id| super::looks_like_id(id))
                    {
                        Some(id) => {
                            let ours = match known.get(id) {
                                Some(ours) => *ours,
                                None => {
                                    let ours = self.get(id)?.is_some();
                                    known.insert(id, ours);
                                    ours
                                }
                            };
                            ours.then(|| id.to_owned())
                        }
                        None => None,
                    };
                    // Written by verify, but read from a file: kept only masked (a token in any
                    // disguise) and escaped.
                    let actor =
                        crate::error::Masked::new(e.actor.escape_debug().to_string()).to_string();
                    failed.push(Failure {
                        reason: reason.as_str(),
                        actor,
                        at: e.at.min(now),
                        count: u64::from(e.count),
                        token_id,
                        ip: e.ip,
                        further: false,
                    });
                }
            }
        }
        let mut updated = Vec::with_capacity(uses.len());
        for (id, (n, at, ip)) in &uses {
            // A use of a token sled no longer has (a store restored from a backup) is dropped.
            if let Some(mut r) = self.get(id)? {
                // Held at the largest count a JSON reader holds exactly (`policy`).
                r.use_count = r
                    .use_count
                    .saturating_add(*n)
                    .min(crate::policy::MAX_JSON_INTEGER);
                r.last_used_at = Some(r.last_used_at.map_or(*at, |t| t.max(*at)));
                if ip.is_some() {
                    r.last_used_ip = *ip;
                }
                updated.push(r);
            }
        }
        // The counters of these hours already at the log's end are added to, not repeated.
        let (tail, events) = self.fold_failures(&failed)?;
        let result = (&self.tokens, &self.log, &self.meta).transaction(|(tokens, log, meta)| {
            for r in &updated {
                tokens.insert(r.id.as_bytes(), r.to_bytes())?;
            }
            failures::take_off(log, meta, &tail)?;
            for e in &events {
                append(log, meta, e)?;
            }
            let mut progress = journal_id.to_vec();
            progress.extend_from_slice(&done.to_be_bytes());
            meta.insert(JOURNAL_FOLDED_KEY, progress)?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))
    }

    /// Checks that the index says what sled says about one token, for `doctor` and tests.
    ///
    /// # Errors
    /// [`Error::Store`] naming the first difference.
    pub fn index_matches(&self, record: &Record) -> Result<()> {
        let ix = Index::open(&self.dir).map_err(|e| damaged(&self.dir, &e.to_string()))?;
        self.index_agrees(&ix, record)
    }

    /// [`Store::index_matches`] against an index already open.
    pub(super) fn index_agrees(&self, ix: &Index, record: &Record) -> Result<()> {
        let want = index_record(record);
        let got = match &want {
            Some(w) => ix
                .lookup(&w.hash)
                .map_err(|e| damaged(&self.dir, &e.to_string()))?,
            None => None,
        };
        // The use count in the index is a floor, rewritten only with the token's other fields.
        let without_uses = |r: Option<IndexRecord>| r.map(|r| IndexRecord { uses: 0, ..r });
        let (want, got) = (without_uses(want), without_uses(got));
        if got != want {
            return Err(damaged(
                &self.dir,
                &format!("the verification index disagrees about {}", record.id),
            ));
        }
        Ok(())
    }
}
