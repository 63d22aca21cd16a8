//! Verifying tokens without opening sled: the fast path of `verify`, and what a Rust service
//! embeds. A look-up reads the verification index (a constant number of reads whatever the
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

use crate::error::{Error, Result};
use crate::index::{self, Index, IndexRecord, IndexStatus};
use crate::journal::{self, Entry, EntryKind};
use crate::store::{OpenMode, Store, read_marker_id};
use crate::time::Time;
use crate::token::Token;
use crate::verdict::{Reason, Touch, Verdict};

/// How the index is read: from the file on each look-up (a single check), or from a copy in
/// memory (a batch, or a long-lived service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    File,
    Memory,
}

/// Verifies tokens of one store from its verification index.
///
/// ```no_run
/// use vbx_tokens::{Touch, Verifier};
///
/// let mut verifier = Verifier::open("/var/lib/vbx-tokens".as_ref())?;
/// let verdict = verifier.verify("vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", Touch::No)?;
/// println!("{}", verdict.reason.as_str());
/// # Ok::<(), vbx_tokens::Error>(())
/// ```
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
}

#[derive(Debug)]
struct Current {
    store_id: [u8; 16],
    index: Index,
    file: (u64, u64),
}

impl Verifier {
    /// Opens the store in `dir` for verifying, reading the index from the file on each look-up.
    ///
    /// # Errors
    /// [`Error::NoStore`] when `dir` holds no store.
    pub fn open(dir: &Path) -> Result<Verifier> {
        Verifier::with(dir, Reading::File, Duration::from_secs(10))
    }

    /// [`Verifier::open`], choosing how the index is read and how long the slow path may wait
    /// for the store's lock.
    ///
    /// # Errors
    /// [`Error::NoStore`] when `dir` holds no store.
    pub fn with(dir: &Path, reading: Reading, wait: Duration) -> Result<Verifier> {
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

    /// Verifies one token; see [`Verifier::verify_many`].
    ///
    /// # Errors
    /// As for [`Verifier::verify_many`].
    pub fn verify(&mut self, candidate: &str, touch: Touch) -> Result<Verdict> {
        let mut verdicts = self.verify_many(&[candidate], touch)?;
        Ok(verdicts.pop().expect("one candidate, one verdict"))
    }

    /// Verifies candidates in order. A valid one counts a use unless `touch` is [`Touch::No`];
    /// every failure is recorded. Both go to the journal, made durable once, before returning.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::DiskFull`] when the journal cannot be written: a counted use
    /// is then not acknowledged. On a read-only store only failures go unrecorded; a counted
    /// use there is an error that says why. The slow path's store errors.
    pub fn verify_many<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
    ) -> Result<Vec<Verdict>> {
        self.refresh();
        match self.answer_from_index(candidates) {
            Some(verdicts) => {
                let store_id = self.current.as_ref().expect("answered from it").store_id;
                self.record(store_id, &verdicts, touch)?;
                Ok(verdicts)
            }
            None => self.answer_from_store(candidates, touch),
        }
    }

    /// Every verdict from the index, or `None` if any look-up found it unusable.
    fn answer_from_index<S: AsRef<str>>(&self, candidates: &[S]) -> Option<Vec<Verdict>> {
        let current = self.current.as_ref()?;
        let now = Time::now();
        candidates
            .iter()
            .map(|c| {
                let Some(hash) = crate::token::lookup_hash(c.as_ref().trim()) else {
                    return Some(Verdict::anonymous(Reason::Malformed));
                };
                let ours = Token::parse(c.as_ref().trim()).is_ok();
                match current.index.lookup(&hash) {
                    Ok(Some(r)) => Some(judge(&r, now)),
                    // Not another system's token this store knows: it is not one of ours either.
                    Ok(None) if !ours => Some(Verdict::anonymous(Reason::Malformed)),
                    Ok(None) => Some(Verdict::anonymous(Reason::Unknown)),
                    Err(_) => None,
                }
            })
            .collect()
    }

    /// Appends the uses and failures to the journal, durably.
    fn record(&self, store_id: [u8; 16], verdicts: &[Verdict], touch: Touch) -> Result<()> {
        let at = Time::now();
        let mut counted = false;
        let entries: Vec<Entry> = verdicts
            .iter()
            .filter_map(|v| {
                let kind = match (v.is_valid(), touch) {
                    (true, Touch::No) => return None,
                    (true, Touch::Yes) => {
                        counted = true;
                        EntryKind::Use
                    }
                    (false, _) => EntryKind::Failure,
                };
                Some(Entry {
                    kind,
                    reason: v.reason.code(),
                    at,
                    token_id: v.id.clone(),
                    actor: self.actor.clone(),
                    ip: None,
                })
            })
            .collect();
        match journal::append(&self.dir, store_id, &entries) {
            Ok(()) => Ok(()),
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

    /// The slow path: sled itself, under the store's lock; opening it folds the journal and
    /// rebuilds an index that is behind, and a damaged one is rebuilt here.
    fn answer_from_store<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
    ) -> Result<Vec<Verdict>> {
        let store = Store::open(&self.dir, OpenMode::Existing, self.wait)?;
        let verdicts = store.verify_many(candidates.iter().map(|c| c.as_ref().trim()), touch)?;
        if self.current.is_some() {
            // The index opened but a look-up refused it: it is damaged inside.
            store.rebuild_index()?;
        }
        drop(store);
        self.reload();
        Ok(verdicts)
    }
}

/// What a record in the index answers at `now`.
fn judge(r: &IndexRecord, now: Time) -> Verdict {
    let in_grace = r.grace_until.is_some_and(|t| now < t);
    let reason = match r.status {
        IndexStatus::Revoked if !in_grace => Reason::Revoked,
        _ => Reason::Valid,
    };
    Verdict {
        reason,
        id: Some(r.id.clone()),
        name: Some(r.name.clone()),
    }
}

/// The errors of a store that cannot be written at all.
fn read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    ) || matches!(e.raw_os_error(), Some(30 | 13 | 1))
}
