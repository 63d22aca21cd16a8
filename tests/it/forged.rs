//! A forged backup (README, "backup, restore, doctor"): an attacker edits a backup's audit
//! events, recomputes the chain and the file's hash, and restores it. Every event field passes
//! the checks live input does, or the whole file is refused naming the line and the field.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::*;

/// Takes a backup of a store with a few events, lets `edit` change event `which` (its JSON),
/// re-chains every event after it and recomputes the trailer, as a careful forger would.
fn forge(env: &Env, which: usize, edit: impl Fn(&mut Value)) -> std::path::PathBuf {
    let file = env.tmp.path().join("forged.backup");
    let _ = std::fs::remove_file(&file);
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    reforge_backup(&file, |lines| {
        let events: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with(r#"{"event""#))
            .collect();
        let mut prev: Option<String> = None;
        for (k, &i) in events.iter().enumerate() {
            let v: Value = serde_json::from_str(&lines[i]).expect("json");
            let mut event = v["event"].clone();
            if let Some(p) = &prev {
                event["prev"] = Value::String(p.clone());
            }
            if k == which {
                edit(&mut event);
            }
            let bytes = serde_json::to_string(&event).expect("json");
            prev = Some(hex::encode(Sha256::digest(bytes.as_bytes())));
            lines[i] = format!(r#"{{"event":{bytes}}}"#);
        }
    });
    file
}

fn store_with_events() -> (Env, String) {
    let env = Env::new();
    let token = env.create("billing");
    env.create("crm");
    env.ok(&["revoke", "crm", "--yes"]);
    (env, token)
}

#[test]
fn an_untouched_reforged_backup_restores() {
    // The forger's tooling is right: re-chaining changes nothing it did not edit.
    let (env, _) = store_with_events();
    let file = forge(&env, 0, |_| {});
    let fresh = Env::new();
    let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn every_forged_event_field_is_refused_naming_line_and_field() {
    let (env, token) = store_with_events();
    let cases: Vec<(&str, Value)> = vec![
        ("name", Value::String("\u{1b}]0;pwned\u{7}".into())),
        ("name", Value::String("a\nb".into())),
        ("name", Value::String("evil\u{202E}txt".into())),
        ("name", Value::String(format!("copy {token}"))),
        ("actor", Value::String("\u{1b}[2J".into())),
        ("actor", Value::String(token.clone())),
        ("detail", Value::String("x\u{1b}[31m".into())),
        ("detail", Value::String(format!("see {token}"))),
        ("reason", Value::String("\u{1b}[31mvalid".into())),
        ("reason", Value::String("because".into())),
        ("token_id", Value::String("tok_\u{1b}abcdefg".into())),
        ("replaces", Value::String("not-an-id".into())),
        ("at", Value::String("2100-01-01T00:00:00Z".into())),
        ("count", Value::from(0)),
        ("count", Value::from(18014398509481985u64)),
        ("extra", Value::String(token.clone())),
        // Fields this kind of event never carries (event 1 is a `created`).
        ("reason", Value::String("usage_exceeded".into())),
        ("ip", Value::String("10.0.0.1".into())),
        ("count", Value::from(5)),
        ("replaces", Value::String("tok_abcdefgh".into())),
        ("actor", Value::String(String::new())),
        // Numbers jq cannot hold, written as doubles or past i64.
        ("extra", Value::from(18014398509481985f64)),
        ("extra", Value::Array(vec![Value::from(-1e300)])),
        (
            "extra",
            serde_json::from_str("-18446744073709551617").expect("json"),
        ),
    ];
    for (field, value) in cases {
        let file = forge(&env, 1, |e| e[field] = value.clone());
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains("line "), "{field}={value}: {err}");
        // A number deep in a field is named by its path (`extra[0]`).
        assert!(
            err.contains(&format!("`{field}`")) || err.contains(&format!("`{field}[")),
            "{field}={value}: {err}"
        );
        assert!(!err.contains(&token) && !err.contains('\u{1b}'), "{err}");
        assert!(!fresh.store().join("db").exists(), "nothing was restored");
    }
}

#[test]
fn a_backup_of_a_file_with_an_escape_in_its_name_restores() {
    // The log keeps a backup's file name escaped, so its own backups pass restore's checks.
    let (env, _) = store_with_events();
    let odd = env.tmp.path().join("a\u{1b}]0;x\u{7}b.backup");
    env.ok(&["backup", odd.to_str().expect("utf-8")]);
    let file = env.tmp.path().join("plain.backup");
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    let fresh = Env::new();
    let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // Written as a shell's `$'…'` reads it back: `\x1B`, `\x07`.
    let log = stdout(&fresh.run(&["log", "--json"]));
    assert!(
        !log.contains('\u{1b}') && log.contains("a\\\\x1B]0;x\\\\x07b.backup"),
        "{log}"
    );
}

#[test]
fn a_forged_failure_counter_is_refused_naming_last_at() {
    let (env, _) = store_with_events();
    env.verify("garbage", &[]);
    env.ok(&["list"]);
    // Event 3 is the counter: at, and last_at in its hour.
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(usize, &str, Edit)> = vec![
        (
            3,
            "before `at`",
            Box::new(|e| e["last_at"] = "2000-01-01T00:00:00Z".into()),
        ),
        (
            3,
            "not in the hour",
            Box::new(|e| {
                e["at"] = "1999-12-31T23:59:59Z".into();
                e["last_at"] = "2000-01-01T00:00:00Z".into();
            }),
        ),
        (
            3,
            "future",
            Box::new(|e| e["last_at"] = "2100-01-01T00:00:00Z".into()),
        ),
        (
            0,
            "only to a verify_failed",
            Box::new(|e| e["last_at"] = e["at"].clone()),
        ),
    ];
    for (which, why, edit) in cases {
        let file = forge(&env, which, |e| edit(e));
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("line ") && err.contains("`last_at`"),
            "{why}: {err}"
        );
        assert!(err.contains(why), "{why}: {err}");
        assert!(!fresh.store().join("db").exists(), "nothing was restored");
    }
    // Untouched, the counter restores, last_at and all.
    let file = forge(&env, 3, |_| {});
    let fresh = Env::new();
    let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let log = fresh.json(&["log"]);
    assert!(
        log.as_array()
            .expect("array")
            .iter()
            .any(|e| e["event"] == "verify_failed" && e["last_at"].is_string())
    );
}

/// A counter's `tokens` and `ips` as a fold writes them, or the whole backup is refused.
#[test]
fn a_forged_counters_tokens_and_addresses_are_refused() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let live = env.create("billing");
        let gone = env.create("crm");
        env.ok(&["revoke", "crm", "--yes"]);
        assert_eq!(env.verify(&gone, &["--ip", "10.0.0.1"]).0, 1);
        env.ok(&["log", "--limit", "1"]);
        // Event 3 is the counter: {"tokens": {crm: 1}, "ips": ["10.0.0.1"], "count": 1}.
        let crm = env.record("crm")["id"].as_str().expect("id").to_owned();
        let many: serde_json::Map<String, Value> = (0..65)
            .map(|i| (format!("tok_{i:08}"), Value::from(1)))
            .collect();
        type Edit = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(usize, &str, Edit)> = vec![
            (
                3,
                "not a token id",
                Box::new(|e| e["tokens"] = serde_json::json!({"evil": 1})),
            ),
            (
                3,
                "shaped like a token",
                Box::new({
                    let live = live.clone();
                    move |e| e["tokens"] = serde_json::json!({ live.clone(): 1 })
                }),
            ),
            (
                3,
                "0 times",
                Box::new({
                    let crm = crm.clone();
                    move |e| e["tokens"] = serde_json::json!({ crm.clone(): 0 })
                }),
            ),
            (
                3,
                "more than the counter's `count`",
                Box::new({
                    let crm = crm.clone();
                    move |e| e["tokens"] = serde_json::json!({ crm.clone(): 2 })
                }),
            ),
            (
                3,
                "at most 64",
                Box::new(move |e| {
                    e["tokens"] = Value::Object(many.clone());
                    e["count"] = Value::from(65);
                }),
            ),
            (
                3,
                "at most 16",
                Box::new(|e| {
                    e["ips"] = (0..17)
                        .map(|i| Value::from(format!("10.0.1.{i}")))
                        .collect();
                }),
            ),
            (
                3,
                "twice",
                Box::new(|e| e["ips"] = serde_json::json!(["10.0.0.1", "10.0.0.1"])),
            ),
            (
                0,
                "only to a verify_failed",
                Box::new(|e| e["ips"] = serde_json::json!(["10.0.0.1"])),
            ),
            (
                3,
                "of no token the store has",
                Box::new(|e| e["reason"] = "malformed".into()),
            ),
            (
                3,
                "which no record of the backup is",
                Box::new(|e| e["tokens"] = serde_json::json!({"tok_zzzzzzzz": 1})),
            ),
            (
                3,
                "is empty",
                Box::new(|e| e["tokens"] = serde_json::json!({})),
            ),
            (
                3,
                "is empty",
                Box::new(|e| e["ips"] = serde_json::json!([])),
            ),
            (3, "beside `ips`", Box::new(|e| e["ip"] = "10.0.0.7".into())),
            (
                3,
                "beside `tokens`",
                Box::new(|e| e["token_id"] = "tok_abcdefgh".into()),
            ),
            (
                3,
                "further addresses, and `ips` holds 1",
                Box::new(|e| e["detail"] = "and from further addresses".into()),
            ),
            (
                3,
                "written as IPv6",
                Box::new(|e| e["ips"] = serde_json::json!(["::ffff:10.0.0.1"])),
            ),
        ];
        for (which, why, edit) in cases {
            let file = forge(&env, which, |e| edit(e));
            let fresh = Env::new();
            let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line "), "{why}: {err}");
            assert!(
                err.contains("`tokens`") || err.contains("`ips`"),
                "{why}: {err}"
            );
            assert!(err.contains(why), "{why}: {err}");
            assert!(!err.contains(&live), "{err}");
            assert!(!fresh.store().join("db").exists(), "nothing was restored");
        }
        // A detail of a counter's own making: it could pass for counts in `log`.
        let file = forge(&env, 3, |e| {
            e["detail"] = "and from further addresses; tok_5wc4lgxr (lim) x999".into();
        });
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("line ") && err.contains("`detail` of a counter"),
            "{err}"
        );
        // A counter that does not say why.
        let file = forge(&env, 3, |e| e["reason"] = Value::Null);
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("line ") && err.contains("`reason` is missing"),
            "{err}"
        );
        // Untouched, it restores with its tokens and addresses.
        let file = forge(&env, 3, |_| {});
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let log = fresh.json(&["log"]);
        let counter = &log.as_array().expect("array")[3];
        assert_eq!(counter["tokens"][&crm], 1);
        assert_eq!(counter["ips"], serde_json::json!(["10.0.0.1"]));
    }
}

#[test]
fn a_forged_journal_is_folded_only_as_verify_would_have_written_it() {
    use vbx_tokens::journal::{self, Entry, EntryKind};
    let (env, token) = store_with_events();
    let id = vbx_tokens::store::read_marker_id(&env.store()).expect("marker");
    let now = vbx_tokens::time::Time::now();
    let ahead = now.checked_add_seconds(86_400).expect("a time");
    let mut entries = Vec::new();
    for (_, disguised) in crate::disguise::disguises(&token) {
        entries.push(Entry {
            kind: EntryKind::Failure,
            count: 1,
            reason: 2,
            at: ahead,
            // A live token as the id, a disguised one as the user.
            token_id: Some(token.clone()),
            actor: disguised.chars().take(40).collect(),
            ip: None,
        });
    }
    // A "failure" whose reason is valid, and an id that is an escape sequence.
    entries.push(Entry {
        kind: EntryKind::Failure,
        count: 1,
        reason: 0,
        at: now,
        token_id: None,
        actor: "ana".into(),
        ip: None,
    });
    entries.push(Entry {
        kind: EntryKind::Failure,
        count: 1,
        reason: 1,
        at: now,
        token_id: Some("tok_\u{1b}]0;x\u{7}".into()),
        actor: "ana".into(),
        ip: None,
    });
    journal::append(
        &env.store(),
        id,
        &entries,
        std::time::Duration::from_secs(5),
    )
    .expect("appends");
    let log = String::from_utf8(env.ok(&["log", "--json"])).expect("utf-8");
    assert!(!log.contains(&token), "{log}");
    assert!(!vbx_tokens::name::holds_token(&log), "{log}");
    let events = failure_events(&env);
    assert!(
        events.iter().all(|e| e["token_id"].is_null()
            && e["reason"] != "valid"
            && e["at"].as_str() < Some(&ahead.to_string()[..])),
        "{events:#?}"
    );
    // The store's own backup restores: the log holds only what restore believes.
    let file = env.tmp.path().join("after.backup");
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    let fresh = Env::new();
    let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// Takes a backup of `env`, lets `edit` change its record lines (as JSON, in order), and
/// recomputes the trailer.
fn forge_records(env: &Env, edit: impl FnOnce(&mut Vec<Value>)) -> std::path::PathBuf {
    let file = env.tmp.path().join("forged-records.backup");
    let _ = std::fs::remove_file(&file);
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    reforge_backup(&file, |lines| {
        let at: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with(r#"{"record""#))
            .collect();
        let mut records: Vec<Value> = at
            .iter()
            .map(|&i| serde_json::from_str::<Value>(&lines[i]).expect("json")["record"].clone())
            .collect();
        edit(&mut records);
        for (&i, r) in at.iter().zip(&records) {
            lines[i] = format!(r#"{{"record":{r}}}"#);
        }
    });
    file
}

#[test]
fn a_forged_record_is_refused_naming_line_and_field() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("billing");
        env.create("pos");
        env.create("crm");
        env.ok(&["revoke", "crm", "--yes"]);
        let later = |secs: i64| {
            vbx_tokens::time::Time::now()
                .checked_add_seconds(secs)
                .expect("in range")
                .to_string()
        };
        // Records are in id order: find them by name.
        fn at(r: &[Value], name: &str) -> usize {
            r.iter().position(|r| r["name"] == name).expect("a record")
        }
        type Edit = Box<dyn Fn(&mut Vec<Value>)>;
        let cases: Vec<(&str, &str, Edit)> = vec![
            (
                "`name` (of an active token) is the same as line ",
                "one name twice",
                Box::new(|r| {
                    let pos = at(r, "pos");
                    r[pos]["name"] = "billing".into();
                }),
            ),
            (
                "`name` (of an active token) is the same as line ",
                "a look-alike name (Cyrillic i)",
                Box::new(|r| {
                    let pos = at(r, "pos");
                    r[pos]["name"] = "b\u{456}lling".into();
                }),
            ),
            (
                "`id` is the same as line ",
                "one id twice",
                Box::new(|r| r[1]["id"] = r[0]["id"].clone()),
            ),
            (
                "`sha256` is the same as line ",
                "one hash twice",
                Box::new(|r| r[2]["sha256"] = r[0]["sha256"].clone()),
            ),
            (
                "`grace_until`",
                "a grace past 366 days",
                Box::new(move |r| {
                    let crm = at(r, "crm");
                    r[crm]["grace_until"] = later(2 * 366 * 86_400).into();
                }),
            ),
            (
                "`extra`",
                "a double jq cannot hold exactly",
                Box::new(|r| r[0]["extra"] = Value::from(1e17)),
            ),
        ];
        for (says, why, edit) in cases {
            let file = forge_records(&env, |r| edit(r));
            let fresh = Env::new();
            let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line ") && err.contains(says), "{why}: {err}");
            assert!(
                !fresh.store().join("db").exists(),
                "{why}: nothing was restored"
            );
        }
        // A revoked token may share an active one's name, as in a live store.
        let file = forge_records(&env, |r| {
            let crm = at(r, "crm");
            r[crm]["name"] = "billing".into();
        });
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn times_ahead_within_the_skew_are_taken_as_now_so_what_follows_stays_in_order() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("billing");
        let ahead = vbx_tokens::time::Time::now()
            .checked_add_seconds(180)
            .expect("in range");
        let file = forge_records(&env, |r| {
            r[0]["created_at"] = ahead.to_string().into();
            r[0]["last_used_at"] = ahead.to_string().into();
            r[0]["use_count"] = 1.into();
        });
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        fresh.ok(&["revoke", "billing", "--yes"]);
        let r = fresh.record("billing");
        let (created, used, revoked) = (
            r["created_at"].as_str().expect("time"),
            r["last_used_at"].as_str().expect("time"),
            r["revoked_at"].as_str().expect("time"),
        );
        assert!(created < &ahead.to_string()[..], "{r}");
        assert!(created <= used && used <= revoked, "{r}");
    }
}

/// One secret in a vault: (token id, sealed secret).
type Secret = (Vec<u8>, Vec<u8>);

/// The vault line of backup `file` as its parts: header, then each secret.
fn vault_parts(bytes: &[u8]) -> (Vec<u8>, Vec<Secret>) {
    const HEADER: usize = 163;
    let (header, mut rest) = bytes.split_at(HEADER);
    let count = u32::from_be_bytes(rest[..4].try_into().expect("4"));
    rest = &rest[4..];
    let mut secrets = Vec::new();
    for _ in 0..count {
        let id_len = rest[0] as usize;
        let id = rest[1..1 + id_len].to_vec();
        rest = &rest[1 + id_len..];
        let len = u32::from_be_bytes(rest[..4].try_into().expect("4")) as usize;
        secrets.push((id, rest[4..4 + len].to_vec()));
        rest = &rest[4 + len..];
    }
    (header.to_vec(), secrets)
}

/// A copy of the backup `file` whose vault bytes `edit` changed, its checksum made again.
fn forge_vault(file: &std::path::Path, edit: impl FnOnce(&mut Vec<u8>)) -> std::path::PathBuf {
    let forged = file.with_extension("forged");
    std::fs::copy(file, &forged).expect("copy");
    reforge_backup(&forged, |lines| {
        let i = lines
            .iter()
            .position(|l| l.starts_with(r#"{"vault""#))
            .expect("a vault line");
        let v: Value = serde_json::from_str(&lines[i]).expect("json");
        let mut bytes = hex::decode(v["vault"].as_str().expect("hex")).expect("hex");
        edit(&mut bytes);
        lines[i] = format!(r#"{{"vault":"{}"}}"#, hex::encode(bytes));
    });
    forged
}

#[test]
fn a_forged_vault_puts_no_token_and_no_odd_id_on_disk() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (_, token) = env.vault_with("billing");
        let file = env.tmp.path().join("vault.backup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        type Edit = Box<dyn Fn(&mut Secret)>;
        let plain = token.clone();
        let cases: Vec<(&str, Edit)> = vec![
            (
                "holds a token in plaintext",
                Box::new(move |s| s.1 = [&[0u8; 24][..], plain.as_bytes()].concat()),
            ),
            (
                "is not a token id",
                Box::new(|s| s.0 = b"\x1b]0;pwned\x07".to_vec()),
            ),
        ];
        for (says, edit) in cases {
            let forged = forge_vault(&file, |bytes| {
                let (header, mut secrets) = vault_parts(bytes);
                edit(&mut secrets[0]);
                let mut out = header;
                out.extend_from_slice(&(secrets.len() as u32).to_be_bytes());
                for (id, sealed) in &secrets {
                    out.push(id.len() as u8);
                    out.extend_from_slice(id);
                    out.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
                    out.extend_from_slice(sealed);
                }
                *bytes = out;
            });
            let fresh = Env::new();
            let out = fresh.run(&["restore", forged.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line ") && err.contains(says), "{says}: {err}");
            assert!(!err.contains(&token) && !err.contains('\u{1b}'), "{err}");
            assert!(!fresh.store().join("db").exists(), "nothing was restored");
        }
        // The token in the header's salt and wrap nonce (bytes 43 to 83), or its wrapped key (83
        // to 123), the header's checksum made again (its last 32 bytes: the SHA-256 of the rest).
        for at in [43, 83] {
            use sha2::{Digest, Sha256};
            let forged = forge_vault(&file, |bytes| {
                bytes[at..at + token.len()].copy_from_slice(token.as_bytes());
                let sum = Sha256::digest(&bytes[..131]);
                bytes[131..163].copy_from_slice(&sum);
            });
            let fresh = Env::new();
            let out = fresh.run(&["restore", forged.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(
                err.contains("line ")
                    && err.contains("the vault header holds a token in plaintext"),
                "{err}"
            );
            assert!(!err.contains(&token), "{err}");
            assert!(!fresh.store().join("db").exists(), "nothing was restored");
        }
    }
}

/// A key given twice (a reader keeps the last, so the first would go unchecked), or a field
/// beside `record` or `event` on a line, refuses the file: nothing in a backup is left unread.
#[test]
fn a_token_hidden_by_a_key_given_twice_or_beside_the_record_is_refused() {
    let (env, token) = store_with_events();
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let hide = |field: &'static str, t: String| -> Edit {
        Box::new(move |lines: &mut Vec<String>| {
            let i = lines
                .iter()
                .position(|l| l.starts_with(field))
                .expect("a line of that kind");
            // `{"record":{...}}` becomes `{"zz":"T","record":{...}}`, or a key inside is doubled.
            lines[i] = lines[i].replacen('{', &format!(r#"{{"zz":"{t}","#), 1);
        })
    };
    let twice = |field: &'static str, key: &'static str, t: String| -> Edit {
        Box::new(move |lines: &mut Vec<String>| {
            let i = lines
                .iter()
                .position(|l| l.starts_with(field))
                .expect("a line of that kind");
            let inner = format!(r#"{field}{{"{key}":"{t}","#);
            lines[i] = lines[i].replacen(&format!("{field}{{"), &inner, 1);
        })
    };
    let cases: Vec<(&str, Edit)> = vec![
        ("beside a record", hide(r#"{"record":"#, token.clone())),
        ("beside an event", hide(r#"{"event":"#, token.clone())),
        (
            "a record's note twice",
            twice(r#"{"record":"#, "note", token.clone()),
        ),
        (
            "an event's detail twice",
            twice(r#"{"event":"#, "detail", token.clone()),
        ),
    ];
    for (name, edit) in cases {
        let file = env.tmp.path().join("hidden.backup");
        let _ = std::fs::remove_file(&file);
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        reforge_backup(&file, |lines| edit(lines));
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(!err.contains(&token[8..]), "{name}: {err}");
        assert!(!fresh.store().exists(), "{name}: nothing restored");
    }
    // In the header too.
    let file = env.tmp.path().join("hidden-head.backup");
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    reforge_backup(&file, |lines| {
        lines[0] = lines[0].replacen('{', &format!(r#"{{"x":"{token}","x":"ok","#), 1);
    });
    let fresh = Env::new();
    let err = assert_one_line_error(
        &fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]),
        2,
    );
    assert!(
        err.contains("line 1") && err.contains("given twice"),
        "{err}"
    );
}

/// The header is outside input too: a token in a field this build does not know, plain or in
/// disguise, refuses the file; a field in a form it does not take is named.
#[test]
fn a_forged_header_is_refused_naming_the_field() {
    let (env, token) = store_with_events();
    let full_width: String = token
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xfee0).expect("full width"))
        .collect();
    let cases: Vec<(&str, &str, Value)> = vec![
        ("x", "`x` holds", Value::String(token.clone())),
        ("x", "`x` holds", Value::String(full_width)),
        (
            "nested",
            "`nested` holds",
            serde_json::json!({ "deep": [format!("k={token}")] }),
        ),
        (
            "taken_at",
            "taken_at",
            Value::String("2026-01-01T00:00:00+24:00".into()),
        ),
    ];
    for (field, says, value) in cases {
        let file = env.tmp.path().join("forged-head.backup");
        let _ = std::fs::remove_file(&file);
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        reforge_backup(&file, |lines| {
            let mut head: Value = serde_json::from_str(&lines[0]).expect("json");
            head[field] = value.clone();
            lines[0] = serde_json::to_string(&head).expect("json");
        });
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("line 1") && err.contains(says),
            "{field}: {err}"
        );
        assert!(!err.contains(&token[8..]), "{err}");
        assert!(!fresh.store().exists(), "{field}: nothing restored");
    }
}

/// A vault export whose header holds a token (a forger's salt) is refused before any
/// passphrase is asked for: `vault import` into a store with no vault keeps the file's header as
/// it is.
#[test]
fn a_vault_export_holding_a_token_is_refused() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, token) = env.vault_with("billing");
        let file = env.tmp.path().join("vault.export");
        env.ok(&[
            "vault",
            "export",
            file.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        use sha2::{Digest, Sha256};
        let mut bytes = std::fs::read(&file).expect("read");
        bytes[43..43 + token.len()].copy_from_slice(token.as_bytes());
        // The header's checksum made again: its last 32 bytes, the SHA-256 of the rest.
        let sum = Sha256::digest(&bytes[..131]);
        bytes[131..163].copy_from_slice(&sum);
        std::fs::write(&file, &bytes).expect("write");
        let fresh = Env::new();
        fresh.create("other");
        let out = fresh.run(&[
            "vault",
            "import",
            file.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        let err = assert_one_line_error(&out, 4);
        assert!(err.contains("holds a token in plaintext"), "{err}");
        assert!(!err.contains(&token), "{err}");
        for f in files_under(&fresh.store()) {
            let held = std::fs::read(&f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&held).contains(&token),
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn restore_refuses_a_grace_that_revoking_its_successor_would_not_end() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("first");
        env.ok(&["rotate", "first", "--grace", "1h", "-q"]);
        let file = env.tmp.path().join("rotated.backup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        let original = std::fs::read(&file).expect("read");
        let text = String::from_utf8(original.clone()).expect("utf-8");
        let records: Vec<Value> = text
            .lines()
            .filter(|l| l.starts_with(r#"{"record""#))
            .map(|l| serde_json::from_str::<Value>(l).expect("json")["record"].clone())
            .collect();
        for (field, set) in broken_graces(&records) {
            std::fs::write(&file, &original).expect("write");
            reforge_backup(&file, |lines| {
                let mut head: Value = serde_json::from_str(&lines[0]).expect("json");
                head["records"] = Value::from(set.len());
                lines[0] = head.to_string();
                lines.retain(|l| !l.starts_with(r#"{"record""#));
                for (i, r) in set.iter().enumerate() {
                    lines.insert(1 + i, format!(r#"{{"record":{r}}}"#));
                }
            });
            let fresh = Env::new();
            let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(err.contains("line "), "{field}: {err}");
            assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
            assert!(!fresh.store().join("db").exists(), "nothing was restored");
        }
        // Untouched, it restores, grace and all.
        std::fs::write(&file, &original).expect("write");
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

/// The backup of `env` at `file` with `edit` applied to the record of token `id`.
fn forge_record(env: &Env, file: &std::path::Path, id: &str, edit: impl Fn(&mut Value)) {
    let _ = std::fs::remove_file(file);
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    reforge_backup(file, |lines| {
        for line in lines.iter_mut().filter(|l| l.starts_with(r#"{"record""#)) {
            let mut v: Value = serde_json::from_str(line).expect("json");
            if v["record"]["id"] == id {
                edit(&mut v["record"]);
                *line = v.to_string();
            }
        }
    });
}

#[test]
fn restore_refuses_a_record_its_own_log_says_was_revoked() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let leaked = env.create("leaked");
        let id = env.record("leaked")["id"].as_str().expect("id").to_owned();
        env.ok(&["revoke", "leaked", "--yes"]);
        let file = env.tmp.path().join("unrevoked.backup");
        let ahead = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(2))
            .expect("in range")
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        // Active again; or given a grace, as a rotation would have given it.
        type Edit = Box<dyn Fn(&mut Value)>;
        let edits: Vec<Edit> = vec![
            Box::new(|r| {
                r["status"] = "active".into();
                r["revoked_at"] = Value::Null;
            }),
            Box::new(move |r| {
                r["revoked_at"] = ahead.clone().into();
                r["grace_until"] = ahead.clone().into();
                r["replaced_by"] = "tok_zzzzzzzz".into();
            }),
        ];
        for edit in edits {
            forge_record(&env, &file, &id, edit);
            let fresh = Env::new();
            let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
            let err = assert_one_line_error(&out, 2);
            assert!(
                err.contains("line ") && err.contains(&id) && err.contains("never undone"),
                "{err}"
            );
            assert!(!fresh.store().join("db").exists(), "nothing was restored");
        }
        // Untouched, it restores, and the token stays revoked.
        let _ = std::fs::remove_file(&file);
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        let fresh = Env::new();
        fresh.ok(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(fresh.verify(&leaked, &[]).0, 1);
        // A token rotated away likewise stays revoked.
        let env = Env::new();
        env.create("old");
        let old_id = env.record("old")["id"].as_str().expect("id").to_owned();
        env.ok(&["rotate", "old", "-q"]);
        forge_record(&env, &file, &old_id, |r| {
            r["status"] = "active".into();
            r["name"] = "back".into();
            r["revoked_at"] = Value::Null;
            r.as_object_mut().expect("object").remove("replaced_by");
        });
        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let err = assert_one_line_error(&out, 2);
        assert!(err.contains(&old_id), "{err}");
    }
}

#[test]
fn restore_refuses_a_log_about_a_token_it_has_no_record_of_and_a_count_past_its_limit() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("kept");
        env.create("gone");
        let gone = env.record("gone")["id"].as_str().expect("id").to_owned();
        env.ok(&["revoke", "gone", "--yes"]);
        let file = env.tmp.path().join("f.backup");
        // The record of the revoked token taken out, its `revoked` event left in (the header's
        // count of records made to match).
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        reforge_backup(&file, |lines| {
            lines.retain(|l| !(l.starts_with(r#"{"record""#) && l.contains(&gone)));
            let mut head: Value = serde_json::from_str(&lines[0]).expect("header");
            let records = head["records"].as_u64().expect("a count") - 1;
            head["records"] = records.into();
            lines[0] = head.to_string();
        });
        let fresh = Env::new();
        let err = assert_one_line_error(
            &fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]),
            2,
        );
        assert!(
            err.contains("line ") && err.contains(&gone) && err.contains("no record"),
            "{err}"
        );
        // A record counting more uses than its limit.
        let env = Env::new();
        env.ok(&["create", "--name", "three", "--max-uses", "3", "-q"]);
        let id = env.record("three")["id"].as_str().expect("id").to_owned();
        forge_record(&env, &file, &id, |r| r["use_count"] = 10.into());
        let fresh = Env::new();
        let err = assert_one_line_error(
            &fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]),
            2,
        );
        assert!(
            err.contains("`use_count`") && err.contains("`max_uses`"),
            "{err}"
        );
        // And in an export, by import.
        let line = String::from_utf8(env.ok(&["export"])).expect("utf-8");
        let forged = line.replace(r#""use_count":0"#, r#""use_count":4"#);
        assert_ne!(forged, line, "the export holds the count");
        let out = Env::new().run_in(&["import", "-"], forged);
        let err = assert_one_line_error(&out, 2);
        assert!(
            err.contains("`use_count`") && err.contains("past `max_uses` 3"),
            "{err}"
        );
    }
}
