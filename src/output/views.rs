//! The JSON shapes scripts read, one struct each (README, "JSON shapes"). Field names here are
//! a contract: rename nothing.

use serde::Serialize;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::chain::Broken;
use crate::policy::State;
use crate::record::Record;
use crate::store::Verdict;
use crate::time::Time;
use crate::vault::KdfParams;

/// A record as `list`, `show` and `revoke` print it: never the hash, never a token. Every key
/// is always there (`null` or `[]` when it does not apply).
#[derive(Debug, Serialize)]
pub struct RecordView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub note: Option<&'a str>,
    pub hint: &'a str,
    /// At the time of printing: active, revoked, expired or disabled.
    pub status: State,
    pub created_at: Time,
    pub created_by: &'a str,
    /// When it was revoked; for a token in a rotation's grace, when the grace ends.
    pub revoked_at: Option<Time>,
    pub last_used_at: Option<Time>,
    pub last_used_ip: Option<IpAddr>,
    pub use_count: u64,
    pub expires_at: Option<Time>,
    pub scopes: &'a [String],
    pub max_uses: Option<u64>,
    pub allow_ip: &'a [IpNet],
    pub disabled_at: Option<Time>,
    pub grace_until: Option<Time>,
    pub replaces: Option<&'a str>,
    pub replaced_by: Option<&'a str>,
    /// Whether the vault keeps this token's plaintext.
    pub kept: bool,
}

impl<'a> RecordView<'a> {
    pub fn new(r: &'a Record, kept: bool) -> Self {
        RecordView::at(r, kept, Time::now())
    }

    pub fn at(r: &'a Record, kept: bool, now: Time) -> Self {
        RecordView {
            id: &r.id,
            name: &r.name,
            note: r.note.as_deref(),
            hint: &r.hint,
            status: r.state_at(now),
            created_at: r.created_at,
            created_by: &r.created_by,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            use_count: r.use_count,
            expires_at: r.expires_at,
            scopes: &r.scopes,
            max_uses: r.max_uses,
            allow_ip: &r.allow_ip,
            disabled_at: r.disabled_at,
            grace_until: r.grace_until,
            replaces: r.replaces.as_deref(),
            replaced_by: r.replaced_by.as_deref(),
            kept,
        }
    }
}

/// `show --json`: the record, and its rotation chain.
#[derive(Debug, Serialize)]
pub struct ShowView<'a> {
    #[serde(flatten)]
    pub record: RecordView<'a>,
    /// The tokens it replaced, oldest first.
    pub predecessors: &'a [String],
    /// The tokens that replaced it, in order.
    pub successors: &'a [String],
}

/// `create --json` and `rotate --json`: the only shape that carries a token, shown once.
#[derive(Serialize)]
pub struct Created<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub token: &'a str,
    pub hint: &'a str,
    pub created_at: Time,
    pub created_by: &'a str,
    pub expires_at: Option<Time>,
    pub scopes: &'a [String],
    pub max_uses: Option<u64>,
    pub allow_ip: &'a [IpNet],
    /// `rotate` only: the id of the token this one replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<&'a str>,
    /// `rotate --grace` only: when the old token stops verifying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<Time>,
}

impl<'a> Created<'a> {
    pub fn new(r: &'a Record, token: &'a str) -> Self {
        Created {
            id: &r.id,
            name: &r.name,
            token,
            hint: &r.hint,
            created_at: r.created_at,
            created_by: &r.created_by,
            expires_at: r.expires_at,
            scopes: &r.scopes,
            max_uses: r.max_uses,
            allow_ip: &r.allow_ip,
            replaces: None,
            grace_until: None,
        }
    }
}

/// `revoke --unused-for --json`: what was revoked (or, with `--dry-run`, would be).
#[derive(Serialize)]
pub struct BulkRevoked<'a> {
    pub dry_run: bool,
    pub revoked: Vec<RecordView<'a>>,
}

/// `verify --json` and each line of `verify --batch`: `{"valid", "reason", "id", "name"}`.
#[derive(Debug, Serialize)]
pub struct VerdictView<'a> {
    pub valid: bool,
    pub reason: &'static str,
    pub id: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl<'a> From<&'a Verdict> for VerdictView<'a> {
    fn from(v: &'a Verdict) -> Self {
        VerdictView {
            valid: v.is_valid(),
            reason: v.reason.as_str(),
            id: v.id.as_deref(),
            name: v.name.as_deref(),
        }
    }
}

/// `log --check --json` of a whole chain: `{"whole": true, "events": N}`.
#[derive(Serialize)]
pub struct LogWhole {
    pub whole: bool,
    pub events: u64,
}

/// `log --check --json` of a broken chain: the first broken event (`null` when it does not
/// parse, or the log was emptied), its 1-based position and what is wrong.
#[derive(Serialize)]
pub struct LogBroken<'a> {
    pub whole: bool,
    pub events: u64,
    pub broken_at: u64,
    pub event: Option<&'a serde_json::value::RawValue>,
    pub problem: String,
}

impl<'a> From<&'a Broken> for LogBroken<'a> {
    fn from(b: &'a Broken) -> Self {
        LogBroken {
            whole: false,
            events: b.events,
            broken_at: b.position,
            event: b.event.as_ref().map(|e| &*e.json),
            problem: b.problem_text(),
        }
    }
}

/// `import --json`.
#[derive(Serialize)]
pub struct Imported {
    pub imported: usize,
    pub skipped: usize,
}

/// What `vault status`, `vault init` and `vault passwd` report: plain values, gathered by the
/// command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultStatus {
    /// The vault id in hex, and its KDF parameters; `None` with no vault.
    pub vault: Option<(String, KdfParams)>,
    pub kept: usize,
}

/// `vault status --json` (and `vault init`/`vault passwd --json`).
#[derive(Serialize)]
pub struct StatusView {
    pub initialized: bool,
    pub vault_id: Option<String>,
    pub kdf: Option<KdfView>,
    pub kept: usize,
}

#[derive(Serialize)]
pub struct KdfView {
    pub algorithm: &'static str,
    pub version: u32,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl From<&VaultStatus> for StatusView {
    fn from(s: &VaultStatus) -> StatusView {
        StatusView {
            initialized: s.vault.is_some(),
            vault_id: s.vault.as_ref().map(|(id, _)| id.clone()),
            kdf: s.vault.as_ref().map(|(_, kdf)| KdfView {
                algorithm: "argon2id",
                version: crate::vault::ARGON2_VERSION,
                memory_kib: kdf.memory_kib,
                iterations: kdf.iterations,
                parallelism: kdf.parallelism,
            }),
            kept: s.kept,
        }
    }
}

/// `vault reveal --json`.
#[derive(Serialize)]
pub struct Revealed<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub token: &'a str,
}

/// `vault forget --json`.
#[derive(Serialize)]
pub struct Forgotten<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub forgotten: bool,
}

/// `vault export FILE --json`.
#[derive(Serialize)]
pub struct VaultExported<'a> {
    /// As given; a name that is not UTF-8 has U+FFFD for each byte that is not.
    pub file: std::borrow::Cow<'a, str>,
    pub kept: usize,
}

/// `vault import --json`: token ids. `skipped` holds every id not imported; `mismatched` every
/// id with a secret that is not the token this store knows by that id (one that appears twice
/// may be both imported, from its right copy, and mismatched).
#[derive(Serialize)]
pub struct VaultImported<'a> {
    pub imported: &'a [String],
    pub skipped: &'a [String],
    pub mismatched: &'a [String],
}

/// One token `scan` found; `scan --json` prints an array of them. Never a whole token: `token`
/// is masked (`vbx_AbCd…`); `id` and `name` are `null` for a token this store does not know.
#[derive(Debug, Clone, Serialize)]
pub struct ScanFinding {
    /// As given or walked (`-` for stdin), with anything token-shaped in it masked.
    pub path: String,
    /// From 1.
    pub line: u64,
    /// From 1, in bytes.
    pub column: u64,
    pub id: Option<String>,
    pub name: Option<String>,
    /// active, revoked, expired, disabled or unknown.
    pub status: &'static str,
    pub token: String,
}

/// What `scan` says on stderr when it is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    pub found: usize,
    /// Files (stdin counts as one) with at least one token.
    pub files_with: usize,
    pub files_searched: usize,
    /// Tokens found that still verify.
    pub live: usize,
    /// Files that could not be read (each already warned about).
    pub unreadable: usize,
    /// Files met in a directory walk that look binary, not searched.
    pub binary_skipped: usize,
    /// With no store to look tokens up in, the directory where one was looked for.
    pub no_store: Option<std::path::PathBuf>,
}

/// `doctor --json`.
#[derive(Serialize)]
pub struct DiagnosisView<'a> {
    pub whole: bool,
    pub opened: bool,
    pub checks: Vec<CheckView<'a>>,
    pub last_backup: Option<LastBackup<'a>>,
}

#[derive(Serialize)]
pub struct CheckView<'a> {
    pub check: &'a str,
    /// `ok`, `repaired` or `failed`.
    pub status: &'static str,
    pub detail: &'a str,
}

#[derive(Serialize)]
pub struct LastBackup<'a> {
    pub at: &'a str,
    /// The exact path, as the note's escaped form reads back (U+FFFD for a byte that is not
    /// UTF-8, which JSON cannot hold).
    pub file: String,
}

impl<'a> From<&'a crate::store::Diagnosis> for DiagnosisView<'a> {
    fn from(d: &'a crate::store::Diagnosis) -> Self {
        DiagnosisView {
            whole: d.whole(),
            opened: d.opened,
            checks: d
                .findings
                .iter()
                .map(|f| CheckView {
                    check: f.check,
                    status: f.health.as_str(),
                    detail: &f.detail,
                })
                .collect(),
            last_backup: d.last_backup.as_ref().map(|(at, file)| LastBackup {
                at,
                file: vbx_tokens::paths::from_path_text(file)
                    .map_or_else(|| file.clone(), |p| p.to_string_lossy().into_owned()),
            }),
        }
    }
}

/// `backup --json`.
#[derive(Serialize)]
pub struct BackedUp {
    /// As given, a token in it masked; a name that is not UTF-8 has U+FFFD for each byte that
    /// is not.
    pub file: String,
    pub records: u64,
    pub events: u64,
    pub vault: bool,
    pub taken_at: Time,
}

/// `restore --json`.
#[derive(Serialize)]
pub struct RestoredView {
    pub records: usize,
    pub events: usize,
    pub kept: usize,
    /// Where the store it replaced was moved, if there was one (a token in it masked).
    pub replaced: Option<String>,
}
