//! Token records: create, look up, list, revoke. Each change writes the verification index
//! first and then commits to sled (see `derived.rs` for why in that order).

use sled::Transactional;

use super::derived::index_record;
use super::tx::{Abort, abort, append, read_record};
use super::vault::{VAULT_HEADER, secret_key};
use super::{GENERATION_KEY, Store, damaged, new_id, now};
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::{EventKind, RECORD_VERSION, Record, Status};
use crate::token::Token;

/// The outcome of a revoke: the record as it now stands, and whether it was revoked already.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub record: Record,
    pub already: bool,
}

/// What `create --keep` needs from the vault: the header it unlocked (so a vault changed in
/// between is noticed) and a way to seal the new token for its id.
pub struct Keep<'a> {
    pub header: &'a [u8],
    pub seal: &'a dyn Fn(&str) -> Vec<u8>,
}

impl Store {
    /// Records a new token, with its `created` event, and makes it durable. With `keep`, the
    /// token's sealed plaintext (made by `keep` from the new id) commits in the same
    /// transaction, provided the vault header is still `keep`'s. The verification index gets
    /// the token after sled does.
    ///
    /// # Errors
    /// [`Error::Usage`] when an active token has a name that looks the same, or the token is
    /// already stored; [`Error::Vault`] when the vault changed; the store's own errors.
    pub fn create(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        keep: Option<Keep<'_>>,
    ) -> Result<Record> {
        let hash = token.hash();
        let key = name_key(name);
        // Checked before the index is written, so a refused create leaves it alone; the
        // transaction checks again, though with the lock held nothing can change in between.
        if let Some(holder) = self.by_name.get(key.as_bytes()).map_err(|e| self.sled(e))? {
            return Err(self.tx_error(sled::transaction::TransactionError::Abort(
                Abort::NameTaken {
                    name: name.to_owned(),
                    holder: String::from_utf8_lossy(&holder).into(),
                },
            )));
        }
        if self
            .by_hash
            .get(hash.0)
            .map_err(|e| self.sled(e))?
            .is_some()
        {
            return Err(Error::usage("that token is already in the store"));
        }
        // An id collision (1 in 2^41 per pair) only costs another draw.
        let id = loop {
            let id = new_id();
            if self.tokens.get(&id).map_err(|e| self.sled(e))?.is_none() {
                break id;
            }
        };
        let record = Record {
            v: RECORD_VERSION,
            id,
            seq: self.db.generate_id().map_err(|e| self.sled(e))?,
            name: name.to_owned(),
            note,
            sha256: hash.to_hex(),
            hint: token.hint(),
            created_at: now(),
            created_by: self.actor.clone(),
            status: Status::Active,
            revoked_at: None,
            last_used_at: None,
            use_count: 0,
            extra: Default::default(),
        };
        let event = self.event(EventKind::Created, Some(&record), None);
        let sealed = keep.as_ref().map(|k| (k.seal)(&record.id));
        if let Some(k) = &keep {
            let current = self.vault.get(VAULT_HEADER).map_err(|e| self.sled(e))?;
            if current.as_deref() != Some(k.header) {
                return Err(self.tx_error(sled::transaction::TransactionError::Abort(
                    Abort::VaultChanged,
                )));
            }
        }
        let generation = self.generation()? + 1;
        let trees = (
            &self.tokens,
            &self.by_hash,
            &self.by_name,
            &self.log,
            &self.vault,
            &self.meta,
        );
        let result = trees.transaction(|(tokens, by_hash, by_name, log, vault, meta)| {
            if tokens.get(&record.id)?.is_some() {
                return abort(Abort::IdTaken);
            }
            if by_hash.get(hash.0)?.is_some() {
                return abort(Abort::HashTaken);
            }
            if let Some(holder) = by_name.get(key.as_bytes())? {
                return abort(Abort::NameTaken {
                    name: record.name.clone(),
                    holder: String::from_utf8_lossy(&holder).into(),
                });
            }
            tokens.insert(record.id.as_bytes(), record.to_bytes())?;
            by_hash.insert(&hash.0, record.id.as_bytes())?;
            by_name.insert(key.as_bytes(), record.id.as_bytes())?;
            append(log, meta, &event)?;
            if let (Some(keep), Some(sealed)) = (&keep, &sealed) {
                if vault.get(VAULT_HEADER)?.as_deref() != Some(keep.header) {
                    return abort(Abort::VaultChanged);
                }
                vault.insert(secret_key(&record.id), sealed.as_slice())?;
            }
            meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
            Ok(())
        });
        result.map_err(|e| self.tx_error(e))?;
        crate::fault::point("create-committed");
        self.make_durable()?;
        crate::fault::point("create-durable");
        // A new token reaches the index after sled: a crash in between leaves the index behind
        // (rebuilt at the next open) and the token unknown, never a token verifying that the
        // store does not have.
        let indexed = index_record(&record).expect("a hash we made parses");
        self.update_index(&[indexed], generation)?;
        Ok(record)
    }

    /// One record by id.
    pub fn get(&self, id: &str) -> Result<Option<Record>> {
        match self.tokens.get(id).map_err(|e| self.sled(e))? {
            Some(bytes) => Record::from_bytes(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Finds a token by id, else by the name of an active token, else by the name of a revoked
    /// one (refusing to guess between several).
    pub fn resolve(&self, id_or_name: &str) -> Result<Record> {
        let given = id_or_name.trim();
        if let Some(record) = self.get(given)? {
            return Ok(record);
        }
        let key = name_key(given);
        if let Some(id) = self.by_name.get(key.as_bytes()).map_err(|e| self.sled(e))? {
            let id = String::from_utf8_lossy(&id);
            return self.get(&id)?.ok_or_else(|| {
                damaged(
                    &self.dir,
                    &format!("its name index points at a missing token {id}"),
                )
            });
        }
        let mut revoked: Vec<Record> = self
            .records()?
            .into_iter()
            .filter(|r| name_key(&r.name) == key)
            .collect();
        match revoked.len() {
            0 => Err(Error::not_found(given)),
            1 => Ok(revoked.remove(0)),
            n => Err(Error::usage(format!(
                "{n} revoked tokens are named {given:?} ({}): give an id instead",
                revoked
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Every record, oldest first.
    ///
    /// # Errors
    /// The store's own errors; a record that does not parse is damage.
    pub fn records(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.each_record(|r| {
            out.push(r);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Calls `f` with every record, oldest first, one at a time, until it returns `false`.
    /// Memory holds the stored bytes and the order, not parsed records.
    ///
    /// # Errors
    /// The store's own errors, and `f`'s.
    pub fn each_record(&self, mut f: impl FnMut(Record) -> Result<bool>) -> Result<()> {
        /// The fields that order records, read without the rest.
        #[derive(serde::Deserialize)]
        struct Order {
            #[serde(default)]
            seq: u64,
            created_at: crate::time::Time,
        }
        let mut order = Vec::new();
        for item in self.tokens.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            let o: Order = serde_json::from_slice(&bytes)
                .map_err(|e| damaged(&self.dir, &format!("a token record does not parse ({e})")))?;
            order.push((o.created_at, o.seq, bytes));
        }
        order.sort_unstable_by_key(|o| (o.0, o.1));
        for (_, _, bytes) in order {
            if !f(Record::from_bytes(&bytes)?)? {
                break;
            }
        }
        Ok(())
    }

    /// Revokes a token at once, with its `revoked` event, and makes it durable. Revoking a
    /// revoked token changes nothing and says so. The verification index says "revoked" before
    /// sled does, so the revoke may take effect early (if this crashes) but never late.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id; the store's own errors.
    pub fn revoke(&self, id: &str) -> Result<Revoked> {
        let at = now();
        let current = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        if current.status == Status::Revoked {
            return Ok(Revoked {
                record: current,
                already: true,
            });
        }
        let mut revoked = current;
        revoked.status = Status::Revoked;
        revoked.revoked_at = Some(at);
        let generation = self.generation()? + 1;
        // A revoke reaches the index before sled: if this stops half-way, the revoke may have
        // taken effect early, never late.
        if let Some(indexed) = index_record(&revoked) {
            self.update_index(&[indexed], generation)?;
        }
        crate::fault::point("revoke-indexed");
        let result = (
            &self.tokens,
            &self.by_name,
            &self.log,
            &self.vault,
            &self.meta,
        )
            .transaction(|(tokens, by_name, log, vault, meta)| {
                let mut record = read_record(tokens, id)?;
                record.status = Status::Revoked;
                record.revoked_at = Some(at);
                tokens.insert(record.id.as_bytes(), record.to_bytes())?;
                // Free the name for reuse, unless the index already points elsewhere.
                let key = name_key(&record.name);
                if by_name.get(key.as_bytes())?.as_deref() == Some(record.id.as_bytes()) {
                    by_name.remove(key.as_bytes())?;
                }
                // A revoked token's kept secret is worthless and still a secret: erase it.
                vault.remove(secret_key(&record.id))?;
                append(
                    log,
                    meta,
                    &self.event(EventKind::Revoked, Some(&record), None),
                )?;
                meta.insert(GENERATION_KEY, &generation.to_be_bytes())?;
                Ok(record)
            });
        let record = result.map_err(|e| self.tx_error(e))?;
        crate::fault::point("revoke-committed");
        self.make_durable()?;
        crate::fault::point("revoke-durable");
        Ok(Revoked {
            record,
            already: false,
        })
    }
}
