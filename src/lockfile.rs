//! Files appended to or rewritten in place by processes that take no store lock (the journal,
//! the use table): each is locked with `flock`, and may be renamed away (folded, grown) by
//! another process between a reader's open and its lock.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

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
