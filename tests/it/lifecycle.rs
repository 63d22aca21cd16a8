//! Every command, every JSON shape, the success paths.

use serde_json::Value;

use crate::common::*;

fn is_rfc3339_utc_seconds(v: &Value) -> bool {
    let s = v.as_str().expect("a string");
    s.len() == 20 && s.ends_with('Z') && s.parse::<jiff::Timestamp>().is_ok()
}

#[test]
fn create_human_prints_the_token_alone_on_stdout_and_warns_on_stderr() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env.run(&["create", "--name", "accounting"]);
        assert_eq!(code(&out), 0);
        let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8");
        let token = stdout.trim();
        assert_eq!(stdout.lines().count(), 1);
        assert!(token.starts_with("vbx_") && token.len() == 40, "{token}");
        let err = stderr(&out);
        assert!(err.contains("will not be shown again"), "{err}");
        assert!(!err.contains(token));
    }
}

#[test]
fn create_quiet_prints_only_the_token() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env.run(&["create", "--name", "ci", "-q"]);
        assert_eq!(code(&out), 0);
        assert!(out.stderr.is_empty());
        let token = String::from_utf8(out.stdout).expect("utf-8");
        assert!(token.ends_with('\n'));
        let token = token.trim_end();
        assert!(token.len() == 40 && token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let (code, _) = env.verify(token, &[]);
        assert_eq!(code, 0);
    }
}

#[test]
fn create_json_has_the_documented_shape() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let v = env.json(&["create", "--name", "  crm  ", "--note", "HubSpot"]);
        assert_eq!(
            keys(&v),
            sorted(&[
                "id",
                "name",
                "token",
                "hint",
                "created_at",
                "created_by",
                "expires_at",
                "scopes",
                "max_uses",
                "allow_ip"
            ])
        );
        assert_eq!(v["name"], "crm", "names are trimmed");
        let token = v["token"].as_str().expect("token");
        assert_eq!(v["hint"].as_str(), Some(&token[..8]));
        assert!(is_rfc3339_utc_seconds(&v["created_at"]));
        assert!(v["id"].as_str().expect("id").starts_with("tok_"));
        assert_eq!(env.record("crm")["note"], "HubSpot");
    }
}

#[test]
fn list_shows_active_tokens_and_all_with_all() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("one");
        env.create("two");
        env.cmd()
            .args(["revoke", "one", "--yes"])
            .assert()
            .success();

        let active = env.json(&["list"]);
        let names: Vec<&str> = active
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["two"]);

        let all = env.json(&["list", "--all"]);
        let all = all.as_array().expect("array");
        assert_eq!(all.len(), 2);
        for r in all {
            assert_eq!(keys(r), sorted(RECORD_KEYS));
            assert!(is_rfc3339_utc_seconds(&r["created_at"]));
        }
        assert_eq!(all[0]["status"], "revoked");
        assert!(is_rfc3339_utc_seconds(&all[0]["revoked_at"]));
        assert_eq!(all[1]["status"], "active");
        assert_eq!(all[1]["revoked_at"], Value::Null);

        let table = env.ok(&["list", "--all"]);
        let table = String::from_utf8(table).expect("utf-8");
        assert!(table.starts_with("ID"), "{table}");
        assert!(table.contains("one") && table.contains("revoked") && table.contains("never"));
        assert!(
            !table.lines().any(|l| l.ends_with(' ')),
            "no trailing blanks"
        );
    }
}

#[test]
fn an_empty_list_is_an_empty_array() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("x");
        env.ok(&["revoke", "x", "--yes"]);
        assert_eq!(env.json(&["list"]), serde_json::json!([]));
        drop(t);
    }
}

#[test]
fn show_finds_by_id_and_by_name() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("pos");
        let by_name = env.record("pos");
        let show_keys: Vec<&str> = RECORD_KEYS.iter().chain(SHOW_KEYS).copied().collect();
        assert_eq!(keys(&by_name), sorted(&show_keys));
        let id = by_name["id"].as_str().expect("id");
        assert_eq!(env.record(id), by_name);
        assert_eq!(by_name["use_count"], 0);
        assert_eq!(by_name["last_used_at"], Value::Null);
        assert_eq!(
            by_name["created_by"].as_str().map(|s| !s.is_empty()),
            Some(true)
        );

        let text = env.ok(&["show", "pos"]);
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.contains(id) && text.contains("just now"), "{text}");
    }
}

#[test]
fn verify_counts_valid_uses_and_no_touch_does_not() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("reports");
        for _ in 0..3 {
            let (code, v) = env.verify(&t, &[]);
            assert_eq!(code, 0);
            assert_eq!(keys(&v), sorted(&["valid", "reason", "id", "name"]));
            assert_eq!(v["valid"], true);
            assert_eq!(v["reason"], "valid");
            assert_eq!(v["name"], "reports");
        }
        let (code, _) = env.verify(&t, &["--no-touch"]);
        assert_eq!(code, 0);
        let r = env.record("reports");
        assert_eq!(r["use_count"], 3);
        assert!(is_rfc3339_utc_seconds(&r["last_used_at"]));
    }
}

#[test]
fn verify_reads_vbx_token_before_stdin() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("env");
        let out = env
            .cmd()
            .args(["verify"])
            .env("VBX_TOKEN", &t)
            .write_stdin("garbage\n")
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.starts_with("valid: env"), "{text}");
    }
}

#[test]
fn verify_reasons_unknown_revoked_malformed_exit_1() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("gone");
        let id = env.record("gone")["id"].as_str().expect("id").to_owned();
        env.ok(&["revoke", &id, "--yes"]);

        let (code, v) = env.verify(&t, &[]);
        assert_eq!(code, 1);
        assert_eq!(v["valid"], false);
        assert_eq!(v["reason"], "revoked");
        assert_eq!(v["id"], id.as_str());
        assert_eq!(v["name"], "gone");

        // Well-formed (valid checksum) but never issued here.
        let (code, v) = env.verify("vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", &[]);
        assert_eq!(code, 1);
        assert_eq!(
            v,
            serde_json::json!({"valid": false, "reason": "unknown", "id": null, "name": null})
        );

        // One character changed: the checksum catches it.
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).expect("ascii");
        for candidate in [bad.as_str(), "hello", "vbx_", &t[..39]] {
            let (code, v) = env.verify(candidate, &[]);
            assert_eq!(code, 1, "{candidate}");
            assert_eq!(v["reason"], "malformed", "{candidate}");
            assert_eq!(v["id"], Value::Null);
        }
        let text = env
            .cmd()
            .arg("verify")
            .write_stdin("nope\n")
            .assert()
            .code(1);
        let text = String::from_utf8(text.get_output().stdout.clone()).expect("utf-8");
        assert_eq!(text, "invalid (malformed)\n");
    }
}

#[test]
fn verify_batch_answers_each_line_in_order() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let a = env.create("a");
        let b = env.create("b");
        env.ok(&["revoke", "b", "--yes"]);
        let input = format!("{a}\n{b}\nnot-a-token\n\n{a}\n");
        let out = env
            .cmd()
            .args(["verify", "--batch"])
            .write_stdin(input)
            .output()
            .expect("runs");
        assert_eq!(code(&out), 1, "not all valid");
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .map(|l| parse(l.as_bytes()))
            .collect();
        let reasons: Vec<&str> = lines
            .iter()
            .map(|v| v["reason"].as_str().expect("reason"))
            .collect();
        assert_eq!(
            reasons,
            ["valid", "revoked", "malformed", "malformed", "valid"]
        );
        assert_eq!(env.record("a")["use_count"], 2);

        let all_valid = env
            .cmd()
            .args(["verify", "--batch"])
            .write_stdin(format!("{a}\r\n{a}"))
            .output()
            .expect("runs");
        assert_eq!(code(&all_valid), 0, "{}", stderr(&all_valid));
        assert_eq!(
            String::from_utf8_lossy(&all_valid.stdout).lines().count(),
            2
        );
        assert_eq!(env.record("a")["use_count"], 4);
    }
}

#[test]
fn revoke_is_immediate_logged_and_idempotent() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("pos");
        let v = env.json(&["revoke", "pos", "--yes"]);
        assert_eq!(keys(&v), sorted(RECORD_KEYS));
        assert_eq!(v["status"], "revoked");
        assert!(is_rfc3339_utc_seconds(&v["revoked_at"]));
        assert_eq!(env.verify(&t, &[]).0, 1);

        // Again: success, and it says so.
        let again = env.run(&["revoke", "pos", "--yes"]);
        assert_eq!(code(&again), 0);
        assert!(
            stderr(&again).contains("already revoked"),
            "{}",
            stderr(&again)
        );
        let again_json = env.json(&["revoke", v["id"].as_str().expect("id"), "--yes"]);
        assert_eq!(again_json, v, "nothing changed");
        // The name is free again.
        let t2 = env.create("pos");
        assert_eq!(env.verify(&t2, &[]).0, 0);
        assert_eq!(
            env.json(&["list", "--all"]).as_array().map(Vec::len),
            Some(2)
        );
        // A name shared by an active and a revoked token means the active one.
        assert_eq!(env.record("pos")["status"], "active");
    }
}

#[test]
fn a_name_only_revoked_tokens_carry_is_found_unless_ambiguous() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("old");
        env.cmd()
            .args(["revoke", "old", "--yes"])
            .assert()
            .success();
        assert_eq!(env.record("old")["status"], "revoked");
        env.create("old");
        env.cmd()
            .args(["revoke", "old", "--yes"])
            .assert()
            .success();
        let out = env.run(&["show", "old"]);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("give an id"), "{err}");
    }
}

#[test]
fn log_records_every_action_and_filters() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let t = env.create("a");
        env.create("b");
        env.verify("garbage", &[]);
        env.ok(&["revoke", "a", "--yes"]);
        env.verify(&t, &[]);
        env.verify(&t, &["--no-touch"]);

        let log = env.json(&["log"]);
        let log = log.as_array().expect("array");
        let kinds: Vec<&str> = log
            .iter()
            .map(|e| e["event"].as_str().expect("event"))
            .collect();
        assert_eq!(
            kinds,
            [
                "created",
                "created",
                "verify_failed",
                "revoked",
                "verify_failed"
            ]
        );
        // Failures of one reason, token and user in one hour are one event with their count.
        let counts: Vec<u64> = log
            .iter()
            .map(|e| e["count"].as_u64().expect("count"))
            .collect();
        assert_eq!(counts, [1, 1, 1, 1, 2]);
        assert_eq!(log[4]["reason"], "revoked");
        for e in log {
            let mut want = vec![
                "at", "event", "token_id", "name", "actor", "reason", "count", "prev",
            ];
            // A failure counter also says when its last failure was, and of which tokens when
            // they are the store's (not of `garbage`).
            if e["event"] == "verify_failed" {
                want.push("last_at");
                if e["reason"] == "revoked" {
                    want.push("tokens");
                }
                assert!(is_rfc3339_utc_seconds(&e["last_at"]));
            }
            assert_eq!(keys(e), sorted(&want));
            let prev = e["prev"].as_str().expect("prev");
            assert!(
                prev.len() == 64
                    && prev
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{prev}"
            );
            assert!(is_rfc3339_utc_seconds(&e["at"]));
            assert!(!e["actor"].as_str().expect("actor").is_empty());
        }
        assert_eq!(log[2]["reason"], "malformed");
        assert_eq!(log[2]["token_id"], Value::Null);
        assert_eq!(log[4]["reason"], "revoked");
        let a_id = log[0]["token_id"].clone();
        // A counter names its tokens in `tokens`, each with its failures.
        assert_eq!(log[4]["token_id"], Value::Null);
        assert_eq!(log[4]["tokens"][a_id.as_str().expect("id")], 2);
        assert_eq!(log[0]["reason"], Value::Null);
        assert_eq!(log[0]["prev"], "0".repeat(64));

        let last_two = env.json(&["log", "--limit", "2"]);
        assert_eq!(last_two.as_array().expect("array")[..], log[3..]);

        let of_a = env.json(&["log", "--token", "a"]);
        let of_a = of_a.as_array().expect("array");
        assert_eq!(of_a.len(), 3);
        assert!(
            of_a.iter()
                .all(|e| e["token_id"] == a_id || e["tokens"][a_id.as_str().expect("id")].is_u64())
        );

        let table = env.cmd().arg("log").assert().success();
        let table = String::from_utf8(table.get_output().stdout.clone()).expect("utf-8");
        assert!(
            table.contains("verify_failed") && table.contains("malformed"),
            "{table}"
        );
        assert!(!table.contains(&t));
    }
}

#[test]
fn help_documents_the_exit_codes_and_examples() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let out = env.cmd().arg("--help").assert().success();
        let help = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
        for line in [
            "0  success",
            "3  no such token",
            "5  store busy",
            "7  internal error",
        ] {
            assert!(help.contains(line), "{line} missing from:\n{help}");
        }
        let subcommands: [&[&str]; 15] = [
            &["create"],
            &["list"],
            &["show"],
            &["revoke"],
            &["verify"],
            &["log"],
            &["export"],
            &["import"],
            &["vault", "init"],
            &["vault", "reveal"],
            &["vault", "status"],
            &["vault", "passwd"],
            &["vault", "forget"],
            &["vault", "export"],
            &["vault", "import"],
        ];
        for sub in subcommands {
            let out = env.cmd().args(sub).arg("--help").assert().success();
            let help = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
            // Every example shown is an example of this very command.
            let (_, examples) = help
                .split_once("Examples:\n")
                .unwrap_or_else(|| panic!("{sub:?} --help has no examples: {help}"));
            let command = format!(" {}", sub.join(" "));
            let lines: Vec<&str> = examples
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .collect();
            assert!(!lines.is_empty(), "{sub:?}: no example lines");
            for line in lines {
                assert!(
                    line.contains(&command),
                    "{sub:?}: example {line:?} is not of {command}"
                );
            }
        }
    }
}
