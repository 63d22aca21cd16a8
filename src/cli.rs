//! The command line: clap definitions, and [`parse`], the edge where argv becomes a [`Cli`] or
//! one line of error. `commands` turns a [`Cli`] into plain requests.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueHint};

/// The environment variable `verify` takes a token from (an argument never holds one).
pub const TOKEN_VAR: &str = "VBX_TOKEN";

/// The exit code table, shown under `--help` and in the man page.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success; the token is valid; scan found no token that still verifies
  1  the token is not valid (any reason but valid); list --fail-if-any matched;
     scan found one that still verifies (or any token, with no store to check)
  2  usage or bad input (a flag, a value, a file you named); scan could not read
     every file
  3  no such token
  4  vault: no passphrase, a wrong one, a file that does not authenticate
  5  store busy past the wait limit (--wait)
  6  store missing, damaged, unreadable or not trusted (someone else could write
     it); a broken audit log; disk full; I/O failure
  7  internal error (a bug)";

#[derive(Debug, Parser)]
#[command(
    name = "vbx-tokens",
    version,
    about = "Create, list, revoke and verify VasBox API tokens on this machine",
    long_about = "Create, list, revoke and verify VasBox API tokens on this machine.\n\n\
        A token (vbx_…) is shown once, when it is created; the store keeps only its SHA-256. \
        Every change and every failed verification lands in an audit log.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// The store: a directory, or a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)
    /// [default: $VBX_TOKENS_STORE, else $VBX_TOKENS_HOME, else ~/.local/share/vbx-tokens]
    // Not clap's `env`: two variables name the store, and which wins is
    // `vbx_tokens::location`'s to say.
    #[arg(
        long,
        global = true,
        value_name = "DIR|URL",
        value_hint = ValueHint::AnyPath
    )]
    pub store: Option<std::ffi::OsString>,

    /// How long to wait for another process to release the store, in seconds
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        value_hint = ValueHint::Other,
        env = "VBX_TOKENS_WAIT",
        default_value = "10",
        // `--wait -1` reaches `parse_wait`, which says why it is refused.
        allow_negative_numbers = true,
        value_parser = parse_wait
    )]
    pub wait: Duration,

    /// Also trust a store (its directory, the directories above it and its files) owned by
    /// this user, a name or a uid; repeatable, or comma-separated in $VBX_TOKENS_TRUST_OWNER
    /// (read only when the flag is not given). By default only stores owned by you or root are
    /// used
    // Not clap's `env`: a global argument's variable is parsed even when the flag is given, so
    // a bad variable would fail a command the flag had settled (`commands::from_cli`).
    #[arg(
        long,
        global = true,
        value_name = "USER",
        value_hint = ValueHint::Other,
        value_delimiter = ',',
        value_parser = parse_owner
    )]
    pub trust_owner: Vec<u32>,

    /// Print JSON on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a new token and show it once
    #[command(after_help = "Examples:\n  \
        vbx-tokens create --name \"accounting export\"\n  \
        T=$(vbx-tokens create --name ci -q)\n  \
        vbx-tokens create --name crm --note \"HubSpot sync\" --json | jq -r .token")]
    Create(CreateArgs),

    /// List tokens (all but revoked ones unless --all or --status)
    #[command(
        after_help = "Filters combine (a token must pass each); --fail-if-any makes any \
        match exit 1.\n\n\
        Examples:\n  \
        vbx-tokens list\n  \
        vbx-tokens list --expiring-within 14d --fail-if-any\n  \
        vbx-tokens list --unused-for 90d --status active --json | jq -r '.[].name'\n  \
        vbx-tokens list --all --json | jq -r '.[] | select(.use_count == 0) | .name'"
    )]
    List(ListArgs),

    /// Show one token's record
    #[command(after_help = "Examples:\n  \
        vbx-tokens show ci\n  \
        vbx-tokens show tok_3k9x2m1q --json | jq .last_used_at")]
    Show(ShowArgs),

    /// Revoke a token (or every token unused for a while): invalid at once, and it cannot be
    /// undone
    #[command(after_help = "Examples:\n  \
        vbx-tokens revoke ci\n  \
        vbx-tokens revoke tok_3k9x2m1q --yes --json\n  \
        vbx-tokens revoke --unused-for 180d --dry-run\n  \
        vbx-tokens revoke --unused-for 180d --yes")]
    Revoke(RevokeArgs),

    /// Check a token read from $VBX_TOKEN or stdin: exit 0 if valid, 1 if not
    #[command(
        after_help = "The token is never taken as an argument: arguments show in `ps`.\n\n\
        Examples:\n  \
        printf '%s\\n' \"$T\" | vbx-tokens verify\n  \
        VBX_TOKEN=\"$T\" vbx-tokens verify --json\n  \
        vbx-tokens verify --batch < tokens.txt | jq -c 'select(.valid | not)'"
    )]
    Verify(VerifyArgs),

    /// Make a new token to replace one: same name, note, scopes and expiry policy
    #[command(
        after_help = "The new token is shown once, like `create`'s; --json adds \"replaces\": \
        the old id. Without --grace the old token is revoked in the same commit.\n\n\
        Examples:\n  \
        vbx-tokens rotate ci\n  \
        vbx-tokens rotate pos --grace 24h --json | jq -r .token"
    )]
    Rotate(RotateArgs),

    /// Suspend a token without revoking it: verify answers `disabled` until `enable`
    #[command(after_help = "Examples:\n  \
        vbx-tokens disable crm")]
    Disable(TokenArg),

    /// Undo `disable`
    #[command(after_help = "Examples:\n  \
        vbx-tokens enable crm")]
    Enable(TokenArg),

    /// Move a token's expiry
    #[command(after_help = "Examples:\n  \
        vbx-tokens extend ci --expires-in 90d\n  \
        vbx-tokens extend tok_3k9x2m1q --expires-at 2027-06-30T00:00:00Z")]
    Extend(ExtendArgs),

    /// Find tokens in files, directories (recursively, honouring .gitignore) or stdin: exit 1
    /// if one still verifies
    #[command(
        after_help = "Each token found is reported with its place, id, name and status (active, \
        revoked, expired, disabled, or unknown to this store), masked: never whole. Strings \
        shaped like tokens whose checksum fails are not tokens and are left out. Directories are \
        walked as ripgrep walks them (.gitignore, .ignore, hidden files skipped; symlinks, \
        devices and FIFOs not read); binary files met there are skipped. UTF-16 and UTF-32 \
        text is read too. With no PATH (or -), stdin is read.\n\n\
        Examples:\n  \
        vbx-tokens scan .\n  \
        vbx-tokens scan --staged                # in a git pre-commit hook\n  \
        kubectl logs deploy/api | vbx-tokens scan --json | jq -r '.[] | select(.status == \"active\") | .id'"
    )]
    Scan(ScanArgs),

    /// Copy stdin to stdout with every token masked and labelled with its id, line by line
    #[command(
        after_help = "A token becomes vbx_AbCd…[tok_12345678] (vbx_AbCd…[unknown] when this store \
        does not know it); a string shaped like a token whose checksum fails becomes vbx_AbCd…. \
        Every other byte passes through as it is; each line is written as soon as it is read.\n\n\
        Examples:\n  \
        tail -F /var/log/api.log | vbx-tokens redact\n  \
        vbx-tokens redact < debug.log > debug.redacted.log"
    )]
    Redact,

    /// Read the audit log (oldest first), or check its hash chain
    #[command(
        after_help = "Every event carries the SHA-256 of the event before it; --check walks \
        the chain and exits 0 if it is whole, 6 naming the first broken event.\n\n\
        Examples:\n  \
        vbx-tokens log --limit 20\n  \
        vbx-tokens log --token ci --json | jq -r '.[] | select(.event == \"verify_failed\") | .at'\n  \
        vbx-tokens log --check"
    )]
    Log(LogArgs),

    /// Print every token record as NDJSON (one JSON object a line), never a token
    #[command(
        after_help = "Every field is written, the SHA-256 included, so another system can verify \
        the same tokens and `import` can rebuild the store.\n\n\
        Examples:\n  \
        vbx-tokens export > tokens.ndjson\n  \
        vbx-tokens export | jq -c 'select(.status == \"active\") | {name, sha256}'"
    )]
    Export,

    /// Add token records from NDJSON (a file, or - for stdin): all or nothing
    #[command(
        after_help = "Each line needs a name and either a plaintext token (hashed on the way in) \
        or a sha256; any other field export writes is optional and kept. One bad line imports \
        nothing and is named with its line number.\n\n\
        Examples:\n  \
        vbx-tokens --store /new/store import tokens.ndjson\n  \
        jq -c '{name: .label, token: .key}' legacy.json | vbx-tokens import - --any-format"
    )]
    Import(ImportArgs),

    /// Check every part of the store, repair what can be derived again, report what cannot
    #[command(
        after_help = "Exit 0 when the store is whole (after any repair), 6 otherwise, naming \
        the last backup when there is one.\n\n\
        Examples:\n  \
        vbx-tokens doctor\n  \
        vbx-tokens doctor --json | jq -r '.checks[] | select(.status != \"ok\") | .detail'"
    )]
    Doctor,

    /// Write the whole store to FILE (records, audit log, encrypted vault), taken under its lock
    #[command(
        after_help = "FILE must not exist yet; it is written mode 0600. The vault goes in \
        sealed, as the store holds it: no passphrase is needed (with --passphrase-file, every \
        kept secret is also checked to open).\n\n\
        Examples:\n  \
        vbx-tokens backup /var/backups/vbx-$(date +%F).vbxbackup"
    )]
    Backup(BackupArgs),

    /// Rebuild the store from a backup (asks first; --yes outside a terminal)
    #[command(
        after_help = "A store that holds anything is refused unless --force; replaced, it is \
        kept beside it as DIR.before-restore-TIME.\n\n\
        Examples:\n  \
        vbx-tokens --store /srv/new restore nightly.vbxbackup --yes\n  \
        vbx-tokens restore nightly.vbxbackup --yes --force"
    )]
    Restore(RestoreArgs),

    /// Keep chosen tokens encrypted under a passphrase, to reveal them later
    #[command(
        subcommand,
        after_help = "Examples:\n  \
        vbx-tokens vault init\n  \
        vbx-tokens create --name pos --keep\n  \
        vbx-tokens vault reveal pos --passphrase-file /etc/vasbox/vault.pass\n  \
        vbx-tokens vault status --json"
    )]
    Vault(VaultCommand),

    /// On a PostgreSQL store: let a database role verify (and count uses), and nothing else
    #[command(
        name = "grant-verify",
        after_help = "The role (made beforehand with CREATE ROLE) may then run `vbx-tokens \
        verify` and nothing else: it cannot list tokens, read their hashes, create, revoke or \
        read the audit log, which the server refuses (exit 6). Run it as the store's owner.\n\n\
        Examples:\n  \
        psql -c \"CREATE ROLE pos_gateway LOGIN PASSWORD '...'\"\n  \
        vbx-tokens --store postgresql://admin@db.internal/vasbox grant-verify pos_gateway"
    )]
    GrantVerify(GrantVerifyArgs),

    /// Write the shell completions and man pages under DIR (completions/, man/)
    #[command(hide = true)]
    Generate {
        /// Where to write: the repository root keeps them in completions/ and man/
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
        out_dir: PathBuf,
    },

    /// Panics on purpose, so the tests can check a bug is reported in one line with exit 7
    #[command(name = "debug-panic", hide = true)]
    DebugPanic,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// A name for the token, unique among active tokens (asked for in a terminal)
    #[arg(long, value_name = "NAME", value_hint = ValueHint::Other)]
    pub name: Option<String>,

    /// A free-text note, such as what the token is for
    #[arg(long, value_name = "TEXT", value_hint = ValueHint::Other)]
    pub note: Option<String>,

    /// Print the token alone, with no message
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,

    /// Also keep the token in the vault, encrypted, so `vault reveal` can show it again
    #[arg(long)]
    pub keep: bool,

    #[command(flatten)]
    pub expiry: ExpiryArgs,

    /// Allow only this scope (repeatable): `word` or `word:word`, lowercase; none means full
    /// access
    #[arg(long = "scope", value_name = "SCOPE", value_hint = ValueHint::Other)]
    pub scopes: Vec<String>,

    /// Allow at most N valid, counted verifies; the next answers usage_exceeded
    #[arg(
        long,
        value_name = "N",
        value_hint = ValueHint::Other,
        allow_negative_numbers = true,
        value_parser = parse_max_uses
    )]
    pub max_uses: Option<u64>,

    /// Allow use only from this address range (repeatable; CIDR, IPv4 or IPv6); verify then
    /// needs --ip inside one
    #[arg(long = "allow-ip", value_name = "CIDR", value_hint = ValueHint::Other)]
    pub allow_ip: Vec<String>,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// When a token stops working: `--expires-in` or `--expires-at`.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct ExpiryArgs {
    /// Expire this long from now: 90d, 12h, 2w, 30m, 45s (or combined: 1d12h)
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        value_parser = crate::policy::parse_duration
    )]
    pub expires_in: Option<jiff::Span>,

    /// Expire at this time (RFC 3339, such as 2027-01-31T00:00:00Z)
    #[arg(long, value_name = "TIME", value_hint = ValueHint::Other, value_parser = parse_time)]
    pub expires_at: Option<crate::time::Time>,
}

/// Where the vault passphrase comes from, besides $VBX_TOKENS_PASSPHRASE and the prompt.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the vault passphrase from this file (only a trailing newline is stripped)
    #[arg(
        long,
        value_name = "PATH",
        env = "VBX_TOKENS_PASSPHRASE_FILE",
        value_hint = ValueHint::FilePath
    )]
    pub passphrase_file: Option<PathBuf>,
}

/// Argon2id cost, for `vault init` and `vault passwd`. The bounds are the vault's own
/// (`crate::vault`), checked here so a bad value is a usage error naming the flag.
#[derive(Debug, Args)]
pub struct KdfArgs {
    /// Argon2id memory in MiB, 8 to 4096 [default: 64, or the vault's current value]
    #[arg(
        long,
        value_name = "MIB",
        value_hint = ValueHint::Other,
        value_parser = |s: &str| parse_within(s, crate::vault::MIN_MEMORY_MIB, crate::vault::MAX_MEMORY_MIB)
    )]
    pub kdf_memory_mib: Option<u32>,

    /// Argon2id iterations, 1 to 64 [default: 3, or the vault's current value]
    #[arg(
        long,
        value_name = "N",
        value_hint = ValueHint::Other,
        value_parser = |s: &str| parse_within(s, crate::vault::MIN_ITERATIONS, crate::vault::MAX_ITERATIONS)
    )]
    pub kdf_iterations: Option<u32>,

    /// Argon2id lanes, 1 to 16 [default: 4, or the vault's current value]
    #[arg(
        long,
        value_name = "N",
        value_hint = ValueHint::Other,
        value_parser = |s: &str| parse_within(s, 1, crate::vault::MAX_PARALLELISM)
    )]
    pub kdf_parallelism: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create the vault and set its passphrase
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault init\n  \
        vbx-tokens vault init --passphrase-file /etc/vasbox/vault.pass")]
    Init {
        #[command(flatten)]
        kdf: KdfArgs,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },

    /// Print a kept token alone on stdout
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault reveal ci\n  \
        T=$(vbx-tokens vault reveal tok_3k9x2m1q --passphrase-file ~/.vault.pass)")]
    Reveal {
        /// The token's id or name
        #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
        token: String,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },

    /// Say whether there is a vault, its KDF parameters and how many secrets it keeps
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault status\n  \
        vbx-tokens vault status --json | jq .kept")]
    Status,

    /// Change the passphrase (the kept secrets are not re-encrypted)
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault passwd\n  \
        vbx-tokens vault passwd --passphrase-file old.pass --new-passphrase-file new.pass")]
    Passwd {
        /// Read the new passphrase from this file instead of asking twice
        #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
        new_passphrase_file: Option<PathBuf>,
        #[command(flatten)]
        kdf: KdfArgs,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },

    /// Erase one token's kept secret (the token stays valid)
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault forget ci")]
    Forget {
        /// The token's id or name
        #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
        token: String,
    },

    /// Write the encrypted vault (never plaintext) to FILE, or stdout with -
    #[command(after_help = "Examples:\n  \
        vbx-tokens vault export backup.vbxvault\n  \
        vbx-tokens vault export - --passphrase-file vault.pass | ssh backup 'cat > vault.vbxvault'")]
    Export {
        /// Where to write; it must not exist yet
        #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
        file: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },

    /// Bring kept secrets in from an export, for tokens this store has
    #[command(
        after_help = "Into a store with no vault, the file's vault is adopted as it is (its \
        passphrase unlocks it). Into a store with a vault, the secrets are re-encrypted under this \
        vault; the file's passphrase comes from --from-passphrase-file or the prompt, else it is \
        taken to be this vault's.\n\n\
        Examples:\n  \
        vbx-tokens vault import backup.vbxvault\n  \
        vbx-tokens vault import old.vbxvault --passphrase-file this.pass --from-passphrase-file old.pass"
    )]
    Import {
        /// The export to read
        #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
        file: PathBuf,
        /// Read the file's passphrase from this file
        #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
        from_passphrase_file: Option<PathBuf>,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include revoked tokens
    #[arg(long)]
    pub all: bool,

    /// Only tokens with this status (repeatable): active, revoked, expired, disabled
    #[arg(long, value_name = "STATUS", value_enum, hide_possible_values = true)]
    pub status: Vec<StatusArg>,

    #[command(flatten)]
    pub unused: UnusedArgs,

    /// Only tokens that expire within this long from now (not expired yet, not revoked)
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        value_parser = crate::policy::parse_duration
    )]
    pub expiring_within: Option<jiff::Span>,

    /// Exit 1 if any token matches (after printing them): a whole cron alert
    #[arg(long)]
    pub fail_if_any: bool,
}

/// `--unused-for`, shared by `list` and `revoke`.
#[derive(Debug, Args)]
pub struct UnusedArgs {
    /// Only tokens not used for this long: never used and made before then, or last used before
    /// then (90d, 12h, 2w, 30m, 45s)
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        value_parser = crate::policy::parse_duration
    )]
    pub unused_for: Option<jiff::Span>,
}

/// A status `list --status` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    Active,
    Revoked,
    Expired,
    Disabled,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The token's id or name
    #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: String,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["token", "unused_for"]))]
pub struct RevokeArgs {
    /// The token's id or name (an id matches first)
    #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: Option<String>,

    /// Revoke every token not used for this long, in one commit, instead of one token
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        conflicts_with = "token",
        value_parser = crate::policy::parse_duration
    )]
    pub unused_for: Option<jiff::Span>,

    /// With --unused-for: list what would be revoked, and revoke nothing
    #[arg(long, requires = "unused_for")]
    pub dry_run: bool,

    /// Don't ask for confirmation (needed when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct TokenArg {
    /// The token's id or name (an id matches first)
    #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: String,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// The token's id or name (an id matches first)
    #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: String,

    /// One of the two is required (checked by `extend`, which says so in one line).
    #[command(flatten)]
    pub expiry: ExpiryArgs,
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The token's id or name (an id matches first)
    #[arg(value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: String,

    /// Let the old token keep verifying this long (90d, 12h, 2w, 30m, 45s); without it, it is
    /// revoked at once
    #[arg(
        long,
        value_name = "DURATION",
        value_hint = ValueHint::Other,
        value_parser = crate::policy::parse_duration
    )]
    pub grace: Option<jiff::Span>,

    /// Print the new token alone, with no message
    #[arg(short, long, conflicts_with = "json")]
    pub quiet: bool,

    /// Also keep the new token in the vault, encrypted
    #[arg(long)]
    pub keep: bool,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Don't count this as a use (leave last_used_at and use_count alone)
    #[arg(long)]
    pub no_touch: bool,

    /// Require this scope (repeatable); a token without scopes has them all
    #[arg(long = "scope", value_name = "SCOPE", value_hint = ValueHint::Other)]
    pub scopes: Vec<String>,

    /// The client's address, checked against the token's --allow-ip ranges and recorded as
    /// last_used_ip
    #[arg(long, value_name = "ADDR", value_hint = ValueHint::Other)]
    pub ip: Option<String>,

    /// Read one token per line from stdin and print one JSON line per token (NDJSON); exit 0
    /// only if all are valid
    #[arg(long)]
    pub batch: bool,
}

#[derive(Debug, Args)]
pub struct GrantVerifyArgs {
    /// The database role that may verify
    #[arg(value_name = "ROLE", value_hint = ValueHint::Other)]
    pub role: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write; it must not exist yet
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup to read
    #[arg(value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,

    /// Don't ask for confirmation (needed when stdin is not a terminal)
    #[arg(short, long)]
    pub yes: bool,

    /// Replace a store that holds tokens or events (it is kept beside it)
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The NDJSON file to read, or - for stdin
    #[arg(value_name = "FILE|-", value_hint = ValueHint::FilePath)]
    pub file: PathBuf,

    /// Accept plaintext tokens that are not in the vbx_ format (another system's tokens)
    #[arg(long)]
    pub any_format: bool,

    /// Leave out records whose id, token or active name already exists, instead of refusing
    #[arg(long)]
    pub skip_existing: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to search (- for stdin); stdin when none is given
    #[arg(value_name = "PATH", value_hint = ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,

    /// Search hidden files and directories too
    #[arg(long)]
    pub hidden: bool,

    /// Search files that .gitignore, .ignore and git's excludes leave out
    #[arg(long)]
    pub no_ignore: bool,

    /// Search what git's index holds for the files a commit would add or change (a pre-commit
    /// hook), not the work tree
    #[arg(long, conflicts_with_all = ["paths", "hidden", "no_ignore"])]
    pub staged: bool,

    /// Read at most this much of each file or of stdin (K, M, G: KiB, MiB, GiB); past it the
    /// scan is incomplete (exit 2)
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "64M",
        value_hint = ValueHint::Other,
        value_parser = crate::scan::parse_size
    )]
    pub max_size: u64,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Show only the last N events
    #[arg(long, value_name = "N", value_hint = ValueHint::Other, value_parser = parse_count)]
    pub limit: Option<usize>,

    /// Show only the events of this token (id or name)
    #[arg(long, value_name = "ID|NAME", value_hint = ValueHint::Other)]
    pub token: Option<String>,

    /// Check the hash chain instead: exit 0 if it is whole, 6 naming the first broken event
    #[arg(long, conflicts_with_all = ["limit", "token"])]
    pub check: bool,
}

/// How parsing ended when it did not give a [`Cli`]: `--help` and `--version` (on stdout, exit
/// 0), or an error in one line (on stderr, exit 2).
#[derive(Debug)]
pub struct Early {
    pub code: u8,
    pub text: String,
    pub to_stdout: bool,
}

/// Parses `args` (the program name first). An argument shaped like a token is refused before
/// clap sees it, since clap would echo it back; a clap error is cut to its one line, masked.
///
/// # Errors
/// [`Early`], as above.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, Early> {
    use clap::error::ErrorKind;

    let args: Vec<OsString> = args.into_iter().collect();
    if args
        .iter()
        .skip(1)
        .any(|a| crate::name::holds_token(&a.to_string_lossy()))
    {
        return Err(Early {
            code: crate::error::exit::USAGE,
            text: format!(
                "vbx-tokens: an argument looks like a token (vbx_…): never put a token on the command line, where `ps` and shell history keep it; pass it on stdin or in {}",
                TOKEN_VAR
            ),
            to_stdout: false,
        });
    }
    use clap::{CommandFactory, FromArgMatches};
    let matches = without_empty_env(Cli::command()).try_get_matches_from(args);
    if let Ok(m) = &matches
        && let Some(why) = idle_flag(m)
    {
        return Err(Early {
            code: crate::error::exit::USAGE,
            text: format!("vbx-tokens: {why} (see --help)"),
            to_stdout: false,
        });
    }
    let parsed = matches.and_then(|m| Cli::from_arg_matches(&m));
    parsed.map_err(|e| match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Early {
            code: crate::error::exit::SUCCESS,
            text: e.render().to_string(),
            to_stdout: true,
        },
        // `vbx-tokens` alone: the help, on stderr, as a usage error.
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Early {
            code: crate::error::exit::USAGE,
            text: e.render().to_string(),
            to_stdout: false,
        },
        _ => {
            // clap's message is its first paragraph ("error: ..." and any indented lines that
            // continue it, such as the missing arguments); tips and usage follow. One line.
            let rendered = e.render().to_string();
            let paragraph: Vec<&str> = rendered
                .lines()
                .skip_while(|l| l.trim().is_empty())
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let mut first = paragraph.join(" ");
            // clap quotes a refused value whole: a long one is cut, as our own errors cut it.
            if let Some(clap::error::ContextValue::String(v)) =
                e.get(clap::error::ContextKind::InvalidValue)
                && v.chars().count() > crate::policy::SHOWN_CHARS
            {
                // Masked before it is cut, so a token the cut would halve is masked whole.
                let masked = crate::token::mask_tokens(v.as_str());
                let cut: String = masked.chars().take(crate::policy::SHOWN_CHARS).collect();
                first = first.replacen(v.as_str(), &format!("{cut}…"), 1);
            }
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            Early {
                code: crate::error::exit::USAGE,
                text: crate::token::mask_tokens(&format!("vbx-tokens: {first} (see --help)"))
                    .into_owned(),
                to_stdout: false,
            }
        }
    })
}

/// Why a flag typed on the command line would do nothing, if one would: `--passphrase-file`
/// on `create` or `rotate` without `--keep` (the vault is not opened, so the file would go
/// unread, a mistyped path unnoticed). The same path from `VBX_TOKENS_PASSPHRASE_FILE`, set
/// for every command, is fine.
fn idle_flag(m: &clap::ArgMatches) -> Option<String> {
    use clap::parser::ValueSource;
    let (name, sub) = m.subcommand()?;
    let typed = sub
        .try_get_raw("passphrase_file")
        .is_ok_and(|v| v.is_some())
        && sub.value_source("passphrase_file") == Some(ValueSource::CommandLine);
    let keep = sub.try_get_one::<bool>("keep").ok().flatten() == Some(&true);
    (matches!(name, "create" | "rotate") && typed && !keep).then(|| {
        format!("`{name} --passphrase-file` is read only with --keep, which keeps the token in the vault")
    })
}

/// The command with the environment variables that are set but empty treated as unset
/// (`VBX_TOKENS_HOME=` means the default store, not a missing value).
fn without_empty_env(cmd: clap::Command) -> clap::Command {
    let empty = |var: &std::ffi::OsStr| std::env::var_os(var).is_some_and(|v| v.is_empty());
    cmd.mut_args(|a| match a.get_env() {
        Some(var) if empty(var) => a.env(None),
        _ => a,
    })
    .mut_subcommands(without_empty_env)
}

/// A use limit: a whole number from 1 to 2^53 − 1 (`vbx_tokens::policy::MAX_JSON_INTEGER`).
fn parse_max_uses(s: &str) -> Result<u64, String> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if s.strip_prefix('-').is_some_and(digits) {
        return Err("the limit must be at least 1".into());
    }
    if !digits(s) {
        return Err(format!("{s:?} is not a whole number"));
    }
    match s.parse::<u64>() {
        Ok(0) => Err("the limit must be at least 1".into()),
        Ok(n) => vbx_tokens::policy::check_json_integer("the limit", n),
        // Past u64: too large, told with the digits given.
        Err(_) => Err(vbx_tokens::policy::too_large("the limit", s)),
    }
}

fn parse_owner(s: &str) -> Result<u32, String> {
    vbx_tokens::trust::parse_owner(s).map_err(|e| e.to_string())
}

/// The longest wait accepted: a day.
const MAX_WAIT_SECONDS: f64 = 86_400.0;

fn parse_time(s: &str) -> Result<crate::time::Time, String> {
    s.parse()
        .map_err(|e| format!("{:?} {e}", crate::name::visible_form(s)))
}

/// A whole number from `min` to `max`, both included; one past either, however many digits it
/// has, is refused naming the range.
fn parse_within(s: &str, min: u32, max: u32) -> Result<u32, String> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a whole number from {min} to {max}"));
    }
    t.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{t} is not from {min} to {max}"))
}

/// A count of things to show: a whole number from 0 to 2^53 − 1, as every integer is.
fn parse_count(s: &str) -> Result<usize, String> {
    let t = s.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a whole number"));
    }
    let n = t
        .parse::<u64>()
        .map_err(|_| vbx_tokens::policy::too_large("the count", t))
        .and_then(|n| vbx_tokens::policy::check_json_integer("the count", n))?;
    usize::try_from(n).map_err(|_| vbx_tokens::policy::too_large("the count", t))
}

fn parse_wait(s: &str) -> Result<Duration, String> {
    let seconds: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.0..=MAX_WAIT_SECONDS).contains(&seconds) {
        return Err(format!("{s:?} is not a number of seconds from 0 to 86400"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{s:?} is not a number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn wait_takes_fractions_and_refuses_nonsense() {
        assert_eq!(parse_wait("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_wait("10"), Ok(Duration::from_secs(10)));
        assert!(parse_wait("-1").is_err());
        assert!(parse_wait("soon").is_err());
        assert!(parse_wait("NaN").is_err());
        assert!(parse_wait("inf").is_err());
        assert!(parse_wait("1e12").is_err());
        assert_eq!(parse_wait("86400"), Ok(Duration::from_secs(86_400)));
    }
}
