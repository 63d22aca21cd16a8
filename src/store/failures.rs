//! Folding the journal's failed verifications into the audit log as counters
//! (`crate::counters`), in the directory store: adding to the counters already at the log's end
//! rather than repeating them.

use super::{LOG_HEAD_KEY, Store};
use crate::chain::{self, GENESIS, Head};
use crate::counters::{Counters, Failure, MAX_TAIL};
use crate::error::Result;
use crate::policy::failure_window as window;
use crate::record::{Event, EventKind};

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
    /// What a fold of `fresh` (failures from the journal, in order) writes to the log: the counters to
    /// take off its end and the events to append after, so failures are added to the counters
    /// of their hours already at the end rather than repeated, and a counter the fold leaves
    /// alone is not written again unless it follows one it adds to.
    ///
    /// # Errors
    /// A sled error reading the log or `meta`.
    pub(super) fn fold_failures(&self, fresh: &[Failure]) -> Result<(Tail, Vec<Event>)> {
        let Some(from) = fresh.iter().map(|f| window(f.at)).min() else {
            return Ok((Tail::default(), Vec::new()));
        };
        let end = self.counters_at_end(from)?;
        let mut all = Counters::default();
        for (i, (_, _, e)) in end.taken.iter().enumerate() {
            all.add_event(e, i);
        }
        for f in fresh {
            all.add_failure(f);
        }
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
    use crate::counters::tests::{at, failure};
    use crate::engine::{Engine as _, Tokens as _};
    use crate::journal;
    use crate::time::Time;

    fn open(dir: &std::path::Path) -> Store {
        let mode = super::super::OpenMode::Create;
        Store::open(dir, mode, std::time::Duration::from_secs(10)).expect("opens")
    }

    /// A journal entry of one failure (reason `unknown`) by `actor` at `at`.
    fn entry(at: Time, actor: &str) -> journal::Entry {
        journal::Entry {
            kind: journal::EntryKind::Failure,
            count: 1,
            reason: 1,
            at,
            token_id: None,
            actor: actor.to_owned(),
            ip: None,
        }
    }

    /// Folds `n` failures (unknown) now, as verify would have journalled them.
    fn fail(store: &Store, n: usize) {
        let e = entry(Time::now(), "ana");
        journal::append(&store.dir, store.store_id, &vec![e; n], store.wait).expect("journals");
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

    /// Folds one failure (unknown) by each of `users` (`u01`, `u02`…: a counter each), at `at`.
    fn fail_as(store: &Store, at: Time, users: impl IntoIterator<Item = u8>) {
        let entries: Vec<journal::Entry> = users
            .into_iter()
            .map(|n| entry(at, &format!("u{n:02}")))
            .collect();
        journal::append(&store.dir, store.store_id, &entries, store.wait).expect("journals");
        store.fold_journal().expect("folds");
    }

    /// The start of this hour, so every failure of a test is in one window.
    fn this_hour() -> Time {
        let now = Time::now();
        Time::from_second(window(now) * 3600).expect("in range")
    }

    fn actors(events: &[Event]) -> Vec<String> {
        events.iter().map(|e| e.actor.clone()).collect()
    }

    #[test]
    fn a_fold_writes_again_only_the_counters_from_the_first_it_adds_to() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let at = this_hour();
        fail_as(&store, at, 1..=12);
        let before = failed(&store);
        assert_eq!(before.len(), 12, "{before:#?}");

        // More failures by the first user: only its counter is taken off and appended.
        let again = Failure {
            actor: "u01".into(),
            at,
            ..failure(0, "unknown", None)
        };
        let (tail, events) = store
            .fold_failures(std::slice::from_ref(&again))
            .expect("reads");
        assert_eq!((tail.keys.len(), events.len()), (12, 12));
        assert_eq!(events[11].actor, before[0].actor);

        // Once it is last, the next failures by that user rewrite it alone, however many others.
        fail_as(&store, at, [1]);
        let mid = failed(&store);
        let (tail, events) = store.fold_failures(&[again]).expect("reads");
        assert_eq!((tail.keys.len(), events.len()), (1, 1));
        assert_eq!(events[0].count, 3);

        // One by the sixth: the sixth to the last are taken off; the six after it are put
        // back as they were, then the sixth.
        fail_as(&store, at, [6]);
        let after = failed(&store);
        let mut want = actors(&before[1..]);
        want.retain(|a| *a != before[5].actor);
        want.extend([before[0].actor.clone(), before[5].actor.clone()]);
        assert_eq!(actors(&after), want);
        assert_eq!(after[..4], mid[..4], "left where they were");
        let counts: Vec<u64> = after.iter().map(|e| e.count).collect();
        assert_eq!(counts, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]);
        assert_eq!(store.check_log().expect("whole"), 12);
    }

    #[test]
    fn failures_alone_below_the_bound_may_wait_in_the_journal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let append = |e: journal::Entry, n: usize| {
            journal::append(&store.dir, store.store_id, &vec![e; n], store.wait).expect("journals");
        };
        let fail = entry(at(0), "ana");
        // Nothing waiting: the fold decides (it has nothing to do).
        assert!(!store.only_failures_waiting());
        append(fail.clone(), 10);
        assert!(store.only_failures_waiting());
        // A use among them must be counted at once.
        let used = journal::Entry {
            kind: journal::EntryKind::Use,
            reason: 0,
            token_id: Some("tok_aaaaaaaa".into()),
            ..fail.clone()
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
