//! The use table: how many uses each token with a use limit (`create --max-uses N`) has been
//! granted, so the limit holds exactly when many processes verify at once, without the store's
//! lock. One file, `uses`, in the store directory.
//!
//! Layout (integers big-endian): a 64-byte header (magic `VBXUSES1` ‖ the store's id (16) ‖
//! slot count u32 ‖ slots in use u32 ‖ CRC-32 of the bytes before it ‖ 0 (28)), then the slots, 32 bytes each so none
//! straddles a 4 KiB page: token id (12 bytes, `tok_` and 8 characters; all zero for an empty
//! slot) ‖ 0 (4) ‖ uses granted u64 ‖ CRC-32 of the 24 bytes before it ‖ 0 (4). A token's slot
//! is found by open addressing: CRC-32 of its id modulo the slot count, then the next slots in
//! turn. The table doubles (written whole under a temporary name and renamed into place) before
//! it is 70% full.
//!
//! Granting takes an exclusive `flock` on the file, checks that the path still names the file
//! it locked (a table that grew was renamed over it), reads each asked token's count, writes
//! count + 1 where that is below the limit, and makes the writes durable with one `fdatasync`
//! before the verify answers. The journal still records each use, which folds into the
//! record's `use_count`; the count the verification index holds (what sled had counted) is a
//! floor, so a store rebuilt from an export keeps its spent uses. Reading a count for an answer
//! that grants nothing (`verify --no-touch`) takes no lock.
//!
//! A count never goes down. Each use granted is also written, after the table is durable, to
//! the *witness*: a table of the same layout outside the store directory (the per-user state
//! directory, 0600 in 0700 directories), in two tables: the token witness (`witness/uses`),
//! one for all the user's stores, keyed by token id, so one token in several stores counts its
//! uses once between them; and the store witness (`witness/<store id>/uses`), the store's own
//! grants, which `doctor` compares the store with. A
//! grant counts at least what the witness holds, so a `uses` file deleted or put back from an
//! older copy, a slot zeroed, or the whole store directory put back from a file copy never
//! lets a limited token verify beyond its limit. A grant locks the witness after the table and
//! holds it until the grant is in it: two tables of one store (one put back while another
//! process holds the one it replaced, or two file copies of the store) each lock alone, and the
//! witness they share puts their grants one after the other. A witness that is there but
//! damaged refuses limited tokens, as a damaged table does. `doctor` compares the table with
//! the records and the witness, reports the uses lost and raises the counts back. The witness is not
//! synced: after a power loss it may be behind the table (a rollback then goes unseen), never
//! ahead of it (a false alarm).
//!
//! A crash between the table and the journal spends a use that was never acknowledged: the
//! limit can be reached early, never passed. A slot or header that fails its CRC, or a table of
//! another store, is an error that refuses the token, never a fresh count.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// The table's file name in the store directory.
pub const FILE: &str = "uses";
const MAGIC: &[u8; 8] = b"VBXUSES1";
const HEADER_LEN: u64 = 64;
const SLOT_LEN: usize = 32;
const ID_LEN: usize = 12;
const FIRST_SLOTS: u32 = 1024;
/// The most slots: 2^23 (256 MiB of table, room for 5.8 million limited tokens), past any
/// store; a header claiming more is damage, so no command reads a table larger.
const MAX_SLOTS: u32 = 1 << 23;

/// One use asked of a limited token: granted if fewer than `max` were granted before,
/// counting at least `floor` as granted.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub token_id: &'a str,
    pub max: u64,
    pub floor: u64,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn id_bytes(token_id: &str) -> io::Result<[u8; ID_LEN]> {
    // Ids come from the index, which checks its records; a slot key must still be one.
    if !crate::record::looks_like_id(token_id) {
        return Err(invalid(&format!("{token_id:?} is not a token id")));
    }
    Ok(token_id.as_bytes().try_into().expect("an id is 12 bytes"))
}

fn header(store_id: &[u8; 16], slots: u32, used: u32) -> [u8; HEADER_LEN as usize] {
    let mut b = [0u8; HEADER_LEN as usize];
    b[..8].copy_from_slice(MAGIC);
    b[8..24].copy_from_slice(store_id);
    b[24..28].copy_from_slice(&slots.to_be_bytes());
    b[28..32].copy_from_slice(&used.to_be_bytes());
    let crc = crc32fast::hash(&b[..32]);
    b[32..36].copy_from_slice(&crc.to_be_bytes());
    b
}

fn slot(id: &[u8; ID_LEN], count: u64) -> [u8; SLOT_LEN] {
    let mut b = [0u8; SLOT_LEN];
    b[..ID_LEN].copy_from_slice(id);
    b[16..24].copy_from_slice(&count.to_be_bytes());
    let crc = crc32fast::hash(&b[..24]);
    b[24..28].copy_from_slice(&crc.to_be_bytes());
    b
}

/// A slot read back: empty, or a token's count.
fn parse_slot(b: &[u8]) -> io::Result<Option<([u8; ID_LEN], u64)>> {
    if b.iter().all(|&x| x == 0) {
        return Ok(None);
    }
    if crc32fast::hash(&b[..24]).to_be_bytes() != b[24..28] {
        return Err(invalid("a slot of the use table fails its CRC"));
    }
    let id = b[..ID_LEN].try_into().expect("12 bytes");
    let count = u64::from_be_bytes(b[16..24].try_into().expect("8 bytes"));
    // No limit is larger, so no count is: one past it was not written by a grant.
    if count > crate::policy::MAX_JSON_INTEGER {
        return Err(invalid("a slot of the use table counts past 2^53 - 1"));
    }
    Ok(Some((id, count)))
}

/// An open use table.
#[derive(Debug)]
pub struct Table {
    file: File,
    store_id: [u8; 16],
    slots: u32,
    used: u32,
}

impl Table {
    /// Opens the store's table, checking its header; `None` when there is none yet.
    ///
    /// # Errors
    /// `InvalidData` for a damaged table or another store's; the I/O error otherwise.
    pub fn open(dir: &Path, store_id: &[u8; 16]) -> io::Result<Option<Table>> {
        match File::open(dir.join(FILE)) {
            Ok(file) => Table::from_file(file, store_id).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn from_file(file: File, store_id: &[u8; 16]) -> io::Result<Table> {
        let mut h = [0u8; HEADER_LEN as usize];
        file.read_exact_at(&mut h, 0)
            .map_err(|_| invalid("the use table is cut short"))?;
        if &h[..8] != MAGIC || crc32fast::hash(&h[..32]).to_be_bytes() != h[32..36] {
            return Err(invalid("the use table's header is damaged"));
        }
        if h[8..24] != store_id[..] {
            return Err(invalid("the use table belongs to another store"));
        }
        let slots = u32::from_be_bytes(h[24..28].try_into().expect("4 bytes"));
        let used = u32::from_be_bytes(h[28..32].try_into().expect("4 bytes"));
        let len = file.metadata()?.len();
        if !(FIRST_SLOTS..=MAX_SLOTS).contains(&slots)
            || used >= slots
            || len != HEADER_LEN + u64::from(slots) * SLOT_LEN as u64
        {
            return Err(invalid(
                "the use table's size is not the one its header gives",
            ));
        }
        Ok(Table {
            file,
            store_id: *store_id,
            slots,
            used,
        })
    }

    /// The uses granted to `token_id` so far (0 when it has none), read without the lock.
    ///
    /// # Errors
    /// `InvalidData` for a damaged slot; the I/O error otherwise.
    pub fn count(&self, token_id: &str) -> io::Result<u64> {
        let id = id_bytes(token_id)?;
        Ok(self.find(&id)?.1.unwrap_or(0))
    }

    /// Where `id` is or would go, and its count if it is there.
    fn find(&self, id: &[u8; ID_LEN]) -> io::Result<(u32, Option<u64>)> {
        let mut at = crc32fast::hash(id) % self.slots;
        for _ in 0..self.slots {
            let mut b = [0u8; SLOT_LEN];
            self.file
                .read_exact_at(&mut b, HEADER_LEN + u64::from(at) * SLOT_LEN as u64)?;
            match parse_slot(&b)? {
                None => return Ok((at, None)),
                Some((found, count)) if &found == id => return Ok((at, Some(count))),
                Some(_) => at = (at + 1) % self.slots,
            }
        }
        Err(invalid("the use table is full"))
    }

    /// Every token and count in the table.
    ///
    /// # Errors
    /// `InvalidData` for a slot that fails its CRC, or a count of slots in use that is not the
    /// header's (a header that lies would send a grant looking for a free slot for ever).
    fn entries(&self) -> io::Result<Vec<([u8; ID_LEN], u64)>> {
        // A page at a time: a large table (sparse on disk, maybe) is never read into memory
        // whole.
        const PAGE_SLOTS: usize = 32 * 1024;
        let mut page = vec![0u8; PAGE_SLOTS * SLOT_LEN];
        let mut out = Vec::with_capacity(self.used as usize);
        let mut at = 0usize;
        while at < self.slots as usize {
            let n = PAGE_SLOTS.min(self.slots as usize - at);
            let bytes = &mut page[..n * SLOT_LEN];
            self.file
                .read_exact_at(bytes, HEADER_LEN + (at * SLOT_LEN) as u64)?;
            for b in bytes.chunks(SLOT_LEN) {
                out.extend(parse_slot(b)?);
            }
            if out.len() > self.used as usize {
                break;
            }
            at += n;
        }
        if out.len() != self.used as usize {
            return Err(invalid(
                "the use table holds another number of tokens than its header says",
            ));
        }
        Ok(out)
    }
}

/// The id in the witness's header: one witness serves every store of this user, keyed by
/// token id, so a token imported into several stores counts its uses once between them.
pub const WITNESS_ID: [u8; 16] = *b"vbx-tokens:users";

/// The witness directory, made private if it is not there; `None` when there is no state
/// directory (no home: the witness is then not kept).
pub fn witness_dir() -> Option<std::path::PathBuf> {
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

/// The store witness of `store_id` (`witness/STORE_ID/uses`): the uses granted in that store
/// alone, beside the token witness's uses in any store. `doctor` compares a store with its own
/// witness, so a token also used in another store (an import of it) is not taken for uses the
/// store lost. Made (0700) when `make`; `None` when it is not there or there is no witness.
pub fn store_witness_dir(store_id: &[u8; 16], make: bool) -> Option<std::path::PathBuf> {
    let dir = witness_dir()?.join(hex::encode(store_id));
    if make && !dir.exists() {
        let _ = fs::DirBuilder::new().mode(0o700).create(&dir);
    }
    (make || dir.join(FILE).exists()).then_some(dir)
}

/// Whether the witness at `dir` is the caller's alone, as a store is (`crate::trust`): the
/// directory a directory and the table a regular file, each owned by the caller or root and
/// writable by no one else. A witness others could write, or something else in its place, is
/// damage: its counts cannot be believed to be all that was granted.
fn witness_is_ours(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    // The two directories above it too (`vbx-tokens` and the state directory): whoever could
    // write one could swap the witness for another.
    let above = dir
        .ancestors()
        .skip(1)
        .take(2)
        .map(|d| (d.to_path_buf(), true));
    let paths: Vec<(std::path::PathBuf, bool)> = above
        .chain([(dir.to_path_buf(), true), (dir.join(FILE), false)])
        .collect();
    for (path, dir_wanted) in paths {
        let meta = match fs::symlink_metadata(&path) {
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

/// The count of `token_id` in the witness table at `dir` (of header id `id`), 0 when there
/// is none.
fn witness_count(dir: &Path, id: &[u8; 16], token_id: &str) -> io::Result<u64> {
    let damaged = |e: io::Error| witness_error(dir, e);
    if let Err(e) = witness_is_ours(dir) {
        return damaged(e).map(|()| 0);
    }
    match Table::open(dir, id) {
        Ok(Some(t)) => t.count(token_id).or_else(|e| damaged(e).map(|()| 0)),
        Ok(None) => Ok(0),
        Err(e) => damaged(e).map(|()| 0),
    }
}

/// The count the witness holds for `token_id` of the store `store_id` (0 when there is no
/// witness, or it cannot be opened: the witness only ever raises a count).
///
/// # Errors
/// `InvalidData` ([`witness_damaged`]) when the witness is there and damaged: a count it
/// cannot read may be the one a rollback took away.
pub fn witnessed(store_id: &[u8; 16], token_id: &str) -> io::Result<u64> {
    let Some(dir) = witness_dir() else {
        return Ok(0);
    };
    let mut n = witness_count(&dir, &WITNESS_ID, token_id)?;
    if let Some(own) = store_witness_dir(store_id, false) {
        n = n.max(witness_count(&own, store_id, token_id)?);
    }
    Ok(n)
}

/// What the text of an `InvalidData` error about the witness starts with.
const WITNESS_DAMAGED: &str = "the use witness ";

/// Whether `e` says the witness (not the store's own table) is damaged.
pub fn witness_damaged(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData && e.to_string().starts_with(WITNESS_DAMAGED)
}

/// A witness error as what it means to a read: none there yet is no count; anything else
/// (damage, no permission, something else in its place) refuses, naming the witness.
fn witness_error(dir: &Path, e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        return Ok(());
    }
    Err(unusable(dir, e))
}

/// The witness at `dir` cannot be used, as the error a grant or a read refuses with: `TimedOut`
/// when another process holds it past the wait (busy), else [`witness_damaged`]'s kind.
fn unusable(dir: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::TimedOut || witness_damaged(&e) {
        return e;
    }
    let what = if e.kind() == io::ErrorKind::InvalidData {
        "is damaged"
    } else {
        "cannot be used"
    };
    invalid(&format!(
        "{WITNESS_DAMAGED}{} {what} ({})",
        dir.join(FILE).display(),
        crate::error::reason(&e)
    ))
}

/// Every count the witnesses hold for tokens of the store `store_id` and any other: the
/// largest of the token witness's and the store witness's.
///
/// # Errors
/// `InvalidData` ([`witness_damaged`]) when a witness is there and damaged.
pub fn witness_counts(store_id: &[u8; 16]) -> io::Result<std::collections::HashMap<String, u64>> {
    let Some(dir) = witness_dir() else {
        return Ok(std::collections::HashMap::new());
    };
    let mut tables = vec![(dir, WITNESS_ID)];
    tables.extend(store_witness_dir(store_id, false).map(|d| (d, *store_id)));
    counts_of(tables)
}

/// The counts of the store witness of `store_id` alone: the uses granted in that store.
///
/// # Errors
/// As for [`witness_counts`].
pub fn store_witness_counts(
    store_id: &[u8; 16],
) -> io::Result<std::collections::HashMap<String, u64>> {
    counts_of(
        store_witness_dir(store_id, false)
            .map(|d| (d, *store_id))
            .into_iter()
            .collect(),
    )
}

/// The largest count of each token in the witness tables `tables` (directory, header id).
fn counts_of(
    tables: Vec<(std::path::PathBuf, [u8; 16])>,
) -> io::Result<std::collections::HashMap<String, u64>> {
    let mut all = std::collections::HashMap::new();
    for (dir, id) in tables {
        match witness_is_ours(&dir).and_then(|()| counts(&dir, &id)) {
            Ok(found) => {
                for (token_id, n) in found {
                    let count = all.entry(token_id).or_insert(0);
                    *count = n.max(*count);
                }
            }
            Err(e) => witness_error(&dir, e)?,
        }
    }
    Ok(all)
}

/// Every count the witness holds (empty when it has none or cannot be read).
pub fn witnessed_all(store_id: &[u8; 16]) -> Vec<(String, u64)> {
    witness_counts(store_id)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The largest count for each token id that the witness holds, from any of this user's
/// stores (the older builds' witnesses of each store too): what an import must respect, since
/// an export names no store (its token may have been used up in the store it came from
/// since). Empty when there is no witness or none can be read.
pub fn witnessed_by_any_store() -> std::collections::HashMap<String, u64> {
    let mut all = std::collections::HashMap::new();
    let Some(root) = witness_dir() else {
        return all;
    };
    let mut tables = vec![(root.clone(), WITNESS_ID)];
    for entry in fs::read_dir(&root).into_iter().flatten().flatten() {
        let store_id = entry
            .file_name()
            .to_str()
            .and_then(|n| hex::decode(n).ok())
            .and_then(|b| <[u8; 16]>::try_from(b).ok());
        if let Some(store_id) = store_id {
            tables.push((entry.path(), store_id));
        }
    }
    for (dir, id) in tables {
        for (token_id, n) in counts(&dir, &id).unwrap_or_default() {
            let count = all.entry(token_id).or_insert(0);
            *count = n.max(*count);
        }
    }
    all
}

/// Every (token id, count) of the table in `dir` (empty with no table).
///
/// # Errors
/// As for [`Table::open`]; `InvalidData` for a slot that fails its CRC.
pub fn counts(dir: &Path, store_id: &[u8; 16]) -> io::Result<Vec<(String, u64)>> {
    let Some(t) = Table::open(dir, store_id)? else {
        return Ok(Vec::new());
    };
    Ok(t.entries()?
        .into_iter()
        .map(|(id, n)| (String::from_utf8_lossy(&id).into_owned(), n))
        .collect())
}

/// Raises each token's count in the table at `dir` to at least the one given, under the
/// table's lock; counts already higher are left. Not synced (see the module's note).
///
/// # Errors
/// As for [`take_many`].
pub fn raise_many(dir: &Path, store_id: &[u8; 16], to: &[(&str, u64)]) -> io::Result<()> {
    if to.is_empty() {
        return Ok(());
    }
    raise_locked(dir, store_id, lock(dir, store_id, REPAIR_WAIT)?, to)
}

/// [`raise_many`] on a table the caller has locked.
fn raise_locked(
    dir: &Path,
    store_id: &[u8; 16],
    mut table: Table,
    to: &[(&str, u64)],
) -> io::Result<()> {
    let wanted = u64::from(table.used) + to.len() as u64;
    if wanted * 10 > u64::from(table.slots) * 7 {
        table = grow(dir, store_id, &table, wanted)?;
    }
    let used_before = table.used;
    for (token_id, n) in to {
        let id = id_bytes(token_id)?;
        let (at, count) = table.find(&id)?;
        if count.is_some_and(|c| c >= *n) {
            continue;
        }
        if count.is_none() {
            table.used += 1;
        }
        table
            .file
            .write_all_at(&slot(&id, *n), HEADER_LEN + u64::from(at) * SLOT_LEN as u64)?;
    }
    if table.used != used_before {
        table
            .file
            .write_all_at(&header(&table.store_id, table.slots, table.used), 0)?;
    }
    Ok(())
}

/// Grants each ask in order (the same token may be asked for more than once) and makes every
/// granted use durable with one sync before returning. Returns whether each was granted.
///
/// # Errors
/// As for [`Table::open`] and [`Table::count`]; a full disk or a read-only store when a count
/// cannot be written. After an error no ask is to be taken as granted.
pub fn take_many(
    dir: &Path,
    store_id: &[u8; 16],
    asks: &[Ask<'_>],
    wait: Duration,
) -> io::Result<Vec<bool>> {
    if asks.is_empty() {
        return Ok(Vec::new());
    }
    let ids = asks
        .iter()
        .map(|a| id_bytes(a.token_id))
        .collect::<io::Result<Vec<_>>>()?;
    let mut table = lock(dir, store_id, wait)?;
    // Room first, so every new token below finds an empty slot: grow before 70% full.
    let wanted = u64::from(table.used) + ids.len() as u64;
    if wanted * 10 > u64::from(table.slots) * 7 {
        table = grow(dir, store_id, &table, wanted)?;
    }
    // What the witness saw granted is a floor too: a table put back or emptied cannot
    // grant those uses again. It stays locked until the grants are in it: two tables of one
    // store (a `uses` file put back while another process holds the one it replaced, or two
    // file copies of the store) each have a lock of their own, and the witness, which they
    // share, is what makes their grants one after the other. Always locked after a table,
    // never before, so no two grants wait for each other.
    let witness_at = witness_dir();
    // A grant the witness cannot hold is not made: a witness that cannot be written (a file
    // or FIFO in its place, no permission, a read-only or full file system) would let a store
    // put back later count from less.
    let witness = match &witness_at {
        Some(d) => Some(
            witness_is_ours(d)
                .and_then(|()| lock(d, &WITNESS_ID, wait))
                .map_err(|e| unusable(d, e))?,
        ),
        None => None,
    };
    // This store's own witness: its grants alone, what `doctor` compares the store with.
    let own = witness
        .as_ref()
        .and_then(|_| store_witness_dir(store_id, true));
    let mut granted = Vec::with_capacity(asks.len());
    // What each witness is raised to: the token witness to all that is known, the store's own
    // to what this store knows (not another store's uses of the token).
    let mut raised: Vec<(&str, u64)> = Vec::new();
    let mut raised_own: Vec<(&str, u64)> = Vec::new();
    let used_before = table.used;
    for (ask, id) in asks.iter().zip(&ids) {
        let (at, count) = table.find(id)?;
        let seen = match &witness {
            Some(w) => match w.count(ask.token_id) {
                Ok(n) => n,
                Err(e) => {
                    witness_error(witness_at.as_deref().expect("a witness"), e)?;
                    0
                }
            },
            None => 0,
        };
        // What this store's own witness saw (the token witness may have lost it: put back).
        let own_seen = match &own {
            Some(own) => witness_count(own, store_id, ask.token_id)?,
            None => 0,
        };
        let local = count.unwrap_or(0).max(ask.floor).max(own_seen);
        let known = local.max(seen);
        let ok = known < ask.max;
        if ok {
            if count.is_none() {
                table.used += 1;
            }
            // The store counts its own grants; the token witness, every store's.
            let n = local + 1;
            table
                .file
                .write_all_at(&slot(id, n), HEADER_LEN + u64::from(at) * SLOT_LEN as u64)?;
            raise_to(&mut raised, ask.token_id, known + 1, 0);
            raise_to(&mut raised_own, ask.token_id, n, 0);
        } else if !raised.iter().any(|(t, _)| *t == ask.token_id) {
            // A witness behind what the store knows (removed, or put back): brought up to it
            // now, so the store put back from a copy later cannot count from less.
            raise_to(&mut raised, ask.token_id, known, seen);
            raise_to(&mut raised_own, ask.token_id, local, own_seen);
        }
        granted.push(ok);
    }
    if table.used != used_before {
        table
            .file
            .write_all_at(&header(&table.store_id, table.slots, table.used), 0)?;
    }
    if granted.iter().any(|g| *g) {
        table.file.sync_data()?;
    }
    // Only once the table is durable, so a witness is never ahead of it; the store's own
    // first, while the token witness is still locked, so every grant is in both. A use the
    // table granted but a witness could not keep is spent, not answered valid: the limit
    // may be reached early, never passed.
    if let (Some(own), false) = (&own, raised_own.is_empty()) {
        witness_is_ours(own)
            .and_then(|()| lock(own, store_id, wait))
            .and_then(|t| raise_locked(own, store_id, t, &raised_own))
            .map_err(|e| unusable(own, e))?;
    }
    if let (Some(w), Some(d), false) = (witness, &witness_at, raised.is_empty()) {
        raise_locked(d, &WITNESS_ID, w, &raised).map_err(|e| unusable(d, e))?;
    }
    // Dropping the file lets go of the lock.
    Ok(granted)
}

/// Notes that `token_id`'s count in a witness is to be raised to `n`, when that is above the
/// `was` it holds (a later grant of the same token in one batch replaces an earlier one).
fn raise_to<'a>(to: &mut Vec<(&'a str, u64)>, token_id: &'a str, n: u64, was: u64) {
    if n > was {
        to.retain(|(t, _)| *t != token_id);
        to.push((token_id, n));
    }
}

/// The table at `dir/uses`, locked for writing, made if there is none.
fn lock(dir: &Path, store_id: &[u8; 16], wait: Duration) -> io::Result<Table> {
    let path = dir.join(FILE);
    let deadline = Instant::now() + wait;
    loop {
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create(dir, store_id, FIRST_SLOTS, &[], false)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        lock_by(&file, &path, deadline)?;
        // A table that grew was renamed over the one we opened: use the new one.
        if !crate::lockfile::still_names(&path, &file)? {
            continue;
        }
        return Table::from_file(file, store_id);
    }
}

/// A table another process held locked past the wait: the error inside a `TimedOut`.
#[derive(Debug)]
pub struct Locked(pub std::path::PathBuf);

impl std::fmt::Display for Locked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is locked by another process", self.0.display())
    }
}

impl std::error::Error for Locked {}

/// Takes `file`'s exclusive lock, waiting for it no later than `deadline`: a process stopped
/// while it holds it (Ctrl-Z, SIGSTOP) makes others give up with `TimedOut`, as a store's lock
/// does past `--wait`, rather than wait without end.
fn lock_by(file: &File, path: &Path, deadline: Instant) -> io::Result<()> {
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
        // Short pauses: a grant holds the lock for one sync, about a millisecond.
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// How long writes outside a verify (`doctor`'s repairs) wait for a table's lock.
const REPAIR_WAIT: Duration = Duration::from_secs(10);

/// A table twice as large (or more) holding `old`'s counts, renamed into place while `old` is
/// locked; returned locked.
fn grow(dir: &Path, store_id: &[u8; 16], old: &Table, wanted: u64) -> io::Result<Table> {
    let mut slots = old.slots;
    while u64::from(slots) * 7 < wanted * 10 {
        slots = slots
            .checked_mul(2)
            .filter(|&s| s <= MAX_SLOTS)
            .ok_or_else(|| invalid("the use table cannot grow further"))?;
    }
    let entries = old.entries()?;
    let file = create(dir, store_id, slots, &entries, true)?.expect("a replacing create");
    Table::from_file(file, store_id)
}

/// Writes a table of `slots` slots holding `entries` under a temporary name, then links it into
/// place (unless another process just made one, when `replace` is false) or renames it over the
/// old one (when `replace`, returning it locked before anyone else can open it).
fn create(
    dir: &Path,
    store_id: &[u8; 16],
    slots: u32,
    entries: &[([u8; ID_LEN], u64)],
    replace: bool,
) -> io::Result<Option<File>> {
    let mut bytes = vec![0u8; slots as usize * SLOT_LEN];
    for (id, count) in entries {
        let mut at = crc32fast::hash(id) % slots;
        while bytes[at as usize * SLOT_LEN..][..ID_LEN] != [0u8; ID_LEN] {
            at = (at + 1) % slots;
        }
        bytes[at as usize * SLOT_LEN..][..SLOT_LEN].copy_from_slice(&slot(id, *count));
    }
    let temp = dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(&header(store_id, slots, entries.len() as u32))?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        if replace {
            f.lock()?;
            fs::rename(&temp, dir.join(FILE))?;
            File::open(dir)?.sync_all()?;
            return Ok(Some(f));
        }
        match fs::hard_link(&temp, dir.join(FILE)) {
            Ok(()) => File::open(dir)?.sync_all()?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        Ok(None)
    })();
    let _ = fs::remove_file(&temp);
    result
}

/// Checks the whole table: its header and every slot. Returns how many tokens it counts
/// (0 with no table).
///
/// # Errors
/// As for [`Table::open`]; `InvalidData` for a slot that fails its CRC.
pub fn check(dir: &Path, store_id: &[u8; 16]) -> io::Result<usize> {
    match Table::open(dir, store_id)? {
        Some(t) => t.entries().map(|e| e.len()),
        None => Ok(0),
    }
}

/// Writes a fresh table holding `counts` (token id, uses), replacing whatever is there: for
/// `doctor`, from the records' use counts.
///
/// # Errors
/// The I/O error that stopped it.
pub fn rebuild(dir: &Path, store_id: &[u8; 16], counts: &[(String, u64)]) -> io::Result<()> {
    let mut entries = Vec::with_capacity(counts.len());
    for (id, n) in counts {
        entries.push((id_bytes(id)?, *n));
    }
    let mut slots = FIRST_SLOTS;
    while u64::from(slots) * 7 < entries.len() as u64 * 10 {
        slots = slots
            .checked_mul(2)
            .filter(|&s| s <= MAX_SLOTS)
            .ok_or_else(|| invalid("too many limited tokens for the use table"))?;
    }
    create(dir, store_id, slots, &entries, true).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    const STORE: [u8; 16] = [7; 16];

    /// The uses granted to `token_id` (0 with no table).
    fn read(dir: &Path, store_id: &[u8; 16], token_id: &str) -> io::Result<u64> {
        match Table::open(dir, store_id)? {
            Some(t) => t.count(token_id),
            None => Ok(0),
        }
    }

    fn ask(id: &str, max: u64, floor: u64) -> Ask<'_> {
        Ask {
            token_id: id,
            max,
            floor,
        }
    }

    #[test]
    fn counts_up_to_the_limit_and_no_further() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let id = "tok_abcdefgh";
        assert_eq!(read(d, &STORE, id).unwrap(), 0);
        let got = take_many(
            d,
            &STORE,
            &[ask(id, 2, 0), ask(id, 2, 0), ask(id, 2, 0)],
            WAIT,
        )
        .unwrap();
        assert_eq!(got, [true, true, false]);
        assert_eq!(read(d, &STORE, id).unwrap(), 2);
        // A floor above the count (uses imported with the record) counts.
        let other = "tok_00000000";
        assert_eq!(
            take_many(d, &STORE, &[ask(other, 3, 3)], WAIT).unwrap(),
            [false]
        );
        assert_eq!(
            take_many(d, &STORE, &[ask(other, 3, 2)], WAIT).unwrap(),
            [true]
        );
        assert_eq!(read(d, &STORE, other).unwrap(), 3);
    }

    #[test]
    fn the_table_grows_and_keeps_every_count() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ids: Vec<String> = (0..3000).map(|i| format!("tok_{i:08}")).collect();
        for chunk in ids.chunks(500) {
            let asks: Vec<Ask> = chunk.iter().map(|id| ask(id, 5, 0)).collect();
            assert!(
                take_many(d, &STORE, &asks, WAIT)
                    .unwrap()
                    .iter()
                    .all(|g| *g)
            );
        }
        let asks: Vec<Ask> = ids.iter().map(|id| ask(id, 5, 0)).collect();
        assert!(
            take_many(d, &STORE, &asks, WAIT)
                .unwrap()
                .iter()
                .all(|g| *g)
        );
        for id in &ids {
            assert_eq!(read(d, &STORE, id).unwrap(), 2, "{id}");
        }
        let len = fs::metadata(d.join(FILE)).unwrap().len();
        assert!(len >= HEADER_LEN + 4096 * SLOT_LEN as u64, "{len}");
    }

    #[test]
    fn damage_another_store_and_strange_ids_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let id = "tok_abcdefgh";
        take_many(d, &STORE, &[ask(id, 5, 0)], WAIT).unwrap();
        assert!(read(d, &[8; 16], id).is_err(), "another store's table");
        let t = Table::open(d, &STORE).unwrap().unwrap();
        let (at, _) = t.find(&id_bytes(id).unwrap()).unwrap();
        let p = d.join(FILE);
        let mut bytes = fs::read(&p).unwrap();
        bytes[HEADER_LEN as usize + at as usize * SLOT_LEN + 20] ^= 1;
        fs::write(&p, &bytes).unwrap();
        assert!(read(d, &STORE, id).is_err());
        assert!(take_many(d, &STORE, &[ask(id, 5, 0)], WAIT).is_err());
        assert!(read(d, &STORE, "../../etc/passwd").is_err());
        fs::write(&p, b"short").unwrap();
        assert!(read(d, &STORE, id).is_err());
        // Rebuilt from the records' counts, it answers again.
        rebuild(d, &STORE, &[(id.to_owned(), 4)]).unwrap();
        assert_eq!(read(d, &STORE, id).unwrap(), 4);
    }
}
