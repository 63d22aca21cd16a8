//! Files appended to or rewritten in place by processes that take no store lock (the journal,
//! the use table): each is locked with `flock`, and may be renamed away (folded, grown) by
//! another process between a reader's open and its lock.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Whether `path` still names `file`, checked once its lock is held: when it does not (the file
/// was renamed away or replaced meanwhile), the caller lets go and opens `path` again.
///
/// # Errors
/// The I/O error of a `stat` that fails other than by the path being gone.
pub fn still_names(path: &Path, file: &File) -> io::Result<bool> {
    let ours = file.metadata()?;
    match fs::metadata(path) {
        Ok(now) => Ok(now.dev() == ours.dev() && now.ino() == ours.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The least a brief lock (the journal's, a use table's: held for one write or sync) is waited
/// for, whatever `--wait` says: `--wait 0` means not waiting for the store's lock, which a
/// command holds for as long as it runs, while many verifies at once each wait a moment for
/// these. A holder past it is stopped, not busy.
pub const BRIEF: Duration = Duration::from_secs(1);

/// When to give up on a brief lock, for a command told to wait `wait`: [`BRIEF`] at the least.
pub fn deadline(wait: Duration) -> Instant {
    Instant::now() + waited(wait)
}

/// How long a brief lock is waited for, for a command told to wait `wait`.
pub fn waited(wait: Duration) -> Duration {
    wait.max(BRIEF)
}

/// The file a `TimedOut` of [`lock_by`] names: another process held it past the wait.
pub fn locked_path(e: &io::Error) -> Option<std::path::PathBuf> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Locked>())
        .map(|l| l.0.clone())
}

/// A file another process held locked past the wait: the error inside a `TimedOut`.
#[derive(Debug)]
pub struct Locked(pub std::path::PathBuf);

impl std::fmt::Display for Locked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is locked by another process", self.0.display())
    }
}

impl std::error::Error for Locked {}

/// Takes `file`'s (at `path`) exclusive lock, waiting for it no later than `deadline`: a
/// process stopped while it holds it (Ctrl-Z, SIGSTOP) makes others give up, as a store's lock
/// does past `--wait`, rather than wait without end.
///
/// # Errors
/// `TimedOut` holding a [`Locked`] past the deadline; the I/O error of the lock otherwise.
pub fn lock_by(file: &File, path: &Path, deadline: Instant) -> io::Result<()> {
    let mut pause = Duration::from_micros(200);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                Locked(path.to_path_buf()),
            ));
        }
        // Short pauses: these locks are held for one write or sync, about a millisecond.
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}
