//! Token rows on PostgreSQL: a record in, a record by its token's SHA-256, and a verify that
//! decides and counts a use in one statement (`vbx_tokens.count_use`), so a use limit holds
//! exactly across every host and a revocation committed anywhere is seen by the next verify.
//!
//! A row of `tokens` keeps the record as JSON (every field) beside the columns a verify
//! decides on (status, grace, expiry, disabled, limit), and a row of `uses` beside it what a
//! verify changes (use count, last use; schema step 9): those columns are the truth for
//! these, and every write sets them with the record.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use postgres::GenericClient;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{Json, ToSql, Type};

use super::config::Target;
use super::connect::failure;
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::policy::{self, Request};
use crate::record::{Record, Status};
use crate::time::Time;
use crate::token::{self, Token, TokenHash};
use crate::verdict::{Reason, Touch, Verdict};

pub(super) fn system_time(t: Time) -> SystemTime {
    let secs = t.as_second();
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

pub(super) fn time(t: SystemTime) -> Result<Time> {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    Time::from_second(secs).map_err(|e| Error::store(format!("a time in the store: {e}")))
}

fn column_integer(what: &str, n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| Error::internal(format!("{what} {n} does not fit a bigint")))
}

/// The columns of `vbx_tokens.tokens` that [`Columns::params`] fills, in its order.
const COLUMNS: &str = "id, seq, sha256, name_key, active, disabled, expires_at, grace_until,
    max_uses, record, created_at";

/// The columns' types, in [`COLUMNS`]' order, for a binary `COPY`.
const COLUMN_TYPES: [Type; 11] = [
    Type::TEXT,
    Type::INT8,
    Type::BYTEA,
    Type::TEXT,
    Type::BOOL,
    Type::BOOL,
    Type::TIMESTAMPTZ,
    Type::TIMESTAMPTZ,
    Type::INT8,
    Type::JSONB,
    Type::TIMESTAMPTZ,
];

/// The columns of `vbx_tokens.uses` (schema step 9), what a verify counts, in
/// [`Uses::params`]' order.
const USE_COLUMNS: &str = "id, use_count, last_used_at, last_used_ip";

/// Their types, in [`USE_COLUMNS`]' order.
const USE_COLUMN_TYPES: [Type; 4] = [Type::TEXT, Type::INT8, Type::TIMESTAMPTZ, Type::INET];

/// A record as its row holds it: what the columns need that the record does not hold as is.
struct Columns<'a> {
    seq: i64,
    /// The token's SHA-256, 32 bytes.
    hash: Vec<u8>,
    key: String,
    active: bool,
    expires_at: Option<SystemTime>,
    grace_until: Option<SystemTime>,
    max_uses: Option<i64>,
    /// The record, written as JSON straight into the statement (no tree of values between).
    json: Json<&'a Record>,
    created_at: SystemTime,
}

impl<'a> Columns<'a> {
    fn of(r: &'a Record) -> Result<Columns<'a>> {
        Columns::keyed(r, name_key(&r.name))
    }

    /// The columns of `r`, whose name's key is `key` (`crate::name::name_key`, the costly part).
    fn keyed(r: &'a Record, key: String) -> Result<Columns<'a>> {
        Ok(Columns {
            seq: column_integer("seq", r.seq)?,
            hash: TokenHash::from_hex(&r.sha256)
                .ok_or_else(|| Error::internal(format!("the record {} has no SHA-256", r.id)))?
                .0
                .to_vec(),
            key,
            active: r.status == Status::Active,
            expires_at: r.expires_at.map(system_time),
            grace_until: r.grace_until.map(system_time),
            max_uses: r
                .max_uses
                .map(|m| column_integer("max_uses", m))
                .transpose()?,
            json: Json(r),
            created_at: system_time(r.created_at),
        })
    }

    /// The values of [`COLUMNS`], in order, for `r` (the record these columns are of).
    fn params(&'a self, r: &'a Record) -> [&'a (dyn ToSql + Sync); 11] {
        [
            &r.id,
            &self.seq,
            &self.hash,
            &self.key,
            &self.active,
            &r.disabled,
            &self.expires_at,
            &self.grace_until,
            &self.max_uses,
            &self.json,
            &self.created_at,
        ]
    }
}

/// A record's row of `vbx_tokens.uses`: its use count and last use.
struct Uses {
    use_count: i64,
    last_used_at: Option<SystemTime>,
}

impl Uses {
    fn of(r: &Record) -> Result<Uses> {
        Ok(Uses {
            use_count: column_integer("use_count", r.use_count)?,
            last_used_at: r.last_used_at.map(system_time),
        })
    }

    /// The values of [`USE_COLUMNS`], in order, for `r` (the record these are of).
    fn params<'a>(&'a self, r: &'a Record) -> [&'a (dyn ToSql + Sync); 4] {
        [&r.id, &self.use_count, &self.last_used_at, &r.last_used_ip]
    }
}

/// Adds `record` as a new row, or (`replace`) writes it over the row of its id.
///
/// # Errors
/// [`Error::Usage`] when another token holds its token (the same SHA-256) or, active, its
/// name (or one that renders alike), as the directory store says it; the server's other
/// errors ([`failure`]).
pub fn put(c: &mut impl GenericClient, target: &Target, r: &Record, replace: bool) -> Result<()> {
    let columns = Columns::of(r)?;
    let uses = Uses::of(r)?;
    let on_clash = if replace {
        "ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, sha256 = EXCLUDED.sha256,
             name_key = EXCLUDED.name_key, active = EXCLUDED.active,
             disabled = EXCLUDED.disabled, expires_at = EXCLUDED.expires_at,
             grace_until = EXCLUDED.grace_until, max_uses = EXCLUDED.max_uses,
             created_at = EXCLUDED.created_at, record = EXCLUDED.record"
    } else {
        ""
    };
    // The uses row's id is the token row's, as the statement returns it.
    let params = columns
        .params(r)
        .into_iter()
        .chain(uses.params(r).into_iter().skip(1));
    let types = COLUMN_TYPES.iter().chain(&USE_COLUMN_TYPES[1..]).cloned();
    let typed: Vec<(&(dyn ToSql + Sync), Type)> = params.zip(types).collect();
    // One statement for both rows. A verify on another host may have counted a use since the
    // record was read: a count never goes down, and the last use is the later one.
    c.query_typed(
        &format!(
            "WITH t AS (
                 INSERT INTO vbx_tokens.tokens ({COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) {on_clash}
                 RETURNING id)
             INSERT INTO vbx_tokens.uses AS u ({USE_COLUMNS})
             SELECT t.id, $12, $13, $14 FROM t
             ON CONFLICT (id) DO UPDATE SET
                 use_count = greatest(u.use_count, EXCLUDED.use_count),
                 last_used_at = greatest(u.last_used_at, EXCLUDED.last_used_at),
                 last_used_ip = CASE
                     WHEN EXCLUDED.last_used_at > u.last_used_at
                       OR u.last_used_at IS NULL THEN EXCLUDED.last_used_ip
                     ELSE u.last_used_ip END"
        ),
        &typed,
    )
    .map_err(|e| clash(c, target, &e, r, &columns.key))?;
    Ok(())
}

/// Adds every record of `records` as a new row, in a binary `COPY` a table: a bulk write
/// (import, restore) costs two round trips, not one a record. Each record comes with its
/// name's key when the caller has it. The caller has checked that none clashes with the store
/// or another (a clash found here fails the whole `COPY`).
///
/// # Errors
/// [`Error::Usage`] for two records (or one and a row) with one id, one token or, active,
/// one name; the server's other errors ([`failure`]).
pub fn put_many(
    c: &mut impl GenericClient,
    target: &Target,
    records: &[(Record, Option<String>)],
) -> Result<()> {
    let fail = |e: postgres::Error| {
        let what = match unique_violation(&e).as_deref() {
            Some("tokens_active_name") => "one name (or names that look the same), active",
            Some("tokens_sha256_key") => "one token (the same SHA-256)",
            Some("tokens_pkey" | "uses_pkey") => "one id",
            _ => return failure(target, &e),
        };
        Error::usage(format!("two tokens would have {what}"))
    };
    let sink = c
        .copy_in(&format!(
            "COPY vbx_tokens.tokens ({COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .map_err(fail)?;
    let mut writer = BinaryCopyInWriter::new(sink, &COLUMN_TYPES);
    for (r, key) in records {
        let columns = match key {
            Some(key) => Columns::keyed(r, key.clone())?,
            None => Columns::of(r)?,
        };
        writer.write(&columns.params(r)).map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    let sink = c
        .copy_in(&format!(
            "COPY vbx_tokens.uses ({USE_COLUMNS}) FROM STDIN (FORMAT binary)"
        ))
        .map_err(fail)?;
    let mut writer = BinaryCopyInWriter::new(sink, &USE_COLUMN_TYPES);
    for (r, _) in records {
        writer.write(&Uses::of(r)?.params(r)).map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    Ok(())
}

/// The unique index or constraint `e` violated, if that is what failed.
fn unique_violation(e: &postgres::Error) -> Option<String> {
    e.as_db_error()
        .filter(|db| *db.code() == postgres::error::SqlState::UNIQUE_VIOLATION)
        .and_then(|db| db.constraint().map(str::to_owned))
}

/// A failed write as the directory store would say it: a unique index names what clashed.
fn clash(
    c: &mut impl GenericClient,
    target: &Target,
    e: &postgres::Error,
    r: &Record,
    key: &str,
) -> Error {
    match unique_violation(e).as_deref() {
        Some("tokens_active_name") => {
            // The statement failed, so the transaction is over: the holder is named only when
            // there is no transaction to spoil (a lone statement).
            let holder = c
                .query_opt(
                    "SELECT id, record->>'name' FROM vbx_tokens.tokens WHERE name_key = $1 AND active",
                    &[&key],
                )
                .ok()
                .flatten()
                .map(|row| (row.get::<_, String>(0), row.get::<_, Option<String>>(1)));
            match holder {
                Some((id, theirs)) => crate::engine::name_taken(&r.name, &id, theirs.as_deref()),
                None => Error::usage(format!(
                    "an active token is already named {:?} (or a name that looks the same): pick another name, or revoke that one first",
                    r.name
                )),
            }
        }
        Some("tokens_sha256_key") => crate::engine::hash_taken(),
        Some("tokens_pkey") => Error::internal("token id taken"),
        _ => failure(target, e),
    }
}

/// The record of the token whose SHA-256 is `hash`, with its use count and last use as they
/// are now; `None` when the store has no such token. Through `vbx_tokens.lookup`, which a
/// verify-only role may call.
///
/// # Errors
/// The server's errors; [`Error::Store`] for a row whose record does not parse.
pub fn by_hash(
    c: &mut impl GenericClient,
    target: &Target,
    hash: &TokenHash,
) -> Result<Option<Record>> {
    // Typed, so the statement is parsed and run in one round trip (an unnamed statement
    // prepared first would take three): a one-shot verify is mostly round trips.
    let rows = c
        .query_typed(
            "SELECT record, use_count, last_used_at, last_used_ip FROM vbx_tokens.lookup($1)",
            &[(&&hash.0[..], Type::BYTEA)],
        )
        .map_err(|e| failure(target, &e))?;
    rows.first().map(|row| record_of(row, target)).transpose()
}

/// The records of the tokens whose SHA-256 are `hashes`, by SHA-256, with their use counts
/// and last uses as they are now; a hash the store has no token for is left out. And the
/// server's time (whole seconds), which judges them: the clock the server counts uses by
/// (schema step 8), not the calling host's. One statement, through `vbx_tokens.lookup_many`,
/// which a verify-only role may call.
///
/// # Errors
/// As for [`by_hash`].
pub fn by_hashes(
    c: &mut impl GenericClient,
    target: &Target,
    hashes: &[&[u8]],
) -> Result<(std::collections::HashMap<[u8; 32], Record>, Time)> {
    let rows = c
        .query_typed(
            "SELECT n.now, l.sha256, l.record, l.use_count, l.last_used_at, l.last_used_ip
             FROM (SELECT date_trunc('second', statement_timestamp()) AS now) n
             LEFT JOIN LATERAL vbx_tokens.lookup_many($1) l ON true",
            &[(&hashes, Type::BYTEA_ARRAY)],
        )
        .map_err(|e| failure(target, &e))?;
    let now = match rows.first() {
        Some(row) => time(row.get("now"))?,
        None => Time::now(),
    };
    let records = rows
        .iter()
        .filter_map(|row| {
            let hash = <[u8; 32]>::try_from(row.get::<_, Option<&[u8]>>("sha256")?).ok()?;
            Some(record_of(row, target).map(|r| (hash, r)))
        })
        .collect::<Result<_>>()?;
    Ok((records, now))
}

/// Takes one use of each token whose SHA-256 is in `hashes` (distinct: a token named twice
/// is counted once), where [`count_use`] would take it: the SHA-256 and new count of each
/// taken. One statement, through `vbx_tokens.count_uses`.
///
/// # Errors
/// The server's errors.
pub fn count_uses(
    c: &mut impl GenericClient,
    target: &Target,
    hashes: &[&[u8]],
    at: Time,
    ip: Option<IpAddr>,
) -> Result<std::collections::HashMap<[u8; 32], u64>> {
    let rows = c
        .query_typed(
            "SELECT sha256, use_count FROM vbx_tokens.count_uses($1, $2, $3)",
            &[
                (&hashes, Type::BYTEA_ARRAY),
                (&system_time(at), Type::TIMESTAMPTZ),
                (&ip, Type::INET),
            ],
        )
        .map_err(|e| failure(target, &e))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let hash = <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)).ok()?;
            Some((hash, u64::try_from(row.get::<_, i64>(1)).unwrap_or(0)))
        })
        .collect())
}

/// What [`verify_uses`] found: by SHA-256, each token's record (its use count the one before
/// this call) and whether the call took a use of it; and the server's time, which judges them.
pub type Seen = (std::collections::HashMap<[u8; 32], (Record, bool)>, Time);

/// The records of the tokens whose SHA-256 are `hashes` (distinct), as [`by_hashes`] reads
/// them, and in the same statement one use of each whose use is certain: where [`count_use`]
/// would take it, and `request` is inside the token's address ranges and asks only for scopes
/// it has. The caller judges each record as ever; a use taken here is one its judgment allows
/// (a use it leaves it takes with [`count_use`] or [`count_uses`]). One statement, through
/// `vbx_tokens.verify_uses` (schema step 9), which a verify-only role may call.
///
/// # Errors
/// As for [`by_hash`].
pub fn verify_uses(
    c: &mut impl GenericClient,
    target: &Target,
    hashes: &[&[u8]],
    request: &Request,
) -> Result<Seen> {
    certain(
        c,
        target,
        "verify_uses",
        (&hashes, Type::BYTEA_ARRAY),
        request,
    )
}

/// [`verify_uses`] of one token, through `vbx_tokens.verify_use`, whose plans a connection
/// keeps (PL/pgSQL): for a connection that has verified before, since its first call
/// compiles the function.
///
/// # Errors
/// As for [`by_hash`].
pub fn verify_use(
    c: &mut impl GenericClient,
    target: &Target,
    hash: &[u8],
    request: &Request,
) -> Result<Seen> {
    certain(c, target, "verify_use", (&hash, Type::BYTEA), request)
}

/// A call of the function `vbx_tokens.FUNCTION` (`verify_uses` or `verify_use`) on the tokens
/// `tokens` (their SHA-256, as the function takes them) for `request`.
fn certain(
    c: &mut impl GenericClient,
    target: &Target,
    function: &str,
    tokens: (&(dyn ToSql + Sync), Type),
    request: &Request,
) -> Result<Seen> {
    let (ip, scopes) = certain_request(request);
    let rows = c
        .query_typed(
            &format!(
                "SELECT now, sha256, record, use_count, last_used_at, last_used_ip, counted
                 FROM vbx_tokens.{function}($1, $2, $3)"
            ),
            &[tokens, (&ip, Type::INET), (&scopes, Type::JSONB)],
        )
        .map_err(|e| failure(target, &e))?;
    seen(&rows, target)
}

/// `request` as `verify_uses` and `verify_use` compare it: the address as `policy::judge`
/// reads it (an IPv4 address written as IPv6 is the IPv4 address), and the scopes as a JSON
/// array of the strings they are.
fn certain_request(request: &Request) -> (Option<IpAddr>, serde_json::Value) {
    (
        request.ip.map(|ip| ip.to_canonical()),
        serde_json::Value::from(request.scopes.clone()),
    )
}

/// The rows of `verify_uses` or `verify_use` as what they found.
fn seen(rows: &[postgres::Row], target: &Target) -> Result<Seen> {
    let now = match rows.first() {
        Some(row) => time(row.get("now"))?,
        None => Time::now(),
    };
    let found = rows
        .iter()
        .filter_map(|row| {
            let hash = <[u8; 32]>::try_from(row.get::<_, Option<&[u8]>>("sha256")?).ok()?;
            let counted: bool = row.get("counted");
            Some(record_of(row, target).map(|r| (hash, (r, counted))))
        })
        .collect::<Result<_>>()?;
    Ok((found, now))
}

/// A row as its record: the JSON with the columns a verify changes laid over it. The JSON is
/// read into the record straight from the row's bytes, with no tree of values between.
fn record_of(row: &postgres::Row, target: &Target) -> Result<Record> {
    maybe_record_of(row, target)?.ok_or_else(|| {
        Error::store(format!(
            "a token row at {} has no record: run `vbx-tokens doctor`",
            target.shown()
        ))
    })
}

/// [`record_of`] for a row whose record may be NULL (a lookup of a token not stored).
fn maybe_record_of(row: &postgres::Row, target: &Target) -> Result<Option<Record>> {
    let json: Option<Json<Record>> = row.try_get("record").map_err(|e| {
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        Error::store(format!(
            "a token record at {} does not parse ({why}): run `vbx-tokens doctor`",
            target.shown()
        ))
    })?;
    let Some(Json(mut r)) = json else {
        return Ok(None);
    };
    let uses: i64 = row.get("use_count");
    // Held at the bound the store keeps (a row set past it by hand would make every backup
    // unrestorable).
    r.use_count = u64::try_from(uses)
        .unwrap_or(0)
        .min(crate::policy::MAX_JSON_INTEGER);
    r.last_used_at = row
        .get::<_, Option<SystemTime>>("last_used_at")
        .map(time)
        .transpose()?;
    r.last_used_ip = row.get("last_used_ip");
    Ok(Some(r))
}

/// The columns [`record_of`] reads.
const RECORD_COLUMNS: &str = "record,
    coalesce(use_count, vbx_tokens.lost_count(max_uses, record)) AS use_count, last_used_at,
    last_used_ip";

/// Where [`RECORD_COLUMNS`] are read from: each record with its uses (schema step 9). A record
/// whose uses row is missing (only a hand-made change does that; `doctor` makes it again) is
/// still read, with the count `doctor` would give it (`vbx_tokens.lost_count`: spent, for a
/// token with a use limit).
const ROWS: &str = "vbx_tokens.tokens LEFT JOIN vbx_tokens.uses USING (id)";

/// The one record whose row matches `filter` (SQL over the row's columns, with `key` as
/// `$1`), if any.
///
/// # Errors
/// The server's errors; [`Error::Store`] for a record that does not parse.
pub(super) fn one(
    c: &mut impl GenericClient,
    target: &Target,
    filter: &str,
    key: &str,
) -> Result<Option<Record>> {
    let row = c
        .query_typed_opt(
            &format!("SELECT {RECORD_COLUMNS} FROM {ROWS} WHERE {filter}"),
            &[(&key, Type::TEXT)],
        )
        .map_err(|e| failure(target, &e))?;
    row.map(|row| record_of(&row, target)).transpose()
}

/// The record with id `id`, or the active token named `name_or_id` (as names compare), as
/// `Store::resolve` finds a token on the command line.
///
/// # Errors
/// The server's errors; [`Error::Store`] for a record that does not parse.
pub fn find(
    c: &mut impl GenericClient,
    target: &Target,
    id_or_name: &str,
) -> Result<Option<Record>> {
    let row = c
        .query_typed_opt(
            &format!(
                "SELECT {RECORD_COLUMNS} FROM {ROWS}
                 WHERE id = $1 OR (active AND name_key = $2)
                 ORDER BY id = $1 DESC LIMIT 1"
            ),
            &[
                (&id_or_name, Type::TEXT),
                (&name_key(id_or_name), Type::TEXT),
            ],
        )
        .map_err(|e| failure(target, &e))?;
    row.map(|row| record_of(&row, target)).transpose()
}

/// Calls `each` with every record, oldest first (creation time, then creation order, as the
/// directory store lists them), until it returns `false`; a page of rows at a time, so memory
/// holds one page.
///
/// # Errors
/// The server's errors, and the first error `each` returns.
pub fn each_record(
    c: &mut impl GenericClient,
    target: &Target,
    each: &mut dyn FnMut(Record) -> Result<bool>,
) -> Result<()> {
    let mut after: Option<(SystemTime, i64, String)> = None;
    loop {
        let page = format!(
            "SELECT seq, created_at, id, {RECORD_COLUMNS} FROM {ROWS}
             WHERE $1::timestamptz IS NULL OR (created_at, seq, id) > ($1, $2, $3)
             ORDER BY created_at, seq, id LIMIT 4096"
        );
        let (at, seq, id) = match &after {
            Some((t, s, id)) => (Some(*t), *s, id.as_str()),
            None => (None, 0, ""),
        };
        let rows = c
            .query(&page, &[&at, &seq, &id])
            .map_err(|e| failure(target, &e))?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            after = Some((row.get("created_at"), row.get("seq"), row.get("id")));
            if !each(record_of(row, target)?)? {
                return Ok(());
            }
        }
    }
}

/// Takes one use of the token whose SHA-256 is `hash` at `at`, if at this moment it may have
/// one (active or in its grace, not expired, not disabled, under its limit); the new count, or
/// `None` when nothing was taken.
///
/// # Errors
/// The server's errors.
pub fn count_use(
    c: &mut impl GenericClient,
    target: &Target,
    hash: &TokenHash,
    at: Time,
    ip: Option<IpAddr>,
) -> Result<Option<u64>> {
    let row = c
        .query_typed_one(
            "SELECT vbx_tokens.count_use($1, $2, $3)",
            &[
                (&&hash.0[..], Type::BYTEA),
                (&system_time(at), Type::TIMESTAMPTZ),
                (&ip, Type::INET),
            ],
        )
        .map_err(|e| failure(target, &e))?;
    Ok(row
        .get::<_, Option<i64>>(0)
        .map(|n| u64::try_from(n).unwrap_or(0)))
}

/// How many times a verify reads again after the server refused a use its record allowed (the
/// token changed in between: revoked, spent by another host): then the answer is what the
/// record says at last.
const RETRIES: usize = 3;

/// [`by_hash`] with the server's time, as [`by_hashes`] gives it; through
/// `vbx_tokens.lookup`, which every schema step a verify works with has.
fn one_by_hash(
    c: &mut impl GenericClient,
    target: &Target,
    hash: &TokenHash,
) -> Result<(Option<Record>, Time)> {
    let rows = c
        .query_typed(
            "SELECT n.now, l.record, l.use_count, l.last_used_at, l.last_used_ip
             FROM (SELECT date_trunc('second', statement_timestamp()) AS now) n
             LEFT JOIN LATERAL vbx_tokens.lookup($1) l ON true",
            &[(&&hash.0[..], Type::BYTEA)],
        )
        .map_err(|e| failure(target, &e))?;
    let Some(row) = rows.first() else {
        return Ok((None, Time::now()));
    };
    let now = time(row.get("now"))?;
    Ok((maybe_record_of(row, target)?, now))
}

/// Why `candidate`, which the store has no token for, is refused: not another system's
/// token this store knows, so a string that is not one of ours either is malformed.
pub fn not_known(candidate: &str) -> Reason {
    if Token::parse(candidate).is_err() {
        Reason::Malformed
    } else {
        Reason::Unknown
    }
}

/// The answer for `candidate` at `now`, and with [`Touch::Yes`] a counted use when it is
/// valid, decided by the server at the moment it is counted.
///
/// # Errors
/// The server's errors.
pub fn verify(
    c: &mut impl GenericClient,
    target: &Target,
    candidate: &str,
    request: &Request,
    touch: Touch,
) -> Result<Verdict> {
    let candidate = candidate.trim();
    let Some(hash) = token::lookup_hash(candidate) else {
        return Ok(Verdict::anonymous(Reason::Malformed));
    };
    let answer = |r: &Record, reason| Verdict {
        reason,
        id: Some(r.id.clone()),
        name: Some(r.name.clone()),
    };
    // Judged by the server's clock, which counts the use (`by_hashes`).
    let (mut record, mut now) = one_by_hash(c, target, &hash)?;
    for _ in 0..RETRIES {
        let Some(r) = &record else {
            return Ok(Verdict::anonymous(not_known(candidate)));
        };
        let reason = policy::judge(&r.facts(), now, r.use_count, request);
        if reason != Reason::Valid || touch == Touch::No {
            return Ok(answer(r, reason));
        }
        if count_use(c, target, &hash, now, request.ip)?.is_some() {
            return Ok(answer(r, Reason::Valid));
        }
        (record, now) = one_by_hash(c, target, &hash)?;
    }
    // Still allowed by its record, still refused by the server: the limit was reached between
    // the two (or the record changes as fast as it is read). Never valid without a use taken.
    Ok(match &record {
        Some(r) => {
            let reason = policy::judge(&r.facts(), now, r.use_count, request);
            answer(
                r,
                if reason == Reason::Valid {
                    Reason::UsageExceeded
                } else {
                    reason
                },
            )
        }
        None => Verdict::anonymous(Reason::Unknown),
    })
}

/// Adds `records` and appends `events` in one transaction: all of it happens, or none
/// (a connection lost before the commit leaves nothing).
///
/// # Errors
/// As for [`put`] and [`super::log::append`]; nothing is changed then.
pub fn create_all(
    c: &mut postgres::Client,
    target: &Target,
    records: &[Record],
    events: &[crate::record::Event],
) -> Result<()> {
    let mut tx = c.transaction().map_err(|e| failure(target, &e))?;
    for r in records {
        put(&mut tx, target, r, false)?;
    }
    for e in events {
        super::log::append(&mut tx, target, e)?;
    }
    tx.commit().map_err(|e| failure(target, &e))
}
