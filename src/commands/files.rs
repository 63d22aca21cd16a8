//! Files the user names: for output, written whole, private, and never over an existing one;
//! for input, opened without waiting on a FIFO that has no writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Opens `path` without waiting: a FIFO with no writer, or a device, must not block the open
/// (O_NONBLOCK; O_NOCTTY, so a terminal named never becomes ours). For any file but a
/// regular one, the caller decides what else it can read ([`open_input`]).
///
/// # Errors
/// The open's I/O error.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    use rustix::fs::OFlags;
    let flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)
}

/// Opens a file the user named to read from it (a backup, an export, a passphrase file, a file
/// to scan): a regular file as it is; a pipe or a device like stdin, where a writer that has
/// yet to write is waited for and a FIFO with none is at its end at once, never a hang.
///
/// # Errors
/// `IsADirectory` for a directory; `Other` for a terminal (nothing would end its input); the
/// open's I/O error.
pub fn open_input(path: &Path) -> io::Result<File> {
    use std::io::IsTerminal;
    let file = open_nonblocking(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        // O_NONBLOCK does nothing to a regular file.
        return Ok(file);
    }
    if kind.is_dir() {
        return Err(io::ErrorKind::IsADirectory.into());
    }
    if file.is_terminal() {
        return Err(io::Error::other(
            "a terminal: nothing would end its input (pipe text in instead)",
        ));
    }
    let blocking = rustix::fs::fcntl_getfl(&file)?.difference(rustix::fs::OFlags::NONBLOCK);
    rustix::fs::fcntl_setfl(&file, blocking)?;
    Ok(file)
}

/// Writes a new private file (0600) and makes it durable before we say it exists: `write`
/// fills it under a temporary name in the same directory, then it is linked to its name (which
/// fails if that exists by now), so neither a crash nor a full disk leaves a cut-short file
/// under the name.
///
/// # Errors
/// [`Error::Usage`] when the path cannot be created (no such directory, permission denied) or
/// already exists; [`Error::DiskFull`] or [`Error::Io`] when writing fails after that.
pub fn write_new_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<()> {
    let io_err = |e| Error::io_at(format!("cannot write {}", path.display()), path, e);
    if path.exists() {
        return Err(already(path));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A leftover of ours that a `kill -9` left here goes first; then a short temp name, so the
    // longest name the file system allows works as the target (`.NAME.PID.tmp` would not fit).
    vbx_tokens::cleanup::sweep(dir);
    let temp = vbx_tokens::cleanup::Temp::new(dir);
    // A path the user named that cannot be created (no such directory, permission denied) is
    // bad input; a write that fails after that is the disk's.
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(temp.path())
        .map_err(|e| match crate::error::is_disk_full(&e) {
            true => io_err(e),
            false => Error::usage(format!(
                "cannot create {}: {}",
                path.display(),
                crate::error::reason(&e)
            )),
        })?;
    vbx_tokens::fault::hold("temp-written");
    let mut w = BufWriter::new(f);
    let written = write(&mut w)
        .and_then(|()| w.into_inner().map_err(|e| e.into_error()))
        .and_then(|f| f.sync_all())
        .and_then(|()| {
            // From here the file is the user's: a signal no longer stops the command.
            vbx_tokens::cleanup::commit();
            fs::hard_link(temp.path(), path)
        })
        .inspect(|()| vbx_tokens::fault::pause("file-linked"))
        .and_then(|()| File::open(dir)?.sync_all());
    // Dropped: the temp name is removed (the file lives on under its name when it was linked).
    drop(temp);
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(already(path)),
        // A name longer than the file system takes is bad input, found only at the link (the
        // temporary's own name is short).
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NAMETOOLONG.raw_os_error()) => {
            Err(Error::usage(format!(
                "cannot create {}: {}",
                path.display(),
                crate::error::reason(&e)
            )))
        }
        Err(e) => Err(io_err(e)),
    }
}

fn already(path: &Path) -> Error {
    Error::usage(format!(
        "{} already exists: remove it or choose another file",
        path.display()
    ))
}
