//! `log`: the audit trail, oldest first, or the check of its hash chain.

use crate::engine::Tokens as _;
use std::collections::HashMap;

use super::Context;
use crate::error::{Error, Result};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::store::OpenMode;

/// `log [--limit N] [--token ID|NAME]`, or `log --check`.
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// Only the last N events.
    pub limit: Option<usize>,
    /// Only this token's events (id or name).
    pub token: Option<String>,
    /// Check the hash chain instead of listing (clap keeps it apart from the filters).
    pub check: bool,
}

pub fn run(ctx: &Context, req: Log, p: &mut Printer) -> Result<Outcome> {
    if req.check {
        return check(ctx, p);
    }
    let (events, names) = {
        let store = ctx.engine(OpenMode::Existing)?;
        let token_id = match &req.token {
            Some(t) => Some(store.resolve(t)?.id),
            None => None,
        };
        let events = store.events(req.limit, token_id.as_deref())?;
        // A failure counter names its tokens by id alone (a name would cost the log more than
        // a failure may): the table shows their names as they are now.
        let mut names = HashMap::new();
        for id in events.iter().flat_map(|e| e.tokens.keys()) {
            if !names.contains_key(id)
                && let Some(r) = store.get(id)?
            {
                names.insert(id.clone(), r.name);
            }
        }
        (events, names)
    };
    p.events(&events, &names);
    Ok(Outcome::Success)
}

/// `log --check`: a whole chain is success; a broken one is shown (as JSON, with `--json`) and
/// returned as the error, whose one line names the event and whose code is the store's.
fn check(ctx: &Context, p: &mut Printer) -> Result<Outcome> {
    let checked = ctx.engine(OpenMode::Existing)?.check_log();
    match checked {
        Ok(events) => {
            p.log_whole(events);
            Ok(Outcome::Success)
        }
        Err(Error::BrokenLog(broken)) => {
            p.log_broken(&broken);
            Err(Error::BrokenLog(broken))
        }
        Err(e) => Err(e),
    }
}
