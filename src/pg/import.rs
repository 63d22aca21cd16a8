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
use crate::time::Time;
use crate::token::TokenHash;
use crate::transfer::{Incoming, RotationCheck};

/// An import under way: a transaction open on the store's connection.
pub struct Importer<'a> {
    store: &'a Store,
    skip_existing: bool,
    /// Every id this import took (the same id twice in one input is a data error).
    ids: HashSet<String>,
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
            report: ImportReport::default(),
            witness: crate::uses::witness::by_any_store(),
            linked: Vec::new(),
            finished: false,
        })
    }

    fn exists(&self, filter: &str, key: &(dyn postgres::types::ToSql + Sync)) -> Result<bool> {
        self.store.exists(filter, key)
    }
}

impl Import for Importer<'_> {
    fn add(&mut self, item: Incoming) -> Result<()> {
        let mut record = item.record;
        let hash = TokenHash::from_hex(&record.sha256).ok_or_else(|| {
            Error::usage(format!(
                "line {}: `sha256` is not 64 hex digits; nothing was imported",
                item.line
            ))
        })?;
        if item.keeps_id && self.ids.contains(&record.id) {
            return Err(Error::usage(format!(
                "line {}: the id {} appears twice in the input; nothing was imported",
                item.line, record.id
            )));
        }
        // The transaction sees what this import added: a clash with an earlier line is found
        // as one with the store.
        let clash = if item.keeps_id && self.exists("id = $1", &record.id)? {
            Some("id")
        } else if self.exists("sha256 = $1", &&hash.0[..])? {
            Some("token (the same SHA-256)")
        } else if record.is_active()
            && self.exists("active AND name_key = $1", &name_key(&record.name))?
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
        if record.max_uses.is_some()
            && let Some(&seen) = self.witness.get(&record.id)
        {
            record.use_count = record.use_count.max(seen);
        }
        if !item.keeps_id {
            record.id = loop {
                let id = new_id();
                if !self.ids.contains(&id) && !self.exists("id = $1", &id)? {
                    break id;
                }
            };
        }
        if !item.keeps_seq {
            record.seq = self.store.new_seq()?;
        }
        if record.replaces.is_some() || record.replaced_by.is_some() {
            self.linked.push((record.id.clone(), item.line));
        }
        tokens::put(
            &mut *self.store.client(),
            self.store.target(),
            &record,
            false,
        )?;
        self.ids.insert(record.id);
        self.report.imported += 1;
        Ok(())
    }

    fn accepted(&self) -> usize {
        self.report.imported
    }

    fn finish(mut self: Box<Self>) -> Result<ImportReport> {
        let store = self.store;
        let mut rotation = RotationCheck::new(Time::now());
        for (id, line) in &self.linked {
            let Some(record) = store.get(id)? else {
                continue;
            };
            rotation
                .check(&record, |id| store.get(id))?
                .map_err(|e| Error::usage(format!("line {line}: {e}; nothing was imported")))?;
        }
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
