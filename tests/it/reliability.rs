//! backup, restore and doctor; the store's modes under any umask; no plaintext secret in any
//! file or output; core dumps off while secrets are held.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command as StdCommand, Stdio};

use serde_json::Value;

use crate::common::*;

/// A store with some of everything: active, revoked, limited, scoped and rotated tokens, a
/// vault with kept secrets, counted uses and failed verifies folded into the log.
fn busy_store(env: &Env) -> (String, Vec<(String, String)>) {
    let (pass, kept) = env.vault_with("kept");
    let mut tokens = vec![("kept".to_owned(), kept)];
    for (name, flags) in [
        ("plain", &[][..]),
        ("limited", &["--max-uses", "3"]),
        ("scoped", &["--scope", "orders", "--expires-in", "30d"]),
        ("gone", &[]),
        ("old", &[]),
    ] {
        let out = env.ok(&[&["create", "--name", name, "-q"][..], flags].concat());
        tokens.push((
            name.to_owned(),
            String::from_utf8(out).unwrap().trim().to_owned(),
        ));
    }
    let t = |n: &str| tokens.iter().find(|(name, _)| name == n).unwrap().1.clone();
    env.verify(&t("limited"), &[]);
    env.verify(&t("plain"), &[]);
    env.verify("vbx_not_a_token", &[]);
    env.ok(&["revoke", "gone", "--yes"]);
    let rotated = env.json(&["rotate", "old"]);
    tokens.push((
        "old-successor".to_owned(),
        rotated["token"].as_str().unwrap().to_owned(),
    ));
    env.ok(&["disable", "scoped"]);
    (pass, tokens)
}

fn verdicts(env: &Env, tokens: &[(String, String)]) -> Vec<(String, String)> {
    tokens
        .iter()
        .map(|(n, t)| {
            let (_, v) = env.verify(t, &["--no-touch"]);
            (n.clone(), v["reason"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn a_backup_restores_into_an_empty_store_with_every_record_event_and_secret() {
    let env = Env::new();
    let (pass, tokens) = busy_store(&env);
    let file = env.tmp.path().join("store.vbxbackup");
    let file_s = file.to_str().unwrap();
    let v = env.json(&["backup", file_s, "--passphrase-file", &pass]);
    assert_eq!(v["vault"], true);
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before_verdicts = verdicts(&env, &tokens);
    let (records, log) = env.snapshot();
    // Backing up again to the same file is refused.
    assert_one_line_error(&env.run(&["backup", file_s, "--passphrase-file", &pass]), 2);

    let other = Env::new();
    assert_one_line_error(&other.run(&["restore", file_s]), 2); // no --yes
    assert!(!other.store().exists());
    // The vault must authenticate under its passphrase before anything is restored.
    let wrong = other.tmp.path().join("wrong.pass");
    std::fs::write(&wrong, "not it\n").unwrap();
    let out = other.run(&[
        "restore",
        file_s,
        "--yes",
        "--passphrase-file",
        wrong.to_str().unwrap(),
    ]);
    assert_one_line_error(&out, 4);
    assert!(!other.store().exists());
    let v = other.json(&["restore", file_s, "--yes", "--passphrase-file", &pass]);
    assert_eq!(v["replaced"], Value::Null);
    assert_eq!(v["kept"], 1);
    assert_eq!(verdicts(&other, &tokens), before_verdicts);
    let (r2, log2) = other.snapshot();
    assert_eq!(r2, records, "every record matches");
    // Every event matches; the restore adds its own, and the backup's own event is after it.
    let old: Vec<Value> = log.as_array().unwrap().clone();
    let new: Vec<Value> = log2.as_array().unwrap().clone();
    let backed_up = old.iter().position(|e| e["event"] == "backed_up").unwrap();
    assert_eq!(new[..backed_up], old[..backed_up]);
    assert_eq!(new[backed_up]["event"], "restored");
    assert_eq!(code(&other.run(&["log", "--check"])), 0);
    let out = other.ok(&["vault", "reveal", "kept", "--passphrase-file", &pass]);
    assert_eq!(String::from_utf8(out).unwrap().trim(), tokens[0].1);
    // Spent uses stay spent.
    assert_eq!(other.record("limited")["use_count"], 1);
    assert_eq!(code(&other.run(&["doctor"])), 0);
}

#[test]
fn restore_refuses_a_store_that_holds_anything_unless_forced_and_keeps_it() {
    let env = Env::new();
    let t = env.create("one");
    let file = env.tmp.path().join("b");
    env.ok(&["backup", file.to_str().unwrap()]);
    let newer = env.create("two");
    let out = env.run(&["restore", file.to_str().unwrap(), "--yes"]);
    assert_one_line_error(&out, 2);
    assert_eq!(env.verify(&newer, &["--no-touch"]).0, 0, "nothing changed");
    let v = env.json(&["restore", file.to_str().unwrap(), "--yes", "--force"]);
    let aside = v["replaced"].as_str().expect("the old store is kept");
    assert!(std::path::Path::new(aside).join("db").exists());
    assert_eq!(env.verify(&t, &["--no-touch"]).0, 0);
    assert_eq!(env.verify(&newer, &["--no-touch"]).1["reason"], "unknown");
}

#[test]
fn a_changed_or_cut_backup_restores_nothing() {
    let env = Env::new();
    env.create("one");
    let file = env.tmp.path().join("b");
    env.ok(&["backup", file.to_str().unwrap()]);
    let good = std::fs::read(&file).unwrap();
    let other = Env::new();
    for (what, bytes) in [
        ("cut", good[..good.len() - 10].to_vec()),
        ("changed", {
            let mut b = good.clone();
            let i = b.iter().position(|&c| c == b'"').unwrap() + 40;
            b[i] ^= 1;
            b
        }),
        ("empty", Vec::new()),
        ("not one", b"hello\n".to_vec()),
    ] {
        let bad = other.tmp.path().join(what);
        std::fs::write(&bad, bytes).unwrap();
        assert_one_line_error(&other.run(&["restore", bad.to_str().unwrap(), "--yes"]), 2);
        assert!(!other.store().exists(), "{what}: nothing restored");
    }
    assert_one_line_error(&other.run(&["restore", "/nonexistent", "--yes"]), 2);
}

#[test]
fn doctor_repairs_what_can_be_derived_and_says_so() {
    let env = Env::new();
    let (_, tokens) = busy_store(&env);
    assert_eq!(code(&env.run(&["doctor"])), 0);
    let store = env.store();
    // Derivable: the index, the marker, the use table.
    std::fs::remove_file(store.join("index")).unwrap();
    std::fs::remove_file(store.join("vbx-tokens-store")).unwrap();
    std::fs::write(store.join("uses"), b"garbage").unwrap();
    let out = env.run(&["doctor", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = parse(&out.stdout);
    assert_eq!(v["whole"], true);
    let status = |check: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status("marker"), "repaired");
    assert_eq!(status("use table"), "repaired");
    assert_eq!(status("records"), "ok");
    assert_eq!(
        verdicts(&env, &tokens)
            .iter()
            .filter(|(_, r)| r == "valid")
            .count(),
        4
    );
    assert_eq!(code(&env.run(&["doctor"])), 0);
}

#[test]
fn doctor_rebuilds_sleds_own_indexes_from_the_records() {
    let env = Env::new();
    let t = env.create("a");
    env.create("b");
    {
        let db = sled::open(env.store()).expect("sled opens");
        let by_name = db.open_tree("by_name").unwrap();
        by_name.clear().unwrap();
        let by_hash = db.open_tree("by_hash").unwrap();
        by_hash.insert(b"junk", b"tok_zzzzzzzz").unwrap();
        db.flush().unwrap();
    }
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("repaired  name index"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("repaired  hash index"),
        "{}",
        stdout(&out)
    );
    // The name is unique again.
    assert_one_line_error(&env.run(&["create", "--name", "a"]), 2);
    assert_eq!(env.verify(&t, &[]).0, 0);
}

#[test]
fn doctor_reports_what_cannot_be_derived_with_exit_6_and_names_the_last_backup() {
    let env = Env::new();
    env.create("a");
    let file = env.tmp.path().join("last.vbxbackup");
    env.ok(&["backup", file.to_str().unwrap()]);
    env.create("b");
    {
        // Change an event behind the tool's back: the chain cannot be derived again.
        let db = sled::open(env.store()).expect("sled opens");
        let log = db.open_tree("log").unwrap();
        let (k, v) = log.iter().next().unwrap().unwrap();
        let text = String::from_utf8(v.to_vec())
            .unwrap()
            .replace("root", "mallory");
        let text = if text.contains("mallory") {
            text
        } else {
            text.replacen("\"actor\":\"", "\"actor\":\"x", 1)
        };
        log.insert(k, text.as_bytes()).unwrap();
        db.flush().unwrap();
    }
    let out = env.run(&["doctor"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("audit log"), "{err}");
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(stdout(&out).contains("failed"), "{}", stdout(&out));
}

#[test]
fn a_store_sled_cannot_open_is_reported_plainly_with_the_last_backup() {
    let env = Env::new();
    let t = env.create("a");
    let file = env.tmp.path().join("last.vbxbackup");
    env.ok(&["backup", file.to_str().unwrap()]);
    std::fs::write(env.store().join("db"), vec![0xA5u8; 4096]).unwrap();
    std::fs::write(env.store().join("conf"), b"garbage").unwrap();
    let out = env.run(&["doctor", "--json"]);
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("vbx-tokens restore"), "{err}");
    let v = parse(&out.stdout);
    assert_eq!(v["opened"], false);
    assert_eq!(v["last_backup"]["file"], file.to_str().unwrap());
    // And the restore it names brings the token back.
    env.ok(&["restore", file.to_str().unwrap(), "--yes", "--force"]);
    assert_eq!(env.verify(&t, &["--no-touch"]).0, 0);
}

#[test]
fn errors_about_derivable_damage_name_doctor() {
    let env = Env::new();
    let t = env.create("limited-one");
    env.ok(&["revoke", "limited-one", "--yes"]);
    let l = {
        let out = env.ok(&["create", "--name", "l", "-q", "--max-uses", "2"]);
        String::from_utf8(out).unwrap().trim().to_owned()
    };
    env.verify(&l, &[]);
    std::fs::write(env.store().join("uses"), b"garbage").unwrap();
    let out = env.run_in(&["verify"], format!("{l}\n"));
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("vbx-tokens doctor"), "{err}");
    assert_eq!(env.verify(&t, &["--no-touch"]).0, 1);
    env.ok(&["doctor"]);
    assert_eq!(env.verify(&l, &[]).0, 0);
    assert_eq!(env.verify(&l, &[]).1["reason"], "usage_exceeded");
}

#[test]
fn every_file_and_directory_is_private_under_any_umask() {
    for umask in ["000", "022"] {
        let env = Env::new();
        let script = format!(
            "umask {umask}; B={BIN}; $B create --name a -q > {dir}/t && \
             $B create --name l --max-uses 4 -q > {dir}/l && \
             $B backup {dir}/b > {dir}/o 2>&1 && $B doctor > {dir}/d && \
             $B verify < {dir}/l > {dir}/v && \
             {{ echo vbx_junk | $B verify > {dir}/v; true; }}",
            dir = env.tmp.path().display()
        );
        let out = StdCommand::new("sh")
            .args(["-c", &script])
            .env("VBX_TOKENS_HOME", env.store())
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", stderr(&out));
        let dir_mode = std::fs::metadata(env.store()).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "umask {umask}");
        let mut names = Vec::new();
        for f in files_under(&env.store()) {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "umask {umask}: {}", f.display());
            names.push(f.file_name().unwrap().to_string_lossy().into_owned());
        }
        for must in ["index", "journal", "uses", "vbx-tokens-store", "db"] {
            assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
        }
        let backup = env.tmp.path().join("b");
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "umask {umask}: the backup");
    }
}

#[test]
fn no_file_output_or_error_ever_holds_a_token_or_the_passphrase() {
    let env = Env::new();
    let (pass, tokens) = busy_store(&env);
    let passphrase = std::fs::read_to_string(&pass).unwrap().trim().to_owned();
    let file = env.tmp.path().join("b.vbxbackup");
    let mut outputs = Vec::new();
    for args in [
        &["backup", file.to_str().unwrap(), "--passphrase-file", &pass][..],
        &["list", "--all", "--json"],
        &["log", "--json"],
        &["export"],
        &["doctor", "--json"],
        &["show", "kept", "--json"],
        &["vault", "status", "--json"],
    ] {
        let out = env.run(args);
        outputs.push(out.stdout);
        outputs.push(out.stderr);
    }
    for (_, t) in &tokens {
        let out = env.run_in(&["verify", "--json"], format!("{t}\n"));
        outputs.push(out.stdout);
        outputs.push(out.stderr);
    }
    let mut files: Vec<Vec<u8>> = files_under(&env.store())
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    files.push(std::fs::read(&file).unwrap());
    for (name, t) in &tokens {
        for (i, bytes) in outputs.iter().chain(&files).enumerate() {
            assert!(
                !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
                "{name}'s token found in output or file #{i}"
            );
        }
    }
    for bytes in outputs.iter().chain(&files) {
        assert!(
            !bytes
                .windows(passphrase.len())
                .any(|w| w == passphrase.as_bytes()),
            "the passphrase leaked"
        );
    }
}

#[test]
fn commands_that_hold_secrets_turn_core_dumps_off() {
    let env = Env::new();
    let (_, _) = env.vault_with("kept");
    // A passphrase file that is a FIFO keeps `vault reveal` waiting, after it has set its limits.
    let fifo = env.tmp.path().join("pass.fifo");
    let made = StdCommand::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for args in [
        &["vault", "reveal", "kept", "--passphrase-file"][..],
        &["create", "--name", "k2", "--keep", "--passphrase-file"],
    ] {
        let mut child = env
            .std_cmd()
            .args(args)
            .arg(&fifo)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let limits = format!("/proc/{}/limits", child.id());
        let mut seen = String::new();
        for _ in 0..200 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            seen = std::fs::read_to_string(&limits).unwrap_or_default();
            let core = seen
                .lines()
                .find(|l| l.starts_with("Max core file size"))
                .map(|l| l.split_whitespace().skip(4).take(2).collect::<Vec<_>>());
            if core == Some(vec!["0", "0"]) {
                break;
            }
        }
        // Let it finish: a wrong passphrase ends it.
        std::fs::write(&fifo, "wrong\n").unwrap();
        let _ = child.wait();
        let line = seen
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or_default()
            .to_owned();
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{args:?}: {line}");
    }
}

#[test]
fn a_journal_with_a_damaged_header_loses_no_acknowledged_use() {
    for verify_first in [false, true] {
        let env = Env::new();
        let t = env.create("a");
        assert_eq!(env.verify(&t, &[]).0, 0);
        assert_eq!(env.verify(&t, &[]).0, 0);
        // Damage the journal's header (its store id), not its entries.
        let journal = env.store().join("journal");
        let mut bytes = std::fs::read(&journal).unwrap();
        bytes[20] ^= 0xff;
        std::fs::write(&journal, bytes).unwrap();
        if verify_first {
            // verify sets it aside and starts a new journal: the old entries wait there.
            assert_eq!(env.verify(&t, &[]).0, 0);
        }
        let want = if verify_first { 3 } else { 2 };
        assert_eq!(
            env.record("a")["use_count"],
            want,
            "verify first: {verify_first}"
        );
        assert!(!env.store().join("journal.damaged").exists());
        assert_eq!(code(&env.run(&["doctor"])), 0);
    }
}

#[test]
fn doctor_reports_the_index_it_found_damaged_as_repaired() {
    let env = Env::new();
    env.create("a");
    std::fs::write(env.store().join("index"), b"garbage").unwrap();
    let v = parse(&env.run(&["doctor", "--json"]).stdout);
    let index = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "verification index")
        .unwrap()
        .clone();
    assert_eq!(index["status"], "repaired", "{index}");
    let again = parse(&env.run(&["doctor", "--json"]).stdout);
    assert!(
        again["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{again}"
    );
}

#[test]
fn an_empty_directory_in_place_of_the_index_is_rebuilt_over_not_called_damage() {
    let env = Env::new();
    let t = env.create("a");
    let index = env.store().join("index");
    std::fs::remove_file(&index).expect("rm");
    std::fs::create_dir(&index).expect("mkdir");
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("restore"), "{}", stdout(&out));
    assert!(index.is_file());
    assert_eq!(env.verify(&t, &[]).0, 0);
}

/// Damage sled finds is said in words: no error line or doctor detail carries sled's debug
/// text (`Read corrupted data at file offset Some(Inline(648)) backtrace ()`).
#[test]
fn damage_sled_finds_is_said_without_its_debug_text() {
    for file in ["db", "conf"] {
        let env = Env::new();
        env.create("a");
        env.create("b");
        let path = env.store().join(file);
        let mut bytes = std::fs::read(&path).expect("read");
        // Near the start, where sled's first segment holds the records.
        let len = bytes.len();
        for b in &mut bytes[100.min(len)..164.min(len)] {
            *b ^= 0x5A;
        }
        if file == "conf" {
            bytes = b"segment_size: x\nuse_compression: 7\n".to_vec();
        }
        std::fs::write(&path, bytes).expect("write");
        let out = env.run(&["list"]);
        let err = assert_one_line_error(&out, 6);
        assert!(err.contains("vbx-tokens doctor"), "{file}: {err}");
        let out = env.run(&["doctor", "--json"]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !all.contains("backtrace") && !all.contains("Some("),
            "{file}: {all}"
        );
    }
}
