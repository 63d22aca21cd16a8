//! Token records in and out as NDJSON, for moving tokens between stores and systems: checks one
//! incoming line at a time, before anything reaches the store. Pure functions only.
//!
//! An exported line is the stored record as it is (every field, including ones a later build
//! adds), so `export | import` round-trips field for field. An incoming line needs a `name`
//! and either a plaintext `token` (hashed here; never stored) or a `sha256`; every other field
//! `export` writes is optional and kept.

use serde_json::{Map, Value};

use crate::name::{clean_name, clean_note, holds_token};
use crate::policy;
use crate::record::looks_like_id;
use crate::record::{DETAIL_MAX, Event, RECORD_VERSION, Record, Status};
use crate::time::Time;
use crate::token::{self, HINT_LEN, Token, TokenHash};

/// Fields a line may carry besides unknown ones from a newer build, which are kept as they are.
const KNOWN: &[&str] = &[
    "v",
    "id",
    "seq",
    "name",
    "note",
    "sha256",
    "token",
    "hint",
    "created_at",
    "created_by",
    "status",
    "revoked_at",
    "last_used_at",
    "use_count",
    "last_used_ip",
    "expires_at",
    "scopes",
    "max_uses",
    "allow_ip",
    "disabled",
    "disabled_at",
    "grace_until",
    "replaces",
    "replaced_by",
];

/// One record to import, with the line it came from.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub line: usize,
    pub record: Record,
    /// The line gave an id, which is kept; otherwise the store assigns one.
    pub keeps_id: bool,
    /// The line gave its creation order (`seq`, from an export), which is kept.
    pub keeps_seq: bool,
}

/// How lenient to be with plaintext tokens.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportRules {
    /// Accept plaintext tokens that are not of our `vbx_` format (another system's tokens).
    pub any_format: bool,
}

/// Line `line` of the input turned into a record to import. An id or creation order the line
/// does not give is the store's to assign. The error is a sentence naming the field at fault.
pub fn parse_line(
    line: usize,
    text: &str,
    rules: ImportRules,
    now: Time,
    actor: &str,
) -> Result<Incoming, String> {
    let mut obj: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(obj)) => obj,
        Ok(_) => return Err("not a JSON object".into()),
        Err(e) => return Err(format!("not JSON ({e})")),
    };
    unique_keys(text.as_bytes())?;
    // Only `token` may hold a token: anything token-shaped elsewhere would be stored, and shown,
    // in plaintext.
    if let Some(key) = obj
        .iter()
        .find(|(k, v)| holds_token(k) || (k.as_str() != "token" && holds_token_shape(v)))
        .map(|(k, _)| k.clone())
    {
        let key = if holds_token(&key) {
            "a key".to_owned()
        } else {
            format!("`{key}`")
        };
        return Err(format!(
            "{key} holds something shaped like a token (vbx_…): only `token` may, and it is never stored"
        ));
    }
    if let Some(why) = integer_too_large(&obj) {
        return Err(why);
    }
    let v = take_u64(&mut obj, "v")?.unwrap_or(u64::from(RECORD_VERSION));
    if v > u64::from(RECORD_VERSION) {
        return Err(format!(
            "record format {v} is newer than this build's ({RECORD_VERSION}): upgrade vbx-tokens"
        ));
    }
    let name = clean_name(&take_str(&mut obj, "name")?.ok_or("`name` is missing")?)
        .map_err(|e| e.to_string())?;
    let id = take_str(&mut obj, "id")?;
    if let Some(id) = &id
        && !looks_like_id(id)
    {
        return Err(format!(
            "`id` {} is not a vbx-tokens id (tok_ and 8 of 0-9a-z); leave it out to get a new one",
            policy::shown(id)
        ));
    }
    let token = take_str(&mut obj, "token")?;
    let sha256 = take_str(&mut obj, "sha256")?;
    let (hash, token_hint) = match (&token, &sha256) {
        (Some(t), _) => {
            let (hash, hint) = hash_plaintext(t, rules)?;
            if let Some(given) = &sha256
                && TokenHash::from_hex(given) != Some(hash)
            {
                return Err("`token` and `sha256` disagree".into());
            }
            (hash, Some(hint))
        }
        (None, Some(hex)) => (
            TokenHash::from_hex(hex).ok_or("`sha256` is not 64 hex digits")?,
            None,
        ),
        (None, None) => return Err("give either `token` or `sha256`".into()),
    };
    let note = match take_str(&mut obj, "note")? {
        Some(n) => clean_note(&n).map_err(|e| e.to_string())?,
        None => None,
    };
    let status = match take_str(&mut obj, "status")?.as_deref() {
        None | Some("active") => Status::Active,
        Some("revoked") => Status::Revoked,
        Some(other) => {
            return Err(format!(
                "`status` {} is neither active nor revoked",
                policy::shown(other)
            ));
        }
    };
    let revoked_at = take_time(&mut obj, "revoked_at")?;
    let created_at = take_time(&mut obj, "created_at")?;
    let seq = take_u64(&mut obj, "seq")?;
    let disabled = take_bool(&mut obj, "disabled")?.unwrap_or(false);
    let record = Record {
        v: RECORD_VERSION,
        id: id.clone().unwrap_or_default(),
        seq: seq.unwrap_or(0),
        name,
        note,
        sha256: hash.to_hex(),
        hint: match (token_hint, take_str(&mut obj, "hint")?) {
            (Some(hint), _) => hint,
            (None, Some(hint)) => clean_shown("hint", &hint)?.chars().take(HINT_LEN).collect(),
            (None, None) => "-".into(),
        },
        created_at: created_at.unwrap_or(now),
        created_by: match take_str(&mut obj, "created_by")? {
            Some(by) => clean_actor("created_by", &by)?,
            None => actor.to_owned(),
        },
        revoked_at: match (status, revoked_at) {
            (Status::Revoked, at) => at.or(Some(now)),
            // Not dropped in silence: a line that says when a token was revoked and that it is
            // active says two things, and one is false.
            (Status::Active, Some(_)) => {
                return Err("`revoked_at` is for a revoked token, and `status` is active".into());
            }
            (Status::Active, None) => None,
        },
        status,
        last_used_at: take_time(&mut obj, "last_used_at")?,
        use_count: take_u64(&mut obj, "use_count")?.unwrap_or(0),
        last_used_ip: match take_str(&mut obj, "last_used_ip")? {
            Some(ip) => Some(policy::parse_ip(&ip).map_err(|_| {
                format!("`last_used_ip` {} is not an IP address", policy::shown(&ip))
            })?),
            None => None,
        },
        expires_at: take_time(&mut obj, "expires_at")?,
        scopes: policy::check_scopes(&take_strings(&mut obj, "scopes")?)
            .map_err(|e| format!("`scopes`: {e}"))?,
        max_uses: match take_u64(&mut obj, "max_uses")? {
            Some(0) => return Err("`max_uses` must be at least 1".into()),
            n => n,
        },
        allow_ip: policy::parse_ranges(&take_strings(&mut obj, "allow_ip")?)
            .map_err(|e| format!("`allow_ip`: {e}"))?,
        disabled,
        // `enable` takes `disabled_at` away: a token that is not disabled has none.
        disabled_at: match (disabled, take_time(&mut obj, "disabled_at")?) {
            (false, Some(_)) => {
                return Err(
                    "`disabled_at` is for a disabled token, and `disabled` is not true".into(),
                );
            }
            (_, at) => at,
        },
        grace_until: match (status, take_time(&mut obj, "grace_until")?) {
            (Status::Revoked, grace) => grace,
            (Status::Active, Some(_)) => {
                return Err("`grace_until` is for a revoked token still in its grace".into());
            }
            (Status::Active, None) => None,
        },
        replaces: take_id(&mut obj, "replaces")?,
        replaced_by: take_id(&mut obj, "replaced_by")?,
        extra: obj,
    };
    let mut record = record;
    if let Some(max) = record.max_uses.filter(|&max| record.use_count > max) {
        return Err(format!(
            "`use_count` {} is past `max_uses` {max}: no token is used past its limit",
            record.use_count
        ));
    }
    check_rotation_links(&record, id.as_deref())?;
    if created_at.is_none() {
        // Made no later than anything it did: a line that leaves its creation out (another
        // system's token, already used or expired) is taken as made by then, so its export,
        // which gives the time, imports again.
        record.created_at = [
            record.last_used_at,
            record.revoked_at,
            record.disabled_at,
            record.grace_until,
            record.expires_at.and_then(|t| t.checked_add_seconds(-1)),
        ]
        .into_iter()
        .flatten()
        .fold(record.created_at, Time::min);
    }
    check_times(&record, now)?;
    clamp_to_now(&mut record, now);
    debug_assert!(KNOWN.iter().all(|k| !record.extra.contains_key(*k)));
    Ok(Incoming {
        line,
        keeps_id: id.is_some(),
        keeps_seq: seq.is_some(),
        record,
    })
}

/// Checks an audit event read from outside (a backup's `event` line) as the store would have
/// written it: nothing token-shaped anywhere in it (plain or in disguise), no integer a JSON
/// reader cannot hold, no control or invisible character in its text, ids that are ids, a
/// reason verify gives, a count of at least 1, and a time not in the future past the clock
/// skew. `stored` is the event's bytes as the backup holds them.
///
/// # Errors
/// A sentence naming the field at fault (never echoing its value whole).
pub fn check_event(stored: &[u8], event: &Event, now: Time) -> Result<(), String> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(stored) else {
        return Err("the event is not a JSON object".into());
    };
    unique_keys(stored)?;
    token_free(&obj, "an audit event")?;
    if let Some(why) = integer_too_large(&obj) {
        return Err(why);
    }
    let latest = now
        .checked_add_seconds(policy::CLOCK_SKEW_SECONDS)
        .unwrap_or(now);
    if event.at > latest {
        return Err(format!(
            "`at` {} is in the future (this machine's clock says {now}, and allows {} minutes of skew)",
            event.at,
            policy::CLOCK_SKEW_SECONDS / 60
        ));
    }
    if let Some(last) = event.last_at {
        check_last_at(event, last, latest, now)?;
    }
    for (field, id) in [("token_id", &event.token_id), ("replaces", &event.replaces)] {
        if let Some(id) = id
            && !looks_like_id(id)
        {
            return Err(format!("`{field}` is not a token id"));
        }
    }
    if let Some(name) = &event.name {
        clean_shown("name", name)?;
        if name.chars().count() > crate::name::NAME_MAX {
            return Err(format!(
                "`name` is longer than a name may be ({} characters)",
                crate::name::NAME_MAX
            ));
        }
    }
    if event.actor.is_empty() {
        return Err("`actor` is empty: every event names who did it".into());
    }
    clean_actor("actor", &event.actor)?;
    check_event_fields(event)?;
    // The store never writes an empty `tokens` or `ips`: it leaves the key out.
    for key in ["tokens", "ips"] {
        let empty = match obj.get(key) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if empty {
            return Err(format!("`{key}` is empty: a counter leaves it out then"));
        }
    }
    if let Some(detail) = &event.detail {
        if detail.chars().count() > DETAIL_MAX {
            return Err(format!("`detail` is longer than {DETAIL_MAX} characters"));
        }
        if let Some(c) = detail.chars().find(|&c| crate::name::is_invisible(c)) {
            return Err(format!(
                "`detail` holds U+{:04X}, a control or invisible character",
                u32::from(c)
            ));
        }
    }
    Ok(())
}

/// The fields only some kinds of event carry, on the kinds that carry them: a reason (one verify
/// gives for a failure) and a client address on `verify_failed`, a count above 1 on
/// `verify_failed` and `imported`, `replaces` on `rotated`.
fn check_event_fields(event: &Event) -> Result<(), String> {
    use crate::record::EventKind;
    let kind = event.event;
    let failed = kind == EventKind::VerifyFailed;
    if let Some(reason) = &event.reason {
        if !failed {
            return Err(format!(
                "`reason` belongs only to a verify_failed event, not to {}",
                kind.as_str()
            ));
        }
        if !(0..=u8::MAX)
            .filter_map(crate::verdict::Reason::from_code)
            .filter(|r| *r != crate::verdict::Reason::Valid)
            .any(|r| r.as_str() == reason)
        {
            return Err("`reason` is not one a failed verify gives".into());
        }
    }
    if event.ip.is_some() && !failed {
        return Err(format!(
            "`ip` belongs only to a verify_failed event, not to {}",
            kind.as_str()
        ));
    }
    if failed && event.reason.is_none() {
        return Err("`reason` is missing: a verify_failed event says why it failed".into());
    }
    if (!event.tokens.is_empty() || !event.ips.is_empty()) && !failed {
        return Err(format!(
            "`tokens` and `ips` belong only to a verify_failed event, not to {}",
            kind.as_str()
        ));
    }
    check_counted(event)?;
    if event.count == 0 {
        return Err("`count` must be at least 1".into());
    }
    if event.count > 1 && !failed && kind != EventKind::Imported {
        return Err(format!(
            "`count` is {}, and a {} event counts one",
            event.count,
            kind.as_str()
        ));
    }
    if event.replaces.is_some() && kind != EventKind::Rotated {
        return Err(format!(
            "`replaces` belongs only to a rotated event, not to {}",
            kind.as_str()
        ));
    }
    Ok(())
}

/// A failure counter's `tokens` and `ips` as a fold writes them: at most
/// [`crate::record::MAX_TOKENS`] ids, each a token id counted at least once, together no more
/// than `count`; at most [`crate::record::MAX_ADDRESSES`] addresses, none twice.
fn check_counted(event: &Event) -> Result<(), String> {
    // A counter of this layout names its tokens and addresses in `tokens` and `ips`; one of
    // the layout before names one token and one address. Never both.
    if event.last_at.is_some() {
        if event.token_id.is_some() && !event.tokens.is_empty() {
            return Err("`token_id` beside `tokens`: a counter names its tokens one way".into());
        }
        if event.ip.is_some() && !event.ips.is_empty() {
            return Err("`ip` beside `ips`: a counter names its addresses one way".into());
        }
        if event.token_id.is_some()
            && matches!(event.reason.as_deref(), Some("unknown" | "malformed"))
        {
            return Err(format!(
                "`token_id` on a counter of `{}` failures, which are of no token the store has",
                event.reason.as_deref().unwrap_or_default()
            ));
        }
        if event.ip.is_some_and(|ip| ip.to_canonical() != ip) {
            return Err("`ip` is an IPv4 address written as IPv6: verify keeps it as IPv4".into());
        }
        // More addresses than a counter keeps is what that detail says: it keeps the first 16
        // then (a counter of the layout before, naming none, had shared them).
        if event.detail.as_deref() == Some(crate::record::FURTHER_ADDRESSES)
            && event.ips.len() != crate::record::MAX_ADDRESSES
            && !(event.ips.is_empty() && event.tokens.is_empty() && event.ip.is_none())
        {
            return Err(format!(
                "`detail` says there were further addresses, and `ips` holds {}, not {}",
                event.ips.len(),
                crate::record::MAX_ADDRESSES
            ));
        }
    }
    // Only failures of a token the store has are counted by token.
    if !event.tokens.is_empty() && matches!(event.reason.as_deref(), Some("unknown" | "malformed"))
    {
        return Err(format!(
            "`tokens` on a counter of `{}` failures, which are of no token the store has",
            event.reason.as_deref().unwrap_or_default()
        ));
    }
    if event.tokens.len() > crate::record::MAX_TOKENS {
        return Err(format!(
            "`tokens` names {} tokens, and a counter counts at most {}",
            event.tokens.len(),
            crate::record::MAX_TOKENS
        ));
    }
    let mut sum: u64 = 0;
    for (id, n) in &event.tokens {
        if !looks_like_id(id) {
            return Err("`tokens` holds a key that is not a token id".into());
        }
        if *n == 0 {
            return Err(format!(
                "`tokens` counts {id} 0 times: a counter names only tokens that failed"
            ));
        }
        sum = sum.saturating_add(*n);
    }
    // A count held at the JSON bound may be below what its tokens add up to.
    if sum > event.count && event.count < crate::policy::MAX_JSON_INTEGER {
        return Err(format!(
            "`tokens` counts {sum} failures, more than the counter's `count` {}",
            event.count
        ));
    }
    if event.ips.len() > crate::record::MAX_ADDRESSES {
        return Err(format!(
            "`ips` holds {} addresses, and a counter keeps at most {}",
            event.ips.len(),
            crate::record::MAX_ADDRESSES
        ));
    }
    // An IPv4 address written as IPv6 (`::ffff:1.2.3.4`) is that address, as verify keeps it.
    if event.ips.iter().any(|ip| ip.to_canonical() != *ip) {
        return Err("`ips` holds an IPv4 address written as IPv6: verify keeps it as IPv4".into());
    }
    let distinct: std::collections::HashSet<_> = event.ips.iter().collect();
    if distinct.len() != event.ips.len() {
        return Err("`ips` holds an address twice".into());
    }
    // A counter's detail is what a fold writes, or none: text of another's could pass for
    // counts (`; tok_… (lim) x999`).
    if event.last_at.is_some()
        && event
            .detail
            .as_deref()
            .is_some_and(|d| d != crate::record::FURTHER_ADDRESSES)
    {
        return Err(format!(
            "`detail` of a counter is `{}` or absent",
            crate::record::FURTHER_ADDRESSES
        ));
    }
    Ok(())
}

/// A failure counter's `last_at`: only on `verify_failed`, not before `at`, in the same hour
/// (UTC) as `at` (`crate::store`'s counters), and not ahead of the clock past the skew.
fn check_last_at(event: &Event, last: Time, latest: Time, now: Time) -> Result<(), String> {
    if event.event != crate::record::EventKind::VerifyFailed {
        return Err("`last_at` belongs only to a verify_failed event".into());
    }
    if last < event.at {
        return Err(format!("`last_at` {last} is before `at` {}", event.at));
    }
    if last > latest {
        return Err(format!(
            "`last_at` {last} is in the future (this machine's clock says {now}, and allows {} minutes of skew)",
            policy::CLOCK_SKEW_SECONDS / 60
        ));
    }
    if policy::failure_window(last) != policy::failure_window(event.at) {
        return Err(format!(
            "`last_at` {last} is not in the hour of `at` {}: a counter counts one hour",
            event.at
        ));
    }
    Ok(())
}

/// Checks what a backup's header says of where it came from, as [`check_event`] checks an
/// event: a store id of 32 hex digits, a user name as an actor may be, a time not ahead of the
/// clock past the skew.
///
/// # Errors
/// A sentence naming the field at fault.
pub fn check_backup_head(
    store_id: &str,
    taken_by: &str,
    taken_at: Time,
    now: Time,
) -> Result<(), String> {
    if store_id.len() != 32 || !store_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("`store_id` is not 32 hex digits".into());
    }
    if holds_token(taken_by) {
        return Err("`taken_by` holds something shaped like a token (vbx_…)".into());
    }
    clean_actor("taken_by", taken_by)?;
    let latest = now
        .checked_add_seconds(policy::CLOCK_SKEW_SECONDS)
        .unwrap_or(now);
    if taken_at > latest {
        return Err(format!("`taken_at` {taken_at} is in the future"));
    }
    Ok(())
}

/// Hashes a plaintext token from the line, checking our format unless told not to. Returns the
/// hash and the hint to show.
fn hash_plaintext(token: &str, rules: ImportRules) -> Result<(TokenHash, String), String> {
    match Token::parse(token) {
        Ok(t) => Ok((t.hash(), t.hint())),
        Err(e) if rules.any_format => {
            // Only what verify can look up is taken (`token::lookup_hash`): a token it would
            // call malformed could never be used, and its hint (its first characters) could
            // hold invisible ones, which no line may (found by the `import` fuzz target).
            if token.starts_with(token::PREFIX) {
                return Err(format!(
                    "`token` starts with `{}` but is not a vbx-tokens token ({e})",
                    token::PREFIX
                ));
            }
            if token::lookup_hash(token).is_none() {
                return Err(
                    "`token` must be one word of printable ASCII, at most 256 characters: verify takes no other"
                        .into(),
                );
            }
            // Another system's token may be short: its hint shows a quarter of it at most,
            // and nothing of one shorter than 16 characters.
            let shown = if token.chars().count() >= 16 { 4 } else { 0 };
            Ok((
                TokenHash::of(token),
                token.chars().take(shown).collect::<String>() + "…",
            ))
        }
        Err(e) => Err(format!(
            "`token` is not a vbx-tokens token ({e}); pass --any-format to accept another system's tokens"
        )),
    }
}

fn take_str(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn take_bool(obj: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(_) => Err(format!("`{key}` must be true or false")),
    }
}

fn take_strings(obj: &mut Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(format!("`{key}` must be an array of strings")),
            })
            .collect(),
        Some(_) => Err(format!("`{key}` must be an array of strings")),
    }
}

/// A record's rotation links as `rotate` leaves them: never to itself, and `replaced_by` only
/// on a revoked token (one in its grace is stored revoked too), so `rotate` of an active token
/// is never refused for a successor it does not have.
fn check_rotation_links(r: &Record, id: Option<&str>) -> Result<(), String> {
    for (field, link) in [("replaces", &r.replaces), ("replaced_by", &r.replaced_by)] {
        if link.is_some() && link.as_deref() == id {
            return Err(format!("`{field}` names the token itself"));
        }
    }
    if r.replaces.is_some() && r.replaces == r.replaced_by {
        return Err("`replaces` and `replaced_by` name one token".into());
    }
    // A grace is what `rotate --grace` gives the token it replaced: revoked at the grace's
    // end, with a successor. Without one it would be a revoked token that verifies.
    if let Some(end) = r.grace_until {
        if r.replaced_by.is_none() {
            return Err(
                "`grace_until` is for a token a rotation replaced, and `replaced_by` is missing"
                    .into(),
            );
        }
        if r.revoked_at != Some(end) {
            return Err(
                "`grace_until` must be the `revoked_at` of the token it lets verify until then"
                    .into(),
            );
        }
    }
    if r.replaced_by.is_some() && r.status == Status::Active {
        return Err(
            "`replaced_by` is for a token a rotation replaced, which is revoked, and `status` is active"
                .into(),
        );
    }
    Ok(())
}

/// Checks the rotation links between records, as `rotate` leaves them: a token and its
/// successor name each other (`replaced_by` one way, `replaces` the other), share one name,
/// and the successor was made no earlier. A token still in its grace must reach, through
/// successors that are all there, one that is not revoked: revoking that one is what ends the
/// grace (`revoke` walks `replaces` back from it), so a grace with a missing, foreign or
/// revoked end would let a revoked token verify for as long as the grace says.
///
/// A link to a token that is in neither the input nor the store is left alone unless a grace
/// depends on it: an export of some tokens carries links to ones it left out.
///
/// Checks, once an import has put every record in (where `get` reads them, with the
/// store's), the rotation links of each imported record in `linked` (its id and line),
/// with a [`RotationCheck`].
///
/// # Errors
/// `get`'s; [`crate::Error::Usage`] naming the line of the first record whose links do not
/// hold.
pub fn check_imported_rotations(
    linked: &[(String, usize)],
    get: impl Fn(&str) -> crate::Result<Option<Record>>,
) -> crate::Result<()> {
    let mut rotation = RotationCheck::new(Time::now());
    for (id, line) in linked {
        let Some(record) = get(id)? else {
            continue;
        };
        rotation
            .check(&record, &get)?
            .map_err(|e| crate::Error::usage(format!("line {line}: {e}; nothing was imported")))?;
    }
    Ok(())
}

/// Remembers the tokens already known to reach a live end, so a whole input is checked in
/// time linear in its records, however long its chains.
#[derive(Debug)]
pub struct RotationCheck {
    now: Time,
    live: std::collections::HashSet<String>,
}

impl RotationCheck {
    pub fn new(now: Time) -> RotationCheck {
        RotationCheck {
            now,
            live: std::collections::HashSet::new(),
        }
    }

    /// Checks `record`'s links, `get` giving the record of an id (from the input or the
    /// store; `None` when neither has it).
    ///
    /// # Errors
    /// The outer error is `get`'s; the inner one a sentence naming the field at fault.
    pub fn check<E>(
        &mut self,
        record: &Record,
        mut get: impl FnMut(&str) -> Result<Option<Record>, E>,
    ) -> Result<Result<(), String>, E> {
        if let Some(next) = &record.replaced_by
            && let Some(next) = get(next)?
            && let Err(e) = rotation_pair(record, &next)
        {
            return Ok(Err(e));
        }
        if let Some(prev) = &record.replaces
            && let Some(prev) = get(prev)?
            && let Err(e) = rotation_pair(&prev, record)
        {
            return Ok(Err(e));
        }
        if !record.in_grace(self.now) {
            return Ok(Ok(()));
        }
        let mut walked = std::collections::HashSet::from([record.id.clone()]);
        let mut at = record.clone();
        loop {
            let Some(next_id) = at.replaced_by.clone() else {
                return Ok(Err(format!(
                    "`grace_until`: its successor {} was revoked without being replaced, which ends the grace of every token it replaced",
                    at.id
                )));
            };
            if self.live.contains(&next_id) {
                break;
            }
            let Some(next) = get(&next_id)? else {
                return Ok(Err(format!(
                    "`replaced_by` {next_id} is a token neither the input nor the store has, and a token in its grace needs the successor whose revocation ends the grace"
                )));
            };
            if let Err(e) = rotation_pair(&at, &next) {
                return Ok(Err(e));
            }
            if !walked.insert(next_id.clone()) {
                return Ok(Err(format!(
                    "`replaced_by`: its successors come back to {next_id}, and a grace must end in a token that is not revoked"
                )));
            }
            if next.status != Status::Revoked {
                break;
            }
            at = next;
        }
        self.live.extend(walked);
        Ok(Ok(()))
    }
}

/// A token and the successor a rotation gave it, as `rotate` links them.
fn rotation_pair(prev: &Record, next: &Record) -> Result<(), String> {
    if prev.replaced_by.as_deref() != Some(&next.id) {
        return Err(format!(
            "`replaces`: {} names {} as the token it replaced, and that one's `replaced_by` is not {}",
            next.id, prev.id, next.id
        ));
    }
    if next.replaces.as_deref() != Some(&prev.id) {
        return Err(format!(
            "`replaced_by`: {} names {} as its successor, and that one's `replaces` is not {}",
            prev.id, next.id, prev.id
        ));
    }
    if prev.name != next.name {
        return Err(format!(
            "`name`: {} and its successor {} have different names, and a rotation keeps the name",
            prev.id, next.id
        ));
    }
    if next.created_at < prev.created_at {
        return Err(format!(
            "`created_at`: {}'s successor {} was made before it",
            prev.id, next.id
        ));
    }
    Ok(())
}

/// A token id another field points at (`replaces`, `replaced_by`).
fn take_id(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match take_str(obj, key)? {
        Some(id) if !looks_like_id(&id) => {
            Err(format!("`{key}` {} is not a token id", policy::shown(&id)))
        }
        id => Ok(id),
    }
}

fn take_u64(obj: &mut Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("`{key}` must be a whole number"))
            .and_then(|n| policy::check_json_integer(&format!("`{key}`"), n))
            .map(Some),
    }
}

/// The first integer anywhere in the line (a field this build does not know included) that a
/// JSON reader could not hold exactly, as the sentence naming its field.
pub(crate) fn integer_too_large(obj: &Map<String, Value>) -> Option<String> {
    fn walk(key: &str, v: &Value) -> Option<String> {
        match v {
            Value::Number(n) => match n.as_u64().or_else(|| n.as_i64().map(i64::unsigned_abs)) {
                // Shown as written, sign and all.
                Some(magnitude) => (magnitude > policy::MAX_JSON_INTEGER)
                    .then(|| policy::too_large(&format!("`{key}`"), n)),
                // A number written with a fraction or exponent, or past i64: a reader holds it
                // as a double, which is exact for whole numbers only up to the same bound.
                // Not quoted: its nearest double is all there is to show, and that is not the
                // number written (9007199254740991.5 reads as 9007199254740992.0).
                None => n
                    .as_f64()
                    .filter(|f| f.abs() > policy::MAX_JSON_INTEGER as f64)
                    .map(|_| policy::past_the_bound(&format!("the number in `{key}`"))),
            },
            // Named by its whole path (`x.y[0]`), so a nested one is found at once.
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(&format!("{key}[{i}]"), item)),
            Value::Object(map) => map
                .iter()
                .find_map(|(k, item)| walk(&format!("{key}.{k}"), item)),
            _ => None,
        }
    }
    obj.iter().find_map(|(k, v)| walk(k, v))
}

/// Times that cannot be: in the future (past [`policy::CLOCK_SKEW_SECONDS`]) for what has
/// happened already, and out of order with the token's creation. `expires_at` and
/// `grace_until` lie ahead by nature; a revoked token still in its grace is stored revoked at
/// the grace's end, so its `revoked_at` may be as far ahead as that.
fn check_times(r: &Record, now: Time) -> Result<(), String> {
    let latest = now
        .checked_add_seconds(policy::CLOCK_SKEW_SECONDS)
        .unwrap_or(now);
    let past = [
        ("created_at", Some(r.created_at)),
        ("last_used_at", r.last_used_at),
        ("disabled_at", r.disabled_at),
        (
            "revoked_at",
            r.revoked_at
                .filter(|at| r.grace_until.is_none_or(|end| *at > end)),
        ),
    ];
    for (field, at) in past {
        if let Some(at) = at
            && at > latest
        {
            return Err(format!(
                "`{field}` {at} is in the future (this machine's clock says {now}, and allows {} minutes of skew)",
                policy::CLOCK_SKEW_SECONDS / 60
            ));
        }
    }
    let created = r.created_at;
    let after_creation = [
        ("last_used_at", r.last_used_at),
        ("revoked_at", r.revoked_at),
        ("disabled_at", r.disabled_at),
    ];
    for (field, at) in after_creation {
        if let Some(at) = at
            && at < created
        {
            return Err(format!(
                "`{field}` {at} is before the token was created (`created_at` {created})"
            ));
        }
    }
    // Verify answers no for a revoked token (past its grace, which is when `revoked_at` is) or
    // a disabled one, so none was used after.
    if let Some(used) = r.last_used_at {
        for (field, at) in [("revoked_at", r.revoked_at), ("disabled_at", r.disabled_at)] {
            if let Some(at) = at
                && used > at
            {
                return Err(format!(
                    "`last_used_at` {used} is after `{field}` {at}: a token is not used once it is {}",
                    if field == "revoked_at" {
                        "revoked"
                    } else {
                        "disabled"
                    }
                ));
            }
        }
    }
    if let Some(end) = r.expires_at
        && end <= created
    {
        return Err(format!(
            "`expires_at` {end} is not after the token was created (`created_at` {created})"
        ));
    }
    if let Some(end) = r.grace_until
        && now
            .checked_add_seconds(policy::MAX_GRACE_SECONDS + policy::CLOCK_SKEW_SECONDS)
            .is_some_and(|last| end > last)
    {
        return Err(format!(
            "`grace_until` {end} is more than {} days ahead: a grace may be that long at the most",
            policy::MAX_GRACE_SECONDS / 86_400
        ));
    }
    if let Some(end) = r.grace_until
        && end < created
    {
        return Err(format!(
            "`grace_until` {end} is before the token was created (`created_at` {created})"
        ));
    }
    Ok(())
}

/// Takes what has happened already and lies ahead of the clock within the skew as happened now:
/// kept ahead, the next revoke or use here would come before it, and the record would hold
/// times out of order.
fn clamp_to_now(r: &mut Record, now: Time) {
    let in_grace = r.grace_until.is_some();
    for at in [
        Some(&mut r.created_at),
        r.last_used_at.as_mut(),
        r.disabled_at.as_mut(),
        r.revoked_at.as_mut().filter(|_| !in_grace),
    ]
    .into_iter()
    .flatten()
    {
        *at = (*at).min(now);
    }
}

/// A time, kept to the whole second in UTC whatever offset or fraction the line gave.
fn take_time(obj: &mut Map<String, Value>, key: &str) -> Result<Option<Time>, String> {
    match take_str(obj, key)? {
        None => Ok(None),
        Some(s) => s
            .parse::<Time>()
            .map(Some)
            .map_err(|e| format!("`{key}` {} {e}", policy::shown(&s))),
    }
}

/// `created_by` is shown in tables: at most 256 characters, under a name's character rules.
fn clean_actor(field: &str, by: &str) -> Result<String, String> {
    // Blank, it would show an empty BY column: someone made the token.
    if by.trim().is_empty() {
        return Err(format!(
            "`{field}` is empty: leave it out to record the user importing it"
        ));
    }
    if by.chars().count() > 256 {
        return Err(format!("`{field}` is longer than 256 characters"));
    }
    clean_shown(field, by)
}

/// A field shown as it is (`hint`, `created_by`): no control or invisible characters.
fn clean_shown(field: &str, text: &str) -> Result<String, String> {
    crate::name::check_visible(&format!("`{field}`"), text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

/// Refuses a JSON line in which one object gives a key twice, at any depth. RFC 8259 leaves
/// what that means to the reader, and I-JSON (RFC 7493 §2.3) forbids it: a reader keeps the
/// last, so a first one (`"note":"vbx_…","note":null`) would pass every check unseen.
///
/// # Errors
/// A sentence naming the key (or "a key", when it looks like a token); what serde_json says of
/// a line that is not JSON.
pub fn unique_keys(line: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<Unique>(line)
        .map(drop)
        .map_err(|e| {
            // Without serde_json's "at line 1 column N": the caller names the line.
            let said = e.to_string();
            said.rsplit_once(" at line ")
                .map_or(said.clone(), |(what, _)| what.to_owned())
        })
}

/// A JSON value, read only to find a key given twice in one object ([`unique_keys`]).
struct Unique;

impl<'de> serde::Deserialize<'de> for Unique {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
        d.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        use serde::de::Error as _;
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                let named = if holds_token(&key) {
                    "a key".to_owned()
                } else {
                    format!("`{}`", crate::name::escape_invisible(&key))
                };
                return Err(A::Error::custom(format!(
                    "{named} is given twice in one object: a reader would keep only the last"
                )));
            }
            map.next_value::<Unique>()?;
            seen.insert(key);
        }
        Ok(Unique)
    }
}

/// Refuses `obj` (a JSON line: an audit event, a backup's header) when any key or string in
/// it, at any depth and in any field this build knows or not, holds something token-shaped;
/// `what` names the kind of line, which never holds one.
///
/// # Errors
/// A sentence naming the field (or "a key"), never echoing its value.
pub fn token_free(obj: &Map<String, Value>, what: &str) -> Result<(), String> {
    match obj
        .iter()
        .find(|(k, v)| holds_token(k) || holds_token_shape(v))
    {
        None => Ok(()),
        Some((k, _)) => {
            let key = if holds_token(k) {
                "a key".to_owned()
            } else {
                format!("`{k}`")
            };
            Err(format!(
                "{key} holds something shaped like a token (vbx_…): {what} never does"
            ))
        }
    }
}

/// True when any string in `v`, at any depth, is token-shaped.
fn holds_token_shape(v: &Value) -> bool {
    match v {
        Value::String(s) => holds_token(s),
        Value::Array(items) => items.iter().any(holds_token_shape),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| holds_token(k) || holds_token_shape(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        Time::from_second(1_800_000_000).expect("in range")
    }

    fn parse(line: &str) -> Result<Incoming, String> {
        parse_line(1, line, ImportRules::default(), now(), "me")
    }

    #[test]
    fn times_ahead_within_the_skew_are_taken_as_now() {
        let ahead = now().checked_add_seconds(120).expect("in range");
        let end = now().checked_add_seconds(180).expect("in range");
        let sha = "0".repeat(64);
        let line = format!(
            r#"{{"name":"n","sha256":"{sha}","created_at":"{ahead}","last_used_at":"{ahead}","expires_at":"{end}"}}"#
        );
        let r = parse(&line).expect("within the skew").record;
        assert_eq!((r.created_at, r.last_used_at), (now(), Some(now())));
        assert_eq!(r.expires_at, Some(end), "an expiry lies ahead by nature");
    }

    #[test]
    fn a_grace_past_its_longest_and_a_double_past_the_bound_are_refused() {
        let sha = "0".repeat(64);
        let far = now()
            .checked_add_seconds(policy::MAX_GRACE_SECONDS + policy::CLOCK_SKEW_SECONDS + 1)
            .expect("in range");
        let line = format!(
            r#"{{"name":"n","sha256":"{sha}","status":"revoked","revoked_at":"{far}","grace_until":"{far}"}}"#
        );
        assert!(parse(&line).unwrap_err().contains("`grace_until`"));
        for number in ["1e17", "-9007199254740992.5", "18446744073709551616"] {
            let line = format!(r#"{{"name":"n","sha256":"{sha}","x":{{"y":[{number}]}}}}"#);
            let err = parse(&line).unwrap_err();
            assert!(
                err.contains("`x.y[0]`") && err.contains("9007199254740991"),
                "{err}"
            );
        }
        let line = format!(r#"{{"name":"n","sha256":"{sha}","x":1.5e15}}"#);
        assert!(
            parse(&line).is_ok(),
            "a double a reader holds exactly is kept"
        );
    }

    #[test]
    fn an_event_carries_only_the_fields_its_kind_does() {
        let failed = |reason: &str| {
            let mut e = Event::new(crate::record::EventKind::VerifyFailed, None, "me", now());
            e.reason = Some(reason.into());
            e.count = 3;
            e
        };
        assert!(check_event_fields(&failed("revoked")).is_ok());
        assert!(
            check_event_fields(&failed("valid")).is_err(),
            "never a failure"
        );
        let mut created = failed("revoked");
        created.event = crate::record::EventKind::Created;
        assert!(
            check_event_fields(&created)
                .unwrap_err()
                .contains("`reason`")
        );
        created.reason = None;
        assert!(
            check_event_fields(&created)
                .unwrap_err()
                .contains("`count`")
        );
        created.count = 1;
        assert!(check_event_fields(&created).is_ok());
    }

    #[test]
    fn a_plaintext_token_is_hashed_and_defaults_fill_in() {
        let t = Token::generate();
        let item = parse(&format!(r#"{{"name":" n ","token":"{}"}}"#, t.expose())).expect("ok");
        assert!(!item.keeps_id && !item.keeps_seq);
        let r = item.record;
        assert_eq!(r.name, "n");
        assert_eq!(r.sha256, t.hash().to_hex());
        assert_eq!(r.hint, t.hint());
        assert_eq!(r.status, Status::Active);
        assert_eq!(r.created_at, now());
        assert_eq!(r.created_by, "me");
        assert!(r.extra.is_empty());
        assert!(
            !serde_json::to_string(&r)
                .expect("json")
                .contains(t.expose())
        );
    }

    #[test]
    fn an_exported_record_round_trips() {
        let line = r#"{"v":2,"id":"tok_abcd1234","seq":7,"name":"n","note":"x","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","hint":"vbx_AAAA","created_at":"2026-01-01T00:00:00Z","created_by":"u","status":"revoked","revoked_at":"2026-02-01T00:00:00Z","last_used_at":"2026-01-15T00:00:00Z","use_count":3,"last_used_ip":"10.0.0.7","expires_at":"2027-01-01T00:00:00Z","scopes":["invoices:read","orders"],"max_uses":9,"allow_ip":["10.0.0.0/8","2001:db8::/32"],"disabled":true,"disabled_at":"2026-01-20T00:00:00Z","grace_until":"2026-02-01T00:00:00Z","replaces":"tok_00000000","replaced_by":"tok_11111111","future_field":{"a":1}}"#;
        let item = parse(line).expect("ok");
        assert!(item.keeps_id && item.keeps_seq);
        let r = item.record;
        let back: Value = serde_json::to_value(&r).expect("json");
        let orig: Value = serde_json::from_str(line).expect("json");
        assert_eq!(back, orig);
    }

    #[test]
    fn a_large_number_in_an_unknown_field_survives_export_and_import() {
        // Found by the `import` fuzz target (fuzz/regressions/import/): without serde_json's
        // float_roundtrip, 6e23 was read as one float and its export as the next one up.
        let sha = "0".repeat(64);
        // Past 2^53 - 1 it is refused (I-JSON): a reader would not hold it exactly.
        for number in ["600000000000000000000000", "600000000000000000000000111"] {
            let line = format!(r#"{{"name":"0","sha256":"{sha}","0":{number}}}"#);
            assert!(parse(&line).unwrap_err().contains("9007199254740991"));
        }
        for number in ["0.1", "1e-300", "9007199254740991.0"] {
            let line = format!(r#"{{"name":"0","sha256":"{sha}","0":{number}}}"#);
            let r = parse(&line).expect("ok").record;
            let mut exported = serde_json::to_value(&r).expect("json");
            exported.as_object_mut().expect("object").remove("id");
            let again = parse(&exported.to_string())
                .expect("its export imports")
                .record;
            assert_eq!(again, r, "{number}");
        }
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let sha = "a".repeat(64);
        for (line, needle) in [
            ("nope", "not JSON"),
            ("[1]", "not a JSON object"),
            (r#"{"token":"x"}"#, "`name`"),
            (r#"{"name":"n"}"#, "`token` or `sha256`"),
            (r#"{"name":"n","token":"abc"}"#, "--any-format"),
            (r#"{"name":"n","sha256":"zz"}"#, "64 hex"),
            (
                &format!(r#"{{"name":"n","sha256":"{sha}","status":"gone"}}"#),
                "`status`",
            ),
            (
                &format!(r#"{{"name":"n","sha256":"{sha}","id":"x"}}"#),
                "`id`",
            ),
            (
                &format!(r#"{{"name":"n","sha256":"{sha}","use_count":-1}}"#),
                "`use_count`",
            ),
            (
                &format!(r#"{{"name":"n","sha256":"{sha}","created_at":"yesterday"}}"#),
                "`created_at`",
            ),
            (
                &format!(r#"{{"name":"n","sha256":"{sha}","v":9}}"#),
                "newer",
            ),
            (&format!(r#"{{"name":"","sha256":"{sha}"}}"#), "empty"),
        ] {
            let err = parse(line).expect_err(line);
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn any_format_accepts_foreign_tokens() {
        let rules = ImportRules { any_format: true };
        let item = parse_line(
            1,
            r#"{"name":"n","token":"sk_live_123"}"#,
            rules,
            now(),
            "me",
        )
        .expect("ok");
        assert_eq!(item.record.sha256, TokenHash::of("sk_live_123").to_hex());
        assert!(parse_line(1, r#"{"name":"n","token":"a b"}"#, rules, now(), "me").is_err());
        let short = parse_line(1, r#"{"name":"n","token":"s3cR"}"#, rules, now(), "me");
        assert_eq!(short.expect("ok").record.hint, "…");
    }

    #[test]
    fn any_format_takes_only_tokens_verify_can_find() {
        // Found by the `import` fuzz target (fuzz/regressions/import/): a foreign token with an
        // unassigned code point was imported, its hint held it, and its own export was refused.
        let rules = ImportRules { any_format: true };
        for token in [
            "sk\u{0C11}_n1500^n0711",
            "s\u{0711}\u{0601}500^n0711",
            "caf\u{e9}-token",
            "a b",
            "",
            &"x".repeat(257),
            "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq18",
        ] {
            let line = serde_json::json!({ "name": "n", "token": token }).to_string();
            assert!(
                parse_line(1, &line, rules, now(), "me").is_err(),
                "{token:?}"
            );
            assert_eq!(token::lookup_hash(token), None, "{token:?}");
        }
        for token in [
            "sk_live_123",
            "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
            &"x".repeat(256),
        ] {
            let line = serde_json::json!({ "name": "n", "token": token }).to_string();
            let r = parse_line(1, &line, rules, now(), "me")
                .expect(token)
                .record;
            assert_eq!(
                token::lookup_hash(token).map(|h| h.to_hex()),
                Some(r.sha256)
            );
        }
    }

    #[test]
    fn times_are_kept_to_the_second_in_utc() {
        let sha = "a".repeat(64);
        let line = format!(
            r#"{{"name":"n","sha256":"{sha}","created_at":"2025-01-02T03:04:05.250Z","last_used_at":"2025-01-03T00:00:00.9+02:00","status":"revoked","revoked_at":"2025-01-04T00:00:00.5Z"}}"#
        );
        let r = parse(&line).expect("ok").record;
        assert_eq!(r.created_at.to_string(), "2025-01-02T03:04:05Z");
        assert_eq!(
            r.last_used_at.expect("set").to_string(),
            "2025-01-02T22:00:00Z"
        );
        assert_eq!(
            r.revoked_at.expect("set").to_string(),
            "2025-01-04T00:00:00Z"
        );
        let json = serde_json::to_string(&r).expect("json");
        assert!(!json.contains(".250") && !json.contains("+02:00"), "{json}");
        let far = format!(r#"{{"name":"n","sha256":"{sha}","created_at":"1969-01-01T00:00:00Z"}}"#);
        assert!(parse(&far).expect_err("range").contains("1970"));
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        let t = Token::generate();
        let sha = t.hash().to_hex();
        for line in [
            format!(
                r#"{{"name":"n","sha256":"{sha}","note":"{}","note":null}}"#,
                t.expose()
            ),
            format!(r#"{{"name":"n","sha256":"{sha}","x":{{"a":1,"a":2}}}}"#),
            format!(
                r#"{{"name":"n","sha256":"{sha}","x":[{{"k":"{}","k":""}}]}}"#,
                t.expose()
            ),
        ] {
            let err = parse(&line).expect_err("a key twice");
            assert!(err.contains("given twice"), "{err}");
            assert!(!err.contains(t.expose()), "{err}");
        }
        // The same key in two objects is fine.
        assert!(
            parse(&format!(
                r#"{{"name":"n","sha256":"{sha}","x":[{{"a":1}},{{"a":2}}]}}"#
            ))
            .is_ok()
        );
    }

    #[test]
    fn a_blank_created_by_is_refused() {
        let sha = Token::generate().hash().to_hex();
        for blank in ["", "   "] {
            let line = format!(r#"{{"name":"n","sha256":"{sha}","created_by":"{blank}"}}"#);
            let err = parse(&line).expect_err("blank");
            assert!(err.contains("`created_by` is empty"), "{err}");
        }
    }

    #[test]
    fn a_token_anywhere_but_in_token_is_refused() {
        let t = Token::generate();
        let sha = t.hash().to_hex();
        for field in ["note", "created_by", "hint", "comment", "name"] {
            let line = format!(
                r#"{{"name":"n","sha256":"{sha}","{field}":"x {}"}}"#,
                t.expose()
            );
            let err = parse(&line).expect_err(field);
            assert!(!err.contains(t.expose()), "{err}");
        }
        let as_key = format!(r#"{{"name":"n","sha256":"{sha}","{}":1}}"#, t.expose());
        let err = parse(&as_key).expect_err("a key");
        assert!(err.starts_with("a key holds"), "{err}");
        assert!(!err.contains(&t.expose()[8..]), "{err}");
        let nested = format!(
            r#"{{"name":"n","sha256":"{sha}","meta":{{"k":["{}"]}}}}"#,
            t.expose()
        );
        assert!(parse(&nested).expect_err("nested").contains("`meta`"));
        let ok = format!(r#"{{"name":"n","token":"{}"}}"#, t.expose());
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn a_hint_is_never_longer_than_ours() {
        let sha = "a".repeat(64);
        let line = format!(r#"{{"name":"n","sha256":"{sha}","hint":"abcdefghijklmnop"}}"#);
        assert_eq!(parse(&line).expect("ok").record.hint, "abcdefgh");
    }
}
