//! Cron jobs fire together: many processes at once must all succeed, and every use is counted.

use std::collections::HashMap;
use std::process::Stdio;
use std::thread;

use crate::common::*;

const PROCESSES: usize = 16;
const TOKENS_EACH: usize = 2;
const VERIFIES_EACH: usize = 3;

#[test]
fn sixteen_processes_at_once_all_succeed_and_every_use_counts() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        // Make the store first so the race is on the lock, not on who creates the directory.
        env.create("seed");

        let results: Vec<Vec<(String, String)>> = thread::scope(|s| {
            let workers: Vec<_> = (0..PROCESSES)
                .map(|p| {
                    let env = &env;
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        for t in 0..TOKENS_EACH {
                            let name = format!("p{p}-t{t}");
                            let out = env
                                .std_cmd()
                                .args(["create", "--name", &name, "-q"])
                                .env("VBX_TOKENS_WAIT", "120")
                                .output()
                                .expect("runs");
                            assert!(out.status.success(), "create {name}: {}", stderr(&out));
                            let token = String::from_utf8(out.stdout)
                                .expect("utf-8")
                                .trim()
                                .to_owned();
                            for _ in 0..VERIFIES_EACH {
                                let out = env
                                    .std_cmd()
                                    .arg("verify")
                                    .env("VBX_TOKEN", &token)
                                    .env("VBX_TOKENS_WAIT", "120")
                                    .stdout(Stdio::null())
                                    .output()
                                    .expect("runs");
                                assert!(out.status.success(), "verify {name}: {}", stderr(&out));
                            }
                            mine.push((name, token));
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("worker"))
                .collect()
        });

        let listed = env.json(&["list"]);
        let counts: HashMap<String, u64> = listed
            .as_array()
            .expect("array")
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().expect("name").to_owned(),
                    r["use_count"].as_u64().expect("count"),
                )
            })
            .collect();
        assert_eq!(counts.len(), PROCESSES * TOKENS_EACH + 1);
        for (name, token) in results.iter().flatten() {
            assert_eq!(counts.get(name), Some(&(VERIFIES_EACH as u64)), "{name}");
            let (code, v) = env.verify(token, &["--no-touch"]);
            assert_eq!(code, 0, "{name}: {v}");
            assert_eq!(v["name"], name.as_str());
        }
        let created = env.json(&["log"]);
        let created = created
            .as_array()
            .expect("array")
            .iter()
            .filter(|e| e["event"] == "created")
            .count();
        assert_eq!(created, PROCESSES * TOKENS_EACH + 1);
    }
}

#[test]
fn verifies_never_wait_for_the_store_lock() {
    let env = Env::new();
    let t = env.create("t");
    let gone = env.create("gone");
    env.ok(&["revoke", "gone", "--yes"]);
    // A writer holds the store (as an import would, for seconds): verifies answer anyway,
    // counted or not, with no wait allowed at all.
    let held = vbx_tokens::Store::open(
        &env.store(),
        vbx_tokens::OpenMode::Existing,
        std::time::Duration::from_secs(5),
    )
    .expect("opens");
    let started = std::time::Instant::now();
    let mut children: Vec<_> = (0..32)
        .map(|i| {
            let token = if i % 4 == 0 { &gone } else { &t };
            env.std_cmd()
                .args(["verify", "--wait", "0"])
                .env("VBX_TOKEN", token)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let codes: Vec<i32> = children
        .iter_mut()
        .map(|c| c.wait().expect("wait").code().expect("exited"))
        .collect();
    let elapsed = started.elapsed();
    assert_eq!(codes.iter().filter(|&&c| c == 0).count(), 24, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 1).count(), 8, "{codes:?}");
    // Not a timing assertion of speed, only that nobody waited out a lock (the wait was 0).
    assert!(elapsed < std::time::Duration::from_secs(30), "{elapsed:?}");
    // A command that needs the lock does wait, and says so.
    let out = env.run(&["list", "--wait", "0"]);
    assert_one_line_error(&out, 5);
    drop(held);
    // The uses were counted, and the failures logged, once the store is free.
    assert_eq!(env.record("t")["use_count"], 24);
    let failed = failures_counted(&failure_events(&env));
    assert_eq!(failed, 8);
}

#[test]
fn a_process_stopped_while_it_holds_the_journal_holds_no_command_past_wait() {
    let env = Env::new();
    let token = env.create("held");
    // A use in the journal, not folded yet: the next command folds it.
    assert_eq!(env.verify(&token, &[]).0, 0);
    let journal = env.store().join("journal");
    assert!(journal.is_file(), "a verify leaves its use in the journal");
    // A process holding the journal's lock, as a verify stopped mid-append would.
    let holder = LockHolder::new(&journal);
    let line = format!("{token}\n");
    let runs: [(&[&str], &str); 4] = [
        (&["--wait", "1", "list"], ""),
        (&["--wait", "1", "show", "held"], ""),
        (&["--wait", "1", "log"], ""),
        (&["--wait", "1", "revoke", "held", "--yes"], ""),
    ];
    let mut outs = Vec::new();
    for (args, stdin) in runs {
        let started = std::time::Instant::now();
        let out = env
            .cmd()
            .args(args)
            .write_stdin(stdin.to_owned())
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .expect("ran");
        outs.push((args, out, started.elapsed()));
    }
    // A verify needs no fold: it appends to a journal of its own (the held one was taken
    // for the fold), and is not held up. One held mid-append in that journal holds the next
    // verify up only --wait seconds.
    let valid = env.run_in(&["--wait", "1", "verify"], line.clone());
    assert_eq!(code(&valid), 0, "{}", stderr(&valid));
    let appender = LockHolder::new(&journal);
    let started = std::time::Instant::now();
    let verify = env.run_in(&["--wait", "1", "verify"], line.clone());
    outs.push((&["--wait", "1", "verify"][..], verify, started.elapsed()));
    drop((holder, appender));
    for (args, out, took) in outs {
        let err = assert_one_line_error(&out, 5);
        assert!(err.contains("busy"), "{args:?}: {err}");
        assert!(
            took < std::time::Duration::from_secs(10),
            "{args:?}: {took:?}"
        );
    }
    // Let go of, the store is as it was: the token still valid, its use counted.
    assert_eq!(env.verify(&token, &[]).0, 0);
    assert_eq!(env.record("held")["use_count"], 3);
}

/// Eight writers at once (eight admins, or eight hosts on a PostgreSQL store), each creating,
/// rotating and revoking: every command succeeds, every change is logged once, and the audit
/// chain is whole.
#[test]
fn eight_writers_creating_rotating_and_revoking_keep_the_chain_whole() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("seed");
        thread::scope(|s| {
            for p in 0..8 {
                let env = &env;
                s.spawn(move || {
                    let (a, b) = (format!("p{p}-a"), format!("p{p}-b"));
                    for args in [
                        vec!["create", "--name", &a, "-q"],
                        vec!["rotate", &a, "-q"],
                        vec!["create", "--name", &b, "-q"],
                        vec!["revoke", &b, "--yes"],
                        vec!["rotate", &a, "--grace", "1h", "-q"],
                    ] {
                        let out = env
                            .std_cmd()
                            .args(&args)
                            .env("VBX_TOKENS_WAIT", "120")
                            .output()
                            .expect("runs");
                        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
                    }
                });
            }
        });
        let out = env.run(&["log", "--check"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let log = env.json(&["log"]);
        assert_eq!(log.as_array().expect("events").len(), 1 + 8 * 5);
        assert_eq!(
            env.json(&["list"]).as_array().expect("records").len(),
            1 + 8 * 2
        );
    }
}
