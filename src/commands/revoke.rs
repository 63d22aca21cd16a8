//! `revoke`: invalid at once, logged, never undone.

use std::io::Write;

use super::{Context, Outcome};
use crate::cli::RevokeArgs;
use crate::error::{Error, Result};
use crate::output::{self, RecordView};
use crate::prompt;
use crate::store::OpenMode;

pub fn run(ctx: &Context, args: RevokeArgs, out: &mut impl Write) -> Result<Outcome> {
    // Look the token up, then let go of the store while a person thinks, so cron jobs don't
    // wait on the prompt.
    let target = ctx.open(OpenMode::Existing)?.resolve(&args.token)?;
    if target.is_active() && !args.yes {
        if !prompt::interactive() {
            return Err(Error::Usage(format!(
                "revoking {:?} cannot be undone: pass --yes to confirm when not in a terminal",
                target.name
            )));
        }
        let question = format!(
            "Revoke token {:?} ({})? It stops working at once; this cannot be undone",
            target.name, target.id
        );
        if !prompt::confirm(&question)? {
            return Err(Error::Usage("not revoked: you said no".into()));
        }
    }
    let revoked = ctx.open(OpenMode::Existing)?.revoke(&target.id)?;

    let r = &revoked.record;
    if ctx.json {
        output::json(out, &RecordView::new(r, false))?;
    } else if revoked.already {
        let when = r.revoked_at.map(|t| format!(" at {t}")).unwrap_or_default();
        eprintln!("Token {:?} ({}) was already revoked{when}.", r.name, r.id);
    } else {
        eprintln!("Revoked token {:?} ({}).", r.name, r.id);
    }
    Ok(Outcome::Success)
}
