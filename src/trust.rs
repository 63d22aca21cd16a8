//! Whether a store may be believed at all: who owns it and who else could have written it.
//!
//! Anyone who can write a store's files can plant an index or a record that makes any token
//! they like verify `valid`. So, as OpenSSH's `StrictModes` and git's `safe.directory`
//! (CVE-2022-24765) do, nothing is read from a store before [`check_store`] has found that:
//! - the store directory (where it really is, symbolic links resolved) is a directory owned by
//!   the calling user, by root or by an owner the user opted into ([`trust_owners`]), with no
//!   group or other write bit;
//! - every directory above it, up to `/`, has such an owner, and is writable by no one else
//!   unless it is sticky (like `/tmp`, where no one can rename or remove what another user
//!   made). The walk does not stop at the first safe directory: a root-owned directory inside
//!   one another user owns can be renamed away by that user and another put in its place, so
//!   one unsafe directory anywhere above lets the store be swapped (as OpenSSH's
//!   `secure_filename` walks to the root);
//! - every entry in the store directory (marker, index, journal, use table, sled's files, the
//!   lock, the last-backup note) and in its subdirectories is a regular file or a directory, not
//!   a symbolic link, with such an owner and no group or other write bit.
//!
//! Since the directory itself can then be written only by a trusted owner, a file it gains
//! later was made by one too: the check is made once per open, not per read. And since no
//! one untrusted can rename any directory on the resolved path, the store is then opened by
//! that path ([`check_store`] returns it): a symbolic link on the way, which its owner could
//! point elsewhere between the check and the open, is not followed again.
//!
//! The only module that looks up users (`nix`).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Group and other write bits.
const WRITABLE_BY_OTHERS: u32 = 0o022;
/// The sticky bit: in such a directory only an entry's owner can rename or remove it.
const STICKY: u32 = 0o1000;
/// Root's uid, trusted as it can write anything anyway.
const ROOT: u32 = 0;

/// Owners trusted besides the caller and root, set once by [`trust_owners`].
static EXTRA_OWNERS: OnceLock<Vec<u32>> = OnceLock::new();

/// Trusts stores (and their files and parent directories) owned by these uids too, for the
/// rest of the process: a store shared on purpose, opted into by its owner like git's
/// `safe.directory`. Only the first call takes effect (the binary makes it once, from
/// `--trust-owner` / `VBX_TOKENS_TRUST_OWNER`, before any store is opened).
pub fn trust_owners(uids: impl IntoIterator<Item = u32>) {
    let _ = EXTRA_OWNERS.set(uids.into_iter().collect());
}

/// The uid a `--trust-owner` value names: a user name, or a number (which need not name a
/// user: a store copied from another machine may be owned by a bare uid).
///
/// # Errors
/// [`Error::Usage`] for a name no user has.
pub fn parse_owner(text: &str) -> Result<u32> {
    if let Ok(uid) = text.parse::<u32>() {
        return Ok(uid);
    }
    match nix::unistd::User::from_name(text) {
        Ok(Some(user)) => Ok(user.uid.as_raw()),
        _ => Err(Error::usage(format!(
            "no user is named {text:?}: give a user name or a numeric uid"
        ))),
    }
}

/// "uid 1001 (mallory)", or "uid 4242" for a uid no user has.
fn describe_owner(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("uid {uid} ({})", user.name),
        _ => format!("uid {uid}"),
    }
}

fn caller() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn trusted(uid: u32) -> bool {
    uid == ROOT || uid == caller() || EXTRA_OWNERS.get().is_some_and(|v| v.contains(&uid))
}

/// Does nothing while alive; dropped, when the process runs as root in a store another user
/// owns (trusted with `--trust-owner`), gives that user every file and directory in the store
/// that is not theirs. What root made there (sled's files, the index, the journal, the use
/// table, each 0600) would otherwise lock the owner out of their own store. Made when a store
/// is opened and dropped after sled has let go of its files.
#[derive(Debug)]
pub struct HandBack(PathBuf);

impl HandBack {
    /// A hand-back of the store directory `dir` (where it really is).
    pub fn new(dir: &Path) -> HandBack {
        HandBack(dir.to_owned())
    }
}

impl Drop for HandBack {
    fn drop(&mut self) {
        give_like(&self.0, &self.0);
    }
}

/// When the process runs as root and the directory `like` belongs to another user, gives that
/// user the store directory `store` and everything in it: a store root restores in place of
/// another user's (`like`, the store or empty directory it replaces) stays theirs. Otherwise
/// does nothing. Best effort: what cannot be given stays as it is.
pub fn give_like(store: &Path, like: &Path) {
    if caller() != ROOT {
        return;
    }
    let Ok(meta) = fs::symlink_metadata(like) else {
        return;
    };
    if meta.is_dir() && meta.uid() != ROOT {
        let _ = std::os::unix::fs::lchown(store, Some(meta.uid()), Some(meta.gid()));
        hand_back(store, meta.uid(), meta.gid(), 0);
    }
}

fn hand_back(dir: &Path, uid: u32, gid: u32, depth: usize) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.uid() != uid {
            // Never through a link (there is none in a checked store, and none is followed).
            let _ = std::os::unix::fs::lchown(&path, Some(uid), Some(gid));
        }
        // As deep as `check_entries` looks: sled keeps one level of subdirectories.
        if meta.is_dir() && depth + 1 < MAX_DEPTH {
            hand_back(&path, uid, gid, depth + 1);
        }
    }
}

/// Checks that the store in `dir` is owned and writable only by trusted users (see the module
/// docs) and returns the path to open it by: where it really is, every link resolved. `None`
/// when there is nothing there: nothing to believe, and nothing to open either (the path is
/// never opened unchecked, since a link on it may point elsewhere by then); the command that
/// creates a store checks again once it has.
///
/// # Errors
/// [`Error::Untrusted`] naming the first path that fails, its owner and what is wrong;
/// [`Error::Io`] when a path cannot be examined.
pub fn check_store(dir: &Path) -> Result<Option<PathBuf>> {
    let real = match fs::canonicalize(dir) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::io(
                format!("cannot read the store at {}", dir.display()),
                e,
            ));
        }
    };
    let meta = metadata(&real, dir)?;
    if !meta.is_dir() {
        // Not a store: opening says so in its own words.
        return Ok(Some(real));
    }
    judge(dir, &real, &meta, Strict::Yes)?;
    check_ancestors(dir, &real)?;
    // A directory with none of the files a store reads holds no store (`--store /`): nothing
    // in it is read, and opening says there is none, not that a file of the system's is a
    // link; the command that makes a store there finds its files checked at the next open.
    if STORE_FILES
        .iter()
        .all(|f| fs::symlink_metadata(real.join(f)).is_err())
    {
        return Ok(Some(real));
    }
    check_entries(dir, &real, 0)?;
    Ok(Some(real))
}

/// The files a store reads before anything else (`crate::store::MARKER_FILE`, sled's `db`, the
/// index, the journal, the use table): a directory with none of them holds nothing to believe.
const STORE_FILES: [&str; 7] = [
    "vbx-tokens-store",
    "db",
    "index",
    "journal",
    "journal.folding",
    "journal.damaged",
    "uses",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strict {
    /// No group or other write bit, sticky or not (the store and its files).
    Yes,
    /// A sticky directory may be writable by others (the directories above the store).
    StickyOk,
}

fn metadata(path: &Path, store: &Path) -> Result<fs::Metadata> {
    fs::symlink_metadata(path).map_err(|e| {
        Error::io(
            format!(
                "cannot check who owns {} (part of the store at {})",
                path.display(),
                store.display()
            ),
            e,
        )
    })
}

/// Whether `path` (described by `meta`) may be believed; the error names what is wrong.
fn judge(store: &Path, path: &Path, meta: &fs::Metadata, strict: Strict) -> Result<()> {
    let untrusted = |problem: String| Error::Untrusted {
        store: store.to_owned(),
        path: path.to_owned(),
        problem,
    };
    if meta.file_type().is_symlink() {
        return Err(untrusted(
            "is a symbolic link: a store's own files are never links".to_owned(),
        ));
    }
    if !trusted(meta.uid()) {
        return Err(untrusted(format!(
            "is owned by {}, not by you ({}) or root: if it is a store you mean to share, pass --trust-owner {uid} (or set VBX_TOKENS_TRUST_OWNER={uid})",
            describe_owner(meta.uid()),
            describe_owner(caller()),
            uid = meta.uid()
        )));
    }
    let mode = meta.permissions().mode();
    let sticky_dir_ok = strict == Strict::StickyOk && meta.is_dir() && mode & STICKY != 0;
    if mode & WRITABLE_BY_OTHERS != 0 && !sticky_dir_ok {
        let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
            (true, true) => "group and others",
            (true, false) => "its group",
            _ => "others",
        };
        return Err(untrusted(format!(
            "is writable by {who} (mode {:04o}): anyone who can write it could plant tokens; `chmod go-w` it",
            mode & 0o7777
        )));
    }
    Ok(())
}

/// Every directory above the store, to `/`.
fn check_ancestors(store: &Path, real: &Path) -> Result<()> {
    for ancestor in real.ancestors().skip(1) {
        let meta = metadata(ancestor, store)?;
        judge(store, ancestor, &meta, Strict::StickyOk)?;
    }
    Ok(())
}

/// sled keeps its blobs one level down; nothing of ours goes deeper, so deeper is not walked.
const MAX_DEPTH: usize = 2;

fn check_entries(store: &Path, dir: &Path, depth: usize) -> Result<()> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot read the store at {}", store.display()), e))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| Error::io(format!("cannot read the store at {}", store.display()), e))?;
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // `verify` takes no store lock: its journal's temporary file comes and goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) => metadata(&path, store)?,
        };
        judge(store, &path, &meta, Strict::Yes)?;
        let kind = meta.file_type();
        if !kind.is_file() && !kind.is_dir() {
            // A FIFO or device in place of the index or journal would hang or mislead a read.
            return Err(Error::Untrusted {
                store: store.to_owned(),
                path: path.clone(),
                problem: "is not a regular file or a directory (a FIFO, socket or device): a store's own files are plain files".to_owned(),
            });
        }
        if meta.is_dir() && depth + 1 < MAX_DEPTH {
            check_entries(store, &path, depth + 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn the_files_that_say_a_store_is_there_are_the_stores() {
        assert_eq!(
            STORE_FILES,
            [
                crate::store::MARKER_FILE,
                "db",
                crate::index::FILE,
                crate::journal::FILE,
                crate::journal::FOLDING_FILE,
                crate::journal::DAMAGED_FILE,
                crate::uses::FILE
            ]
        );
    }

    #[test]
    fn a_private_store_passes_and_a_writable_one_is_named() {
        let top = tempfile::tempdir().expect("tempdir");
        let store = top.path().join("s");
        fs::create_dir(&store).expect("mkdir");
        set_mode(&store, 0o700);
        fs::write(store.join(STORE_FILES[0]), b"x").expect("write");
        set_mode(&store.join(STORE_FILES[0]), 0o600);
        fs::write(store.join("index"), b"x").expect("write");
        set_mode(&store.join("index"), 0o600);
        check_store(&store).expect("private store passes");

        set_mode(&store.join("index"), 0o666);
        let e = check_store(&store).expect_err("a file others can write");
        assert_eq!(e.exit_code(), crate::error::exit::STORE);
        let text = e.to_string();
        assert!(
            text.contains("index") && text.contains("mode 0666"),
            "{text}"
        );

        set_mode(&store.join("index"), 0o600);
        set_mode(&store, 0o1777);
        let e = check_store(&store).expect_err("a sticky store dir is still writable");
        assert!(e.to_string().contains("mode 1777"), "{e}");
    }

    #[test]
    fn a_sticky_parent_is_passed_but_does_not_end_the_walk() {
        let top = tempfile::tempdir().expect("tempdir");
        let shared = top.path().join("shared");
        fs::create_dir(&shared).expect("mkdir");
        set_mode(&shared, 0o1777);
        let store = shared.join("s");
        fs::create_dir(&store).expect("mkdir");
        set_mode(&store, 0o700);
        check_store(&store).expect("a store in a sticky directory passes");

        set_mode(&shared, 0o777);
        let e = check_store(&store).expect_err("a parent anyone can write, not sticky");
        assert!(e.to_string().contains("shared") && e.to_string().contains("0777"));
    }

    #[test]
    fn a_link_inside_the_store_is_refused() {
        let top = tempfile::tempdir().expect("tempdir");
        let store = top.path().join("s");
        fs::create_dir(&store).expect("mkdir");
        set_mode(&store, 0o700);
        std::os::unix::fs::symlink("/etc/hostname", store.join("index")).expect("symlink");
        let e = check_store(&store).expect_err("a link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_fifo_inside_the_store_is_refused() {
        let top = tempfile::tempdir().expect("tempdir");
        let store = top.path().join("s");
        fs::create_dir(&store).expect("mkdir");
        set_mode(&store, 0o700);
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            store.join("journal"),
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .expect("mkfifo");
        let e = check_store(&store).expect_err("a FIFO");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert_eq!(e.exit_code(), crate::error::exit::STORE);
    }

    #[test]
    fn owners_parse_by_number_and_name() {
        assert_eq!(parse_owner("4242").expect("a number"), 4242);
        assert_eq!(parse_owner("root").expect("root has a name"), 0);
        assert_eq!(
            parse_owner("no-such-user-here").map_err(|e| e.exit_code()),
            Err(crate::error::exit::USAGE)
        );
    }
}
