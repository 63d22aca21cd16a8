//! `revoke`: invalid at once, logged, never undone.

use super::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::prompt;
use crate::store::OpenMode;

/// `revoke ID|NAME [--yes]`.
#[derive(Debug, Clone)]
pub struct Revoke {
    pub token: String,
    /// Confirmed already: needed when stdin is not a terminal.
    pub yes: bool,
}

pub fn run(ctx: &Context, req: Revoke, p: &mut Printer) -> Result<Outcome> {
    // Look the token up, then let go of the store while a person thinks, so cron jobs don't
    // wait on the prompt.
    let target = ctx.open(OpenMode::Existing)?.resolve(&req.token)?;
    if target.is_active() && !req.yes {
        if !prompt::interactive() {
            return Err(Error::usage(format!(
                "revoking {:?} cannot be undone: pass --yes to confirm when not in a terminal",
                target.name
            )));
        }
        let question = format!(
            "Revoke token {:?} ({})? It stops working at once; this cannot be undone",
            target.name, target.id
        );
        if !prompt::confirm(&question)? {
            return Err(Error::usage("not revoked: you said no"));
        }
    }
    let revoked = ctx.open(OpenMode::Existing)?.revoke(&target.id)?;
    p.revoked(&revoked);
    Ok(Outcome::Success)
}
