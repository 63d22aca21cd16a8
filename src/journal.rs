//! The journal: where `verify` writes what it did (a counted use, a failed verification) without
//! opening sled. Any command that opens sled folds the journal into the records and the audit
//! log first (`crate::store`), so what `list`, `show`, `log` and `export` print already counts
//! every acknowledged verify.
//!
//! The file is a 48-byte header (magic, the store's id, this journal's own random id, CRC-32),
//! then entries appended whole: each starts with a two-byte marker and its length and ends with
//! a CRC-32 of everything before it. Appends hold an exclusive `flock` on the file while they
//! write, so entries from concurrent processes never interleave, and are made durable with
//! `fdatasync` before the verify reports. A torn entry (a crash mid-write) fails its CRC and is
//! skipped; the reader finds the next entry by its marker.
//!
//! Folding renames `journal` to `journal.folding`, takes the same lock on it (so appends already
//! under way finish first) and reads it. An appender that opened the old file checks, once it
//! holds the lock, that the path still names its file, and otherwise starts over with a new
//! journal: no acknowledged entry can land in a file that was already read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::TryRngCore;
use rand::rngs::OsRng;

use crate::time::Time;

/// The journal's file name in the store directory.
pub const FILE: &str = "journal";
/// Its name while it is being folded.
pub const FOLDING_FILE: &str = "journal.folding";
/// The first bytes of the file.
pub const MAGIC: &[u8; 8] = b"VBXJRNL1";
/// The header's size in bytes.
pub const HEADER_LEN: usize = 48;
/// Every entry starts with these two bytes.
const ENTRY_MARK: [u8; 2] = [0xA5, 0x5A];
/// The shortest entry: mark, length, kind, reason, time, three empty lengths and a CRC.
const MIN_ENTRY_LEN: usize = 2 + 2 + 1 + 1 + 8 + 1 + 1 + 1 + 4;
/// The longest: a count, and every variable field at its most.
const MAX_ENTRY_LEN: usize = MIN_ENTRY_LEN + 4 + MAX_TOKEN_ID + MAX_ACTOR + 16;
/// The most of a token id an entry keeps (ids are 12 bytes today).
const MAX_TOKEN_ID: usize = 64;
/// The most of the actor's name an entry keeps.
const MAX_ACTOR: usize = 64;

/// What a journal entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A valid, counted verify.
    Use,
    /// Failed verifies, `count` of them; `reason` says why.
    Failure,
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// How many: 1 for a use; a `verify --batch` chunk writes its failures of one reason and
    /// token as one entry.
    pub count: u32,
    /// The verify reason's code ([`crate::store::Reason::code`]).
    pub reason: u8,
    pub at: Time,
    /// The token's id, when the token is known.
    pub token_id: Option<String>,
    /// The OS user who ran the verify.
    pub actor: String,
    /// The client address given to verify, if any.
    pub ip: Option<IpAddr>,
}

impl Entry {
    /// mark (2) · total length u16 · kind u8 (1 use, 2 failure, 3 failures) · reason u8 · for
    /// kind 3 only, the count u32 · time i64 · token id (u8 length, bytes) · actor (u8 length,
    /// bytes) · address (u8 family 0, 4 or 6, bytes) · CRC-32 of everything before it. Integers
    /// big-endian. A use is always one (kind 1); failures are kind 2 when one, else 3.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(MIN_ENTRY_LEN + 32);
        b.extend_from_slice(&ENTRY_MARK);
        b.extend_from_slice(&[0, 0]);
        let many = self.kind == EntryKind::Failure && self.count > 1;
        b.push(match self.kind {
            EntryKind::Use => 1,
            EntryKind::Failure if many => 3,
            EntryKind::Failure => 2,
        });
        b.push(self.reason);
        if many {
            b.extend_from_slice(&self.count.to_be_bytes());
        }
        b.extend_from_slice(&self.at.as_second().to_be_bytes());
        let id = self.token_id.as_deref().unwrap_or("").as_bytes();
        let id = &id[..id.len().min(MAX_TOKEN_ID)];
        b.push(id.len() as u8);
        b.extend_from_slice(id);
        let mut cut = self.actor.len().min(MAX_ACTOR);
        while !self.actor.is_char_boundary(cut) {
            cut -= 1;
        }
        b.push(cut as u8);
        b.extend_from_slice(&self.actor.as_bytes()[..cut]);
        match self.ip {
            None => b.push(0),
            Some(IpAddr::V4(a)) => {
                b.push(4);
                b.extend_from_slice(&a.octets());
            }
            Some(IpAddr::V6(a)) => {
                b.push(6);
                b.extend_from_slice(&a.octets());
            }
        }
        let len = (b.len() + 4) as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_be_bytes());
        b
    }

    /// The entry at the start of `bytes` and its length, if one is there whole.
    fn decode(bytes: &[u8]) -> Option<(Entry, usize)> {
        if bytes.len() < MIN_ENTRY_LEN || bytes[..2] != ENTRY_MARK {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if !(MIN_ENTRY_LEN..=MAX_ENTRY_LEN).contains(&len) || len > bytes.len() {
            return None;
        }
        let (body, crc) = bytes[..len].split_at(len - 4);
        if crc32fast::hash(body).to_be_bytes() != crc {
            return None;
        }
        let mut at = 4;
        let mut take = |n: usize| -> Option<&[u8]> {
            let out = body.get(at..at + n)?;
            at += n;
            Some(out)
        };
        let kind = take(1)?[0];
        let reason = take(1)?[0];
        let (kind, count) = match kind {
            1 => (EntryKind::Use, 1),
            2 => (EntryKind::Failure, 1),
            // `encode` writes a count only when there are several.
            3 => match u32::from_be_bytes(take(4)?.try_into().ok()?) {
                n if n > 1 => (EntryKind::Failure, n),
                _ => return None,
            },
            _ => return None,
        };
        let time = Time::from_second(i64::from_be_bytes(take(8)?.try_into().ok()?)).ok()?;
        // A field longer than `encode` writes is not an entry it wrote, even with its CRC
        // right (found by the `journal` fuzz target: a 65-byte actor was read as it was).
        let n = usize::from(take(1)?[0]);
        let id = std::str::from_utf8(take(n).filter(|_| n <= MAX_TOKEN_ID)?)
            .ok()?
            .to_owned();
        let n = usize::from(take(1)?[0]);
        let actor = std::str::from_utf8(take(n).filter(|_| n <= MAX_ACTOR)?)
            .ok()?
            .to_owned();
        let ip = match take(1)?[0] {
            0 => None,
            4 => Some(IpAddr::from(<[u8; 4]>::try_from(take(4)?).ok()?)),
            6 => Some(IpAddr::from(<[u8; 16]>::try_from(take(16)?).ok()?)),
            _ => return None,
        };
        if at != body.len() {
            return None;
        }
        let entry = Entry {
            kind,
            count,
            reason,
            at: time,
            token_id: (!id.is_empty()).then_some(id),
            actor,
            ip,
        };
        Some((entry, len))
    }
}

/// A journal file's header: the store it belongs to and its own id (which the store records
/// once the file is folded, so a fold that crashed before removing the file is not repeated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub store_id: [u8; 16],
    pub journal_id: [u8; 16],
}

impl Header {
    /// magic (8) · store id (16) · journal id (16) · CRC-32 of bytes 0..40 · 0 (4).
    fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..24].copy_from_slice(&self.store_id);
        b[24..40].copy_from_slice(&self.journal_id);
        let crc = crc32fast::hash(&b[..40]);
        b[40..44].copy_from_slice(&crc.to_be_bytes());
        b
    }

    fn parse(b: &[u8]) -> Option<Header> {
        if b.len() < HEADER_LEN
            || &b[..8] != MAGIC
            || crc32fast::hash(&b[..40]).to_be_bytes() != b[40..44]
        {
            return None;
        }
        Some(Header {
            store_id: b[8..24].try_into().ok()?,
            journal_id: b[24..40].try_into().ok()?,
        })
    }
}

/// Appends `entries` to the store's journal in one write, under the journal's lock (waited for
/// up to `wait`, a second at least: `crate::lockfile::BRIEF`), and makes them durable before returning. Creates the journal if there is none.
///
/// # Errors
/// The I/O error that stopped it (a read-only store: `ReadOnlyFilesystem` or
/// `PermissionDenied`; a full disk: `StorageFull`); `TimedOut` holding a
/// [`crate::lockfile::Locked`] when another process holds the lock past `wait`.
pub fn append(
    dir: &Path,
    store_id: [u8; 16],
    entries: &[Entry],
    wait: std::time::Duration,
) -> io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let deadline = crate::lockfile::deadline(wait);
    let bytes: Vec<u8> = entries.iter().flat_map(Entry::encode).collect();
    let path = dir.join(FILE);
    loop {
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.is_file() => {
                set_aside(dir)?;
                continue;
            }
            _ => {}
        }
        let mut file = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create(dir, store_id)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        crate::lockfile::lock_by(&file, &path, deadline)?;
        // A fold may have renamed this file away between our open and our lock: then our
        // entries belong in the journal that replaced it.
        if !crate::lockfile::still_names(&path, &file)? {
            continue;
        }
        // A journal whose header is not this store's (emptied, damaged, copied in) would be
        // thrown away by the fold with our entries in it: it is set aside, and a new one made.
        let mut head = [0u8; HEADER_LEN];
        let whole = std::os::unix::fs::FileExt::read_exact_at(&file, &mut head, 0).is_ok();
        if !whole || Header::parse(&head).is_none_or(|h| h.store_id != store_id) {
            set_aside(dir)?;
            continue;
        }
        file.write_all(&bytes)?;
        crate::fault::point("journal-written");
        file.unlock()?;
        return file.sync_data();
    }
}

/// The name a journal that cannot be this store's is moved to, for `doctor` to look at.
pub const DAMAGED_FILE: &str = "journal.damaged";

/// Moves what is at `journal` (a file with a bad header, a directory, a FIFO) out of the way.
fn set_aside(dir: &Path) -> io::Result<()> {
    let aside = dir.join(DAMAGED_FILE);
    let _ = fs::remove_dir_all(&aside).or_else(|_| fs::remove_file(&aside));
    match fs::rename(dir.join(FILE), &aside) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Makes a new, empty journal at `journal`, unless another process just did: written under a
/// temporary name and linked into place, so no appender ever sees a journal without its header.
fn create(dir: &Path, store_id: [u8; 16]) -> io::Result<()> {
    let mut journal_id = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut journal_id)
        .map_err(io::Error::other)?;
    let temp = dir.join(format!("{FILE}.{}.tmp", hex::encode(&journal_id[..8])));
    let header = Header {
        store_id,
        journal_id,
    };
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(&header.to_bytes())?;
        f.sync_all()?;
        match fs::hard_link(&temp, dir.join(FILE)) {
            Ok(()) => File::open(dir)?.sync_all(),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    })();
    let _ = fs::remove_file(&temp);
    result
}

/// A journal being folded: its header and every whole entry in it.
#[derive(Debug)]
pub struct Folding {
    pub header: Option<Header>,
    pub entries: Vec<Entry>,
    /// An id for a journal whose header is damaged, taken from its first bytes (so a fold of it
    /// cut short resumes as one of a whole journal does).
    pub fallback_id: [u8; 16],
}

/// Takes the journal for folding: a `journal.folding` a crash left behind first, else the
/// current journal, renamed. Waits for appends under way to finish, then reads every whole
/// entry, waiting up to `wait` (a second at least) for them. `None` when there is nothing to fold. Call with the
/// store lock held.
///
/// # Errors
/// An I/O error renaming or reading the file; `TimedOut` holding a
/// [`crate::lockfile::Locked`] when an append holds the journal past `wait`.
pub fn take(dir: &Path, wait: std::time::Duration) -> io::Result<Option<Folding>> {
    let deadline = crate::lockfile::deadline(wait);
    let folding = dir.join(FOLDING_FILE);
    if fs::symlink_metadata(dir.join(FILE)).is_ok_and(|m| !m.is_file()) {
        set_aside(dir)?;
    }
    if !folding.exists() {
        match fs::rename(dir.join(FILE), &folding) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    let mut file = File::open(&folding)?;
    // An append under way holds it for one write; one stopped while it holds it makes the
    // fold give up past the wait (busy), as the store's own lock would.
    crate::lockfile::lock_by(&file, &folding, deadline)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(Some(read(&bytes)))
}

/// Removes the folded journal, once what it held is durable in sled.
///
/// # Errors
/// An I/O error removing it or syncing the directory.
pub fn finish(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(FOLDING_FILE)) {
        Ok(()) => File::open(dir)?.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Every whole entry in a journal's bytes. A damaged stretch (a torn write) is skipped up to
/// the next entry that checks out.
pub fn read(bytes: &[u8]) -> Folding {
    let header = Header::parse(bytes);
    let mut entries = Vec::new();
    let mut at = if header.is_some() { HEADER_LEN } else { 0 };
    while at < bytes.len() {
        match Entry::decode(&bytes[at..]) {
            Some((entry, len)) => {
                entries.push(entry);
                at += len;
            }
            None => at += 1,
        }
    }
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes[..bytes.len().min(HEADER_LEN)]);
    let fallback_id = digest[..16].try_into().expect("16 bytes");
    Folding {
        header,
        entries,
        fallback_id,
    }
}

/// Moves a journal being folded that is another store's out of the way, as `journal.damaged`,
/// for `doctor` to report.
///
/// # Errors
/// The I/O error of the rename.
pub fn set_aside_folding(dir: &Path) -> io::Result<()> {
    let aside = dir.join(DAMAGED_FILE);
    let _ = fs::remove_dir_all(&aside).or_else(|_| fs::remove_file(&aside));
    fs::rename(dir.join(FOLDING_FILE), aside)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

    fn entry(i: u32) -> Entry {
        Entry {
            kind: if i.is_multiple_of(2) {
                EntryKind::Use
            } else {
                EntryKind::Failure
            },
            count: if i % 4 == 1 { i + 1 } else { 1 },
            reason: (i % 4) as u8,
            at: Time::from_second(1_800_000_000 + i64::from(i)).expect("time"),
            token_id: (!i.is_multiple_of(3)).then(|| format!("tok_{i:08}")),
            actor: "ana".into(),
            ip: match i % 3 {
                0 => None,
                1 => Some("192.0.2.7".parse().expect("ip")),
                _ => Some("2001:db8::1".parse().expect("ip")),
            },
        }
    }

    #[test]
    fn entries_round_trip_and_a_failure_is_small() {
        for i in 0..12 {
            let e = entry(i);
            let bytes = e.encode();
            assert_eq!(Entry::decode(&bytes), Some((e, bytes.len())));
        }
        let failure = Entry {
            kind: EntryKind::Failure,
            count: 1,
            reason: 3,
            at: Time::now(),
            token_id: None,
            actor: "www-data".into(),
            ip: None,
        };
        assert!(failure.encode().len() <= 64, "{}", failure.encode().len());
    }

    #[test]
    fn an_entry_longer_than_the_encoder_writes_is_damage() {
        // Found by the `journal` fuzz target (fuzz/regressions/journal/): an entry whose actor
        // was 65 bytes or more, its CRC right, was read, though `encode` keeps 64 at most.
        let raw = |id_len: usize, actor_len: usize| {
            let mut b = vec![0xA5, 0x5A, 0, 0, 2, 3];
            b.extend_from_slice(&1_800_000_000i64.to_be_bytes());
            b.push(id_len as u8);
            b.extend(std::iter::repeat_n(b'i', id_len));
            b.push(actor_len as u8);
            b.extend(std::iter::repeat_n(b'a', actor_len));
            b.push(0);
            let len = (b.len() + 4) as u16;
            b[2..4].copy_from_slice(&len.to_be_bytes());
            let crc = crc32fast::hash(&b);
            b.extend_from_slice(&crc.to_be_bytes());
            b
        };
        for (id_len, actor_len) in [(64, 64), (0, 64), (64, 0)] {
            let (entry, len) = Entry::decode(&raw(id_len, actor_len)).expect("what encode writes");
            assert_eq!(len, raw(id_len, actor_len).len());
            assert_eq!(Entry::decode(&entry.encode()), Some((entry, len)));
        }
        for (id_len, actor_len) in [(65, 0), (0, 65), (65, 65), (0, 140)] {
            assert_eq!(
                Entry::decode(&raw(id_len, actor_len)),
                None,
                "{id_len} {actor_len}"
            );
        }
    }

    #[test]
    fn appends_are_read_back_and_folding_takes_them_all() {
        let dir = tempfile::tempdir().expect("dir");
        let all: Vec<Entry> = (0..50).map(entry).collect();
        for chunk in all.chunks(7) {
            append(dir.path(), [1; 16], chunk, WAIT).expect("appends");
        }
        let folding = take(dir.path(), WAIT).expect("reads").expect("a journal");
        assert_eq!(folding.header.expect("header").store_id, [1; 16]);
        assert_eq!(folding.entries, all);
        // New appends go to a new journal while the old one is being folded.
        append(dir.path(), [1; 16], &all[..1], WAIT).expect("appends");
        finish(dir.path()).expect("removes");
        let next = take(dir.path(), WAIT).expect("reads").expect("a journal");
        assert_eq!(next.entries, all[..1]);
        finish(dir.path()).expect("removes");
        assert!(take(dir.path(), WAIT).expect("reads").is_none());
    }

    #[test]
    fn a_torn_or_damaged_entry_is_skipped_and_the_rest_kept() {
        let mut bytes = Header {
            store_id: [2; 16],
            journal_id: [3; 16],
        }
        .to_bytes()
        .to_vec();
        let a = entry(1).encode();
        let b = entry(2).encode();
        bytes.extend_from_slice(&a[..a.len() - 3]); // torn
        bytes.extend_from_slice(&b);
        let mut flipped = entry(3).encode();
        flipped[10] ^= 1;
        bytes.extend_from_slice(&flipped);
        bytes.extend_from_slice(&entry(4).encode());
        bytes.extend_from_slice(&entry(5).encode()[..5]); // torn tail
        let read = read(&bytes);
        assert_eq!(read.entries, vec![entry(2), entry(4)]);
        // Every single flipped bit of a whole journal loses at most the entry it hit.
        let whole: Vec<u8> = (0..4).flat_map(|i| entry(i).encode()).collect();
        for at in 0..whole.len() {
            let mut bad = whole.clone();
            bad[at] ^= 0x10;
            let got = super::read(&bad).entries;
            assert!(got.len() >= 3, "byte {at}: {got:?}");
            for e in got {
                assert!(
                    (0..4).map(entry).any(|x| x == e),
                    "byte {at}: misread {e:?}"
                );
            }
        }
    }

    #[test]
    fn a_journal_that_is_not_this_stores_is_set_aside_not_written_to() {
        let dir = tempfile::tempdir().expect("dir");
        for bad in [&b""[..], b"short", &[0u8; 100]] {
            fs::write(dir.path().join(FILE), bad).expect("write");
            append(dir.path(), [1; 16], &[entry(0)], WAIT).expect("appends");
            let folding = take(dir.path(), WAIT).expect("reads").expect("a journal");
            assert_eq!(folding.entries, vec![entry(0)]);
            finish(dir.path()).expect("removes");
        }
        append(dir.path(), [2; 16], &[entry(1)], WAIT).expect("appends");
        append(dir.path(), [1; 16], &[entry(2)], WAIT).expect("another store's is set aside");
        let folding = take(dir.path(), WAIT).expect("reads").expect("a journal");
        assert_eq!(folding.header.expect("header").store_id, [1; 16]);
        assert_eq!(folding.entries, vec![entry(2)]);
        finish(dir.path()).expect("removes");
        fs::create_dir(dir.path().join(FILE)).expect("a directory");
        append(dir.path(), [1; 16], &[entry(3)], WAIT).expect("a directory is set aside");
        assert!(dir.path().join(DAMAGED_FILE).is_dir());
    }

    #[test]
    fn concurrent_appenders_never_interleave() {
        let dir = tempfile::tempdir().expect("dir");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let dir = dir.path().to_owned();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        append(
                            &dir,
                            [1; 16],
                            &[entry(t * 100 + i), entry(t * 100 + i + 50)],
                            WAIT,
                        )
                        .expect("appends");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let folding = take(dir.path(), WAIT).expect("reads").expect("a journal");
        assert_eq!(folding.entries.len(), 8 * 25 * 2);
    }

    /// Any entry the encoder writes whole (ids and actors within what it keeps).
    fn any_entry() -> impl proptest::strategy::Strategy<Value = Entry> {
        use proptest::prelude::*;
        let ip = proptest::option::of(prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]);
        (
            any::<bool>(),
            1u32..=u32::MAX,
            any::<u8>(),
            0i64..4_000_000_000,
            proptest::option::of("tok_[0-9a-z]{8}"),
            "[ -~]{0,64}",
            ip,
        )
            .prop_map(|(used, count, reason, at, token_id, actor, ip)| Entry {
                kind: if used {
                    EntryKind::Use
                } else {
                    EntryKind::Failure
                },
                count: if used { 1 } else { count },
                reason,
                at: Time::from_second(at).expect("in range"),
                token_id,
                actor,
                ip,
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

        /// Every single-bit flip of a journal of any entries: what is read is the original
        /// entries in order, less at most the one the flip hit; never an entry that was not
        /// written.
        #[test]
        fn every_flipped_bit_of_any_journal_loses_at_most_its_entry(
            entries in proptest::collection::vec(any_entry(), 1..6),
        ) {
            let mut bytes = Header { store_id: [4; 16], journal_id: [5; 16] }.to_bytes().to_vec();
            for e in &entries {
                bytes.extend_from_slice(&e.encode());
            }
            proptest::prop_assert_eq!(&read(&bytes).entries, &entries);
            for bit in 0..bytes.len() * 8 {
                let mut bad = bytes.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                let got = read(&bad).entries;
                proptest::prop_assert!(got.len() + 1 >= entries.len(), "bit {}: {:?}", bit, got);
                // In order: each read entry is the next original one, or the one after it.
                let mut rest = entries.iter();
                for e in &got {
                    proptest::prop_assert!(rest.any(|x| x == e), "bit {}: misread {:?}", bit, e);
                }
            }
        }
    }
}
