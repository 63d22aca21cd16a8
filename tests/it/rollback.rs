//! A use count never goes down (README, "Use limits that hold"): a `uses` file removed or put
//! back from an older copy, a slot zeroed, or the whole store put back from a file copy never
//! lets a limited token verify past its limit, and `doctor` reports the uses lost.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .args(["-a"])
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// The directory of the store's own witness tables (`witness/STORE_ID`).
fn store_witness(env: &Env) -> std::path::PathBuf {
    let witness = env.tmp.path().join("state/vbx-tokens/witness");
    std::fs::read_dir(&witness)
        .expect("the witness")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("the store witness")
}

/// Runs `doctor` until it finds the store whole (exit 0), each run repairing (exit 6), in at
/// most three runs; `spent`, when given, answers `usage_exceeded` before each run.
#[track_caller]
fn doctor_until_whole(env: &Env, case: &str, spent: Option<&str>) {
    for _ in 0..4 {
        if let Some(token) = spent {
            exceeded(env, token);
        }
        let out = env.run(&["doctor"]);
        if code(&out) == 0 {
            return;
        }
        assert_eq!(code(&out), 6, "{case}: {}{}", stdout(&out), stderr(&out));
    }
    panic!("{case}: doctor did not repair the store in three runs");
}

/// A new token named `name` with `--max-uses max`.
fn limited(env: &Env, name: &str, max: u64) -> String {
    let token = env.ok(&[
        "create",
        "--name",
        name,
        "--max-uses",
        &max.to_string(),
        "-q",
    ]);
    String::from_utf8(token).expect("utf-8").trim().to_owned()
}

/// A store with a spent `--max-uses 1` token and a `--max-uses 3` one used once.
fn spent() -> (Env, String, String) {
    let env = Env::new();
    let one = limited(&env, "one", 1);
    let three = limited(&env, "three", 3);
    (env, one, three)
}

#[track_caller]
fn exceeded(env: &Env, token: &str) {
    let out = env.run_in(&["verify", "--json"], format!("{token}\n"));
    let c = code(&out);
    if c == 6 {
        assert!(
            stderr(&out).contains("vbx-tokens doctor"),
            "{}",
            stderr(&out)
        );
        return;
    }
    assert_eq!(c, 1, "never valid past its limit: {}", stdout(&out));
    assert_eq!(parse(&out.stdout)["reason"], "usage_exceeded");
}

#[track_caller]
fn doctor_reports_then_repairs(env: &Env, lost: &str) {
    doctor_reports_all_then_repairs(env, &[lost]);
}

/// [`doctor_reports_then_repairs`], the report holding each of `lost`.
#[track_caller]
fn doctor_reports_all_then_repairs(env: &Env, lost: &[&str]) {
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 6, "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("use counts"), "{text}");
    for lost in lost {
        assert!(text.contains(lost), "{lost} in {text}");
    }
    assert!(!stderr(&out).contains("restore"), "{}", stderr(&out));
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0, "repaired: {}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_removed_use_table_does_not_give_spent_uses_back() {
    let (env, one, three) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    assert_eq!(env.verify(&three, &[]).0, 0);
    std::fs::remove_file(env.store().join("uses")).expect("rm");
    exceeded(&env, &one);
    // The other still has exactly two left.
    assert_eq!(env.verify(&three, &[]).0, 0);
    assert_eq!(env.verify(&three, &[]).0, 0);
    exceeded(&env, &three);
}

/// With the journal and the records intact, a removed table lost nothing: the journal still
/// holds the use, and doctor folds it in and rebuilds the table.
#[test]
fn doctor_finds_nothing_lost_when_the_journal_still_holds_the_use() {
    let (env, one, _) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    std::fs::remove_file(env.store().join("uses")).expect("rm");
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    exceeded(&env, &one);
    assert_eq!(env.record("one")["use_count"], 1);
}

/// Once the journal is folded into the records, a `uses` file removed or put back from an older
/// copy counts below the records: nothing was lost, and doctor rebuilds the table (saying so)
/// rather than call it ok.
#[test]
fn doctor_rebuilds_a_table_below_the_records_and_calls_nothing_lost() {
    for how in ["removed", "an older copy put back"] {
        let (env, one, three) = spent();
        let old = env.tmp.path().join("uses.old");
        assert_eq!(env.verify(&three, &[]).0, 0);
        std::fs::copy(env.store().join("uses"), &old).expect("copy");
        assert_eq!(env.verify(&one, &[]).0, 0);
        assert_eq!(env.verify(&three, &[]).0, 0);
        // `list` folds the journal: the records now hold every use.
        env.ok(&["list"]);
        let table = env.store().join("uses");
        match how {
            "removed" => std::fs::remove_file(&table).expect("rm"),
            _ => {
                std::fs::copy(&old, &table).expect("put back");
            }
        }
        let out = env.run(&["doctor"]);
        assert_eq!(code(&out), 0, "{how}: {}{}", stdout(&out), stderr(&out));
        let text = stdout(&out);
        let line = text
            .lines()
            .find(|l| l.contains("use table"))
            .expect("a use table line");
        assert!(
            line.starts_with("repaired") && line.contains("2 limited token(s) below"),
            "{how}: {line}"
        );
        assert!(line.contains("no use was lost"), "{how}: {line}");
        assert!(table.is_file(), "{how}: rebuilt");
        let out = env.run(&["doctor"]);
        assert!(
            stdout(&out).contains("ok        use table           2 limited token(s) counted"),
            "{how}: {}",
            stdout(&out)
        );
        exceeded(&env, &one);
        assert_eq!(env.verify(&three, &[]).0, 0);
        exceeded(&env, &three);
    }
}

#[test]
fn an_older_use_table_put_back_does_not_give_spent_uses_back() {
    let (env, one, three) = spent();
    let old = env.tmp.path().join("uses.old");
    assert_eq!(env.verify(&three, &[]).0, 0);
    std::fs::copy(env.store().join("uses"), &old).expect("copy");
    assert_eq!(env.verify(&one, &[]).0, 0);
    assert_eq!(env.verify(&three, &[]).0, 0);
    assert_eq!(env.verify(&three, &[]).0, 0);
    std::fs::copy(&old, env.store().join("uses")).expect("put back");
    exceeded(&env, &one);
    exceeded(&env, &three);
    assert_eq!(code(&env.run(&["doctor"])), 0);
    exceeded(&env, &one);
}

#[test]
fn a_whole_store_put_back_from_a_copy_does_not_give_spent_uses_back() {
    let (env, one, three) = spent();
    let copy = env.tmp.path().join("copy");
    copy_dir(&env.store(), &copy);
    assert_eq!(env.verify(&one, &[]).0, 0);
    for _ in 0..3 {
        assert_eq!(env.verify(&three, &[]).0, 0);
    }
    std::fs::remove_dir_all(env.store()).expect("rm");
    copy_dir(&copy, &env.store());
    exceeded(&env, &one);
    exceeded(&env, &three);
    // `show` and `list` count as verify does, before any repair.
    assert_eq!(env.record("three")["use_count"], 3);
    let listed = env.json(&["list"]);
    let counts: Vec<(&str, &Value)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|r| (r["name"].as_str().expect("name"), &r["use_count"]))
        .collect();
    assert_eq!(
        counts,
        [("one", &Value::from(1)), ("three", &Value::from(3))]
    );
    let table = stdout(&env.run(&["list"]));
    assert!(
        table
            .lines()
            .any(|l| l.contains("three") && l.contains("3/3")),
        "{table}"
    );
    // `export` and `backup` carry the counts verify counts too: restored or imported where
    // no witness saw the uses (another machine), the spent tokens stay spent.
    let exported = stdout(&env.run(&["export"]));
    let backup = env.tmp.path().join("after.backup");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    let elsewhere = Env::new();
    let out = elsewhere.run(&["restore", backup.to_str().expect("utf-8"), "--yes"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    exceeded(&elsewhere, &one);
    exceeded(&elsewhere, &three);
    let third = Env::new();
    let out = third.run_in(&["import", "-"], exported);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    exceeded(&third, &one);
    exceeded(&third, &three);
    doctor_reports_all_then_repairs(
        &env,
        &["4 use(s) of 2 limited token(s)", "(1 lost)", "(3 lost)"],
    );
    exceeded(&env, &one);
    assert_eq!(env.record("three")["use_count"], 3);
}

#[test]
fn a_zeroed_table_of_the_right_shape_does_not_give_spent_uses_back() {
    let (env, one, _) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    // A table of the same store with nothing counted: what an older copy of it holds.
    let path = env.store().join("uses");
    let len = std::fs::metadata(&path).expect("stat").len();
    std::fs::remove_file(&path).expect("rm");
    // The next use of another token makes a new, empty table.
    let other = limited(&env, "x", 5);
    assert_eq!(env.verify(&other, &[]).0, 0);
    assert!(std::fs::metadata(&path).expect("stat").len() <= len.max(1 << 20));
    exceeded(&env, &one);
}

#[test]
fn a_restore_of_an_older_backup_keeps_the_uses_spent_since() {
    let (env, one, _) = spent();
    let file = env.tmp.path().join("before-use.vbxbackup");
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    assert_eq!(env.verify(&one, &[]).0, 0);
    let out = env.run(&["restore", file.to_str().expect("utf-8"), "--yes", "--force"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    exceeded(&env, &one);
    assert_eq!(env.record("one")["use_count"], 1);
}

/// A backup's header names its store, and a forger can change that as easily as recompute the
/// hash that ends the file: the floor of a restore is what any of this user's witnesses saw
/// granted for each token id, not only the named store's.
#[test]
fn a_backup_forged_to_name_another_store_keeps_the_uses_spent_since() {
    let (env, one, _) = spent();
    let file = env.tmp.path().join("b.backup");
    env.ok(&["backup", file.to_str().expect("utf-8")]);
    assert_eq!(env.verify(&one, &[]).0, 0);
    exceeded(&env, &one);
    reforge_backup(&file, |lines| {
        let mut head: Value = serde_json::from_str(&lines[0]).expect("json");
        head["store_id"] = Value::String(format!("{:032x}", 1));
        lines[0] = serde_json::to_string(&head).expect("json");
    });
    let fresh = env.tmp.path().join("fresh");
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &fresh)
        .args(["restore", file.to_str().expect("utf-8"), "--yes"])
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &fresh)
        .args(["verify", "--json"])
        .write_stdin(format!("{one}\n"))
        .output()
        .expect("runs");
    assert_eq!(
        code(&out),
        1,
        "never valid past its limit: {}",
        stdout(&out)
    );
    assert_eq!(parse(&out.stdout)["reason"], "usage_exceeded");
}

#[test]
fn a_store_put_back_and_used_since_is_still_reported_with_what_it_had_lost() {
    // The grant after the rollback counts from the witness (the 5th of 10), which heals the
    // table; the records still say 1. doctor names the token and the uses, raises, exits 6.
    let env = Env::new();
    let t = limited(&env, "lim", 10);
    let copy = env.tmp.path().join("copy");
    copy_dir(&env.store(), &copy);
    for _ in 0..4 {
        assert_eq!(env.verify(&t, &[]).0, 0);
    }
    std::fs::remove_dir_all(env.store()).expect("rm");
    copy_dir(&copy, &env.store());
    assert_eq!(env.verify(&t, &[]).0, 0);
    doctor_reports_then_repairs(&env, "lim");
    assert_eq!(env.record("lim")["use_count"], 5);
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0);
}

#[test]
fn a_damaged_witness_is_reported_and_rebuilt() {
    let (env, one, _) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    let witness = env.tmp.path().join("state/vbx-tokens/witness");
    let files = files_under(&witness);
    assert!(!files.is_empty(), "a grant leaves a witness");
    for f in &files {
        std::fs::write(f, [0x5Au8; 300]).expect("overwrite");
    }
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 6, "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("use witness"), "{}", stdout(&out));
    // Rebuilt by this run: no restore is advised.
    let err = assert_one_line_error(&out, 6);
    assert!(
        !err.contains("restore") && err.contains("vbx-tokens doctor` again"),
        "{err}"
    );
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 0, "rebuilt: {}{}", stdout(&out), stderr(&out));
    exceeded(&env, &one);
}

#[test]
fn an_older_export_imported_into_another_store_keeps_the_uses_spent_since() {
    let (env, one, three) = spent();
    let export = env.ok(&["export"]);
    assert_eq!(env.verify(&one, &[]).0, 0);
    for _ in 0..2 {
        assert_eq!(env.verify(&three, &[]).0, 0);
    }
    // Another store on this machine (the same user's witness), as after losing the first.
    let other = env.tmp.path().join("other");
    let run = |args: &[&str], input: Vec<u8>| {
        env.cmd()
            .env("VBX_TOKENS_HOME", &other)
            .args(args)
            .write_stdin(input)
            .output()
            .expect("runs")
    };
    let out = run(&["import", "-"], export);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(&["verify", "--json"], format!("{one}\n").into_bytes());
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert_eq!(parse(&out.stdout)["reason"], "usage_exceeded");
    let out = run(&["show", "three", "--json"], Vec::new());
    assert_eq!(parse(&out.stdout)["use_count"], 2, "{}", stdout(&out));
    // The one use left is granted once.
    let out = run(&["verify"], format!("{three}\n").into_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = run(&["verify"], format!("{three}\n").into_bytes());
    assert_eq!(code(&out), 1, "{}", stdout(&out));
}

#[test]
fn a_damaged_witness_refuses_limited_tokens_until_doctor_rebuilds_it() {
    // Spent, then the store put back from a copy taken before: only the witness remembers.
    let (env, one, _) = spent();
    let copy = env.tmp.path().join("before");
    copy_dir(&env.store(), &copy);
    assert_eq!(env.verify(&one, &[]).0, 0);
    std::fs::remove_dir_all(env.store()).expect("remove");
    copy_dir(&copy, &env.store());
    let witness = env.tmp.path().join("state/vbx-tokens/witness");
    let files = files_under(&witness);
    let cut = std::fs::read(&files[0]).expect("read");
    // The token's slot: the one that is not all zero.
    let slot = (64..cut.len())
        .step_by(32)
        .find(|&at| cut[at..at + 32].iter().any(|&b| b != 0))
        .expect("a slot in use");
    let flipped = |at: usize| {
        let mut b = cut.clone();
        b[at] ^= 1;
        b
    };
    for damage in [cut[..40].to_vec(), flipped(30), flipped(slot + 20)] {
        std::fs::write(&files[0], &damage).expect("damage");
        for extra in [&[][..], &["--no-touch"][..]] {
            let mut args = vec!["verify"];
            args.extend_from_slice(extra);
            let out = env.run_in(&args, format!("{one}\n"));
            let err = assert_one_line_error(&out, 6);
            assert!(
                err.contains("use witness") && err.contains("vbx-tokens doctor"),
                "{err}"
            );
        }
    }
    std::fs::write(&files[0], &cut).expect("put back");
    exceeded(&env, &one);
}

/// 24 counted verifies of `token` at once, each in the store `store_of` its number gives
/// (`None`: `env`'s own); how many answered valid. Each answers valid, `usage_exceeded`, or
/// exit 6 naming `doctor`.
fn verify_at_once<'a>(
    env: &Env,
    token: &str,
    store_of: impl Fn(usize) -> Option<&'a Path>,
) -> usize {
    let children: Vec<_> = (0..24)
        .map(|i| {
            let mut c = env.std_cmd();
            if let Some(store) = store_of(i) {
                c.env("VBX_TOKENS_HOME", store);
            }
            c.args(["verify"])
                .env("VBX_TOKEN", token)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut valid = 0;
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => valid += 1,
            Some(1) => {}
            Some(6) if err.contains("vbx-tokens doctor") => {}
            other => panic!("{other:?}: {err}"),
        }
    }
    valid
}

#[test]
fn two_copies_of_a_store_used_at_once_grant_no_more_than_the_limit() {
    let env = Env::new();
    let token = limited(&env, "ten", 10);
    let copy = env.tmp.path().join("copy");
    copy_dir(&env.store(), &copy);
    let valid = verify_at_once(&env, &token, |i| (i % 2 == 1).then_some(copy.as_path()));
    assert_eq!(valid, 10, "exactly the limit, across both copies");
}

#[test]
fn an_older_use_table_put_back_while_verifies_run_grants_no_more_than_the_limit() {
    let env = Env::new();
    let token = limited(&env, "t", 12);
    assert_eq!(env.verify(&token, &[]).0, 0);
    let old = std::fs::read(env.store().join("uses")).expect("the table");
    let store = env.store();
    let putter = std::thread::spawn(move || {
        for _ in 0..40 {
            let tmp = store.join("uses.put-back");
            std::fs::write(&tmp, &old).expect("write");
            std::fs::rename(&tmp, store.join("uses")).expect("rename");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    });
    let valid = 1 + verify_at_once(&env, &token, |_| None);
    putter.join().expect("putter");
    assert!(valid <= 12, "{valid} valid answers for a limit of 12");
}

#[test]
fn a_removed_witness_is_brought_back_up_before_a_copy_can_be_put_back() {
    // Spent, with a copy taken after the second of three uses; then the witness removed.
    for repair in ["verify", "doctor"] {
        let env = Env::new();
        let token = limited(&env, "three", 3);
        assert_eq!(env.verify(&token, &[]).0, 0);
        assert_eq!(env.verify(&token, &[]).0, 0);
        let copy = env.tmp.path().join("after-two");
        copy_dir(&env.store(), &copy);
        assert_eq!(env.verify(&token, &[]).0, 0);
        std::fs::remove_dir_all(env.tmp.path().join("state/vbx-tokens")).expect("rm witness");
        // The next command that meets the token, or doctor, brings the witness up again.
        if repair == "verify" {
            exceeded(&env, &token);
        } else {
            let out = env.run(&["doctor"]);
            assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
            assert!(stdout(&out).contains("use witness"), "{}", stdout(&out));
        }
        std::fs::remove_dir_all(env.store()).expect("remove");
        copy_dir(&copy, &env.store());
        exceeded(&env, &token);
    }
}

#[test]
fn one_token_imported_into_several_stores_counts_its_uses_once_between_them() {
    let env = Env::new();
    let token = limited(&env, "three", 3);
    let exported = env.ok(&["export"]);
    let others: Vec<_> = ["second", "third"]
        .iter()
        .map(|name| env.tmp.path().join(name))
        .collect();
    for store in &others {
        let out = env
            .cmd()
            .env("VBX_TOKENS_HOME", store)
            .args(["import", "-"])
            .write_stdin(exported.clone())
            .output()
            .expect("import");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    // In turn, then all at once: three valid answers between the three stores.
    let mut valid = 0;
    for round in 0..2 {
        for store in std::iter::once(env.store()).chain(others.iter().cloned()) {
            let out = env
                .cmd()
                .env("VBX_TOKENS_HOME", &store)
                .env("VBX_TOKEN", &token)
                .arg("verify")
                .output()
                .expect("verify");
            if code(&out) == 0 {
                valid += 1;
            }
            if round == 1 {
                assert_ne!(code(&out), 0, "spent by now");
            }
        }
    }
    assert_eq!(valid, 3, "the limit binds the token, in whichever store");
    // Uses in the other stores are not uses this one lost: each doctor finds its store whole.
    for store in std::iter::once(env.store()).chain(others.iter().cloned()) {
        let out = env
            .cmd()
            .env("VBX_TOKENS_HOME", &store)
            .arg("doctor")
            .output()
            .expect("doctor");
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    }
}

#[test]
fn a_witness_others_could_write_is_damage_until_doctor_takes_it_back() {
    use std::os::unix::fs::PermissionsExt;
    let (env, one, _) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    let dir = env.tmp.path().join("state/vbx-tokens/witness");
    for (path, mode) in [(dir.join("uses"), 0o666), (dir.clone(), 0o777)] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let out = env.run_in(&["verify"], format!("{one}\n"));
        let err = assert_one_line_error(&out, 6);
        assert!(
            err.contains("use witness")
                && err.contains("others can write")
                && err.contains("vbx-tokens doctor"),
            "{err}"
        );
        let out = env.run(&["doctor"]);
        assert_eq!(code(&out), 6, "{}{}", stdout(&out), stderr(&out));
        let out = env.run(&["doctor"]);
        assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
        exceeded(&env, &one);
    }
}

#[test]
fn a_witness_that_cannot_be_written_refuses_the_grant_instead_of_skipping_it() {
    // Something else where the witness's directories go: a file, a FIFO.
    for blocker in ["file", "fifo"] {
        let (env, one, _) = spent();
        let state = env.tmp.path().join("state");
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).expect("state");
        let place = state.join("vbx-tokens");
        if blocker == "file" {
            std::fs::write(&place, b"not a directory").expect("file");
        } else {
            mkfifo(&place);
        }
        let out = env.run_in(&["verify"], format!("{one}\n"));
        let err = assert_one_line_error(&out, 6);
        assert!(
            err.contains("use witness") && err.contains("vbx-tokens doctor"),
            "{blocker}: {err}"
        );
        // Put right, the token was not spent by the refusal.
        std::fs::remove_file(&place).expect("remove");
        assert_eq!(env.verify(&one, &[]).0, 0, "{blocker}");
        exceeded(&env, &one);
    }
}

#[test]
fn a_verify_stopped_while_it_holds_the_witness_makes_others_wait_only_wait_seconds() {
    let (env, one, three) = spent();
    assert_eq!(env.verify(&three, &[]).0, 0, "the witness is there");
    let witness = env.tmp.path().join("state/vbx-tokens/witness/uses");
    // A process holding the witness's lock, as a verify stopped with Ctrl-Z would.
    let holder = LockHolder::new(&witness);
    let started = std::time::Instant::now();
    let out = env.run_in(&["--wait", "1", "verify"], format!("{one}\n"));
    let waited = started.elapsed();
    drop(holder);
    let err = assert_one_line_error(&out, 5);
    assert!(err.contains("busy") && err.contains("witness"), "{err}");
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    assert_eq!(env.verify(&one, &[]).0, 0, "not spent by the wait");
}

#[test]
fn a_witness_under_a_directory_others_could_write_is_refused_and_doctor_keeps_its_counts() {
    use std::os::unix::fs::PermissionsExt;
    let (env, one, three) = spent();
    assert_eq!(env.verify(&one, &[]).0, 0);
    assert_eq!(env.verify(&three, &[]).0, 0);
    let above = env.tmp.path().join("state/vbx-tokens");
    std::fs::set_permissions(&above, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let err = assert_one_line_error(&env.run_in(&["verify"], format!("{three}\n")), 6);
    assert!(err.contains("others can write"), "{err}");
    std::fs::set_permissions(&above, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // A token of this store spent in another store (imported there): only the witness knows.
    let other = env.tmp.path().join("other");
    let exported = env.ok(&["export"]);
    let import = env
        .cmd()
        .env("VBX_TOKENS_HOME", &other)
        .args(["import", "-"])
        .write_stdin(exported)
        .output()
        .expect("import");
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    let in_other = |token: &str| {
        env.cmd()
            .env("VBX_TOKENS_HOME", &other)
            .env("VBX_TOKEN", token)
            .arg("verify")
            .output()
            .expect("verify")
    };
    assert_eq!(code(&in_other(&three)), 0);
    assert_eq!(code(&in_other(&three)), 0);
    // Only the witness's mode is wrong: doctor here rebuilds it with every count it could
    // still read, the other store's too.
    let witness = env.tmp.path().join("state/vbx-tokens/witness/uses");
    std::fs::set_permissions(&witness, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let out = env.run(&["doctor"]);
    assert_eq!(code(&out), 6, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(code(&env.run(&["doctor"])), 0);
    exceeded(&env, &one);
    exceeded(&env, &three);
}

/// `args` run in the store at `store`, `stdin` given, killed after 30 s (a command that waits
/// for ever on something in the witness's place fails the test rather than hang it).
fn in_store(env: &Env, store: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    env.cmd()
        .env("VBX_TOKENS_HOME", store)
        .args(args)
        .write_stdin(stdin.to_owned())
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("ran, and ended within 30 s")
}

/// A new token `name` with `--max-uses max` in this store, imported into another (`other`
/// under the test's directory): the token and the other store's directory.
fn in_two_stores(env: &Env, name: &str, max: u64) -> (String, std::path::PathBuf) {
    let token = limited(env, name, max);
    let other = env.tmp.path().join("other");
    let export = stdout_of(env.ok(&["export"]));
    let import = in_store(env, &other, &["import", "-"], &export);
    assert_eq!(code(&import), 0, "{}", stderr(&import));
    (token, other)
}

/// A `--max-uses 4` token in this store and imported into another, used twice in each, with
/// the token witness as it was after the first two uses kept beside it.
fn spent_in_two_stores() -> (Env, std::path::PathBuf, String, Vec<u8>) {
    let env = Env::new();
    let (token, other) = in_two_stores(&env, "four", 4);
    let line = format!("{token}\n");
    for store in [env.store(), env.store()] {
        assert_eq!(code(&in_store(&env, &store, &["verify"], &line)), 0);
    }
    let witness = env.tmp.path().join("state/vbx-tokens/witness/uses");
    let older = std::fs::read(&witness).expect("the token witness");
    for _ in 0..2 {
        assert_eq!(code(&in_store(&env, &other, &["verify"], &line)), 0);
    }
    (env, other, token, older)
}

fn stdout_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("utf-8")
}

#[test]
fn the_token_witness_removed_or_put_back_alone_gives_no_store_its_uses_again() {
    for how in ["removed", "put back"] {
        let (env, other, token, older) = spent_in_two_stores();
        let witness = env.tmp.path().join("state/vbx-tokens/witness/uses");
        if how == "removed" {
            std::fs::remove_file(&witness).expect("remove");
        } else {
            std::fs::write(&witness, &older).expect("put back");
        }
        // Each store's own copy of the token's total still holds all four uses.
        for store in [env.store(), other.clone(), env.store(), other.clone()] {
            let out = in_store(&env, &store, &["verify", "--json"], &format!("{token}\n"));
            assert_eq!(code(&out), 1, "{how}: {}{}", stdout(&out), stderr(&out));
            assert_eq!(parse(&out.stdout)["reason"], "usage_exceeded", "{how}");
        }
        for store in [env.store(), other] {
            let out = in_store(&env, &store, &["doctor"], "");
            assert_eq!(code(&out), 0, "{how}: {}{}", stdout(&out), stderr(&out));
        }
    }
}

#[test]
fn doctor_never_lowers_a_witness_table_it_can_read_when_another_is_damaged() {
    use std::os::unix::fs::PermissionsExt;
    /// Damages the token witness (first path), given the store witness (second).
    type Damage = fn(&Path, &Path);
    let damages: [(&str, Damage); 7] = [
        ("a directory", |w, _| {
            std::fs::remove_file(w).unwrap();
            std::fs::create_dir(w).unwrap();
        }),
        ("a link to /dev/null", |w, _| {
            std::fs::remove_file(w).unwrap();
            std::os::unix::fs::symlink("/dev/null", w).unwrap();
        }),
        ("empty", |w, _| std::fs::write(w, b"").unwrap()),
        ("cut short", |w, _| {
            let bytes = std::fs::read(w).unwrap();
            std::fs::write(w, &bytes[..100]).unwrap();
        }),
        ("another table", |w, own| {
            std::fs::copy(own, w).unwrap();
        }),
        ("writable by others", |w, _| {
            std::fs::set_permissions(w, std::fs::Permissions::from_mode(0o666)).unwrap()
        }),
        ("a FIFO", |w, _| {
            std::fs::remove_file(w).unwrap();
            mkfifo(w);
        }),
    ];
    for (how, damage) in damages {
        let env = Env::new();
        let token = limited(&env, "three", 3);
        let copy = env.tmp.path().join("copy");
        copy_dir(&env.store(), &copy);
        for _ in 0..3 {
            assert_eq!(env.verify(&token, &[]).0, 0, "{how}");
        }
        // The store put back from before its uses, and the token witness damaged: only the
        // store's own witness still knows the three uses.
        std::fs::remove_dir_all(env.store()).unwrap();
        copy_dir(&copy, &env.store());
        let witness = env.tmp.path().join("state/vbx-tokens/witness");
        let own = store_witness(&env).join("uses");
        damage(&witness.join("uses"), &own);
        doctor_until_whole(&env, how, Some(&token));
        exceeded(&env, &token);
        assert_eq!(env.record("three")["use_count"], 3, "{how}");
    }
}

#[test]
fn a_fifo_in_a_witness_table_s_place_holds_no_command_up() {
    for table in ["uses", "STORE/uses", "STORE/seen"] {
        let (env, one, three) = spent();
        assert_eq!(env.verify(&one, &[]).0, 0);
        assert_eq!(env.verify(&three, &[]).0, 0);
        let witness = env.tmp.path().join("state/vbx-tokens/witness");
        let own = store_witness(&env);
        let path = match table.strip_prefix("STORE/") {
            Some(name) => own.join(name),
            None => witness.join(table),
        };
        std::fs::remove_file(&path).expect("a table");
        mkfifo(&path);
        let line = format!("{three}\n");
        let err = assert_one_line_error(&in_store(&env, &env.store(), &["verify"], &line), 6);
        assert!(err.contains("not a regular file"), "{table}: {err}");
        let err = assert_one_line_error(
            &in_store(&env, &env.store(), &["verify", "--no-touch"], &line),
            6,
        );
        assert!(err.contains("vbx-tokens doctor"), "{table}: {err}");
        for args in [&["list"][..], &["show", "three"], &["export"]] {
            let out = in_store(&env, &env.store(), args, "");
            assert_eq!(code(&out), 0, "{table} {args:?}: {}", stderr(&out));
        }
        let exported = stdout_of(env.ok(&["export"]));
        let other = env.tmp.path().join("other");
        let out = in_store(&env, &other, &["import", "-"], &exported);
        assert_eq!(code(&out), 0, "{table}: {}", stderr(&out));
        let out = in_store(&env, &env.store(), &["doctor"], "");
        assert_eq!(code(&out), 6, "{table}: {}{}", stdout(&out), stderr(&out));
        let out = in_store(&env, &env.store(), &["doctor"], "");
        assert_eq!(code(&out), 0, "{table}: {}{}", stdout(&out), stderr(&out));
        exceeded(&env, &one);
        for _ in 0..2 {
            assert_eq!(
                env.verify(&three, &[]).0,
                0,
                "{table}: two uses of three left"
            );
        }
        exceeded(&env, &three);
    }
}

#[test]
fn doctor_keeps_every_count_a_damaged_table_still_holds() {
    // The store and its own witness tables put back from before the uses: only the token
    // witness knows them, and it is damaged around its slots, not in them.
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 3] = [
        ("a byte added", |b| b.push(0)),
        ("grown", |b| b.resize(40_000, 0)),
        ("its header flipped", |b| b[30] ^= 1),
    ];
    for (how, damage) in damages {
        let env = Env::new();
        let y = limited(&env, "y", 3);
        assert_eq!(env.verify(&y, &[]).0, 0);
        let own = store_witness(&env);
        let copy = env.tmp.path().join("copy");
        copy_dir(&env.store(), &copy);
        let own_copy = env.tmp.path().join("own-copy");
        copy_dir(&own, &own_copy);
        for _ in 0..2 {
            assert_eq!(env.verify(&y, &[]).0, 0, "{how}");
        }
        std::fs::remove_dir_all(env.store()).unwrap();
        copy_dir(&copy, &env.store());
        std::fs::remove_dir_all(&own).unwrap();
        copy_dir(&own_copy, &own);
        exceeded(&env, &y);
        let witness = env.tmp.path().join("state/vbx-tokens/witness/uses");
        let mut bytes = std::fs::read(&witness).unwrap();
        damage(&mut bytes);
        std::fs::write(&witness, &bytes).unwrap();
        doctor_until_whole(&env, how, Some(&y));
        exceeded(&env, &y);
        assert_eq!(env.record("y")["use_count"], 3, "{how}");
    }
}

#[test]
fn something_in_a_use_table_s_or_a_witness_directory_s_place_is_named_and_doctor_clears_it() {
    for place in ["store/uses", "state/vbx-tokens", "state/vbx-tokens/witness"] {
        let (env, one, three) = spent();
        assert_eq!(env.verify(&three, &[]).0, 0, "{place}");
        let path = env.tmp.path().join(place);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
        if place == "store/uses" {
            std::fs::create_dir(&path).unwrap();
        } else {
            std::fs::write(&path, b"in the way").unwrap();
        }
        let err = assert_one_line_error(&env.run_in(&["verify"], format!("{three}\n")), 6);
        assert!(err.contains(path.to_str().unwrap()), "{place}: {err}");
        doctor_until_whole(&env, place, None);
        assert_eq!(env.verify(&one, &[]).0, 0, "{place}");
        exceeded(&env, &one);
        for _ in 0..2 {
            assert_eq!(env.verify(&three, &[]).0, 0, "{place}");
        }
        exceeded(&env, &three);
    }
}

/// A store whose `--max-uses 5` token is spent, put back from a copy taken after two uses:
/// only the witness knows the other three.
fn spent_and_put_back() -> (Env, String) {
    let env = Env::new();
    let token = limited(&env, "five", 5);
    for _ in 0..2 {
        assert_eq!(env.verify(&token, &[]).0, 0);
    }
    let copy = env.tmp.path().join("copy");
    copy_dir(&env.store(), &copy);
    for _ in 0..3 {
        assert_eq!(env.verify(&token, &[]).0, 0);
    }
    std::fs::remove_dir_all(env.store()).unwrap();
    copy_dir(&copy, &env.store());
    (env, token)
}

#[test]
fn an_export_or_backup_beside_one_damaged_witness_table_still_carries_every_use() {
    for table in ["uses", "STORE/uses", "STORE/seen"] {
        let (env, token) = spent_and_put_back();
        let path = match table.strip_prefix("STORE/") {
            Some(name) => store_witness(&env).join(name),
            None => env.tmp.path().join("state/vbx-tokens/witness").join(table),
        };
        std::fs::write(&path, b"").expect("cut short");
        exceeded(&env, &token);
        assert_eq!(env.record("five")["use_count"], 5, "{table}");
        let export = stdout_of(env.ok(&["export"]));
        assert!(export.contains(r#""use_count":5"#), "{table}: {export}");
        let file = env.tmp.path().join("b.backup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        // Another machine: another state directory, with no witness of its own.
        for (args, stdin) in [
            (vec!["import", "-"], export.clone()),
            (
                vec!["restore", file.to_str().expect("utf-8"), "--yes"],
                String::new(),
            ),
        ] {
            let other = Env::new();
            let out = other.run_in(&args, stdin);
            assert_eq!(code(&out), 0, "{table} {args:?}: {}", stderr(&out));
            exceeded(&other, &token);
        }
    }
}

#[test]
fn a_witness_directory_moved_behind_a_link_keeps_its_counts_through_doctor() {
    let (env, token) = spent_and_put_back();
    let witness = env.tmp.path().join("state/vbx-tokens/witness");
    let real = env.tmp.path().join("state/vbx-tokens/witness.real");
    std::fs::rename(&witness, &real).unwrap();
    std::os::unix::fs::symlink(&real, &witness).unwrap();
    exceeded(&env, &token);
    doctor_until_whole(&env, "behind a link", Some(&token));
    exceeded(&env, &token);
    assert_eq!(env.record("five")["use_count"], 5);
}

#[test]
fn a_witness_table_held_by_a_stopped_process_spends_no_use_and_holds_doctor_only_wait() {
    let env = Env::new();
    let token = limited(&env, "one", 1);
    let other = limited(&env, "two", 2);
    assert_eq!(env.verify(&other, &[]).0, 0, "the witness is there");
    let own = store_witness(&env);
    for table in [own.join("uses"), own.join("seen")] {
        let holder = LockHolder::new(&table);
        let err = assert_one_line_error(
            &env.run_in(&["--wait", "1", "verify"], format!("{token}\n")),
            5,
        );
        assert!(err.contains("busy"), "{err}");
        drop(holder);
    }
    // Neither refusal spent the token's one use.
    assert_eq!(env.verify(&token, &[]).0, 0, "not spent by the waits");
    exceeded(&env, &token);
    // doctor, which must raise the witness (this store's own table removed), waits --wait
    // for it, then says busy.
    std::fs::remove_file(own.join("uses")).unwrap();
    let holder = LockHolder::new(&env.tmp.path().join("state/vbx-tokens/witness/uses"));
    let started = std::time::Instant::now();
    let out = env.run(&["--wait", "1", "doctor"]);
    let took = started.elapsed();
    drop(holder);
    let err = assert_one_line_error(&out, 5);
    assert!(err.contains("busy"), "{err}");
    assert!(took < std::time::Duration::from_secs(8), "{took:?}");
    doctor_until_whole(&env, "let go", Some(&token));
}

#[test]
fn one_witness_table_lost_and_another_later_are_not_a_pair_lost_at_once() {
    // A token of limit 5 in two stores: 1 use in this one, then 4 in the other (the last to
    // grant). The other's `seen` is lost first; later the token witness is put back from
    // before. Between the two, doctor (or only a verify, refused) brings `seen` back up.
    for between in ["doctor", "a verify"] {
        let env = Env::new();
        let (token, other) = in_two_stores(&env, "five", 5);
        let line = format!("{token}\n");
        assert_eq!(code(&in_store(&env, &env.store(), &["verify"], &line)), 0);
        let witness = env.tmp.path().join("state/vbx-tokens/witness");
        let older = std::fs::read(witness.join("uses")).expect("the token witness");
        let before: Vec<_> = std::fs::read_dir(&witness)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        for _ in 0..4 {
            assert_eq!(
                code(&in_store(&env, &other, &["verify"], &line)),
                0,
                "{between}"
            );
        }
        let other_witness = std::fs::read_dir(&witness)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.is_dir() && !before.contains(p))
            .expect("the other store's witness");
        std::fs::remove_file(other_witness.join("seen")).expect("its seen");
        if between == "doctor" {
            for store in [env.store(), other.clone()] {
                let out = in_store(&env, &store, &["doctor"], "");
                assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
            }
        } else {
            assert_eq!(code(&in_store(&env, &other, &["verify"], &line)), 1);
        }
        std::fs::write(witness.join("uses"), &older).expect("put back");
        for store in [env.store(), other.clone()] {
            for _ in 0..2 {
                let out = in_store(&env, &store, &["verify", "--json"], &line);
                assert_eq!(code(&out), 1, "{between}: {}{}", stdout(&out), stderr(&out));
            }
        }
    }
}

#[test]
fn doctor_that_must_raise_a_held_witness_says_busy() {
    let (env, token) = spent_and_put_back();
    let holder = LockHolder::new(&env.tmp.path().join("state/vbx-tokens/witness/uses"));
    let out = env.run(&["--wait", "1", "doctor"]);
    drop(holder);
    let err = assert_one_line_error(&out, 5);
    assert!(err.contains("busy"), "{err}");
    doctor_until_whole(&env, "let go", Some(&token));
    assert_eq!(env.record("five")["use_count"], 5);
}
