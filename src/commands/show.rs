//! `list` and `show`: read records, never a token or a hash.

use super::Context;
use crate::error::Result;
use crate::outcome::Outcome;
use crate::output::Printer;
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
    let (mut records, kept) = {
        let store = ctx.open(OpenMode::Existing)?;
        (store.records()?, store.kept_ids()?)
    };
    if !req.all {
        records.retain(|r| r.is_active());
    }
    p.records(&records, &kept, req.all);
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
