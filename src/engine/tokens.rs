//! The token lifecycle over any [`Engine`]: create, look up, revoke, rotate, suspend, extend,
//! and the audit log as the commands read it. Written once, so both engines mean the same by
//! each command; an engine only stores what this decides.

use super::{
    CHANGE_POINTS, CREATE_POINTS, Change, Engine, Grants, Keep, REVOKE_POINTS, new_id, revoked,
};
use crate::error::{Error, Result};
use crate::name::name_key;
use crate::policy::Policy;
use crate::record::{Event, EventKind, RECORD_VERSION, Record, Status};
use crate::time::Time;
use crate::token::Token;
use crate::verdict::Reason;

/// The outcome of a revoke: the record as it now stands, and whether it was revoked already.
#[derive(Debug, Clone)]
pub struct Revoked {
    pub record: Record,
    pub already: bool,
}

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

/// A token's place in its rotations: the ids it replaced (oldest first) and the ids that
/// replaced it (in order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub predecessors: Vec<String>,
    pub successors: Vec<String>,
}

/// The longest chain followed: a damaged record pointing in a circle must not loop forever.
const MAX_CHAIN: usize = 10_000;

/// The token lifecycle, for every [`Engine`].
pub trait Tokens: Engine {
    /// Records a new token with its policy, and its `created` event, and makes it durable.
    /// With `keep`, the token's sealed plaintext (made by `keep` from the new id) commits in the
    /// same transaction, provided the vault header is still `keep`'s. The verification index
    /// gets the token after sled does.
    ///
    /// # Errors
    /// [`Error::Usage`] when an active token has a name that looks the same, or the token is
    /// already stored; [`Error::Vault`] when the vault changed; the store's own errors.
    fn create(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        policy: &Policy,
        keep: Option<Keep<'_>>,
    ) -> Result<Record> {
        let record = self.new_record(token, name, note, policy, None)?;
        let event = self.event(EventKind::Created, Some(&record), None);
        self.commit(
            &[Change::new(record.clone(), Grants::More)
                .claim_name()
                .new_hash()],
            &[event],
            keep.map(|k| k.seal(token, &record.id)),
            &CREATE_POINTS,
        )?;
        Ok(record)
    }

    /// A new active record for `token`, with a fresh id and creation order; not stored yet.
    fn new_record(
        &self,
        token: &Token,
        name: &str,
        note: Option<String>,
        policy: &Policy,
        replaces: Option<String>,
    ) -> Result<Record> {
        // An id collision (1 in 2^41 per pair) only costs another draw.
        let id = loop {
            let id = new_id();
            if self.get(&id)?.is_none() {
                break id;
            }
        };
        Ok(Record {
            v: RECORD_VERSION,
            id,
            seq: self.new_seq()?,
            name: name.to_owned(),
            note,
            sha256: token.hash().to_hex(),
            hint: token.hint(),
            created_at: now(),
            created_by: self.actor().to_owned(),
            status: Status::Active,
            revoked_at: None,
            last_used_at: None,
            use_count: 0,
            last_used_ip: None,
            expires_at: policy.expires_at,
            scopes: policy.scopes.clone(),
            max_uses: policy.max_uses,
            allow_ip: policy.allow_ip.clone(),
            disabled: false,
            disabled_at: None,
            grace_until: None,
            replaces,
            replaced_by: None,
            extra: Default::default(),
        })
    }

    /// Finds a token by id, else by the name of an active token, else by the name of a revoked
    /// one (refusing to guess between several).
    fn resolve(&self, id_or_name: &str) -> Result<Record> {
        let given = id_or_name.trim();
        if let Some(record) = self.get(given)? {
            return Ok(record);
        }
        let key = name_key(given);
        if let Some(record) = self.active_named(&key)? {
            return Ok(record);
        }
        let mut revoked: Vec<Record> = self
            .records()?
            .into_iter()
            .filter(|r| name_key(&r.name) == key)
            .collect();
        match revoked.len() {
            0 => Err(Error::not_found(given)),
            1 => Ok(revoked.remove(0)),
            n => Err(Error::usage(format!(
                "{n} revoked tokens are named {given:?} ({}): give an id instead",
                revoked
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Every record, oldest first.
    ///
    /// # Errors
    /// The store's own errors; a record that does not parse is damage.
    fn records(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.each_record(|r| {
            out.push(r);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Calls `f` with every record, oldest first, one at a time, until it returns `false`.
    /// Memory holds the stored bytes and the order, not parsed records.
    ///
    /// # Errors
    /// The store's own errors, and `f`'s.
    fn each_record(&self, mut f: impl FnMut(Record) -> Result<bool>) -> Result<()> {
        self.visit_records(&mut f)
    }

    /// Revokes a token at once, with its `revoked` event, and makes it durable. Revoking a
    /// revoked token changes nothing and says so; revoking one still in a rotation's grace
    /// ends the grace now. The verification index says "revoked" before sled does, so the
    /// revoke may take effect early (if this crashes) but never late.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown id; the store's own errors.
    fn revoke(&self, id: &str) -> Result<Revoked> {
        let at = now();
        let current = self.get(id)?.ok_or_else(|| Error::not_found(id))?;
        if current.status == Status::Revoked && !current.in_grace(at) {
            return Ok(Revoked {
                record: current,
                already: true,
            });
        }
        let record = revoked(current, at);
        let mut changes = vec![
            Change::new(record.clone(), Grants::Less)
                .free_name()
                .forget(),
        ];
        let mut events = vec![self.event(EventKind::Revoked, Some(&record), None)];
        self.end_graces(&record, at, &mut changes, &mut events)?;
        self.commit(&changes, &events, None, &REVOKE_POINTS)?;
        Ok(Revoked {
            record,
            already: false,
        })
    }

    /// Adds to `changes` and `events` the revoke of every token `record` replaced (directly or
    /// through others) that still verifies in its grace, unless `changes` has it already: once
    /// a name's token is revoked, no token of that name verifies.
    fn end_graces(
        &self,
        record: &Record,
        at: Time,
        changes: &mut Vec<Change>,
        events: &mut Vec<Event>,
    ) -> Result<()> {
        for old in self.graced_predecessors(record, at)? {
            if changes.iter().any(|c| c.record.id == old.id) {
                continue;
            }
            let old = revoked(old, at);
            let mut e = self.event(EventKind::Revoked, Some(&old), None);
            e.detail = Some(format!(
                "its grace ended: {} replaced it and was revoked",
                record.id
            ));
            events.push(e);
            changes.push(Change::new(old, Grants::Less).free_name().forget());
        }
        Ok(())
    }

    /// The tokens `record` replaced, directly or through others, that are still in the grace
    /// a rotation gave them at `at`.
    fn graced_predecessors(&self, record: &Record, at: Time) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::from([record.id.clone()]);
        let mut next = record.replaces.clone();
        while let Some(id) = next.filter(|id| seen.insert(id.clone())) {
            let Some(r) = self.get(&id)? else { break };
            next = r.replaces.clone();
            if r.in_grace(at) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Suspends (`disabled`) or resumes a token; verify answers `disabled` meanwhile.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Usage`] for a revoked token; the store's own errors.
    fn set_disabled(&self, id: &str, disabled: bool) -> Result<Changed> {
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
    fn extend(&self, id: &str, expires_at: Time) -> Result<Changed> {
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
    fn rotate(
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
    fn revoke_all(&self, ids: &[String], why: &str) -> Result<Vec<Record>> {
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

    /// The rotation chain `record` belongs to, following `replaces` and `replaced_by`.
    ///
    /// # Errors
    /// The store's own errors.
    fn chain(&self, record: &Record) -> Result<Chain> {
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

    /// The audit log, oldest first: the last `limit` events, of one token if `token_id` is given
    /// (a rotation counts for both tokens: the new one is `token_id`, the old one `replaces`; a
    /// failure counter that counts it is shown with that token's failures alone: its count,
    /// `tokens` holding it alone).
    fn events(&self, limit: Option<usize>, token_id: Option<&str>) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        self.visit_events_newest_first(&mut |bytes| {
            if limit.is_some_and(|n| out.len() >= n) {
                return Ok(false);
            }
            let mut event = Event::from_bytes(bytes).map_err(|e| {
                Error::store(format!("{e}: `vbx-tokens log --check` names the event"))
            })?;
            match token_id {
                None => out.push(event),
                Some(id)
                    if event.token_id.as_deref() == Some(id)
                        || event.replaces.as_deref() == Some(id) =>
                {
                    out.push(event);
                }
                Some(id) => {
                    if let Some(n) = event.tokens.remove(id) {
                        event.tokens = [(id.to_owned(), n)].into();
                        event.count = n;
                        out.push(event);
                    }
                }
            }
            Ok(true)
        })?;
        out.reverse();
        Ok(out)
    }

    /// Writes the vault (`Engine::put_vault`) with an event of `kind`.
    ///
    /// # Errors
    /// As for `Engine::put_vault`.
    fn write_vault(
        &self,
        expected: Option<&[u8]>,
        header: &[u8],
        kept: &[(String, Vec<u8>)],
        kind: EventKind,
    ) -> Result<()> {
        let event = self.event(kind, None, None);
        // From here the change is made and reported, whatever signal comes.
        crate::cleanup::commit();
        self.put_vault(expected, header, kept, &event)
    }

    /// Erases one token's kept secret, with a `forgotten` event. False if there was none.
    ///
    /// # Errors
    /// The engine's own.
    fn forget(&self, record: &Record) -> Result<bool> {
        let event = self.event(EventKind::Forgotten, Some(record), None);
        crate::cleanup::commit();
        self.remove_secret(&record.id, &event)
    }

    /// Logs an event that needs no other change (a vault action, a reveal), durably.
    fn log_event(&self, kind: EventKind, record: Option<&Record>) -> Result<()> {
        self.append(&[self.event(kind, record, None)])
    }

    /// Logs an event about no token with a detail (a backup's file), durably.
    fn log_detail(&self, kind: EventKind, detail: &str) -> Result<()> {
        let mut event = self.event(kind, None, None);
        // A file name may hold anything and be of any length: the log holds it escaped, and
        // cut to fit, as restore expects it.
        event.detail = Some(crate::record::fit_detail(detail));
        self.append(&[event])
    }

    /// An audit event by this process's user, about a token when there is one.
    fn event(&self, kind: EventKind, record: Option<&Record>, reason: Option<Reason>) -> Event {
        let mut event = Event::new(kind, record, self.actor(), now());
        event.reason = reason.map(|r| r.as_str().to_owned());
        event
    }
}

impl<E: Engine + ?Sized> Tokens for E {}

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

fn now() -> Time {
    Time::now()
}
