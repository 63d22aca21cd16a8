//! The audit log: reading it, and appending events that change nothing else.

use sled::Transactional;

use super::tx::append;
use super::{Store, now};
use crate::error::{Error, Result};
use crate::record::{Event, EventKind, Record};
use crate::verdict::Reason;

impl Store {
    /// The audit log, oldest first: the last `limit` events, of one token if `token_id` is given
    /// (a rotation counts for both tokens: the new one is `token_id`, the old one `replaces`; a
    /// failure counter that counts it is shown with that token's failures alone: its count,
    /// `tokens` holding it alone).
    pub fn events(&self, limit: Option<usize>, token_id: Option<&str>) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        for item in self.log.iter().rev() {
            if limit.is_some_and(|n| out.len() >= n) {
                break;
            }
            let (_, bytes) = item.map_err(|e| self.sled(e))?;
            let mut event = Event::from_bytes(&bytes).map_err(|e| {
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
        }
        out.reverse();
        Ok(out)
    }

    /// Logs an event that needs no other change (a vault action, a reveal), durably.
    pub fn log_event(&self, kind: EventKind, record: Option<&Record>) -> Result<()> {
        self.append_event(&self.event(kind, record, None))?;
        self.make_durable()
    }

    /// Logs an event about no token with a detail (a backup's file), durably.
    pub fn log_detail(&self, kind: EventKind, detail: &str) -> Result<()> {
        let mut event = self.event(kind, None, None);
        // A file name may hold anything and be of any length: the log holds it escaped, and
        // cut to fit, as restore expects it.
        event.detail = Some(crate::record::fit_detail(detail));
        self.append_event(&event)?;
        self.make_durable()
    }

    /// An audit event by this process's user, about a token when there is one.
    pub(super) fn event(
        &self,
        kind: EventKind,
        record: Option<&Record>,
        reason: Option<Reason>,
    ) -> Event {
        let mut event = Event::new(kind, record, &self.actor, now());
        event.reason = reason.map(|r| r.as_str().to_owned());
        event
    }

    /// Appends one event that changes nothing else: a transaction of its own, since the event
    /// and the log head move together.
    pub(super) fn append_event(&self, event: &Event) -> Result<()> {
        (&self.log, &self.meta)
            .transaction(|(log, meta)| append(log, meta, event))
            .map_err(|e| self.tx_error(e))
    }
}
