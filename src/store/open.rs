//! Getting at the store directory: creating it privately and durably, refusing someone else's
//! directory, waiting for the lock, and opening sled without letting its lock error or a panic
//! on damaged data reach the user.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;

use super::{MARKER_FILE, damaged};
use crate::error::{Error, Result};

/// Our own lock file, beside sled's files: sled's lock cannot be waited on.
pub(super) const LOCK_FILE: &str = "lock";

/// What sled keeps in its directory, besides our lock and marker.
const SLED_FILES: &[&str] = &["db", "conf", "blobs"];

/// The suffix of a file being written before it is renamed into place: ours (the marker), and
/// sled's half-written snapshots (`snap.<lsn>.generating`, renamed to `snap.<lsn>` once
/// complete). A crash or a full disk can leave one behind.
const OUR_TEMP_SUFFIX: &str = ".tmp";
const SLED_SNAPSHOT_TEMP_SUFFIX: &str = ".generating";
/// A journal temp file older than this was left by a crash (making one takes milliseconds).
const STALE_JOURNAL_TEMP: Duration = Duration::from_secs(60);

/// How often to retry the lock: start short (most holders finish in milliseconds), grow to this.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Creates the store directory (and its missing parents) and returns the topmost directory it
/// created, so a command that then fails can remove everything it made; until the command
/// makes its change, a signal removes it too (`crate::cleanup::remove_on_signal`).
pub(super) fn create_dir_durably(dir: &Path) -> Result<std::path::PathBuf> {
    let mut top = dir.to_owned();
    while let Some(parent) = top.parent().filter(|p| !p.as_os_str().is_empty()) {
        if parent.exists() {
            break;
        }
        top = parent.to_owned();
    }
    crate::cleanup::remove_on_signal(&top);
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| {
            crate::cleanup::forget_on_signal(&top);
            Error::io_at(
                format!("cannot create the store at {}", dir.display()),
                dir,
                e,
            )
        })?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(top)
}

/// The directories a command made on the way to a store (see [`create_dir_durably`]): removed
/// when dropped, so a command that fails, or is stopped by a signal, leaves none of them
/// behind, unless [`MadeDirs::keep`] was called once the store is in place.
pub(super) struct MadeDirs {
    top: Option<std::path::PathBuf>,
}

impl MadeDirs {
    /// Makes `dir` and its missing parents (mode 0700), or nothing when `dir` exists.
    ///
    /// # Errors
    /// What [`create_dir_durably`] returns.
    pub(super) fn make(dir: &Path) -> Result<MadeDirs> {
        let top = match exists(dir)? {
            true => None,
            false => Some(create_dir_durably(dir)?),
        };
        Ok(MadeDirs { top })
    }

    /// Keeps what was made: the store now stands in it.
    pub(super) fn keep(mut self) {
        if let Some(top) = self.top.take() {
            crate::cleanup::forget_on_signal(&top);
        }
    }
}

impl Drop for MadeDirs {
    fn drop(&mut self) {
        if let Some(top) = self.top.take() {
            let _ = fs::remove_dir_all(&top);
            crate::cleanup::forget_on_signal(&top);
        }
    }
}

pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|f| f.sync_all()).map_err(|e| {
        Error::io_at(
            format!("cannot sync the directory {}", dir.display()),
            dir,
            e,
        )
    })
}

/// Whether `path` exists; an error reading it (permission denied) is reported as itself, never
/// taken for "no".
pub(super) fn exists(path: &Path) -> Result<bool> {
    path.try_exists()
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
}

/// Whether the directory holds sled's data file: a store, or one whose first open died.
pub(super) fn holds_sled_files(dir: &Path) -> Result<bool> {
    exists(&dir.join("db"))
}

/// Removes what a crash or a full disk can leave half-written, so sled never reads it: sled's
/// snapshot temp files (sled takes the newest `snap.*` file for its snapshot, `.generating` ones
/// included, and then refuses to open: sled issue 1527) and our own temp files. Called with the
/// store lock held, before sled opens. Every file it removes was, by construction, never the
/// only copy of anything acknowledged.
pub(super) fn recover_leftovers(dir: &Path) -> Result<()> {
    let read_err = |e| Error::io(format!("cannot read the store at {}", dir.display()), e);
    let mut removed = false;
    for entry in fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name.starts_with(MARKER_FILE) || name.starts_with(crate::index::FILE);
        // A new journal is made by verify, which does not take the store lock: its temp file
        // may be in use right now, so only one too old to be is a leftover.
        // So is a use table being grown (verify again; `uses.PID.tmp`).
        let stale_journal = (name.starts_with(crate::journal::FILE)
            || name.starts_with(crate::uses::FILE))
            && name.ends_with(OUR_TEMP_SUFFIX)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_JOURNAL_TEMP);
        let half_done = (name.starts_with("snap.") && name.ends_with(SLED_SNAPSHOT_TEMP_SUFFIX))
            || (ours && name.ends_with(OUR_TEMP_SUFFIX))
            || stale_journal;
        if half_done {
            fs::remove_file(entry.path())
                .map_err(|e| Error::io(format!("cannot remove {}", entry.path().display()), e))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Writes the marker atomically (temp file, fsync, rename, fsync the directory), so a crash
/// leaves either no marker or a whole one. It names the format and the store's id, which is how
/// `verify` knows, without opening sled, which store an index or a journal must belong to:
/// `vbx-tokens store\nformat 4\nid <32 hex digits>\n`. Only the id is read back; the format
/// line is for people, and is rewritten when a migration moves the format on.
pub(super) fn write_marker(dir: &Path, store_id: &[u8; 16]) -> Result<()> {
    let marker = dir.join(MARKER_FILE);
    let temp = dir.join(format!("{MARKER_FILE}{OUR_TEMP_SUFFIX}"));
    let fail = |e| {
        Error::io_at(
            format!("cannot write to the store at {}", dir.display()),
            dir,
            e,
        )
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(fail)?;
    f.write_all(marker_text(store_id).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(fail)?;
    fs::rename(&temp, &marker).map_err(fail)?;
    sync_dir(dir)
}

fn marker_text(store_id: &[u8; 16]) -> String {
    format!(
        "vbx-tokens store\nformat {}\nid {}\n",
        super::STORE_FORMAT,
        hex::encode(store_id)
    )
}

/// Whether the marker is there and says what this build would write for this store: its id and
/// the current format.
pub(super) fn marker_is_current(dir: &Path, store_id: &[u8; 16]) -> bool {
    fs::read_to_string(dir.join(MARKER_FILE)).is_ok_and(|text| text == marker_text(store_id))
}

/// The store id the marker names, if it is there and names one (markers before format 3 do
/// not).
pub fn read_marker_id(dir: &Path) -> Option<[u8; 16]> {
    let text = fs::read_to_string(dir.join(MARKER_FILE)).ok()?;
    let hex_id = text.lines().find_map(|l| l.strip_prefix("id "))?;
    let mut id = [0u8; 16];
    hex::decode_to_slice(hex_id.trim(), &mut id).ok()?;
    Some(id)
}

/// Sets every file in the store directory to 0600 and the directory to 0700: sled creates its
/// files with the process's umask, which the library leaves alone.
pub(super) fn make_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |e| {
        Error::io(
            format!("cannot set the modes in the store at {}", dir.display()),
            e,
        )
    };
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(fail)?;
    // `verify` takes no store lock: a journal it starts is written under a temporary name that
    // comes and goes while we list the directory (so does a use table it grows). A file gone
    // by the time we reach it needs no mode; `verify` makes its files 0600 itself.
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    for entry in fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let meta = match entry.metadata() {
            Err(e) if gone(&e) => continue,
            other => other.map_err(fail)?,
        };
        let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
        if meta.permissions().mode() & 0o777 != wanted {
            match fs::set_permissions(entry.path(), fs::Permissions::from_mode(wanted)) {
                Err(e) if gone(&e) => {}
                other => other.map_err(fail)?,
            }
        }
    }
    Ok(())
}

/// A directory that holds files but no store is someone else's: we don't scatter sled's files
/// into it. Our own leftovers (a first open that died half-way) are fine.
pub(super) fn refuse_foreign_dir(dir: &Path) -> Result<()> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read the store at {}", dir.display()), e))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| Error::io(format!("cannot read the store at {}", dir.display()), e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = name == LOCK_FILE
            || SLED_FILES.contains(&&*name)
            || name.starts_with("snap.")
            || name.starts_with(MARKER_FILE)
            || name.starts_with(crate::index::FILE)
            || name.starts_with(crate::journal::FILE);
        if !ours {
            return Err(Error::store(format!(
                "{} is not a vbx-tokens store and is not empty (it holds {:?}): point --store or VBX_TOKENS_HOME at a new or empty directory",
                dir.display(),
                entry.file_name()
            )));
        }
    }
    Ok(())
}

/// Takes our lock file, retrying with growing, jittered sleeps until `deadline`.
pub(super) fn lock_store(dir: &Path, deadline: Instant, wait: Duration) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::io(format!("cannot open the store at {}", dir.display()), e))?;
    let mut backoff = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(
                    format!("cannot lock the store at {}", dir.display()),
                    e,
                ));
            }
        }
        backoff = sleep_before(deadline, backoff).ok_or_else(|| Error::Busy {
            path: dir.to_owned(),
            waited: wait,
        })?;
    }
}

/// Sleeps for about `backoff` (never past `deadline`) and returns the next back-off, or `None`
/// when the deadline has passed.
pub(super) fn sleep_before(deadline: Instant, backoff: Duration) -> Option<Duration> {
    let left = deadline.checked_duration_since(Instant::now())?;
    if left.is_zero() {
        return None;
    }
    // Jitter keeps a crowd of cron jobs from retrying in step.
    let jittered = backoff.mul_f64(rand::rng().random_range(0.5..1.5));
    thread::sleep(jittered.min(left));
    Some((backoff * 2).min(MAX_BACKOFF))
}

/// Opens sled, retrying its own lock error for a moment (a previous holder's background
/// threads can keep the file briefly after it let go of our lock). A damaged store that makes
/// sled panic is reported as damaged, not as a crash.
pub(super) fn open_sled(
    dir: &Path,
    deadline: Instant,
    wait: Duration,
    cache_bytes: u64,
) -> Result<sled::Db> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .flush_every_ms(None);
    let mut backoff = Duration::from_millis(1);
    loop {
        let opened = std::panic::catch_unwind(AssertUnwindSafe(|| config.open())).map_err(|p| {
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with no message".to_owned())
        });
        match opened {
            Ok(Ok(db)) => return Ok(db),
            Ok(Err(sled::Error::Io(e))) if e.to_string().contains("could not acquire lock") => {
                backoff = sleep_before(deadline, backoff).ok_or_else(|| Error::Busy {
                    path: dir.to_owned(),
                    waited: wait,
                })?;
            }
            Ok(Err(sled::Error::Io(e))) => {
                return Err(Error::io_at(
                    format!("cannot open the store at {}", dir.display()),
                    dir,
                    e,
                ));
            }
            // In words, not sled's debug text ("file offset Some(Inline(648)) backtrace ()").
            Ok(Err(e)) => return Err(super::sled_error(dir, e)),
            Err(message) => return Err(damaged(dir, &format!("sled stopped: {message}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_stops_at_the_deadline() {
        let far = Instant::now() + Duration::from_secs(60);
        let mut b = Duration::from_millis(1);
        for _ in 0..10 {
            b = sleep_before(far, b).expect("before the deadline");
        }
        assert_eq!(b, MAX_BACKOFF);
        assert_eq!(sleep_before(Instant::now(), b), None);
    }
}
