//! Verifying tokens of a directory store without opening sled: the fast path of `verify`. A look-up reads the verification index (a constant number of reads whatever the
//! store's size); a counted use or a failure is appended to the journal and made durable before
//! the answer is returned. Neither takes the store's lock, so verifies never wait for each
//! other or for a writer.
//!
//! The index is never trusted blindly: a missing, damaged or foreign one (or a marker without
//! this store's id) sends the look-up to sled instead, which is correct but slower, and has the
//! index rebuilt while the store is open.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::HashMap;
use std::net::IpAddr;

use super::{Known, Reading};
use crate::error::{Error, Result};
use crate::index::{self, Index, IndexRecord};
use crate::journal::{self, Entry, EntryKind};
use crate::policy::{self, Request, State};
use crate::store::{OpenMode, Store, read_marker_id};
use crate::time::Time;
use crate::token::Token;
use crate::uses;
use crate::verdict::{Reason, Touch, Verdict};

/// Verifies tokens of one directory store from its verification index.
#[derive(Debug)]
pub struct Verifier {
    dir: PathBuf,
    reading: Reading,
    /// How long the slow path waits for the store's lock.
    wait: Duration,
    actor: String,
    /// The store directory, open: the index is looked for relative to it, which is cheaper
    /// than resolving the whole path at every check.
    dir_fd: Option<std::os::fd::OwnedFd>,
    /// The store's id from its marker, and the index read with the file identity it had; `None`
    /// when the index cannot be used.
    current: Option<Current>,
    /// Gives a trusted owner's store back to them after root used it.
    _hand_back: crate::trust::HandBack,
}

#[derive(Debug)]
struct Current {
    store_id: [u8; 16],
    index: Index,
    file: (u64, u64),
}

impl Verifier {
    /// Opens the store in `dir` for verifying, reading its index as `reading` says; the slow
    /// path waits up to `wait` for the store's lock.
    ///
    /// # Errors
    /// [`Error::NoStore`] when `dir` holds no store; [`Error::Untrusted`] when it, a directory
    /// above it or a file in it could have been written by someone untrusted (`crate::trust`).
    pub fn with(dir: &Path, reading: Reading, wait: Duration) -> Result<Verifier> {
        // Nothing is read from a store someone else could have written: such a store's index
        // could make any token valid.
        // Opened where the check found it (`trust`): a link swapped since is not followed.
        let real = crate::trust::check_store(dir)?.ok_or_else(|| Error::NoStore(dir.to_owned()))?;
        let dir = real.as_path();
        let store_file = dir.join(crate::store::MARKER_FILE);
        match store_file.try_exists() {
            Ok(true) => {}
            // No marker: no store, or one whose first open died; the slow path decides.
            Ok(false) if !dir.join("db").exists() => return Err(Error::NoStore(dir.to_owned())),
            Ok(false) => {}
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read the store at {}", dir.display()),
                    e,
                ));
            }
        }
        let mut verifier = Verifier {
            dir: dir.to_owned(),
            reading,
            wait,
            actor: crate::store::current_user(),
            dir_fd: rustix::fs::open(
                dir,
                rustix::fs::OFlags::PATH
                    | rustix::fs::OFlags::DIRECTORY
                    | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ok(),
            current: None,
            _hand_back: crate::trust::HandBack::new(dir),
        };
        verifier.reload();
        Ok(verifier)
    }

    /// Reads the index again if the file was replaced since it was read.
    fn refresh(&mut self) {
        let on_disk = match &self.dir_fd {
            Some(fd) => rustix::fs::statat(fd, index::FILE, rustix::fs::AtFlags::empty())
                .ok()
                .map(|st| (st.st_dev, st.st_ino)),
            None => std::fs::metadata(self.dir.join(index::FILE))
                .ok()
                .map(|m| (m.dev(), m.ino())),
        };
        if self.current.as_ref().map(|c| c.file) != on_disk {
            self.reload();
        }
    }

    fn reload(&mut self) {
        self.current = (|| {
            let store_id = read_marker_id(&self.dir)?;
            let meta = std::fs::metadata(self.dir.join(index::FILE)).ok()?;
            let index = match self.reading {
                Reading::File => Index::open(&self.dir),
                Reading::Memory => Index::load(&self.dir),
            }
            .ok()?;
            (index.header().store_id == store_id).then_some(Current {
                store_id,
                index,
                file: (meta.dev(), meta.ino()),
            })
        })();
    }

    /// Verifies candidates in order against the token's policy and what `request` asks (scopes,
    /// the client's address). A valid one counts a use unless `touch` is [`Touch::No`]; every
    /// failure is recorded. Both go to the journal, made durable once, before returning. A
    /// token with a use limit has its use granted under its counter's lock (`crate::uses`), so
    /// the limit is exact however many processes verify at once.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::DiskFull`] when the journal or a use counter cannot be
    /// written: a counted use is then not acknowledged. On a read-only store only failures go
    /// unrecorded; a counted use there is an error that says why. [`Error::Store`] for a damaged
    /// use counter, and the store's errors when the index must be rebuilt from sled.
    pub fn check_many<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
        request: &Request,
    ) -> Result<Vec<Verdict>> {
        self.refresh();
        let found = match self.look_up(candidates) {
            Some(found) => found,
            None => {
                self.rebuild_from_store()?;
                self.look_up(candidates).ok_or_else(|| {
                    Error::store(format!(
                        "the verification index in {} cannot be read even after a rebuild",
                        self.dir.display()
                    ))
                })?
            }
        };
        let now = Time::now();
        let mut verdicts = Vec::with_capacity(found.len());
        // For each verdict of a limited token: its limit and the uses the index counted.
        let mut limits = Vec::with_capacity(found.len());
        // The use table, opened at the first limited token that needs it.
        let mut table = Lazy::default();
        for f in found {
            let (verdict, limit) = match f {
                Found::Anonymous(reason) => (Verdict::anonymous(reason), None),
                Found::Token(r) => {
                    let reason = self.judge(&r, now, touch, request, &mut table)?;
                    let limit = r.max_uses.map(|max| (max, r.uses));
                    let verdict = Verdict {
                        reason,
                        id: Some(r.id),
                        name: Some(r.name),
                    };
                    (verdict, limit)
                }
            };
            verdicts.push(verdict);
            limits.push(limit);
        }
        if touch == Touch::Yes {
            self.take_uses(&mut verdicts, &limits)?;
        }
        let store_id = self.current.as_ref().expect("looked up in it").store_id;
        self.record(store_id, &verdicts, touch, request.ip)?;
        if verdicts.iter().any(|v| !v.is_valid()) {
            self.fold_if_waiting();
        }
        Ok(verdicts)
    }

    /// Folds the journal in when more than [`crate::store::FAILURES_WAITING`] bytes wait in it
    /// and the store is free this moment; called after a call that recorded a failure: on a
    /// host that only verifies, where no other command opens the store, the journal stays
    /// that small, so failures never cost more disk than their folded counters (README,
    /// "Failures cannot fill the disk"). A call of valid verdicts only leaves the journal to
    /// the next command, as it did before failures were bounded: its uses are folded by that
    /// command, and folding them at every chunk of a counted batch made it twenty times
    /// slower (100k counted: 6 s, where it had been 0.3 s). Never waits for the store's lock
    /// (a holder folds as it opens), and nothing that goes wrong here changes the verdicts,
    /// which are recorded already.
    fn fold_if_waiting(&self) {
        let waiting = std::fs::metadata(self.dir.join(journal::FILE)).map_or(0, |m| m.len());
        if waiting > crate::store::FAILURES_WAITING {
            let _ = Store::open(&self.dir, OpenMode::Existing, Duration::ZERO);
        }
    }

    /// What the store knows of a token, without counting or recording anything (for `scan`
    /// and `redact`): `None` for a string that is no token of this store.
    ///
    /// # Errors
    /// As for [`Verifier::check_many`], short of writing.
    pub fn inspect(&mut self, candidate: &str) -> Result<Option<Known>> {
        self.refresh();
        let found = match self.look_up(&[candidate]) {
            Some(found) => found,
            None => {
                self.rebuild_from_store()?;
                self.look_up(&[candidate]).unwrap_or_default()
            }
        };
        let Some(Found::Token(r)) = found.into_iter().next() else {
            return Ok(None);
        };
        let now = Time::now();
        let facts = r.facts();
        let state = policy::state(&facts, now);
        let spent = match facts.max_uses {
            Some(max) => {
                let counted = self.counted(&mut Lazy::default(), &r.id).unwrap_or(0);
                r.uses.max(counted) >= max
            }
            None => false,
        };
        Ok(Some(Known {
            id: r.id,
            name: r.name,
            state,
            live: state == State::Active && !spent,
        }))
    }

    /// Each candidate's record in the index, or `None` if any look-up found it unusable.
    fn look_up<S: AsRef<str>>(&self, candidates: &[S]) -> Option<Vec<Found>> {
        let current = self.current.as_ref()?;
        candidates
            .iter()
            .map(|c| {
                let Some(hash) = crate::token::lookup_hash(c.as_ref().trim()) else {
                    return Some(Found::Anonymous(Reason::Malformed));
                };
                match current.index.lookup(&hash) {
                    Ok(Some(r)) => Some(Found::Token(Box::new(r))),
                    // Not another system's token this store knows: it is not one of ours either.
                    Ok(None) if Token::parse(c.as_ref().trim()).is_err() => {
                        Some(Found::Anonymous(Reason::Malformed))
                    }
                    Ok(None) => Some(Found::Anonymous(Reason::Unknown)),
                    Err(_) => None,
                }
            })
            .collect()
    }

    /// The answer for a known token. Its use counter, if it has a use limit, is read only when
    /// that can change the answer: a counted use that would be valid is checked against the
    /// limit when it is taken ([`Verifier::take_uses`]), which reads the counter anyway.
    fn judge(
        &self,
        r: &IndexRecord,
        now: Time,
        touch: Touch,
        request: &Request,
        table: &mut Lazy,
    ) -> Result<Reason> {
        let facts = r.facts();
        let reason = policy::judge(&facts, now, r.uses, request);
        let counter_matters = match reason {
            Reason::Valid => touch == Touch::No,
            // Reasons checked after the use limit: a spent token answers usage_exceeded first.
            Reason::Forbidden | Reason::InsufficientScope => true,
            _ => false,
        };
        if facts.max_uses.is_none() || !counter_matters {
            return Ok(reason);
        }
        let counted = self.counted(table, &r.id)?;
        Ok(policy::judge(&facts, now, r.uses.max(counted), request))
    }

    /// The uses the use table has granted `token_id`, opening the table and the witness once
    /// per call.
    fn counted(&self, lazy: &mut Lazy, token_id: &str) -> Result<u64> {
        let store_id = self.current.as_ref().expect("looked up in it").store_id;
        if lazy.table.is_none() {
            let opened = uses::Table::open(&self.dir.join(uses::FILE), &store_id)
                .map_err(|e| self.counter_error(e))?;
            lazy.table = Some(opened);
        }
        let counted = match lazy.table.as_ref().expect("just opened") {
            Some(t) => t.count(token_id).map_err(|e| self.counter_error(e))?,
            None => 0,
        };
        // A table put back or removed cannot count less than the witness saw granted.
        if lazy.witness.is_none() {
            let opened =
                uses::witness::Bounds::open(&store_id).map_err(|e| self.counter_error(e))?;
            lazy.witness = Some(opened);
        }
        let seen = lazy
            .witness
            .as_ref()
            .expect("just opened")
            .witnessed(token_id)
            .map_err(|e| self.counter_error(e))?;
        Ok(counted.max(seen))
    }

    /// Takes a use of each valid, counted verdict of a limited token, all made durable with one
    /// sync; a use another process took first turns its verdict into `usage_exceeded`.
    fn take_uses(&self, verdicts: &mut [Verdict], limits: &[Option<(u64, u64)>]) -> Result<()> {
        let asking: Vec<usize> = (0..verdicts.len())
            .filter(|&i| verdicts[i].is_valid() && limits[i].is_some())
            .collect();
        if asking.is_empty() {
            return Ok(());
        }
        let asks: Vec<uses::Ask> = asking
            .iter()
            .map(|&i| {
                let (max, floor) = limits[i].expect("limited");
                uses::Ask {
                    token_id: verdicts[i].id.as_deref().expect("a known token"),
                    max,
                    floor,
                }
            })
            .collect();
        let store_id = self.current.as_ref().expect("looked up in it").store_id;
        let granted = uses::take_many(&self.dir, &store_id, &asks, self.wait)
            .map_err(|e| self.counter_error(e))?;
        for (&i, ok) in asking.iter().zip(granted) {
            if !ok {
                verdicts[i].reason = Reason::UsageExceeded;
            }
        }
        Ok(())
    }

    fn counter_error(&self, e: std::io::Error) -> Error {
        if let Some(path) = crate::lockfile::locked_path(&e) {
            return Error::Busy {
                path,
                waited: crate::lockfile::waited(self.wait),
            };
        }
        match e.kind() {
            _ if uses::witness::damaged(&e) => Error::store(format!(
                "{}; tokens with a use limit are refused until it is repaired: run `vbx-tokens doctor`",
                crate::error::reason(&e)
            )),
            std::io::ErrorKind::InvalidData => Error::store(format!(
                "the use table {} is damaged ({}); tokens with a use limit are refused until it is repaired: run `vbx-tokens doctor`",
                self.dir.join(uses::FILE).display(),
                crate::error::reason(&e)
            )),
            _ => Error::io_at(
                format!(
                    "cannot count a use in {}",
                    self.dir.join(uses::FILE).display()
                ),
                &self.dir,
                e,
            ),
        }
    }

    /// Appends the uses and failures to the journal, durably.
    fn record(
        &self,
        store_id: [u8; 16],
        verdicts: &[Verdict],
        touch: Touch,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let at = Time::now();
        let mut counted = false;
        let mut entries: Vec<Entry> = Vec::new();
        // A chunk's failures of one reason and token are one entry with their count (they share
        // the time, the user and the address), so a batch of garbage costs a few bytes a chunk.
        let mut failures: HashMap<(u8, Option<&str>), usize> = HashMap::new();
        for v in verdicts {
            let kind = match (v.is_valid(), touch) {
                (true, Touch::No) => continue,
                (true, Touch::Yes) => {
                    counted = true;
                    EntryKind::Use
                }
                (false, _) => EntryKind::Failure,
            };
            if kind == EntryKind::Failure {
                let key = (v.reason.code(), v.id.as_deref());
                if let Some(&at) = failures.get(&key) {
                    let e: &mut Entry = &mut entries[at];
                    e.count = e.count.saturating_add(1);
                    continue;
                }
                failures.insert(key, entries.len());
            }
            entries.push(Entry {
                kind,
                count: 1,
                reason: v.reason.code(),
                at,
                token_id: v.id.clone(),
                actor: self.actor.clone(),
                ip,
            });
        }
        match journal::append(&self.dir, store_id, &entries, self.wait) {
            Ok(()) => Ok(()),
            Err(e) if crate::lockfile::locked_path(&e).is_some() => Err(Error::Busy {
                path: crate::lockfile::locked_path(&e).expect("locked"),
                waited: crate::lockfile::waited(self.wait),
            }),
            // A store that cannot be written (mounted read-only) still answers; failures go
            // unrecorded, and a use that cannot be counted is refused, saying why.
            Err(e) if read_only(&e) && !counted => Ok(()),
            Err(e) if read_only(&e) => Err(Error::io(
                format!(
                    "cannot count this use: the store at {} cannot be written; verify with --no-touch",
                    self.dir.display()
                ),
                e,
            )),
            Err(e) => Err(Error::io_at(
                format!("cannot write the journal in {}", self.dir.display()),
                &self.dir,
                e,
            )),
        }
    }

    /// The slow path, when the index is missing, damaged or foreign: the store is opened
    /// under its lock (which folds the journal in) and the index built afresh from sled, then
    /// used from memory; it is also written, for the verifies after this one, unless that
    /// fails (a full disk), which the next command that opens the store tries again.
    fn rebuild_from_store(&mut self) -> Result<()> {
        let store = Store::open(&self.dir, OpenMode::Existing, self.wait)?;
        let index = store.fresh_index()?;
        let file =
            std::fs::metadata(self.dir.join(index::FILE)).map_or((0, 0), |m| (m.dev(), m.ino()));
        self.current = Some(Current {
            store_id: store.store_id(),
            index,
            file,
        });
        Ok(())
    }
}

/// What a call's counts are read from, each opened once when first needed: the use table
/// (`None` inside: there is none yet), and the witness tables that bound it.
#[derive(Default)]
struct Lazy {
    table: Option<Option<uses::Table>>,
    witness: Option<uses::witness::Bounds>,
}

/// What a look-up found.
enum Found {
    /// No token of this store: the reason says which kind of stranger.
    Anonymous(Reason),
    Token(Box<IndexRecord>),
}

/// The errors of a store that cannot be written at all.
fn read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    ) || matches!(e.raw_os_error(), Some(30 | 13 | 1))
}
