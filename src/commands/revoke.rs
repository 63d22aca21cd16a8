//! `revoke`: invalid at once, logged, never undone. One token, or every token unused for a
//! while (`--unused-for`), in one commit.

use super::Context;
use super::show::Filter;
use crate::engine::Tokens as _;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::policy::State;
use crate::prompt;
use crate::store::OpenMode;
use crate::time::Time;

/// `revoke ID|NAME [--yes]` or `revoke --unused-for DURATION [--dry-run] [--yes]`.
#[derive(Debug, Clone)]
pub enum Revoke {
    One {
        token: String,
        /// Confirmed already: needed when stdin is not a terminal.
        yes: bool,
    },
    Unused {
        unused_for: jiff::Span,
        /// List them; revoke nothing.
        dry_run: bool,
        yes: bool,
        /// As typed, for the log.
        typed: String,
    },
}

pub fn run(ctx: &Context, req: Revoke, p: &mut Printer) -> Result<Outcome> {
    match req {
        Revoke::One { token, yes } => one(ctx, &token, yes, p),
        Revoke::Unused {
            unused_for,
            dry_run,
            yes,
            typed,
        } => unused(ctx, unused_for, dry_run, yes, &typed, p),
    }
}

fn one(ctx: &Context, token: &str, yes: bool, p: &mut Printer) -> Result<Outcome> {
    let store = ctx.engine(OpenMode::Existing)?;
    let target = store.resolve(token)?;
    let live = target.state_at(Time::now()) != State::Revoked;
    let store = if live && !yes {
        // Let go of the store while a person thinks, so cron jobs don't wait on the prompt.
        drop(store);
        let question = format!(
            "Revoke token {:?} ({})? It stops working at once; this cannot be undone",
            target.name, target.id
        );
        confirm(
            &question,
            &format!("revoking {:?} cannot be undone", target.name),
        )?;
        ctx.engine(OpenMode::Existing)?
    } else {
        store
    };
    let revoked = store.revoke(&target.id)?;
    p.revoked(&revoked);
    Ok(Outcome::Success)
}

fn unused(
    ctx: &Context,
    unused_for: jiff::Span,
    dry_run: bool,
    yes: bool,
    typed: &str,
    p: &mut Printer,
) -> Result<Outcome> {
    let filter = Filter {
        unused_for: Some(unused_for),
        ..Filter::default()
    };
    let find = |store: &dyn crate::engine::Engine| -> Result<Vec<crate::record::Record>> {
        let picker = filter.at(Time::now())?;
        let mut found = store.records()?;
        // As `list --unused-for` picks them, among tokens that still verify or could: a token
        // in a rotation's grace is one (revoking it ends the grace).
        let now = Time::now();
        found.retain(|r| picker.picks(r) && r.state_at(now) != State::Revoked);
        Ok(found)
    };
    let candidates = find(&*ctx.engine(OpenMode::Existing)?)?;
    if dry_run || candidates.is_empty() {
        p.bulk_revoked(&candidates, true);
        return Ok(Outcome::Success);
    }
    if !yes {
        if prompt::interactive() {
            p.preview(&candidates);
        }
        let question = format!(
            "Revoke these {} token(s) unused for {typed}? They stop working at once; this cannot be undone",
            candidates.len()
        );
        confirm(
            &question,
            &format!("revoking {} token(s) cannot be undone", candidates.len()),
        )?;
    }
    // Chosen again under the lock, so a token used while the question was open is spared; but
    // never one that was not shown.
    let store = ctx.engine(OpenMode::Existing)?;
    let shown: std::collections::HashSet<&str> = candidates.iter().map(|r| r.id.as_str()).collect();
    let ids: Vec<String> = find(&*store)?
        .into_iter()
        .filter(|r| shown.contains(r.id.as_str()))
        .map(|r| r.id)
        .collect();
    let revoked = store.revoke_all(&ids, &format!("unused for {typed}"))?;
    drop(store);
    p.bulk_revoked(&revoked, false);
    Ok(Outcome::Success)
}

/// Asks in a terminal; elsewhere, without `--yes`, refuses with a usage error.
fn confirm(question: &str, what: &str) -> Result<()> {
    if !prompt::interactive() {
        return Err(Error::usage(format!(
            "{what}: pass --yes to confirm when not in a terminal"
        )));
    }
    if !prompt::confirm(question)? {
        return Err(Error::usage("not revoked: you said no"));
    }
    Ok(())
}
