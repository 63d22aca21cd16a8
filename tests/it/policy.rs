//! Token policy: each verify reason, the review filters, rotation, use limits under
//! concurrency, suspension, expiry changes and bulk revokes.

use std::process::Stdio;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

/// Imports one record given as JSON (with a fresh plaintext token) and returns the token.
#[track_caller]
fn import_one(env: &Env, mut record: Value) -> String {
    let token = vbx_tokens::Token::generate().expose().to_owned();
    record["token"] = json!(token);
    let out = env.run_in(&["import", "-"], format!("{record}\n"));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    token
}

#[track_caller]
fn create(env: &Env, name: &str, flags: &[&str]) -> String {
    let out = env.ok(&[&["create", "--name", name, "-q"][..], flags].concat());
    String::from_utf8(out).expect("utf-8").trim().to_owned()
}

#[track_caller]
fn reason(env: &Env, token: &str, extra: &[&str]) -> (i32, String) {
    let (code, v) = env.verify(token, extra);
    assert_eq!(v["valid"], code == 0, "{v}");
    (code, v["reason"].as_str().expect("reason").to_owned())
}

#[test]
fn every_verify_reason_with_its_exit_code_and_json() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let valid = create(&env, "valid", &[]);
        let revoked = create(&env, "revoked", &[]);
        env.ok(&["revoke", "revoked", "--yes"]);
        let expired = import_one(
            &env,
            json!({"name": "expired", "expires_at": "2021-01-01T00:00:00Z"}),
        );
        let disabled = create(&env, "disabled", &[]);
        env.ok(&["disable", "disabled"]);
        let limited = create(&env, "limited", &["--max-uses", "1"]);
        let scoped = create(&env, "scoped", &["--scope", "invoices:read"]);
        let fenced = create(&env, "fenced", &["--allow-ip", "203.0.113.0/24"]);
        let stranger = vbx_tokens::Token::generate().expose().to_owned();

        assert_eq!(reason(&env, &valid, &[]), (0, "valid".into()));
        assert_eq!(reason(&env, &stranger, &[]), (1, "unknown".into()));
        assert_eq!(reason(&env, "vbx_nope", &[]), (1, "malformed".into()));
        assert_eq!(reason(&env, &revoked, &[]), (1, "revoked".into()));
        assert_eq!(reason(&env, &expired, &[]), (1, "expired".into()));
        assert_eq!(reason(&env, &disabled, &[]), (1, "disabled".into()));
        assert_eq!(reason(&env, &limited, &[]), (0, "valid".into()));
        assert_eq!(reason(&env, &limited, &[]), (1, "usage_exceeded".into()));
        let read = ["--scope", "invoices:read"];
        let write = ["--scope", "invoices:write"];
        assert_eq!(reason(&env, &scoped, &read), (0, "valid".into()));
        assert_eq!(reason(&env, &scoped, &[]), (0, "valid".into()));
        assert_eq!(
            reason(&env, &scoped, &[&read[..], &write].concat()),
            (1, "insufficient_scope".into())
        );
        // No scopes is full access.
        assert_eq!(reason(&env, &valid, &write), (0, "valid".into()));
        assert_eq!(reason(&env, &fenced, &[]), (1, "forbidden".into()));
        assert_eq!(
            reason(&env, &fenced, &["--ip", "192.0.2.1"]),
            (1, "forbidden".into())
        );
        assert_eq!(
            reason(&env, &fenced, &["--ip", "203.0.113.77"]),
            (0, "valid".into())
        );
        assert_eq!(
            reason(&env, &fenced, &["--ip", "::ffff:203.0.113.78"]),
            (0, "valid".into())
        );

        // The text form names the reason too, and every failure reaches the log with its reason.
        let out = env.run_in(&["verify"], format!("{disabled}\n"));
        assert_eq!(code(&out), 1);
        assert!(
            stdout(&out).contains("invalid (disabled)"),
            "{}",
            stdout(&out)
        );
        let log = env.json(&["log"]);
        let reasons: Vec<&str> = log
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["event"] == "verify_failed")
            .filter_map(|e| e["reason"].as_str())
            .collect();
        for r in [
            "unknown",
            "malformed",
            "revoked",
            "expired",
            "disabled",
            "usage_exceeded",
            "insufficient_scope",
            "forbidden",
        ] {
            assert!(reasons.contains(&r), "{r} missing from {reasons:?}");
        }
        // The same through --batch: one verdict a line, in order.
        let input = format!("{valid}\n{expired}\n{fenced}\n");
        let out = env.run_in(&["verify", "--batch", "--ip", "203.0.113.1"], input);
        assert_eq!(code(&out), 1);
        let got: Vec<String> = stdout(&out)
            .lines()
            .map(|l| parse(l.as_bytes())["reason"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, ["valid", "expired", "valid"]);
    }
}

#[test]
fn an_expiry_takes_effect_on_time_and_shows_in_list_and_show() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = create(&env, "brief", &["--expires-in", "2s"]);
        let r = env.record("brief");
        assert_eq!(r["status"], "active");
        assert!(r["expires_at"].is_string());
        assert_eq!(reason(&env, &t, &[]), (0, "valid".into()));
        thread::sleep(Duration::from_secs(3));
        assert_eq!(reason(&env, &t, &[]), (1, "expired".into()));
        assert_eq!(env.record("brief")["status"], "expired");
        let table = stdout(&env.run(&["list"]));
        assert!(table.contains("expired"), "{table}");
        // Extending brings it back.
        env.ok(&["extend", "brief", "--expires-in", "1h"]);
        assert_eq!(reason(&env, &t, &[]), (0, "valid".into()));
        assert_eq!(env.record("brief")["status"], "active");
    }
}

#[test]
fn bad_policy_input_is_a_usage_error_and_changes_nothing() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        for flags in [
            &["--expires-in", "0d"][..],
            &["--expires-in", "-3d"],
            &["--expires-in", "soon"],
            &["--expires-at", "2020-01-01T00:00:00Z"],
            &["--expires-at", "tomorrow"],
            &["--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"],
            &["--expires-in", "99999y"],
            &["--scope", "Invoices"],
            &["--scope", "a:b:c"],
            &["--scope", ""],
            &["--allow-ip", "10.0.0.1/8"],
            &["--allow-ip", "10.0.0.0/33"],
            &["--allow-ip", "example.com"],
            &["--max-uses", "0"],
            &["--max-uses", "-1"],
        ] {
            let out = env.run(&[&["create", "--name", "x"][..], flags].concat());
            assert_one_line_error(&out, 2);
        }
        let out = env.run(&["create", "--name", "x", "--allow-ip", "10.0.0.1/8"]);
        assert!(stderr(&out).contains("10.0.0.0/8"), "{}", stderr(&out));
        assert!(!env.store().exists(), "nothing was created");

        let t = env.create("ok");
        for flags in [
            &["--ip", "10.0.0.0/8"][..],
            &["--ip", "nowhere"],
            &["--scope", "BAD"],
        ] {
            let out = env.run_in(&[&["verify"][..], flags].concat(), format!("{t}\n"));
            assert_one_line_error(&out, 2);
        }
        for args in [
            &["extend", "ok"][..],
            &["extend", "ok", "--expires-in", "0s"],
            &["extend", "ok", "--expires-at", "2001-01-01T00:00:00Z"],
            &["rotate", "ok", "--grace", "0s"],
            &["list", "--unused-for", "x"],
            &["list", "--status", "gone"],
            &["revoke"],
            &["revoke", "ok", "--unused-for", "1d"],
            &["revoke", "--dry-run", "ok"],
        ] {
            assert_one_line_error(&env.run(args), 2);
        }
        assert_eq!(env.record("ok")["expires_at"], Value::Null);
        assert_eq!(env.record("ok")["status"], "active");
    }
}

#[test]
fn exactly_max_uses_valid_answers_from_32_processes_at_once() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = create(&env, "ten", &["--max-uses", "10"]);
        let valid: usize = thread::scope(|s| {
            let workers: Vec<_> = (0..32)
                .map(|_| {
                    let (env, t) = (&env, &t);
                    s.spawn(move || {
                        let out = env
                            .std_cmd()
                            .arg("verify")
                            .env("VBX_TOKEN", t)
                            .stdout(Stdio::null())
                            .output()
                            .expect("runs");
                        let c = out.status.code().expect("exited");
                        assert!(c == 0 || c == 1, "exit {c}: {}", stderr(&out));
                        usize::from(c == 0)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().expect("worker")).sum()
        });
        assert_eq!(valid, 10);
        let r = env.record("ten");
        assert_eq!(r["use_count"], 10);
        assert_eq!(
            reason(&env, &t, &["--no-touch"]),
            (1, "usage_exceeded".into())
        );
    }
}

#[test]
fn a_batch_counts_a_limited_token_to_its_limit_and_each_refusal_once() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let limited = create(&env, "three", &["--max-uses", "3"]);
        let open = create(&env, "open", &[]);
        let scoped = create(&env, "scoped", &["--scope", "orders"]);
        let off = create(&env, "off", &[]);
        env.ok(&["disable", "off"]);
        // The limited token five times among the others: the first three lines take its
        // uses, as five verifies one after another would.
        let lines = [
            &limited, &open, &limited, &scoped, &limited, &off, &limited, &open, &limited,
        ];
        let input: String = lines.iter().map(|t| format!("{t}\n")).collect();
        let out = env.run_in(&["verify", "--batch", "--scope", "invoices"], input);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        let reasons: Vec<String> = String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(|l| {
                parse(l.as_bytes())["reason"]
                    .as_str()
                    .expect("reason")
                    .to_owned()
            })
            .collect();
        assert_eq!(
            reasons,
            [
                "valid",
                "valid",
                "valid",
                "insufficient_scope",
                "valid",
                "disabled",
                "usage_exceeded",
                "valid",
                "usage_exceeded"
            ]
        );
        assert_eq!(env.record("three")["use_count"], 3);
        assert_eq!(env.record("open")["use_count"], 2);
        assert_eq!(
            env.record("scoped")["use_count"],
            0,
            "a refusal takes no use"
        );
        // Each refusal counted once, under its reason and token, when the next write folds.
        env.create("after");
        let events = failure_events(&env);
        assert_eq!(failures_counted(&events), 4, "{events:?}");
        assert_eq!(
            crate::common::failures_of(&events, "usage_exceeded"),
            2,
            "{events:?}"
        );
        assert_eq!(
            crate::common::failures_of(&events, "insufficient_scope"),
            1,
            "{events:?}"
        );
        assert_eq!(
            crate::common::failures_of(&events, "disabled"),
            1,
            "{events:?}"
        );
    }
}

#[test]
fn restore_over_a_store_keeps_its_spent_limited_uses_and_the_backups_other_counts() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let plain = create(&env, "plain", &[]);
        let limited = create(&env, "limited", &["--max-uses", "5"]);
        let file = env.tmp.path().join("before.bak");
        let file = file.to_str().expect("UTF-8");
        env.ok(&["backup", file]);
        for _ in 0..3 {
            assert_eq!(env.verify(&plain, &[]).0, 0);
            assert_eq!(env.verify(&limited, &[]).0, 0);
        }
        env.ok(&["restore", file, "--yes", "--force"]);
        // A limit's uses never come back; an unlimited token's count is the backup's, on
        // either engine.
        assert_eq!(env.record("limited")["use_count"], 3);
        assert_eq!(env.record("plain")["use_count"], 0);
    }
}

#[test]
fn spent_uses_survive_export_and_import() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = import_one(
            &env,
            json!({"name": "spent", "max_uses": 3, "use_count": 2}),
        );
        assert_eq!(reason(&env, &t, &[]), (0, "valid".into()));
        assert_eq!(reason(&env, &t, &[]), (1, "usage_exceeded".into()));
        let export = env.ok(&["export"]);
        let other = Env::new();
        let out = other.run_in(&["import", "-"], export);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(reason(&other, &t, &[]), (1, "usage_exceeded".into()));
        let r = other.record("spent");
        assert_eq!(
            (r["max_uses"].clone(), r["use_count"].clone()),
            (json!(3), json!(3))
        );
    }
}

#[test]
fn a_use_with_an_address_is_recorded_as_last_used_ip() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = create(
            &env,
            "pos",
            &["--allow-ip", "2001:db8::/32", "--allow-ip", "10.0.0.0/8"],
        );
        assert_eq!(
            reason(&env, &t, &["--ip", "2001:db8::7"]),
            (0, "valid".into())
        );
        assert_eq!(env.record("pos")["last_used_ip"], "2001:db8::7");
        assert_eq!(reason(&env, &t, &["--ip", "10.2.3.4"]), (0, "valid".into()));
        let list = env.json(&["list"]);
        assert_eq!(list[0]["last_used_ip"], "10.2.3.4");
        assert_eq!(list[0]["allow_ip"], json!(["10.0.0.0/8", "2001:db8::/32"]));
        // An unrestricted token records the address too, and a use without one leaves it.
        let u = env.create("open");
        assert_eq!(
            reason(&env, &u, &["--ip", "198.51.100.4"]),
            (0, "valid".into())
        );
        assert_eq!(reason(&env, &u, &[]), (0, "valid".into()));
        let r = env.record("open");
        assert_eq!(
            (r["last_used_ip"].clone(), r["use_count"].clone()),
            (json!("198.51.100.4"), json!(2))
        );
        assert!(stdout(&env.run(&["show", "open"])).contains("198.51.100.4"));
    }
}

#[test]
fn disable_and_enable_suspend_without_revoking_and_are_logged() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("crm");
        let v = env.json(&["disable", "crm"]);
        assert_eq!(v["status"], "disabled");
        assert!(v["disabled_at"].is_string());
        assert_eq!(reason(&env, &t, &[]), (1, "disabled".into()));
        // Twice is fine and changes nothing.
        assert!(stderr(&env.run(&["disable", "crm"])).contains("already"));
        env.ok(&["enable", "crm"]);
        assert_eq!(reason(&env, &t, &[]), (0, "valid".into()));
        env.ok(&["revoke", "crm", "--yes"]);
        assert_one_line_error(&env.run(&["enable", "crm"]), 2);
        let events: Vec<String> = env
            .json(&["log", "--token", "crm"])
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            events,
            ["created", "disabled", "verify_failed", "enabled", "revoked"]
        );
    }
}

#[test]
fn rotate_without_grace_revokes_the_old_token_in_the_same_commit() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let old = create(
            &env,
            "erp",
            &[
                "--scope",
                "orders",
                "--scope",
                "invoices:read",
                "--expires-in",
                "30d",
                "--max-uses",
                "50",
            ],
        );
        env.ok(&["extend", "erp", "--expires-in", "40d"]);
        let old_id = env.record("erp")["id"].as_str().unwrap().to_owned();
        let v = env.json(&["rotate", "erp"]);
        assert_eq!(v["replaces"], old_id.as_str());
        assert_eq!(v["name"], "erp");
        assert!(v.get("grace_until").is_none());
        let new = v["token"].as_str().unwrap().to_owned();
        let new_id = v["id"].as_str().unwrap().to_owned();
        assert_eq!(reason(&env, &old, &[]), (1, "revoked".into()));
        assert_eq!(
            reason(&env, &new, &["--scope", "orders"]),
            (0, "valid".into())
        );
        let r = env.record("erp");
        assert_eq!(r["id"], new_id.as_str());
        assert_eq!(r["scopes"], json!(["invoices:read", "orders"]));
        assert_eq!(r["max_uses"], 50);
        // The same life from now: 40 days, give or take the test's seconds.
        let created = r["created_at"].as_str().unwrap();
        let expires = r["expires_at"].as_str().unwrap();
        let days = |s: &str| s[..10].to_owned();
        assert!(days(expires) > days(created), "{created} {expires}");
        assert_eq!(r["predecessors"], json!([old_id]));
        let old_r = env.record(&old_id);
        assert_eq!(old_r["status"], "revoked");
        assert_eq!(old_r["replaced_by"], new_id.as_str());
        assert_eq!(old_r["successors"], json!([new_id]));
        // The log names both.
        let log = env.json(&["log"]);
        let rotated: Vec<&Value> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "rotated")
            .collect();
        assert_eq!(rotated.len(), 1);
        assert_eq!(rotated[0]["token_id"], new_id.as_str());
        assert_eq!(rotated[0]["replaces"], old_id.as_str());
        for id in [&old_id, &new_id] {
            let events = env.json(&["log", "--token", id]);
            assert!(
                events
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["event"] == "rotated"),
                "log --token {id}: {events}"
            );
        }
        // Rotating the old one again is refused; rotating the new one extends the chain.
        assert_one_line_error(&env.run(&["rotate", &old_id]), 2);
        let third = env.json(&["rotate", "erp"]);
        let chain = env.record(third["id"].as_str().unwrap());
        assert_eq!(chain["predecessors"], json!([old_id, new_id]));
        assert_eq!(
            env.record(&old_id)["successors"],
            json!([new_id, third["id"]])
        );
        // -q prints the token alone.
        let quiet = env.ok(&["rotate", "erp", "-q"]);
        let quiet = String::from_utf8(quiet).unwrap();
        assert_eq!(quiet.lines().count(), 1);
        assert_eq!(
            reason(&env, quiet.trim(), &["--scope", "orders"]).1,
            "valid"
        );
    }
}

#[test]
fn rotate_with_grace_keeps_the_old_token_until_the_grace_ends() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let old = env.create("pos");
        let v = env.json(&["rotate", "pos", "--grace", "3s"]);
        let new = v["token"].as_str().unwrap().to_owned();
        let old_id = v["replaces"].as_str().unwrap().to_owned();
        assert!(v["grace_until"].is_string());
        assert_eq!(reason(&env, &old, &["--no-touch"]), (0, "valid".into()));
        assert_eq!(reason(&env, &new, &["--no-touch"]), (0, "valid".into()));
        let r = env.record(&old_id);
        assert_eq!(r["status"], "active");
        assert_eq!(r["grace_until"], v["grace_until"]);
        assert_eq!(r["revoked_at"], v["grace_until"]);
        // It lists as active (it still verifies), and the name belongs to the new token.
        assert_eq!(env.record("pos")["id"], v["id"]);
        thread::sleep(Duration::from_secs(4));
        assert_eq!(reason(&env, &old, &[]), (1, "revoked".into()));
        assert_eq!(env.record(&old_id)["status"], "revoked");
        assert_eq!(reason(&env, &new, &[]), (0, "valid".into()));
    }
}

/// A grace keeps an old token verifying only if it still would: rotating a disabled one with a
/// grace says it does not verify, rather than "still verifies until".
#[test]
fn rotate_with_grace_of_a_token_that_does_not_verify_says_so() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("live");
        let off = env.create("off");
        env.ok(&["disable", "off"]);
        let out = env.run(&["rotate", "live", "--grace", "1h"]);
        assert!(
            stderr(&out).contains("still verifies until"),
            "{}",
            stderr(&out)
        );
        let out = env.run(&["rotate", "off", "--grace", "1h"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let said = stderr(&out);
        assert!(said.contains("does not verify (it is disabled)"), "{said}");
        assert!(!said.contains("still verifies"), "{said}");
        assert_eq!(reason(&env, &off, &["--no-touch"]).0, 1);
        assert_eq!(reason(&env, &live, &["--no-touch"]).0, 0);
    }
}

#[test]
fn revoking_a_token_in_its_grace_ends_the_grace_now() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let old = env.create("pos");
        let v = env.json(&["rotate", "pos", "--grace", "1h"]);
        let old_id = v["replaces"].as_str().unwrap();
        env.ok(&["revoke", old_id, "--yes"]);
        assert_eq!(reason(&env, &old, &[]), (1, "revoked".into()));
        assert_eq!(env.record(old_id)["grace_until"], Value::Null);
    }
}

/// A store with tokens of known ages: `fresh` (made now), `idle` (made 200 days ago, never
/// used), `stale` (last used 100 days ago), `busy` (used yesterday), `soon` (expires in 5
/// days), `later` (expires in 60 days), `gone` (revoked, idle), `off` (disabled).
fn review_store() -> Env {
    let env = Env::new();
    let days_ago = |d: i64| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            - d * 86_400;
        jiff::Timestamp::from_second(t).unwrap().to_string()
    };
    let in_days = |d: i64| days_ago(-d);
    let lines = [
        json!({"name": "idle", "created_at": days_ago(200)}),
        json!({"name": "stale", "created_at": days_ago(300), "last_used_at": days_ago(100), "use_count": 4}),
        json!({"name": "busy", "created_at": days_ago(300), "last_used_at": days_ago(1), "use_count": 9}),
        json!({"name": "soon", "created_at": days_ago(1), "expires_at": in_days(5)}),
        json!({"name": "later", "created_at": days_ago(1), "expires_at": in_days(60)}),
        json!({"name": "gone", "created_at": days_ago(200), "status": "revoked"}),
        json!({"name": "off", "created_at": days_ago(2), "disabled": true}),
        json!({"name": "lapsed", "created_at": days_ago(200), "expires_at": days_ago(10)}),
    ];
    for l in lines {
        import_one(&env, l);
    }
    env.create("fresh");
    env
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn list_filters_pick_exactly_and_combine() {
    let env = review_store();
    let list = |args: &[&str]| names(&env.json(&[&["list"][..], args].concat()));
    assert_eq!(
        list(&[]),
        [
            "busy", "fresh", "idle", "lapsed", "later", "off", "soon", "stale"
        ]
    );
    assert_eq!(list(&["--all"]).len(), 9);
    assert_eq!(list(&["--status", "revoked"]), ["gone"]);
    assert_eq!(list(&["--status", "expired"]), ["lapsed"]);
    assert_eq!(list(&["--status", "disabled"]), ["off"]);
    assert_eq!(
        list(&["--status", "active"]),
        ["busy", "fresh", "idle", "later", "soon", "stale"]
    );
    assert_eq!(
        list(&["--status", "expired", "--status", "disabled"]),
        ["lapsed", "off"]
    );
    assert_eq!(list(&["--unused-for", "90d"]), ["idle", "lapsed", "stale"]);
    assert_eq!(
        list(&["--unused-for", "90d", "--all"]),
        ["gone", "idle", "lapsed", "stale"]
    );
    assert_eq!(list(&["--unused-for", "150d"]), ["idle", "lapsed"]);
    assert_eq!(
        list(&["--unused-for", "2w", "--status", "active"]),
        ["idle", "stale"]
    );
    assert_eq!(list(&["--expiring-within", "14d"]), ["soon"]);
    assert_eq!(list(&["--expiring-within", "90d"]), ["later", "soon"]);
    assert_eq!(
        list(&["--expiring-within", "90d", "--unused-for", "2d"]),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&["--expiring-within", "90d", "--unused-for", "12h"]),
        ["later", "soon"]
    );
    assert_eq!(list(&["--expiring-within", "1d"]), Vec::<String>::new());

    // --fail-if-any: exit 1 with matches (still printed), 0 without.
    let out = env.run(&["list", "--expiring-within", "14d", "--fail-if-any"]);
    assert_eq!(code(&out), 1);
    assert!(stdout(&out).contains("soon"));
    let out = env.run(&[
        "list",
        "--expiring-within",
        "14d",
        "--fail-if-any",
        "--json",
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(names(&parse(&out.stdout)), ["soon"]);
    let out = env.run(&["list", "--expiring-within", "1d", "--fail-if-any"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn revoke_unused_for_lists_asks_and_revokes_every_match_in_one_commit() {
    let env = review_store();
    let before = env.snapshot();
    let out = env.run(&["revoke", "--unused-for", "90d", "--dry-run", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = parse(&out.stdout);
    assert_eq!(v["dry_run"], true);
    assert_eq!(names(&v["revoked"]), ["idle", "lapsed", "stale"]);
    assert_eq!(env.snapshot(), before, "a dry run changes nothing");
    // Not in a terminal, without --yes: refused, nothing changed.
    assert_one_line_error(&env.run(&["revoke", "--unused-for", "90d"]), 2);
    assert_eq!(env.snapshot(), before);

    let v = env.json(&["revoke", "--unused-for", "90d", "--yes"]);
    assert_eq!(v["dry_run"], false);
    assert_eq!(names(&v["revoked"]), ["idle", "lapsed", "stale"]);
    assert_eq!(
        names(&env.json(&["list", "--status", "revoked"])),
        ["gone", "idle", "lapsed", "stale"]
    );
    let revoked: Vec<Value> = env
        .json(&["log"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "revoked")
        .cloned()
        .collect();
    assert_eq!(revoked.len(), 3);
    assert!(
        revoked.iter().all(|e| e["detail"] == "unused for 90d"),
        "{revoked:?}"
    );
    // Nothing left to revoke: says so, exit 0.
    let out = env.run(&["revoke", "--unused-for", "90d", "--yes"]);
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("nothing to revoke"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_token_in_a_damaged_index_is_still_judged_by_its_policy() {
    // The slow path (no usable index) applies the same rules.
    let env = Env::new();
    let t = create(
        &env,
        "fenced",
        &["--allow-ip", "10.0.0.0/8", "--max-uses", "1"],
    );
    std::fs::remove_file(env.store().join("index")).expect("index");
    assert_eq!(reason(&env, &t, &[]), (1, "forbidden".into()));
    std::fs::write(env.store().join("index"), b"garbage").expect("write");
    assert_eq!(reason(&env, &t, &["--ip", "10.0.0.1"]), (0, "valid".into()));
    assert_eq!(
        reason(&env, &t, &["--ip", "10.0.0.1"]),
        (1, "usage_exceeded".into())
    );
}

#[test]
fn revoking_a_name_ends_the_grace_of_the_tokens_it_replaced() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let old = env.create("g");
        let v = env.json(&["rotate", "g", "--grace", "1h"]);
        let new = v["token"].as_str().unwrap().to_owned();
        env.ok(&["revoke", "g", "--yes"]);
        assert_eq!(reason(&env, &new, &[]), (1, "revoked".into()));
        assert_eq!(
            reason(&env, &old, &[]),
            (1, "revoked".into()),
            "the old one goes too"
        );
        // So no two tokens of one name verify.
        env.create("g");
        assert_eq!(names(&env.json(&["list"])), ["g"]);
        // A grace of more than a year is no rotation.
        assert_one_line_error(&env.run(&["rotate", "g", "--grace", "2y"]), 2);
    }
}

#[test]
fn revoke_unused_for_picks_what_list_unused_for_picks_grace_included() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        import_one(
            &env,
            json!({"name": "old", "created_at": "2025-01-01T00:00:00Z"}),
        );
        env.ok(&["rotate", "old", "--grace", "30d", "-q"]);
        let listed = names(&env.json(&["list", "--unused-for", "30d"]));
        assert_eq!(listed, ["old"]);
        let v = env.json(&["revoke", "--unused-for", "30d", "--yes"]);
        assert_eq!(names(&v["revoked"]), listed);
        assert_eq!(
            code(&env.run(&["list", "--unused-for", "30d", "--fail-if-any"])),
            0
        );
    }
}

#[test]
fn ipv4_ranges_written_as_ipv6_match_ipv4_clients() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = create(&env, "m", &["--allow-ip", "::ffff:10.0.0.0/104"]);
        assert_eq!(env.record("m")["allow_ip"], json!(["10.0.0.0/8"]));
        for ip in ["10.0.0.1", "::ffff:10.0.0.1"] {
            assert_eq!(
                reason(&env, &t, &["--no-touch", "--ip", ip]),
                (0, "valid".into()),
                "{ip}"
            );
        }
        assert_eq!(
            reason(&env, &t, &["--no-touch", "--ip", "11.0.0.1"]).1,
            "forbidden"
        );
    }
}

#[test]
fn a_failed_verify_from_an_address_is_logged_with_it() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = create(&env, "f", &["--allow-ip", "10.0.0.0/8"]);
        reason(&env, &t, &["--ip", "192.0.2.1"]);
        reason(&env, &t, &["--ip", "192.0.2.2"]);
        let log = env.json(&["log", "--token", "f"]);
        let ips: Vec<&str> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "verify_failed")
            .flat_map(|e| e["ips"].as_array().unwrap())
            .map(|ip| ip.as_str().unwrap())
            .collect();
        // A counter keeps the addresses, first seen first (README, "Failures cannot fill the disk").
        assert_eq!(ips, ["192.0.2.1", "192.0.2.2"]);
    }
}
