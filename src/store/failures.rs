//! Failed verifications as counters, so no order of failures can fill the disk.
//!
//! A fold turns the journal's failures into `verify_failed` events, one per *counter*: the
//! failures of one reason, one token (when the token is known: a revoked, expired or disabled
//! token still in use is news), one user, one client address (`ip`, for up to
//! [`MAX_ADDRESSES`] of them; the rest share a counter) and one hour (UTC) of the clock.
//! `count` says how many, `at` is the first and `last_at` the last.
//!
//! The log stays a hash chain, appended to under the store lock, with one exception that keeps
//! the bound whatever the order of folds: the counters of the hours a fold adds to, when they
//! are the last events of the log (nothing else happened since), are taken off its end and put
//! back with the new failures added, in the same transaction that moves the log head. A fold
//! does that only when the head names the last event and each counter it takes links to the one
//! before it; otherwise (damage `log --check` reports) it appends, and rewrites nothing. So the
//! log holds at most one event per counter between two other events, whatever the failures:
//! 100,000 in any order of reasons and tokens cost a few events, not 100,000 (README, "Audit
//! log").

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{LOG_HEAD_KEY, Store};
use crate::chain::{self, GENESIS, Head};
use crate::error::Result;
use crate::journal;
use crate::policy::failure_window as window;
use crate::record::{Event, EventKind};
use crate::time::Time;

/// The most events a fold takes off the log's end to add to (more counters than this in the
/// hours it adds to are left where they are, and new ones appended after them).
const MAX_TAIL: usize = 65_536;

/// The most addresses of one reason, token, user and hour that get counters of their own;
/// failures from further addresses share one, whose `ip` is `null` and `detail` is
/// [`FURTHER_ADDRESSES`].
pub const MAX_ADDRESSES: usize = 16;
/// The `detail` of the counter that holds failures from addresses past [`MAX_ADDRESSES`].
pub const FURTHER_ADDRESSES: &str = "and from further addresses";

/// What one counter counts failures of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    window: i64,
    reason: String,
    token_id: Option<String>,
    actor: String,
    /// Last, so one reason, token, user and hour's counters are neighbours, `None` first.
    ip: Option<IpAddr>,
}

#[derive(Debug, Clone)]
struct Counter {
    first: Time,
    last: Time,
    count: u64,
    name: Option<String>,
    detail: Option<String>,
}

/// Failures to count, as a journal entry or a counter already in the log says them.
#[derive(Debug, Clone, Copy)]
struct Failures<'a> {
    reason: &'a str,
    token_id: Option<&'a str>,
    actor: &'a str,
    first: Time,
    /// In the window of `first`.
    last: Time,
    count: u64,
    ip: Option<IpAddr>,
    name: Option<&'a str>,
    further: bool,
}

/// Failure counters being gathered for one fold.
#[derive(Debug, Default)]
pub(super) struct Counters {
    map: BTreeMap<Key, Counter>,
}

impl Counters {
    pub(super) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The earliest window counted.
    fn first_window(&self) -> Option<i64> {
        self.map.keys().map(|k| k.window).min()
    }

    /// How many addresses have counters of their own among `key`'s neighbours (its reason,
    /// token, user and hour).
    fn addresses(&self, key: &Key) -> usize {
        let first = Key {
            ip: None,
            ..key.clone()
        };
        self.map
            .range(&first..)
            .take_while(|(k, _)| {
                (k.window, &k.reason, &k.token_id, &k.actor)
                    == (first.window, &first.reason, &first.token_id, &first.actor)
            })
            .filter(|(k, _)| k.ip.is_some())
            .count()
    }

    fn add(&mut self, f: Failures) {
        let mut key = Key {
            window: window(f.first),
            reason: f.reason.to_owned(),
            token_id: f.token_id.map(str::to_owned),
            actor: f.actor.to_owned(),
            ip: f.ip,
        };
        let mut further = f.further;
        if key.ip.is_some() && !self.map.contains_key(&key) && self.addresses(&key) >= MAX_ADDRESSES
        {
            key.ip = None;
            further = true;
        }
        let c = self.map.entry(key).or_insert(Counter {
            first: f.first,
            last: f.last,
            count: 0,
            name: None,
            detail: None,
        });
        c.first = c.first.min(f.first);
        c.last = c.last.max(f.last);
        // Held at the largest count a JSON reader holds exactly (`policy`).
        c.count = c
            .count
            .saturating_add(f.count)
            .min(crate::policy::MAX_JSON_INTEGER);
        if c.name.is_none() {
            c.name = f.name.map(str::to_owned);
        }
        if further {
            c.detail = Some(FURTHER_ADDRESSES.to_owned());
        }
    }

    /// Counts a journal entry's failures at `at`, its reason, user and token (name and id, when
    /// it is this store's) already as the log says them.
    pub(super) fn add_failure(
        &mut self,
        e: &journal::Entry,
        at: Time,
        reason: &str,
        actor: &str,
        token: Option<(&str, &str)>,
    ) {
        self.add(Failures {
            reason,
            token_id: token.map(|(_, id)| id),
            actor,
            first: at,
            last: at,
            count: u64::from(e.count),
            ip: e.ip,
            name: token.map(|(name, _)| name),
            further: false,
        });
    }

    /// Adds a counter the log already holds (one [`Store::counters_at_end`] took off).
    fn add_event(&mut self, e: &Event) {
        self.add(Failures {
            reason: e.reason.as_deref().unwrap_or_default(),
            token_id: e.token_id.as_deref(),
            actor: &e.actor,
            first: e.at,
            last: e.last_at.unwrap_or(e.at).max(e.at),
            count: e.count,
            ip: e.ip,
            name: e.name.as_deref(),
            further: e.detail.as_deref() == Some(FURTHER_ADDRESSES),
        });
    }

    /// The counters as events, oldest first.
    pub(super) fn into_events(self) -> Vec<Event> {
        let mut events: Vec<Event> = self
            .map
            .into_iter()
            .map(|(k, c)| Event {
                at: c.first,
                event: EventKind::VerifyFailed,
                token_id: k.token_id,
                name: c.name,
                actor: k.actor,
                reason: Some(k.reason),
                count: c.count,
                last_at: Some(c.last),
                replaces: None,
                detail: c.detail,
                ip: k.ip,
                prev: String::new(),
            })
            .collect();
        // Stable: counters that began in the same second stay in key order.
        events.sort_by_key(|e| e.at);
        events
    }
}

/// The counters a fold takes off the end of the log: their keys, and the head to put back
/// before the sums are appended (`None`: the log held nothing else).
#[derive(Debug, Default)]
pub(super) struct Tail {
    pub(super) keys: Vec<[u8; 8]>,
    pub(super) head: Option<Head>,
}

impl Store {
    /// Takes into `counters` the counters at the end of the log for the windows they count
    /// (from their first on), and says what to remove. Nothing is taken unless the log's end is
    /// whole: the head names the last event and each counter taken links to the one before.
    ///
    /// # Errors
    /// A sled error reading the log or `meta`.
    pub(super) fn counters_at_end(&self, counters: &mut Counters) -> Result<Tail> {
        let Some(from) = counters.first_window() else {
            return Ok(Tail::default());
        };
        let head = self.log_head()?;
        // Newest first: (key, stored bytes, event) of each counter, then the event before them.
        let mut taken = Vec::new();
        let mut before = None;
        for item in self.log.iter().rev() {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            let Ok(key) = <[u8; 8]>::try_from(&key[..]) else {
                return Ok(Tail::default());
            };
            let event = Event::from_bytes(&bytes).ok();
            match event {
                Some(e)
                    if taken.len() < MAX_TAIL
                        && e.event == EventKind::VerifyFailed
                        && e.last_at.is_some()
                        && window(e.at) >= from =>
                {
                    taken.push((key, bytes, e));
                }
                _ => {
                    before = Some(Head {
                        key: u64::from_be_bytes(key),
                        hash: chain::hash(&bytes),
                    });
                    break;
                }
            }
        }
        let Some((last_key, last_bytes, _)) = taken.first() else {
            return Ok(Tail::default());
        };
        let names_last = head.is_some_and(|h| {
            h.key == u64::from_be_bytes(*last_key) && h.hash == chain::hash(last_bytes)
        });
        // Oldest first, each must name the one before it (the first, the event before them all).
        let mut prev = before.map_or_else(|| GENESIS.to_owned(), |h| h.prev());
        let mut whole = names_last;
        for (_, bytes, e) in taken.iter().rev() {
            whole &= e.prev == prev;
            prev = hex::encode(chain::hash(bytes));
        }
        if !whole {
            return Ok(Tail::default());
        }
        let mut tail = Tail {
            keys: Vec::with_capacity(taken.len()),
            head: before,
        };
        for (key, _, e) in taken.iter().rev() {
            counters.add_event(e);
            tail.keys.push(*key);
        }
        Ok(tail)
    }
}

/// Inside the fold's transaction: removes the counters [`Store::counters_at_end`] took and puts
/// the head back on the event before them, so the sums append where they were.
pub(super) fn take_off(
    log: &sled::transaction::TransactionalTree,
    meta: &sled::transaction::TransactionalTree,
    tail: &Tail,
) -> super::tx::TxResult<()> {
    if tail.keys.is_empty() {
        return Ok(());
    }
    for key in &tail.keys {
        log.remove(&key[..])?;
    }
    match tail.head {
        Some(h) => meta.insert(LOG_HEAD_KEY, &h.encode()[..])?,
        None => meta.remove(LOG_HEAD_KEY)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> Time {
        Time::from_second(1_800_000_000 + second).expect("in range")
    }

    fn failure(second: i64, reason: u8, token: Option<&str>) -> journal::Entry {
        journal::Entry {
            kind: journal::EntryKind::Failure,
            count: 1,
            reason,
            at: at(second),
            token_id: token.map(str::to_owned),
            actor: "ana".to_owned(),
            ip: None,
        }
    }

    #[test]
    fn failures_in_any_order_make_one_counter_per_reason_token_user_and_hour() {
        let mut c = Counters::default();
        // 1,800,000,000 is 00:00 UTC; 10,000 failures over two hours, reasons and tokens mixed.
        for i in 0..10_000i64 {
            let token = ["tok_aaaaaaaa", "tok_bbbbbbbb"][(i % 2) as usize];
            let (reason, token) = match i % 3 {
                0 => ("unknown", None),
                1 => ("revoked", Some(token)),
                _ => ("malformed", None),
            };
            let e = failure(i * 7200 / 10_000, 0, token);
            c.add_failure(&e, e.at, reason, "ana", token.map(|id| ("t", id)));
        }
        let events = c.into_events();
        // Per hour: unknown, malformed, and revoked for each of two tokens.
        assert_eq!(events.len(), 8, "{events:#?}");
        assert_eq!(events.iter().map(|e| e.count).sum::<u64>(), 10_000);
        for e in &events {
            let last = e.last_at.expect("a counter has its last");
            assert!(e.at <= last);
            assert_eq!(window(e.at), window(last), "one hour: {e:?}");
        }
    }

    #[test]
    fn a_counter_taken_back_adds_up_and_keeps_its_first_and_last() {
        let mut c = Counters::default();
        c.add_failure(&failure(10, 0, None), at(10), "unknown", "ana", None);
        let mut old = c.into_events().pop().expect("one");
        old.count = 41;
        let mut c = Counters::default();
        c.add_failure(&failure(50, 0, None), at(50), "unknown", "ana", None);
        c.add_event(&old);
        let e = c.into_events().pop().expect("one");
        assert_eq!((e.count, e.at, e.last_at), (42, at(10), Some(at(50))));
    }

    #[test]
    fn addresses_get_counters_of_their_own_up_to_the_bound_and_then_share_one() {
        let from = |c: &mut Counters, i: u32| {
            let e = journal::Entry {
                ip: Some(IpAddr::from((0x0A00_0000 + i).to_be_bytes())),
                ..failure(i64::from(i % 60), 2, Some("tok_aaaaaaaa"))
            };
            c.add_failure(&e, e.at, "revoked", "ana", Some(("crm", "tok_aaaaaaaa")));
        };
        let mut c = Counters::default();
        for i in 0..40 {
            from(&mut c, i);
        }
        let events = c.into_events();
        assert_eq!(events.len(), MAX_ADDRESSES + 1);
        let shared: Vec<&Event> = events.iter().filter(|e| e.ip.is_none()).collect();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].count, 40 - MAX_ADDRESSES as u64);
        assert_eq!(shared[0].detail.as_deref(), Some(FURTHER_ADDRESSES));
        // Taken back with more addresses: still the bound, the first addresses keep theirs.
        let mut c = Counters::default();
        for e in &events {
            c.add_event(e);
        }
        for i in 3..80 {
            from(&mut c, i);
        }
        let again = c.into_events();
        assert_eq!(again.len(), MAX_ADDRESSES + 1);
        assert_eq!(again.iter().map(|e| e.count).sum::<u64>(), 40 + 77);
        let own = |list: &[Event]| {
            let mut ips: Vec<IpAddr> = list.iter().filter_map(|e| e.ip).collect();
            ips.sort();
            ips
        };
        assert_eq!(own(&again), own(&events));
    }

    #[test]
    fn counts_stop_at_the_json_bound() {
        let mut one = Counters::default();
        one.add_failure(&failure(0, 0, None), at(0), "unknown", "ana", None);
        let mut e = one.into_events().pop().expect("one");
        let mut c = Counters::default();
        e.count = crate::policy::MAX_JSON_INTEGER;
        c.add_event(&e);
        e.count = 5;
        c.add_event(&e);
        let e = c.into_events().pop().expect("one");
        assert_eq!(e.count, crate::policy::MAX_JSON_INTEGER);
    }

    #[test]
    fn windows_are_whole_hours_of_utc() {
        assert_eq!(window(Time::from_second(0).unwrap()), 0);
        assert_eq!(window(Time::from_second(3599).unwrap()), 0);
        assert_eq!(window(Time::from_second(3600).unwrap()), 1);
    }

    fn open(dir: &std::path::Path) -> Store {
        let mode = super::super::OpenMode::Create;
        Store::open(dir, mode, std::time::Duration::from_secs(10)).expect("opens")
    }

    /// Folds `n` failures of `reason` (unknown) now, as verify would have journalled them.
    fn fail(store: &Store, n: usize) {
        let e = journal::Entry {
            at: Time::now(),
            ..failure(0, 1, None)
        };
        journal::append(&store.dir, store.store_id, &vec![e; n]).expect("journals");
        store.fold_journal().expect("folds");
    }

    fn failed(store: &Store) -> Vec<Event> {
        let events = store.events(None, None).expect("reads");
        events
            .into_iter()
            .filter(|e| e.event == EventKind::VerifyFailed)
            .collect()
    }

    #[test]
    fn folds_add_to_the_counter_at_the_end_and_keep_the_chain_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        for n in [3, 4, 5] {
            fail(&store, n);
        }
        let counters = failed(&store);
        let total: u64 = counters.iter().map(|e| e.count).sum();
        assert_eq!(total, 12);
        // Two only when the hour turned between folds.
        assert!(counters.len() <= 2, "{counters:#?}");
        assert_eq!(store.check_log().expect("whole"), counters.len() as u64);
    }

    #[test]
    fn a_counter_changed_behind_the_heads_back_is_not_added_to() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        fail(&store, 2);
        // Someone raises the count in the database: the head no longer hashes the last event.
        let (key, bytes) = store.log.last().expect("reads").expect("an event");
        let mut forged = Event::from_bytes(&bytes).expect("parses");
        forged.count = 1_000;
        store.log.insert(key, forged.to_bytes()).expect("writes");
        fail(&store, 1);
        // The forged event is left for `log --check` to name, not folded into a new sum.
        let counters = failed(&store);
        assert_eq!(counters.len(), 2, "{counters:#?}");
        assert_eq!(counters[0].count, 1_000);
        assert_eq!(counters[1].count, 1);
        assert!(store.check_log().is_err());
    }
}
