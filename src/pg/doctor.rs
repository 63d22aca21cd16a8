//! `doctor` on a PostgreSQL store: the checks that mean something there. The server keeps the
//! indexes a directory store derives (unique `id`, `sha256` and active name), so what is left
//! is what a record, the vault and the audit log say of themselves: every record parses, the
//! vault's header parses and every kept secret has a live token (one that has not is erased),
//! every record has its row of uses and every row of uses its record (schema step 9; either
//! left alone is made good), and the chain is whole. The schema's step was checked by opening it.

use std::collections::HashMap;

use super::config::Target;
use super::store::Store;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::record::{Record, Status};
use crate::store::{Diagnosis, Finding, Health, OpenMode};

fn found(check: &'static str, health: Health, detail: impl Into<String>) -> Finding {
    Finding {
        check,
        health,
        detail: detail.into(),
    }
}

/// Gives every record its row of `vbx_tokens.uses` and drops the rows of none: only a change
/// made by hand leaves either (every write of this build sets both in one statement or
/// transaction). A lost count cannot be known again (a verify counts in the row alone, so
/// the record's JSON holds the count of its last write): a token with a use limit is made
/// spent, since a count never goes down, and one without takes its record's count. Either
/// is a failure: uses were lost.
fn uses(store: &Store, target: &Target) -> Result<Finding> {
    let row = store
        .client()
        .query_one(
            "WITH made AS (
                 INSERT INTO vbx_tokens.uses (id, use_count)
                 SELECT t.id, vbx_tokens.lost_count(t.max_uses, t.record)
                 FROM vbx_tokens.tokens t
                 WHERE NOT EXISTS (SELECT 1 FROM vbx_tokens.uses u WHERE u.id = t.id)
                 RETURNING 1),
             gone AS (
                 DELETE FROM vbx_tokens.uses u
                 WHERE NOT EXISTS (SELECT 1 FROM vbx_tokens.tokens t WHERE t.id = u.id)
                 RETURNING 1)
             SELECT (SELECT count(*) FROM made), (SELECT count(*) FROM gone)",
            &[],
        )
        .map_err(|e| super::connect::failure(target, &e))?;
    let (made, gone): (i64, i64) = (row.get(0), row.get(1));
    Ok(if made > 0 {
        found(
            "uses",
            Health::Failed,
            format!(
                "{made} record(s) had lost their use count: those with a use limit are now spent, the others have their record's count; restore a backup to have the uses they had"
            ),
        )
    } else if gone > 0 {
        found(
            "uses",
            Health::Repaired,
            format!("{gone} use count(s) of no record were dropped"),
        )
    } else {
        found("uses", Health::Ok, "every record has its use count")
    })
}

/// Checks the store at `target`, erasing kept secrets whose tokens are revoked or gone.
///
/// # Errors
/// [`Error::NoStore`]; the server's errors. A damaged record, vault header or chain is a
/// finding.
pub fn diagnose(target: &Target) -> Result<Diagnosis> {
    let store = Store::open(target, OpenMode::Existing)?;
    let mut findings = Vec::new();
    let mut records = Vec::new();
    let parsed = store.visit_records(&mut |r| {
        records.push(r);
        Ok(true)
    });
    findings.push(match parsed {
        Ok(()) => found(
            "records",
            Health::Ok,
            format!("{} token record(s) parse", records.len()),
        ),
        Err(Error::Store(why)) => found(
            "records",
            Health::Failed,
            format!("{why}; it cannot be derived again: restore a backup"),
        ),
        Err(e) => return Err(e),
    });
    findings.push(uses(&store, target)?);
    findings.push(match store.vault_header()? {
        None => found("vault", Health::Ok, "no vault"),
        Some(h) if crate::vault::Header::parse(&h).is_err() => found(
            "vault",
            Health::Failed,
            "its header is damaged: restore a backup or a vault export",
        ),
        Some(_) => {
            let live: HashMap<&str, &Record> = records.iter().map(|r| (r.id.as_str(), r)).collect();
            let now = crate::time::Time::now();
            let orphans: Vec<String> = store
                .kept_ids()?
                .into_iter()
                .filter(|id| {
                    live.get(id.as_str())
                        .is_none_or(|r| r.status == Status::Revoked && !r.in_grace(now))
                })
                .collect();
            if orphans.is_empty() {
                found("vault", Health::Ok, "every kept secret has its token")
            } else {
                let keys: Vec<String> = orphans.iter().map(|id| format!("secret/{id}")).collect();
                store
                    .client()
                    .execute("DELETE FROM vbx_tokens.vault WHERE key = ANY($1)", &[&keys])
                    .map_err(|e| super::connect::failure(target, &e))?;
                found(
                    "vault",
                    Health::Repaired,
                    format!(
                        "{} kept secret(s) of tokens revoked or gone were erased",
                        orphans.len()
                    ),
                )
            }
        }
    });
    findings.push(match store.check_log() {
        Ok(n) => found(
            "audit log",
            Health::Ok,
            format!("{n} event(s), chain whole"),
        ),
        Err(Error::BrokenLog(broken)) => found(
            "audit log",
            Health::Failed,
            format!("{broken}; it cannot be derived again: restore a backup"),
        ),
        Err(e) => return Err(e),
    });
    let last_backup = store
        .client()
        .query_opt(
            "SELECT value FROM vbx_tokens.meta WHERE key = 'last_backup'",
            &[],
        )
        .map_err(|e| super::connect::failure(target, &e))?
        .and_then(|row| {
            let text = String::from_utf8(row.get::<_, Vec<u8>>(0)).ok()?;
            let (at, path) = text.split_once('\t')?;
            Some((at.to_owned(), path.to_owned()))
        });
    Ok(Diagnosis {
        opened: true,
        findings,
        last_backup,
    })
}
