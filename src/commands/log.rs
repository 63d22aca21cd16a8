//! `log`: the audit trail, oldest first.

use std::io::Write;

use jiff::Timestamp;

use super::{Context, Outcome};
use crate::cli::LogArgs;
use crate::error::Result;
use crate::output;
use crate::store::OpenMode;

pub fn run(ctx: &Context, args: LogArgs, out: &mut impl Write) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let token_id = match &args.token {
        Some(t) => Some(store.resolve(t)?.id),
        None => None,
    };
    let events = store.events(args.limit, token_id.as_deref())?;
    drop(store);
    if ctx.json {
        output::json(out, &events)?;
    } else if events.is_empty() {
        eprintln!("No events.");
    } else {
        output::events_table(out, &events, Timestamp::now(), ctx.color)?;
    }
    Ok(Outcome::Success)
}
