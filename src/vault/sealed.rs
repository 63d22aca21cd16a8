//! The vault as a backup carries it: sealed, exactly as the store holds it (the header with its
//! KDF parameters and wrapped key, and each token's sealed secret). Copying it needs no
//! passphrase, so a backup from cron holds none; the passphrase is needed only to reveal.
//!
//! ```text
//! header (163) · count u32 · count × (id length u8 · id · sealed length u32 · sealed)
//! ```
//!
//! Integers big-endian, as in the export. Unlike an export it has no trailer: making one takes
//! the data key. What stands for it: the backup's own SHA-256 covers every byte (damage), the
//! header carries its checksum, and each secret is sealed with its vault id and token id as
//! associated data, so a secret that was changed, or moved to another token or vault, does not
//! open on the day it is revealed.

use super::{Header, NONCE_LEN, Result, TAG_LEN, export::Export, unauthentic};

/// A token id is at most this long in the layout (its length is one byte).
const MAX_ID_LEN: usize = u8::MAX as usize;

/// A vault's bytes as stored: the header and every kept secret, sealed, by token id.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    header: Vec<u8>,
    secrets: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Sealed {
    /// The vault as the store holds it: its header bytes and each secret as sealed.
    ///
    /// # Errors
    /// [`super::VaultError`] when the header does not parse, an id is not a token id, a
    /// sealed secret is too short to be one or holds a token in plaintext, or an id appears
    /// twice.
    pub fn new(header: Vec<u8>, secrets: Vec<(String, Vec<u8>)>) -> Result<Sealed> {
        Header::parse(&header)?;
        if header.len() != super::HEADER_LEN {
            return Err(unauthentic("the vault header has bytes after its end"));
        }
        super::token_free("the vault header", &header)?;
        let mut seen = std::collections::HashSet::new();
        for (id, sealed) in &secrets {
            if id.is_empty() || id.len() > MAX_ID_LEN {
                return Err(unauthentic("a kept secret's token id is empty or too long"));
            }
            // Only ids and ciphertext reach the store's disk from here: a forged backup must
            // not put a token there in plaintext, in the id or in the "sealed" bytes.
            if !crate::store::looks_like_id(id) {
                return Err(unauthentic("a kept secret's token id is not a token id"));
            }
            if crate::name::holds_token(&String::from_utf8_lossy(sealed)) {
                return Err(unauthentic(format!(
                    "the kept secret of {id} holds a token in plaintext: a sealed secret never does"
                )));
            }
            if sealed.len() < NONCE_LEN + TAG_LEN {
                return Err(unauthentic(format!(
                    "the kept secret of {id} is too short to be sealed"
                )));
            }
            if !seen.insert(id.as_str()) {
                return Err(unauthentic(format!("two kept secrets for {id}")));
            }
        }
        Ok(Sealed { header, secrets })
    }

    /// The vault held by an export file (backup format 1 carried one): its header and sealed
    /// secrets, checked for layout only. Its trailer is not checked, as that takes the
    /// passphrase; the backup's checksum covers the bytes.
    ///
    /// # Errors
    /// As [`Sealed::new`], and when the export's layout is wrong.
    pub fn from_export(bytes: Vec<u8>) -> Result<Sealed> {
        let export = Export::parse(bytes)?;
        let secrets = export
            .sealed_records()
            .map(|(id, sealed)| (id.to_owned(), sealed.to_vec()))
            .collect();
        Sealed::new(export.header().to_vec(), secrets)
    }

    /// Reads the layout strictly: any leftover or missing byte is damage.
    ///
    /// # Errors
    /// As [`Sealed::new`], and when the bytes are cut short, left over or an id is not text.
    pub fn parse(bytes: &[u8]) -> Result<Sealed> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8]> {
            let end = at.checked_add(n).filter(|&e| e <= bytes.len());
            let end = end.ok_or_else(|| unauthentic("the vault is cut short"))?;
            let out = &bytes[at..end];
            at = end;
            Ok(out)
        };
        let u32_of = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize;
        let header = take(super::HEADER_LEN)?.to_vec();
        let count = u32_of(take(4)?);
        let mut secrets = Vec::new();
        for _ in 0..count {
            let id_len = take(1)?[0] as usize;
            let id = std::str::from_utf8(take(id_len)?)
                .map_err(|_| unauthentic("a kept secret's token id is not text"))?
                .to_owned();
            let len = u32_of(take(4)?);
            secrets.push((id, take(len)?.to_vec()));
        }
        if at != bytes.len() {
            return Err(unauthentic("the vault has bytes after its end"));
        }
        Sealed::new(header, secrets)
    }

    /// The layout above.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header.clone();
        let count = u32::try_from(self.secrets.len()).expect("fewer than 2^32 secrets");
        out.extend_from_slice(&count.to_be_bytes());
        for (id, sealed) in &self.secrets {
            out.push(u8::try_from(id.len()).expect("checked in new"));
            out.extend_from_slice(id.as_bytes());
            let len = u32::try_from(sealed.len()).expect("secrets are small");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(sealed);
        }
        out
    }

    /// The header's bytes, as stored.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Each kept secret, sealed, by token id.
    pub fn secrets(&self) -> &[(String, Vec<u8>)] {
        &self.secrets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::Vault;
    use crate::vault::tests::{CHEAP, pass};

    #[test]
    fn a_sealed_vault_round_trips_and_opens_only_with_the_passphrase() {
        let v = Vault::create(&pass("pw"), CHEAP).expect("create");
        let secrets = vec![
            ("tok_aaaaaaaa".to_owned(), v.seal("tok_aaaaaaaa", "one")),
            ("tok_bbbbbbbb".to_owned(), v.seal("tok_bbbbbbbb", "two")),
        ];
        let sealed = Sealed::new(v.header().to_bytes(), secrets).expect("well-formed");
        let bytes = sealed.to_bytes();
        let back = Sealed::parse(&bytes).expect("parses");
        assert_eq!(back, sealed);
        let opened = Vault::unlock(back.header(), &pass("pw")).expect("unlocks");
        assert_eq!(
            *opened
                .open("tok_bbbbbbbb", &back.secrets()[1].1)
                .expect("opens"),
            "two"
        );
        assert!(Vault::unlock(back.header(), &pass("not it")).is_err());
        // A secret moved to another token does not open.
        assert!(opened.open("tok_aaaaaaaa", &back.secrets()[1].1).is_err());
        // The layout of a v1 backup's vault (an export) gives the same sealed vault.
        let export = v.export(sealed.secrets());
        assert_eq!(Sealed::from_export(export).expect("export"), sealed);
    }

    #[test]
    fn a_sealed_vault_that_is_not_well_formed_is_refused() {
        let v = Vault::create(&pass("pw"), CHEAP).expect("create");
        let good = Sealed::new(
            v.header().to_bytes(),
            vec![("tok_aaaaaaaa".to_owned(), v.seal("tok_aaaaaaaa", "one"))],
        )
        .expect("well-formed")
        .to_bytes();
        for cut in [0, 10, 163, 167, good.len() - 1] {
            assert!(Sealed::parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(Sealed::parse(&longer).is_err());
        let mut header = good.clone();
        header[40] ^= 1;
        assert!(Sealed::parse(&header).is_err(), "the header's checksum");
        let header = v.header().to_bytes();
        assert!(Sealed::new(header.clone(), vec![("tok_aaaaaaaa".into(), vec![0; 39])]).is_err());
        assert!(Sealed::new(header.clone(), vec![(String::new(), vec![0; 40])]).is_err());
        assert!(Sealed::new(header.clone(), vec![("tok_a".into(), vec![0; 40])]).is_err());
        let plain = [&[0u8; 24][..], crate::Token::generate().expose().as_bytes()].concat();
        assert!(Sealed::new(header.clone(), vec![("tok_aaaaaaaa".into(), plain)]).is_err());
        let twice = vec![
            ("tok_tttttttt".to_owned(), vec![0; 40]),
            ("tok_tttttttt".to_owned(), vec![0; 40]),
        ];
        assert!(Sealed::new(header, twice).is_err());
    }
}
