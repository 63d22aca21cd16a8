//! Use counters for tokens with a use limit (`create --max-uses N`), so the limit holds exactly
//! when many processes verify the same token at once, without the store's lock.
//!
//! Each limited token that has been used has one small file, `uses/<token id>`: the magic
//! `VBXUSES1`, the number of valid uses granted (u64, big-endian) and a CRC-32 of both (20
//! bytes). A verify that would be valid takes an exclusive `flock` on the file, reads the count,
//! and grants the use only if the count is below the limit, writing count + 1 and making it
//! durable before it answers. The journal still records the use, which folds into the record's
//! `use_count` as for any token; the count in the verification index (what sled had counted
//! when it was written) is a floor, so a store rebuilt from an export keeps its spent uses.
//!
//! A crash between the counter and the journal costs a use that was never acknowledged: the
//! limit can be reached early, never passed. A counter that fails its CRC is an error, never a
//! fresh count.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The directory of counters in the store.
pub const DIR: &str = "uses";
const MAGIC: &[u8; 8] = b"VBXUSES1";
const LEN: usize = 20;

fn path(dir: &Path, token_id: &str) -> io::Result<PathBuf> {
    // Ids come from the index, which checks its records; a path must still never escape.
    if !crate::store::looks_like_id(token_id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{token_id:?} is not a token id"),
        ));
    }
    Ok(dir.join(DIR).join(token_id))
}

fn decode(bytes: &[u8]) -> io::Result<u64> {
    match bytes.len() {
        // Created by a process that stopped before writing: nothing was granted.
        0 => Ok(0),
        LEN if &bytes[..8] == MAGIC
            && crc32fast::hash(&bytes[..16]).to_be_bytes() == bytes[16..20] =>
        {
            Ok(u64::from_be_bytes(
                bytes[8..16].try_into().expect("8 bytes"),
            ))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a use counter is damaged",
        )),
    }
}

fn encode(count: u64) -> [u8; LEN] {
    let mut b = [0u8; LEN];
    b[..8].copy_from_slice(MAGIC);
    b[8..16].copy_from_slice(&count.to_be_bytes());
    let crc = crc32fast::hash(&b[..16]);
    b[16..20].copy_from_slice(&crc.to_be_bytes());
    b
}

/// The uses granted so far to `token_id` (0 when it has no counter), read without the lock.
///
/// # Errors
/// `InvalidData` for a damaged counter or an id that is not one; the I/O error otherwise.
pub fn read(dir: &Path, token_id: &str) -> io::Result<u64> {
    match fs::read(path(dir, token_id)?) {
        Ok(bytes) => decode(&bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Grants one use of `token_id` if fewer than `max` were granted, counting at least `floor`
/// as granted already. Returns whether the use was granted; a granted use is durable before
/// this returns.
///
/// # Errors
/// As for [`read`]; a full disk or a read-only store when the count cannot be written.
pub fn take(dir: &Path, token_id: &str, max: u64, floor: u64) -> io::Result<bool> {
    let file_path = path(dir, token_id)?;
    let (mut file, created) = open(dir, &file_path)?;
    file.lock()?;
    let mut bytes = Vec::with_capacity(LEN);
    (&file).take(LEN as u64 + 1).read_to_end(&mut bytes)?;
    let count = decode(&bytes)?.max(floor);
    if count >= max {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&encode(count + 1))?;
    file.sync_data()?;
    if created {
        // The counter's name must survive a power loss too, or the count would start over.
        File::open(dir.join(DIR))?.sync_all()?;
    }
    Ok(true)
}

/// Opens the counter, making it (and its directory) if there is none; says whether it made it.
fn open(dir: &Path, file_path: &Path) -> io::Result<(File, bool)> {
    let existing = OpenOptions::new().read(true).write(true).open(file_path);
    match existing {
        Ok(f) => return Ok((f, false)),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    match fs::DirBuilder::new().mode(0o700).create(dir.join(DIR)) {
        Ok(()) => File::open(dir)?.sync_all()?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        // Another process may have made and counted in it since the look above: keep that.
        .truncate(false)
        .mode(0o600)
        .open(file_path)?;
    Ok((f, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_to_the_limit_and_no_further() {
        let dir = tempfile::tempdir().unwrap();
        let id = "tok_abcdefgh";
        assert_eq!(read(dir.path(), id).unwrap(), 0);
        assert!(take(dir.path(), id, 2, 0).unwrap());
        assert!(take(dir.path(), id, 2, 0).unwrap());
        assert!(!take(dir.path(), id, 2, 0).unwrap());
        assert_eq!(read(dir.path(), id).unwrap(), 2);
        // A floor above the count (uses imported with the record) counts.
        let other = "tok_00000000";
        assert!(!take(dir.path(), other, 3, 3).unwrap());
        assert!(take(dir.path(), other, 3, 2).unwrap());
        assert_eq!(read(dir.path(), other).unwrap(), 3);
    }

    #[test]
    fn damage_and_strange_ids_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let id = "tok_abcdefgh";
        assert!(take(dir.path(), id, 5, 0).unwrap());
        let p = dir.path().join(DIR).join(id);
        let mut bytes = fs::read(&p).unwrap();
        bytes[15] ^= 1;
        fs::write(&p, &bytes).unwrap();
        assert!(read(dir.path(), id).is_err());
        assert!(take(dir.path(), id, 5, 0).is_err());
        assert!(read(dir.path(), "../../etc/passwd").is_err());
    }
}
