//! Failed verifications as counters, so no order of failures can fill the disk.
//!
//! A fold turns the failures an engine gathered into `verify_failed` events, one per *counter*: the
//! failures of one reason, one user and one hour (UTC) of the clock. `count` says how many,
//! `at` is the first and `last_at` the last. `tokens` counts them by token, for those that are
//! this store's (a revoked, expired or disabled token still in use is news), at most
//! [`MAX_TOKENS`] a counter: a reason, user and hour with more tokens has further counters.
//! `ips` holds the client addresses they came from, the first [`MAX_ADDRESSES`] of them
//! (`detail` says [`FURTHER_ADDRESSES`] when there were more). So what a failure can add to
//! the log is one token id and one address, some 20 and 40 bytes, whatever the order of
//! failures: never an event of its own.
//!
//! The log stays a hash chain, appended to under the store lock, with one exception that keeps
//! the bound whatever the order of folds: the counters of the hours a fold adds to, when they
//! are the last events of the log (nothing else happened since), are taken off its end and put
//! back with the new failures added, in the same transaction that moves the log head. Only the
//! end from the first counter the fold adds to is taken off: the counters after that one go
//! back as they were, then the ones it added to, so failures that keep coming to one counter
//! rewrite that one alone. A fold does that only when the head names the last event and each
//! counter it takes links to the one before it; otherwise (damage `log --check` reports) it
//! appends, and rewrites nothing. So the log holds at most a few counters per reason and user
//! between two other events, whatever the failures: 100,000 in any order of reasons and tokens
//! cost a few events, not 100,000 (README, "Audit log").
//!
//! Counters written before this layout name one token (`token_id`, `name`) and one address
//! (`ip`) each; they are read as counters of that token and address, and written in this layout
//! when a fold adds to them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::policy::{MAX_JSON_INTEGER, failure_window as window};
use crate::record::{Event, EventKind, FURTHER_ADDRESSES, MAX_ADDRESSES, MAX_TOKENS};
use crate::time::Time;

/// The most events a fold takes off the log's end to add to (more counters than this in the
/// hours it adds to are left where they are, and new ones appended after them).
pub const MAX_TAIL: usize = 65_536;

/// One journal entry's failures, as a fold counts them.
#[derive(Debug, Clone)]
pub struct Failure {
    pub reason: &'static str,
    pub actor: String,
    pub at: Time,
    pub count: u64,
    /// Only a token that is this store's.
    pub token_id: Option<String>,
    pub ip: Option<IpAddr>,
    /// They came from more addresses than a counter keeps, besides `ip`.
    pub further: bool,
}

/// The failures one counter may count: of one hour, reason and user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    window: i64,
    reason: String,
    actor: String,
}

/// A counter's place: its group, and which of the group's counters it is (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    group: Group,
    slot: u32,
}

#[derive(Debug, Clone)]
struct Counter {
    first: Time,
    last: Time,
    count: u64,
    tokens: BTreeMap<String, u64>,
    ips: Vec<IpAddr>,
    further: bool,
    /// Its place among the counters taken off the log's end, oldest first (`None`: new in this
    /// fold).
    at_end: Option<usize>,
    /// Whether this fold adds to it: a counter at the end that it leaves as it was is written
    /// again only when it is after one that changed (the chain runs through it).
    changed: bool,
}

impl Counter {
    /// Adds an address, or notes that there were more than it keeps.
    fn saw(&mut self, ip: IpAddr) {
        if !self.ips.contains(&ip) {
            if self.ips.len() < MAX_ADDRESSES {
                self.ips.push(ip);
            } else {
                self.further = true;
            }
        }
    }
}

/// `a + b`, held at the largest count a JSON reader holds exactly (`policy`).
fn add_counts(a: u64, b: u64) -> u64 {
    a.saturating_add(b).min(MAX_JSON_INTEGER)
}

/// Failure counters being gathered for one fold.
#[derive(Debug, Default)]
pub struct Counters {
    map: BTreeMap<Key, Counter>,
}

impl Counters {
    /// The counters of `group`, oldest first.
    fn of<'a>(&'a self, group: &'a Group) -> impl Iterator<Item = (&'a Key, &'a Counter)> + 'a {
        let first = Key {
            group: group.clone(),
            slot: 0,
        };
        self.map
            .range(first..)
            .take_while(move |(k, _)| k.group == *group)
    }

    /// Which of `group`'s counters a failure of `token` goes to: the one that counts that token
    /// already, else the group's last if it has room for one more token (or the failure names
    /// none), else a new one after it.
    fn slot_for(&self, group: &Group, token: Option<&str>) -> u32 {
        let mut last = None;
        for (k, c) in self.of(group) {
            if token.is_some_and(|id| c.tokens.contains_key(id)) {
                return k.slot;
            }
            last = Some((k.slot, c.tokens.len()));
        }
        match last {
            None => 0,
            Some((slot, _)) if token.is_none() => slot,
            Some((slot, n)) if n < MAX_TOKENS => slot,
            Some((slot, _)) => slot + 1,
        }
    }

    /// Counts one journal entry's failures, new in this fold.
    pub fn add_failure(&mut self, f: &Failure) {
        let group = Group {
            window: window(f.at),
            reason: f.reason.to_owned(),
            actor: f.actor.clone(),
        };
        let slot = self.slot_for(&group, f.token_id.as_deref());
        let c = self.map.entry(Key { group, slot }).or_insert(Counter {
            first: f.at,
            last: f.at,
            count: 0,
            tokens: BTreeMap::new(),
            ips: Vec::new(),
            further: false,
            at_end: None,
            changed: false,
        });
        c.changed = true;
        c.first = c.first.min(f.at);
        c.last = c.last.max(f.at);
        c.count = add_counts(c.count, f.count);
        if let Some(id) = &f.token_id {
            let n = c.tokens.entry(id.clone()).or_default();
            *n = add_counts(*n, f.count);
        }
        if let Some(ip) = f.ip {
            c.saw(ip);
        }
        c.further |= f.further;
    }

    /// Adds a counter the log already holds, the one at `at_end` of those
    /// the engine took off the log's end, as a counter of its own after its group's others.
    pub fn add_event(&mut self, e: &Event, at_end: usize) {
        let group = Group {
            window: window(e.at),
            reason: e.reason.clone().unwrap_or_default(),
            actor: e.actor.clone(),
        };
        let slot = self.of(&group).last().map_or(0, |(k, _)| k.slot + 1);
        let mut tokens = e.tokens.clone();
        // Written before counters held many tokens: its one token, all its failures.
        if let Some(id) = &e.token_id {
            let n = tokens.entry(id.clone()).or_default();
            *n = add_counts(*n, e.count);
        }
        let mut c = Counter {
            first: e.at,
            last: e.last_at.unwrap_or(e.at).max(e.at),
            count: e.count.min(MAX_JSON_INTEGER),
            tokens,
            ips: Vec::new(),
            further: e.detail.as_deref() == Some(FURTHER_ADDRESSES),
            at_end: Some(at_end),
            changed: false,
        };
        for ip in e.ips.iter().chain(&e.ip) {
            c.saw(*ip);
        }
        self.map.insert(Key { group, slot }, c);
    }

    /// What to append once the counters at the end from the returned place on (of `at_end`
    /// taken) are taken off: those after the first that changed, as they were and in their
    /// order, then the changed and the new ones, the latest failure last. So a fold writes
    /// again only the counters from the first it adds to, and failures that keep coming to one
    /// counter rewrite that one alone.
    pub fn into_appends(self, at_end: usize) -> (usize, Vec<Event>) {
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
        token_id: None,
        name: None,
        actor: k.group.actor,
        reason: Some(k.group.reason),
        count: c.count,
        last_at: Some(c.last),
        replaces: None,
        detail: c.further.then(|| FURTHER_ADDRESSES.to_owned()),
        ip: None,
        tokens: c.tokens,
        ips: c.ips,
        prev: String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every counter gathered, as events in key order.
    fn every(c: Counters) -> Vec<Event> {
        c.map.into_iter().map(|(k, c)| event(k, c)).collect()
    }

    pub(crate) fn at(second: i64) -> Time {
        Time::from_second(1_800_000_000 + second).expect("in range")
    }

    pub(crate) fn failure(second: i64, reason: &'static str, token: Option<&str>) -> Failure {
        Failure {
            reason,
            actor: "ana".to_owned(),
            at: at(second),
            count: 1,
            token_id: token.map(str::to_owned),
            ip: None,
            further: false,
        }
    }

    fn token(n: usize) -> String {
        format!("tok_{n:08}")
    }

    #[test]
    fn failures_in_any_order_make_one_counter_per_reason_user_and_hour() {
        let mut c = Counters::default();
        // 1,800,000,000 is 00:00 UTC; 10,000 failures over two hours, reasons and tokens mixed.
        for i in 0..10_000i64 {
            let id = ["tok_aaaaaaaa", "tok_bbbbbbbb"][(i % 2) as usize];
            let (reason, id) = match i % 3 {
                0 => ("unknown", None),
                1 => ("revoked", Some(id)),
                _ => ("malformed", None),
            };
            c.add_failure(&failure(i * 7200 / 10_000, reason, id));
        }
        let events = every(c);
        // Per hour: unknown, malformed, and revoked (of two tokens).
        assert_eq!(events.len(), 6, "{events:#?}");
        assert_eq!(events.iter().map(|e| e.count).sum::<u64>(), 10_000);
        for e in &events {
            let last = e.last_at.expect("a counter has its last");
            assert!(e.at <= last);
            assert_eq!(window(e.at), window(last), "one hour: {e:?}");
            if e.reason.as_deref() == Some("revoked") {
                assert_eq!(e.tokens.len(), 2);
                assert_eq!(e.tokens.values().sum::<u64>(), e.count);
            } else {
                assert!(e.tokens.is_empty());
            }
        }
    }

    #[test]
    fn a_counter_taken_back_adds_up_and_keeps_its_first_and_last() {
        let mut c = Counters::default();
        c.add_failure(&failure(10, "unknown", None));
        let mut old = every(c).pop().expect("one");
        old.count = 41;
        let mut c = Counters::default();
        c.add_event(&old, 0);
        c.add_failure(&failure(50, "unknown", None));
        let e = every(c).pop().expect("one");
        assert_eq!((e.count, e.at, e.last_at), (42, at(10), Some(at(50))));
    }

    #[test]
    fn a_counter_keeps_sixteen_addresses_and_counts_the_rest() {
        let mut c = Counters::default();
        for i in 0..40u32 {
            c.add_failure(&Failure {
                ip: Some(IpAddr::from((0x0A00_0000 + i % 20).to_be_bytes())),
                ..failure(i64::from(i % 60), "revoked", Some("tok_aaaaaaaa"))
            });
        }
        let events = every(c);
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.count, 40);
        assert_eq!(e.ips.len(), MAX_ADDRESSES);
        assert_eq!(e.ips[0], IpAddr::from([10, 0, 0, 0]), "first seen first");
        assert_eq!(e.detail.as_deref(), Some(FURTHER_ADDRESSES));
        // Taken back, then more: still the same sixteen.
        let mut c = Counters::default();
        c.add_event(e, 0);
        c.add_failure(&Failure {
            ip: Some(IpAddr::from([10, 9, 9, 9])),
            ..failure(59, "revoked", Some("tok_aaaaaaaa"))
        });
        let again = every(c).pop().expect("one");
        assert_eq!((again.count, &again.ips), (41, &e.ips));
    }

    #[test]
    fn tokens_past_the_bound_start_another_counter_and_each_token_stays_in_one() {
        let mut c = Counters::default();
        for round in 0..3 {
            for n in 0..MAX_TOKENS + 10 {
                c.add_failure(&failure(round, "revoked", Some(&token(n))));
            }
        }
        let events = every(c);
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].tokens.len(), MAX_TOKENS);
        assert_eq!(events[1].tokens.len(), 10);
        assert!(events.iter().all(|e| e.tokens.values().all(|&n| n == 3)));
        assert!(
            events[0]
                .tokens
                .keys()
                .all(|id| !events[1].tokens.contains_key(id))
        );
        let total: u64 = events.iter().map(|e| e.count).sum();
        assert_eq!(total, 3 * (MAX_TOKENS as u64 + 10));
    }

    #[test]
    fn a_counter_written_before_counters_held_many_tokens_is_read_as_one_of_its_token() {
        let old = Event {
            token_id: Some("tok_aaaaaaaa".into()),
            name: Some("crm".into()),
            ip: Some(IpAddr::from([10, 0, 0, 1])),
            count: 5,
            ..event(
                Key {
                    group: Group {
                        window: window(at(0)),
                        reason: "revoked".into(),
                        actor: "ana".into(),
                    },
                    slot: 0,
                },
                Counter {
                    first: at(0),
                    last: at(1),
                    count: 5,
                    tokens: BTreeMap::new(),
                    ips: Vec::new(),
                    further: false,
                    at_end: None,
                    changed: false,
                },
            )
        };
        let mut c = Counters::default();
        c.add_event(&old, 0);
        c.add_failure(&failure(2, "revoked", Some("tok_aaaaaaaa")));
        let e = every(c).pop().expect("one");
        assert_eq!((e.token_id.as_deref(), e.ip), (None, None));
        assert_eq!(e.tokens, [("tok_aaaaaaaa".to_owned(), 6)].into());
        assert_eq!(
            (e.count, &e.ips[..]),
            (6, &[IpAddr::from([10, 0, 0, 1])][..])
        );
    }

    #[test]
    fn counts_stop_at_the_json_bound() {
        let mut one = Counters::default();
        one.add_failure(&failure(0, "unknown", None));
        let mut e = every(one).pop().expect("one");
        e.count = MAX_JSON_INTEGER;
        let mut c = Counters::default();
        c.add_event(&e, 0);
        c.add_failure(&Failure {
            count: 5,
            ..failure(0, "unknown", None)
        });
        let e = every(c).pop().expect("one");
        assert_eq!(e.count, MAX_JSON_INTEGER);
    }

    #[test]
    fn windows_are_whole_hours_of_utc() {
        assert_eq!(window(Time::from_second(0).unwrap()), 0);
        assert_eq!(window(Time::from_second(3599).unwrap()), 0);
        assert_eq!(window(Time::from_second(3600).unwrap()), 1);
    }
}
