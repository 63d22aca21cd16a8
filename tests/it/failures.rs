//! Failures cannot fill the disk (README, "Audit log"): failed verifies are counted per reason,
//! user and hour, with the ids of the tokens they were of and the addresses they came from, so
//! 100,000 of them in any order of reasons, tokens and addresses cost at most 64 bytes each,
//! while the journal holds them and once they are folded into the log; the chain covers the
//! counters.

use std::time::Duration;

use serde_json::Value;

use crate::common::*;

/// The bytes of every file in the store.
fn store_bytes(env: &Env) -> u64 {
    files_under(&env.store())
        .iter()
        .map(|p| std::fs::symlink_metadata(p).map_or(0, |m| m.len()))
        .sum()
}

fn hour(time: &Value) -> String {
    time.as_str().expect("a time")[..13].to_owned()
}

fn chain_whole(env: &Env) {
    let out = env.run(&["log", "--check"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// A store with a token of every failing kind that keeps its id: revoked, disabled, expired,
/// used up and address-bound; and the lines to verify, each kind by its token.
fn store_with_failing_tokens() -> (Env, Vec<(&'static str, String)>) {
    let env = Env::new();
    let revoked = env.create("revoked");
    env.ok(&["revoke", "revoked", "--yes"]);
    let disabled = env.create("disabled");
    env.ok(&["disable", "disabled"]);
    let spent =
        String::from_utf8(env.ok(&["create", "--name", "spent", "--max-uses", "1", "--quiet"]))
            .expect("utf-8")
            .trim()
            .to_owned();
    assert_eq!(env.verify(&spent, &[]).0, 0);
    let bound = String::from_utf8(env.ok(&[
        "create",
        "--name",
        "bound",
        "--allow-ip",
        "10.0.0.0/8",
        "--quiet",
    ]))
    .expect("utf-8")
    .trim()
    .to_owned();
    let expired = String::from_utf8(env.ok(&[
        "create",
        "--name",
        "expired",
        "--expires-in",
        "1s",
        "--quiet",
    ]))
    .expect("utf-8")
    .trim()
    .to_owned();
    std::thread::sleep(Duration::from_millis(2100));
    // Unknown: a well-formed token no store made (its checksum holds).
    let unknown = {
        let other = Env::new();
        other.create("elsewhere")
    };
    let kinds = vec![
        ("revoked", revoked),
        ("disabled", disabled),
        ("usage_exceeded", spent),
        ("forbidden", bound),
        ("expired", expired),
        ("unknown", unknown),
        ("malformed", "vbx_not-a-token".to_owned()),
        ("malformed", "garbage".to_owned()),
    ];
    (env, kinds)
}

/// Folds the journal: `log` reads the log, so it folds what waits (`list` leaves failures).
fn fold(env: &Env) {
    env.ok(&["log", "--limit", "1"]);
}

#[test]
fn a_hundred_thousand_failures_in_any_order_cost_under_64_bytes_each() {
    const N: u64 = 100_000;
    let (env, kinds) = store_with_failing_tokens();
    // Folds what the setup wrote, so what is measured is the failures alone.
    fold(&env);
    let before = store_bytes(&env);
    // Any order: a fixed pseudo-random one (an LCG), so a failure is reproducible.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut input = String::new();
    let mut want = std::collections::BTreeMap::<&str, u64>::new();
    for _ in 0..N {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let (reason, token) = &kinds[(state >> 33) as usize % kinds.len()];
        input.push_str(token);
        input.push('\n');
        *want.entry(reason).or_default() += 1;
    }
    let out = env.run_in(&["verify", "--batch"], input);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count() as u64, N);

    // While the journal holds them (no command has opened the database since).
    let held = store_bytes(&env) - before;
    assert!(
        held <= 64 * N,
        "{held} bytes in the journal for {N} failures"
    );
    // Once folded into the log.
    let events = failure_events(&env);
    let folded = store_bytes(&env).saturating_sub(before);
    assert!(folded <= 64 * N, "{folded} bytes for {N} failures");
    eprintln!(
        "{N} failures: {held} bytes in the journal ({:.1} a failure), {folded} once folded, {} events",
        held as f64 / N as f64,
        events.len()
    );

    // One counter per reason and token (malformed has two inputs and no token), per hour: a
    // run that crosses an hour has two of some.
    let hours: std::collections::BTreeSet<String> = events.iter().map(|e| hour(&e["at"])).collect();
    assert!(
        events.len() <= 7 * hours.len(),
        "{} events in {} hours",
        events.len(),
        hours.len()
    );
    let mut got = std::collections::BTreeMap::<&str, u64>::new();
    for e in &events {
        let reason = e["reason"].as_str().expect("reason");
        *got.entry(reason).or_default() += e["count"].as_u64().expect("count");
        // The ids of tokens that exist are kept: a revoked token still in use is news.
        let keeps_id = !matches!(reason, "unknown" | "malformed");
        assert_eq!(e["tokens"].is_object(), keeps_id, "{e}");
        if keeps_id {
            let counted: u64 = e["tokens"]
                .as_object()
                .expect("tokens")
                .values()
                .map(|n| n.as_u64().expect("a count"))
                .sum();
            assert_eq!(counted, e["count"].as_u64().expect("count"), "{e}");
        }
        assert_eq!(hour(&e["at"]), hour(&e["last_at"]), "one hour: {e}");
        assert!(e["at"].as_str() <= e["last_at"].as_str(), "{e}");
    }
    assert_eq!(got, want);
    chain_whole(&env);
}

#[test]
fn folds_between_failures_add_to_the_counters_at_the_end() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("t");
        env.ok(&["revoke", "t", "--yes"]);
        // A fold after every failure, alternating reasons: still one counter for each.
        for i in 0..24 {
            if i % 2 == 0 {
                env.verify(&t, &[]);
            } else {
                env.verify("garbage", &[]);
            }
            fold(&env);
        }
        let events = failure_events(&env);
        let hours: std::collections::BTreeSet<String> =
            events.iter().map(|e| hour(&e["at"])).collect();
        assert!(events.len() <= 2 * hours.len(), "{events:#?}");
        let total = failures_counted(&events);
        assert_eq!(total, 24);
        chain_whole(&env);

        // The table shows the counters with their counts.
        let text = stdout(&env.run(&["log"]));
        assert!(
            text.lines()
                .any(|l| l.contains("verify_failed") && l.contains("revoked; x12")),
            "{text}"
        );
    }
}

#[test]
fn another_event_between_failures_starts_new_counters() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("a");
        env.verify("garbage", &[]);
        env.verify("garbage", &[]);
        fold(&env);
        env.create("b");
        env.verify("garbage", &[]);
        fold(&env);
        env.verify("garbage", &[]);
        let log = env.json(&["log"]);
        let shape: Vec<(String, u64)> = log
            .as_array()
            .expect("array")
            .iter()
            .map(|e| {
                (
                    e["event"].as_str().expect("event").to_owned(),
                    e["count"].as_u64().expect("count"),
                )
            })
            .collect();
        // What happened in between stays where it happened: the log is not reordered.
        let failed = |n| ("verify_failed".to_owned(), n);
        let created = ("created".to_owned(), 1);
        let hours: std::collections::BTreeSet<String> = failure_events(&env)
            .iter()
            .map(|e| hour(&e["at"]))
            .collect();
        if hours.len() == 1 {
            assert_eq!(shape, [created.clone(), failed(2), created, failed(2)]);
        }
        chain_whole(&env);
    }
}

#[test]
fn verify_json_and_exit_status_are_the_same_whatever_the_counters() {
    // Counting changes what is kept, never the verdict.
    let env = Env::new();
    let t = env.create("t");
    env.ok(&["revoke", "t", "--yes"]);
    for _ in 0..3 {
        let (status, v) = env.verify(&t, &[]);
        assert_eq!(status, 1);
        assert_eq!(v["reason"], "revoked");
    }
    let events = failure_events(&env);
    let total = failures_counted(&events);
    assert_eq!(total, 3);
    // Two only if the hour turned between them.
    assert!(events.len() <= 2, "{events:#?}");
    let id = env.record("t")["id"].as_str().expect("id").to_owned();
    assert!(
        events.iter().all(|e| e["tokens"][&id].is_u64()),
        "{events:#?}"
    );
    // The table names the token as it is now.
    let text = stdout(&env.run(&["log"]));
    let row = text
        .lines()
        .find(|l| l.contains("verify_failed"))
        .expect("a row");
    assert!(row.contains(&id) && row.contains(" t "), "{text}");
}

#[test]
fn single_failed_verifies_cost_under_64_bytes_each_in_the_journal() {
    // One process per failure (a cron or a server calling verify each time): each is one
    // journal entry until a fold, whatever the reason.
    const N: u64 = 300;
    let (env, kinds) = store_with_failing_tokens();
    fold(&env);
    let before = store_bytes(&env);
    for i in 0..N {
        let (_, token) = &kinds[i as usize % kinds.len()];
        assert_eq!(env.verify(token, &[]).0, 1);
    }
    let held = store_bytes(&env) - before;
    eprintln!("{N} single failures: {held} bytes in the journal");
    assert!(held <= 64 * N, "{held} bytes for {N} failures");
    let total = failures_counted(&failure_events(&env));
    assert_eq!(total, N);
    chain_whole(&env);
}

#[test]
fn a_counter_keeps_sixteen_addresses_and_counts_failures_from_the_rest() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("crm");
        env.ok(&["revoke", "crm", "--yes"]);
        for i in 0..24 {
            let ip = format!("192.0.2.{i}");
            assert_eq!(env.verify(&t, &["--ip", &ip]).0, 1);
        }
        let events = failure_events(&env);
        let hours: std::collections::BTreeSet<String> =
            events.iter().map(|e| hour(&e["at"])).collect();
        if hours.len() == 1 {
            assert_eq!(events.len(), 1, "{events:#?}");
            let ips: Vec<&str> = events[0]["ips"]
                .as_array()
                .expect("ips")
                .iter()
                .map(|ip| ip.as_str().expect("an address"))
                .collect();
            let want: Vec<String> = (0..16).map(|i| format!("192.0.2.{i}")).collect();
            assert_eq!(ips, want, "first seen first");
            assert_eq!(events[0]["count"], 24);
            assert_eq!(events[0]["detail"], "and from further addresses");
        }
        let total = failures_counted(&events);
        assert_eq!(total, 24);
        let id = env.record("crm")["id"].as_str().expect("id").to_owned();
        assert!(events.iter().all(|e| e["tokens"][&id].is_u64()));
        let text = stdout(&env.run(&["log"]));
        assert!(
            text.contains("from 192.0.2.0, 192.0.2.1, 192.0.2.2, 13 more"),
            "{text}"
        );
        chain_whole(&env);
    }
}

/// What the last attack found: each failure a new pair of a revoked token and an address (400
/// tokens, 16 addresses each) wrote a counter of its own, 869 bytes a failure (here: 200 tokens,
/// 64 addresses). A counter now
/// holds many tokens and addresses: whatever pairs come, a failure adds at most an id and an
/// address to one.
#[test]
fn failures_of_many_tokens_from_many_addresses_cost_under_64_bytes_each() {
    // Enough failures that the sled segments a fold may start (512 KiB) are a small part.
    const TOKENS: usize = 200;
    const ADDRESSES: usize = 64;
    let env = Env::new();
    let tokens: Vec<String> = (0..TOKENS).map(|i| env.create(&format!("rv{i}"))).collect();
    // Never used, and each made more than a second ago (times are whole seconds): each is
    // revoked.
    std::thread::sleep(Duration::from_millis(2100));
    let out = env.run(&["revoke", "--unused-for", "1s", "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(env.json(&["list"]).as_array().map(Vec::len), Some(0));
    fold(&env);
    let before = store_bytes(&env);
    let mut input = String::new();
    let mut n = 0u64;
    for a in 0..ADDRESSES {
        for t in &tokens {
            input.push_str(t);
            input.push('\n');
            n += 1;
        }
        // One batch per address: `--ip` applies to a batch's every line.
        let out = env.run_in(
            &[
                "verify",
                "--batch",
                "--ip",
                &format!("2001:db8:ffff:ffff:ffff:ffff:ffff:{a:x}"),
            ],
            std::mem::take(&mut input),
        );
        assert_eq!(code(&out), 1, "{}", stderr(&out));
    }
    fold(&env);
    let grown = store_bytes(&env).saturating_sub(before);
    let events = failure_events(&env);
    eprintln!(
        "{n} failures of {TOKENS} tokens from {ADDRESSES} addresses: {grown} bytes ({:.1} a failure), {} events",
        grown as f64 / n as f64,
        events.len()
    );
    assert!(grown <= 64 * n, "{grown} bytes for {n} failures");
    assert_eq!(failures_counted(&events), n);
    chain_whole(&env);
}

/// `list`, `show` and `export` read the records alone: failures waiting in the journal, with no
/// use among them, stay there (no write for a `list` run after every failure); `log` folds
/// them, every one counted, and a use waiting makes `list` fold everything.
#[test]
fn commands_that_read_records_alone_leave_failures_to_the_log() {
    let env = Env::new();
    let t = env.create("t");
    env.ok(&["revoke", "t", "--yes"]);
    fold(&env);
    let journal = env.store().join("journal");
    for i in 1..=40u64 {
        assert_eq!(env.verify(&t, &[]).0, 1);
        let args: &[&str] = match i % 3 {
            0 => &["list", "--all"],
            1 => &["show", "t"],
            _ => &["export"],
        };
        env.ok(args);
        let waiting = std::fs::metadata(&journal)
            .expect("the journal waits")
            .len();
        assert!(waiting <= 64 + 64 * i, "{waiting} bytes for {i} failures");
    }
    let log = env.json(&["log"]);
    let counted: u64 = log
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["event"] == "verify_failed")
        .map(|e| e["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(counted, 40);
    assert!(!journal.exists(), "log folded the journal");
    chain_whole(&env);

    // A use waiting: `list` folds it, and the failures with it, so the count is right at once.
    let u = env.create("u");
    assert_eq!(env.verify("junk", &[]).0, 1);
    assert_eq!(env.verify(&u, &[]).0, 0);
    assert_eq!(env.json(&["show", "u"])["use_count"], 1);
    assert!(!journal.exists(), "show folded a journal with a use in it");
}

#[test]
fn a_host_that_only_verifies_folds_the_journal_once_it_passes_the_bound() {
    use vbx_tokens::journal::{self, Entry, EntryKind};
    // Failures from a long user name and IPv6 addresses (81 bytes an entry), past 128 KiB of
    // them, with no command but verify ever opening the store.
    let (env, kinds) = store_with_failing_tokens();
    fold(&env);
    let id = vbx_tokens::store::read_marker_id(&env.store()).expect("marker");
    let now = vbx_tokens::time::Time::now();
    let (name, token) = &kinds[0];
    let token_id = env.record(name)["id"].as_str().expect("an id").to_owned();
    let entries: Vec<Entry> = (0..2_000u32)
        .map(|i| Entry {
            kind: EntryKind::Failure,
            count: 1,
            reason: 5,
            at: now,
            token_id: Some(token_id.clone()),
            actor: "u".repeat(32),
            ip: Some(std::net::IpAddr::V6(std::net::Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16,
            ))),
        })
        .collect();
    journal::append(&env.store(), id, &entries, Duration::from_secs(5)).expect("appends");
    let journal = env.store().join("journal");
    let waiting = std::fs::metadata(&journal).expect("a journal").len();
    assert!(waiting > 128 * 1024, "{waiting}");
    assert_eq!(env.verify(token, &[]).0, 1);
    let left = std::fs::metadata(&journal).map_or(0, |m| m.len());
    assert!(left < 1024, "folded by the verify: {left} bytes left");
    assert_eq!(failures_counted(&failure_events(&env)), 2_001);
    chain_whole(&env);
}
