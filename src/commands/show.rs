//! `list` and `show`: read records, never a token or a hash.

use super::Context;
use super::witness::Witness;
use crate::engine::Tokens as _;
use crate::error::Result;
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::policy::{self, State};
use crate::record::Record;
use crate::store::OpenMode;
use crate::time::Time;

/// `list [--all] [--status S]... [--unused-for D] [--expiring-within D] [--fail-if-any]`.
#[derive(Debug, Clone, Default)]
pub struct List {
    /// Include revoked tokens.
    pub all: bool,
    pub filter: Filter,
    /// Any match is exit 1.
    pub fail_if_any: bool,
}

/// Which tokens a review picks; every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these statuses; empty for any.
    pub statuses: Vec<State>,
    /// Not used since this long ago (a never-used token counts from its creation).
    pub unused_for: Option<jiff::Span>,
    /// Expiring within this long from now, and not expired or revoked yet.
    pub expiring_within: Option<jiff::Span>,
}

/// A [`Filter`] turned into times, at one `now`.
#[derive(Debug, Clone)]
pub struct Picker {
    now: Time,
    statuses: Vec<State>,
    unused_since: Option<Time>,
    expiring_by: Option<Time>,
}

impl Filter {
    /// The filter at `now`.
    ///
    /// # Errors
    /// [`crate::error::Error::Usage`] for a duration that reaches outside the times we hold.
    pub fn at(&self, now: Time) -> Result<Picker> {
        Ok(Picker {
            now,
            statuses: self.statuses.clone(),
            unused_since: self
                .unused_for
                .map(|d| policy::shift(now, d, false))
                .transpose()?,
            expiring_by: self
                .expiring_within
                .map(|d| policy::shift(now, d, true))
                .transpose()?,
        })
    }

    /// Whether any condition is given.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty() && self.unused_for.is_none() && self.expiring_within.is_none()
    }
}

impl Picker {
    /// Whether `r` passes every condition.
    pub fn picks(&self, r: &Record) -> bool {
        let state = r.state_at(self.now);
        (self.statuses.is_empty() || self.statuses.contains(&state))
            && self
                .unused_since
                .is_none_or(|since| r.last_used_at.unwrap_or(r.created_at) < since)
            && self.expiring_by.is_none_or(|by| {
                state != State::Revoked
                    && r.expires_at.is_some_and(|end| self.now < end && end <= by)
            })
    }
}

/// `show ID|NAME`.
#[derive(Debug, Clone)]
pub struct Show {
    pub token: String,
}

pub fn list(ctx: &Context, req: List, p: &mut Printer) -> Result<Outcome> {
    let picker = req.filter.at(Time::now())?;
    // Revoked tokens are left out unless asked for, by --all or by --status.
    let all = req.all || !req.filter.statuses.is_empty();
    let wanted = |r: &Record| picker.picks(r) && (all || r.state_at(picker.now) != State::Revoked);
    let mut matched = 0usize;
    let store = ctx.engine(OpenMode::Records)?;
    let kept = store.kept_ids()?;
    let witness = Witness::of(&*store);
    if p.streams_records() {
        // JSON streams, a record at a time, so a large store lists in flat memory.
        p.records_start();
        store.each_record(|mut r| {
            let _ = witness.raise(&mut r);
            if wanted(&r) {
                matched += 1;
                p.records_item(&r, kept.contains(&r.id));
            }
            Ok(!p.output_failed())
        })?;
        p.records_end();
    } else {
        // A table measures every row before it prints.
        let mut records = store.records()?;
        drop(store);
        records.iter_mut().for_each(|r| {
            let _ = witness.raise(r);
        });
        records.retain(wanted);
        matched = records.len();
        p.records(&records, &kept, all, !req.filter.is_empty());
    }
    Ok(if req.fail_if_any && matched > 0 {
        Outcome::Invalid
    } else {
        Outcome::Success
    })
}

pub fn show(ctx: &Context, req: Show, p: &mut Printer) -> Result<Outcome> {
    let (record, kept, chain) = {
        let store = ctx.engine(OpenMode::Records)?;
        let mut record = store.resolve(&req.token)?;
        let _ = Witness::of(&*store).raise(&mut record);
        let kept = store.kept(&record.id)?.is_some();
        let chain = store.chain(&record)?;
        (record, kept, chain)
    };
    p.record(&record, kept, &chain);
    Ok(Outcome::Success)
}
