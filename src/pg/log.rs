//! The audit log on PostgreSQL: the same hash chain as the directory store's (`crate::chain`),
//! events in `vbx_tokens.events` by sequence number, the head (the last event's number and
//! hash) in `vbx_tokens.meta`. An append locks the head's row for the rest of its transaction,
//! so writers on any number of hosts append one after another and the chain stays whole; a
//! transaction that does not commit appends nothing.

use postgres::GenericClient;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

use super::config::Target;
use super::connect::failure;
use crate::chain::{self, Broken, Checker, GENESIS, Head};
use crate::error::{Error, Result};
use crate::record::Event;

/// The `meta` key of the log head.
const HEAD_KEY: &str = "log_head";

/// Writes `events` (each event's bytes as the chain hashes them, the first numbered 1) as
/// the whole log of a log that is empty, in one binary `COPY`, and gives the head they end
/// at (`None` for no event). The caller writes the head and has checked the chain.
///
/// # Errors
/// The server's errors ([`failure`]).
pub fn put_all(
    tx: &mut impl GenericClient,
    target: &Target,
    events: &[Vec<u8>],
) -> Result<Option<Head>> {
    let fail = |e: postgres::Error| failure(target, &e);
    let sink = tx
        .copy_in("COPY vbx_tokens.events (seq, bytes) FROM STDIN (FORMAT binary)")
        .map_err(fail)?;
    let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::BYTEA]);
    let mut head = None;
    for (i, stored) in events.iter().enumerate() {
        let seq = i64::try_from(i + 1).map_err(|_| Error::internal("too many events"))?;
        writer.write(&[&seq, stored]).map_err(fail)?;
        head = Some(Head {
            key: seq.unsigned_abs(),
            hash: chain::hash(stored),
        });
    }
    writer.finish().map_err(fail)?;
    Ok(head)
}

/// Appends `event` to the log in `tx` (a transaction), chained to the event before it. Waits for the head's
/// row while another transaction holds it (up to the connection's `lock_timeout`).
///
/// # Errors
/// The server's errors ([`failure`]).
pub fn append(tx: &mut impl GenericClient, target: &Target, event: &Event) -> Result<()> {
    let fail = |e: postgres::Error| failure(target, &e);
    // The head's row, locked for the rest of the transaction, in one statement: made when
    // there is none (an empty value is "no event yet"), and otherwise taken as it stands now
    // (`ON CONFLICT DO UPDATE` waits for and works on the newest version of the row). Typed
    // statements, so each is one round trip.
    let stored: Vec<u8> = tx
        .query_typed_one(
            "INSERT INTO vbx_tokens.meta AS m (key, value) VALUES ($1, '')
             ON CONFLICT (key) DO UPDATE SET value = m.value RETURNING m.value",
            &[(&HEAD_KEY, Type::TEXT)],
        )
        .map_err(fail)?
        .get(0);
    let head = Head::decode(&stored);
    if head.is_none() && !stored.is_empty() {
        return Err(Error::store(format!(
            "the audit log head at {} is damaged: run `vbx-tokens log --check`",
            target.shown()
        )));
    }
    let mut event = event.clone();
    event.prev = head.map_or_else(|| GENESIS.to_owned(), |h| h.prev());
    let bytes = event.to_bytes();
    let key = head.map_or(1, |h| h.key + 1);
    let new_head = Head {
        key,
        hash: chain::hash(&bytes),
    };
    let seq = i64::try_from(key).map_err(|_| Error::store("the audit log is full"))?;
    tx.query_typed(
        "WITH event AS (INSERT INTO vbx_tokens.events (seq, bytes) VALUES ($2, $3))
         UPDATE vbx_tokens.meta SET value = $4 WHERE key = $1",
        &[
            (&HEAD_KEY, Type::TEXT),
            (&seq, Type::INT8),
            (&bytes, Type::BYTEA),
            (&&new_head.encode()[..], Type::BYTEA),
        ],
    )
    .map_err(fail)?;
    Ok(())
}

/// Walks the whole log in order, checking its chain against the head.
///
/// # Errors
/// The server's errors; the first broken event as [`Error::BrokenLog`].
pub fn check(c: &mut impl GenericClient, target: &Target) -> Result<u64> {
    let fail = |e: postgres::Error| failure(target, &e);
    let head = c
        .query_opt(
            "SELECT value FROM vbx_tokens.meta WHERE key = $1",
            &[&HEAD_KEY],
        )
        .map_err(fail)?
        .and_then(|row| Head::decode(row.get::<_, &[u8]>(0)));
    let mut checker = Checker::<Event>::new(head);
    // In pages, so a long log is never all in memory.
    let mut after = 0i64;
    loop {
        let rows = c
            .query(
                "SELECT seq, bytes FROM vbx_tokens.events WHERE seq > $1 ORDER BY seq LIMIT 4096",
                &[&after],
            )
            .map_err(fail)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let seq: i64 = row.get(0);
            let bytes: &[u8] = row.get(1);
            checker.event(&(seq as u64).to_be_bytes(), bytes);
            after = seq;
        }
    }
    checker
        .finish()
        .map_err(|b: Box<Broken>| Error::BrokenLog(b))
}
