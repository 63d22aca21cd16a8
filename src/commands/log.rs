//! `log`: the audit trail, oldest first.

use super::Context;
use crate::error::Result;
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::store::OpenMode;

/// `log [--limit N] [--token ID|NAME]`.
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// Only the last N events.
    pub limit: Option<usize>,
    /// Only this token's events (id or name).
    pub token: Option<String>,
}

pub fn run(ctx: &Context, req: Log, p: &mut Printer) -> Result<Outcome> {
    let events = {
        let store = ctx.open(OpenMode::Existing)?;
        let token_id = match &req.token {
            Some(t) => Some(store.resolve(t)?.id),
            None => None,
        };
        store.events(req.limit, token_id.as_deref())?
    };
    p.events(&events);
    Ok(Outcome::Success)
}
