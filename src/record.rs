//! The data the store keeps: token records and audit events.
//!
//! Records are stored as JSON carrying a format version `v`. New fields arrive with
//! `#[serde(default)]` so stores written today keep opening; fields this build does not know are
//! carried through untouched (`extra`), and a record from a newer format is refused rather than
//! half-understood (a newer field may be an expiry this build would ignore).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::time::Time;

/// The record format this build writes and fully understands.
pub const RECORD_VERSION: u32 = 1;

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
    /// Fields written by a later build, kept as they are when this build rewrites the record.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    pub fn is_active(&self) -> bool {
        self.status == Status::Active
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
        }
    }
}

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
    /// How many times it happened: verify's failures of one reason, token and user in a row
    /// are folded into one event. 1 for everything else.
    #[serde(default = "one")]
    pub count: u64,
    /// Lowercase hex SHA-256 of the previous event's stored bytes, or 64 zeros for the first
    /// (`crate::chain`). Set by the store when it appends; empty in events from before format 4
    /// until the migration chains them.
    #[serde(default)]
    pub prev: String,
}

fn one() -> u64 {
    1
}

impl Event {
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an event always serialises")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Event> {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::store(format!("store damaged: a log entry does not parse ({e})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_from_a_newer_format_are_refused_and_unknown_fields_kept() {
        let json = r#"{"v":1,"id":"tok_a","name":"n","sha256":"00","hint":"vbx_AAAA",
            "created_at":"2026-01-01T00:00:00Z","created_by":"u","status":"active",
            "expires_at":"2027-01-01T00:00:00Z"}"#;
        let r = Record::from_bytes(json.as_bytes()).expect("parses");
        assert_eq!(r.use_count, 0);
        assert!(r.extra.contains_key("expires_at"));
        let again = Record::from_bytes(&r.to_bytes()).expect("round trip");
        assert_eq!(again, r);

        let newer = json.replace(r#""v":1"#, r#""v":2"#);
        assert!(Record::from_bytes(newer.as_bytes()).is_err());
    }
}
