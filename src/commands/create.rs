//! `create`: make a token, store its hash, show it once.

use crate::engine::Tokens as _;
use std::path::PathBuf;

use super::{Context, vault};
use crate::error::{Error, Result};
use crate::name::{clean_name, clean_note};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::policy::{self, Policy};
use crate::prompt;
use crate::store::{Keep, OpenMode};
use crate::time::Time;
use crate::token::Token;

/// `create --name NAME [--note TEXT] [-q] [--keep] [--expires-in D|--expires-at T]
/// [--scope S]... [--max-uses N] [--allow-ip CIDR]...`.
#[derive(Debug, Clone, Default)]
pub struct Create {
    /// Asked for in a terminal when missing.
    pub name: Option<String>,
    pub note: Option<String>,
    /// Print the token alone.
    pub quiet: bool,
    /// Keep the token in the vault too.
    pub keep: bool,
    pub passphrase_file: Option<PathBuf>,
    pub expiry: Expiry,
    /// As typed; checked here.
    pub scopes: Vec<String>,
    pub max_uses: Option<u64>,
    /// As typed; checked here.
    pub allow_ip: Vec<String>,
}

/// When a token is to expire.
#[derive(Debug, Clone, Copy, Default)]
pub enum Expiry {
    #[default]
    Never,
    In(jiff::Span),
    At(Time),
}

impl Expiry {
    /// The expiry as a time; one not after `now` is a usage error.
    ///
    /// # Errors
    /// [`Error::Usage`].
    pub fn resolve(self, now: Time) -> Result<Option<Time>> {
        let at = match self {
            Expiry::Never => return Ok(None),
            Expiry::In(span) => policy::shift(now, span, true)?,
            Expiry::At(at) => at,
        };
        if at <= now {
            return Err(Error::usage(format!(
                "the expiry {at} is not in the future (it is {now} now)"
            )));
        }
        Ok(Some(at))
    }
}

pub fn run(ctx: &Context, req: Create, p: &mut Printer) -> Result<Outcome> {
    let raw_name = match req.name {
        Some(name) => name,
        None if prompt::interactive() => prompt::name()?,
        None => {
            return Err(Error::usage(
                "a name is required: vbx-tokens create --name NAME",
            ));
        }
    };
    let name = clean_name(&raw_name)?;
    let note = req.note.as_deref().map(clean_note).transpose()?.flatten();
    let policy = Policy {
        expires_at: req.expiry.resolve(Time::now())?,
        scopes: policy::check_scopes(&req.scopes)?,
        max_uses: req.max_uses,
        allow_ip: policy::parse_ranges(&req.allow_ip)?,
    };

    // With --keep, unlock the vault first, with the store closed while the passphrase is asked.
    let unlocked = match req.keep {
        // A store that is not there yet has no vault yet.
        true => match vault::unlock(ctx, req.passphrase_file.as_deref(), |_| Ok(())) {
            Ok((unlocked, ())) => Some(unlocked),
            Err(Error::NoStore(_)) => return Err(vault::no_vault()),
            Err(e) => return Err(e),
        },
        false => None,
    };

    let token = Token::generate();
    let keep = unlocked.as_ref().map(|u| Keep {
        header: &u.header,
        vault: &u.vault,
    });
    // The store is created here, at the commit, so a create that failed above leaves nothing.
    let store = ctx.engine(OpenMode::Create)?;
    let record = match store.create(&token, &name, note, &policy, keep) {
        Ok(record) => record,
        Err(e) => {
            store.discard_if_new();
            return Err(e);
        }
    };
    drop(store);
    // The record is durable and the store closed; only from here may the token be shown.
    p.created(&record, token.expose(), req.quiet, req.keep);
    Ok(Outcome::Success)
}
