//! The export file: the header, every sealed record, and a trailer that authenticates them all
//! (README, "The vault export format").

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead, Payload};
use zeroize::Zeroizing;

use super::{HEADER_LEN, Header, NONCE_LEN, Result, TAG_LEN, Vault, cipher, random, unauthentic};

impl Vault {
    /// The whole vault as one file: header, records, and a trailer that authenticates every
    /// byte before it, so a changed, dropped or reordered record refuses the whole file.
    pub fn export(&self, records: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut out = self.header.to_bytes();
        let count = u32::try_from(records.len()).expect("fewer than 2^32 records");
        out.extend_from_slice(&count.to_be_bytes());
        for (id, sealed) in records {
            let id_len = u8::try_from(id.len()).expect("token ids are short");
            out.push(id_len);
            out.extend_from_slice(id.as_bytes());
            let len = u32::try_from(sealed.len()).expect("records are small");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(sealed);
        }
        let nonce = random::<NONCE_LEN>();
        let tag = cipher(&self.data_key)
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &[],
                    aad: &out,
                },
            )
            .expect("sealing an empty message cannot fail");
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&tag);
        out
    }
}

/// An export file, parsed but not yet authenticated. The records are kept as places in the
/// file's bytes, so a large file is held once.
#[derive(Debug)]
pub struct Export {
    header: Vec<u8>,
    records: Vec<(String, std::ops::Range<usize>)>,
    /// Every byte before the trailer: the trailer's associated data.
    body_len: usize,
    bytes: Vec<u8>,
}

impl Export {
    /// Parses the layout strictly: any leftover or missing byte is damage.
    pub fn parse(bytes: Vec<u8>) -> Result<Export> {
        let mut r = Reader {
            bytes: &bytes,
            at: 0,
        };
        let header = r.take(HEADER_LEN)?.to_vec();
        Header::parse(&header)?;
        // What `vault import` into a store with no vault keeps as it is.
        super::token_free("the export", &bytes)?;
        let count = r.u32()?;
        let mut records = Vec::new();
        for _ in 0..count {
            let id_len = r.take(1)?[0] as usize;
            let id = std::str::from_utf8(r.take(id_len)?)
                .map_err(|_| unauthentic("a record's token id is not text"))?
                .to_owned();
            let len = r.u32()? as usize;
            let start = r.at;
            r.take(len)?;
            records.push((id, start..r.at));
        }
        let body_len = r.at;
        r.take(NONCE_LEN + TAG_LEN)?;
        if r.at != bytes.len() {
            return Err(unauthentic("the file has bytes after its end"));
        }
        Ok(Export {
            header,
            records,
            body_len,
            bytes,
        })
    }

    /// The file's own header, to unlock with the file's passphrase.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Checks the trailer and every record with the file's vault, and returns each token id
    /// with its secret's bytes, in file order. Any failure refuses the whole file.
    ///
    /// # Errors
    /// [`super::VaultError::Unauthentic`] naming what failed.
    pub fn open(&self, vault: &Vault) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        if vault.header.to_bytes() != self.header {
            return Err(unauthentic("the file was not made by this vault"));
        }
        let (body, trailer) = self.bytes.split_at(self.body_len);
        let (nonce, tag) = trailer.split_at(NONCE_LEN);
        cipher(&vault.data_key)
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: tag,
                    aad: body,
                },
            )
            .map_err(|_| unauthentic("the export does not authenticate"))?;
        self.sealed_records()
            .map(|(id, sealed)| Ok((id.to_owned(), vault.open_bytes(id, sealed)?)))
            .collect()
    }

    /// The sealed records as they are (token id, sealed bytes), in file order, for adopting
    /// the file's vault unchanged.
    pub fn sealed_records(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.records
            .iter()
            .map(|(id, range)| (id.as_str(), &self.bytes[range.clone()]))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| unauthentic("the file is cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::tests::{CHEAP, pass, shared};

    #[test]
    fn every_flipped_byte_of_an_export_is_refused() {
        let v = Vault::create(&pass("pw"), CHEAP).expect("create");
        let records = vec![
            ("tok_a".to_owned(), v.seal("tok_a", "one")),
            ("tok_b".to_owned(), v.seal("tok_b", "two")),
        ];
        let file = v.export(&records);
        let opened = Export::parse(file.clone())
            .expect("parse")
            .open(&v)
            .expect("opens");
        assert_eq!(opened.len(), 2);
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            let result = Export::parse(bad).and_then(|e| {
                let vault = Vault::unlock(e.header(), &pass("pw"))?;
                e.open(&vault)
            });
            assert!(result.is_err(), "flipping byte {i} went unnoticed");
        }
        assert!(Export::parse(file[..file.len() - 1].to_vec()).is_err());
        let mut longer = file.clone();
        longer.push(0);
        assert!(Export::parse(longer).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

        /// Every single-bit flip of an export, whatever its records, is refused: the file's
        /// trailer authenticates every byte before it, and the header carries its own checksum.
        /// The only acceptable "success" would be the original secrets, exactly.
        #[test]
        fn every_flipped_bit_of_any_export_is_refused_never_misread(
            records in proptest::collection::vec(("tok_[0-9a-z]{8}", ".{0,40}"), 0..4),
        ) {
            let (v, _) = shared();
            let sealed: Vec<(String, Vec<u8>)> = records
                .iter()
                .map(|(id, secret)| (id.clone(), v.seal(id, secret)))
                .collect();
            let file = v.export(&sealed);
            let original: Vec<(String, Vec<u8>)> = records
                .iter()
                .map(|(id, secret)| (id.clone(), secret.as_bytes().to_vec()))
                .collect();
            let read = |bytes: Vec<u8>| {
                let e = Export::parse(bytes)?;
                // An unchanged header unlocks to this same vault: reuse it rather than pay a
                // key derivation per flipped bit. A changed one takes the real path.
                let unlocked;
                let vault = if e.header() == v.header().to_bytes() {
                    v
                } else {
                    unlocked = Vault::unlock(e.header(), &pass("pw"))?;
                    &unlocked
                };
                e.open(vault).map(|opened| {
                    opened
                        .into_iter()
                        .map(|(id, secret)| (id, secret.to_vec()))
                        .collect::<Vec<_>>()
                })
            };
            proptest::prop_assert_eq!(read(file.clone()).expect("opens"), original.clone());
            for bit in 0..file.len() * 8 {
                let mut bad = file.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                match read(bad) {
                    Err(_) => {}
                    Ok(got) => proptest::prop_assert_eq!(got, original.clone(), "bit {}", bit),
                }
            }
        }
    }
}
