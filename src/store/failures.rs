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
//! back with the new failures added, in the same transaction that moves the log head. Only the
//! end from the first counter the fold adds to is taken off: the counters after that one go
//! back as they were, then the ones it added to, so failures that keep coming to one counter
//! rewrite that one alone. A fold does that only when the head names the last event and each
//! counter it takes links to the one before it; otherwise (damage `log --check` reports) it
//! appends, and rewrites nothing. So the log holds at most one event per counter between two
//! other events, whatever the failures: 100,000 in any order of reasons and tokens cost a few
//! events, not 100,000 (README, "Audit log").

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
    /// Its place among the counters taken off the log's end, oldest first (`None`: new in this
    /// fold).
    at_end: Option<usize>,
    /// Whether this fold adds to it: a counter at the end that it leaves as it was is written
    /// again only when it is after one that changed (the chain runs through it).
    changed: bool,
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

    /// Adds `f`, which is the counter at `at_end` of the log's end, or failures this fold
    /// counts (`None`).
    fn add(&mut self, f: Failures, at_end: Option<usize>) {
        let mut key = Key {
            window: window(f.first),
            reason: f.reason.to_owned(),
            token_id: f.token_id.map(str::to_owned),
            actor: f.actor.to_owned(),
            ip: f.ip,
        };
        let mut further = f.further;
        let mut moved = false;
        if key.ip.is_some() && !self.map.contains_key(&key) && self.addresses(&key) >= MAX_ADDRESSES
        {
            key.ip = None;
            further = true;
            moved = true;
        }
        let existed = self.map.contains_key(&key);
        let c = self.map.entry(key).or_insert(Counter {
            first: f.first,
            last: f.last,
            count: 0,
            name: None,
            detail: None,
            at_end,
            changed: false,
        });
        // New failures, two counters at the end that are one, or one whose address now
        // shares a counter: what the log holds for it is no longer what it says.
        c.changed |= at_end.is_none() || existed || moved;
        c.at_end = match (c.at_end, at_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
        self.add(
            Failures {
                reason,
                token_id: token.map(|(_, id)| id),
                actor,
                first: at,
                last: at,
                count: u64::from(e.count),
                ip: e.ip,
                name: token.map(|(name, _)| name),
                further: false,
            },
            None,
        );
    }

    /// Adds a counter the log already holds: the one at `at_end` of those
    /// [`Store::counters_at_end`] took off.
    fn add_event(&mut self, e: &Event, at_end: usize) {
        self.add(
            Failures {
                reason: e.reason.as_deref().unwrap_or_default(),
                token_id: e.token_id.as_deref(),
                actor: &e.actor,
                first: e.at,
                last: e.last_at.unwrap_or(e.at).max(e.at),
                count: e.count,
                ip: e.ip,
                name: e.name.as_deref(),
                further: e.detail.as_deref() == Some(FURTHER_ADDRESSES),
            },
            Some(at_end),
        );
    }

    /// Adds what `other` counted, as failures of this fold.
    fn add_all(&mut self, other: Counters) {
        for (k, c) in other.map {
            self.add(
                Failures {
                    reason: &k.reason,
                    token_id: k.token_id.as_deref(),
                    actor: &k.actor,
                    first: c.first,
                    last: c.last,
                    count: c.count,
                    ip: k.ip,
                    name: c.name.as_deref(),
                    further: c.detail.is_some(),
                },
                None,
            );
        }
    }

    /// What to append once the counters at the end from the returned place on (of `at_end`
    /// taken) are taken off: those after the first that changed, as they were and in their
    /// order, then the changed and the new ones, the latest failure last. So a fold writes
    /// again only the counters from the first it adds to, and failures that keep coming to one
    /// counter rewrite that one alone.
    fn into_appends(self, at_end: usize) -> (usize, Vec<Event>) {
        let from = self
            .map
            .values()
            .filter(|c| c.changed)
            .filter_map(|c| c.at_end)
            .min()
            .unwrap_or(at_end);
        let mut kept = Vec::new();
        let mut changed = Vec::new();
        for (k, c) in self.map {
            match (c.at_end, c.changed) {
                (Some(i), false) if i < from => {}
                (Some(i), false) => kept.push((i, event(k, c))),
                _ => changed.push(event(k, c)),
            }
        }
        kept.sort_by_key(|(i, _)| *i);
        // Stable: counters with the same last failure stay in key order.
        changed.sort_by_key(|e| (e.last_at, e.at));
        let events = kept.into_iter().map(|(_, e)| e).chain(changed).collect();
        (from, events)
    }
}

fn event(k: Key, c: Counter) -> Event {
    Event {
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
    }
}

/// The counters a fold takes off the end of the log: their keys, and the head to put back
/// before the events are appended (`None`: the log held nothing else).
#[derive(Debug, Default)]
pub(super) struct Tail {
    pub(super) keys: Vec<[u8; 8]>,
    pub(super) head: Option<Head>,
}

/// The counters at the end of the log a fold may add to, oldest first, and the head of the
/// event before them.
#[derive(Default)]
struct End {
    taken: Vec<([u8; 8], sled::IVec, Event)>,
    before: Option<Head>,
}

impl Store {
    /// What a fold of `fresh` (failures from the journal) writes to the log: the counters to
    /// take off its end and the events to append after, so failures are added to the counters
    /// of their hours already at the end rather than repeated, and a counter the fold leaves
    /// alone is not written again unless it follows one it adds to.
    ///
    /// # Errors
    /// A sled error reading the log or `meta`.
    pub(super) fn fold_failures(&self, fresh: Counters) -> Result<(Tail, Vec<Event>)> {
        let Some(from) = fresh.first_window() else {
            return Ok((Tail::default(), Vec::new()));
        };
        let end = self.counters_at_end(from)?;
        let mut all = Counters::default();
        for (i, (_, _, e)) in end.taken.iter().enumerate() {
            all.add_event(e, i);
        }
        all.add_all(fresh);
        let (first, events) = all.into_appends(end.taken.len());
        let tail = match end.taken.get(first) {
            None => Tail::default(),
            Some(_) => Tail {
                keys: end.taken[first..].iter().map(|(k, _, _)| *k).collect(),
                head: match first.checked_sub(1) {
                    Some(i) => Some(Head {
                        key: u64::from_be_bytes(end.taken[i].0),
                        hash: chain::hash(&end.taken[i].1),
                    }),
                    None => end.before,
                },
            },
        };
        Ok((tail, events))
    }

    /// The counters at the end of the log for the windows from `from` on, oldest first.
    /// Nothing is taken unless the log's end is whole: the head names the last event and each
    /// counter taken links to the one before.
    fn counters_at_end(&self, from: i64) -> Result<End> {
        let head = self.log_head()?;
        // Newest first: (key, stored bytes, event) of each counter, then the event before them.
        let mut taken = Vec::new();
        let mut before = None;
        for item in self.log.iter().rev() {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            let Ok(key) = <[u8; 8]>::try_from(&key[..]) else {
                return Ok(End::default());
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
            return Ok(End::default());
        };
        let names_last = head.is_some_and(|h| {
            h.key == u64::from_be_bytes(*last_key) && h.hash == chain::hash(last_bytes)
        });
        // Oldest first, each must name the one before it (the first, the event before them all).
        taken.reverse();
        let mut prev = before.map_or_else(|| GENESIS.to_owned(), |h| h.prev());
        let mut whole = names_last;
        for (_, bytes, e) in &taken {
            whole &= e.prev == prev;
            prev = hex::encode(chain::hash(bytes));
        }
        if !whole {
            return Ok(End::default());
        }
        Ok(End { taken, before })
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

    /// Every counter gathered, as events in key order.
    fn every(c: Counters) -> Vec<Event> {
        c.map.into_iter().map(|(k, c)| event(k, c)).collect()
    }

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
        let events = every(c);
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
        let mut old = every(c).pop().expect("one");
        old.count = 41;
        let mut c = Counters::default();
        c.add_failure(&failure(50, 0, None), at(50), "unknown", "ana", None);
        c.add_event(&old, 0);
        let e = every(c).pop().expect("one");
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
        let events = every(c);
        assert_eq!(events.len(), MAX_ADDRESSES + 1);
        let shared: Vec<&Event> = events.iter().filter(|e| e.ip.is_none()).collect();
        assert_eq!(shared.len(), 1);
        assert_eq!(shared[0].count, 40 - MAX_ADDRESSES as u64);
        assert_eq!(shared[0].detail.as_deref(), Some(FURTHER_ADDRESSES));
        // Taken back with more addresses: still the bound, the first addresses keep theirs.
        let mut c = Counters::default();
        for (i, e) in events.iter().enumerate() {
            c.add_event(e, i);
        }
        for i in 3..80 {
            from(&mut c, i);
        }
        let again = every(c);
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
        let mut e = every(one).pop().expect("one");
        let mut c = Counters::default();
        e.count = crate::policy::MAX_JSON_INTEGER;
        c.add_event(&e, 0);
        e.count = 5;
        c.add_event(&e, 1);
        let e = every(c).pop().expect("one");
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

    /// Folds one failure (unknown) from each of `addresses` (10.0.0.N), all at `at`.
    fn fail_from(store: &Store, at: Time, addresses: impl IntoIterator<Item = u8>) {
        let entries: Vec<journal::Entry> = addresses
            .into_iter()
            .map(|n| journal::Entry {
                at,
                ip: Some(IpAddr::from([10, 0, 0, n])),
                ..failure(0, 1, None)
            })
            .collect();
        journal::append(&store.dir, store.store_id, &entries).expect("journals");
        store.fold_journal().expect("folds");
    }

    /// The start of this hour, so every failure of a test is in one window.
    fn this_hour() -> Time {
        let now = Time::now();
        Time::from_second(window(now) * 3600).expect("in range")
    }

    fn ips(events: &[Event]) -> Vec<Option<IpAddr>> {
        events.iter().map(|e| e.ip).collect()
    }

    #[test]
    fn a_fold_writes_again_only_the_counters_from_the_first_it_adds_to() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let at = this_hour();
        fail_from(&store, at, 1..=12);
        let before = failed(&store);
        assert_eq!(before.len(), 12, "{before:#?}");

        // More failures from the first address: only its counter is taken off and appended.
        let mut fresh = Counters::default();
        let again = journal::Entry {
            at,
            ip: Some(IpAddr::from([10, 0, 0, 1])),
            ..failure(0, 1, None)
        };
        fresh.add_failure(&again, at, "unknown", "ana", None);
        let (tail, events) = store.fold_failures(fresh).expect("reads");
        assert_eq!((tail.keys.len(), events.len()), (12, 12));
        assert_eq!(events[11].ip, before[0].ip);

        // Once it is last, the next failures from it rewrite it alone, however many others.
        fail_from(&store, at, [1]);
        let mid = failed(&store);
        let mut fresh = Counters::default();
        fresh.add_failure(&again, at, "unknown", "ana", None);
        let (tail, events) = store.fold_failures(fresh).expect("reads");
        assert_eq!((tail.keys.len(), events.len()), (1, 1));
        assert_eq!(events[0].count, 3);

        // One from the sixth: the sixth to the last are taken off; the six after it are put
        // back as they were, then the sixth.
        fail_from(&store, at, [6]);
        let after = failed(&store);
        let mut want = ips(&before[1..]);
        want.retain(|ip| *ip != before[5].ip);
        want.extend([before[0].ip, before[5].ip]);
        assert_eq!(ips(&after), want);
        assert_eq!(after[..4], mid[..4], "left where they were");
        let counts: Vec<u64> = after.iter().map(|e| e.count).collect();
        assert_eq!(counts, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
        assert_eq!(store.check_log().expect("whole"), 12);
    }

    #[test]
    fn a_new_address_past_the_bound_joins_the_shared_counter_of_the_end() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let at = this_hour();
        fail_from(&store, at, 1..=MAX_ADDRESSES as u8);
        fail_from(&store, at, [100]);
        fail_from(&store, at, [101, 102]);
        let events = failed(&store);
        assert_eq!(events.len(), MAX_ADDRESSES + 1, "{events:#?}");
        let shared = events.last().expect("one");
        assert_eq!((shared.ip, shared.count), (None, 3));
        assert_eq!(shared.detail.as_deref(), Some(FURTHER_ADDRESSES));
        assert_eq!(store.check_log().expect("whole"), MAX_ADDRESSES as u64 + 1);
    }

    #[test]
    fn failures_alone_below_the_bound_may_wait_in_the_journal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let append = |e: journal::Entry, n: usize| {
            journal::append(&store.dir, store.store_id, &vec![e; n]).expect("journals");
        };
        let fail = failure(0, 1, None);
        // Nothing waiting: the fold decides (it has nothing to do).
        assert!(!store.only_failures_waiting());
        append(fail.clone(), 10);
        assert!(store.only_failures_waiting());
        // A use among them must be counted at once.
        let used = journal::Entry {
            kind: journal::EntryKind::Use,
            reason: 0,
            ..failure(0, 0, Some("tok_aaaaaaaa"))
        };
        append(used, 1);
        assert!(!store.only_failures_waiting());
        store.fold_journal().expect("folds");
        // Past the bound: folded, once for thousands.
        append(fail.clone(), 1);
        let size = || {
            std::fs::metadata(dir.path().join(journal::FILE))
                .unwrap()
                .len()
        };
        let per = journal::Entry::encode(&fail).len() as u64;
        let fits = (super::super::FAILURES_WAITING - size()) / per;
        append(fail.clone(), fits as usize);
        assert!(size() <= super::super::FAILURES_WAITING);
        assert!(store.only_failures_waiting());
        append(fail, 1);
        assert!(!store.only_failures_waiting());
        // What a crash or another store's journal left is folded or set aside first.
        store.fold_journal().expect("folds");
        std::fs::write(dir.path().join(journal::FOLDING_FILE), b"").expect("writes");
        assert!(!store.only_failures_waiting());
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
