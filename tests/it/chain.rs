//! The audit log's hash chain: whole after everything the tool writes, and `log --check` naming
//! the right event when the log is changed behind its back (sled opened directly, as someone
//! with access to the files could).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{Env, assert_one_line_error, code, import_lines, parse, stderr, stdout};

/// Runs `log --check`, expects a whole chain, returns how many events it counted.
#[track_caller]
fn whole(env: &Env) -> u64 {
    let out = env.run(&["log", "--check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let n = env.json(&["log"]).as_array().expect("an array").len() as u64;
    assert_eq!(
        stdout(&out),
        format!("audit log whole: {n} events chained\n")
    );
    assert_eq!(
        env.json(&["log", "--check"]),
        serde_json::json!({"whole": true, "events": n})
    );
    n
}

/// Runs `log --check --json` on a broken log: exit 6, one line on stderr, the document on
/// stdout. Returns both.
#[track_caller]
fn broken(env: &Env) -> (Value, String) {
    let out = env.run(&["log", "--check", "--json"]);
    let line = assert_one_line_error(&out, 6);
    let doc = parse(&out.stdout);
    assert_eq!(doc["whole"], false, "{doc}");
    assert_eq!(
        crate::common::keys(&doc),
        crate::common::sorted(&["whole", "events", "broken_at", "event", "problem"])
    );
    // The text form says the same in its one line, with nothing on stdout.
    let text = env.run(&["log", "--check"]);
    assert_eq!(code(&text), 6);
    assert_eq!(stderr(&text), line);
    assert!(text.stdout.is_empty());
    (doc, line)
}

/// A store with six events (five creates, a revoke), its chain checked whole.
fn six_events() -> Env {
    let env = Env::new();
    for i in 0..5 {
        env.create(&format!("t{i}"));
    }
    env.ok(&["revoke", "t0", "--yes"]);
    assert_eq!(whole(&env), 6);
    env
}

/// Opens the store's sled database directly (no vbx-tokens process is running: every command
/// above has exited) and hands `change` its `log` tree, durably.
fn tamper(env: &Env, change: impl FnOnce(&sled::Tree, &[(sled::IVec, sled::IVec)])) {
    let db = sled::Config::new()
        .path(env.store())
        .open()
        .expect("sled opens the store");
    let log = db.open_tree("log").expect("the log tree");
    let events: Vec<(sled::IVec, sled::IVec)> = log.iter().map(|i| i.expect("reads")).collect();
    change(&log, &events);
    db.flush().expect("flushes");
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The event's JSON with one field changed.
fn with(bytes: &[u8], field: &str, value: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(bytes).expect("an event");
    event[field] = Value::from(value);
    serde_json::to_vec(&event).expect("serialises")
}

#[test]
fn the_chain_is_whole_after_everything_the_tool_writes() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let a = env.create("a");
        env.create("b");
        assert_eq!(env.verify(&a, &[]).0, 0);
        // Failures go to the journal; the next command that opens the store folds them in.
        assert_eq!(env.verify("vbx_garbage", &[]).0, 1);
        assert_eq!(env.verify("vbx_garbage", &[]).0, 1);
        env.ok(&["revoke", "a", "--yes"]);
        assert_eq!(env.verify(&a, &[]).0, 1);
        let (pass, _) = env.vault_with("kept");
        env.ok(&["vault", "reveal", "kept", "--passphrase-file", &pass]);
        let file = env.tmp.path().join("vault.export");
        env.ok(&[
            "vault",
            "export",
            &file.to_string_lossy(),
            "--passphrase-file",
            &pass,
        ]);
        env.ok(&["vault", "forget", "kept"]);
        let (_, lines) = import_lines(5, "imp");
        let out = env.run_in(&["import", "-"], lines);
        assert_eq!(code(&out), 0, "{}", stderr(&out));

        let n = whole(&env);
        let log = env.json(&["log"]);
        let kinds: Vec<&str> = log
            .as_array()
            .expect("an array")
            .iter()
            .map(|e| e["event"].as_str().expect("a kind"))
            .collect();
        assert_eq!(
            kinds,
            [
                "created",
                "created",
                "verify_failed",
                "revoked",
                "verify_failed",
                "vault_init",
                "created",
                "revealed",
                "vault_exported",
                "forgotten",
                "imported"
            ]
        );
        assert_eq!(n, 11);
        assert_eq!(log[0]["prev"], "0".repeat(64));
    }
}

#[test]
fn an_edited_event_breaks_the_link_of_the_next() {
    let env = six_events();
    let mut edited = Vec::new();
    tamper(&env, |log, events| {
        let changed = with(&events[2].1, "actor", "mallory");
        log.insert(&events[2].0, changed).expect("inserts");
        edited = events[3].1.to_vec();
    });
    let (doc, line) = broken(&env);
    assert_eq!(doc["events"], 6);
    assert_eq!(doc["broken_at"], 4);
    assert_eq!(
        doc["event"],
        parse(&edited),
        "the event that no longer links"
    );
    let problem = doc["problem"].as_str().expect("text");
    assert!(problem.contains("does not match event 3"), "{problem}");
    let id = doc["event"]["token_id"].as_str().expect("an id");
    let at = doc["event"]["at"].as_str().expect("a time");
    assert!(
        line.starts_with(&format!(
            "vbx-tokens: the audit log is broken at event 4 of 6 ({at}, created, token {id}): "
        )),
        "{line}"
    );
    // Reading the log still works, and shows the edit.
    let log = env.json(&["log"]);
    assert_eq!(log[2]["actor"], "mallory");

    // The last event edited: the head no longer matches it.
    let env = six_events();
    tamper(&env, |log, events| {
        log.insert(&events[5].0, with(&events[5].1, "actor", "mallory"))
            .expect("inserts");
    });
    let (doc, _) = broken(&env);
    assert_eq!(doc["broken_at"], 6);
    assert_eq!(doc["event"]["event"], "revoked");
}

#[test]
fn a_removed_event_is_named_by_the_one_that_took_its_place() {
    let env = six_events();
    tamper(&env, |log, events| {
        log.remove(&events[2].0).expect("removes");
    });
    let (doc, line) = broken(&env);
    assert_eq!(
        (doc["events"].clone(), doc["broken_at"].clone()),
        (5.into(), 3.into())
    );
    assert!(line.contains("at event 3 of 5"), "{line}");
    assert_eq!(env.json(&["log"]).as_array().expect("an array").len(), 5);
}

#[test]
fn removing_the_last_event_is_seen_through_the_head() {
    let env = six_events();
    tamper(&env, |log, events| {
        log.remove(&events[5].0).expect("removes");
    });
    let (doc, line) = broken(&env);
    assert_eq!(doc["events"], 5);
    assert_eq!(doc["broken_at"], 5);
    assert_eq!(doc["event"]["event"], "created");
    let problem = doc["problem"].as_str().expect("text");
    assert!(
        problem.contains("events after this one were removed"),
        "{problem}"
    );
    assert!(line.contains("at event 5 of 5"), "{line}");

    // Appending more does not paper over it: the next event chains to the head, which still
    // names the removed one.
    env.create("later");
    let (doc, _) = broken(&env);
    assert_eq!(
        (doc["events"].clone(), doc["broken_at"].clone()),
        (6.into(), 6.into())
    );
}

#[test]
fn a_forged_event_is_caught_even_with_a_correct_link() {
    let env = six_events();
    let mut after = 0;
    tamper(&env, |log, events| {
        // Between two events with a free key between them (each create takes an id for the
        // record's order, then one for its event).
        let i = (0..events.len() - 1)
            .find(|&i| key(&events[i + 1].0) - key(&events[i].0) >= 2)
            .expect("a gap between two keys");
        after = i + 1;
        // A forger who knows the scheme links it to the event before.
        let forged = with(&events[i].1, "actor", "mallory");
        let forged = with(&forged, "prev", &sha256_hex(&events[i].1));
        let at = (key(&events[i].0) + 1).to_be_bytes();
        log.insert(at, forged).expect("inserts");
    });
    let (doc, _) = broken(&env);
    // The forged event links to the one before it; the one after it does not link to it.
    assert_eq!(doc["events"], 7);
    assert_eq!(doc["broken_at"], after as u64 + 2);
    assert_eq!(env.json(&["log"])[after]["actor"], "mallory");
}

#[test]
fn bytes_that_do_not_parse_are_named_and_log_says_to_check() {
    let env = six_events();
    tamper(&env, |log, events| {
        log.insert(&events[3].0, &b"\x00not an event"[..])
            .expect("inserts");
    });
    let (doc, line) = broken(&env);
    assert_eq!(doc["events"], 6);
    assert_eq!(doc["broken_at"], 4);
    assert_eq!(doc["event"], Value::Null);
    assert!(
        doc["problem"]
            .as_str()
            .expect("text")
            .starts_with("it does not parse"),
        "{doc}"
    );
    assert!(
        line.contains("at event 4 of 6: it does not parse"),
        "{line}"
    );
    // `log` cannot show an event it cannot read, and points at the check.
    let err = assert_one_line_error(&env.run(&["log"]), 6);
    assert!(
        err.contains("`vbx-tokens log --check` names the event"),
        "{err}"
    );
}

#[test]
fn check_takes_no_filters() {
    let env = six_events();
    for extra in [&["--limit", "2"][..], &["--token", "t1"]] {
        let out = env.run(&[&["log", "--check"][..], extra].concat());
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

fn key(k: &[u8]) -> u64 {
    u64::from_be_bytes(k.try_into().expect("8 bytes"))
}
