//! Failed verifies on PostgreSQL: counted by the verifying host in `vbx_tokens.failures` (one
//! row per hour, reason, user and token, so the table never grows with their number), and
//! folded into the audit log as `verify_failed` counters (`crate::counters`) by the next
//! command that writes, in one transaction with the rows it takes.

use std::net::IpAddr;
use std::time::SystemTime;

use postgres::GenericClient;
use postgres::types::Type;

use super::config::Target;
use super::connect::failure;
use super::tokens::{system_time, time};
use crate::chain::{self, Head};
use crate::counters::{Counters, Failure, MAX_TAIL};
use crate::error::Result;
use crate::policy::failure_window;
use crate::record::{Event, EventKind};
use crate::time::Time;
use crate::token::TokenHash;
use crate::verdict::Reason;

/// Counts one failed verify: `reason`, by `actor`, of the token whose SHA-256 is `hash` (when
/// the candidate had the shape of one), from `ip`.
///
/// # Errors
/// The server's errors.
pub fn count(
    c: &mut impl GenericClient,
    target: &Target,
    reason: Reason,
    actor: &str,
    hash: Option<&TokenHash>,
    at: Time,
    ip: Option<IpAddr>,
) -> Result<()> {
    c.query_typed(
        "SELECT vbx_tokens.count_failure($1, $2, $3, $4, $5, $6)",
        &[
            (&failure_window(at), Type::INT8),
            (&i16::from(reason.code()), Type::INT2),
            (&actor, Type::TEXT),
            (&hash.map(|h| &h.0[..]), Type::BYTEA),
            (&system_time(at), Type::TIMESTAMPTZ),
            (&ip, Type::INET),
        ],
    )
    .map_err(|e| failure(target, &e))?;
    Ok(())
}

/// Counts failed verifies of one request, as [`count`] counts each, in one statement
/// (`vbx_tokens.count_failures`): `failures` holds each reason and token (the SHA-256, when
/// the candidate had the shape of one) with how many times it failed, by `actor`, at `at`,
/// from `ip`.
///
/// # Errors
/// The server's errors.
pub fn count_many(
    c: &mut impl GenericClient,
    target: &Target,
    failures: &[(Reason, Option<TokenHash>, u64)],
    actor: &str,
    at: Time,
    ip: Option<IpAddr>,
) -> Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let reasons: Vec<i16> = failures
        .iter()
        .map(|(r, _, _)| i16::from(r.code()))
        .collect();
    let hashes: Vec<Option<&[u8]>> = failures
        .iter()
        .map(|(_, h, _)| h.as_ref().map(|h| &h.0[..]))
        .collect();
    let counts: Vec<i64> = failures
        .iter()
        .map(|(_, _, n)| i64::try_from(*n).unwrap_or(i64::MAX))
        .collect();
    c.query_typed(
        "SELECT vbx_tokens.count_failures($1, $2, $3, $4, $5, $6, $7)",
        &[
            (&failure_window(at), Type::INT8),
            (&reasons, Type::INT2_ARRAY),
            (&actor, Type::TEXT),
            (&hashes, Type::BYTEA_ARRAY),
            (&counts, Type::INT8_ARRAY),
            (&system_time(at), Type::TIMESTAMPTZ),
            (&ip, Type::INET),
        ],
    )
    .map_err(|e| failure(target, &e))?;
    Ok(())
}

/// Takes every counted failure out of the table in `tx` and appends them to the log as
/// counters, one per hour, reason and user (more when they name many tokens). Nothing is taken
/// unless the transaction commits.
///
/// # Errors
/// The server's errors.
pub fn fold(tx: &mut postgres::Transaction<'_>, target: &Target) -> Result<()> {
    let rows = tx
        .query_typed(
            "DELETE FROM vbx_tokens.failures
             RETURNING reason, actor, token_id, first_at, last_at, count, ips, further",
            &[],
        )
        .map_err(|e| failure(target, &e))?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut fresh = Vec::new();
    let mut fresh_from: Option<i64> = None;
    for row in &rows {
        // A row a newer build wrote, or one forged by a host that may only verify: a reason
        // this build does not know is no failure it can name.
        let Some(reason) = u8::try_from(row.get::<_, i16>("reason"))
            .ok()
            .and_then(Reason::from_code)
        else {
            continue;
        };
        let token_id: String = row.get("token_id");
        let ips: Vec<IpAddr> = row.get("ips");
        // Written by whoever may verify: kept only masked (a token in any disguise) and
        // escaped, as the directory store keeps what its journal says.
        let actor: String = row.get("actor");
        let actor = crate::error::Masked::new(actor.escape_debug().to_string()).to_string();
        let now = Time::now();
        let one = |at: SystemTime, count: u64, ip: Option<IpAddr>| -> Result<Failure> {
            Ok(Failure {
                reason: reason.as_str(),
                actor: actor.clone(),
                at: time(at)?.min(now),
                count,
                token_id: (!token_id.is_empty()).then(|| token_id.clone()),
                ip,
                further: false,
            })
        };
        let count = u64::try_from(row.get::<_, i64>("count")).unwrap_or(0);
        let window = failure_window(time(row.get("first_at"))?.min(now));
        fresh_from = Some(fresh_from.map_or(window, |w| w.min(window)));
        // The first failure carries the count, the last its time, each address its own.
        fresh.push(one(row.get("first_at"), count, ips.first().copied())?);
        fresh.push(Failure {
            further: row.get("further"),
            ..one(row.get("last_at"), 0, None)?
        });
        for ip in ips.iter().skip(1) {
            fresh.push(one(row.get("first_at"), 0, Some(*ip))?);
        }
    }
    let from = fresh_from.unwrap_or(i64::MAX);
    let taken = counters_at_end(tx, target, from)?;
    // The counters at the end first, so the failures are added to them (as in the directory
    // store's fold).
    let mut counters = Counters::default();
    for (i, (_, _, e)) in taken.iter().enumerate() {
        counters.add_event(e, i);
    }
    for f in &fresh {
        counters.add_failure(f);
    }
    let (first, events) = counters.into_appends(taken.len());
    if let Some((seq, _, _)) = taken.get(first) {
        // Taken off the end, to go back with the new failures added: the head moves back to
        // the event before them.
        tx.execute("DELETE FROM vbx_tokens.events WHERE seq >= $1", &[seq])
            .map_err(|e| failure(target, &e))?;
        let before = tx
            .query_opt(
                "SELECT bytes FROM vbx_tokens.events WHERE seq = $1",
                &[&(seq - 1)],
            )
            .map_err(|e| failure(target, &e))?;
        let head = match before {
            Some(row) => Head {
                key: (seq - 1) as u64,
                hash: chain::hash(row.get::<_, &[u8]>(0)),
            }
            .encode()
            .to_vec(),
            None => Vec::new(),
        };
        tx.execute(
            "UPDATE vbx_tokens.meta SET value = $1 WHERE key = 'log_head'",
            &[&head],
        )
        .map_err(|e| failure(target, &e))?;
    }
    for event in events {
        super::log::append(tx, target, &event)?;
    }
    Ok(())
}

/// The `verify_failed` counters at the end of the log for the windows from `from` on, oldest
/// first, with their sequence numbers and bytes, locking the log head. Nothing is taken unless
/// the end is whole: the head names the last event and each counter links to the one before
/// (otherwise the fold appends, and `log --check` reports the damage).
fn counters_at_end(
    tx: &mut postgres::Transaction<'_>,
    target: &Target,
    from: i64,
) -> Result<Vec<(i64, Vec<u8>, Event)>> {
    let fail = |e: postgres::Error| failure(target, &e);
    let head = tx
        .query_typed_opt(
            "SELECT value FROM vbx_tokens.meta WHERE key = 'log_head' FOR UPDATE",
            &[],
        )
        .map_err(fail)?
        .and_then(|row| Head::decode(row.get::<_, &[u8]>(0)));
    let Some(head) = head else {
        return Ok(Vec::new());
    };
    let rows = tx
        .query(
            "SELECT seq, bytes FROM vbx_tokens.events WHERE seq <= $1 ORDER BY seq DESC LIMIT $2",
            &[&(head.key as i64), &(MAX_TAIL as i64)],
        )
        .map_err(fail)?;
    let mut taken: Vec<(i64, Vec<u8>, Event)> = Vec::new();
    for row in &rows {
        let (seq, bytes): (i64, Vec<u8>) = (row.get(0), row.get(1));
        let whole = match taken.last() {
            None => seq as u64 == head.key && chain::hash(&bytes) == head.hash,
            Some((after, _, later)) => {
                seq == after - 1 && later.prev == hex::encode(chain::hash(&bytes))
            }
        };
        if !whole {
            return Ok(Vec::new());
        }
        match Event::from_bytes(&bytes) {
            Ok(e) if e.event == EventKind::VerifyFailed && failure_window(e.at) >= from => {
                taken.push((seq, bytes, e));
            }
            _ => break,
        }
    }
    taken.reverse();
    Ok(taken)
}
