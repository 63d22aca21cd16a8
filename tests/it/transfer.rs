//! `export` and `import`: records move between stores field for field, and a bad line changes
//! nothing.

use std::fs;

use serde_json::Value;

use crate::common::*;

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .expect("utf-8")
        .lines()
        .map(|l| parse(l.as_bytes()))
        .collect()
}

fn export(env: &Env) -> Vec<u8> {
    let out = env.cmd().arg("export").assert().success();
    out.get_output().stdout.clone()
}

#[test]
fn export_then_import_into_an_empty_store_round_trips_every_field() {
    let a = Env::new();
    let keep = a.create("keep");
    let used = a.create("used");
    let gone = a.create("gone");
    a.cmd()
        .args(["create", "--name", "noted", "--note", "for the CRM", "-q"])
        .assert()
        .success();
    a.verify(&used, &[]);
    a.verify(&used, &[]);
    a.ok(&["revoke", "gone", "--yes"]);

    let exported = export(&a);
    let records = lines(&exported);
    assert_eq!(records.len(), 4);
    for r in &records {
        let k = keys(r);
        for field in [
            "v",
            "id",
            "seq",
            "name",
            "note",
            "sha256",
            "hint",
            "created_at",
            "created_by",
            "status",
            "revoked_at",
            "last_used_at",
            "use_count",
        ] {
            assert!(k.contains(&field.to_owned()), "{field} missing from {r}");
        }
        assert!(!k.contains(&"token".to_owned()));
    }
    let text = String::from_utf8_lossy(&exported);
    for t in [&keep, &used, &gone] {
        assert!(!text.contains(&t[4..34]), "an export never holds a token");
    }

    let b = Env::new();
    let file = b.tmp.path().join("records.ndjson");
    fs::write(&file, &exported).expect("write");
    let report = b.json(&["import", &file.to_string_lossy()]);
    assert_eq!(report, serde_json::json!({"imported": 4, "skipped": 0}));
    assert_eq!(export(&b), exported, "the same records, field for field");

    assert_eq!(b.verify(&keep, &[]).0, 0);
    assert_eq!(b.verify(&used, &[]).0, 0);
    let (code, v) = b.verify(&gone, &[]);
    assert_eq!((code, v["reason"].as_str()), (1, Some("revoked")));
    assert_eq!(b.record("used")["use_count"], 3);
    let events = b.json(&["log"]);
    assert!(
        events
            .as_array()
            .expect("array")
            .iter()
            .any(|e| e["event"] == "imported")
    );
}

#[test]
fn plaintext_tokens_are_hashed_on_the_way_in_and_read_from_stdin() {
    let a = Env::new();
    let t = a.create("source");
    a.cmd()
        .args(["revoke", "source", "--yes"])
        .assert()
        .success();
    let b = Env::new();
    let input = format!(
        "{{\"name\": \"pos\", \"token\": \"{t}\", \"note\": \"till 1\"}}\n\n{{\"name\": \"legacy\", \"token\": \"sk_live_abc123\"}}\n"
    );

    // Another system's token needs --any-format.
    let out = b
        .cmd()
        .args(["import", "-"])
        .write_stdin(input.clone())
        .output()
        .expect("runs");
    let err = assert_one_line_error(&out, 2);
    assert!(
        err.contains("line 3") && err.contains("--any-format"),
        "{err}"
    );
    assert!(!b.store().exists(), "a refused import creates nothing");

    b.cmd()
        .args(["import", "-", "--any-format"])
        .write_stdin(input)
        .assert()
        .success();
    assert_eq!(b.verify(&t, &[]).0, 0);
    let pos = b.record("pos");
    assert_eq!(pos["hint"], &t[..8]);
    assert_eq!(pos["note"], "till 1");
    assert!(pos["id"].as_str().expect("id").starts_with("tok_"));
    for f in files_under(&b.store()) {
        let bytes = fs::read(&f).expect("read");
        assert!(
            !bytes.windows(30).any(|w| w == &t.as_bytes()[4..34]),
            "{}",
            f.display()
        );
        assert!(
            !bytes.windows(14).any(|w| w == b"sk_live_abc123"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn one_bad_line_imports_nothing_and_is_named() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("existing");
        let good = |n: u32| format!("{{\"name\":\"n{n}\",\"sha256\":\"{:064x}\"}}", n);
        let before = env.snapshot();
        for (bad, needle) in [
            ("{\"name\":\"x\"}".to_owned(), "`token` or `sha256`"),
            ("not json".to_owned(), "not JSON"),
            (
                format!("{{\"name\":\"existing\",\"sha256\":\"{:064x}\"}}", 99),
                "active name",
            ),
            (good(1), "already exists"),
            (
                format!(
                    "{{\"name\":\"y\",\"sha256\":\"{:064x}\",\"status\":\"paused\"}}",
                    98
                ),
                "`status`",
            ),
        ] {
            let input = format!("{}\n{}\n{bad}\n{}\n", good(1), good(2), good(3));
            let out = env
                .cmd()
                .args(["import", "-"])
                .write_stdin(input)
                .output()
                .expect("runs");
            let err = assert_one_line_error(&out, 2);
            assert!(
                err.contains("line 3") && err.contains(needle),
                "{needle}: {err}"
            );
            assert!(err.contains("nothing was imported"), "{err}");
            assert_eq!(env.snapshot(), before);
        }
        let out = env
            .cmd()
            .args(["import", "-"])
            .write_stdin(b"\n\xff\n".to_vec())
            .output()
            .expect("runs");
        let err = assert_one_line_error(&out, 2);
        assert_eq!(
            err,
            "vbx-tokens: line 2: not valid UTF-8; nothing was imported\n"
        );
        let out = env.run(&["import", "/nonexistent/file"]);
        let err = assert_one_line_error(&out, 2);
        assert_eq!(
            err,
            "vbx-tokens: cannot read /nonexistent/file: no such file or directory\n"
        );
        assert_eq!(env.snapshot(), before);
    }
}

#[test]
fn duplicates_are_refused_unless_skip_existing() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("a");
        let exported = export(&env);
        let out = env
            .cmd()
            .args(["import", "-"])
            .write_stdin(exported.clone())
            .output()
            .expect("runs");
        assert!(assert_one_line_error(&out, 2).contains("--skip-existing"));

        let extra = format!("{{\"name\":\"b\",\"sha256\":\"{}\"}}\n", "ab".repeat(32));
        let input = [exported, extra.into_bytes()].concat();
        let report = parse(
            &env.cmd()
                .args(["import", "-", "--skip-existing", "--json"])
                .write_stdin(input)
                .assert()
                .success()
                .get_output()
                .stdout,
        );
        assert_eq!(report, serde_json::json!({"imported": 1, "skipped": 1}));
        assert_eq!(env.json(&["list"]).as_array().map(Vec::len), Some(2));

        // The same id twice in one input is a data error whatever the flags.
        let dup = "{\"id\":\"tok_aaaaaaaa\",\"name\":\"c\",\"sha256\":\"".to_owned()
            + &"cd".repeat(32)
            + "\"}\n";
        let dup2 = "{\"id\":\"tok_aaaaaaaa\",\"name\":\"d\",\"sha256\":\"".to_owned()
            + &"ef".repeat(32)
            + "\"}\n";
        let out = env
            .cmd()
            .args(["import", "-", "--skip-existing"])
            .write_stdin(dup + &dup2)
            .output()
            .expect("runs");
        assert!(assert_one_line_error(&out, 2).contains("line 2"));
    }
}

/// True for `2026-11-28T03:30:28Z` and nothing else.
fn whole_second_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Every string under a key ending in `_at` (or named `at`) in `v`.
fn times(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if let (true, Value::String(s)) = (k == "at" || k.ends_with("_at"), v) {
                    out.push(s.clone());
                }
                times(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| times(v, out)),
        _ => {}
    }
}

#[test]
fn every_time_stored_or_printed_is_whole_seconds_in_utc() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let sha = |c: char| c.to_string().repeat(64);
        let input = [
            format!(
                r#"{{"name":"frac","sha256":"{}","created_at":"2025-01-02T03:04:05.250Z","last_used_at":"2025-02-03T04:05:06.999999Z","use_count":1}}"#,
                sha('a')
            ),
            format!(
                r#"{{"name":"offset","sha256":"{}","created_at":"2025-01-02T03:04:05+02:00","status":"revoked","revoked_at":"2025-01-03T00:00:00.5-01:30"}}"#,
                sha('b')
            ),
        ]
        .join("\n");
        env.ok(&["create", "--name", "made"]);
        let out = env.run_in(&["import", "-"], input);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(env.record("frac")["created_at"], "2025-01-02T03:04:05Z");
        assert_eq!(env.record("frac")["last_used_at"], "2025-02-03T04:05:06Z");
        assert_eq!(env.record("offset")["created_at"], "2025-01-02T01:04:05Z");
        assert_eq!(env.record("offset")["revoked_at"], "2025-01-03T01:30:00Z");

        let mut seen = Vec::new();
        for args in [
            &["list", "--all"][..],
            &["show", "frac"],
            &["log"],
            &["revoke", "made", "--yes"],
        ] {
            times(&env.json(args), &mut seen);
        }
        for line in lines(&export(&env)) {
            times(&line, &mut seen);
        }
        assert!(seen.len() >= 12, "{seen:?}");
        for t in &seen {
            assert!(whole_second_utc(t), "{t:?}");
        }
        // Times a shell can read back: the README's cron recipe.
        let text = String::from_utf8(export(&env)).expect("utf-8");
        assert!(!text.contains(".250") && !text.contains("+02:00"), "{text}");

        // Outside what RFC 3339 and `fromdateiso8601` read: refused, with the line.
        let out = env.run_in(
            &["import", "-"],
            format!(
                r#"{{"name":"old","sha256":"{}","created_at":"1969-12-31T23:59:59Z"}}"#,
                sha('c')
            ),
        );
        assert_eq!(
            assert_one_line_error(&out, 2),
            "vbx-tokens: line 1: `created_at` \"1969-12-31T23:59:59Z\" is outside 1970-01-01T00:00:00Z to 9999-12-30T22:00:00Z; nothing was imported\n"
        );
    }
}

#[test]
fn export_then_import_is_the_identity_for_every_store() {
    // The empty store: its export is empty, and importing that gives an empty store.
    let empty = Env::new();
    empty.create("x");
    empty.ok(&["revoke", "x", "--yes"]);
    let none = Env::new();
    let out = none.run(&[
        "--store",
        &empty.tmp.path().join("never").to_string_lossy(),
        "list",
    ]);
    assert_eq!(code(&out), 6);
    let fresh = Env::new();
    let out = fresh.run_in(&["import", "-"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "Imported 0 token(s) from stdin.\n");
    assert!(export(&fresh).is_empty());
    let again = Env::new();
    let out = again.run_in(&["import", "-", "--json"], export(&fresh));
    assert_eq!(
        parse(&out.stdout),
        serde_json::json!({"imported": 0, "skipped": 0})
    );
    assert!(export(&again).is_empty());

    // A store with a bit of everything, names and notes in several scripts included.
    let a = Env::new();
    let t = a.create("crm — main");
    a.verify(&t, &[]);
    a.create("caf\u{e9} \u{65e5}\u{672c}");
    a.ok(&["create", "--name", "noted", "--note", "für die Buchhaltung"]);
    a.create("twice");
    a.ok(&["revoke", "twice", "--yes"]);
    a.create("twice");
    a.ok(&["revoke", "twice", "--yes"]);
    let first = export(&a);
    let b = Env::new();
    let out = b.run_in(&["import", "-"], first.clone());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(export(&b), first);
    assert_eq!(b.json(&["list", "--all"]), a.json(&["list", "--all"]));
}

/// Rotation links as `rotate` leaves them, or the line is refused naming the field: a token
/// never replaces itself, and only a revoked one has been replaced (an active one with a
/// successor could never be rotated again).
#[test]
fn import_refuses_rotation_links_rotate_never_makes() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        // Within the longest grace, so only the missing rotation is wrong.
        let ahead = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(72))
            .expect("in range")
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        env.create("first");
        let before = env.snapshot();
        let sha = "b".repeat(64);
        for (field, fields) in [
            (
                "replaces",
                r#""id":"tok_aaaaaaaa","replaces":"tok_aaaaaaaa""#,
            ),
            (
                "replaced_by",
                r#""id":"tok_aaaaaaaa","status":"revoked","replaced_by":"tok_aaaaaaaa""#,
            ),
            (
                "replaced_by",
                r#""status":"revoked","replaces":"tok_bbbbbbbb","replaced_by":"tok_bbbbbbbb""#,
            ),
            ("replaced_by", r#""replaced_by":"tok_bbbbbbbb""#),
            // A grace no rotation gave: a revoked token that verifies, with no successor.
            (
                "grace_until",
                format!(r#""status":"revoked","revoked_at":"{ahead}","grace_until":"{ahead}""#)
                    .leak(),
            ),
            (
                "grace_until",
                r#""status":"revoked","revoked_at":"2026-01-01T00:00:00Z","grace_until":"2026-02-01T00:00:00Z","replaced_by":"tok_bbbbbbbb""#,
            ),
        ] {
            let line = format!(r#"{{"name":"n","sha256":"{sha}",{fields}}}"#);
            let out = env.run_in(&["import", "-"], format!("{line}\n"));
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line 1"), "{fields}: {err}");
            assert!(err.contains(&format!("`{field}`")), "{fields}: {err}");
            assert!(
                !err.contains("in the future") && !err.contains("days ahead"),
                "{err}"
            );
        }
        assert_eq!(env.snapshot(), before, "nothing was imported");
        // What rotate leaves comes back, a grace too: export of a rotated store imports elsewhere.
        env.ok(&["rotate", "first", "--grace", "1h", "-q"]);
        let exported = stdout(&env.run(&["export"]));
        let other = Env::new();
        let out = other.run_in(&["import", "-"], exported);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn import_refuses_a_grace_that_revoking_its_successor_would_not_end() {
    let a = Env::new();
    a.create("first");
    a.ok(&["rotate", "first", "--grace", "1h", "-q"]);
    let records = lines(&export(&a));
    for (field, set) in broken_graces(&records) {
        let other = Env::new();
        let input: String = set.iter().map(|r| format!("{r}\n")).collect();
        let out = other.run_in(&["import", "-"], input);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("line "), "{field}: {err}");
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
        assert!(err.contains("nothing was imported"), "{err}");
        assert!(!other.store().join("db").exists(), "nothing was imported");
    }
}

#[test]
fn a_grace_imported_whole_ends_when_its_last_successor_is_revoked_there() {
    // first (in its grace) → second (rotated again at once, revoked) → third (active).
    let a = Env::new();
    let first = a.create("first");
    a.ok(&["rotate", "first", "--grace", "1h", "-q"]);
    a.ok(&["rotate", "first", "-q"]);
    let exported = export(&a);
    let b = Env::new();
    let out = b.run_in(&["import", "-"], exported.clone());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(b.verify(&first, &[]).0, 0, "in its grace");
    b.ok(&["revoke", "first", "--yes"]);
    assert_eq!(
        b.verify(&first, &[]).0,
        1,
        "revoking the last successor ends it"
    );

    // Half the chain first, the rest later: the successors in the store count.
    let records = lines(&exported);
    let (graced, rest): (Vec<_>, Vec<_>) =
        records.iter().partition(|r| r["grace_until"].is_string());
    let c = Env::new();
    let rest: String = rest.iter().map(|r| format!("{r}\n")).collect();
    assert_eq!(code(&c.run_in(&["import", "-"], rest)), 0);
    let graced: String = graced.iter().map(|r| format!("{r}\n")).collect();
    let out = c.run_in(&["import", "-"], graced.clone());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The other way round the grace has no successor yet, and is refused.
    let d = Env::new();
    assert_one_line_error(&d.run_in(&["import", "-"], graced), 2);
}
