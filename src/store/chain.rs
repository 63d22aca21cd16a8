//! The audit log's hash chain in sled: checking it, and chaining an older store's log (the
//! migration to format 4). Appending is `tx::append`, the one function that writes an event;
//! what is hashed and what a break looks like is `crate::chain`.

use std::ops::Bound;

use sled::Transactional;

use super::{LOG_HEAD_KEY, Store, damaged};
use crate::chain::{self, Checker, GENESIS, Head};
use crate::error::{Error, Result};
use crate::record::Event;

/// Events the migration to format 4 rewrites per transaction: sled holds a transaction's writes
/// in memory, and a log can hold millions of events.
const MIGRATE_CHUNK: usize = 4096;

impl Store {
    /// Walks the audit log in key order and checks its hash chain: each event's `prev` is the
    /// SHA-256 of the bytes of the event before it (64 zeros for the first), and the log head in
    /// `meta` names the last event and its hash. Holds one event's bytes at a time. Returns the
    /// number of events.
    ///
    /// The chain is tamper-evidence: it shows a log changed outside vbx-tokens (an event edited,
    /// removed, inserted or replaced, events removed from the end), not one rewritten whole by
    /// someone who can rewrite the database.
    ///
    /// # Errors
    /// [`Error::BrokenLog`] naming the first broken event (its position, the event when it
    /// parses, and what is wrong); the store's own errors reading the log.
    pub(super) fn check_chain(&self) -> Result<u64> {
        let mut checker = Checker::<crate::record::Event>::new(self.log_head()?);
        for item in self.log.iter() {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            checker.event(&key, &bytes);
        }
        checker.finish().map_err(Error::BrokenLog)
    }

    /// The log head, if there is one that decodes (one that does not is for `check_log` to
    /// report, as a chain without a head).
    pub(super) fn log_head(&self) -> Result<Option<Head>> {
        let head = self.meta.get(LOG_HEAD_KEY).map_err(|e| self.sled(e))?;
        Ok(head.and_then(|b| Head::decode(&b)))
    }

    /// Format 4: chains the log of an older store, rewriting each event in key order with its
    /// `prev` and moving the head with each chunk. A migration cut short resumes after the head
    /// it left (the format key moves to 4 only after this returns), and one run again from the
    /// start writes the same bytes (an event's bytes depend only on its fields and the bytes
    /// before it). An event that does not parse is left as it is, for the check to name; the
    /// next one chains to its bytes.
    pub(super) fn migrate_chain(&self) -> Result<()> {
        let mut head = self.log_head()?;
        while let Some(next) = self.migrate_chunk(head, MIGRATE_CHUNK)? {
            head = Some(next);
        }
        Ok(())
    }

    /// Chains up to `chunk` events after `head` (from the first, with no head) and commits them
    /// with the new head in one transaction. Returns the new head, or `None` when there was
    /// nothing left to chain.
    fn migrate_chunk(&self, head: Option<Head>, chunk: usize) -> Result<Option<Head>> {
        let from = match head {
            Some(h) => Bound::Excluded(h.key.to_be_bytes()),
            None => Bound::Unbounded,
        };
        let mut prev = head.map_or_else(|| GENESIS.to_owned(), |h| h.prev());
        let mut rewritten: Vec<([u8; 8], Vec<u8>)> = Vec::new();
        let mut last = None;
        for item in self.log.range((from, Bound::Unbounded)).take(chunk) {
            let (key, bytes) = item.map_err(|e| self.sled(e))?;
            let key = <[u8; 8]>::try_from(&key[..])
                .map_err(|_| damaged(&self.dir, "a key of its audit log is not 8 bytes"))?;
            let bytes = match Event::from_bytes(&bytes) {
                Ok(mut event) => {
                    event.prev = prev;
                    event.to_bytes()
                }
                Err(_) => bytes.to_vec(),
            };
            let hash = chain::hash(&bytes);
            prev = hex::encode(hash);
            last = Some(Head {
                key: u64::from_be_bytes(key),
                hash,
            });
            rewritten.push((key, bytes));
        }
        let Some(new_head) = last else {
            return Ok(None);
        };
        (&self.log, &self.meta)
            .transaction(|(log, meta)| {
                for (key, bytes) in &rewritten {
                    log.insert(key, bytes.as_slice())?;
                }
                meta.insert(LOG_HEAD_KEY, &new_head.encode()[..])?;
                Ok(())
            })
            .map_err(|e| self.tx_error(e))?;
        Ok(Some(new_head))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{FORMAT_KEY, OpenMode};
    use super::*;
    use crate::chain::Problem;
    use crate::engine::{Engine as _, Tokens as _};
    use crate::record::EventKind;
    use crate::time::Time;

    fn open(dir: &std::path::Path) -> Store {
        Store::open(dir, OpenMode::Create, Duration::from_secs(10)).expect("opens")
    }

    /// Makes `store` look like a format-3 store with `n` events and no chain: events without
    /// `prev` (as format 3 wrote them), no head, format key 3. Returns the events' bytes.
    fn make_format_3(store: &Store, n: u64) -> Vec<(sled::IVec, Vec<u8>)> {
        store.log.clear().expect("clears");
        store.meta.remove(LOG_HEAD_KEY).expect("removes");
        let mut old = Vec::new();
        for i in 0..n {
            let mut event = Event::new(
                EventKind::Created,
                None,
                "ana",
                Time::from_second(1_800_000_000 + i as i64).expect("a time"),
            );
            event.token_id = Some(format!("tok_{i:08}"));
            event.name = Some(format!("t{i}"));
            let mut json: serde_json::Value =
                serde_json::from_slice(&event.to_bytes()).expect("json");
            json.as_object_mut().expect("an object").remove("prev");
            let bytes = serde_json::to_vec(&json).expect("serialises");
            let key = store.db.generate_id().expect("an id").to_be_bytes();
            store.log.insert(key, bytes.as_slice()).expect("inserts");
            old.push((sled::IVec::from(&key), bytes));
        }
        store.meta.insert(FORMAT_KEY, "3").expect("inserts");
        store.make_durable().expect("durable");
        old
    }

    fn log_bytes(store: &Store) -> Vec<(sled::IVec, sled::IVec)> {
        store.log.iter().map(|i| i.expect("reads")).collect()
    }

    #[test]
    fn a_format_3_log_is_chained_on_open_and_checks_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        make_format_3(&store, 10);
        let id = hex::encode(store.store_id());
        drop(store);
        let marker = format!("vbx-tokens store\nformat 3\nid {id}\n");
        std::fs::write(dir.path().join(crate::store::MARKER_FILE), marker).expect("write");

        let store = open(dir.path());
        assert_eq!(store.check_log().expect("whole"), 10);
        let events = store.events(None, None).expect("events");
        assert_eq!(events[0].prev, GENESIS);
        assert!(events.iter().all(|e| e.prev.len() == 64));
        let format = store
            .meta
            .get(FORMAT_KEY)
            .expect("reads")
            .expect("a format");
        assert_eq!(&format[..], b"4");
        let marker =
            std::fs::read_to_string(dir.path().join(crate::store::MARKER_FILE)).expect("marker");
        assert!(marker.contains("\nformat 4\n"), "{marker}");
        // Appends after the migration chain on.
        store
            .log_event(EventKind::VaultExported, None)
            .expect("logs");
        assert_eq!(store.check_log().expect("whole"), 11);
    }

    #[test]
    fn a_migration_cut_short_resumes_and_a_rerun_writes_the_same_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let old = make_format_3(&store, 10);
        store.migrate_chain().expect("migrates");
        let whole = log_bytes(&store);
        assert_eq!(store.check_log().expect("whole"), 10);

        // Cut short after one chunk of 3: the old bytes after it, the head at event 3.
        for (key, bytes) in &old {
            store.log.insert(key, bytes.as_slice()).expect("inserts");
        }
        store.meta.remove(LOG_HEAD_KEY).expect("removes");
        let head = store.migrate_chunk(None, 3).expect("a chunk");
        assert_eq!(
            head.map(|h| h.key.to_be_bytes().to_vec()),
            Some(old[2].0.to_vec())
        );
        assert!(matches!(store.check_log(), Err(Error::BrokenLog(_))));
        store.migrate_chain().expect("resumes");
        assert_eq!(log_bytes(&store), whole);

        // Run again from the start over an already chained log: the same bytes.
        store.meta.remove(LOG_HEAD_KEY).expect("removes");
        store.migrate_chain().expect("migrates again");
        assert_eq!(log_bytes(&store), whole);
        assert_eq!(store.check_log().expect("whole"), 10);
    }

    #[test]
    fn an_unparseable_event_survives_the_migration_for_the_check_to_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        let old = make_format_3(&store, 4);
        store
            .log
            .insert(&old[1].0, &b"{garbage"[..])
            .expect("inserts");
        store.migrate_chain().expect("migrates");
        assert_eq!(
            store.log.get(&old[1].0).expect("reads").as_deref(),
            Some(&b"{garbage"[..])
        );
        let Err(Error::BrokenLog(broken)) = store.check_log() else {
            panic!("the garbage is named");
        };
        assert_eq!((broken.position, broken.events), (2, 4));
        assert!(matches!(broken.problem, Problem::Unparseable(_)));
    }

    #[test]
    fn a_store_from_a_newer_format_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(dir.path());
        store.meta.insert(FORMAT_KEY, "5").expect("inserts");
        store.make_durable().expect("durable");
        drop(store);
        let e = Store::open(dir.path(), OpenMode::Existing, Duration::from_secs(10))
            .err()
            .expect("refused");
        assert_eq!(e.exit_code(), 6);
        assert!(
            e.to_string()
                .contains("newer vbx-tokens (format 5, this build knows 4)"),
            "{e}"
        );
    }
}
