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
//! A count never goes down: each use granted is also written, after the table is durable, to
//! the witness outside the store ([`witness`]), which every grant counts from at least.
//!
//! A crash between the table and the journal spends a use that was never acknowledged: the
//! limit can be reached early, never passed. A slot or header that fails its CRC, or a table of
//! another store, is an error that refuses the token, never a fresh count.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

pub mod witness;

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

/// Opens `path` for reading (and writing, when `write`), refusing anything but a regular file:
/// without blocking, so a FIFO put in a table's place is an error rather than a wait for ever.
fn open_regular(path: &Path, write: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    // O_NONBLOCK does nothing to a regular file.
    if !file.metadata()?.is_file() {
        return Err(invalid(&format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
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
    /// Opens the table at `path` (a store's `DIR/uses`, or a witness's) of header id
    /// `store_id`, checking its header; `None` when there is none yet.
    ///
    /// # Errors
    /// `InvalidData` for a damaged table, another store's, or something other than a regular
    /// file at `path`; the I/O error otherwise.
    pub fn open(path: &Path, store_id: &[u8; 16]) -> io::Result<Option<Table>> {
        match open_regular(path, false) {
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

/// Every (token id, count) of the table at `path` (empty with no table).
///
/// # Errors
/// As for [`Table::open`]; `InvalidData` for a slot that fails its CRC.
pub fn counts(path: &Path, store_id: &[u8; 16]) -> io::Result<Vec<(String, u64)>> {
    let Some(t) = Table::open(path, store_id)? else {
        return Ok(Vec::new());
    };
    Ok(t.entries()?
        .into_iter()
        .map(|(id, n)| (String::from_utf8_lossy(&id).into_owned(), n))
        .collect())
}

/// Takes away a directory at `path`, where a table is to be written: [`rebuild`]'s rename
/// replaces anything else there (a FIFO, a symlink, a file others could write), not that.
///
/// # Errors
/// The I/O error of the removal.
pub fn make_way(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        _ => Ok(()),
    }
}

/// Every slot of the table at `path` that still checks out, however the rest is damaged (a
/// header that fails its CRC or gives another size, a slot that fails its own, bytes added or
/// cut at the end): what `doctor` keeps when it rebuilds a damaged table, so no count it could
/// read goes down. Empty when there is no regular file there, or it is a sound table of
/// another id than `store_id` (not damage of this one: another table put in its place).
pub fn salvage(path: &Path, store_id: &[u8; 16]) -> Vec<(String, u64)> {
    const PAGE: usize = 32 * 1024 * SLOT_LEN;
    let Ok(file) = open_regular(path, false) else {
        return Vec::new();
    };
    let mut h = [0u8; HEADER_LEN as usize];
    if file.read_exact_at(&mut h, 0).is_ok()
        && &h[..8] == MAGIC
        && crc32fast::hash(&h[..32]).to_be_bytes() == h[32..36]
        && h[8..24] != store_id[..]
    {
        return Vec::new();
    }
    let len = file.metadata().map_or(0, |m| m.len());
    let end = len.min(HEADER_LEN + u64::from(MAX_SLOTS) * SLOT_LEN as u64);
    let mut out = Vec::new();
    let mut page = vec![0u8; PAGE];
    let mut at = HEADER_LEN;
    while at < end {
        let n = PAGE.min((end - at) as usize) / SLOT_LEN * SLOT_LEN;
        if n == 0 || file.read_exact_at(&mut page[..n], at).is_err() {
            break;
        }
        for b in page[..n].chunks(SLOT_LEN) {
            if let Ok(Some((id, count))) = parse_slot(b) {
                let id = String::from_utf8_lossy(&id).into_owned();
                if crate::record::looks_like_id(&id) {
                    out.push((id, count));
                }
            }
        }
        at += n as u64;
    }
    out
}

/// Raises each token's count in the table at `path`, which the caller has locked, to at least
/// the one given; counts already higher are left. Not synced (see the module's note).
///
/// # Errors
/// As for [`take_many`].
fn raise_locked(
    path: &Path,
    store_id: &[u8; 16],
    mut table: Table,
    to: &[(&str, u64)],
) -> io::Result<()> {
    let wanted = u64::from(table.used) + to.len() as u64;
    if wanted * 10 > u64::from(table.slots) * 7 {
        table = grow(path, store_id, &table, wanted)?;
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
/// cannot be written; a witness that is damaged or cannot be written ([`witness::damaged`]).
/// After an error no ask is to be taken as granted.
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
    let path = dir.join(FILE);
    let mut table = lock(&path, store_id, wait)?;
    // Room first, so every new token below finds an empty slot: grow before 70% full.
    let wanted = u64::from(table.used) + ids.len() as u64;
    if wanted * 10 > u64::from(table.slots) * 7 {
        table = grow(&path, store_id, &table, wanted)?;
    }
    // What the witness saw granted is a floor too: a table put back or emptied cannot grant
    // those uses again. Always locked after a table, never before, so no two grants wait for
    // each other; held until the grants are in it (see `witness::Grant`).
    let witness = witness::Grant::begin(store_id, wait)?;
    let mut granted = Vec::with_capacity(asks.len());
    // What the witness is raised to: each token's uses in every store (`total`), and this
    // store's own grants (`own`, not another store's uses of the token).
    let mut total: Vec<(&str, u64)> = Vec::new();
    let mut own: Vec<(&str, u64)> = Vec::new();
    let used_before = table.used;
    for (ask, id) in asks.iter().zip(&ids) {
        let (at, count) = table.find(id)?;
        // `held`: the least of the two tables a grant writes the total to (the token witness
        // and this store's `seen`), so one of them removed or put back is raised again below.
        let ((seen, held), own_seen) = match &witness {
            Some(w) => (w.total(ask.token_id)?, w.own(ask.token_id)?),
            None => ((0, 0), 0),
        };
        let local = count.unwrap_or(0).max(ask.floor).max(own_seen);
        let known = local.max(seen);
        let ok = known < ask.max;
        if ok {
            if count.is_none() {
                table.used += 1;
            }
            // The store counts its own grants; the witness's total, every store's.
            let n = local + 1;
            table
                .file
                .write_all_at(&slot(id, n), HEADER_LEN + u64::from(at) * SLOT_LEN as u64)?;
            raise_to(&mut total, ask.token_id, known + 1, 0);
            raise_to(&mut own, ask.token_id, n, 0);
        } else if !total.iter().any(|(t, _)| *t == ask.token_id) {
            // A witness behind what the store knows (removed, or put back): brought up to it
            // now, so the store put back from a copy later cannot count from less.
            raise_to(&mut total, ask.token_id, known, held);
            raise_to(&mut own, ask.token_id, local, own_seen);
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
    // Only once the table is durable, so a witness is never ahead of it. A use the table
    // granted but the witness could not keep is spent, not answered valid: the limit may be
    // reached early, never passed.
    if let Some(w) = witness {
        w.finish(&own, &total)?;
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

/// The table at `path`, locked for writing, made if there is none.
fn lock(path: &Path, store_id: &[u8; 16], wait: Duration) -> io::Result<Table> {
    let deadline = crate::lockfile::deadline(wait);
    loop {
        let file = match open_regular(path, true) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create(path, store_id, FIRST_SLOTS, &[], false)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        crate::lockfile::lock_by(&file, path, deadline)?;
        // A table that grew was renamed over the one we opened: use the new one.
        if !crate::lockfile::still_names(path, &file)? {
            continue;
        }
        return Table::from_file(file, store_id);
    }
}

/// A table twice as large (or more) holding `old`'s counts, renamed into place while `old` is
/// locked; returned locked.
fn grow(path: &Path, store_id: &[u8; 16], old: &Table, wanted: u64) -> io::Result<Table> {
    let mut slots = old.slots;
    while u64::from(slots) * 7 < wanted * 10 {
        slots = slots
            .checked_mul(2)
            .filter(|&s| s <= MAX_SLOTS)
            .ok_or_else(|| invalid("the use table cannot grow further"))?;
    }
    let entries = old.entries()?;
    let file = create(path, store_id, slots, &entries, true)?.expect("a replacing create");
    Table::from_file(file, store_id)
}

/// Writes a table of `slots` slots holding `entries` under a temporary name, then links it into
/// place at `path` (unless another process just made one, when `replace` is false) or renames
/// it over the old one (when `replace`, returning it locked before anyone else can open it).
fn create(
    path: &Path,
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
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!("{name}.{}.tmp", std::process::id()));
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
            fs::rename(&temp, path)?;
            File::open(dir)?.sync_all()?;
            return Ok(Some(f));
        }
        match fs::hard_link(&temp, path) {
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
    match Table::open(&dir.join(FILE), store_id)? {
        Some(t) => t.entries().map(|e| e.len()),
        None => Ok(0),
    }
}

/// Writes a fresh table at `path` holding `counts` (token id, uses), replacing whatever is
/// there: for `doctor`, from the records' use counts.
///
/// # Errors
/// The I/O error that stopped it.
pub fn rebuild(path: &Path, store_id: &[u8; 16], counts: &[(String, u64)]) -> io::Result<()> {
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
    create(path, store_id, slots, &entries, true).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    const STORE: [u8; 16] = [7; 16];

    /// The uses granted to `token_id` (0 with no table).
    fn read(dir: &Path, store_id: &[u8; 16], token_id: &str) -> io::Result<u64> {
        match Table::open(&dir.join(FILE), store_id)? {
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
        let t = Table::open(&d.join(FILE), &STORE).unwrap().unwrap();
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
        rebuild(&d.join(FILE), &STORE, &[(id.to_owned(), 4)]).unwrap();
        assert_eq!(read(d, &STORE, id).unwrap(), 4);
    }
}
