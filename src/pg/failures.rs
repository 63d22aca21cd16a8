//! Failed verifies on PostgreSQL: counted by the verifying host in `vbx_tokens.failures` (one
//! row per hour, reason, user and token, so the table never grows with their number), and
//! folded into the audit log as `verify_failed` counters (`crate::counters`) by the next
//! command that writes, in one transaction with the rows it takes.

use std::net::IpAddr;
use std::time::SystemTime;

use postgres::GenericClient;

use super::config::Target;
use super::connect::failure;
use super::tokens::{system_time, time};
use crate::counters::{Counters, Failure};
use crate::error::Result;
use crate::policy::failure_window;
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
    c.execute(
        "SELECT vbx_tokens.count_failure($1, $2, $3, $4, $5, $6)",
        &[
            &failure_window(at),
            &i16::from(reason.code()),
            &actor,
            &hash.map(|h| &h.0[..]),
            &system_time(at),
            &ip,
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
        .query(
            "DELETE FROM vbx_tokens.failures
             RETURNING reason, actor, token_id, first_at, last_at, count, ips",
            &[],
        )
        .map_err(|e| failure(target, &e))?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut counters = Counters::default();
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
        let one = |at: SystemTime, count: u64, ip: Option<IpAddr>| -> Result<Failure> {
            Ok(Failure {
                reason: reason.as_str(),
                actor: row.get("actor"),
                at: time(at)?,
                count,
                token_id: (!token_id.is_empty()).then(|| token_id.clone()),
                ip,
            })
        };
        let count = u64::try_from(row.get::<_, i64>("count")).unwrap_or(0);
        // The first failure carries the count, the last its time, each address its own.
        counters.add_failure(&one(row.get("first_at"), count, ips.first().copied())?);
        counters.add_failure(&one(row.get("last_at"), 0, None)?);
        for ip in ips.iter().skip(1) {
            counters.add_failure(&one(row.get("first_at"), 0, Some(*ip))?);
        }
    }
    for event in counters.into_appends(0).1 {
        super::log::append(tx, target, &event)?;
    }
    Ok(())
}
