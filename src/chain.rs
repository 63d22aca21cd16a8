//! The audit log's hash chain, apart from sled: what is hashed, the head that names the last
//! event, and [`Checker`], which walks a log one event at a time and names the first broken one.
//!
//! Every event carries `prev`, the lowercase hex SHA-256 of the previous event's stored bytes
//! (exactly the bytes in sled), or [`GENESIS`] for the first. The store's `meta` tree keeps the
//! [`Head`]: the last event's log key and the SHA-256 of its bytes, written in the same
//! transaction as every append, so an append never scans the log and a check can tell that
//! events were removed from the end. This is tamper-evidence, not tamper-proofing: whoever can
//! rewrite the whole database can rewrite the whole chain.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// An event of a chained log, as the chain sees it: what its stored bytes parse as, the `prev`
/// it names, and a few words that say which event it is in a report (the store's events are
/// `crate::record::Event`; the chain does not depend on their other fields).
pub trait Linked: DeserializeOwned {
    /// The lowercase hex SHA-256 of the event before it, or [`GENESIS`].
    fn prev(&self) -> &str;
    /// Which event it is, for a report of a broken log (`TIME, KIND, token ID`).
    fn summary(&self) -> String;
}

/// `prev` of the first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SHA-256 of an event's stored bytes.
pub fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The last event of the log: its key (the big-endian u64 of the `log` tree) and the SHA-256 of
/// its stored bytes. Stored in `meta` as the key's 8 bytes then the hash's 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub key: u64,
    pub hash: [u8; 32],
}

impl Head {
    pub const LEN: usize = 40;

    pub fn encode(&self) -> [u8; Head::LEN] {
        let mut out = [0u8; Head::LEN];
        out[..8].copy_from_slice(&self.key.to_be_bytes());
        out[8..].copy_from_slice(&self.hash);
        out
    }

    /// `None` for bytes that are not a head (damage).
    pub fn decode(bytes: &[u8]) -> Option<Head> {
        let bytes: &[u8; Head::LEN] = bytes.try_into().ok()?;
        Some(Head {
            key: u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes")),
            hash: bytes[8..].try_into().expect("32 bytes"),
        })
    }

    /// What the next event's `prev` must be.
    pub fn prev(&self) -> String {
        hex::encode(self.hash)
    }
}

/// What is wrong with the first broken event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Its `prev` is not the hash of the event before it (`GENESIS` for the first): one of the
    /// two was changed or inserted, or an event between them was removed.
    PrevMismatch,
    /// Its bytes are not an event (the parser's reason).
    Unparseable(String),
    /// It is the event the head names, but its bytes are not the ones the head hashed: the last
    /// event was changed.
    NotTheHead,
    /// Its key is past the event the head names: it was added outside vbx-tokens.
    AfterHead,
    /// The head names an event after this one, the last: events after it were removed.
    Truncated,
    /// The head names an event, and the log is empty: every event was removed.
    Emptied,
    /// The log has events and `meta` has no head, or one that does not decode.
    NoHead,
}

impl Problem {
    /// The problem in words, for a broken event at `position` (1-based).
    pub fn describe(&self, position: u64) -> String {
        match self {
            Problem::PrevMismatch if position == 1 => {
                "its prev is not the start of a chain: events before it were removed, or it was inserted".to_owned()
            }
            Problem::PrevMismatch => format!(
                "its prev does not match event {}: one of the two was changed or inserted, or an event between them was removed",
                position - 1
            ),
            Problem::Unparseable(why) => format!("it does not parse ({why})"),
            Problem::NotTheHead => {
                "it is not the last event the log head names: it was changed".to_owned()
            }
            Problem::AfterHead => {
                "it comes after the last event the log head names: it was added outside vbx-tokens"
                    .to_owned()
            }
            Problem::Truncated => {
                "the log head names a later event: events after this one were removed".to_owned()
            }
            Problem::Emptied => {
                "the log is empty but its head names an event: every event was removed".to_owned()
            }
            Problem::NoHead => "the log head in the store's meta is missing or unreadable".to_owned(),
        }
    }
}

/// The first broken event of a log, as a store's log check reports it.
#[derive(Debug, Clone)]
pub struct Broken {
    /// How many events the log holds, the broken one included.
    pub events: u64,
    /// Its 1-based position in key order (1 for an emptied log).
    pub position: u64,
    /// The event, as stored, when it parses (`None` for an unparseable one or an emptied log).
    pub event: Option<Shown>,
    pub problem: Problem,
}

/// An event a report names: its stored JSON and [`Linked::summary`].
#[derive(Debug, Clone)]
pub struct Shown {
    pub json: Box<RawValue>,
    pub summary: String,
}

impl PartialEq for Broken {
    fn eq(&self, other: &Broken) -> bool {
        let json = |b: &Broken| b.event.as_ref().map(|e| e.json.get().to_owned());
        (self.events, self.position, &self.problem)
            == (other.events, other.position, &other.problem)
            && json(self) == json(other)
    }
}

impl Broken {
    /// What is wrong, in words (the `problem` of `log --check --json`).
    pub fn problem_text(&self) -> String {
        self.problem.describe(self.position)
    }
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.events == 0 {
            write!(f, "the audit log is broken: every event is gone")?;
        } else {
            write!(
                f,
                "the audit log is broken at event {} of {}",
                self.position.min(self.events),
                self.events
            )?;
        }
        if let Some(e) = &self.event {
            write!(f, " ({})", e.summary)?;
        }
        write!(f, ": {}", self.problem_text())
    }
}

/// Walks a log in key order, one event at a time, holding only the hash of the one before:
/// [`Checker::event`] for each, then [`Checker::finish`].
#[derive(Debug)]
pub struct Checker<E> {
    head: Option<Head>,
    count: u64,
    prev_hash: Option<[u8; 32]>,
    /// The last key seen (8 bytes in a sound log; compared as bytes, as sled orders them).
    last_key: Option<Vec<u8>>,
    /// The last event, parsed, while nothing is broken: a broken end is reported on it.
    last: Option<Shown>,
    broken: Option<(u64, Option<Shown>, Problem)>,
    events: PhantomData<fn() -> E>,
}

impl<E: Linked> Checker<E> {
    /// `head` as read from `meta` (`None` when there is none, or none that decodes).
    pub fn new(head: Option<Head>) -> Checker<E> {
        Checker {
            head,
            count: 0,
            prev_hash: None,
            last_key: None,
            last: None,
            broken: None,
            events: PhantomData,
        }
    }

    /// The next event in key order, with its key and stored bytes.
    pub fn event(&mut self, key: &[u8], bytes: &[u8]) {
        self.count += 1;
        let digest = hash(bytes);
        let expected = self
            .prev_hash
            .map_or_else(|| GENESIS.to_owned(), hex::encode);
        self.prev_hash = Some(digest);
        self.last_key = Some(key.to_vec());
        if self.broken.is_some() {
            // Only counted: the first break is the one reported.
            return;
        }
        let position = self.count;
        // serde's own reason, without the "store damaged" framing of the store's parser.
        let parsed = serde_json::from_slice::<E>(bytes).and_then(|event| {
            let json = String::from_utf8(bytes.to_vec()).map_err(serde::de::Error::custom)?;
            Ok((event, RawValue::from_string(json)?))
        });
        let (event, json) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                self.broken = Some((position, None, Problem::Unparseable(e.to_string())));
                return;
            }
        };
        let problem = if event.prev() != expected {
            Some(Problem::PrevMismatch)
        } else {
            match self.head {
                Some(head) if key == head.key.to_be_bytes() && digest != head.hash => {
                    Some(Problem::NotTheHead)
                }
                Some(head) if key > &head.key.to_be_bytes()[..] => Some(Problem::AfterHead),
                _ => None,
            }
        };
        let shown = Shown {
            json,
            summary: event.summary(),
        };
        match problem {
            Some(p) => self.broken = Some((position, Some(shown), p)),
            None => self.last = Some(shown),
        }
    }

    /// The number of events if the chain is whole, else the first broken event.
    ///
    /// # Errors
    /// [`Broken`] naming the first broken event.
    pub fn finish(self) -> Result<u64, Box<Broken>> {
        let events = self.count;
        let broken = |position, event, problem| {
            Err(Box::new(Broken {
                events,
                position,
                event,
                problem,
            }))
        };
        if let Some((position, event, problem)) = self.broken {
            return broken(position, event, problem);
        }
        match (self.head, self.last_key.as_deref()) {
            (None, None) => Ok(0),
            (None, Some(_)) => broken(events, self.last, Problem::NoHead),
            (Some(_), None) => broken(1, None, Problem::Emptied),
            (Some(head), Some(last)) if last < &head.key.to_be_bytes()[..] => {
                broken(events, self.last, Problem::Truncated)
            }
            // A last key past the head, or the head's key with other bytes, was caught on the
            // event itself.
            (Some(_), Some(_)) => Ok(events),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Event, EventKind};
    use crate::time::Time;

    fn event(n: u64, prev: &str) -> Vec<u8> {
        let mut event = Event::new(
            EventKind::Created,
            None,
            "ana",
            Time::from_second(1_800_000_000 + n as i64).expect("a time"),
        );
        event.token_id = Some(format!("tok_{n:08}"));
        event.prev = prev.to_owned();
        event.to_bytes()
    }

    /// A chained log of `n` events keyed 10, 20, 30…, and its head.
    fn chain(n: u64) -> (Vec<(u64, Vec<u8>)>, Option<Head>) {
        let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut prev = GENESIS.to_owned();
        for i in 1..=n {
            let bytes = event(i, &prev);
            prev = hex::encode(hash(&bytes));
            out.push((i * 10, bytes));
        }
        let head = out.last().map(|(k, b)| Head {
            key: *k,
            hash: hash(b),
        });
        (out, head)
    }

    fn check(log: &[(u64, Vec<u8>)], head: Option<Head>) -> Result<u64, Box<Broken>> {
        let mut c = Checker::<Event>::new(head);
        for (k, b) in log {
            c.event(&k.to_be_bytes(), b);
        }
        c.finish()
    }

    #[track_caller]
    fn broken_at(log: &[(u64, Vec<u8>)], head: Option<Head>) -> (u64, Problem) {
        let b = check(log, head).expect_err("broken");
        (b.position, b.problem)
    }

    #[test]
    fn a_whole_chain_counts_its_events_and_heads_round_trip() {
        let (log, head) = chain(5);
        assert_eq!(check(&log, head), Ok(5));
        assert_eq!(check(&[], None), Ok(0));
        let head = head.expect("a head");
        assert_eq!(Head::decode(&head.encode()), Some(head));
        assert_eq!(Head::decode(&[0; 39]), None);
    }

    #[test]
    fn each_kind_of_damage_names_the_first_broken_event() {
        let (log, head) = chain(5);
        // A changed event breaks the link of the one after it.
        let mut changed = log.clone();
        changed[1].1 = String::from_utf8(changed[1].1.clone())
            .expect("utf-8")
            .replace("ana", "eve")
            .into_bytes();
        assert_eq!(broken_at(&changed, head), (3, Problem::PrevMismatch));
        // A removed event: the one that took its place does not link.
        let mut removed = log.clone();
        removed.remove(2);
        assert_eq!(broken_at(&removed, head), (3, Problem::PrevMismatch));
        // The first removed.
        assert_eq!(broken_at(&log[1..], head), (1, Problem::PrevMismatch));
        // The last removed: the head names a later one.
        assert_eq!(broken_at(&log[..4], head), (4, Problem::Truncated));
        // Everything removed.
        assert_eq!(broken_at(&[], head), (1, Problem::Emptied));
        // The last changed.
        let mut last = log.clone();
        last[4].1 = event(99, &hex::encode(hash(&log[3].1)));
        assert_eq!(broken_at(&last, head), (5, Problem::NotTheHead));
        // One appended with a correct link, past the head.
        let mut appended = log.clone();
        appended.push((60, event(6, &hex::encode(hash(&log[4].1)))));
        assert_eq!(broken_at(&appended, head), (6, Problem::AfterHead));
        // Bytes that do not parse.
        let mut garbage = log.clone();
        garbage[2].1 = b"{not json".to_vec();
        let b = check(&garbage, head).expect_err("broken");
        assert_eq!((b.position, b.events, b.event.is_none()), (3, 5, true));
        assert!(matches!(b.problem, Problem::Unparseable(_)));
        // No head at all.
        assert_eq!(broken_at(&log, None), (5, Problem::NoHead));
    }

    #[test]
    fn the_line_names_position_time_kind_and_token() {
        let (log, head) = chain(3);
        let b = check(&log[..2], head).expect_err("broken");
        assert_eq!(
            b.to_string(),
            "the audit log is broken at event 2 of 2 (2027-01-15T08:00:02Z, created, token \
             tok_00000002): the log head names a later event: events after this one were removed"
        );
    }
}
