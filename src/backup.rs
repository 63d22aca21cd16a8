//! The backup file: one NDJSON file holding a whole store (README, "The backup format").
//!
//! ```text
//! {"format":"vbx-tokens backup","version":2,"store_id":HEX,"taken_at":TIME,"taken_by":USER,
//!  "records":N,"events":M,"vault":BOOL}
//! {"record":{…}}            N lines: each stored record, as `export` writes it
//! {"event":{…}}             M lines: each audit event, its stored bytes verbatim (so the
//!                           hash chain checks in the restored store)
//! {"vault":HEX}             with a vault: the vault sealed, as stored (`vault::Sealed`), in
//!                           hex; no passphrase is needed to copy it, only to reveal
//! {"end":{"lines":K,"sha256":HEX}}   K lines before it; the SHA-256 of every byte before it
//! ```
//!
//! The last line makes a cut-short or changed file fail before anything is restored. Pure
//! functions: [`Writer`] writes one, [`read`] checks and parses one.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::name::name_key;
use crate::record::{Event, EventKind, Record, Status};
use crate::time::Time;

/// The first line's `format`.
pub const FORMAT: &str = "vbx-tokens backup";
/// The layout this build writes. Version 2 carries the vault sealed as stored; version 1
/// carried it as `vault export` writes it, and is still read (its sealed secrets are the same).
pub const VERSION: u32 = 2;
/// The oldest layout this build reads.
pub const OLDEST_VERSION: u32 = 1;
/// The longest line read back: a record, an event, or a vault of 600,000 kept tokens in hex.
pub const MAX_LINE: usize = 160 * 1024 * 1024;
/// The most records and events a backup may count, as an import may hold at most as many
/// lines: restore reads the whole file before it writes, so this and [`MAX_BYTES`] bound what
/// it holds in memory.
pub const MAX_ENTRIES: u64 = 10_000_000;
/// The most bytes of record and event lines a backup may hold (2 GiB).
pub const MAX_BYTES: u64 = 2 << 30;

/// The first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub format: String,
    pub version: u32,
    pub store_id: String,
    pub taken_at: Time,
    pub taken_by: String,
    pub records: u64,
    pub events: u64,
    pub vault: bool,
}

/// Why a header line that is JSON does not read as a [`Head`], naming the field: serde's own
/// message does not when a time is in a form no time takes.
fn header_fault(raw: &serde_json::Map<String, serde_json::Value>, e: &serde_json::Error) -> String {
    use serde_json::from_value;
    let field = |name: &str| raw.get(name).cloned().unwrap_or(serde_json::Value::Null);
    let fault =
        |name: &str, r: Result<(), serde_json::Error>| r.err().map(|e| format!("`{name}`: {e}"));
    [
        fault("taken_at", from_value::<Time>(field("taken_at")).map(drop)),
        fault(
            "store_id",
            from_value::<String>(field("store_id")).map(drop),
        ),
        fault(
            "taken_by",
            from_value::<String>(field("taken_by")).map(drop),
        ),
        fault("version", from_value::<u32>(field("version")).map(drop)),
        fault("records", from_value::<u64>(field("records")).map(drop)),
        fault("events", from_value::<u64>(field("events")).map(drop)),
        fault("vault", from_value::<bool>(field("vault")).map(drop)),
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or_else(|| format!("the header does not read: {e}"))
}

/// Writes a backup line by line, hashing as it goes.
pub struct Writer<W: Write> {
    out: W,
    hash: Sha256,
    lines: u64,
}

impl<W: Write> Writer<W> {
    /// Starts a backup with its first line.
    ///
    /// # Errors
    /// The writer's.
    pub fn new(out: W, head: &Head) -> io::Result<Writer<W>> {
        let mut w = Writer {
            out,
            hash: Sha256::new(),
            lines: 0,
        };
        let line = serde_json::to_vec(head).map_err(io::Error::other)?;
        w.line(&line)?;
        Ok(w)
    }

    fn line(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.hash.update(b"\n");
        self.out.write_all(bytes)?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    fn wrapped(&mut self, key: &str, raw: &[u8]) -> io::Result<()> {
        let mut line = Vec::with_capacity(raw.len() + key.len() + 6);
        line.extend_from_slice(b"{\"");
        line.extend_from_slice(key.as_bytes());
        line.extend_from_slice(b"\":");
        line.extend_from_slice(raw);
        line.push(b'}');
        self.line(&line)
    }

    /// A record, as stored (JSON).
    ///
    /// # Errors
    /// The writer's.
    pub fn record(&mut self, stored: &[u8]) -> io::Result<()> {
        self.wrapped("record", stored)
    }

    /// An event, its stored bytes verbatim (JSON).
    ///
    /// # Errors
    /// The writer's.
    pub fn event(&mut self, stored: &[u8]) -> io::Result<()> {
        self.wrapped("event", stored)
    }

    /// The vault, sealed as the store holds it.
    ///
    /// # Errors
    /// The writer's.
    pub fn vault(&mut self, sealed: &crate::vault::Sealed) -> io::Result<()> {
        let line = format!("{{\"vault\":\"{}\"}}", hex::encode(sealed.to_bytes()));
        self.line(line.as_bytes())
    }

    /// Writes the last line and returns the writer.
    ///
    /// # Errors
    /// The writer's.
    pub fn finish(mut self) -> io::Result<W> {
        let end = format!(
            "{{\"end\":{{\"lines\":{},\"sha256\":\"{}\"}}}}\n",
            self.lines,
            hex::encode(self.hash.finalize())
        );
        self.out.write_all(end.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A backup read back and checked whole.
#[derive(Debug)]
pub struct Backup {
    pub head: Head,
    /// Each record's stored bytes, parsed too.
    pub records: Vec<(Vec<u8>, Record)>,
    /// Each event's stored bytes, verbatim.
    pub events: Vec<Vec<u8>>,
    /// The vault, sealed, if the store had a vault: checked for layout (header checksum, every
    /// secret's framing), which needs no passphrase.
    pub vault: Option<crate::vault::Sealed>,
}

/// Why a file is not a backup we can restore: a sentence naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(what: impl Into<String>) -> Invalid {
    Invalid(what.into())
}

/// One line after the header: exactly one of these, and nothing else beside it (a field a
/// forger adds outside `record` or `event` would pass every check unread).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    record: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
    vault: Option<String>,
    end: Option<End>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    lines: u64,
    sha256: String,
}

/// Reads a backup, checking its hash, its counts and every record and event before returning
/// anything.
///
/// # Errors
/// [`Invalid`] for anything that is not a whole backup of this version; I/O errors as
/// `Invalid` too, with the OS's reason.
pub fn read(input: impl BufRead) -> Result<Backup, Invalid> {
    let mut lines = crate::lines::BoundedLines::new(input, MAX_LINE);
    let mut hash = Sha256::new();
    let mut next = |hash: &mut Sha256| -> Result<Option<(usize, Vec<u8>)>, Invalid> {
        match lines.next_line() {
            Ok(Some((n, crate::lines::Line::Text(bytes)))) => {
                let bytes = bytes.to_vec();
                Ok(Some((n, bytes)))
            }
            Ok(Some((n, crate::lines::Line::TooLong))) => {
                Err(invalid(format!("line {n} is longer than any backup line")))
            }
            Ok(None) => {
                let _ = hash;
                Ok(None)
            }
            Err(e) => Err(invalid(format!(
                "cannot read it: {}",
                crate::error::reason(&e)
            ))),
        }
    };
    let Some((_, first)) = next(&mut hash)? else {
        return Err(invalid("it is empty"));
    };
    crate::transfer::unique_keys(&first).map_err(|e| invalid(format!("line 1: {e}")))?;
    let not_a_header = || invalid("its first line is not a vbx-tokens backup header");
    let Ok(serde_json::Value::Object(raw)) = serde_json::from_slice(&first) else {
        return Err(not_a_header());
    };
    if raw.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(invalid("it is not a vbx-tokens backup"));
    }
    // Every field, known to this build or not, is outside input: none holds a token.
    crate::transfer::token_free(&raw, "a backup header")
        .map_err(|e| invalid(format!("line 1: {e}")))?;
    // And every number in it, known or not, one a JSON reader holds exactly.
    if let Some(e) = crate::transfer::integer_too_large(&raw) {
        return Err(invalid(format!("line 1: {e}")));
    }
    let head: Head = serde_json::from_value(serde_json::Value::Object(raw.clone()))
        .map_err(|e| invalid(format!("line 1: {}", header_fault(&raw, &e))))?;
    if !(OLDEST_VERSION..=VERSION).contains(&head.version) {
        return Err(invalid(format!(
            "it is backup format {}, and this build reads {OLDEST_VERSION} to {VERSION}",
            head.version
        )));
    }
    // Restore writes these into its `restored` event: they are outside input like the rest.
    crate::transfer::check_backup_head(&head.store_id, &head.taken_by, head.taken_at, Time::now())
        .map_err(|e| invalid(format!("line 1: {e}")))?;
    if head.records.saturating_add(head.events) > MAX_ENTRIES {
        return Err(invalid(format!(
            "line 1: its header counts {} records and {} events, and a backup holds at most {MAX_ENTRIES} in all",
            head.records, head.events
        )));
    }
    hash.update(&first);
    hash.update(b"\n");
    let mut held = 0u64;
    let mut backup = Backup {
        head,
        records: Vec::new(),
        events: Vec::new(),
        vault: None,
    };
    let mut count = 1u64;
    // What must be one of its kind in a store, with the line that claimed it: a forged backup
    // with two active tokens of one name (or of two names that render alike) is refused here,
    // where the line can be named, not found later.
    let mut ids = std::collections::HashMap::new();
    let mut hashes = std::collections::HashMap::new();
    let mut names = std::collections::HashMap::new();
    // Each record's name by id, for the counters of the layout before, which name theirs.
    let mut record_names = std::collections::HashMap::new();
    // Records with rotation links, by line: checked against the others once all are read.
    let mut linked = Vec::new();
    // Tokens the log says were revoked (or replaced), with the event's line: their records
    // must say so too, since a revocation is never undone.
    let mut ended: Vec<(String, usize, EventKind)> = Vec::new();
    loop {
        let Some((n, bytes)) = next(&mut hash)? else {
            return Err(invalid("it is cut short: its last line is missing"));
        };
        let line: Line = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("line {n} is not a backup line ({e})")))?;
        if let Some(end) = line.end {
            if end.lines != count || hex::encode(hash.finalize()) != end.sha256 {
                return Err(invalid(
                    "it was changed or cut short: its checksum does not match",
                ));
            }
            if lines.next_line().ok().flatten().is_some() {
                return Err(invalid(format!("line {} follows the last line", n + 1)));
            }
            break;
        }
        hash.update(&bytes);
        hash.update(b"\n");
        count += 1;
        held += bytes.len() as u64;
        if held > MAX_BYTES {
            return Err(invalid(format!(
                "line {n}: it holds more than {} GiB of records and events, the most a backup holds",
                MAX_BYTES >> 30
            )));
        }
        // Past what the header counts, the file is not the backup it says it is: refused at
        // once, so an input without end (a pipe, a device) is not read on and on.
        let h = &backup.head;
        let more = match (&line.record, &line.event, &line.vault) {
            (Some(_), None, None) => {
                (backup.records.len() as u64 >= h.records).then_some("records")
            }
            (None, Some(_), None) => (backup.events.len() as u64 >= h.events).then_some("events"),
            (None, None, Some(_)) => (!h.vault).then_some("vaults"),
            _ => None,
        };
        if let Some(what) = more {
            return Err(invalid(format!(
                "line {n}: its header counts {} records, {} events and {} vault, and it holds more {what}",
                h.records,
                h.events,
                u8::from(h.vault)
            )));
        }
        match (line.record, line.event, line.vault) {
            (Some(raw), None, None) if backup.events.is_empty() && backup.vault.is_none() => {
                // Checked as `import` checks a line: a backup is outside input too (only the
                // hash may stand for the token; names, scopes and ranges are what create takes).
                let incoming = crate::transfer::parse_line(
                    n,
                    raw.get(),
                    crate::transfer::ImportRules::default(),
                    Time::now(),
                    "",
                )
                .map_err(|e| invalid(format!("line {n}: {e}")))?;
                if !incoming.keeps_id || !incoming.keeps_seq {
                    return Err(invalid(format!("line {n}: a record without its id or seq")));
                }
                let record = incoming.record;
                let claims = [
                    (&mut ids, "`id`", Some(record.id.clone())),
                    (&mut hashes, "`sha256`", Some(record.sha256.clone())),
                    (
                        &mut names,
                        "`name` (of an active token)",
                        (record.status == Status::Active).then(|| name_key(&record.name)),
                    ),
                ];
                for (seen, field, key) in claims {
                    if let Some(key) = key
                        && let Some(first) = seen.insert(key, n)
                    {
                        return Err(invalid(format!(
                            "line {n}: {field} is the same as line {first}'s: a store holds one"
                        )));
                    }
                }
                record_names.insert(record.id.clone(), record.name.clone());
                if record.replaces.is_some() || record.replaced_by.is_some() {
                    linked.push((n, backup.records.len()));
                }
                backup.records.push((record.to_bytes(), record));
            }
            (None, Some(raw), None) if backup.vault.is_none() => {
                let stored = raw.get().as_bytes().to_vec();
                let event = Event::parse(&stored).map_err(|e| {
                    invalid(format!("line {n}: the event is not an audit event ({e})"))
                })?;
                // Checked as the store would have written it: a forged event must not reach
                // the log (and `log`'s terminal) however well its chain was recomputed.
                crate::transfer::check_event(&stored, &event, Time::now())
                    .map_err(|e| invalid(format!("line {n}: {e}")))?;
                // A counter counts tokens of this store: every record comes before the log.
                if let Some(id) = event.tokens.keys().find(|id| !ids.contains_key(*id)) {
                    return Err(invalid(format!(
                        "line {n}: `tokens` counts {id}, which no record of the backup is"
                    )));
                }
                // A counter of the layout before names its one token, and that token's name.
                if event.last_at.is_some()
                    && let Some(id) = &event.token_id
                {
                    match record_names.get(id) {
                        None => {
                            return Err(invalid(format!(
                                "line {n}: `token_id` {id} of a counter is no record of the backup"
                            )));
                        }
                        Some(known) if event.name.as_ref().is_some_and(|name| name != known) => {
                            return Err(invalid(format!(
                                "line {n}: `name` of a counter is not the name of {id}"
                            )));
                        }
                        Some(_) => {}
                    }
                }
                match (event.event, &event.token_id, &event.replaces) {
                    (EventKind::Revoked, Some(id), _) => {
                        ended.push((id.clone(), n, EventKind::Revoked));
                    }
                    (EventKind::Rotated, _, Some(old)) => {
                        ended.push((old.clone(), n, EventKind::Rotated));
                    }
                    _ => {}
                }
                backup.events.push(stored);
            }
            (None, None, Some(hex_export)) if backup.vault.is_none() => {
                let bytes = hex::decode(hex_export)
                    .map_err(|_| invalid(format!("line {n}: the vault is not hex")))?;
                let sealed = match backup.head.version {
                    1 => crate::vault::Sealed::from_export(bytes),
                    _ => crate::vault::Sealed::parse(&bytes),
                };
                let sealed =
                    sealed.map_err(|e| invalid(format!("line {n}: the vault is damaged ({e})")))?;
                backup.vault = Some(sealed);
            }
            _ => return Err(invalid(format!("line {n} is out of place"))),
        }
    }
    // Rotations link as `rotate` links them, within the backup (the whole store).
    let by_id: std::collections::HashMap<&str, &crate::record::Record> = backup
        .records
        .iter()
        .map(|(_, r)| (r.id.as_str(), r))
        .collect();
    let now = Time::now();
    for (id, n, kind) in ended {
        // A store never drops a record: an event about a token the backup has no record of
        // was written somewhere else.
        let Some(record) = by_id.get(id.as_str()) else {
            return Err(invalid(format!(
                "line {n}: the log's `{}` event names {id}, which no record of the backup is",
                kind.as_str()
            )));
        };
        // `rotate` revokes the token it replaces (at once, or at its grace's end); `revoke`
        // revokes at once, a grace included.
        let contradicts = match kind {
            EventKind::Rotated => record.status != Status::Revoked,
            _ => record.status != Status::Revoked || record.in_grace(now),
        };
        if contradicts {
            let says = if record.in_grace(now) {
                "is in a grace (`grace_until`)"
            } else {
                "has `status` active"
            };
            return Err(invalid(format!(
                "line {n}: the log's `{}` event says {id} was revoked, and its record {says}: a revocation is never undone",
                kind.as_str()
            )));
        }
    }
    let mut rotation = crate::transfer::RotationCheck::new(now);
    for (n, at) in linked {
        let found = rotation.check(&backup.records[at].1, |id| {
            Ok::<_, std::convert::Infallible>(by_id.get(id).map(|r| (*r).clone()))
        });
        let Ok(found) = found;
        found.map_err(|e| invalid(format!("line {n}: {e}")))?;
    }
    // The audit log must chain as it did in the store it came from.
    if let Some(last) = backup.events.last() {
        let head = crate::chain::Head {
            key: backup.events.len() as u64,
            hash: crate::chain::hash(last),
        };
        let mut checker = crate::chain::Checker::<Event>::new(Some(head));
        for (i, bytes) in backup.events.iter().enumerate() {
            checker.event(&(i as u64 + 1).to_be_bytes(), bytes);
        }
        checker
            .finish()
            .map_err(|broken| invalid(format!("its audit log is not whole: {broken}")))?;
    }
    let h = &backup.head;
    if h.records != backup.records.len() as u64
        || h.events != backup.events.len() as u64
        || h.vault != backup.vault.is_some()
    {
        return Err(invalid("its header does not count what it holds"));
    }
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(records: u64, events: u64, vault: bool) -> Head {
        Head {
            format: FORMAT.into(),
            version: VERSION,
            store_id: "00".repeat(16),
            taken_at: Time::from_second(1_750_000_000).unwrap(),
            taken_by: "ana".into(),
            records,
            events,
            vault,
        }
    }

    const RECORD: &str = r#"{"v":2,"id":"tok_abcd1234","seq":1,"name":"n","sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","hint":"vbx_AAAA","created_at":"2026-01-01T00:00:00Z","created_by":"u","status":"active"}"#;
    const EVENT: &str = r#"{"at":"2026-01-01T00:00:00Z","event":"created","token_id":"tok_abcd1234","name":"n","actor":"u","reason":null,"count":1,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#;

    /// A vault of one kept secret, sealed (the cheapest KDF the vault takes).
    fn sealed() -> crate::vault::Sealed {
        use crate::vault::{KdfParams, MIN_MEMORY_MIB, Vault};
        let cheap = KdfParams {
            memory_kib: MIN_MEMORY_MIB * 1024,
            iterations: 1,
            parallelism: 1,
        };
        let v = Vault::create(&secrecy::SecretString::from("pw".to_owned()), cheap).unwrap();
        let secrets = vec![("tok_abcd1234".to_owned(), v.seal("tok_abcd1234", "secret"))];
        crate::vault::Sealed::new(v.header().to_bytes(), secrets).unwrap()
    }

    fn written(vault: bool) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), &head(1, 1, vault)).unwrap();
        w.record(RECORD.as_bytes()).unwrap();
        w.event(EVENT.as_bytes()).unwrap();
        if vault {
            w.vault(&sealed()).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn a_backup_round_trips_its_records_and_events_byte_for_byte() {
        let b = read(&written(true)[..]).unwrap();
        // Records are checked as an import line and stored as this build writes them.
        assert_eq!(
            b.records[0].1,
            Record::from_bytes(RECORD.as_bytes()).unwrap()
        );
        assert_eq!(b.events[0], EVENT.as_bytes());
        assert_eq!(
            b.vault.as_ref().map(|v| v.secrets().len()),
            Some(sealed().secrets().len())
        );
        assert!(read(&written(false)[..]).unwrap().vault.is_none());
    }

    #[test]
    fn any_change_cut_or_addition_is_refused() {
        let good = written(true);
        for cut in [0, 10, good.len() / 2, good.len() - 2] {
            assert!(read(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut changed = good.clone();
        let at = changed.len() / 2;
        changed[at] = if changed[at] == b'a' { b'b' } else { b'a' };
        assert!(read(&changed[..]).is_err());
        let mut more = good.clone();
        more.extend_from_slice(b"{\"record\":{}}\n");
        assert!(read(&more[..]).is_err());
        assert!(read(&b"{\"format\":\"other\"}\n"[..]).is_err());
        // A record no import would take is refused, hash or not.
        let planted = RECORD.replace(
            "\"name\":\"n\"",
            "\"name\":\"n\",\"note\":\"vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17\"",
        );
        let mut w = Writer::new(Vec::new(), &head(1, 1, false)).unwrap();
        w.record(planted.as_bytes()).unwrap();
        w.event(EVENT.as_bytes()).unwrap();
        assert!(read(&w.finish().unwrap()[..]).is_err());
        // So is an audit log that does not chain.
        let mut w = Writer::new(Vec::new(), &head(1, 2, false)).unwrap();
        w.record(RECORD.as_bytes()).unwrap();
        w.event(EVENT.as_bytes()).unwrap();
        w.event(EVENT.as_bytes()).unwrap();
        let e = read(&w.finish().unwrap()[..]).unwrap_err().to_string();
        assert!(e.contains("audit log"), "{e}");
    }

    #[test]
    fn an_input_without_end_is_refused_at_the_first_line_its_header_does_not_count() {
        // A header, then the same event for ever: refused at line 3, not read on.
        struct Endless {
            head: Vec<u8>,
            at: usize,
        }
        impl io::Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let line = format!("{{\"event\":{EVENT}}}\n").into_bytes();
                let all = self.head.len() + 1_000_000 * line.len();
                assert!(self.at < all, "read far past the header's count");
                let mut n = 0;
                while n < buf.len() {
                    let i = self.at;
                    buf[n] = if i < self.head.len() {
                        self.head[i]
                    } else {
                        line[(i - self.head.len()) % line.len()]
                    };
                    self.at += 1;
                    n += 1;
                }
                Ok(n)
            }
        }
        // A header that counts more than a backup may hold is refused before anything else.
        let mut big = serde_json::to_vec(&head(9_007_199_254_740_991, 0, false)).unwrap();
        big.push(b'\n');
        let e = read(&big[..]).unwrap_err().to_string();
        assert!(
            e.contains("line 1") && e.contains("at most 10000000"),
            "{e}"
        );
        let mut head = serde_json::to_vec(&head(0, 1, false)).unwrap();
        head.push(b'\n');
        let e = read(io::BufReader::new(Endless { head, at: 0 }))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("holds more events"),
            "{e}"
        );
    }
}
