//! One file per subcommand (family): the only place that joins the store, prompts and output.
//! Each command takes a plain request (built from clap's types at the edge, here, so tests can
//! drive commands in-process), does the work and hands the result to the [`Printer`].

mod backup;
mod create;
pub mod files;
mod grant;
mod lifecycle;
mod log;
mod records;
mod redact;
mod revoke;
mod scan;
mod show;
mod vault;
mod verify;
mod witness;

use std::path::PathBuf;
use std::time::Duration;

pub use backup::{Backup, Restore};
pub use create::{Create, Expiry};
pub use lifecycle::{Extend, Rotate, SetDisabled};
pub use log::Log;
pub use records::Import;
pub use revoke::Revoke;
pub use scan::Scan;
pub use show::{Filter, List, Show};
pub use vault::VaultRequest;
pub use verify::Verify;

use crate::cli::{self, Cli};
use crate::error::{Error, Result};
use crate::outcome::{Outcome, OutputKind};
use crate::output::Printer;
use crate::policy::State;
use crate::store::OpenMode;
use vbx_tokens::location::Location;

/// What every command needs besides its own request.
#[derive(Debug, Clone)]
pub struct Context {
    pub location: Location,
    pub wait: Duration,
}

impl Context {
    /// The store `--store`, `VBX_TOKENS_STORE` or `VBX_TOKENS_HOME` names, else the default
    /// (`vbx_tokens::location`).
    ///
    /// # Errors
    /// [`crate::error::Error::Usage`] as [`Location::resolve`] gives it.
    pub fn new(store: Option<&std::ffi::OsStr>, wait: Duration) -> Result<Context> {
        let location = Location::resolve(store, &|var| std::env::var_os(var), wait)?;
        Ok(Context { location, wait })
    }

    /// The store, opened by its engine, whichever it is.
    ///
    /// # Errors
    /// As for [`Location::open`].
    pub fn engine(&self, mode: OpenMode) -> Result<Box<dyn crate::engine::Engine>> {
        self.location.open(mode, self.wait)
    }
}

/// One command, as plain values.
#[derive(Debug)]
pub enum Request {
    Create(Create),
    List(List),
    Show(Show),
    Revoke(Revoke),
    Rotate(Rotate),
    SetDisabled(SetDisabled),
    Extend(Extend),
    Verify(Verify),
    Scan(Scan),
    Redact,
    Log(Log),
    Export,
    Import(Import),
    Doctor,
    Backup(Backup),
    Restore(Restore),
    Vault(VaultRequest),
    GrantVerify { role: String },
    Generate { out_dir: PathBuf },
    DebugPanic,
}

impl Request {
    /// What this command's stdout is to its reader: the one place that says, for every command,
    /// what a failed write means (`crate::error::decide` applies it).
    pub fn output_kind(&self) -> OutputKind {
        match self {
            // The exit status is the answer, whatever stdout meets: verify's verdict, whether
            // `log --check` found the chain whole, whether `scan` found a live token.
            Request::Verify(_) | Request::Scan(_) | Request::Log(Log { check: true, .. }) => {
                OutputKind::Verdict
            }
            // The token is shown once: a create whose token was not written has failed.
            Request::Create(_) | Request::Rotate(_) | Request::Export => OutputKind::Product,
            Request::Vault(VaultRequest::Reveal { .. }) => OutputKind::Product,
            Request::Vault(VaultRequest::Export { file, .. }) if file.as_os_str() == "-" => {
                OutputKind::Product
            }
            Request::List(_)
            | Request::Show(_)
            | Request::Revoke(_)
            | Request::SetDisabled(_)
            | Request::Extend(_)
            | Request::Log(_)
            // A filter: a reader that leaves ends it quietly, as it would end `grep`.
            | Request::Redact
            | Request::Import(_)
            | Request::Doctor
            | Request::Backup(_)
            | Request::Restore(_)
            | Request::Vault(_)
            | Request::GrantVerify { .. }
            | Request::Generate { .. }
            | Request::DebugPanic => OutputKind::Display,
        }
    }
}

impl Request {
    /// Whether this command reads a vault passphrase or holds a token in the clear (one it
    /// makes, checks, reads in or finds): it turns core dumps off before it starts
    /// (`crate::harden`).
    pub fn handles_secrets(&self) -> bool {
        matches!(
            self,
            Request::Vault(_)
                | Request::Backup(_)
                | Request::Restore(_)
                | Request::Create(_)
                | Request::Rotate(_)
                | Request::Verify(_)
                | Request::Import(_)
                | Request::Scan(_)
                | Request::Redact
        )
    }

    /// Whether the output is lost if it goes nowhere: the token `create` shows once (unless the
    /// vault keeps it), an export, a revealed token. Such a command refuses to run with stdout
    /// on `/dev/null`.
    pub fn output_must_be_kept(&self) -> bool {
        match self {
            Request::Create(c) => !c.keep,
            Request::Rotate(r) => !r.keep,
            Request::Export => true,
            Request::Vault(VaultRequest::Reveal { .. }) => true,
            Request::Vault(VaultRequest::Export { file, .. }) => file.as_os_str() == "-",
            _ => false,
        }
    }
}

/// The variable that names owners to trust when `--trust-owner` is not given.
pub const TRUST_OWNER_VAR: &str = "VBX_TOKENS_TRUST_OWNER";

/// The uids `$VBX_TOKENS_TRUST_OWNER` names, comma-separated (none when unset or empty, as for
/// every variable).
fn owners_from_env() -> Result<Vec<u32>> {
    let Some(value) = std::env::var_os(TRUST_OWNER_VAR).filter(|v| !v.is_empty()) else {
        return Ok(Vec::new());
    };
    let value = value
        .into_string()
        .map_err(|_| Error::usage(format!("{TRUST_OWNER_VAR} is not valid UTF-8")))?;
    value
        .split(',')
        .map(|owner| {
            vbx_tokens::trust::parse_owner(owner)
                .map_err(|e| Error::usage(format!("{TRUST_OWNER_VAR}: {e}")))
        })
        .collect()
}

/// The command line turned into what the commands take: the context, the request, and whether
/// to print JSON.
pub fn from_cli(cli: Cli) -> Result<(Context, Request, bool)> {
    // Before any store is looked at (`vbx_tokens::trust`). The flag wins over the variable.
    let owners = match cli.trust_owner.is_empty() {
        true => owners_from_env()?,
        false => cli.trust_owner.clone(),
    };
    vbx_tokens::trust::trust_owners(owners);
    let ctx = Context::new(cli.store.as_deref(), cli.wait)?;
    let request = match cli.command {
        cli::Command::Create(a) => Request::Create(Create {
            name: a.name,
            note: a.note,
            quiet: a.quiet,
            keep: a.keep,
            passphrase_file: a.passphrase.passphrase_file,
            expiry: expiry(a.expiry.expires_in, a.expiry.expires_at),
            scopes: a.scopes,
            max_uses: a.max_uses,
            allow_ip: a.allow_ip,
        }),
        cli::Command::List(a) => Request::List(List {
            all: a.all,
            filter: Filter {
                statuses: a.status.into_iter().map(State::from).collect(),
                unused_for: a.unused.unused_for,
                expiring_within: a.expiring_within,
            },
            fail_if_any: a.fail_if_any,
        }),
        cli::Command::Show(a) => Request::Show(Show { token: a.token }),
        cli::Command::Revoke(a) => Request::Revoke(match (a.token, a.unused_for) {
            (_, Some(unused_for)) => Revoke::Unused {
                unused_for,
                dry_run: a.dry_run,
                yes: a.yes,
                typed: format!("{unused_for:#}"),
            },
            (Some(token), None) => Revoke::One { token, yes: a.yes },
            (None, None) => {
                return Err(crate::error::Error::usage(
                    "name the token to revoke, or give --unused-for",
                ));
            }
        }),
        cli::Command::Rotate(a) => Request::Rotate(Rotate {
            token: a.token,
            grace: a.grace,
            quiet: a.quiet,
            keep: a.keep,
            passphrase_file: a.passphrase.passphrase_file,
        }),
        cli::Command::Disable(a) => Request::SetDisabled(SetDisabled {
            token: a.token,
            disabled: true,
        }),
        cli::Command::Enable(a) => Request::SetDisabled(SetDisabled {
            token: a.token,
            disabled: false,
        }),
        cli::Command::Extend(a) => Request::Extend(Extend {
            token: a.token,
            expiry: expiry(a.expiry.expires_in, a.expiry.expires_at),
        }),
        cli::Command::Verify(a) => Request::Verify(Verify {
            no_touch: a.no_touch,
            batch: a.batch,
            scopes: a.scopes,
            ip: a.ip,
        }),
        cli::Command::Scan(a) => Request::Scan(Scan {
            paths: a.paths,
            hidden: a.hidden,
            no_ignore: a.no_ignore,
            staged: a.staged,
            max_size: a.max_size,
        }),
        cli::Command::Redact => Request::Redact,
        cli::Command::Log(a) => Request::Log(Log {
            limit: a.limit,
            token: a.token,
            check: a.check,
        }),
        cli::Command::Export => Request::Export,
        cli::Command::Import(a) => Request::Import(Import {
            file: a.file,
            any_format: a.any_format,
            skip_existing: a.skip_existing,
        }),
        cli::Command::Doctor => Request::Doctor,
        cli::Command::Backup(a) => Request::Backup(Backup {
            file: a.file,
            passphrase_file: a.passphrase.passphrase_file,
        }),
        cli::Command::Restore(a) => Request::Restore(Restore {
            file: a.file,
            yes: a.yes,
            force: a.force,
            passphrase_file: a.passphrase.passphrase_file,
        }),
        cli::Command::Vault(v) => Request::Vault(VaultRequest::from(v)),
        cli::Command::GrantVerify(a) => Request::GrantVerify { role: a.role },
        cli::Command::Generate { out_dir } => Request::Generate { out_dir },
        cli::Command::DebugPanic => Request::DebugPanic,
    };
    Ok((ctx, request, cli.json))
}

fn expiry(within: Option<jiff::Span>, at: Option<crate::time::Time>) -> Expiry {
    match (within, at) {
        (Some(span), _) => Expiry::In(span),
        (None, Some(at)) => Expiry::At(at),
        (None, None) => Expiry::Never,
    }
}

impl From<cli::StatusArg> for State {
    fn from(s: cli::StatusArg) -> State {
        match s {
            cli::StatusArg::Active => State::Active,
            cli::StatusArg::Revoked => State::Revoked,
            cli::StatusArg::Expired => State::Expired,
            cli::StatusArg::Disabled => State::Disabled,
        }
    }
}

/// Runs one command. Data and messages go to `p`; the outcome (or error) goes back to be
/// turned into an exit code by `crate::error::decide`.
pub fn run(ctx: &Context, request: Request, p: &mut Printer) -> Result<Outcome> {
    match request {
        Request::Create(r) => create::run(ctx, r, p),
        Request::List(r) => show::list(ctx, r, p),
        Request::Show(r) => show::show(ctx, r, p),
        Request::Revoke(r) => revoke::run(ctx, r, p),
        Request::Rotate(r) => lifecycle::rotate(ctx, r, p),
        Request::SetDisabled(r) => lifecycle::set_disabled(ctx, r, p),
        Request::Extend(r) => lifecycle::extend(ctx, r, p),
        Request::Verify(r) => verify::run(ctx, r, p),
        Request::Scan(r) => scan::run(ctx, r, p),
        Request::Redact => redact::run(ctx, p),
        Request::Log(r) => log::run(ctx, r, p),
        Request::Export => records::export(ctx, p),
        Request::Import(r) => records::import(ctx, r, p),
        Request::Doctor => backup::doctor(ctx, p),
        Request::Backup(r) => backup::backup(ctx, r, p),
        Request::Restore(r) => backup::restore(ctx, r, p),
        Request::Vault(r) => vault::run(ctx, r, p),
        Request::GrantVerify { role } => grant::verify(ctx, &role, p),
        Request::Generate { out_dir } => {
            for path in crate::generate::write_all(&out_dir)? {
                p.wrote(&out_dir.join(path));
            }
            Ok(Outcome::Success)
        }
        Request::DebugPanic => panic!("debug-panic was asked for"),
    }
}
