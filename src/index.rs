//! The verification index: one file in the store that answers "what is the token with this
//! SHA-256?" in a constant number of reads, whatever the store's size, without opening sled.
//! sled stays the system of record; this file is derived from it and rebuilt whenever it is
//! missing, damaged, foreign or behind (README, "The verification index format").
//!
//! Layout (integers big-endian): a 64-byte header; a fan-out table of `2^bits` u32s, entry `p`
//! the number of entries whose hash's first `bits` bits are at most `p` (git's pack index uses
//! the same idea with 8 bits); the entries, 48 bytes each, sorted by hash; then the records the
//! entries point at. Every entry and every record carries its own CRC-32, and a record repeats
//! its hash, so a damaged or misdirected read is detected rather than misread. The header's
//! CRC-32 covers the header; the fan-out table is checked against the entries it points at.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::IpAddr;

use ipnet::IpNet;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use crate::time::Time;
use crate::token::TokenHash;

/// The index's file name in the store directory.
pub const FILE: &str = "index";
/// The temporary name a new index is written under before it is renamed into place.
pub const TEMP_FILE: &str = "index.tmp";
/// The first bytes of the file.
pub const MAGIC: &[u8; 8] = b"VBXINDEX";
/// The layout this build writes and reads. Version 2 has the same layout as 1, whose policy
/// fields were always empty; a build that reads version 1 does not apply them, so it must not
/// read an index that has them.
pub const VERSION: u16 = 2;
/// The header's size in bytes.
pub const HEADER_LEN: usize = 64;
/// One entry's size in bytes.
pub const ENTRY_LEN: usize = 48;
/// The largest record we accept (a name is at most 256 bytes; scopes and address ranges are
/// bounded too): a damaged length cannot make us read much.
pub const MAX_RECORD_LEN: usize = 16 * 1024;
const MIN_FANOUT_BITS: u8 = 8;
const MAX_FANOUT_BITS: u8 = 24;
/// No time: expiry and grace are absent.
const NO_TIME: i64 = -1;

/// A token's status as the index knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStatus {
    Active,
    Revoked,
}

/// Everything verify needs to know about one token, without sled. The policy fields are the
/// room the format keeps for expiry, suspension, use limits, rotation grace, scopes and address
/// ranges; a token without them has them empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRecord {
    pub hash: TokenHash,
    pub id: String,
    pub name: String,
    pub status: IndexStatus,
    pub disabled: bool,
    pub expires_at: Option<Time>,
    /// A revoked-by-rotation token keeps verifying until then.
    pub grace_until: Option<Time>,
    /// The most valid uses allowed; `None` for no limit.
    pub max_uses: Option<u64>,
    /// Valid uses counted when the index was written.
    pub uses: u64,
    pub scopes: Vec<String>,
    /// Allowed source address ranges.
    pub allow_ip: Vec<IpNet>,
}

impl IndexRecord {
    /// What decides its status and verify's answers.
    pub fn facts(&self) -> crate::policy::Facts<'_> {
        crate::policy::Facts {
            revoked: self.status == IndexStatus::Revoked,
            grace_until: self.grace_until,
            disabled: self.disabled,
            expires_at: self.expires_at,
            max_uses: self.max_uses,
            scopes: &self.scopes,
            allow_ip: &self.allow_ip,
        }
    }

    /// A record with no policy: what issue-8 stores hold.
    pub fn plain(hash: TokenHash, id: &str, name: &str, status: IndexStatus) -> IndexRecord {
        IndexRecord {
            hash,
            id: id.to_owned(),
            name: name.to_owned(),
            status,
            disabled: false,
            expires_at: None,
            grace_until: None,
            max_uses: None,
            uses: 0,
            scopes: Vec::new(),
            allow_ip: Vec::new(),
        }
    }

    /// The record's bytes: hash (32) · status u8 · flags u8 · expires_at i64 · grace_until i64 ·
    /// max_uses u64 · uses u64 · id (u8 length, bytes) · name (u16 length, bytes) · scopes (u8
    /// count, each u8 length and bytes) · address ranges (u8 count, each u8 prefix length, u8
    /// family 4 or 6, 4 or 16 address bytes) · CRC-32 of everything before it.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(96 + self.name.len());
        b.extend_from_slice(&self.hash.0);
        b.push(match self.status {
            IndexStatus::Active => 0,
            IndexStatus::Revoked => 1,
        });
        b.push(u8::from(self.disabled));
        let time = |t: Option<Time>| t.map_or(NO_TIME, Time::as_second);
        b.extend_from_slice(&time(self.expires_at).to_be_bytes());
        b.extend_from_slice(&time(self.grace_until).to_be_bytes());
        b.extend_from_slice(&self.max_uses.unwrap_or(0).to_be_bytes());
        b.extend_from_slice(&self.uses.to_be_bytes());
        let short = |b: &mut Vec<u8>, s: &[u8]| {
            let n = s.len().min(255);
            b.push(n as u8);
            b.extend_from_slice(&s[..n]);
        };
        short(&mut b, self.id.as_bytes());
        let name = &self.name.as_bytes()[..self.name.len().min(u16::MAX as usize)];
        b.extend_from_slice(&(name.len() as u16).to_be_bytes());
        b.extend_from_slice(name);
        let scopes = &self.scopes[..self.scopes.len().min(255)];
        b.push(scopes.len() as u8);
        for s in scopes {
            short(&mut b, s.as_bytes());
        }
        let ranges = &self.allow_ip[..self.allow_ip.len().min(255)];
        b.push(ranges.len() as u8);
        for net in ranges {
            b.push(net.prefix_len());
            match net.network() {
                IpAddr::V4(a) => {
                    b.push(4);
                    b.extend_from_slice(&a.octets());
                }
                IpAddr::V6(a) => {
                    b.push(6);
                    b.extend_from_slice(&a.octets());
                }
            }
        }
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_be_bytes());
        b
    }

    /// Reads a record written by [`IndexRecord::encode`].
    ///
    /// # Errors
    /// [`IndexError::Damaged`] when the CRC, a length, or a field does not check out.
    pub fn decode(bytes: &[u8]) -> Result<IndexRecord, IndexError> {
        if bytes.len() < 4 || bytes.len() > MAX_RECORD_LEN {
            return Err(damaged("a record has an impossible length"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body).to_be_bytes() != crc {
            return Err(damaged("a record fails its CRC"));
        }
        let mut r = Reader { bytes: body, at: 0 };
        let hash = TokenHash(r.array()?);
        let status = match r.u8()? {
            0 => IndexStatus::Active,
            1 => IndexStatus::Revoked,
            _ => return Err(damaged("a record has an unknown status")),
        };
        let disabled = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(damaged("a record has unknown flags")),
        };
        let expires_at = r.time()?;
        let grace_until = r.time()?;
        let max_uses = Some(r.u64()?).filter(|&n| n > 0);
        let uses = r.u64()?;
        let n = usize::from(r.u8()?);
        let id = r.text(n)?;
        let n = usize::from(u16::from_be_bytes(r.array()?));
        let name = r.text(n)?;
        let mut scopes = Vec::new();
        for _ in 0..r.u8()? {
            let n = usize::from(r.u8()?);
            scopes.push(r.text(n)?);
        }
        let mut allow_ip = Vec::new();
        for _ in 0..r.u8()? {
            let prefix = r.u8()?;
            let addr = match r.u8()? {
                4 if prefix <= 32 => IpAddr::from(r.array::<4>()?),
                6 if prefix <= 128 => IpAddr::from(r.array::<16>()?),
                _ => return Err(damaged("a record has a bad address range")),
            };
            let net = IpNet::new(addr, prefix)
                .map_err(|_| damaged("a record has a bad address range"))?;
            allow_ip.push(net);
        }
        if r.at != body.len() {
            return Err(damaged("a record has bytes after its end"));
        }
        Ok(IndexRecord {
            hash,
            id,
            name,
            status,
            disabled,
            expires_at,
            grace_until,
            max_uses,
            uses,
            scopes,
            allow_ip,
        })
    }
}

/// Why an index cannot be used. Verify then answers from sled; a command that opens sled
/// rebuilds the index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("there is no verification index")]
    Missing,
    #[error("the verification index is damaged: {0}")]
    Damaged(String),
    #[error("the verification index belongs to another store")]
    Foreign,
    #[error("cannot read the verification index: {0}")]
    Io(String),
}

fn damaged(what: &str) -> IndexError {
    IndexError::Damaged(what.to_owned())
}

/// The header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub store_id: [u8; 16],
    /// The store's write generation the index was built from.
    pub generation: u64,
    pub count: u64,
    pub fanout_bits: u8,
    pub records_len: u64,
}

impl Header {
    /// The 64-byte layout: magic (8) · version u16 · fan-out bits u8 · 0 u8 · store id (16) ·
    /// generation u64 · entry count u64 · records area length u64 · 0 (4) · CRC-32 of bytes
    /// 0..56 · 0 (4).
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..8].copy_from_slice(MAGIC);
        b[8..10].copy_from_slice(&VERSION.to_be_bytes());
        b[10] = self.fanout_bits;
        b[12..28].copy_from_slice(&self.store_id);
        b[28..36].copy_from_slice(&self.generation.to_be_bytes());
        b[36..44].copy_from_slice(&self.count.to_be_bytes());
        b[44..52].copy_from_slice(&self.records_len.to_be_bytes());
        let crc = crc32fast::hash(&b[..56]);
        b[56..60].copy_from_slice(&crc.to_be_bytes());
        b
    }

    /// Reads and checks a header.
    ///
    /// # Errors
    /// [`IndexError::Damaged`] for a wrong magic, version, CRC or an impossible field.
    pub fn parse(b: &[u8]) -> Result<Header, IndexError> {
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err(damaged("not a verification index"));
        }
        if u16::from_be_bytes([b[8], b[9]]) != VERSION {
            return Err(damaged("an index format this build does not read"));
        }
        if crc32fast::hash(&b[..56]).to_be_bytes() != b[56..60] {
            return Err(damaged("the header fails its CRC"));
        }
        let u64_at = |at: usize| u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        let header = Header {
            store_id: b[12..28].try_into().expect("16 bytes"),
            generation: u64_at(28),
            count: u64_at(36),
            fanout_bits: b[10],
            records_len: u64_at(44),
        };
        // A records length near 2^64 would make the file's length overflow (`file_len`):
        // found by the `index` fuzz target (fuzz/regressions/index/).
        if !(MIN_FANOUT_BITS..=MAX_FANOUT_BITS).contains(&header.fanout_bits)
            || header.count > u64::from(u32::MAX)
            || header
                .records_at()
                .checked_add(header.records_len)
                .is_none()
        {
            return Err(damaged("the header holds impossible sizes"));
        }
        Ok(header)
    }

    fn fanout_len(&self) -> u64 {
        4 << self.fanout_bits
    }

    fn entries_at(&self) -> u64 {
        HEADER_LEN as u64 + self.fanout_len()
    }

    fn records_at(&self) -> u64 {
        self.entries_at() + self.count * ENTRY_LEN as u64
    }

    /// The whole file's length this header implies.
    pub fn file_len(&self) -> u64 {
        self.records_at() + self.records_len
    }
}

/// The fan-out bits for `count` entries: buckets of about eight entries, so the second read is
/// small at any size.
fn fanout_bits(count: usize) -> u8 {
    let mut bits = MIN_FANOUT_BITS;
    while bits < MAX_FANOUT_BITS && (count >> bits) > 8 {
        bits += 1;
    }
    bits
}

/// The first `bits` bits of a hash, as a bucket number.
fn prefix(hash: &[u8; 32], bits: u8) -> usize {
    let top = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
    (top >> (32 - u32::from(bits))) as usize
}

/// Builds a whole index file from encoded records sorted by hash, each given with its hash.
///
/// # Errors
/// `InvalidInput` if the hashes are not strictly increasing.
pub fn build<'a>(
    store_id: [u8; 16],
    generation: u64,
    records: impl IntoIterator<Item = (TokenHash, &'a [u8])>,
) -> io::Result<Vec<u8>> {
    let mut entries: Vec<u8> = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut hashes: Vec<[u8; 32]> = Vec::new();
    for (hash, record) in records {
        if hashes.last().is_some_and(|last| *last >= hash.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "index records must be sorted by hash, each once",
            ));
        }
        let mut e = [0u8; ENTRY_LEN];
        e[..32].copy_from_slice(&hash.0);
        e[32..40].copy_from_slice(&(data.len() as u64).to_be_bytes());
        e[40..44].copy_from_slice(&(record.len() as u32).to_be_bytes());
        let crc = crc32fast::hash(&e[..44]);
        e[44..48].copy_from_slice(&crc.to_be_bytes());
        entries.extend_from_slice(&e);
        data.extend_from_slice(record);
        hashes.push(hash.0);
    }
    let header = Header {
        store_id,
        generation,
        count: hashes.len() as u64,
        fanout_bits: fanout_bits(hashes.len()),
        records_len: data.len() as u64,
    };
    let buckets = 1usize << header.fanout_bits;
    let mut fanout = vec![0u32; buckets];
    for h in &hashes {
        fanout[prefix(h, header.fanout_bits)] += 1;
    }
    let mut out = Vec::with_capacity(header.file_len() as usize);
    out.extend_from_slice(&header.to_bytes());
    let mut total = 0u32;
    for n in fanout {
        total += n;
        out.extend_from_slice(&total.to_be_bytes());
    }
    out.extend_from_slice(&entries);
    out.extend_from_slice(&data);
    Ok(out)
}

/// Replaces the store's index with `bytes` atomically: a temp file, fsync, rename, fsync the
/// directory. A reader sees the old index or the new one, never a mix; after a crash, one of
/// them is there whole.
///
/// # Errors
/// The I/O error of the step that failed; the temp file is removed then.
pub fn write(dir: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(TEMP_FILE);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        crate::fault::point("index-temp-written");
        let target = dir.join(FILE);
        // An empty directory in the index's place holds nothing (the index is derived): it
        // goes, so the index can be rebuilt. One with anything in it is left, and named.
        if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            fs::remove_dir(&target)?;
        }
        fs::rename(&temp, &target)?;
        crate::fault::point("index-renamed");
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Where the index's bytes are read from: the file (two or three `pread`s a look-up), or a
/// copy in memory for a long run of look-ups.
#[derive(Debug)]
enum Source {
    File(File),
    Memory(Vec<u8>),
}

impl Source {
    fn read(&self, at: u64, len: usize) -> Result<std::borrow::Cow<'_, [u8]>, IndexError> {
        match self {
            Source::File(f) => {
                let mut buf = vec![0u8; len];
                f.read_exact_at(&mut buf, at).map_err(|e| match e.kind() {
                    io::ErrorKind::UnexpectedEof => damaged("the file is cut short"),
                    _ => IndexError::Io(crate::error::reason(&e)),
                })?;
                Ok(std::borrow::Cow::Owned(buf))
            }
            Source::Memory(bytes) => {
                let end = at
                    .checked_add(len as u64)
                    .filter(|&e| e <= bytes.len() as u64);
                let end = end.ok_or_else(|| damaged("the file is cut short"))?;
                Ok(std::borrow::Cow::Borrowed(
                    &bytes[at as usize..end as usize],
                ))
            }
        }
    }
}

/// An open index.
#[derive(Debug)]
pub struct Index {
    source: Source,
    header: Header,
}

impl Index {
    /// Opens the index in `dir`, reading only its header; look-ups read the file.
    ///
    /// # Errors
    /// [`IndexError::Missing`], or [`IndexError::Damaged`] for a bad header or a file whose
    /// length is not the one its header implies.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        // Only a regular file is an index (a FIFO would block the open forever).
        match fs::symlink_metadata(dir.join(FILE)) {
            Ok(m) if !m.is_file() => return Err(damaged("it is not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IndexError::Missing),
            _ => {}
        }
        let file = match File::open(dir.join(FILE)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IndexError::Missing),
            Err(e) => return Err(IndexError::Io(crate::error::reason(&e))),
        };
        let len = file
            .metadata()
            .map_err(|e| IndexError::Io(crate::error::reason(&e)))?
            .len();
        let source = Source::File(file);
        let header = Header::parse(&source.read(0, HEADER_LEN.min(len as usize))?)?;
        if header.file_len() != len {
            return Err(damaged("its length is not the one its header gives"));
        }
        Ok(Index { source, header })
    }

    /// The index from bytes already in memory (checked as [`Index::open`] checks a file).
    ///
    /// # Errors
    /// As for [`Index::open`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Index, IndexError> {
        let header = Header::parse(&bytes)?;
        if header.file_len() != bytes.len() as u64 {
            return Err(damaged("its length is not the one its header gives"));
        }
        Ok(Index {
            source: Source::Memory(bytes),
            header,
        })
    }

    /// Reads the whole file into memory, for many look-ups in a row.
    ///
    /// # Errors
    /// As for [`Index::open`].
    pub fn load(dir: &Path) -> Result<Index, IndexError> {
        match fs::symlink_metadata(dir.join(FILE)) {
            Ok(m) if !m.is_file() => return Err(damaged("it is not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(IndexError::Missing),
            _ => {}
        }
        match fs::read(dir.join(FILE)) {
            Ok(bytes) => Index::from_bytes(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(IndexError::Missing),
            Err(e) => Err(IndexError::Io(crate::error::reason(&e))),
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The token with this hash, if the index has it. Reads the two fan-out words, the bucket
    /// (with one entry either side, to check its bounds) and the record.
    ///
    /// # Errors
    /// [`IndexError::Damaged`] for anything that does not check out: a fan-out word out of
    /// order, an entry failing its CRC or out of place, a record failing its CRC or not
    /// repeating the hash.
    pub fn lookup(&self, hash: &TokenHash) -> Result<Option<IndexRecord>, IndexError> {
        let h = &self.header;
        let bits = h.fanout_bits;
        let p = prefix(&hash.0, bits);
        let fan = |at: usize| -> Result<u64, IndexError> {
            let b = self.source.read(HEADER_LEN as u64 + at as u64 * 4, 4)?;
            Ok(u64::from(u32::from_be_bytes(
                b[..4].try_into().expect("4 bytes"),
            )))
        };
        let (lo, hi) = if p == 0 {
            (0, fan(0)?)
        } else {
            let b = self
                .source
                .read(HEADER_LEN as u64 + (p as u64 - 1) * 4, 8)?;
            let word = |i: usize| u64::from(u32::from_be_bytes(b[i..i + 4].try_into().expect("4")));
            (word(0), word(4))
        };
        if lo > hi || hi > h.count {
            return Err(damaged("the fan-out table is out of order"));
        }
        // One entry either side of the bucket proves its bounds.
        let from = lo.saturating_sub(1);
        let to = (hi + 1).min(h.count);
        let n = (to - from) as usize;
        if n == 0 {
            return Ok(None);
        }
        let bytes = self
            .source
            .read(h.entries_at() + from * ENTRY_LEN as u64, n * ENTRY_LEN)?;
        let mut found = None;
        let mut previous: Option<&[u8]> = None;
        let crc_ok = |e: &[u8]| crc32fast::hash(&e[..44]).to_be_bytes() == e[44..48];
        for (i, e) in bytes.chunks_exact(ENTRY_LEN).enumerate() {
            let entry_hash: &[u8; 32] = e[..32].try_into().expect("32 bytes");
            let at = from + i as u64;
            // The entries a "found" rests on are checked here: the bounds of the bucket and
            // the one found; a "not found" checks them all, below.
            let boundary = at + 1 == lo || at == hi;
            if boundary && !crc_ok(e) {
                return Err(damaged("an entry fails its CRC"));
            }
            if previous.is_some_and(|prev| prev >= &entry_hash[..]) {
                return Err(damaged("entries are out of order"));
            }
            previous = Some(&e[..32]);
            let inside = (lo..hi).contains(&at);
            // Entries before the bucket have smaller prefixes, after it larger: so the words
            // that bound it are proven by the entries, whatever the words say.
            let fits = match prefix(entry_hash, bits).cmp(&p) {
                std::cmp::Ordering::Less => at < lo,
                std::cmp::Ordering::Equal => inside,
                std::cmp::Ordering::Greater => at >= hi,
            };
            if !fits {
                return Err(damaged("the fan-out table does not match the entries"));
            }
            if inside && entry_hash == &hash.0 {
                if !crc_ok(e) {
                    return Err(damaged("an entry fails its CRC"));
                }
                let offset = u64::from_be_bytes(e[32..40].try_into().expect("8 bytes"));
                let len = u32::from_be_bytes(e[40..44].try_into().expect("4 bytes")) as usize;
                found = Some((offset, len));
            }
        }
        let Some((offset, len)) = found else {
            // "Not here" must not be damage in disguise (the token's own entry changed): only
            // a bucket whose every entry checks out can say so.
            if bytes.chunks_exact(ENTRY_LEN).all(crc_ok) {
                return Ok(None);
            }
            return Err(damaged("an entry fails its CRC"));
        };
        if len > MAX_RECORD_LEN || offset.saturating_add(len as u64) > h.records_len {
            return Err(damaged("an entry points outside the records"));
        }
        let record = IndexRecord::decode(&self.source.read(h.records_at() + offset, len)?)?;
        if record.hash != *hash {
            return Err(damaged("an entry points at another token's record"));
        }
        Ok(Some(record))
    }

    /// Every (hash, encoded record) in hash order, for rewriting the index with a few changes.
    ///
    /// # Errors
    /// As for [`Index::lookup`]; every entry and record is checked.
    pub fn records(&self) -> Result<Vec<(TokenHash, Vec<u8>)>, IndexError> {
        let h = &self.header;
        let count = h.count as usize;
        let entries = self.source.read(h.entries_at(), count * ENTRY_LEN)?;
        let data = self.source.read(h.records_at(), h.records_len as usize)?;
        let mut out = Vec::with_capacity(count);
        for e in entries.chunks_exact(ENTRY_LEN) {
            if crc32fast::hash(&e[..44]).to_be_bytes() != e[44..48] {
                return Err(damaged("an entry fails its CRC"));
            }
            let hash = TokenHash(e[..32].try_into().expect("32 bytes"));
            let offset = u64::from_be_bytes(e[32..40].try_into().expect("8 bytes")) as usize;
            let len = u32::from_be_bytes(e[40..44].try_into().expect("4 bytes")) as usize;
            let record = offset
                .checked_add(len)
                .and_then(|end| data.get(offset..end))
                .ok_or_else(|| damaged("an entry points outside the records"))?;
            if IndexRecord::decode(record)?.hash != hash {
                return Err(damaged("an entry points at another token's record"));
            }
            if out
                .last()
                .is_some_and(|(last, _): &(TokenHash, Vec<u8>)| last.0 >= hash.0)
            {
                return Err(damaged("entries are out of order"));
            }
            out.push((hash, record.to_vec()));
        }
        Ok(out)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], IndexError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| damaged("a record is cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], IndexError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn u8(&mut self) -> Result<u8, IndexError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, IndexError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn time(&mut self) -> Result<Option<Time>, IndexError> {
        match i64::from_be_bytes(self.array()?) {
            NO_TIME => Ok(None),
            s => Time::from_second(s)
                .map(Some)
                .map_err(|_| damaged("a record holds an impossible time")),
        }
    }

    fn text(&mut self, n: usize) -> Result<String, IndexError> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| damaged("a record holds bad text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u32) -> IndexRecord {
        let mut r = IndexRecord::plain(
            TokenHash::of(&format!("token {i}")),
            &format!("tok_{i:08}"),
            &format!("name {i}"),
            if i.is_multiple_of(3) {
                IndexStatus::Revoked
            } else {
                IndexStatus::Active
            },
        );
        if i.is_multiple_of(5) {
            r.expires_at = Some(Time::from_second(1_900_000_000).expect("time"));
            r.max_uses = Some(10);
            r.uses = 3;
            r.scopes = vec!["read".into(), "orders:write".into()];
            r.allow_ip = vec![
                "10.0.0.0/8".parse().expect("range"),
                "2001:db8::/32".parse().expect("range"),
            ];
            r.disabled = true;
            r.grace_until = Some(Time::from_second(1_800_000_000).expect("time"));
        }
        r
    }

    fn file(n: u32) -> (Vec<IndexRecord>, Vec<u8>) {
        let mut records: Vec<IndexRecord> = (0..n).map(record).collect();
        records.sort_by_key(|r| r.hash.0);
        let encoded: Vec<(TokenHash, Vec<u8>)> =
            records.iter().map(|r| (r.hash, r.encode())).collect();
        let bytes =
            build([7; 16], 42, encoded.iter().map(|(h, b)| (*h, b.as_slice()))).expect("sorted");
        (records, bytes)
    }

    #[test]
    fn records_round_trip() {
        for i in 0..20 {
            let r = record(i);
            assert_eq!(IndexRecord::decode(&r.encode()).expect("decodes"), r);
        }
    }

    #[test]
    fn every_token_is_found_and_no_other_at_any_size() {
        for n in [0, 1, 2, 255, 2049, 20_000] {
            let (records, bytes) = file(n);
            let index = Index::from_bytes(bytes).expect("opens");
            assert_eq!(index.header().count, u64::from(n));
            assert_eq!(index.header().generation, 42);
            for r in &records {
                assert_eq!(index.lookup(&r.hash).expect("reads").as_ref(), Some(r));
            }
            for i in 0..200 {
                let other = TokenHash::of(&format!("absent {i}"));
                assert_eq!(index.lookup(&other).expect("reads"), None);
            }
            assert_eq!(index.records().expect("reads").len(), n as usize);
        }
    }

    #[test]
    fn the_file_and_memory_read_alike() {
        let dir = tempfile::tempdir().expect("dir");
        let (records, bytes) = file(300);
        write(dir.path(), &bytes).expect("writes");
        assert!(!dir.path().join(TEMP_FILE).exists());
        let on_disk = Index::open(dir.path()).expect("opens");
        let loaded = Index::load(dir.path()).expect("loads");
        for r in &records {
            assert_eq!(on_disk.lookup(&r.hash).expect("reads").as_ref(), Some(r));
            assert_eq!(loaded.lookup(&r.hash).expect("reads").as_ref(), Some(r));
        }
        assert_eq!(
            Index::open(&dir.path().join("none")).err(),
            Some(IndexError::Missing)
        );
    }

    #[test]
    fn every_flipped_bit_is_refused_or_harmless_never_misread() {
        let (records, bytes) = file(40);
        for at in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                bad[at] ^= bit;
                let Ok(index) = Index::from_bytes(bad) else {
                    continue;
                };
                for r in &records {
                    match index.lookup(&r.hash) {
                        // Found: exactly the record that was written.
                        Ok(Some(found)) => assert_eq!(&found, r, "byte {at}"),
                        // Refused: verify then asks sled.
                        Err(_) => {}
                        Ok(None) => panic!("byte {at}: a present token went missing"),
                    }
                }
            }
        }
    }

    #[test]
    fn a_zeroed_or_saturated_fanout_table_is_damage_not_absence() {
        let (records, bytes) = file(300);
        let bits = usize::from(bytes[10]);
        for fill in [0u32, 300] {
            let mut bad = bytes.clone();
            for w in bad[HEADER_LEN..HEADER_LEN + (4 << bits)].chunks_mut(4) {
                w.copy_from_slice(&fill.to_be_bytes());
            }
            let index = Index::from_bytes(bad).expect("the header is whole");
            for r in &records {
                match index.lookup(&r.hash) {
                    Ok(Some(found)) => assert_eq!(&found, r),
                    Ok(None) => panic!("fill {fill}: a present token went missing"),
                    Err(_) => {}
                }
            }
        }
    }

    #[test]
    fn unsorted_input_is_refused() {
        let a = record(1);
        let b = a.encode();
        let twice = [(a.hash, b.as_slice()), (a.hash, b.as_slice())];
        assert!(build([0; 16], 1, twice).is_err());
    }

    #[test]
    fn a_header_whose_sizes_overflow_is_damage_not_a_panic() {
        // The `index` fuzz target's first crash, minimised: a whole header (its CRC matches)
        // whose records length, 0x30303030ffffffff…, overflowed the length it implies.
        let header = b"VBXINDEX\x00\x02\x080000000000000000000000000\x00\x00\x00\x000000\xff\xff\xff\xff00000000\xf0\xd8\xf2+0000";
        assert_eq!(header.len(), HEADER_LEN);
        assert!(matches!(Header::parse(header), Err(IndexError::Damaged(_))));
        assert!(matches!(
            Index::from_bytes(header.to_vec()),
            Err(IndexError::Damaged(_))
        ));
        let most = Header {
            store_id: [0; 16],
            generation: 0,
            count: u64::from(u32::MAX),
            fanout_bits: MAX_FANOUT_BITS,
            records_len: u64::MAX,
        };
        assert!(Header::parse(&most.to_bytes()).is_err());
    }

    #[test]
    fn a_short_or_long_file_is_damage() {
        let (_, bytes) = file(10);
        assert!(Index::from_bytes(bytes[..bytes.len() - 1].to_vec()).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Index::from_bytes(longer).is_err());
        assert!(Index::from_bytes(Vec::new()).is_err());
    }

    /// Any record the encoder can write: any hash, id, name, status and policy.
    fn any_record() -> impl proptest::strategy::Strategy<Value = IndexRecord> {
        use proptest::prelude::*;
        let time = proptest::option::of(
            (0i64..4_000_000_000).prop_map(|s| Time::from_second(s).expect("in range")),
        );
        let net = prop_oneof![
            (any::<[u8; 4]>(), 0u8..=32)
                .prop_map(|(a, p)| { IpNet::new(IpAddr::from(a), p).expect("prefix").trunc() }),
            (any::<[u8; 16]>(), 0u8..=128)
                .prop_map(|(a, p)| { IpNet::new(IpAddr::from(a), p).expect("prefix").trunc() }),
        ];
        (
            any::<[u8; 32]>(),
            ("tok_[0-9a-z]{8}", ".{0,24}", any::<bool>(), any::<bool>()),
            (
                time.clone(),
                time,
                proptest::option::of(1u64..),
                any::<u64>(),
            ),
            (
                proptest::collection::vec("[a-z]{1,8}(:[a-z]{1,8})?", 0..3),
                proptest::collection::vec(net, 0..3),
            ),
        )
            .prop_map(
                |(
                    hash,
                    (id, name, revoked, disabled),
                    (expires_at, grace_until, max_uses, uses),
                    (scopes, allow_ip),
                )| {
                    IndexRecord {
                        hash: TokenHash(hash),
                        id,
                        name,
                        status: if revoked {
                            IndexStatus::Revoked
                        } else {
                            IndexStatus::Active
                        },
                        disabled,
                        expires_at,
                        grace_until,
                        max_uses,
                        uses,
                        scopes,
                        allow_ip,
                    }
                },
            )
    }

    proptest::proptest! {
        // Each case of the bit-flip property below reads about 13,000 damaged files.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8))]

        #[test]
        fn any_record_round_trips(r in any_record()) {
            proptest::prop_assert_eq!(IndexRecord::decode(&r.encode()).expect("decodes"), r);
        }

        /// Every single-bit flip (all eight of every byte, where the exhaustive test above
        /// flips two) of an index of any records: each original hash is found as exactly its
        /// record or refused, never missed, and no other hash finds anything.
        #[test]
        fn every_flipped_bit_of_any_index_is_refused_or_harmless(
            mut records in proptest::collection::vec(any_record(), 1..6),
        ) {
            records.sort_by_key(|r| r.hash.0);
            records.dedup_by_key(|r| r.hash.0);
            let encoded: Vec<(TokenHash, Vec<u8>)> =
                records.iter().map(|r| (r.hash, r.encode())).collect();
            let bytes = build([9; 16], 3, encoded.iter().map(|(h, b)| (*h, b.as_slice())))
                .expect("sorted");
            // Hashes that are not there: beside each one that is, and far from all of them.
            let mut absent: Vec<TokenHash> = records
                .iter()
                .flat_map(|r| {
                    let mut near = r.hash;
                    near.0[31] ^= 1;
                    let mut same_bucket = r.hash;
                    same_bucket.0[2] ^= 0x80;
                    [near, same_bucket]
                })
                .chain([TokenHash([0; 32]), TokenHash([0xff; 32])])
                .filter(|h| records.iter().all(|r| r.hash != *h))
                .collect();
            absent.dedup();
            for bit in 0..bytes.len() * 8 {
                let mut bad = bytes.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                let Ok(index) = Index::from_bytes(bad) else {
                    continue;
                };
                for r in &records {
                    match index.lookup(&r.hash) {
                        Ok(Some(found)) => proptest::prop_assert_eq!(&found, r, "bit {}", bit),
                        Ok(None) => proptest::prop_assert!(false, "bit {}: {:?} went missing", bit, r.hash),
                        Err(_) => {}
                    }
                }
                for h in &absent {
                    let found = index.lookup(h);
                    proptest::prop_assert!(!matches!(found, Ok(Some(_))), "bit {}: {:?} found {:?}", bit, h, found);
                }
                if let Ok(all) = index.records() {
                    proptest::prop_assert_eq!(all, encoded.clone(), "bit {}", bit);
                }
            }
        }
    }
}
