//! Backup and restore on the store's side: reading every stored record and event under the
//! lock, and building a store afresh from a checked backup (`crate::backup` is the file).
//!
//! A restore never writes into the store it replaces: it builds the new store in a directory
//! beside it, makes it durable, and only then swaps the two directories (with the old store's
//! lock held), keeping the old one under a dated name. A crash at any point leaves either the
//! old store in place or the new one, never a mix.

use crate::engine::{Engine as _, Tokens as _};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sled::Transactional;

use super::open::{MadeDirs, exists, lock_store, sync_dir};
use super::vault::{VAULT_HEADER, secret_key};
use super::{GENERATION_KEY, LOG_HEAD_KEY, OpenMode, Store};
use crate::backup::Backup;
use crate::chain::Head;
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::record::{EventKind, Status};
use crate::token::TokenHash;

/// Records and events written per transaction: sled holds a transaction's writes in memory.
const CHUNK: usize = 4096;

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub records: usize,
    pub events: usize,
    pub kept: usize,
    /// Where the store it replaced was moved, if there was one.
    pub replaced: Option<PathBuf>,
}

impl Store {
    /// How many records and events the store holds, and whether it has a vault.
    ///
    /// # Errors
    /// The store's own errors.
    pub fn contents(&self) -> Result<(u64, u64, bool)> {
        Ok((
            self.tokens.len() as u64,
            self.log.len() as u64,
            self.vault_header()?.is_some(),
        ))
    }

    /// Calls `f` with every record's stored bytes, in key order.
    ///
    /// # Errors
    /// The store's own errors, and `f`'s.
    pub fn each_stored_record(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        for item in self.tokens.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            f(&bytes)?;
        }
        Ok(())
    }

    /// Calls `f` with every audit event's stored bytes, oldest first.
    ///
    /// # Errors
    /// The store's own errors, and `f`'s.
    pub fn each_stored_event(&self, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        for item in self.log.iter() {
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            f(&bytes)?;
        }
        Ok(())
    }

    /// Fills a store made by this very open (empty) from `backup`: every record and event as
    /// stored (so the audit chain checks), the name and hash indexes, the vault's header and
    /// kept secrets as the backup's vault export holds them, then a `restored` event.
    fn fill(&self, backup: &Backup, from: &Path) -> Result<usize> {
        // A count never goes down, not even by a restore: uses granted after the backup was
        // taken stay spent. Any of this user's stores' witnesses counts, as for `import`, not
        // only the one the header names: a header's `store_id` is as easily changed as the
        // hash that ends the file is recomputed.
        let witness = crate::uses::witness::by_any_store();
        let raised: Vec<(Vec<u8>, crate::record::Record)> = backup
            .records
            .iter()
            .filter_map(|(_, r)| {
                let seen = *witness.get(&r.id)?;
                (r.max_uses.is_some() && seen > r.use_count).then(|| {
                    let mut r = r.clone();
                    r.use_count = seen;
                    (r.to_bytes(), r)
                })
            })
            .collect();
        let raised_ids: std::collections::HashSet<&str> =
            raised.iter().map(|(_, r)| r.id.as_str()).collect();
        let mut records: Vec<&(Vec<u8>, crate::record::Record)> = backup
            .records
            .iter()
            .filter(|(_, r)| !raised_ids.contains(r.id.as_str()))
            .chain(raised.iter())
            .collect();
        records.sort_by_key(|(_, r)| (r.created_at, r.seq));
        let mut names: std::collections::HashSet<String> = Default::default();
        for chunk in records.chunks(CHUNK) {
            let mut claims = Vec::new();
            for (_, r) in chunk {
                if r.status == Status::Active && names.insert(name_key(&r.name)) {
                    claims.push(name_key(&r.name));
                } else {
                    claims.push(String::new());
                }
            }
            let result = (&self.tokens, &self.by_hash, &self.by_name).transaction(
                |(tokens, by_hash, by_name)| {
                    for ((stored, r), claim) in chunk.iter().zip(&claims) {
                        let hash = TokenHash::from_hex(&r.sha256).ok_or_else(|| {
                            sled::transaction::ConflictableTransactionError::Abort(
                                super::tx::Abort::HashTaken,
                            )
                        })?;
                        if by_hash.insert(&hash.0, r.id.as_bytes())?.is_some()
                            || tokens.insert(r.id.as_bytes(), stored.as_slice())?.is_some()
                        {
                            return super::tx::abort(super::tx::Abort::HashTaken);
                        }
                        if !claim.is_empty() {
                            by_name.insert(claim.as_bytes(), r.id.as_bytes())?;
                        }
                    }
                    Ok(())
                },
            );
            result.map_err(|_| {
                Error::usage(format!(
                    "{} holds two records with one id or one token: it cannot be restored",
                    from.display()
                ))
            })?;
        }
        let mut key = 0u64;
        for chunk in backup.events.chunks(CHUNK) {
            let first = key;
            let result = (&self.log, &self.meta).transaction(|(log, meta)| {
                let mut k = first;
                let mut last = None;
                for stored in chunk {
                    k += 1;
                    log.insert(&k.to_be_bytes(), stored.as_slice())?;
                    last = Some(Head {
                        key: k,
                        hash: crate::chain::hash(stored),
                    });
                }
                if let Some(h) = &last {
                    meta.insert(LOG_HEAD_KEY, &h.encode()[..])?;
                }
                Ok(k)
            });
            key = result.map_err(|e| self.tx_error(e))?;
        }
        let mut kept = 0;
        if let Some(sealed) = &backup.vault {
            // Put back sealed as it was: the passphrase is needed only to reveal.
            let ours: std::collections::HashSet<&str> =
                backup.records.iter().map(|(_, r)| r.id.as_str()).collect();
            let secrets: Vec<(&str, &[u8])> = sealed
                .secrets()
                .iter()
                .map(|(id, s)| (id.as_str(), s.as_slice()))
                .filter(|(id, _)| ours.contains(id))
                .collect();
            kept = secrets.len();
            let result = (&self.vault,).transaction(|(vault,)| {
                vault.insert(VAULT_HEADER, sealed.header())?;
                for (id, sealed) in &secrets {
                    vault.insert(secret_key(id), *sealed)?;
                }
                Ok(())
            });
            result.map_err(|e| self.tx_error(e))?;
        }
        self.meta
            .insert(GENERATION_KEY, &1u64.to_be_bytes())
            .map_err(|e| self.sled(e))?;
        self.rebuild_index_at(1)?;
        let mut event = self.event(EventKind::Restored, None, None);
        event.detail = Some(format!(
            "from a backup of store {} taken at {} by {}",
            backup.head.store_id, backup.head.taken_at, backup.head.taken_by
        ));
        self.append_event(&event)?;
        self.make_durable()?;
        Ok(kept)
    }
}

/// Restores `backup` (read from `from`) into `dir`: a new store built beside it, then moved into
/// place. A store already in `dir` that holds anything (or cannot be opened to tell) is
/// refused unless `force`; replaced, it is kept as `DIR.before-restore-<time>` (with `-2`, `-3`…
/// after it when that is taken).
///
/// # Errors
/// [`Error::Usage`] for a non-empty store without `force`, or a backup that cannot be restored;
/// [`Error::Busy`] when the store is in use past `wait`; the store's own errors.
pub fn restore(
    dir: &Path,
    backup: &Backup,
    from: &Path,
    force: bool,
    wait: Duration,
) -> Result<Restored> {
    let present = exists(&dir.join(super::MARKER_FILE))? || exists(&dir.join("db"))?;
    if present {
        let holds = match Store::open(dir, OpenMode::Existing, wait) {
            Ok(store) => {
                let (records, events, vault) = store.contents()?;
                (records > 0 || events > 0 || vault)
                    .then(|| format!("it holds {records} token record(s) and {events} event(s)"))
            }
            Err(e @ Error::Busy { .. }) => return Err(e),
            Err(e) => Some(format!("it cannot be opened ({e})")),
        };
        if let Some(what) = holds
            && !force
        {
            return Err(Error::usage(format!(
                "the store at {} is not empty ({what}): pass --force to replace it (it is kept beside it)",
                dir.display()
            )));
        }
    } else if dir.exists()
        && fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::usage(format!(
            "{} holds files but no store: restore into an empty or new directory",
            dir.display()
        )));
    }
    let name = dir
        .file_name()
        .ok_or_else(|| Error::usage(format!("{} cannot hold a store", dir.display())))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    // Declared before the temp, so dropped after it: a restore that fails or is stopped leaves
    // neither the half-built store nor the directories made for it.
    let made = MadeDirs::make(&parent)?;
    // A short temp name (the store's own may be as long as the file system allows), registered
    // so that a signal removes it; one a `kill -9` left is removed first.
    crate::cleanup::sweep(&parent);
    let temp = crate::cleanup::Temp::new(&parent);
    let building = temp.path().to_owned();
    let built = (|| {
        let store = Store::open(&building, OpenMode::Create, wait)?;
        let kept = store.fill(backup, from)?;
        drop(store);
        crate::trust::give_like(&building, dir);
        crate::fault::hold("restore-built");
        Ok::<usize, Error>(kept)
    })();
    // On an error the temp is dropped, and with it the half-built store.
    let kept = built?;
    let mut replaced = None;
    let swap = (|| {
        // The old store's lock, held across the swap: no command is using it meanwhile.
        let _lock = match present {
            true => Some(lock_store(dir, Instant::now() + wait, wait)?),
            false => None,
        };
        // From here the restored store goes in: a signal no longer stops the command.
        crate::cleanup::commit();
        if present {
            // A name nothing has: a second restore within the same second, or a store put
            // aside before, keeps its own (a rename onto an empty directory would take its
            // place, onto a full one fail).
            let second = crate::time::Time::now().as_second();
            let aside = (1..)
                .map(|n| {
                    let suffix = match n {
                        1 => format!(".before-restore-{second}"),
                        n => format!(".before-restore-{second}-{n}"),
                    };
                    parent.join(aside_name(&name, &suffix))
                })
                .find(|p| fs::symlink_metadata(p).is_err())
                .expect("some name is free");
            fs::rename(dir, &aside).map_err(|e| {
                Error::io_at(format!("cannot move {} aside", dir.display()), dir, e)
            })?;
            replaced = Some(aside);
        } else if dir.exists() {
            // An empty directory: the new store takes its place.
            fs::remove_dir(dir)
                .map_err(|e| Error::io_at(format!("cannot replace {}", dir.display()), dir, e))?;
        }
        fs::rename(&building, dir).map_err(|e| {
            Error::io_at(
                format!("cannot move the restored store to {}", dir.display()),
                dir,
                e,
            )
        })?;
        sync_dir(&parent)?;
        crate::fault::pause("restore-swapped");
        Ok(())
    })();
    if swap.is_ok() || replaced.is_some() {
        // In place, or the only whole copy of the restored store now that the old one is
        // aside: not ours to remove.
        temp.keep();
        made.keep();
    }
    swap?;
    Ok(Restored {
        records: backup.records.len(),
        events: backup.events.len(),
        kept,
        replaced,
    })
}

/// The longest file name Linux file systems take, in bytes (`NAME_MAX`).
const NAME_MAX: usize = 255;

/// `name` followed by `suffix`, with `name` cut short (at a character boundary) when the two
/// would pass [`NAME_MAX`]: a store whose name is as long as allowed can still be put aside.
fn aside_name(name: &str, suffix: &str) -> String {
    let mut end = name.len().min(NAME_MAX.saturating_sub(suffix.len()));
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &name[..end])
}

/// Where the store notes its last backup, beside sled, so `doctor` can point to it even when
/// sled cannot open.
pub const LAST_BACKUP_FILE: &str = "last-backup";

/// Notes the backup just written (its path and time) in the store directory.
///
/// # Errors
/// [`Error::Io`].
pub fn note_backup(dir: &Path, file: &Path, at: crate::time::Time) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(LAST_BACKUP_FILE);
    let temp = dir.join(format!("{LAST_BACKUP_FILE}.tmp"));
    let text = format!("{at}\t{}\n", crate::paths::path_text(file));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&temp, &path)
    };
    write().map_err(|e| {
        Error::io_at(
            format!("cannot note the backup in {}", dir.display()),
            dir,
            e,
        )
    })?;
    sync_dir(dir)
}

/// The last backup noted in `dir`: its time and path, as written.
pub fn last_backup(dir: &Path) -> Option<(String, String)> {
    let text = fs::read_to_string(dir.join(LAST_BACKUP_FILE)).ok()?;
    let (at, path) = text.trim_end().split_once('\t')?;
    Some((at.to_owned(), path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aside_name_fits_whatever_the_store_is_called() {
        assert_eq!(aside_name("s", ".before-restore-1"), "s.before-restore-1");
        let long = "é".repeat(127) + "x"; // 255 bytes
        let aside = aside_name(&long, ".before-restore-1700000000");
        assert_eq!(aside.len(), 254, "cut at a character boundary");
        assert!(aside.ends_with(".before-restore-1700000000"));
    }
}
