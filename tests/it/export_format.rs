//! Proves the README's "vault export format (version 1)" is enough to decrypt an export: this
//! decoder follows only that section and the fixture, never `vbx_tokens::vault`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{self, Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const HEADER_LEN: usize = 163;
const TRAILER_LEN: usize = 40;

/// The export file, split into its parts (all slices borrow the file's bytes).
struct Export<'a> {
    header: &'a [u8],
    records: Vec<Record<'a>>,
    /// Every byte of the file before the trailer.
    authenticated: &'a [u8],
    trailer: &'a [u8],
}

struct Record<'a> {
    id: &'a str,
    sealed: &'a [u8],
    /// Offset of `sealed` in the file.
    sealed_at: usize,
}

/// A cursor that panics on truncation.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let end = self.pos + n;
        assert!(
            end <= self.bytes.len(),
            "export truncated at byte {}",
            self.pos
        );
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        slice
    }

    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }

    fn u32(&mut self) -> u32 {
        be32(self.take(4), 0)
    }
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// Step 1 of "To decrypt", plus the file layout: header ‖ N ‖ N records ‖ trailer.
fn parse(bytes: &[u8]) -> Export<'_> {
    let mut r = Reader { bytes, pos: 0 };
    let header = r.take(HEADER_LEN);
    assert_eq!(&header[0..8], b"VBXVAULT", "magic");
    assert_eq!(
        u16::from_be_bytes([header[8], header[9]]),
        1,
        "format version"
    );
    assert_eq!(header[26], 1, "KDF algorithm (1 = Argon2id)");
    assert_eq!(be32(header, 27), 0x13, "Argon2 version");
    let checksum = Sha256::digest(&header[..131]);
    assert_eq!(checksum.as_slice(), &header[131..163], "header checksum");
    let (m, t, p) = (be32(header, 31), be32(header, 35), be32(header, 39));
    assert!(m <= 4_194_304, "Argon2 memory {m} KiB over 4 GiB");
    assert!(t <= 64, "Argon2 iterations {t} over 64");
    assert!(p <= 16, "Argon2 parallelism {p} over 16");

    let count = r.u32();
    let records = (0..count)
        .map(|_| {
            let id_len = usize::from(r.u8());
            let id = std::str::from_utf8(r.take(id_len)).expect("token id is ASCII");
            assert!(id.is_ascii(), "token id {id:?} is ASCII");
            let sealed_len = r.u32() as usize;
            assert!(sealed_len >= 24 + 16, "sealed holds a nonce and a tag");
            let sealed_at = r.pos;
            let sealed = r.take(sealed_len);
            Record {
                id,
                sealed,
                sealed_at,
            }
        })
        .collect();

    let authenticated = &bytes[..r.pos];
    let trailer = r.take(TRAILER_LEN);
    assert_eq!(r.pos, bytes.len(), "no bytes after the trailer");
    Export {
        header,
        records,
        authenticated,
        trailer,
    }
}

/// XChaCha20-Poly1305-Decrypt over `ciphertext ‖ tag`.
fn open(key: &[u8], nonce: &[u8], ciphertext_and_tag: &[u8], aad: &[u8]) -> aead::Result<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).expect("32-byte key");
    let payload = Payload {
        msg: ciphertext_and_tag,
        aad,
    };
    cipher.decrypt(XNonce::from_slice(nonce), payload)
}

/// Steps 2 and 3: the KEK from the passphrase, then the unwrapped data key.
fn data_key(export: &Export, passphrase: &str) -> aead::Result<Vec<u8>> {
    let h = export.header;
    let params = Params::new(be32(h, 31), be32(h, 35), be32(h, 39), Some(32))
        .expect("Argon2 parameters accepted");
    let mut kek = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &h[43..59], &mut kek)
        .expect("Argon2id derives the KEK");
    open(&kek, &h[59..83], &h[83..131], &h[..59])
}

/// Step 4: the trailer authenticates every byte before it.
fn trailer_ok(export: &Export, key: &[u8]) -> bool {
    let (nonce, tag) = export.trailer.split_at(24);
    open(key, nonce, tag, export.authenticated).is_ok_and(|plain| plain.is_empty())
}

/// Step 5: one record, bound to its vault id and token id.
fn open_record(export: &Export, key: &[u8], record: &Record) -> aead::Result<Vec<u8>> {
    let aad = [&export.header[10..26], record.id.as_bytes()].concat();
    let (nonce, ciphertext_and_tag) = record.sealed.split_at(24);
    open(key, nonce, ciphertext_and_tag, &aad)
}

/// The export bytes, the passphrase and the expected `{token id: token}` map.
fn fixture() -> (Vec<u8>, String, BTreeMap<String, String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("fixture file readable");
    let expected: serde_json::Value =
        serde_json::from_slice(&read("expected.json")).expect("expected.json is JSON");
    let passphrase = expected["passphrase"]
        .as_str()
        .expect("passphrase string")
        .to_owned();
    let passphrase_txt = String::from_utf8(read("passphrase.txt")).expect("UTF-8 passphrase");
    assert_eq!(
        passphrase_txt.trim_end_matches('\n'),
        passphrase,
        "passphrase.txt agrees"
    );
    let secrets = serde_json::from_value(expected["secrets"].clone()).expect("secrets map");
    (read("export.vbxvault"), passphrase, secrets)
}

#[test]
fn the_document_alone_decrypts_the_fixture_export() {
    let (bytes, passphrase, expected) = fixture();
    let export = parse(&bytes);
    let key = data_key(&export, &passphrase).expect("the passphrase unwraps the data key");
    assert_eq!(key.len(), 32, "data key length");
    assert!(trailer_ok(&export, &key), "trailer authenticates the file");

    let mut secrets = BTreeMap::new();
    for record in &export.records {
        let plain = open_record(&export, &key, record).expect("record decrypts");
        let token = String::from_utf8(plain).expect("token is UTF-8");
        assert!(
            token.starts_with("vbx_") && token.len() == 40,
            "token shape: {token:?}"
        );
        let previous = secrets.insert(record.id.to_owned(), token);
        assert!(previous.is_none(), "token id {} appears once", record.id);
    }
    assert_eq!(secrets, expected);
}

#[test]
fn a_wrong_passphrase_fails_to_unwrap_the_data_key() {
    let (bytes, passphrase, _) = fixture();
    let export = parse(&bytes);
    let wrong = format!("{passphrase}!");
    assert!(
        data_key(&export, &wrong).is_err(),
        "wrong passphrase rejected"
    );
}

#[test]
fn a_flipped_ciphertext_byte_fails_its_record_and_the_trailer() {
    let (mut bytes, passphrase, _) = fixture();
    // The first ciphertext byte of the first record, just past its nonce.
    let flip_at = parse(&bytes).records[0].sealed_at + 24;
    bytes[flip_at] ^= 0x01;

    let export = parse(&bytes);
    let key = data_key(&export, &passphrase).expect("the header is untouched");
    assert!(
        open_record(&export, &key, &export.records[0]).is_err(),
        "tampered record fails"
    );
    for record in &export.records[1..] {
        assert!(
            open_record(&export, &key, record).is_ok(),
            "other records still open"
        );
    }
    assert!(!trailer_ok(&export, &key), "trailer detects the tampering");
}
