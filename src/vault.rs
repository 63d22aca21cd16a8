//! The vault: the only module that uses the crypto crates. It derives keys from a passphrase,
//! wraps the data key, seals and opens kept secrets, and reads and writes the export format.
//! It holds no I/O: the store keeps the bytes this module produces.
//!
//! The byte layouts here are a published format (README, "The vault export format"): change
//! them only with a new format version, and keep reading the old one.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::TryRngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

mod export;
mod sealed;

pub use export::Export;
pub use sealed::Sealed;

/// The first bytes of a vault header, and so of every export.
pub const MAGIC: &[u8; 8] = b"VBXVAULT";
/// The header and export layout this build writes.
pub const FORMAT_VERSION: u16 = 1;
/// The KDF algorithm byte for Argon2id.
const KDF_ARGON2ID: u8 = 1;
/// Argon2 version 1.3 (RFC 9106 §3.1: "v ... MUST be 0x13").
pub const ARGON2_VERSION: u32 = 0x13;
/// RFC 9106 §3.1 recommends a 128-bit salt.
pub const SALT_LEN: usize = 16;
/// The random vault id bound into every record's associated data.
pub const VAULT_ID_LEN: usize = 16;
/// XChaCha20-Poly1305 key (256 bits), nonce (192 bits) and tag (128 bits):
/// draft-irtf-cfrg-xchacha-03 §2 and RFC 8439 §2.8.
pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;

/// RFC 9106 §4, the second recommended option: 64 MiB, 3 passes, 4 lanes.
pub const DEFAULT_KDF: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 4,
};
/// The least we let a user choose (below this a passphrase is too cheap to guess at).
pub const MIN_MEMORY_MIB: u32 = 8;
pub const MIN_ITERATIONS: u32 = 1;
/// The most we accept from a store or a file: a hostile export must not make us allocate
/// gigabytes or spin for hours before we can even say "wrong passphrase".
pub const MAX_MEMORY_MIB: u32 = 4 * 1024;
pub const MAX_MEMORY_KIB: u32 = MAX_MEMORY_MIB * 1024;
pub const MAX_ITERATIONS: u32 = 64;
pub const MAX_PARALLELISM: u32 = 16;

// Header layout: see `Header::to_bytes`.
const AD_END: usize = 8 + 2 + VAULT_ID_LEN + 1 + 4 * 4 + SALT_LEN; // 59: what the key wrap binds
const WRAPPED_LEN: usize = KEY_LEN + TAG_LEN;
const CHECKSUM_START: usize = AD_END + NONCE_LEN + WRAPPED_LEN; // 131
/// The header's size in bytes.
pub const HEADER_LEN: usize = CHECKSUM_START + 32; // 163

/// What can go wrong in the vault. Where the bytes came from (the store, or a file the user
/// named) decides what each means to the user, so the command layer maps them to exit codes.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The passphrase did not unwrap the data key.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// Not a vault header or export at all: another magic, or a format version this build does
    /// not read.
    #[error("{0}")]
    Malformed(String),
    /// A vault header or export that is not what was written: a checksum that fails, bytes cut
    /// short or left over, parameters out of bounds, or records that do not authenticate
    /// (changed, swapped, reordered, or another vault's).
    #[error("{0}")]
    Unauthentic(String),
    /// Parameters a user asked for that we refuse.
    #[error("{0}")]
    BadParams(String),
}

type Result<T> = std::result::Result<T, VaultError>;

fn malformed(what: impl Into<String>) -> VaultError {
    VaultError::Malformed(what.into())
}

fn unauthentic(what: impl Into<String>) -> VaultError {
    VaultError::Unauthentic(what.into())
}

/// Refuses vault bytes read from outside (a backup's, an export's) that hold a token in
/// plaintext: they go to the store's disk as they are, and sealed bytes, a salt, a nonce or a
/// wrapped key never hold one (a forger can put one there and fix every checksum).
fn token_free(what: &str, bytes: &[u8]) -> Result<()> {
    if crate::name::holds_token(&String::from_utf8_lossy(bytes)) {
        return Err(unauthentic(format!(
            "{what} holds a token in plaintext: a vault's bytes never do"
        )));
    }
    Ok(())
}

/// Argon2id cost parameters, as stored in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// Parameters a user chose, checked against our floor and the ceiling we accept from disk.
    ///
    /// # Errors
    /// [`VaultError::BadParams`] naming the flag and both of its bounds.
    pub fn chosen(memory_mib: u32, iterations: u32, parallelism: u32) -> Result<KdfParams> {
        let check = |flag: &str, value: u32, min: u32, max: u32| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(VaultError::BadParams(format!(
                    "{flag} must be from {min} to {max}, not {value}"
                )))
            }
        };
        check(
            "--kdf-memory-mib",
            memory_mib,
            MIN_MEMORY_MIB,
            MAX_MEMORY_MIB,
        )?;
        check(
            "--kdf-iterations",
            iterations,
            MIN_ITERATIONS,
            MAX_ITERATIONS,
        )?;
        check("--kdf-parallelism", parallelism, 1, MAX_PARALLELISM)?;
        Ok(KdfParams {
            memory_kib: memory_mib * 1024,
            iterations,
            parallelism,
        })
    }

    /// Checks parameters read from a store or a file before any work is done with them.
    fn bounded(self) -> Result<KdfParams> {
        let ok = (MIN_MEMORY_MIB * 1024..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (MIN_ITERATIONS..=MAX_ITERATIONS).contains(&self.iterations)
            && (1..=MAX_PARALLELISM).contains(&self.parallelism);
        if ok {
            Ok(self)
        } else {
            Err(unauthentic(format!(
                "KDF parameters out of bounds ({} KiB, {} iterations, {} lanes; the limits are {}–{} KiB, {}–{} iterations, 1–{} lanes)",
                self.memory_kib,
                self.iterations,
                self.parallelism,
                MIN_MEMORY_MIB * 1024,
                MAX_MEMORY_KIB,
                MIN_ITERATIONS,
                MAX_ITERATIONS,
                MAX_PARALLELISM
            )))
        }
    }

    /// Argon2id(passphrase, salt) → the 32-byte key that wraps the data key.
    fn derive(
        self,
        passphrase: &SecretString,
        salt: &[u8; SALT_LEN],
    ) -> Result<Zeroizing<[u8; KEY_LEN]>> {
        let params = Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| malformed(format!("KDF parameters rejected ({e})")))?;
        // The KDF's memory is asked for here, fallibly: up to 4 GiB is allowed, and a machine
        // (or a `ulimit -v`) without it gets an error, not an abort.
        let blocks = params.block_count();
        let mut memory: Vec<argon2::Block> = Vec::new();
        memory.try_reserve_exact(blocks).map_err(|_| {
            VaultError::BadParams(format!(
                "cannot allocate the {} MiB the key derivation needs: lower --kdf-memory-mib, or free memory",
                self.memory_kib / 1024
            ))
        })?;
        memory.resize(blocks, argon2::Block::default());
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        let result = argon
            .hash_password_into_with_memory(
                passphrase.expose_secret().as_bytes(),
                salt,
                key.as_mut(),
                &mut memory,
            )
            .map_err(|e| malformed(format!("key derivation failed ({e})")));
        // The blocks are derived from the passphrase: wiped before they are freed.
        memory.iter_mut().for_each(zeroize::Zeroize::zeroize);
        result?;
        Ok(key)
    }
}

/// The vault header: everything needed to turn a passphrase into the data key. Not secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    pub vault_id: [u8; VAULT_ID_LEN],
    pub kdf: KdfParams,
    salt: [u8; SALT_LEN],
    wrap_nonce: [u8; NONCE_LEN],
    wrapped_key: [u8; WRAPPED_LEN],
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Header")
            .field("vault_id", &hex::encode(self.vault_id))
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

impl Header {
    /// The 163-byte layout, integers big-endian:
    /// magic (8) · format version u16 · vault id (16) · KDF algorithm u8 (1 = Argon2id) ·
    /// Argon2 version u32 · memory KiB u32 · iterations u32 · parallelism u32 · salt (16) ·
    /// wrap nonce (24) · wrapped data key (48) · SHA-256 of all the bytes before it (32).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.associated_data();
        b.extend_from_slice(&self.wrap_nonce);
        b.extend_from_slice(&self.wrapped_key);
        let sum = Sha256::digest(&b);
        b.extend_from_slice(&sum);
        debug_assert_eq!(b.len(), HEADER_LEN);
        b
    }

    /// Bytes 0..59, magic through salt: the associated data of the key wrap, so a changed
    /// parameter or salt can never unwrap the key.
    fn associated_data(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEADER_LEN);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
        b.extend_from_slice(&self.vault_id);
        b.push(KDF_ARGON2ID);
        b.extend_from_slice(&ARGON2_VERSION.to_be_bytes());
        b.extend_from_slice(&self.kdf.memory_kib.to_be_bytes());
        b.extend_from_slice(&self.kdf.iterations.to_be_bytes());
        b.extend_from_slice(&self.kdf.parallelism.to_be_bytes());
        b.extend_from_slice(&self.salt);
        debug_assert_eq!(b.len(), AD_END);
        b
    }

    /// Reads and checks a header: its layout, its checksum, and its KDF parameters within the
    /// bounds this build derives with. The checksum tells a damaged header (exit 6) apart from
    /// a wrong passphrase (exit 4), which AEAD alone cannot.
    ///
    /// # Errors
    /// [`VaultError::Malformed`] for another layout or version; [`VaultError::Unauthentic`]
    /// for a checksum that does not match, another KDF, or parameters out of bounds.
    pub fn parse(bytes: &[u8]) -> Result<Header> {
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(malformed("not a vbx-tokens vault header"));
        }
        let bytes = &bytes[..HEADER_LEN];
        let version = u16::from_be_bytes([bytes[8], bytes[9]]);
        if version != FORMAT_VERSION {
            return Err(malformed(format!(
                "vault format {version} is not one this build reads ({FORMAT_VERSION}); upgrade vbx-tokens"
            )));
        }
        if Sha256::digest(&bytes[..CHECKSUM_START]).as_slice() != &bytes[CHECKSUM_START..] {
            return Err(unauthentic("the header's checksum does not match"));
        }
        let u32_at = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        if bytes[26] != KDF_ARGON2ID || u32_at(27) != ARGON2_VERSION {
            return Err(unauthentic("unknown key derivation function"));
        }
        let take = |from: usize, to: usize| bytes[from..to].to_vec();
        Ok(Header {
            vault_id: take(10, 26).try_into().expect("16 bytes"),
            // Bounded here, where every header read from a store or a file passes, so a header
            // out of bounds is refused by whatever reads it first (`restore`, `vault status`,
            // `doctor`), not only by the unlock that would spend the memory.
            kdf: KdfParams {
                memory_kib: u32_at(31),
                iterations: u32_at(35),
                parallelism: u32_at(39),
            }
            .bounded()?,
            salt: take(43, AD_END).try_into().expect("16 bytes"),
            wrap_nonce: take(AD_END, AD_END + NONCE_LEN)
                .try_into()
                .expect("24 bytes"),
            wrapped_key: take(AD_END + NONCE_LEN, CHECKSUM_START)
                .try_into()
                .expect("48 bytes"),
        })
    }

    pub fn vault_id_hex(&self) -> String {
        hex::encode(self.vault_id)
    }
}

/// An unlocked vault: the header and the data key. The key is wiped on drop and never shown.
pub struct Vault {
    header: Header,
    data_key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng
        .unwrap_err()
        .try_fill_bytes(&mut b)
        .expect("the OS random source works");
    b
}

fn cipher(key: &[u8; KEY_LEN]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.into())
}

impl Vault {
    /// A new vault with a random id and data key, wrapped under `passphrase`.
    pub fn create(passphrase: &SecretString, kdf: KdfParams) -> Result<Vault> {
        let data_key = Zeroizing::new(random::<KEY_LEN>());
        Vault::wrap(random(), data_key, passphrase, kdf)
    }

    fn wrap(
        vault_id: [u8; VAULT_ID_LEN],
        data_key: Zeroizing<[u8; KEY_LEN]>,
        passphrase: &SecretString,
        kdf: KdfParams,
    ) -> Result<Vault> {
        let mut header = Header {
            vault_id,
            kdf: kdf.bounded()?,
            salt: random(),
            wrap_nonce: random(),
            wrapped_key: [0; WRAPPED_LEN],
        };
        let kek = kdf.derive(passphrase, &header.salt)?;
        let aad = header.associated_data();
        let wrapped = cipher(&kek)
            .encrypt(
                XNonce::from_slice(&header.wrap_nonce),
                Payload {
                    msg: data_key.as_slice(),
                    aad: &aad,
                },
            )
            .expect("encrypting 32 bytes cannot fail");
        header.wrapped_key = wrapped.try_into().expect("32 bytes and a 16-byte tag");
        Ok(Vault { header, data_key })
    }

    /// Unwraps the data key. Parameters are bounded before the KDF runs.
    pub fn unlock(header: &[u8], passphrase: &SecretString) -> Result<Vault> {
        let header = Header::parse(header)?;
        let kek = header.kdf.derive(passphrase, &header.salt)?;
        let aad = header.associated_data();
        let key = cipher(&kek)
            .decrypt(
                XNonce::from_slice(&header.wrap_nonce),
                Payload {
                    msg: &header.wrapped_key,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::WrongPassphrase)?;
        let key = Zeroizing::new(key);
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        data_key.copy_from_slice(&key);
        Ok(Vault { header, data_key })
    }

    /// The same vault (id and data key, so every record still opens) under a new passphrase
    /// and parameters, with a fresh salt.
    pub fn rewrap(&self, passphrase: &SecretString, kdf: KdfParams) -> Result<Vault> {
        Vault::wrap(self.header.vault_id, self.data_key.clone(), passphrase, kdf)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// A record's associated data: the vault id, then the token id's bytes. A record moved to
    /// another token or another vault fails to open.
    fn record_aad(&self, token_id: &str) -> Vec<u8> {
        let mut aad = self.header.vault_id.to_vec();
        aad.extend_from_slice(token_id.as_bytes());
        aad
    }

    /// Encrypts a secret for one token: nonce (24) ‖ ciphertext ‖ tag (16).
    pub fn seal(&self, token_id: &str, secret: &str) -> Vec<u8> {
        let nonce = random::<NONCE_LEN>();
        let aad = self.record_aad(token_id);
        let ct = cipher(&self.data_key)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("encrypting a short secret cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts a record sealed for `token_id` in this vault, as text.
    ///
    /// # Errors
    /// [`VaultError::Unauthentic`] when it does not authenticate or is not text.
    pub fn open(&self, token_id: &str, sealed: &[u8]) -> Result<Zeroizing<String>> {
        let plain = self.open_bytes(token_id, sealed)?;
        String::from_utf8(plain.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| unauthentic(format!("the kept secret of {token_id} is not text")))
    }

    /// Decrypts a record sealed for `token_id` in this vault.
    ///
    /// # Errors
    /// [`VaultError::Unauthentic`] when it does not authenticate.
    pub fn open_bytes(&self, token_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let fail = || {
            unauthentic(format!(
                "the kept secret of {token_id} does not authenticate"
            ))
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(fail());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let aad = self.record_aad(token_id);
        cipher(&self.data_key)
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const CHEAP: KdfParams = KdfParams {
        memory_kib: MIN_MEMORY_MIB * 1024,
        iterations: 1,
        parallelism: 1,
    };

    pub(super) fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn header_round_trips_and_is_163_bytes() {
        let v = Vault::create(&pass("pw"), CHEAP).expect("create");
        let bytes = v.header().to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(HEADER_LEN, 163);
        assert_eq!(Header::parse(&bytes).expect("parse"), *v.header());
    }

    #[test]
    fn unlock_tells_a_wrong_passphrase_from_damage() {
        let v = Vault::create(&pass("right"), CHEAP).expect("create");
        let header = v.header().to_bytes();
        assert!(Vault::unlock(&header, &pass("right")).is_ok());
        assert_eq!(
            Vault::unlock(&header, &pass("wrong")).err(),
            Some(VaultError::WrongPassphrase)
        );
        for i in 0..header.len() {
            let mut bad = header.clone();
            bad[i] ^= 0x01;
            match Vault::unlock(&bad, &pass("right")) {
                Err(VaultError::Malformed(_) | VaultError::Unauthentic(_)) => {}
                other => panic!("byte {i}: {other:?}"),
            }
        }
    }

    #[test]
    fn records_are_bound_to_their_token_and_vault() {
        let a = Vault::create(&pass("pw"), CHEAP).expect("a");
        let b = Vault::create(&pass("pw"), CHEAP).expect("b");
        let sealed = a.seal("tok_1", "vbx_secret");
        assert_eq!(*a.open("tok_1", &sealed).expect("opens"), "vbx_secret");
        assert!(a.open("tok_2", &sealed).is_err());
        assert!(b.open("tok_1", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[30] ^= 1;
        assert!(a.open("tok_1", &flipped).is_err());
    }

    #[test]
    fn rewrap_keeps_records_and_changes_the_passphrase() {
        let v = Vault::create(&pass("old"), CHEAP).expect("create");
        let sealed = v.seal("tok_1", "s");
        let w = v.rewrap(&pass("new"), CHEAP).expect("rewrap");
        let header = w.header().to_bytes();
        assert!(matches!(
            Vault::unlock(&header, &pass("old")),
            Err(VaultError::WrongPassphrase)
        ));
        let w = Vault::unlock(&header, &pass("new")).expect("new works");
        assert_eq!(*w.open("tok_1", &sealed).expect("same record"), "s");
    }

    #[test]
    fn parameters_out_of_bounds_are_refused_before_any_work() {
        // u32::MAX iterations would run for hours if the KDF started; finishing proves it didn't.
        for (m, t, p) in [
            (8192, u32::MAX, 1),
            (u32::MAX, 1, 1),
            (8192, 1, 17),
            (8192, 0, 1),
            (1024, 1, 1),
            (8192, 1, 0),
        ] {
            let kdf = KdfParams {
                memory_kib: m,
                iterations: t,
                parallelism: p,
            };
            assert!(
                matches!(kdf.bounded(), Err(VaultError::Unauthentic(_))),
                "{kdf:?}"
            );
        }
        assert!(KdfParams::chosen(7, 1, 1).is_err());
        assert!(KdfParams::chosen(8, 0, 1).is_err());
        assert!(KdfParams::chosen(8, 1, 1).is_ok());
        assert!(KdfParams::chosen(5000, 1, 1).is_err());
        assert!(KdfParams::chosen(4096, 64, 16).is_ok());
        let err = KdfParams::chosen(4097, 1, 1).expect_err("too much");
        assert_eq!(
            err.to_string(),
            "--kdf-memory-mib must be from 8 to 4096, not 4097"
        );
        assert!(matches!(err, VaultError::BadParams(_)));
        assert!(KdfParams::chosen(8, 65, 1).is_err());
        assert!(KdfParams::chosen(8, 1, 0).is_err());
    }

    /// Two vaults made once for the properties below: a derivation per case would be most of
    /// their time, and what is tested is sealing, not the key derivation.
    pub(super) fn shared() -> &'static (Vault, Vault) {
        static VAULTS: std::sync::OnceLock<(Vault, Vault)> = std::sync::OnceLock::new();
        VAULTS.get_or_init(|| {
            let a = Vault::create(&pass("pw"), CHEAP).expect("a");
            let b = Vault::create(&pass("pw"), CHEAP).expect("b");
            (a, b)
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// A sealed secret opens as itself, only for its own token in its own vault, and not
        /// with any bit of it changed.
        #[test]
        fn seal_and_open_round_trip_and_nothing_else_opens(
            secret in ".{0,80}",
            id in "[ -~]{0,40}",
            other in "[ -~]{0,40}",
        ) {
            let (v, w) = shared();
            let sealed = v.seal(&id, &secret);
            let opened = v.open(&id, &sealed).expect("opens");
            proptest::prop_assert_eq!(opened.as_str(), secret.as_str());
            if other != id {
                proptest::prop_assert!(v.open(&other, &sealed).is_err());
            }
            proptest::prop_assert!(w.open(&id, &sealed).is_err());
            // Sealing twice gives other bytes (a fresh nonce), which open alike.
            let again = v.seal(&id, &secret);
            proptest::prop_assert_ne!(&again, &sealed);
            let opened = v.open(&id, &again).expect("opens");
            proptest::prop_assert_eq!(opened.as_str(), secret.as_str());
            for bit in 0..sealed.len() * 8 {
                let mut bad = sealed.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                proptest::prop_assert!(v.open_bytes(&id, &bad).is_err(), "bit {} went unnoticed", bit);
            }
            proptest::prop_assert!(v.open_bytes(&id, &sealed[..sealed.len() - 1]).is_err());
        }
    }

    #[test]
    fn debug_shows_no_key() {
        let v = Vault::create(&pass("pw"), CHEAP).expect("create");
        let shown = format!("{v:?}");
        assert!(!shown.contains(&hex::encode(*v.data_key)));
        assert!(!shown.contains("data_key"));
    }
}
