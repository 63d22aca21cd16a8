//! `rotate`, `disable`, `enable` and `extend`: changes to an existing token's life.

use crate::engine::Tokens as _;
use std::path::PathBuf;

use super::create::Expiry;
use super::{Context, vault};
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::policy;
use crate::store::{Keep, OpenMode};
use crate::time::Time;
use crate::token::Token;

/// `rotate ID|NAME [--grace DURATION] [-q] [--keep]`.
#[derive(Debug, Clone)]
pub struct Rotate {
    pub token: String,
    pub grace: Option<jiff::Span>,
    pub quiet: bool,
    pub keep: bool,
    pub passphrase_file: Option<PathBuf>,
}

/// `disable ID|NAME`, `enable ID|NAME`.
#[derive(Debug, Clone)]
pub struct SetDisabled {
    pub token: String,
    pub disabled: bool,
}

/// `extend ID|NAME --expires-in D|--expires-at T`.
#[derive(Debug, Clone)]
pub struct Extend {
    pub token: String,
    pub expiry: Expiry,
}

pub fn rotate(ctx: &Context, req: Rotate, p: &mut Printer) -> Result<Outcome> {
    let grace_until = req
        .grace
        .map(|span| policy::shift(Time::now(), span, true))
        .transpose()?;
    // Found first, so a typo is reported before a passphrase is asked for.
    let old = ctx.engine(OpenMode::Existing)?.resolve(&req.token)?;
    let unlocked = match req.keep {
        true => Some(vault::unlock(ctx, req.passphrase_file.as_deref(), |_| Ok(()))?.0),
        false => None,
    };
    let token = Token::generate();
    let keep = unlocked.as_ref().map(|u| Keep {
        header: &u.header,
        vault: &u.vault,
    });
    let rotated = ctx
        .engine(OpenMode::Existing)?
        .rotate(&old.id, &token, grace_until, keep)?;
    // Durable and the store closed: only now may the new token be shown.
    p.rotated(&rotated, token.expose(), req.quiet, req.keep);
    Ok(Outcome::Success)
}

pub fn set_disabled(ctx: &Context, req: SetDisabled, p: &mut Printer) -> Result<Outcome> {
    let store = ctx.engine(OpenMode::Existing)?;
    let id = store.resolve(&req.token)?.id;
    let changed = store.set_disabled(&id, req.disabled)?;
    drop(store);
    p.changed(&changed, if req.disabled { "disabled" } else { "enabled" });
    Ok(Outcome::Success)
}

pub fn extend(ctx: &Context, req: Extend, p: &mut Printer) -> Result<Outcome> {
    let expires_at = req
        .expiry
        .resolve(Time::now())?
        .ok_or_else(|| Error::usage("give the new expiry: --expires-in or --expires-at"))?;
    let store = ctx.engine(OpenMode::Existing)?;
    let id = store.resolve(&req.token)?.id;
    let changed = store.extend(&id, expires_at)?;
    drop(store);
    p.changed(&changed, "extended");
    Ok(Outcome::Success)
}
