//! `doctor`: checks every part of a store, repairs what can be derived again, and reports what
//! cannot. What can be derived again: the hash and name indexes inside sled (from the records),
//! the verification index (from the records), the journal (folded in), the marker file (from
//! the store id sled holds), the use table (from the records' use counts), and secrets kept
//! for tokens the store no longer has. What cannot: a record or an event that does not parse,
//! two records holding one token, a broken audit chain, a damaged vault header, and a database
//! sled cannot open (then the last backup is named).

use crate::engine::Engine as _;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;
use std::time::Duration;

use sled::Transactional;

use super::open::{marker_is_current, write_marker};
use super::restore::last_backup;
use super::{OpenMode, Store};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::name::name_key;
use crate::record::{Record, Status};
use crate::token::TokenHash;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Whole as it was.
    Ok,
    /// Something was wrong and has been derived again.
    Repaired,
    /// Something is wrong that cannot be derived again.
    Failed,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Repaired => "repaired",
            Health::Failed => "failed",
        }
    }
}

/// One check: what was checked, how it came out, and a sentence saying what was found or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub health: Health,
    pub detail: String,
}

/// Everything `doctor` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// sled opened the store (after any repair that let it).
    pub opened: bool,
    pub findings: Vec<Finding>,
    /// The last backup noted in the store (time, path), if any.
    pub last_backup: Option<(String, String)>,
}

impl Diagnosis {
    /// The store is whole: it opened and nothing failed (repairs are fine).
    pub fn whole(&self) -> bool {
        self.opened && self.findings.iter().all(|f| f.health != Health::Failed)
    }
}

fn found(check: &'static str, health: Health, detail: impl Into<String>) -> Finding {
    Finding {
        check,
        health,
        detail: detail.into(),
    }
}

/// Checks and repairs the store in `dir`.
///
/// # Errors
/// [`Error::NoStore`], [`Error::Busy`]; anything else wrong with the store is a finding.
pub fn diagnose(dir: &Path, wait: Duration) -> Result<Diagnosis> {
    // A store someone else could have written is not examined at all: what it says of itself
    // is not evidence, and it is not damage either (the error says who owns what).
    let real = crate::trust::check_store(dir)?.ok_or_else(|| Error::NoStore(dir.to_owned()))?;
    let dir = real.as_path();
    let mut findings = Vec::new();
    let marker_before = super::read_marker_id(dir);
    let journal_before =
        dir.join(crate::journal::FILE).exists() || dir.join(crate::journal::FOLDING_FILE).exists();
    // Opening the store rebuilds an index that is not this store's at this generation: seen
    // before, so the repair is reported, not hidden.
    let index_before = Index::open(dir)
        .ok()
        .map(|ix| (ix.header().store_id, ix.header().generation));
    // What a killed `restore` (its half-built store) left beside the store, if its process is
    // gone: the next restore would remove it too.
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        let removed = crate::cleanup::sweep(parent);
        if !removed.is_empty() {
            findings.push(found(
                "leftovers",
                Health::Repaired,
                format!(
                    "removed {} temporary file(s) or directories a stopped command left beside the store",
                    removed.len()
                ),
            ));
        }
    }
    let store = match Store::open(dir, OpenMode::Existing, wait) {
        Ok(store) => store,
        Err(e @ (Error::NoStore(_) | Error::Busy { .. } | Error::Untrusted { .. })) => {
            return Err(e);
        }
        // Not being allowed to write a store (a read-only file system, a store that is not
        // yours to change) says nothing about its health: no repair or restore is advised.
        Err(Error::Io { source, .. }) if cannot_write(&source) => {
            return Err(Error::store(format!(
                "doctor cannot check the store at {}: it cannot be written ({}), and checking takes the store's lock and repairs what it can; nothing was changed, and this is no sign of damage: run doctor where the store can be written (as its owner, or with the file system mounted read-write)",
                dir.display(),
                crate::error::reason(&source)
            )));
        }
        Err(first) => match reopen_without_snapshots(dir, wait) {
            Some((store, aside)) => {
                findings.push(found(
                    "database",
                    Health::Repaired,
                    format!(
                        "sled could not open it ({first}); it opened from its log once the snapshot files were moved to {}",
                        aside.display()
                    ),
                ));
                store
            }
            None => {
                findings.push(found(
                    "database",
                    Health::Failed,
                    format!("it cannot be opened: {first}"),
                ));
                return Ok(Diagnosis {
                    opened: false,
                    findings,
                    last_backup: last_backup(dir),
                });
            }
        },
    };
    if !findings.iter().any(|f| f.check == "database") {
        findings.push(found("database", Health::Ok, "sled opens it"));
    }
    if journal_before {
        findings.push(found(
            "journal",
            Health::Repaired,
            "verify's uses and failures were folded into the records and the log",
        ));
    }
    let rebuilt_at_open = index_before != Some((store.store_id, store.generation()?));
    store.check_everything(&mut findings, marker_before, rebuilt_at_open)?;
    Ok(Diagnosis {
        opened: true,
        findings,
        last_backup: last_backup(dir),
    })
}

/// Permission denied, or a read-only file system: the store cannot be written, which is no
/// damage.
fn cannot_write(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// sled takes its newest snapshot file whole; a damaged one stops it opening although its log
/// holds everything. Moves the snapshots aside and tries once more; puts them back if that
/// does not open either.
fn reopen_without_snapshots(dir: &Path, wait: Duration) -> Option<(Store, std::path::PathBuf)> {
    let snaps: Vec<_> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
        .map(|e| e.path())
        .collect();
    if snaps.is_empty() {
        return None;
    }
    let aside = dir.join(format!(
        "snapshots.set-aside-{}",
        crate::time::Time::now().as_second()
    ));
    fs::create_dir(&aside).ok()?;
    for s in &snaps {
        fs::rename(s, aside.join(s.file_name()?)).ok()?;
    }
    match Store::open(dir, OpenMode::Existing, wait) {
        Ok(store) => Some((store, aside)),
        Err(_) => {
            for s in &snaps {
                let _ = fs::rename(aside.join(s.file_name()?), s);
            }
            let _ = fs::remove_dir(&aside);
            None
        }
    }
}

impl Store {
    fn check_everything(
        &self,
        findings: &mut Vec<Finding>,
        marker_before: Option<[u8; 16]>,
        index_rebuilt: bool,
    ) -> Result<()> {
        // Records: each parses and sits under its own id.
        let mut records: Vec<Record> = Vec::new();
        let mut bad = Vec::new();
        for item in self.tokens.iter() {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            let key = String::from_utf8_lossy(&key).into_owned();
            match Record::from_bytes(&bytes) {
                Ok(r) if r.id == key && TokenHash::from_hex(&r.sha256).is_some() => records.push(r),
                Ok(_) => bad.push(format!("{key} (its id or hash is wrong)")),
                Err(_) => bad.push(format!("{key} (does not parse)")),
            }
        }
        findings.push(match bad.is_empty() {
            true => found(
                "records",
                Health::Ok,
                format!("{} token record(s) parse", records.len()),
            ),
            false => found(
                "records",
                Health::Failed,
                format!(
                    "{} record(s) are damaged and cannot be derived again: {}; restore a backup",
                    bad.len(),
                    bad.join(", ")
                ),
            ),
        });
        records.sort_by_key(|r| (r.created_at, r.seq));

        // The hash index: exactly one entry per record.
        let mut by_hash: BTreeMap<[u8; 32], String> = BTreeMap::new();
        let mut shared = Vec::new();
        for r in &records {
            let hash = TokenHash::from_hex(&r.sha256).expect("checked above");
            if let Some(other) = by_hash.insert(hash.0, r.id.clone()) {
                shared.push(format!("{other} and {}", r.id));
            }
        }
        let mut current_hash: BTreeMap<[u8; 32], String> = BTreeMap::new();
        for item in self.by_hash.iter() {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            if let Ok(k) = <[u8; 32]>::try_from(&k[..]) {
                current_hash.insert(k, String::from_utf8_lossy(&v).into_owned());
            } else {
                current_hash.insert([0xff; 32], String::new());
            }
        }
        if !shared.is_empty() {
            findings.push(found(
                "hash index",
                Health::Failed,
                format!("records share one token: {}", shared.join("; ")),
            ));
        } else if current_hash != by_hash {
            self.replace_tree(
                &self.by_hash,
                by_hash.iter().map(|(k, v)| (k.to_vec(), v.clone())),
            )?;
            findings.push(found(
                "hash index",
                Health::Repaired,
                "it did not match the records; rebuilt from them",
            ));
        } else {
            findings.push(found("hash index", Health::Ok, "it matches the records"));
        }

        // The name index: each active token's name key, the oldest holding it.
        let mut by_name: BTreeMap<String, String> = BTreeMap::new();
        for r in records.iter().filter(|r| r.status == Status::Active) {
            by_name
                .entry(name_key(&r.name))
                .or_insert_with(|| r.id.clone());
        }
        let mut current_name: BTreeMap<String, String> = BTreeMap::new();
        for item in self.by_name.iter() {
            let (k, v) = item.map_err(|e| self.sled(e))?;
            current_name.insert(
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            );
        }
        if current_name != by_name {
            self.replace_tree(
                &self.by_name,
                by_name
                    .iter()
                    .map(|(k, v)| (k.as_bytes().to_vec(), v.clone())),
            )?;
            findings.push(found(
                "name index",
                Health::Repaired,
                "it did not match the active tokens' names; rebuilt from them",
            ));
        } else {
            findings.push(found(
                "name index",
                Health::Ok,
                "it matches the active tokens",
            ));
        }

        // The verification index, against every record.
        // The file is opened once; each record is one look-up in it.
        let index_ok = Index::open(&self.dir).is_ok_and(|ix| {
            ix.header().store_id == self.store_id
                && ix.header().count == records.len() as u64
                && self.generation().is_ok_and(|g| g == ix.header().generation)
                && records.iter().all(|r| self.index_agrees(&ix, r).is_ok())
        });
        if index_ok && index_rebuilt {
            findings.push(found(
                "verification index",
                Health::Repaired,
                "it was missing, damaged, another store's or behind the records; rebuilt from them",
            ));
        } else if index_ok {
            findings.push(found(
                "verification index",
                Health::Ok,
                "it says what the records say",
            ));
        } else {
            self.rebuild_index()?;
            findings.push(found(
                "verification index",
                Health::Repaired,
                "it disagreed with the records; rebuilt from them",
            ));
        }

        // A journal set aside by verify (not this store's): nothing in it can be counted.
        let damaged_journal = self.dir.join(crate::journal::DAMAGED_FILE);
        if damaged_journal.exists() {
            let _ =
                fs::remove_dir_all(&damaged_journal).or_else(|_| fs::remove_file(&damaged_journal));
            findings.push(found(
                "journal",
                Health::Repaired,
                "a journal that was not this store's (set aside as journal.damaged) was removed",
            ));
        } else if !findings.iter().any(|f| f.check == "journal") {
            findings.push(found("journal", Health::Ok, "nothing waiting to be folded"));
        }

        // The marker file.
        if marker_before != Some(self.store_id) || !marker_is_current(&self.dir, &self.store_id) {
            if !marker_is_current(&self.dir, &self.store_id) {
                write_marker(&self.dir, &self.store_id)?;
            }
            findings.push(found(
                "marker",
                Health::Repaired,
                "the marker file was missing or did not name this store; written from the store id sled holds",
            ));
        } else {
            findings.push(found("marker", Health::Ok, "it names this store"));
        }

        // The use table: readable whole, and no count below one known elsewhere.
        findings.push(self.check_use_counts(&records)?);

        // The vault: its header parses; every kept secret belongs to a token that can use it.
        match self.vault_header()? {
            Some(h) if crate::vault::Header::parse(&h).is_err() => findings.push(found(
                "vault",
                Health::Failed,
                "its header is damaged: restore a backup or a vault export",
            )),
            _ => {
                let live: HashMap<&str, &Record> =
                    records.iter().map(|r| (r.id.as_str(), r)).collect();
                let now = crate::time::Time::now();
                let orphans: Vec<String> = self
                    .kept_ids()?
                    .into_iter()
                    .filter(|id| {
                        live.get(id.as_str())
                            .is_none_or(|r| r.status == Status::Revoked && !r.in_grace(now))
                    })
                    .collect();
                if orphans.is_empty() {
                    findings.push(found(
                        "vault",
                        Health::Ok,
                        "every kept secret has its token",
                    ));
                } else {
                    let result = (&self.vault,).transaction(|(vault,)| {
                        for id in &orphans {
                            vault.remove(super::vault::secret_key(id))?;
                        }
                        Ok(())
                    });
                    result.map_err(|e| self.tx_error(e))?;
                    findings.push(found(
                        "vault",
                        Health::Repaired,
                        format!(
                            "{} kept secret(s) of tokens revoked or gone were erased",
                            orphans.len()
                        ),
                    ));
                }
            }
        }

        // The audit log: every event parses and the chain is whole.
        findings.push(match self.check_log() {
            Ok(n) => found(
                "audit log",
                Health::Ok,
                format!("{n} event(s), chain whole"),
            ),
            Err(Error::BrokenLog(broken)) => found(
                "audit log",
                Health::Failed,
                format!("{broken}; it cannot be derived again: restore a backup"),
            ),
            Err(e) => return Err(e),
        });
        self.make_durable()
    }

    /// A count never goes down: each limited token's count in the use table against the one
    /// sled folded from the journal and the one the witness saw granted (`crate::uses`). A
    /// table that cannot be read, or counts below what is known, are rebuilt at the highest
    /// count known; uses that had been lost (a `uses` file removed or put back, a store put
    /// back from a file copy) fail the check once, naming the tokens, so the next run is clean.
    fn check_use_counts(&self, records: &[Record]) -> Result<Finding> {
        let table_path = self.dir.join(crate::uses::FILE);
        let table = crate::uses::counts(&table_path, &self.store_id);
        // A damaged table still counts what its sound slots hold: rebuilt, it loses none.
        let in_table: HashMap<String, u64> = match &table {
            Ok(counts) => counts.iter().cloned().collect(),
            Err(_) => crate::uses::salvage(&table_path, &self.store_id)
                .into_iter()
                .collect(),
        };
        // A witness that cannot be read protects nothing: grants count from the table alone
        // until it is repaired, so it is reported (as damage someone may have done), not
        // skipped. The store is compared with its own witness (its grants alone): the token
        // witness also holds the uses other stores granted a token imported into them.
        let own = crate::uses::witness::own_counts(&self.store_id);
        let witness_damage = match (&own, &crate::uses::witness::counts(&self.store_id)) {
            (Err(e), _) | (Ok(_), Err(e)) => Some(crate::error::reason(e)),
            _ => None,
        };
        let witness: HashMap<String, u64> = own.unwrap_or_default();
        let mut lost = Vec::new();
        let mut lost_uses = 0u64;
        let mut known: Vec<(String, u64)> = Vec::new();
        let mut raise_records = Vec::new();
        // Records the witness is ahead of: the store was put back from a copy, and a grant since
        // (which counts from the witness) healed the table but not the records.
        let mut behind = Vec::new();
        let mut behind_uses = 0u64;
        // Counts the table holds below the records' (a `uses` file removed or put back after
        // its uses were folded in): nothing was lost, but the table is rebuilt to agree.
        let mut below = 0usize;
        // Tokens the witness counts below the store: it was removed or put back.
        let mut witness_behind = 0usize;
        for r in records.iter().filter(|r| r.max_uses.is_some()) {
            let t = in_table.get(&r.id).copied().unwrap_or(0);
            let w = witness.get(&r.id).copied().unwrap_or(0);
            if w < t.max(r.use_count) {
                witness_behind += 1;
            }
            if t < r.use_count {
                below += 1;
            }
            // The records' counts are a floor every grant already respects: a table below them
            // lost nothing. What only the witness still knows was lost from the store.
            let held = t.max(r.use_count);
            let k = held.max(w);
            if held < w {
                lost_uses += w - held;
                lost.push(format!(
                    "{} ({}) counted {held} of {w} ({} lost)",
                    r.name,
                    r.id,
                    w - held
                ));
            }
            if w > r.use_count {
                behind.push(format!(
                    "{} ({}) recorded {} of {w}",
                    r.name, r.id, r.use_count
                ));
                behind_uses += w - r.use_count;
                let mut raised = r.clone();
                raised.use_count = w;
                raise_records.push(raised);
            }
            known.push((r.id.clone(), k.max(t)));
        }
        if let Some(reason) = witness_damage {
            // Intact tables are raised, damaged ones rebuilt keeping what they still hold that
            // can be read, so no count the witness could still read is lowered.
            let rebuilt = crate::uses::witness::repair(&self.store_id, &known, self.wait)
                .map_err(|e| self.witness_error("repair", &e))?;
            let rebuilt: Vec<String> = rebuilt.iter().map(|p| p.display().to_string()).collect();
            return Ok(found(
                "use witness",
                Health::Failed,
                format!(
                    "the witness of granted uses could not be read ({reason}): it was changed or damaged outside vbx-tokens; rebuilt {} from the counts the store and the rest of the witness hold (uses only it had seen are not known): run `vbx-tokens doctor` again",
                    if rebuilt.is_empty() {
                        "nothing".to_owned()
                    } else {
                        rebuilt.join(", ")
                    }
                ),
            ));
        }
        // The two tables a grant writes a token's uses in every store to (the token witness,
        // this store's `seen`) each brought up to the rest of the witness: one of them lost
        // now is not, later, the second of a pair lost.
        let ids: Vec<&str> = known.iter().map(|(id, _)| id.as_str()).collect();
        let lagging = crate::uses::witness::lagging(&self.store_id, &ids)
            .map_err(|e| self.witness_error("read", &e))?;
        let mut total: HashMap<String, u64> = known.iter().cloned().collect();
        for (id, n) in &lagging {
            let t = total.entry(id.clone()).or_insert(0);
            *t = (*t).max(*n);
        }
        let total: Vec<(String, u64)> = total.into_iter().collect();
        if table.is_ok() && lost.is_empty() && raise_records.is_empty() && below == 0 {
            if witness_behind > 0 || !lagging.is_empty() {
                self.raise_witnesses(&known, &total)?;
                return Ok(found(
                    "use witness",
                    Health::Repaired,
                    format!(
                        "it counted {} limited token(s) below the store or the rest of the witness (a table of it removed or put back): raised",
                        witness_behind.max(lagging.len())
                    ),
                ));
            }
            return Ok(found(
                "use table",
                Health::Ok,
                format!("{} limited token(s) counted", in_table.len()),
            ));
        }
        let write_error = |e| {
            Error::io_at(
                format!("cannot write the use table in {}", self.dir.display()),
                &self.dir,
                e,
            )
        };
        if table.is_err() || !lost.is_empty() || below > 0 {
            crate::uses::make_way(&table_path)
                .and_then(|()| crate::uses::rebuild(&table_path, &self.store_id, &known))
                .map_err(write_error)?;
        }
        if !raise_records.is_empty() {
            let result = (&self.tokens,).transaction(|(tokens,)| {
                for r in &raise_records {
                    tokens.insert(r.id.as_bytes(), r.to_bytes())?;
                }
                Ok(())
            });
            result.map_err(|e| self.tx_error(e))?;
            self.rebuild_index()?;
        }
        self.raise_witnesses(&known, &total)?;
        if !lost.is_empty() {
            return Ok(found(
                "use counts",
                Health::Failed,
                format!(
                    "{lost_uses} use(s) of {} limited token(s) had been lost (a `uses` file removed or put back, or the store put back from a copy): {}; the counts were raised back to the highest known: run `vbx-tokens doctor` again",
                    lost.len(),
                    lost.join(", ")
                ),
            ));
        }
        Ok(match table {
            Err(e) => found(
                "use table",
                Health::Repaired,
                format!(
                    "it could not be read ({}); rebuilt from the records' use counts and the witness",
                    crate::error::reason(&e)
                ),
            ),
            Ok(_) if raise_records.is_empty() => found(
                "use table",
                Health::Repaired,
                format!(
                    "it counted {below} limited token(s) below their records (the `uses` file removed or put back after its uses were recorded); rebuilt from the records' use counts and the witness: no use was lost"
                ),
            ),
            Ok(_) => found(
                "use counts",
                Health::Failed,
                format!(
                    "{behind_uses} use(s) of {} limited token(s) were missing from the records (the store put back from a copy, or its records), though every grant since counted them: {}; the records were raised back to what the witness saw granted: run `vbx-tokens doctor` again",
                    behind.len(),
                    behind.join(", ")
                ),
            ),
        })
    }

    /// Raises this store's own witness to `known`, and each token's uses in every store to
    /// `total`.
    fn raise_witnesses(&self, known: &[(String, u64)], total: &[(String, u64)]) -> Result<()> {
        crate::uses::witness::raise(&self.store_id, known, total, self.wait)
            .map_err(|e| self.witness_error("raise", &e))
    }

    /// An error repairing or raising the witness: busy (exit 5) when another process holds a
    /// table past the wait; else what is wrong, and what the user can do about it.
    fn witness_error(&self, doing: &str, e: &std::io::Error) -> Error {
        if let Some(path) = crate::lockfile::locked_path(e) {
            return Error::Busy {
                path,
                waited: crate::lockfile::waited(self.wait),
            };
        }
        Error::store(format!(
            "cannot {doing} the use witness: {}; make what it names yours and writable by you alone (chown, chmod go-w), or move it away, then run `vbx-tokens doctor` again",
            crate::error::reason(e)
        ))
    }

    /// Replaces every entry of `tree` with `entries`, in one transaction.
    fn replace_tree(
        &self,
        tree: &sled::Tree,
        entries: impl Iterator<Item = (Vec<u8>, String)>,
    ) -> Result<()> {
        let old: Vec<sled::IVec> = tree
            .iter()
            .keys()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.sled(e))?;
        let new: Vec<(Vec<u8>, String)> = entries.collect();
        let result = (tree,).transaction(|(t,)| {
            for k in &old {
                t.remove(k)?;
            }
            for (k, v) in &new {
                t.insert(k.as_slice(), v.as_bytes())?;
            }
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))
    }
}
