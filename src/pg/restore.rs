//! Restoring a backup (`crate::backup`, checked as it was read) into a PostgreSQL store, in one
//! transaction: a store that holds anything is moved aside whole (its schema renamed
//! `vbx_tokens_before_restore_<unix time>`) only with `force`, a new schema is made and filled,
//! and all of it commits at once or not at all. Other hosts see the old store until the
//! commit, and the new one after it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::config::Target;
use super::connect::{connect, failure};
use super::{log, schema, tokens};
use crate::backup::Backup;
use crate::error::{Error, Result};
use crate::record::{Event, EventKind};
use crate::store::Restored;
use crate::time::Time;

/// Restores `backup` (read from `from`) into the store at `target`. A store there that holds
/// anything is refused unless `force`; replaced, its schema is kept under another name.
///
/// # Errors
/// [`Error::Usage`] for a store that is not empty without `force`, or a backup that cannot be
/// restored (two active tokens of one name, one token twice); the server's errors. Nothing is
/// changed then.
pub fn restore(target: &Target, backup: &Backup, from: &Path, force: bool) -> Result<Restored> {
    let fail = |e: postgres::Error| failure(target, &e);
    let actor = crate::store::current_user();
    let mut client = connect(target)?;
    // Present and current (or moved on to this build's step), so what it holds can be read.
    let present = schema::open(&mut client, target, &actor, false)? != schema::Opened::Missing;
    let mut tx = client.transaction().map_err(fail)?;
    // No other writer meanwhile, on any host (`super::store`): held to the commit.
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&super::store::WRITER_KEY],
    )
    .map_err(fail)?;
    let mut replaced = None;
    if present {
        let row = tx
            .query_one(
                "SELECT (SELECT count(*) FROM vbx_tokens.tokens),
                        (SELECT count(*) FROM vbx_tokens.events),
                        EXISTS (SELECT 1 FROM vbx_tokens.vault WHERE key = 'header'
                                AND length(bytes) > 0)",
                &[],
            )
            .map_err(fail)?;
        let (records, events, vault): (i64, i64, bool) = (row.get(0), row.get(1), row.get(2));
        if records > 0 || events > 0 || vault {
            if !force {
                return Err(Error::usage(format!(
                    "the store at {} is not empty (it holds {records} token record(s) and {events} event(s)): pass --force to replace it (it is kept beside it)",
                    target.shown()
                )));
            }
            let aside = format!("vbx_tokens_before_restore_{}", Time::now().as_second());
            tx.batch_execute(&format!("ALTER SCHEMA vbx_tokens RENAME TO {aside}"))
                .map_err(fail)?;
            replaced = Some(PathBuf::from(aside));
        } else {
            tx.batch_execute("DROP SCHEMA vbx_tokens CASCADE")
                .map_err(fail)?;
        }
    }
    // A use limit's count never goes down, not even by a restore: uses the replaced store
    // counted after the backup was taken stay spent.
    let mut counted = std::collections::HashMap::new();
    if let Some(aside) = &replaced {
        for row in tx
            .query(
                &format!("SELECT id, use_count FROM {}.uses", aside.display()),
                &[],
            )
            .map_err(fail)?
        {
            let n = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            counted.insert(row.get::<_, String>(0), n);
        }
    }
    schema::ensure_in(&mut tx, target, &actor)?;
    let kept = fill(&mut tx, target, backup, from, &actor, &counted)?;
    // The point of no return: a signal from here on lets the restore finish and be reported.
    crate::cleanup::commit();
    tx.commit().map_err(fail)?;
    Ok(Restored {
        records: backup.records.len(),
        events: backup.events.len(),
        kept,
        replaced,
    })
}

/// Fills the new schema in `tx`: every record, every event as stored (so the chain checks),
/// the vault sealed as it was, then a `restored` event. The number of kept secrets.
fn fill(
    tx: &mut postgres::Transaction<'_>,
    target: &Target,
    backup: &Backup,
    from: &Path,
    actor: &str,
    counted: &std::collections::HashMap<String, u64>,
) -> Result<usize> {
    let fail = |e: postgres::Error| failure(target, &e);
    // Nor uses any witness of this user's directory stores saw granted (as the directory
    // store's restore does).
    let witness = crate::uses::witness::by_any_store();
    let mut records = Vec::with_capacity(backup.records.len());
    for (_, r) in &backup.records {
        let mut r = r.clone();
        if r.max_uses.is_some()
            && let Some(&seen) = witness.get(&r.id)
        {
            r.use_count = r.use_count.max(seen);
        }
        // As the directory store's restore keeps them: only a limit needs a count that never
        // goes down.
        if r.max_uses.is_some()
            && let Some(&n) = counted.get(&r.id)
        {
            r.use_count = r.use_count.max(n);
        }
        records.push((r, None));
    }
    tokens::put_many(tx, target, &records).map_err(|e| match e {
        Error::Usage(why) => Error::usage(format!(
            "{} cannot be restored: {why}; nothing was changed",
            from.display()
        )),
        other => other,
    })?;
    tx.execute(
        "SELECT setval('vbx_tokens.record_seq',
             (SELECT coalesce(max(seq), 0) + 1 FROM vbx_tokens.tokens), false)",
        &[],
    )
    .map_err(fail)?;
    let head = log::put_all(tx, target, &backup.events)?;
    if let Some(head) = head {
        tx.execute(
            "INSERT INTO vbx_tokens.meta (key, value) VALUES ('log_head', $1)",
            &[&&head.encode()[..]],
        )
        .map_err(fail)?;
    }
    let mut kept = 0;
    if let Some(sealed) = &backup.vault {
        let ours: HashSet<&str> = backup.records.iter().map(|(_, r)| r.id.as_str()).collect();
        let put = "INSERT INTO vbx_tokens.vault (key, bytes) VALUES ($1, $2)";
        tx.execute(put, &[&"header", &sealed.header()])
            .map_err(fail)?;
        for (id, secret) in sealed.secrets() {
            if ours.contains(id.as_str()) {
                tx.execute(put, &[&format!("secret/{id}"), secret])
                    .map_err(fail)?;
                kept += 1;
            }
        }
    }
    let mut event = Event::new(EventKind::Restored, None, actor, Time::now());
    event.detail = Some(format!(
        "from a backup of store {} taken at {} by {}",
        backup.head.store_id, backup.head.taken_at, backup.head.taken_by
    ));
    log::append(tx, target, &event)?;
    Ok(kept)
}
