//! `list` and `show`: read records, never a token or a hash.

use std::io::Write;

use jiff::Timestamp;

use super::{Context, Outcome};
use crate::cli::{ListArgs, ShowArgs};
use crate::error::Result;
use crate::output::{self, RecordView};
use crate::store::OpenMode;

pub fn list(ctx: &Context, args: ListArgs, out: &mut impl Write) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let mut records = store.records()?;
    let kept = store.kept_ids()?;
    drop(store);
    if !args.all {
        records.retain(|r| r.is_active());
    }
    if ctx.json {
        let views: Vec<RecordView> = records
            .iter()
            .map(|r| RecordView::new(r, kept.contains(&r.id)))
            .collect();
        output::json(out, &views)?;
    } else if records.is_empty() {
        eprintln!(
            "No {}tokens. Make one with `vbx-tokens create --name NAME`.",
            if args.all { "" } else { "active " }
        );
    } else {
        output::records_table(out, &records, &kept, Timestamp::now(), ctx.color)?;
    }
    Ok(Outcome::Success)
}

pub fn show(ctx: &Context, args: ShowArgs, out: &mut impl Write) -> Result<Outcome> {
    let store = ctx.open(OpenMode::Existing)?;
    let record = store.resolve(&args.token)?;
    let kept = store.kept(&record.id)?.is_some();
    drop(store);
    if ctx.json {
        output::json(out, &RecordView::new(&record, kept))?;
    } else {
        output::record_detail(out, &record, kept, Timestamp::now(), ctx.color)?;
    }
    Ok(Outcome::Success)
}
