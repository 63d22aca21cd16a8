//! `list` and `show`: read records, never a token or a hash.

use super::Context;
use crate::error::Result;
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::record::Record;
use crate::store::OpenMode;

/// `list [--all]`.
#[derive(Debug, Clone, Default)]
pub struct List {
    /// Include revoked tokens.
    pub all: bool,
}

/// `show ID|NAME`.
#[derive(Debug, Clone)]
pub struct Show {
    pub token: String,
}

pub fn list(ctx: &Context, req: List, p: &mut Printer) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let kept = store.kept_ids()?;
    let wanted = |r: &Record| req.all || r.is_active();
    if p.streams_records() {
        // JSON streams, a record at a time, so a large store lists in flat memory.
        p.records_start();
        store.each_record(|r| {
            if wanted(&r) {
                p.records_item(&r, kept.contains(&r.id));
            }
            Ok(!p.output_failed())
        })?;
        p.records_end();
    } else {
        // A table measures every row before it prints.
        let mut records = store.records()?;
        drop(store);
        records.retain(wanted);
        p.records(&records, &kept, req.all);
    }
    Ok(Outcome::Success)
}

pub fn show(ctx: &Context, req: Show, p: &mut Printer) -> Result<Outcome> {
    let (record, kept) = {
        let store = ctx.open(OpenMode::Existing)?;
        let record = store.resolve(&req.token)?;
        let kept = store.kept(&record.id)?.is_some();
        (record, kept)
    };
    p.record(&record, kept);
    Ok(Outcome::Success)
}
