//! Numbers a JSON reader can hold and times that can be (README, "export, import"): integers at
//! most 2^53 − 1 (RFC 7493 §2.2), and no time in the future past the clock skew, nor before
//! the token was made.

use crate::common::*;

const MAX: u64 = 9_007_199_254_740_991;

#[test]
fn a_use_limit_past_two_to_the_53_is_refused_naming_the_bound() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        for n in [
            "18014398509481985",
            "9007199254740992",
            "18446744073709551616",
        ] {
            let out = env.run(&["create", "--name", "a", "--max-uses", n]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("9007199254740991"), "{err}");
        }
        assert!(!env.store().exists(), "nothing was made");
        env.ok(&[
            "create",
            "--name",
            "a",
            "--max-uses",
            &MAX.to_string(),
            "-q",
        ]);
        let v = env.json(&["show", "a"]);
        assert_eq!(v["max_uses"].as_u64(), Some(MAX));
    }
}

/// Every integer flag takes what a JSON reader holds, and no more: `log --limit`, `scan
/// --max-size` (in bytes, whatever the unit), as `--max-uses`.
#[test]
fn every_integer_flag_stops_at_two_to_the_53() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("a");
        for past in ["9007199254740992", "99999999999999999999"] {
            let err = assert_one_line_error(&env.run(&["log", "--limit", past]), 2);
            assert!(err.contains("9007199254740991"), "{err}");
        }
        for past in ["9007199254740992", "8388608G", "99999999999999999999"] {
            let err =
                assert_one_line_error(&env.run(&["scan", "--max-size", past, "/dev/null"]), 2);
            assert!(err.contains("9007199254740991"), "{err}");
        }
        // Whatever the unit: a duration's number too.
        for past in [
            "9007199254740992ns",
            "18014398509481985ms",
            "5000000000000000000ns",
        ] {
            let err = assert_one_line_error(
                &env.run(&["create", "--name", "d", "--expires-in", past, "-q"]),
                2,
            );
            assert!(err.contains("9007199254740991"), "{err}");
        }
        // And a backup header's numbers, known fields and unknown ones.
        let file = env.tmp.path().join("header.backup");
        for (key, value) in [
            ("zz", "9007199254740992"),
            ("records", "9007199254740992"),
            ("zz", "1e300"),
        ] {
            let _ = std::fs::remove_file(&file);
            env.ok(&["backup", file.to_str().expect("utf-8")]);
            reforge_backup(&file, |lines| {
                let mut head: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
                head[key] = serde_json::from_str(value).expect("a number");
                lines[0] = head.to_string();
            });
            let fresh = Env::new();
            let err = assert_one_line_error(
                &fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]),
                2,
            );
            assert!(
                err.contains("line 1") && err.contains("9007199254740991"),
                "{key}: {err}"
            );
        }
        let out = env.run(&["log", "--limit", &MAX.to_string()]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let out = env.run(&["scan", "--max-size", &MAX.to_string(), "/dev/null"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

fn import(env: &Env, line: &str) -> std::process::Output {
    env.run_in(&["import", "-"], format!("{line}\n"))
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

#[test]
fn import_refuses_every_integer_a_json_reader_could_not_hold() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("first");
        let before = env.snapshot();
        let too_big = "18014398509481985";
        for (field, line) in [
            (
                "max_uses",
                format!(
                    r#"{{"name":"n","sha256":"{}","max_uses":{too_big}}}"#,
                    sha(1)
                ),
            ),
            (
                "use_count",
                format!(
                    r#"{{"name":"n","sha256":"{}","use_count":{too_big}}}"#,
                    sha(1)
                ),
            ),
            (
                "seq",
                format!(r#"{{"name":"n","sha256":"{}","seq":{too_big}}}"#, sha(1)),
            ),
            (
                // Named by its whole path.
                "later.deep[1]",
                format!(
                    r#"{{"name":"n","sha256":"{}","later":{{"deep":[1,{too_big}]}}}}"#,
                    sha(1)
                ),
            ),
            (
                "later",
                format!(r#"{{"name":"n","sha256":"{}","later":-{too_big}}}"#, sha(1)),
            ),
        ] {
            let out = import(&env, &line);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line 1"), "{err}");
            assert!(err.contains(&format!("`{field}`")), "{err}");
            assert!(err.contains("9007199254740991"), "{err}");
        }
        // A negative one is quoted with its sign.
        let line = format!(
            r#"{{"name":"n","sha256":"{}","x":-9007199254740992}}"#,
            sha(1)
        );
        let err = assert_one_line_error(&import(&env, &line), 2);
        assert!(
            err.contains("`x` -9007199254740992 is out of range"),
            "{err}"
        );
        assert!(!err.contains("larger"), "{err}");
        // Written with a fraction or exponent: refused too, and never misquoted as the double
        // it reads as (9007199254740992.0).
        for written in ["9007199254740991.5", "0.9007199254740993e16", "1e300"] {
            let line = format!(r#"{{"name":"n","sha256":"{}","zz":{written}}}"#, sha(1));
            let err = assert_one_line_error(&import(&env, &line), 2);
            assert!(err.contains("the number in `zz`"), "{err}");
            assert!(!err.contains("9007199254740992"), "{err}");
        }
        assert_eq!(env.snapshot(), before, "nothing was imported");
        let out = import(
            &env,
            &format!(
                r#"{{"name":"n","sha256":"{}","max_uses":{MAX},"use_count":{MAX}}}"#,
                sha(2)
            ),
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(env.record("n")["use_count"].as_u64(), Some(MAX));
    }
}

#[test]
fn import_refuses_impossible_times_naming_line_and_field() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("first");
        let before = env.snapshot();
        let c = r#""created_at":"2026-01-10T00:00:00Z""#;
        for (field, fields) in [
            (
                "last_used_at",
                r#""last_used_at":"2100-01-01T00:00:00Z""#.to_owned(),
            ),
            (
                "created_at",
                r#""created_at":"2100-01-01T00:00:00Z""#.to_owned(),
            ),
            (
                "last_used_at",
                format!(r#"{c},"last_used_at":"2026-01-09T00:00:00Z""#),
            ),
            (
                "revoked_at",
                format!(r#"{c},"status":"revoked","revoked_at":"2026-01-09T00:00:00Z""#),
            ),
            (
                "expires_at",
                format!(r#"{c},"expires_at":"2026-01-09T00:00:00Z""#),
            ),
            (
                "expires_at",
                format!(r#"{c},"expires_at":"2026-01-10T00:00:00Z""#),
            ),
            (
                "disabled_at",
                format!(r#"{c},"disabled":true,"disabled_at":"2026-01-09T23:59:59Z""#),
            ),
            (
                "disabled_at",
                r#""disabled":true,"disabled_at":"2100-01-01T00:00:00Z""#.to_owned(),
            ),
            (
                "revoked_at",
                r#""status":"revoked","revoked_at":"2100-01-01T00:00:00Z""#.to_owned(),
            ),
            // Used after it was revoked or disabled; a time for what did not happen.
            (
                "last_used_at",
                format!(
                    r#"{c},"status":"revoked","revoked_at":"2026-01-11T00:00:00Z","last_used_at":"2026-01-12T00:00:00Z""#
                ),
            ),
            (
                "last_used_at",
                format!(
                    r#"{c},"disabled":true,"disabled_at":"2026-01-11T00:00:00Z","last_used_at":"2026-01-11T00:00:01Z""#
                ),
            ),
            (
                "revoked_at",
                format!(r#"{c},"status":"active","revoked_at":"2026-01-11T00:00:00Z""#),
            ),
            (
                "disabled_at",
                format!(r#"{c},"disabled":false,"disabled_at":"2026-01-11T00:00:00Z""#),
            ),
            (
                "disabled_at",
                format!(r#"{c},"disabled_at":"2026-01-11T00:00:00Z""#),
            ),
            // An offset of a day or more, which jiff reads.
            (
                "created_at",
                r#""created_at":"2026-01-10T00:00:00+25:00""#.to_owned(),
            ),
            (
                "expires_at",
                format!(r#"{c},"expires_at":"2027-01-10T00:00:00-24:00""#),
            ),
        ] {
            let good = format!(r#"{{"name":"ok","sha256":"{}"}}"#, sha(3));
            let bad = format!(r#"{{"name":"n","sha256":"{}",{fields}}}"#, sha(4));
            let out = env.run_in(&["import", "-"], format!("{good}\n{bad}\n"));
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line 2"), "{fields}: {err}");
            assert!(err.contains(&format!("`{field}`")), "{fields}: {err}");
        }
        assert_eq!(env.snapshot(), before, "the whole file was refused");
    }
}

#[test]
fn times_within_the_skew_and_a_grace_ahead_are_accepted() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let soon = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(4 * 60))
            .expect("in range");
        let line = format!(
            r#"{{"name":"n","sha256":"{}","created_at":"{soon:.0}"}}"#,
            sha(5)
        );
        let out = import(&env, &line);
        assert_eq!(
            code(&out),
            0,
            "4 minutes ahead is within the skew: {}",
            stderr(&out)
        );
        // A rotation with a grace stores the old token revoked at the grace's end, ahead of now:
        // what export writes, import takes back.
        let other = Env::new();
        other.create("svc");
        other.ok(&["rotate", "svc", "--grace", "2d", "-q"]);
        let exported = other.ok(&["export"]);
        let out = env.run_in(&["import", "-"], exported);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn rotate_gives_the_successor_its_predecessors_whole_lifetime_from_now() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        // Made ten days ago to live eleven: one day left.
        let now = jiff::Timestamp::now();
        let made = now
            .checked_sub(jiff::SignedDuration::from_hours(240))
            .expect("range");
        let ends = now
            .checked_add(jiff::SignedDuration::from_hours(24))
            .expect("range");
        let line = format!(
            r#"{{"name":"svc","sha256":"{}","created_at":"{made:.0}","expires_at":"{ends:.0}"}}"#,
            sha(6)
        );
        assert_eq!(code(&import(&env, &line)), 0);
        env.ok(&["rotate", "svc", "-q"]);
        let v = env.json(&["show", "svc"]);
        let expires: jiff::Timestamp = v["expires_at"]
            .as_str()
            .expect("an expiry")
            .parse()
            .expect("a time");
        let left = expires.duration_since(jiff::Timestamp::now()).as_secs();
        assert!(
            (264 * 3600 - 120..=264 * 3600).contains(&left),
            "{left} s left, not 11 days"
        );
        // And it says so: a predecessor made to live a second gives a successor that lives one.
        let out = env.run(&["rotate", "svc"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(
            stderr(&out).contains("11 days from now: the lifetime its predecessor had"),
            "{}",
            stderr(&out)
        );
        let line = format!(
            r#"{{"name":"brief","sha256":"{}","expires_at":"2026-01-01T00:00:00Z"}}"#,
            sha(7)
        );
        assert_eq!(code(&import(&env, &line)), 0);
        let out = env.run(&["rotate", "brief"]);
        assert!(
            stderr(&out).contains("1 second from now: the lifetime its predecessor had"),
            "{}",
            stderr(&out)
        );
        // A lifetime that from now would end past 9999 is refused, naming `extend` to set another.
        let line = format!(
            r#"{{"name":"long","sha256":"{}","created_at":"1971-01-01T00:00:00Z","expires_at":"9999-12-01T00:00:00Z"}}"#,
            sha(8)
        );
        assert_eq!(code(&import(&env, &line)), 0);
        let err = assert_one_line_error(&env.run(&["rotate", "long"]), 2);
        assert!(
            err.contains("past the year 9999") && err.contains("vbx-tokens extend"),
            "{err}"
        );
    }
}

#[test]
fn an_offset_of_a_day_or_more_is_refused() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("first");
        let before = env.snapshot();
        for bad in [
            "2027-01-01T00:00:00+25:00",
            "2027-01-01T00:00:00-24:00",
            "2027-01-01T00:00:00+2500",
        ] {
            let out = env.run(&["create", "--name", "n", "--expires-at", bad]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("RFC 3339"), "{bad}: {err}");
        }
        assert_eq!(env.snapshot(), before);
        let t = env.ok(&[
            "create",
            "--name",
            "late",
            "--expires-at",
            "2027-01-01T00:00:00+23:59",
            "-q",
        ]);
        assert!(!t.is_empty());
        assert_eq!(env.record("late")["expires_at"], "2026-12-31T00:01:00Z");
    }
}
