//! A process stopped dead at each step of each write (`abort`, as `kill -9` would), then what
//! every later command sees. Built only with `--features fault-injection` (src/fault.rs).
#![cfg(feature = "fault-injection")]

use std::process::Output;
use vbx_tokens::engine::Tokens as _;

use crate::common::*;

/// Runs a command that must stop dead at `point`.
#[track_caller]
fn stopped_at(env: &Env, point: &str, args: &[&str], stdin: &str) -> Output {
    let out = env
        .cmd()
        .env("VBX_TOKENS_FAULT", point)
        .args(args)
        .write_stdin(stdin.to_owned())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        None,
        "{args:?} should have stopped at {point}: {}",
        stderr(&out)
    );
    out
}

#[track_caller]
fn verdict(env: &Env, token: &str) -> String {
    let (_, v) = env.verify(token, &["--no-touch"]);
    v["reason"].as_str().expect("reason").to_owned()
}

/// What sled says, read through a command that opens it (and so folds and rebuilds).
#[track_caller]
fn status(env: &Env, name: &str) -> String {
    env.record(name)["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

#[track_caller]
fn no_leftovers(env: &Env) {
    for f in files_under(&env.store()) {
        let name = f.file_name().expect("name").to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".tmp") && !name.ends_with(".generating"),
            "{name} left behind"
        );
    }
}

/// The audit log's chain survives the stop: an event and the log head commit together.
#[track_caller]
fn chain_whole(env: &Env, point: &str) {
    let out = env.run(&["log", "--check"]);
    assert_eq!(code(&out), 0, "{point}: {}", stderr(&out));
}

#[test]
fn a_revoke_stopped_anywhere_takes_effect_early_or_not_at_all_never_late() {
    // (point, what verify says before any other command, what sled says after)
    for (point, at_once, after) in [
        ("index-temp-written", "valid", Some("active")),
        ("index-renamed", "revoked", Some("active")),
        ("revoke-indexed", "revoked", Some("active")),
        ("revoke-committed", "revoked", None),
        ("revoke-durable", "revoked", Some("revoked")),
    ] {
        let env = Env::new();
        let t = env.create("t");
        let other = env.create("other");
        stopped_at(&env, point, &["revoke", "t", "--yes"], "");
        assert_eq!(verdict(&env, &t), at_once, "{point}: verify at once");
        // A command that opens sled brings the index into line with it.
        let now = status(&env, "t");
        if let Some(after) = after {
            assert_eq!(now, after, "{point}: sled");
        }
        let expected = if now == "revoked" { "revoked" } else { "valid" };
        assert_eq!(verdict(&env, &t), expected, "{point}: verify after");
        assert_eq!(verdict(&env, &other), "valid", "{point}");
        no_leftovers(&env);
        chain_whole(&env, point);
        // The revoke can be run again and is then acknowledged for good.
        env.ok(&["revoke", "t", "--yes"]);
        assert_eq!(verdict(&env, &t), "revoked", "{point}");
    }
}

#[test]
fn a_create_stopped_anywhere_leaves_a_store_that_knows_only_what_sled_has() {
    for point in [
        "create-committed",
        "create-durable",
        "index-temp-written",
        "index-renamed",
    ] {
        let env = Env::new();
        let before = env.create("before");
        stopped_at(&env, point, &["create", "--name", "new", "-q"], "");
        assert_eq!(verdict(&env, &before), "valid", "{point}");
        let list = env.json(&["list"]);
        let names: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["name"].as_str().expect("name"))
            .collect();
        assert!(names.contains(&"before"), "{point}: {names:?}");
        // The index agrees with sled about every record, the new one if it was kept.
        let store = vbx_tokens::Store::open(
            &env.store(),
            vbx_tokens::OpenMode::Existing,
            std::time::Duration::from_secs(10),
        )
        .expect("opens");
        for r in store.records().expect("records") {
            store.index_matches(&r).expect("index agrees");
        }
        drop(store);
        no_leftovers(&env);
        chain_whole(&env, point);
        env.create("after");
    }
}

#[test]
fn an_import_stopped_anywhere_is_all_or_nothing() {
    let (tokens, lines) = import_lines(3000, "n");
    for (point, kept) in [("import-chunk", false), ("import-durable", true)] {
        let env = Env::new();
        let before = env.create("before");
        stopped_at(&env, point, &["import", "-"], &lines);
        let count = env.json(&["list"]).as_array().expect("array").len();
        assert_eq!(count, if kept { 3001 } else { 1 }, "{point}");
        let expected = if kept { "valid" } else { "unknown" };
        for t in [&tokens[0], &tokens[2999]] {
            assert_eq!(verdict(&env, t), expected, "{point}");
        }
        assert_eq!(verdict(&env, &before), "valid");
        chain_whole(&env, point);
        if !kept {
            // Undone whole: the same import runs again from scratch.
            let out = env.run_in(&["import", "-"], lines.clone());
            assert_eq!(code(&out), 0, "{point}: {}", stderr(&out));
            assert_eq!(verdict(&env, &tokens[1500]), "valid");
        }
    }
}

#[test]
fn a_fold_stopped_anywhere_counts_each_use_once() {
    for point in ["fold-read", "fold-committed"] {
        let env = Env::new();
        let t = env.create("t");
        for _ in 0..3 {
            assert_eq!(env.verify(&t, &[]).0, 0);
        }
        env.verify("junk", &[]);
        stopped_at(&env, point, &["list"], "");
        let r = env.record("t");
        assert_eq!(r["use_count"], 3, "{point}");
        let failures: Vec<_> = env
            .json(&["log"])
            .as_array()
            .expect("array")
            .iter()
            .filter(|e| e["event"] == "verify_failed")
            .cloned()
            .collect();
        assert_eq!(failures.len(), 1, "{point}: {failures:?}");
        assert_eq!(failures[0]["count"], 1, "{point}");
        no_leftovers(&env);
        chain_whole(&env, point);
    }
}

#[test]
fn a_verify_stopped_before_its_use_is_durable_was_not_acknowledged_and_breaks_nothing() {
    let env = Env::new();
    let t = env.create("t");
    stopped_at(&env, "journal-written", &["verify"], &format!("{t}\n"));
    // The entry was written (the kernel has it) but never acknowledged: it may count.
    let uses = env.record("t")["use_count"].as_u64().expect("count");
    assert!(uses <= 1, "{uses}");
    assert_eq!(env.verify(&t, &[]).0, 0);
    assert_eq!(env.record("t")["use_count"].as_u64(), Some(uses + 1));
}

#[test]
fn a_large_fold_stopped_between_its_chunks_resumes_without_counting_twice() {
    let env = Env::new();
    let t = env.create("t");
    // More uses than one fold commit holds (4,096 entries a commit).
    let lines = format!("{t}\n").repeat(10_000);
    let out = env.run_in(&["verify", "--batch"], lines);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    stopped_at(&env, "fold-chunk", &["list"], "");
    assert_eq!(env.record("t")["use_count"], 10_000);
    chain_whole(&env, "fold-chunk");
}

#[test]
fn a_fold_adding_to_the_failure_counters_stopped_anywhere_counts_each_failure_once() {
    for point in ["fold-read", "fold-chunk", "fold-committed"] {
        let env = Env::new();
        let t = env.create("t");
        // A counter at the log's end for the fold to add to.
        env.verify("garbage", &[]);
        env.ok(&["list"]);
        // Uses and failures mixed: more journal entries than one fold commit holds, so the
        // counter is added to by each commit.
        let lines = format!("{t}\ngarbage\n").repeat(5_000);
        let out = env.run_in(&["verify", "--batch"], lines);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        stopped_at(&env, point, &["list"], "");
        assert_eq!(env.record("t")["use_count"], 5_000, "{point}");
        let failed = failures_counted(&failure_events(&env));
        assert_eq!(failed, 5_001, "{point}");
        no_leftovers(&env);
        chain_whole(&env, point);
    }
}

#[test]
fn a_rotation_stopped_anywhere_leaves_exactly_one_of_the_two_tokens() {
    for point in [
        "index-temp-written",
        "change-indexed",
        "change-committed",
        "change-durable",
    ] {
        let env = Env::new();
        let old = env.create("t");
        let out = stopped_at(&env, point, &["rotate", "t", "-q"], "");
        // Stopped before the token was printed: it was never shown, so only sled can tell
        // whether the new one exists; what matters is that exactly one of the two verifies
        // once the store has been opened again, and that the old one is never valid after the
        // new one is.
        assert!(out.stdout.is_empty(), "{point}: nothing shown");
        let record = env.record("t");
        let rotated = record["replaces"].is_string();
        assert_eq!(
            verdict(&env, &old),
            if rotated { "revoked" } else { "valid" },
            "{point}"
        );
        let listed = env.json(&["list", "--all"]);
        let names = listed.as_array().expect("records").len();
        assert_eq!(names, if rotated { 2 } else { 1 }, "{point}");
        no_leftovers(&env);
        chain_whole(&env, point);
        // And it can be rotated (again) for good.
        let again = env.ok(&["rotate", "t", "-q"]);
        let again = String::from_utf8(again).expect("utf-8");
        assert_eq!(verdict(&env, again.trim()), "valid", "{point}");
        assert_eq!(verdict(&env, &old), "revoked", "{point}");
    }
}
