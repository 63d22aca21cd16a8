//! The witness: the use counts kept outside the store directory, in the per-user state
//! directory (`$XDG_STATE_HOME/vbx-tokens/witness/`, 0600 files in 0700 directories), so a
//! `uses` file deleted or put back from an older copy, a slot zeroed, or the whole store
//! directory put back from a file copy never lets a limited token verify beyond its limit.
//!
//! Three kinds of table, each of the use table's layout (`super`):
//! - `witness/uses`, the token witness (header id [`WITNESS_ID`]): each token's uses in every
//!   store of this user, keyed by token id, so a token imported into several stores counts its
//!   uses once between them. Its lock puts every grant of a token, in any store or any copy of
//!   one, one after the other.
//! - `witness/STORE_ID/uses`, the store witness: the store's own grants, which `doctor`
//!   compares the store with (another store's uses of a token are not uses this one lost).
//! - `witness/STORE_ID/seen`: the token witness's count as each of this store's grants left it.
//!   The token's uses in every store are the largest count in the token witness and every
//!   store's `seen`, so the token witness removed or put back from an older copy, alone, forgets
//!   nothing while any store that granted the token keeps its own.
//!
//! A grant reads them all and writes its store's two and then the token witness, holding the
//! token witness's lock throughout. A table that is there but damaged, or not the user's alone,
//! refuses limited tokens (its count may be the one a rollback took away); `doctor` raises the
//! intact tables and rebuilds the damaged ones from what can still be read ([`repair`]). The
//! witness is not synced: after a power loss it may be behind the table (a rollback then goes
//! unseen), never ahead of it (a false alarm). What it cannot guard against is all of it
//! removed: a witness destroyed knows nothing an older copy of the store lacks.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{FILE, Table, invalid, lock, raise_locked};

/// The id in the token witness's header: one table serves every store of this user, keyed by
/// token id.
pub const WITNESS_ID: [u8; 16] = *b"vbx-tokens:users";

/// The name of a store's copy of the token witness's counts, beside its own `uses`.
const SEEN: &str = "seen";

/// The witness directory, made private if it is not there; `None` when there is no state
/// directory (no home: the witness is then not kept).
pub fn dir() -> Option<PathBuf> {
    // Unit tests share fixed store ids; they must not leave counts in the user's witness.
    if cfg!(test) {
        return None;
    }
    let dir = crate::paths::state_dir()?.join("witness");
    if !dir.is_dir() {
        // Not made (a file in the way, no permission): the witness's use then fails, naming
        // the reason, rather than going without one.
        let _ = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir);
    }
    Some(dir)
}

/// The directory of `store_id`'s tables (`witness/STORE_ID`), made (0700) when `make`; `None`
/// when there is no witness.
fn store_dir(store_id: &[u8; 16], make: bool) -> Option<PathBuf> {
    let dir = dir()?.join(hex::encode(store_id));
    if make && !dir.exists() {
        let _ = fs::DirBuilder::new().mode(0o700).create(&dir);
    }
    Some(dir)
}

/// Every store's `seen` table under the witness directory `root`, with its header id.
fn every_seen(root: &Path) -> Vec<(PathBuf, [u8; 16])> {
    every_store(root)
        .into_iter()
        .map(|(d, id)| (d.join(SEEN), id))
        .collect()
}

/// Every store directory under `root` (named by a store id), with the id.
fn every_store(root: &Path) -> Vec<(PathBuf, [u8; 16])> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root).into_iter().flatten().flatten() {
        let id = entry
            .file_name()
            .to_str()
            .and_then(|n| hex::decode(n).ok())
            .and_then(|b| <[u8; 16]>::try_from(b).ok());
        if let Some(id) = id {
            out.push((entry.path(), id));
        }
    }
    out
}

/// Whether the witness table at `path` is the caller's alone, as a store is (`crate::trust`):
/// the directories above it directories and the table a regular file (or not there), each
/// owned by the caller or root and writable by no one else. A witness others could write, or
/// something else in its place, is damage: its counts cannot be believed to be all that was
/// granted.
fn is_ours(path: &Path) -> io::Result<()> {
    let me = rustix::process::geteuid().as_raw();
    // The directory it is in and the two above it (`vbx-tokens` and the state directory, for
    // the token witness): whoever could write one could swap the witness for another.
    let mut paths: Vec<(&Path, bool)> = path
        .ancestors()
        .skip(1)
        .take(3)
        .map(|d| (d, true))
        .collect();
    paths.reverse();
    paths.push((path, false));
    for (path, dir_wanted) in paths {
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !dir_wanted => return Ok(()),
            Err(e) => return Err(e),
        };
        let problem = if dir_wanted && !meta.is_dir() {
            Some("is not a directory".to_owned())
        } else if !dir_wanted && !meta.is_file() {
            Some("is not a regular file".to_owned())
        } else if meta.uid() != me && meta.uid() != 0 {
            Some(format!(
                "is owned by uid {}, not by you or root",
                meta.uid()
            ))
        } else if meta.mode() & 0o022 != 0 {
            Some(format!(
                "is mode {:04o}: others can write it",
                meta.mode() & 0o7777
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(invalid(&format!("{} {problem}", path.display())));
        }
    }
    Ok(())
}

/// The table at `path` (of header id `id`), checked to be ours; `None` when it is not there.
fn open(path: &Path, id: &[u8; 16]) -> io::Result<Option<Table>> {
    is_ours(path)
        .and_then(|()| Table::open(path, id))
        .or_else(|e| error(path, e).map(|()| None))
}

/// What the text of an `InvalidData` error about the witness starts with.
const DAMAGED: &str = "the use witness ";

/// Whether `e` says the witness (not the store's own table) is damaged.
pub fn damaged(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData && e.to_string().starts_with(DAMAGED)
}

/// A witness error as what it means to a read: none there yet is no count; anything else
/// (damage, no permission, something else in its place) refuses, naming the table.
fn error(path: &Path, e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        return Ok(());
    }
    Err(unusable(path, e))
}

/// The table at `path` cannot be used, as the error a grant or a read refuses with:
/// `TimedOut` when another process holds it past the wait (busy), else [`damaged`]'s kind.
fn unusable(path: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::TimedOut || damaged(&e) {
        return e;
    }
    let what = if e.kind() == io::ErrorKind::InvalidData {
        "is damaged"
    } else {
        "cannot be used"
    };
    invalid(&format!(
        "{DAMAGED}{} {what} ({})",
        path.display(),
        crate::error::reason(&e)
    ))
}

/// A token's count in `table`, as a witness read: a slot that cannot be read refuses.
fn count_in(table: &Option<(PathBuf, Table)>, token_id: &str) -> io::Result<u64> {
    match table {
        Some((path, t)) => t.count(token_id).or_else(|e| error(path, e).map(|()| 0)),
        None => Ok(0),
    }
}

/// The witness as one grant holds it: the token witness locked, and this store's own tables
/// and every store's `seen` open; this store's own two locked too, so a lock another process
/// holds past the wait is met before the grant is written anywhere (it spends nothing).
pub(super) struct Grant {
    token_path: PathBuf,
    token: Table,
    own_path: PathBuf,
    own: Table,
    own_seen_path: PathBuf,
    own_seen: Table,
    seen: Vec<Option<(PathBuf, Table)>>,
}

impl Grant {
    /// Locks the token witness and this store's two tables (waiting up to `wait` for each, in
    /// that order, always after the store's use table) and opens every other store's `seen`;
    /// `None` when there is no witness.
    ///
    /// # Errors
    /// [`damaged`]'s kind for a table that is there but damaged, not ours, or cannot be
    /// written; `TimedOut` (holding a `crate::lockfile::Locked`) past the wait.
    pub(super) fn begin(store_id: &[u8; 16], wait: Duration) -> io::Result<Option<Grant>> {
        let Some(root) = dir() else {
            return Ok(None);
        };
        // A grant the witness cannot hold is not made: a witness that cannot be written (a
        // file or FIFO in its place, no permission, a read-only or full file system) would let
        // a store put back later count from less.
        let locked = |path: &Path, id: &[u8; 16]| {
            is_ours(path)
                .and_then(|()| lock(path, id, wait))
                .map_err(|e| unusable(path, e))
        };
        let token_path = root.join(FILE);
        let token = locked(&token_path, &WITNESS_ID)?;
        let store = store_dir(store_id, true).expect("a witness directory");
        let own_path = store.join(FILE);
        let own = locked(&own_path, store_id)?;
        let own_seen_path = store.join(SEEN);
        let own_seen = locked(&own_seen_path, store_id)?;
        let mut seen = Vec::new();
        for (path, id) in every_seen(&root) {
            if path != own_seen_path {
                seen.push(open(&path, &id)?.map(|t| (path, t)));
            }
        }
        Ok(Some(Grant {
            token_path,
            token,
            own_path,
            own,
            own_seen_path,
            own_seen,
            seen,
        }))
    }

    /// `token_id`'s uses in every store (the largest count of the token witness and every
    /// store's `seen`), and the least of the two this grant writes it to (the token witness
    /// and this store's `seen`): below the first when one of them was removed or put back.
    pub(super) fn total(&self, token_id: &str) -> io::Result<(u64, u64)> {
        let read =
            |path: &Path, t: &Table| t.count(token_id).or_else(|e| error(path, e).map(|()| 0));
        let token = read(&self.token_path, &self.token)?;
        let own_seen = read(&self.own_seen_path, &self.own_seen)?;
        let mut n = token.max(own_seen);
        for table in &self.seen {
            n = n.max(count_in(table, token_id)?);
        }
        Ok((n, token.min(own_seen)))
    }

    /// `token_id`'s uses this store granted, as its own witness holds them.
    pub(super) fn own(&self, token_id: &str) -> io::Result<u64> {
        self.own
            .count(token_id)
            .or_else(|e| error(&self.own_path, e).map(|()| 0))
    }

    /// Raises this store's own witness to `own`, its `seen` to `total`, then the token witness
    /// to `total`, and lets go of its lock: every grant is in each before the next grant of
    /// any store reads them.
    pub(super) fn finish(self, own: &[(&str, u64)], total: &[(&str, u64)]) -> io::Result<()> {
        let raise = |path: &Path, t: Table, to: &[(&str, u64)]| {
            let id = t.store_id;
            raise_locked(path, &id, t, to).map_err(|e| unusable(path, e))
        };
        raise(&self.own_path, self.own, own)?;
        raise(&self.own_seen_path, self.own_seen, total)?;
        raise(&self.token_path, self.token, total)
    }
}

/// The largest count of each token in the witness tables `tables` (path, header id).
///
/// # Errors
/// [`damaged`]'s kind when a table is there and damaged or not ours.
fn counts_of(tables: Vec<(PathBuf, [u8; 16])>) -> io::Result<HashMap<String, u64>> {
    let mut all = HashMap::new();
    for (path, id) in tables {
        match is_ours(&path).and_then(|()| super::counts(&path, &id)) {
            Ok(found) => merge(&mut all, found),
            Err(e) => error(&path, e)?,
        }
    }
    Ok(all)
}

/// Raises each count in `into` to the one in `from`, adding the tokens it lacks.
fn merge(into: &mut HashMap<String, u64>, from: impl IntoIterator<Item = (String, u64)>) {
    for (token_id, n) in from {
        let count = into.entry(token_id).or_insert(0);
        *count = n.max(*count);
    }
}

/// The tables whose counts bound a token's uses in the store `store_id`: the token witness,
/// the store's own, and every store's `seen`.
fn bounding(store_id: &[u8; 16]) -> Vec<(PathBuf, [u8; 16])> {
    let Some(root) = dir() else {
        return Vec::new();
    };
    let mut tables = vec![
        (root.join(FILE), WITNESS_ID),
        (root.join(hex::encode(store_id)).join(FILE), *store_id),
    ];
    tables.extend(every_seen(&root));
    tables
}

/// The witness tables that bound the counts of the store `store_id` (the token witness, the
/// store's own and every store's `seen`), opened and checked once for many reads: a chunk of verifies of limited tokens
/// reads each token's count in them, where opening them for each token cost a dozen system
/// calls a token (a `verify --batch --no-touch` of 100k tokens, a third of them limited,
/// took 3.5 s, and 0.3 s with the tables opened once a chunk).
pub struct Bounds(Vec<Option<(PathBuf, Table)>>);

impl Bounds {
    /// Opens every table that bounds `store_id`'s counts that is there.
    ///
    /// # Errors
    /// [`damaged`]'s kind when a table is there and damaged or not ours.
    pub fn open(store_id: &[u8; 16]) -> io::Result<Bounds> {
        let mut tables = Vec::new();
        for (path, id) in bounding(store_id) {
            tables.push(open(&path, &id)?.map(|t| (path, t)));
        }
        Ok(Bounds(tables))
    }

    /// The uses the tables hold for `token_id`: what a grant counts from at least (0 when
    /// none holds it).
    ///
    /// # Errors
    /// [`damaged`]'s kind when a slot cannot be read: a count it cannot read may be the one
    /// a rollback took away.
    pub fn witnessed(&self, token_id: &str) -> io::Result<u64> {
        let mut n = 0;
        for table in &self.0 {
            n = n.max(count_in(table, token_id)?);
        }
        Ok(n)
    }
}

/// Every count the witness holds that bounds a token of the store `store_id` (and of other
/// stores), by token id: what a grant counts from at least.
///
/// # Errors
/// As for [`Bounds::witnessed`].
pub fn counts(store_id: &[u8; 16]) -> io::Result<HashMap<String, u64>> {
    counts_of(bounding(store_id))
}

/// [`counts`] as far as they can be read, for what is only shown or carried (`list`, `show`,
/// `export`, `backup`): each table that cannot be believed (damaged, not ours) still gives
/// every slot of it that passes its CRC, so a damaged table never makes an export show fewer
/// uses than the rest of the witness knows, and carry a spent token to another machine.
pub fn counts_or_none(store_id: &[u8; 16]) -> HashMap<String, u64> {
    let mut all = HashMap::new();
    for (path, id) in bounding(store_id) {
        merge(&mut all, readable(&path, &id));
    }
    all
}

/// Every count the table at `path` holds that can be read: all of it when it is sound, else
/// what [`super::salvage`] finds.
fn readable(path: &Path, id: &[u8; 16]) -> Vec<(String, u64)> {
    super::counts(path, id).unwrap_or_else(|_| super::salvage(path, id))
}

/// The tokens of `token_ids` whose uses in every store the token witness or the store
/// `store_id`'s `seen` counts below the rest of the witness (one of the two removed or put
/// back), each with that count: what `doctor` raises them to, so the next such loss is not
/// the second of a pair.
///
/// # Errors
/// As for [`Bounds::witnessed`].
pub fn lagging(store_id: &[u8; 16], token_ids: &[&str]) -> io::Result<Vec<(String, u64)>> {
    let Some(root) = dir() else {
        return Ok(Vec::new());
    };
    let all = counts(store_id)?;
    let token = counts_of(vec![(root.join(FILE), WITNESS_ID)])?;
    let seen = counts_of(vec![(
        root.join(hex::encode(store_id)).join(SEEN),
        *store_id,
    )])?;
    Ok(token_ids
        .iter()
        .filter_map(|&id| {
            let n = all.get(id).copied().unwrap_or(0);
            let least = token
                .get(id)
                .copied()
                .unwrap_or(0)
                .min(seen.get(id).copied().unwrap_or(0));
            (least < n).then(|| (id.to_owned(), n))
        })
        .collect())
}

/// The counts of the store witness of `store_id` alone: the uses granted in that store.
///
/// # Errors
/// As for [`Bounds::witnessed`].
pub fn own_counts(store_id: &[u8; 16]) -> io::Result<HashMap<String, u64>> {
    let Some(store) = store_dir(store_id, false) else {
        return Ok(HashMap::new());
    };
    counts_of(vec![(store.join(FILE), *store_id)])
}

/// The largest count for each token id that any table of the witness holds, from any of this
/// user's stores: what an import must respect, since an export names no store (its token may
/// have been used up in the store it came from since). Tables that cannot be read are passed
/// over.
pub fn by_any_store() -> HashMap<String, u64> {
    let mut all = HashMap::new();
    let Some(root) = dir() else {
        return all;
    };
    let mut tables = vec![(root.join(FILE), WITNESS_ID)];
    for (store, id) in every_store(&root) {
        tables.push((store.join(FILE), id));
        tables.push((store.join(SEEN), id));
    }
    for (path, id) in tables {
        merge(&mut all, readable(&path, &id));
    }
    all
}

/// Raises the store `store_id`'s own witness to `own` and each token's uses in every store to
/// `total`, as a grant does: for `doctor`, which found the witness behind the store.
///
/// # Errors
/// As for [`Bounds::witnessed`]; `TimedOut` when a table stays locked.
pub fn raise(
    store_id: &[u8; 16],
    own: &[(String, u64)],
    total: &[(String, u64)],
    wait: Duration,
) -> io::Result<()> {
    let Some(grant) = Grant::begin(store_id, wait)? else {
        return Ok(());
    };
    grant.finish(&view(own), &view(total))
}

/// Makes the witness whole again for `doctor` after a read of it failed: each table that is
/// intact and ours is raised to what is known, and each that is not (damaged, not a regular
/// file, a directory in its place, others able to write it) is rebuilt from what is known
/// and what it still holds that can be read, so repairing never lowers a count. `own` is the
/// store `store_id`'s own grants; a token's uses in every store are the largest count of
/// `own` and every readable table. Every table is read before anything is changed, so what a
/// directory put in the witness's place by a link held is kept. Directories of the witness
/// that are not private are made so, and files in their place removed. Each lock is waited
/// for up to `wait`. Returns the tables rebuilt.
///
/// # Errors
/// The I/O error that stopped it (`TimedOut` holding a `crate::lockfile::Locked` past the
/// wait); [`damaged`]'s kind when a table still cannot be trusted after (a directory above
/// the witness others can write, which is not the witness's to change).
pub fn repair(
    store_id: &[u8; 16],
    own: &[(String, u64)],
    wait: Duration,
) -> io::Result<Vec<PathBuf>> {
    let Some(root) = dir() else {
        return Ok(Vec::new());
    };
    let store = store_dir(store_id, false).expect("a witness directory");
    // Every table, and whether it holds a token's uses in every store (else this store's own).
    let mut tables: Vec<(PathBuf, [u8; 16], bool)> = vec![
        (root.join(FILE), WITNESS_ID, true),
        (store.join(FILE), *store_id, false),
        (store.join(SEEN), *store_id, true),
    ];
    for (path, id) in every_seen(&root) {
        if !tables.iter().any(|(p, _, _)| *p == path) {
            tables.push((path, id, true));
        }
    }
    // What each holds that can be read, however it is damaged otherwise (its mode, its owner,
    // its header, a slot of another token, a link in its directory's place).
    let readable: Vec<Vec<(String, u64)>> = tables
        .iter()
        .map(|(path, id, _)| super::salvage(path, id))
        .collect();
    let mut total: HashMap<String, u64> = own.iter().cloned().collect();
    for (found, (_, _, is_total)) in readable.iter().zip(&tables) {
        if *is_total {
            merge(&mut total, found.iter().cloned());
        }
    }
    let total: Vec<(String, u64)> = total.into_iter().collect();
    // `vbx-tokens` above it is ours too; the state directory above that is the user's.
    for dir in root
        .parent()
        .into_iter()
        .chain([root.as_path(), store.as_path()])
    {
        make_private_dir(dir).map_err(|e| at(dir, e))?;
    }
    let mut rebuilt = Vec::new();
    for ((path, id, is_total), found) in tables.iter().zip(readable) {
        let mut keep: HashMap<String, u64> = found.into_iter().collect();
        merge(
            &mut keep,
            (if *is_total { &total[..] } else { own }).iter().cloned(),
        );
        let keep: Vec<(String, u64)> = keep.into_iter().collect();
        let ours = path.starts_with(&store) || path.parent() == Some(root.as_path());
        let intact = is_ours(path).and_then(|()| super::counts(path, id)).is_ok();
        if intact {
            // Another store's `seen` is left as it is: it is intact, and bounds only more.
            if ours {
                lock(path, id, wait)
                    .and_then(|t| raise_locked(path, id, t, &view(&keep)))
                    .map_err(|e| at(path, e))?;
            }
            continue;
        }
        super::make_way(path)
            .and_then(|()| super::rebuild(path, id, &keep))
            .map_err(|e| at(path, e))?;
        rebuilt.push(path.clone());
    }
    for (path, id, _) in &tables {
        open(path, id)?;
    }
    Ok(rebuilt)
}

/// `counts` as a grant's raises take them.
fn view(counts: &[(String, u64)]) -> Vec<(&str, u64)> {
    counts.iter().map(|(id, n)| (id.as_str(), *n)).collect()
}

/// `e` naming the `path` it happened at, keeping its kind.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{}: {}", path.display(), crate::error::reason(&e)),
    )
}

/// Makes `dir` a directory only its owner can write (0700), removing a file or symlink in its
/// place.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {
            if m.mode() & 0o077 != 0 && m.uid() == rustix::process::geteuid().as_raw() {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
            }
            return Ok(());
        }
        Ok(_) => fs::remove_file(dir)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::DirBuilder::new().mode(0o700).create(dir)
}
