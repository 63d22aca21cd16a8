//! Changes to a token's life besides create and revoke: suspend and resume, a new expiry,
//! rotation, and revoking many at once. Each goes through [`Store::commit`].

use super::tokens::{Change, Grants, Keep, Points, REVOKE_POINTS, revoked};
use super::{Store, now};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::record::{Event, EventKind, Record, Status};
use crate::time::Time;
use crate::token::Token;

/// What `rotate` did: the old token as it now stands, and its replacement.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub old: Record,
    pub new: Record,
}

/// What `disable`, `enable` and `extend` did: the record as it now stands, and whether it was
/// that way already (then nothing was written).
#[derive(Debug, Clone)]
pub struct Changed {
    pub record: Record,
    pub already: bool,
}

const CHANGE_POINTS: Points = Points {
    indexed: "change-indexed",
    committed: "change-committed",
    durable: "change-durable",
};

impl Store {
    /// Suspends (`disabled`) or resumes a token; verify answers `disabled` meanwhile.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Usage`] for a revoked token; the store's own errors.
    pub fn set_disabled(&self, id: &str, disabled: bool) -> Result<Changed> {
        let mut record = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        let at = now();
        refuse_revoked(&record, at, if disabled { "disable" } else { "enable" })?;
        if record.disabled == disabled {
            return Ok(Changed {
                record,
                already: true,
            });
        }
        record.disabled = disabled;
        record.disabled_at = disabled.then_some(at);
        let (kind, grants) = match disabled {
            true => (EventKind::Disabled, Grants::Less),
            false => (EventKind::Enabled, Grants::More),
        };
        let event = self.event(kind, Some(&record), None);
        self.change_one(record, grants, event)
    }

    /// Moves a token's expiry to `expires_at`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Usage`] for a revoked token or a time not in the future;
    /// the store's own errors.
    pub fn extend(&self, id: &str, expires_at: Time) -> Result<Changed> {
        let mut record = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        let at = now();
        refuse_revoked(&record, at, "extend")?;
        if expires_at <= at {
            return Err(Error::usage(format!(
                "the new expiry {expires_at} is not in the future"
            )));
        }
        if record.expires_at == Some(expires_at) {
            return Ok(Changed {
                record,
                already: true,
            });
        }
        // Moving the expiry earlier takes validity away: the index must say so first.
        let grants = match record.expires_at {
            Some(old) if expires_at < old => Grants::Less,
            _ => Grants::More,
        };
        let before = record.expires_at;
        record.expires_at = Some(expires_at);
        let mut event = self.event(EventKind::Extended, Some(&record), None);
        event.detail = Some(match before {
            Some(old) => format!("expiry {old} -> {expires_at}"),
            None => format!("expiry none -> {expires_at}"),
        });
        self.change_one(record, grants, event)
    }

    /// Commits one changed record with its event.
    fn change_one(&self, record: Record, grants: Grants, event: Event) -> Result<Changed> {
        self.commit(
            &[Change::new(record.clone(), grants)],
            &[event],
            None,
            &CHANGE_POINTS,
        )?;
        Ok(Changed {
            record,
            already: false,
        })
    }

    /// Replaces a token with `token`: same name, note, scopes, use limit and address ranges,
    /// and as long a life as the old one was given (its expiry minus its creation), from now.
    /// Without `grace_until` the old token is revoked in the same commit; with it, it keeps
    /// verifying until then. With `keep`, the new token is kept in the vault.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Usage`] for a revoked token or one already replaced, or a
    /// grace that does not end in the future; [`Error::Vault`] when the vault changed; the
    /// store's own errors.
    pub fn rotate(
        &self,
        id: &str,
        token: &Token,
        grace_until: Option<Time>,
        keep: Option<Keep<'_>>,
    ) -> Result<Rotated> {
        let old = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        let at = now();
        // A successor the store does not have (an import that brought only half a chain) does
        // not block the rotation.
        if let Some(next) = &old.replaced_by
            && self.get(next)?.is_some()
        {
            return Err(Error::usage(format!(
                "token {:?} ({}) was already replaced by {next}: rotate that one",
                old.name, old.id
            )));
        }
        refuse_revoked(&old, at, "rotate")?;
        if grace_until.is_some_and(|end| end <= at) {
            return Err(Error::usage("the grace must end in the future"));
        }
        // Two tokens of one name for longer than that is not a rotation.
        if grace_until
            .is_some_and(|end| end.as_second() - at.as_second() > crate::policy::MAX_GRACE_SECONDS)
        {
            return Err(Error::usage(
                "a grace may be 366 days at the most: the old token is meant to go",
            ));
        }
        let lifetime = old
            .expires_at
            .map(|end| end.as_second() - old.created_at.as_second());
        // The successor lives as long as its predecessor was meant to, from now: never less,
        // and never already expired. A record that expires before it was made (an old store's,
        // since `import` refuses one) has no lifetime to carry over.
        let expires_at = match lifetime {
            Some(secs) if secs <= 0 => {
                return Err(Error::usage(format!(
                    "token {:?} ({}) expires ({}) no later than it was created ({}), so it has no lifetime to give its successor: set one with `vbx-tokens extend {} --expires-in D`, then rotate",
                    old.name,
                    old.id,
                    old.expires_at.map(|t| t.to_string()).unwrap_or_default(),
                    old.created_at,
                    old.id
                )));
            }
            Some(secs) => Some(at.checked_add_seconds(secs).ok_or_else(|| {
                Error::usage(format!(
                    "token {:?} ({}) was given {secs} seconds to live, and that from now ends past the year 9999, the last a time may be in: set a shorter lifetime with `vbx-tokens extend {} --expires-in D`, then rotate",
                    old.name, old.id, old.id
                ))
            })?),
            None => None,
        };
        let policy = Policy {
            expires_at,
            scopes: old.scopes.clone(),
            max_uses: old.max_uses,
            allow_ip: old.allow_ip.clone(),
        };
        let new = self.new_record(
            token,
            &old.name,
            old.note.clone(),
            &policy,
            Some(old.id.clone()),
        )?;
        let mut old = revoked(old, grace_until.unwrap_or(at));
        old.grace_until = grace_until;
        old.replaced_by = Some(new.id.clone());
        let mut event = self.event(EventKind::Rotated, Some(&new), None);
        event.replaces = Some(old.id.clone());
        event.detail = grace_until.map(|end| format!("{} valid until {end}", old.id));
        self.commit(
            &[
                Change::new(old.clone(), Grants::Less).free_name().forget(),
                Change::new(new.clone(), Grants::More)
                    .claim_name()
                    .new_hash(),
            ],
            &[event],
            keep.map(|k| k.seal(token, &new.id)),
            &CHANGE_POINTS,
        )?;
        Ok(Rotated { old, new })
    }

    /// Revokes every token in `ids` in one commit, each event saying `why`. Tokens revoked
    /// already (and not in a grace) are left out.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an id the store does not have; the store's own errors.
    pub fn revoke_all(&self, ids: &[String], why: &str) -> Result<Vec<Record>> {
        let at = now();
        let mut changes = Vec::new();
        let mut events = Vec::new();
        for id in ids {
            let r = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
            // Revoked already, or taken along as an earlier one's graced predecessor.
            if (r.status == Status::Revoked && !r.in_grace(at))
                || changes.iter().any(|c: &Change| c.record.id == r.id)
            {
                continue;
            }
            let r = revoked(r, at);
            let mut e: Event = self.event(EventKind::Revoked, Some(&r), None);
            e.detail = Some(why.to_owned());
            events.push(e);
            changes.push(Change::new(r.clone(), Grants::Less).free_name().forget());
            self.end_graces(&r, at, &mut changes, &mut events)?;
        }
        if !changes.is_empty() {
            self.commit(&changes, &events, None, &REVOKE_POINTS)?;
        }
        Ok(changes.into_iter().map(|c| c.record).collect())
    }
}

/// Refuses to change a revoked token (one in a rotation's grace too: it is on its way out).
fn refuse_revoked(r: &Record, _now: Time, what: &str) -> Result<()> {
    if r.status == Status::Revoked {
        return Err(Error::usage(format!(
            "token {:?} ({}) is revoked: there is nothing to {what}",
            r.name, r.id
        )));
    }
    Ok(())
}

/// A token's place in its rotations: the ids it replaced (oldest first) and the ids that
/// replaced it (in order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub predecessors: Vec<String>,
    pub successors: Vec<String>,
}

/// The longest chain followed: a damaged record pointing in a circle must not loop forever.
const MAX_CHAIN: usize = 10_000;

impl Store {
    /// The rotation chain `record` belongs to, following `replaces` and `replaced_by`.
    ///
    /// # Errors
    /// The store's own errors.
    pub fn chain(&self, record: &Record) -> Result<Chain> {
        let mut chain = Chain::default();
        let mut seen = std::collections::HashSet::from([record.id.clone()]);
        let mut at = record.replaces.clone();
        while let Some(id) = at.filter(|id| seen.insert(id.clone()) && seen.len() < MAX_CHAIN) {
            at = self.get(&id)?.and_then(|r| r.replaces);
            chain.predecessors.push(id);
        }
        chain.predecessors.reverse();
        let mut at = record.replaced_by.clone();
        while let Some(id) = at.filter(|id| seen.insert(id.clone()) && seen.len() < MAX_CHAIN) {
            at = self.get(&id)?.and_then(|r| r.replaced_by);
            chain.successors.push(id);
        }
        Ok(chain)
    }
}
