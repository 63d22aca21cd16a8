//! Bulk import into a PostgreSQL store: every record in one transaction on the store's
//! connection, so an import of any size happens whole or not at all, whatever ends it (a bad
//! line, a clash, a lost connection, a killed process): until it commits, no other host sees a
//! record of it.

use std::collections::{HashMap, HashSet};

use super::store::Store;
use super::tokens;
use crate::engine::{Engine, Import, ImportReport, Tokens as _, new_id};
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::EventKind;
use crate::record::Record;
use crate::token::TokenHash;
use crate::transfer::Incoming;

/// How many records an import holds before it checks them against the store and writes
/// them: each batch costs a few round trips whatever its size, and holds a few MiB.
const BATCH: usize = 10_000;

/// A record taken but not yet checked against the store.
struct Pending {
    line: usize,
    record: Record,
    hash: TokenHash,
    /// The name's key (`crate::name::name_key`), worked out once.
    key: String,
    keeps_id: bool,
    keeps_seq: bool,
}

/// An import under way: a transaction open on the store's connection. Records are checked
/// and written a batch at a time (three statements a batch, a binary `COPY` among them), in
/// the order of their lines, so what a line clashes with (the store, or a line before it)
/// and the first line at fault are what they would be one record at a time.
pub struct Importer<'a> {
    store: &'a Store,
    skip_existing: bool,
    /// Every id this import took (the same id twice in one input is a data error).
    ids: HashSet<String>,
    /// The SHA-256 of every record this import took.
    hashes: HashSet<[u8; 32]>,
    /// The name key of every active record this import took.
    names: HashSet<String>,
    pending: Vec<Pending>,
    report: ImportReport,
    /// What every witness on this machine saw granted, by token id (`crate::uses`): a count
    /// that came from a directory store here never goes down on the way in.
    witness: HashMap<String, u64>,
    /// Imported records with rotation links, and their lines: checked once all are in.
    linked: Vec<(String, usize)>,
    finished: bool,
}

impl<'a> Importer<'a> {
    /// Opens the import's transaction.
    ///
    /// # Errors
    /// The server's errors.
    pub fn begin(store: &'a Store, skip_existing: bool) -> Result<Importer<'a>> {
        store.execute("BEGIN")?;
        Ok(Importer {
            store,
            skip_existing,
            ids: HashSet::new(),
            hashes: HashSet::new(),
            names: HashSet::new(),
            pending: Vec::new(),
            report: ImportReport::default(),
            witness: crate::uses::witness::by_any_store(),
            linked: Vec::new(),
            finished: false,
        })
    }

    /// Checks the pending records against the store and each other, in line order, and
    /// writes those taken.
    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let in_store = self.in_store(&pending)?;
        let mut taken = Vec::with_capacity(pending.len());
        for p in pending {
            let Pending {
                line,
                mut record,
                hash,
                key,
                keeps_id,
                keeps_seq,
            } = p;
            if keeps_id && self.ids.contains(&record.id) {
                return Err(Error::usage(format!(
                    "line {line}: the id {} appears twice in the input; nothing was imported",
                    record.id
                )));
            }
            let clash = if keeps_id && in_store.ids.contains(&record.id) {
                Some("id")
            } else if in_store.hashes.contains(&hash.0) || self.hashes.contains(&hash.0) {
                Some("token (the same SHA-256)")
            } else if record.is_active()
                && (in_store.names.contains(&key) || self.names.contains(&key))
            {
                Some("active name")
            } else {
                None
            };
            match clash {
                Some(_) if self.skip_existing => {
                    self.report.skipped.push(line);
                    continue;
                }
                Some(what) => {
                    return Err(Error::usage(format!(
                        "line {line}: a token with this {what} already exists (pass --skip-existing to leave such lines out); nothing was imported"
                    )));
                }
                None => {}
            }
            if record.max_uses.is_some()
                && let Some(&seen) = self.witness.get(&record.id)
            {
                record.use_count = record.use_count.max(seen);
            }
            if keeps_id {
                self.ids.insert(record.id.clone());
            }
            self.hashes.insert(hash.0);
            if record.is_active() {
                self.names.insert(key.clone());
            }
            taken.push((record, key, keeps_id, keeps_seq, line));
        }
        self.assign_ids(&mut taken)?;
        let seqs = self.new_seqs(taken.iter().filter(|t| !t.3).count())?;
        let mut seqs = seqs.into_iter();
        let mut records = Vec::with_capacity(taken.len());
        for (mut record, key, _, keeps_seq, line) in taken {
            if !keeps_seq {
                record.seq = seqs
                    .next()
                    .ok_or_else(|| Error::internal("the server gave too few creation orders"))?;
            }
            if record.replaces.is_some() || record.replaced_by.is_some() {
                self.linked.push((record.id.clone(), line));
            }
            records.push((record, Some(key)));
        }
        tokens::put_many(&mut *self.store.client(), self.store.target(), &records)?;
        self.report.imported += records.len();
        Ok(())
    }

    /// Which of the pending records' ids, hashes and active names the store holds already
    /// (this import's earlier batches among them), in one statement.
    fn in_store(&self, pending: &[Pending]) -> Result<InStore> {
        let ids: Vec<&str> = pending
            .iter()
            .filter(|p| p.keeps_id)
            .map(|p| p.record.id.as_str())
            .collect();
        let hashes: Vec<&[u8]> = pending.iter().map(|p| &p.hash.0[..]).collect();
        let names: Vec<&str> = pending
            .iter()
            .filter(|p| p.record.is_active())
            .map(|p| p.key.as_str())
            .collect();
        let row = self
            .store
            .client()
            .query_one(
                "SELECT
                     ARRAY(SELECT id FROM vbx_tokens.tokens WHERE id = ANY($1)),
                     ARRAY(SELECT sha256 FROM vbx_tokens.tokens WHERE sha256 = ANY($2)),
                     ARRAY(SELECT name_key FROM vbx_tokens.tokens
                           WHERE active AND name_key = ANY($3))",
                &[&ids, &hashes, &names],
            )
            .map_err(|e| super::connect::failure(self.store.target(), &e))?;
        Ok(InStore {
            ids: row.get::<_, Vec<String>>(0).into_iter().collect(),
            hashes: row
                .get::<_, Vec<Vec<u8>>>(1)
                .into_iter()
                .filter_map(|h| <[u8; 32]>::try_from(h).ok())
                .collect(),
            names: row.get::<_, Vec<String>>(2).into_iter().collect(),
        })
    }

    /// Gives each taken record without an id of its own one that neither the store nor
    /// this import holds.
    fn assign_ids(&mut self, taken: &mut [Taken]) -> Result<()> {
        let mut want: Vec<usize> = (0..taken.len()).filter(|&i| !taken[i].2).collect();
        while !want.is_empty() {
            let fresh: Vec<String> = want
                .iter()
                .map(|_| {
                    loop {
                        let id = new_id();
                        if !self.ids.contains(&id) {
                            break id;
                        }
                    }
                })
                .collect();
            let held: HashSet<String> = self
                .store
                .client()
                .query_one(
                    "SELECT ARRAY(SELECT id FROM vbx_tokens.tokens WHERE id = ANY($1))",
                    &[&fresh],
                )
                .map_err(|e| super::connect::failure(self.store.target(), &e))?
                .get::<_, Vec<String>>(0)
                .into_iter()
                .collect();
            let mut again = Vec::new();
            for (i, id) in want.into_iter().zip(fresh) {
                if held.contains(&id) || !self.ids.insert(id.clone()) {
                    again.push(i);
                } else {
                    taken[i].0.id = id;
                }
            }
            want = again;
        }
        Ok(())
    }

    /// `n` new creation orders from the store's sequence, in one statement.
    fn new_seqs(&self, n: usize) -> Result<Vec<u64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let n = i64::try_from(n).map_err(|_| Error::internal("too many records"))?;
        let rows = self
            .store
            .client()
            .query(
                "SELECT nextval('vbx_tokens.record_seq') FROM generate_series(1, $1::bigint)",
                &[&n],
            )
            .map_err(|e| super::connect::failure(self.store.target(), &e))?;
        Ok(rows
            .iter()
            .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            .collect())
    }
}

/// A record taken: with its name's key, whether it keeps its id and its creation order, and
/// its line.
type Taken = (Record, String, bool, bool, usize);

/// What of a batch the store holds already.
struct InStore {
    ids: HashSet<String>,
    hashes: HashSet<[u8; 32]>,
    names: HashSet<String>,
}

impl Import for Importer<'_> {
    fn add(&mut self, item: Incoming) -> Result<()> {
        let Some(hash) = TokenHash::from_hex(&item.record.sha256) else {
            // A line before this one may be at fault first.
            self.flush()?;
            return Err(Error::usage(format!(
                "line {}: `sha256` is not 64 hex digits; nothing was imported",
                item.line
            )));
        };
        self.pending.push(Pending {
            key: name_key(&item.record.name),
            line: item.line,
            record: item.record,
            hash,
            keeps_id: item.keeps_id,
            keeps_seq: item.keeps_seq,
        });
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn accepted(&self) -> usize {
        self.report.imported + self.pending.len()
    }

    fn finish(mut self: Box<Self>) -> Result<ImportReport> {
        self.flush()?;
        let store = self.store;
        crate::transfer::check_imported_rotations(&self.linked, |id| store.get(id))?;
        if self.report.imported > 0 {
            // Creation orders kept from another store may pass the sequence: new records go
            // after them.
            store.execute(
                "SELECT setval('vbx_tokens.record_seq', greatest(
                     (SELECT coalesce(max(seq), 0) FROM vbx_tokens.tokens),
                     (SELECT last_value FROM vbx_tokens.record_seq)))",
            )?;
            let mut event = store.event(EventKind::Imported, None, None);
            event.count = self.report.imported as u64;
            store.append_in_transaction(&event)?;
        }
        // The point of no return: a signal from here on lets the import finish and be
        // reported.
        crate::cleanup::commit();
        store.execute("COMMIT")?;
        self.finished = true;
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for Importer<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: a connection that is gone has rolled it back already.
            let _ = self.store.execute("ROLLBACK");
        }
    }
}
