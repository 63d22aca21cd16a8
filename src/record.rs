//! The data the store keeps: token records and audit events.
//!
//! Records are stored as JSON carrying a format version `v`. New fields arrive with
//! `#[serde(default)]` so stores written today keep opening; fields this build does not know are
//! carried through untouched (`extra`), and a record from a newer format is refused rather than
//! half-understood (a newer field may be an expiry this build would ignore).

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::policy::{Facts, State};
use crate::time::Time;

/// Token ids: a prefix that says what they are (`tok_`), then [`ID_LEN`] characters of `0-9a-z`.
pub const ID_PREFIX: &str = "tok_";
/// How many characters of `0-9a-z` follow [`ID_PREFIX`] in a token id.
pub const ID_LEN: usize = 8;

/// True for strings shaped like a token id (`tok_` and 8 of `0-9a-z`); names may not look like
/// one, so an id and a name can never be confused.
pub fn looks_like_id(s: &str) -> bool {
    s.strip_prefix(ID_PREFIX).is_some_and(|rest| {
        rest.len() == ID_LEN
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// The record format this build writes and fully understands. Format 2 added the policy
/// fields (expiry, scopes, a use limit, address ranges, suspension, rotation): a build that
/// knows only format 1 must refuse such a record rather than ignore its expiry.
pub const RECORD_VERSION: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Revoked => "revoked",
        }
    }
}

/// One token as stored. It holds the token's SHA-256, never the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub v: u32,
    pub id: String,
    /// Creation order within this store: times are kept to the second, and tokens made in the
    /// same second still list in the order they were made.
    #[serde(default)]
    pub seq: u64,
    pub name: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Hex SHA-256 of the whole token: the lookup key, and what an export carries.
    pub sha256: String,
    pub hint: String,
    pub created_at: Time,
    pub created_by: String,
    pub status: Status,
    #[serde(default)]
    pub revoked_at: Option<Time>,
    #[serde(default)]
    pub last_used_at: Option<Time>,
    #[serde(default)]
    pub use_count: u64,
    /// The address given to the last counted `verify --ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_ip: Option<IpAddr>,
    /// From then on, verify answers `expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Time>,
    /// What the token may do; none means full access. Sorted, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The most valid, counted verifies; the next answers `usage_exceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    /// The address ranges it may be used from; none means anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_ip: Vec<IpNet>,
    /// Suspended by `disable` (since `disabled_at`) until `enable`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<Time>,
    /// A token replaced by `rotate --grace` is stored revoked, with `revoked_at` at the end of
    /// its grace, and keeps verifying until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<Time>,
    /// The token this one replaced (`rotate`), and the one that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Fields written by a later build, kept as they are when this build rewrites the record.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    /// Stored as active (it may still be expired or disabled: see [`Record::state_at`]).
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }

    /// What decides its status and verify's answers.
    pub fn facts(&self) -> Facts<'_> {
        Facts {
            revoked: self.status == Status::Revoked,
            grace_until: self.grace_until,
            disabled: self.disabled,
            expires_at: self.expires_at,
            max_uses: self.max_uses,
            scopes: &self.scopes,
            allow_ip: &self.allow_ip,
        }
    }

    /// Its status at `now`: active, revoked, expired or disabled.
    pub fn state_at(&self, now: Time) -> State {
        crate::policy::state(&self.facts(), now)
    }

    /// Still in the grace a rotation gave it at `now`.
    pub fn in_grace(&self, now: Time) -> bool {
        self.status == Status::Revoked && self.grace_until.is_some_and(|end| now < end)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a record always serialises")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Record> {
        let record: Record = serde_json::from_slice(bytes).map_err(|e| {
            Error::store(format!(
                "store damaged: a token record does not parse ({e})"
            ))
        })?;
        if record.v > RECORD_VERSION {
            return Err(Error::store(format!(
                "token {} was written by a newer vbx-tokens (record format {}, this build knows {}): upgrade vbx-tokens",
                record.id, record.v, RECORD_VERSION
            )));
        }
        Ok(record)
    }
}

/// What happened, in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Revoked,
    VerifyFailed,
    VaultInit,
    Revealed,
    Forgotten,
    PassphraseChanged,
    VaultExported,
    VaultImported,
    Imported,
    Rotated,
    Disabled,
    Enabled,
    Extended,
    BackedUp,
    Restored,
    /// A PostgreSQL role was given the right to verify (`grant-verify`).
    GrantedVerify,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Revoked => "revoked",
            EventKind::VerifyFailed => "verify_failed",
            EventKind::VaultInit => "vault_init",
            EventKind::Revealed => "revealed",
            EventKind::Forgotten => "forgotten",
            EventKind::PassphraseChanged => "passphrase_changed",
            EventKind::VaultExported => "vault_exported",
            EventKind::VaultImported => "vault_imported",
            EventKind::Imported => "imported",
            EventKind::Rotated => "rotated",
            EventKind::Disabled => "disabled",
            EventKind::Enabled => "enabled",
            EventKind::Extended => "extended",
            EventKind::BackedUp => "backed_up",
            EventKind::Restored => "restored",
            EventKind::GrantedVerify => "granted_verify",
        }
    }
}

/// The most tokens one counter counts failures of; a reason, user and hour with more has
/// further counters. About 20 bytes each, so a counter stays small enough to write again at
/// every fold.
pub const MAX_TOKENS: usize = 64;
/// The most client addresses a counter keeps; failures from further addresses are counted,
/// and its `detail` is [`FURTHER_ADDRESSES`].
pub const MAX_ADDRESSES: usize = 16;
/// The `detail` of a counter that had failures from more than [`MAX_ADDRESSES`] addresses.
pub const FURTHER_ADDRESSES: &str = "and from further addresses";

/// One audit log entry. Never holds a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: Time,
    pub event: EventKind,
    pub token_id: Option<String>,
    /// The token's name when the event happened, for reading the log without a lookup.
    #[serde(default)]
    pub name: Option<String>,
    pub actor: String,
    /// Why a verification failed; `null` for other events.
    #[serde(default)]
    pub reason: Option<String>,
    /// How many times it happened. 1 for everything but `verify_failed`, which is a counter:
    /// the failures of one reason, token (when the token is known) and user within one hour
    /// (UTC), `at` the first and `last_at` the last (`crate::store`'s fold).
    #[serde(default = "one")]
    pub count: u64,
    /// `verify_failed`: the time of the last failure the event counts, in the same hour as
    /// `at`. Absent from events written before failures were counted by the hour, which count a
    /// run in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<Time>,
    /// `rotated`: the id of the token the new one (`token_id`) replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// What else there is to know: a new expiry, a grace's end, why a bulk revoke chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `verify_failed` written before counters held many tokens: the client address `verify
    /// --ip` gave, if any (the latest failure's that gave one). Counters now keep `ips`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// `verify_failed`: how many of `count` were of each token that is this store's, by id (a
    /// failure of a token the store does not have names none). At most
    /// [`MAX_TOKENS`] a counter.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tokens: BTreeMap<String, u64>,
    /// `verify_failed`: the client addresses `verify --ip` gave, first seen first, at most
    /// [`MAX_ADDRESSES`] (`detail` says when there were more).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpAddr>,
    /// Lowercase hex SHA-256 of the previous event's stored bytes, or 64 zeros for the first
    /// (`crate::chain`). Set by the store when it appends; empty in events from before format 4
    /// until the migration chains them.
    #[serde(default)]
    pub prev: String,
}

fn one() -> u64 {
    1
}

/// The longest `detail` an event may carry, in characters: `restore` refuses a longer one, so
/// the store never writes one ([`fit_detail`]).
pub const DETAIL_MAX: usize = 4096;

/// `text` as an event's `detail`: anything token-shaped masked, its invisible characters escaped
/// (`crate::name`), and, when
/// that is longer than [`DETAIL_MAX`] characters (a file name, escaped, can be: a path may be
/// longer than `PATH_MAX` when relative to a deep directory, and each byte that is not UTF-8
/// takes four), cut to fit, ending in `…`. So every event the store writes is one `restore`
/// takes back.
pub fn fit_detail(text: &str) -> String {
    // The log never holds a token: one in a file name is masked as a hint is.
    let escaped = crate::name::escape_invisible(crate::error::Masked::new(text).as_str());
    if escaped.chars().count() <= DETAIL_MAX {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(DETAIL_MAX - 1).collect();
    cut.push('…');
    cut
}

impl crate::chain::Linked for Event {
    fn prev(&self) -> &str {
        &self.prev
    }

    fn summary(&self) -> String {
        match &self.token_id {
            Some(id) => format!("{}, {}, token {id}", self.at, self.event.as_str()),
            None => format!("{}, {}", self.at, self.event.as_str()),
        }
    }
}

impl Event {
    /// An event of `kind` by `actor` at `at`, about `record` when there is one, with nothing
    /// else set (a count of 1; `prev` is set when it is appended).
    pub fn new(kind: EventKind, record: Option<&Record>, actor: &str, at: Time) -> Event {
        Event {
            at,
            event: kind,
            token_id: record.map(|r| r.id.clone()),
            name: record.map(|r| r.name.clone()),
            actor: actor.to_owned(),
            reason: None,
            count: 1,
            last_at: None,
            replaces: None,
            detail: None,
            ip: None,
            tokens: Default::default(),
            ips: Vec::new(),
            prev: String::new(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event always serialises")
    }

    /// An event from the store's own log, where one that does not parse is damage.
    ///
    /// # Errors
    /// [`Error::Store`] naming what does not parse.
    pub fn from_bytes(bytes: &[u8]) -> Result<Event> {
        Event::parse(bytes)
            .map_err(|e| Error::store(format!("store damaged: a log entry does not parse ({e})")))
    }

    /// An event from anywhere (a backup's line), with serde's reason when it does not parse.
    ///
    /// # Errors
    /// The JSON error: which field, at which column.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Event, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_is_escaped_and_cut_to_what_restore_takes() {
        assert_eq!(fit_detail("/tmp/a\u{1b}b"), "/tmp/a\\u{1b}b");
        let short = "x".repeat(DETAIL_MAX);
        assert_eq!(fit_detail(&short), short);
        let long = fit_detail(&"\u{7f}".repeat(DETAIL_MAX));
        assert_eq!(long.chars().count(), DETAIL_MAX);
        assert!(long.ends_with('…'));
        assert!(!long.chars().any(crate::name::is_invisible));
    }

    #[test]
    fn records_from_a_newer_format_are_refused_and_unknown_fields_kept() {
        let json = r#"{"v":1,"id":"tok_a","name":"n","sha256":"00","hint":"vbx_AAAA",
            "created_at":"2026-01-01T00:00:00Z","created_by":"u","status":"active",
            "expires_at":"2027-01-01T00:00:00Z","webhook":"https://example.com"}"#;
        let r = Record::from_bytes(json.as_bytes()).expect("parses");
        assert_eq!(r.use_count, 0);
        assert_eq!(r.expires_at, Some("2027-01-01T00:00:00Z".parse().unwrap()));
        assert!(r.extra.contains_key("webhook"));
        let again = Record::from_bytes(&r.to_bytes()).expect("round trip");
        assert_eq!(again, r);

        let newer = json.replace(r#""v":1"#, r#""v":3"#);
        assert!(Record::from_bytes(newer.as_bytes()).is_err());
    }
}
