//! What each fuzz target does with one input: feed it to the real reader, then check what came
//! back against the reader's promises. A broken promise panics, which the fuzzer records as a
//! crash. Shared word for word by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and by the main
//! crate's seed replay test (`tests/it/fuzz_seeds.rs`), so CI, which runs no fuzzer, still
//! runs every seed and every saved crash through the same checks.
//!
//! Every function takes any bytes and must not panic unless the library is wrong.

use std::cell::RefCell;
use std::collections::HashMap;

use secrecy::SecretString;
use vbx_tokens::index::{Index, IndexRecord};
use vbx_tokens::journal;
use vbx_tokens::time::Time;
use vbx_tokens::token::{self, Token, TokenHash};
use vbx_tokens::transfer::{self, ImportRules};
use vbx_tokens::vault::{self, Export, Vault};

/// The passphrase of the seed export (`fuzz/seeds/export/`), made with the cheapest KDF
/// parameters `vault init` allows.
pub const EXPORT_PASSPHRASE: &str = "fuzz-passphrase";

/// The token parser, the look-up hash and the masking of token-shaped text.
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Token::parse(text) {
        Ok(t) => {
            // A token is exactly what was parsed, and it is one whole token shape.
            assert_eq!(t.expose(), text);
            assert_eq!(token::lookup_hash(text), Some(t.hash()));
            assert_eq!(t.hash(), TokenHash::of(text));
            assert_eq!(token::checksum(&text[4..34]), &text[34..]);
            let shapes: Vec<_> = token::token_shapes(text).collect();
            assert_eq!(shapes, vec![0..text.len()], "one shape, the whole token");
            assert_eq!(token::mask(text), format!("{}…", t.hint()));
        }
        Err(_) => {
            // A string of our prefix that does not parse is a typo, never another system's.
            if text.starts_with(token::PREFIX) {
                assert_eq!(token::lookup_hash(text), None);
            }
        }
    }
    let mut last_end = 0;
    for range in token::token_shapes(text) {
        assert!(
            range.start >= last_end && range.end <= text.len(),
            "{range:?}"
        );
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        last_end = range.end;
    }
    // Masking leaves nothing token-shaped behind, and so never shows more than a hint.
    let masked = token::mask_tokens(text);
    assert!(
        !token::contains_token_shape(&masked),
        "{text:?} masks to {masked:?}"
    );
}

thread_local! {
    /// Vaults already unlocked, by header bytes: a key derivation costs milliseconds, and in a
    /// fuzzer's loop only the seed's header (whose checksum a mutation rarely keeps) comes back.
    static UNLOCKED: RefCell<HashMap<Vec<u8>, Option<Vault>>> = RefCell::new(HashMap::new());
}

/// The vault export reader: parse, then, for a header whose KDF parameters are the cheapest
/// allowed, unlock with [`EXPORT_PASSPHRASE`] and authenticate every record.
///
/// Only cheap parameters are run: the bounds on what a file may ask for (at most 4 GiB, 64
/// passes) are enforced before any work and unit-tested in `src/vault.rs`; running an 8 MiB
/// derivation per input is already the slowest thing a target does.
pub fn export(data: &[u8]) {
    let Ok(file) = Export::parse(data.to_vec()) else {
        return;
    };
    let header = vault::Header::parse(file.header()).expect("Export::parse checked the header");
    let cheap = header.kdf.memory_kib <= vault::MIN_MEMORY_MIB * 1024
        && header.kdf.iterations == 1
        && header.kdf.parallelism == 1;
    if !cheap {
        return;
    }
    UNLOCKED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 64 {
            cache.clear();
        }
        let vault = cache.entry(file.header().to_vec()).or_insert_with(|| {
            Vault::unlock(
                file.header(),
                &SecretString::from(EXPORT_PASSPHRASE.to_owned()),
            )
            .ok()
        });
        let Some(vault) = vault else { return };
        if let Ok(opened) = file.open(vault) {
            // What opens is every record the file holds, each its own.
            let sealed: Vec<_> = file.sealed_records().collect();
            assert_eq!(opened.len(), sealed.len());
            for ((id, secret), (sealed_id, bytes)) in opened.iter().zip(sealed) {
                assert_eq!(id, sealed_id);
                assert_eq!(
                    vault
                        .open_bytes(id, bytes)
                        .expect("it opened once")
                        .as_slice(),
                    secret.as_slice()
                );
            }
        }
    });
}

/// A fixed "now" and actor for import: the reader must not depend on the clock.
fn import_now() -> Time {
    Time::from_second(1_800_000_000).expect("in range")
}

/// The record import reader, one line. The first byte chooses `--any-format`; the rest is the
/// line. A line that is accepted must come back unchanged when its record is exported and
/// imported again (README: "Export then import ... gives back the same records field for
/// field").
pub fn import(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let rules = ImportRules {
        any_format: flags & 1 == 1,
    };
    let Ok(item) = transfer::parse_line(1, line, rules, import_now(), "fuzz") else {
        return;
    };
    let record = item.record;
    assert!(TokenHash::from_hex(&record.sha256).is_some());
    assert!(!token::contains_token_shape(
        &serde_json::to_string(&record).expect("a record serialises")
    ));
    // The line `export` would write for it; an id the store has not assigned yet is left out.
    let mut exported = serde_json::to_value(&record).expect("a record serialises");
    if record.id.is_empty() {
        exported
            .as_object_mut()
            .expect("a record is an object")
            .remove("id");
    }
    let again = transfer::parse_line(1, &exported.to_string(), rules, import_now(), "fuzz")
        .unwrap_or_else(|e| panic!("{line:?} imports, but its export {exported} does not: {e}"));
    assert_eq!(again.record, record, "{line:?}");
}

/// The verification index reader, on the bytes as they are and with every CRC made to match
/// (see [`index_crcs_fixed`]). Whatever the bytes, a look-up answers with the record of the
/// hash it was asked for or an error; and when every entry and record checks out
/// ([`Index::records`]), each of them is found by its own hash or refused, never missed.
pub fn index(data: &[u8]) {
    index_once(data);
    index_once(&index_crcs_fixed(data));
}

/// `data` with the CRC-32 of the index header, of every entry and of every record an entry
/// points at rewritten to match: a mutation rarely keeps a CRC whole, and without this the
/// fuzzer would never get past the first check to the fields behind it. (The CRCs themselves
/// are exercised on the bytes as they are.)
pub fn index_crcs_fixed(data: &[u8]) -> Vec<u8> {
    use vbx_tokens::index::{ENTRY_LEN, HEADER_LEN};
    let mut b = data.to_vec();
    if b.len() < HEADER_LEN {
        return b;
    }
    let crc = crc32(&b[..56]);
    b[56..60].copy_from_slice(&crc);
    let Ok(h) = vbx_tokens::index::Header::parse(&b) else {
        return b;
    };
    let entries_at = HEADER_LEN + (4usize << h.fanout_bits);
    let records_at = entries_at + h.count as usize * ENTRY_LEN;
    for i in 0..h.count as usize {
        let at = entries_at + i * ENTRY_LEN;
        let Some(e) = b.get_mut(at..at + ENTRY_LEN) else {
            break;
        };
        let crc = crc32(&e[..44]);
        e[44..48].copy_from_slice(&crc);
        let offset = u64::from_be_bytes(e[32..40].try_into().expect("8 bytes"));
        let len = u32::from_be_bytes(e[40..44].try_into().expect("4 bytes")) as usize;
        let record = usize::try_from(offset)
            .ok()
            .and_then(|o| records_at.checked_add(o))
            .and_then(|start| Some(start..start.checked_add(len)?))
            .filter(|r| r.len() >= 4);
        if let Some(r) = record.and_then(|r| b.get_mut(r)) {
            let (body, crc) = r.split_at_mut(len - 4);
            crc.copy_from_slice(&crc32(body));
        }
    }
    b
}

fn crc32(bytes: &[u8]) -> [u8; 4] {
    crc32fast::hash(bytes).to_be_bytes()
}

fn index_once(data: &[u8]) {
    // Decode alone: the records area of any index, and anything else.
    if let Ok(r) = IndexRecord::decode(data) {
        assert_eq!(IndexRecord::decode(&r.encode()).as_ref(), Ok(&r));
    }
    let Ok(index) = Index::from_bytes(data.to_vec()) else {
        return;
    };
    // Ask for every 32-byte window at an entry's place and a few that cannot be there.
    let h = *index.header();
    let entries_at = vbx_tokens::index::HEADER_LEN + (4usize << h.fanout_bits);
    let mut asks: Vec<TokenHash> = (0..h.count.min(64) as usize)
        .filter_map(|i| {
            let at = entries_at + i * vbx_tokens::index::ENTRY_LEN;
            Some(TokenHash(data.get(at..at + 32)?.try_into().ok()?))
        })
        .collect();
    asks.extend([
        TokenHash([0; 32]),
        TokenHash([0xff; 32]),
        TokenHash::of("absent"),
    ]);
    for hash in &asks {
        if let Ok(Some(found)) = index.lookup(hash) {
            assert_eq!(&found.hash, hash, "a look-up answered with another token");
        }
    }
    if let Ok(all) = index.records() {
        for (hash, bytes) in all {
            let record = IndexRecord::decode(&bytes).expect("records() checked it");
            assert_eq!(record.hash, hash);
            match index.lookup(&hash) {
                Ok(Some(found)) => assert_eq!(found, record),
                Ok(None) => panic!("{hash:?} is in the index but a look-up missed it"),
                Err(_) => {}
            }
        }
    }
}

/// The journal reader, on the bytes as they are and with every CRC made to match (see
/// [`journal_crcs_fixed`]): every entry it returns is one the encoder could have written, and
/// reads back the same when written again.
pub fn journal(data: &[u8]) {
    journal_once(data);
    journal_once(&journal_crcs_fixed(data));
}

/// `data` with the header's CRC-32 and that of every marked entry (README, the journal's
/// layout: marker `A5 5A`, u16 length, ..., CRC-32 of the bytes before it) rewritten to match,
/// so the fuzzer reaches the fields behind the CRC.
pub fn journal_crcs_fixed(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    if b.len() >= journal::HEADER_LEN && b[..8] == journal::MAGIC[..] {
        let crc = crc32(&b[..40]);
        b[40..44].copy_from_slice(&crc);
    }
    let mut at = 0;
    while at + 4 <= b.len() {
        let len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
        if b[at..at + 2] == [0xA5, 0x5A] && len >= 8 && at + len <= b.len() {
            let (body, crc) = b[at..at + len].split_at_mut(len - 4);
            crc.copy_from_slice(&crc32(body));
            at += len;
        } else {
            at += 1;
        }
    }
    b
}

fn journal_once(data: &[u8]) {
    let read = journal::read(data);
    for entry in &read.entries {
        let bytes = entry.encode();
        let again = journal::read(&bytes);
        assert_eq!(
            again.entries.as_slice(),
            std::slice::from_ref(entry),
            "{bytes:?}"
        );
    }
}

/// The use table, on the bytes as they are and with every CRC made to match (see
/// [`uses_crcs_fixed`]): open from the file, read the count of the ids it holds and of some
/// it does not. The store id is taken from the input's own header, so a table is not refused
/// only for being another store's.
pub fn uses(data: &[u8]) {
    uses_once(data);
    uses_once(&uses_crcs_fixed(data));
}

/// `data` with the header's CRC-32 and every non-empty slot's rewritten to match (layout in
/// `src/uses.rs`: a 64-byte header, CRC at 32..36; 32-byte slots, CRC at 24..28).
pub fn uses_crcs_fixed(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    if b.len() < 64 {
        return b;
    }
    let crc = crc32(&b[..32]);
    b[32..36].copy_from_slice(&crc);
    for slot in b[64..].chunks_exact_mut(32) {
        if slot.iter().any(|&x| x != 0) {
            let crc = crc32(&slot[..24]);
            slot[24..28].copy_from_slice(&crc);
        }
    }
    b
}

fn uses_once(data: &[u8]) {
    thread_local! {
        static DIR: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory");
    }
    DIR.with(|dir| {
        let path = dir.path().join(vbx_tokens::uses::FILE);
        std::fs::write(&path, data).expect("writes the table");
        let store_id: [u8; 16] = data
            .get(8..24)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_default();
        let Ok(Some(table)) = vbx_tokens::uses::Table::open(dir.path(), &store_id) else {
            return;
        };
        // The ids in the slots the input holds, wherever they are, and two that are nowhere.
        let mut ids: Vec<String> = data
            .get(64..)
            .unwrap_or_default()
            .chunks(32)
            .take(256)
            .filter_map(|slot| std::str::from_utf8(slot.get(..12)?).ok().map(str::to_owned))
            .filter(|id| vbx_tokens::store::looks_like_id(id))
            .collect();
        ids.extend(["tok_00000000".to_owned(), "tok_zzzzzzzz".to_owned()]);
        for id in &ids {
            let _ = table.count(id);
        }
        let _ = table.count("not an id");
    });
}

/// The audit log's chain checker: the first 40 bytes are the head (if they decode), the rest
/// is events, one a line, keyed 1, 2, 3 ….
pub fn chain(data: &[u8]) {
    use vbx_tokens::chain::{Checker, Head};
    let (head, events) = data.split_at(data.len().min(Head::LEN));
    let mut checker = Checker::<vbx_tokens::record::Event>::new(Head::decode(head));
    let mut count = 0u64;
    for (key, event) in events.split(|&b| b == b'\n').enumerate() {
        checker.event(&(key as u64 + 1).to_be_bytes(), event);
        count += 1;
    }
    match checker.finish() {
        Ok(n) => assert_eq!(n, count),
        Err(broken) => {
            // Describing a break must not panic, whatever the event held.
            let _ = broken.to_string();
        }
    }
}
