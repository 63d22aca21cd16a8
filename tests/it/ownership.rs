//! A store someone else could have written is not believed (README, "Whose store"): its
//! directory, the directories above it and every file in it must be owned by the caller or
//! root (or an owner opted into with `--trust-owner`) and writable by no one else.
//!
//! Giving a file to another user takes root, which CI is; elsewhere those tests say so and
//! pass, the mode tests run for anyone.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::Path;

use crate::common::*;

/// A uid no user has: the owner of a store copied from another machine, or an attacker's.
pub(crate) const STRANGER: u32 = 4242;

pub(crate) fn root() -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root, so the ownership tests must run there"
        );
        eprintln!("skipping: giving files to another user takes root");
    }
    root
}

fn give(path: &Path, uid: u32) {
    chown(path, Some(uid), None).expect("chown");
}

pub(crate) fn give_all(dir: &Path, uid: u32) {
    give(dir, uid);
    for f in files_under(dir) {
        give(&f, uid);
    }
    for e in fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            give(&p, uid);
        }
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Refused: exit 6, one line naming the path and what is wrong.
#[track_caller]
fn refused(out: &std::process::Output, path: &Path, what: &str) -> String {
    let err = assert_one_line_error(out, 6);
    assert!(err.contains("not trusting the store"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains(what), "{err}");
    assert!(
        !err.contains("damaged") && !err.contains("restore"),
        "{err}"
    );
    err
}

#[test]
fn a_store_owned_by_someone_else_is_refused_by_every_command() {
    if !root() {
        return;
    }
    let env = Env::new();
    let token = env.create("billing");
    give_all(&env.store(), STRANGER);
    let store = env.store();
    for args in [
        &["list"][..],
        &["show", "billing"],
        &["create", "--name", "more"],
        &["revoke", "billing", "--yes"],
        &["log"],
        &["log", "--check"],
        &["doctor"],
        &["export"],
        &["disable", "billing"],
    ] {
        let out = env.run(args);
        refused(&out, &store, "is owned by uid 4242");
        assert!(stderr(&out).contains("--trust-owner 4242"), "{args:?}");
    }
    for args in [
        &["verify"][..],
        &["verify", "--no-touch"],
        &["verify", "--batch"],
    ] {
        let out = env.run_in(args, format!("{token}\n"));
        refused(&out, &store, "is owned by uid 4242");
        assert!(
            !stdout(&out).contains("valid"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    let out = env.run_in(&["scan"], format!("{token}\n"));
    refused(&out, &store, "uid 4242");
    let out = env.run_in(&["redact"], format!("{token}\n"));
    refused(&out, &store, "uid 4242");
    // Nothing was changed: back with its owner, the store is as it was.
    give_all(&env.store(), 0);
    let (code, v) = env.verify(&token, &["--no-touch"]);
    assert_eq!((code, v["reason"].as_str()), (0, Some("valid")));
    assert_eq!(env.record("billing")["use_count"], 0);
}

/// The attack itself: someone makes a store of their own holding a token they know, and puts
/// its index and marker into a store that is not theirs to write... or gives the victim a
/// whole store of theirs to use.
#[test]
fn a_planted_index_or_a_planted_store_never_makes_a_token_valid() {
    if !root() {
        return;
    }
    let victim = Env::new();
    victim.create("real");
    let attacker = Env::new();
    let planted = attacker.create("planted");
    for file in ["index", "vbx-tokens-store"] {
        let into = victim.store().join(file);
        fs::copy(attacker.store().join(file), &into).expect("copy");
        give(&into, STRANGER);
        let out = victim.run_in(&["verify"], format!("{planted}\n"));
        assert_eq!(code(&out), 6, "a planted {file}");
        refused(
            &victim.run_in(&["verify"], format!("{planted}\n")),
            &into,
            "uid 4242",
        );
        give(&into, 0);
    }
    // The attacker's whole store, used as it is.
    give_all(&attacker.store(), STRANGER);
    let out = attacker.run_in(&["verify"], format!("{planted}\n"));
    refused(&out, &attacker.store(), "uid 4242");
}

#[test]
fn every_file_of_the_store_is_checked() {
    if !root() {
        return;
    }
    let env = Env::new();
    let token = env.create("a");
    env.ok(&["create", "--name", "limited", "--max-uses", "3", "-q"]);
    // A verify leaves a journal, a limited token a use table.
    let _ = env.verify(&token, &[]);
    let names: Vec<String> = fs::read_dir(env.store())
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for must in ["db", "conf", "index", "lock", "vbx-tokens-store", "journal"] {
        assert!(names.iter().any(|n| n == must), "{must} in {names:?}");
    }
    let mut entries: Vec<_> = files_under(&env.store());
    entries.push(env.store().join("blobs"));
    for path in entries {
        give(&path, STRANGER);
        let out = env.run(&["list"]);
        refused(&out, &path, "uid 4242");
        let out = env.run_in(&["verify", "--no-touch"], format!("{token}\n"));
        assert_eq!(code(&out), 6, "{}", path.display());
        give(&path, 0);
    }
    assert_eq!(code(&env.run(&["list"])), 0);
}

#[test]
fn a_store_or_file_others_can_write_is_refused() {
    let env = Env::new();
    let token = env.create("a");
    let store = env.store();
    for mode in [0o770, 0o702, 0o1777] {
        chmod(&store, mode);
        let out = env.run_in(&["verify"], format!("{token}\n"));
        refused(&out, &store, &format!("mode {mode:04o}"));
    }
    chmod(&store, 0o700);
    let index = store.join("index");
    chmod(&index, 0o620);
    refused(
        &env.run(&["list"]),
        &index,
        "writable by its group (mode 0620)",
    );
    chmod(&index, 0o600);
    assert_eq!(env.verify(&token, &[]).0, 0);
}

#[test]
fn a_link_in_place_of_a_store_file_is_refused() {
    let env = Env::new();
    let token = env.create("a");
    let index = env.store().join("index");
    let elsewhere = env.tmp.path().join("index-elsewhere");
    fs::rename(&index, &elsewhere).expect("move");
    symlink(&elsewhere, &index).expect("link");
    let out = env.run_in(&["verify"], format!("{token}\n"));
    refused(&out, &index, "symbolic link");
}

#[test]
fn a_store_reached_through_a_link_is_judged_where_it_is() {
    let env = Env::new();
    let token = env.create("a");
    let link = env.tmp.path().join("link");
    symlink(env.store(), &link).expect("link");
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &link)
        .args(["verify", "--no-touch"])
        .write_stdin(format!("{token}\n"))
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn every_directory_above_the_store_is_checked() {
    let env = Env::new();
    let parent = env.tmp.path().join("shared");
    fs::create_dir(&parent).expect("mkdir");
    let store = parent.join("store");
    let run = |args: &[&str]| {
        env.cmd()
            .env("VBX_TOKENS_HOME", &store)
            .args(args)
            .output()
            .expect("runs")
    };
    assert_eq!(code(&run(&["create", "--name", "a", "-q"])), 0);
    // Sticky and writable by all, as /tmp: allowed, and the walk goes on above it.
    chmod(&parent, 0o1777);
    assert_eq!(code(&run(&["list"])), 0);
    // Writable by all without the sticky bit: anyone could swap the store for their own.
    chmod(&parent, 0o777);
    refused(&run(&["list"]), &parent, "mode 0777");
    // ... and so for create, which must not make a store there either.
    let other = parent.join("other");
    refused(
        &run_with(&env, &other, &["create", "--name", "b"]),
        &parent,
        "0777",
    );
    assert!(!other.exists(), "a refused create leaves nothing behind");
    chmod(&parent, 0o755);
    if root() {
        give(&parent, STRANGER);
        refused(&run(&["list"]), &parent, "is owned by uid 4242");
        let out = env
            .cmd()
            .env("VBX_TOKENS_HOME", &store)
            .args(["--trust-owner", "4242", "list"])
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn a_safe_directory_inside_one_another_user_owns_is_refused() {
    // That user can rename the safe directory away and put one of their own in its place
    // between the check and the open, so the walk goes on to `/`.
    if !root() {
        return;
    }
    let env = Env::new();
    let theirs = env.tmp.path().join("theirs");
    let ours = theirs.join("ours");
    fs::create_dir_all(&ours).expect("mkdir");
    let store = ours.join("store");
    assert_eq!(
        code(&run_with(&env, &store, &["create", "--name", "a", "-q"])),
        0
    );
    give(&theirs, STRANGER);
    refused(
        &run_with(&env, &store, &["list"]),
        &theirs,
        "is owned by uid 4242",
    );
    let out = env
        .cmd()
        .env("VBX_TOKENS_HOME", &store)
        .args(["verify", "--no-touch"])
        .write_stdin("vbx_anything\n")
        .output()
        .expect("runs");
    refused(&out, &theirs, "is owned by uid 4242");
}

fn run_with(env: &Env, store: &Path, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("VBX_TOKENS_HOME", store)
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn trust_owner_opts_in_by_uid_or_name_by_flag_or_variable() {
    if !root() {
        return;
    }
    let env = Env::new();
    let token = env.create("shared");
    // `nobody` is uid 65534 on Debian; looked up, not assumed.
    let nobody = env_uid("nobody");
    give_all(&env.store(), nobody);
    let verify = |flag: Option<&str>, var: Option<&str>| {
        let mut c = env.cmd();
        if let Some(f) = flag {
            c.args(["--trust-owner", f]);
        }
        if let Some(v) = var {
            c.env("VBX_TOKENS_TRUST_OWNER", v);
        }
        let out = c
            .args(["verify", "--json"])
            .write_stdin(format!("{token}\n"))
            .output()
            .expect("runs");
        (code(&out), stdout(&out))
    };
    assert_eq!(verify(None, None).0, 6);
    assert_eq!(verify(Some("nobody"), None).0, 0);
    assert_eq!(verify(Some(&nobody.to_string()), None).0, 0);
    assert_eq!(verify(None, Some("nobody")).0, 0);
    assert_eq!(verify(None, Some(&format!("4242,{nobody}"))).0, 0);
    // Trusting someone else does not trust this owner.
    assert_eq!(verify(Some("4242"), None).0, 6);
    let (code, out) = verify(Some("4242"), Some("nobody"));
    assert_eq!(code, 6, "the flag replaces the variable: {out}");
    // A name no user has is a usage error, checked before anything is read.
    let out = env.run(&["--trust-owner", "no-such-user-here", "list"]);
    let err = assert_one_line_error(&out, 2);
    assert!(err.contains("no-such-user-here"), "{err}");
}

fn env_uid(name: &str) -> u32 {
    let out = std::process::Command::new("id")
        .args(["-u", name])
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a uid")
}

#[test]
fn doctor_explains_ownership_and_never_advises_a_restore() {
    if !root() {
        return;
    }
    let env = Env::new();
    env.create("a");
    env.ok(&[
        "backup",
        env.tmp.path().join("b.backup").to_str().expect("utf-8"),
    ]);
    give(&env.store().join("index"), STRANGER);
    let out = env.run(&["doctor"]);
    let err = refused(&out, &env.store().join("index"), "is owned by uid 4242");
    assert!(!err.contains("--force"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A script reading `doctor --json` gets its shape: not whole, not opened, the ownership
    // the one failed check, no backup named (the store was not read).
    let out = env.run(&["doctor", "--json"]);
    assert_eq!(code(&out), 6);
    assert!(!stderr(&out).contains("restore"), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["whole"], false);
    assert_eq!(doc["opened"], false);
    assert_eq!(doc["last_backup"], serde_json::Value::Null);
    assert_eq!(doc["checks"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["checks"][0]["check"], "ownership");
    assert_eq!(doc["checks"][0]["status"], "failed");
    let detail = doc["checks"][0]["detail"].as_str().expect("a detail");
    assert!(detail.contains("is owned by uid 4242"), "{detail}");
}

/// A healthy store on a read-only file system is not damaged: doctor says it cannot check it
/// there, and advises no restore. The read-only mount is made in a private mount namespace.
#[test]
fn doctor_on_a_read_only_store_says_so_and_calls_nothing_damaged() {
    let env = Env::new();
    env.create("a");
    let probe = std::process::Command::new("unshare")
        .args(["-rm", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare -rm must work in CI"
        );
        eprintln!("skipping: no private mount namespace here (unshare -rm)");
        return;
    }
    let store = env.store();
    let script = format!(
        "mount --bind {s} {s} && mount -o remount,ro,bind {s} && {bin} doctor; echo \"exit $?\" >&2; {bin} doctor --json",
        s = store.display(),
        bin = BIN
    );
    let out = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .env("VBX_TOKENS_HOME", &store)
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert!(err.contains("exit 6"), "{err}");
    assert!(err.contains("cannot be written"), "{err}");
    assert!(err.contains("no sign of damage"), "{err}");
    assert!(!err.contains("restore"), "{err}");
    // `--json` gets the shape a script parses: not whole, the one failed check saying why.
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(
        (&doc["whole"], &doc["opened"]),
        (&false.into(), &false.into())
    );
    assert_eq!(doc["checks"][0]["check"], "store");
    let detail = doc["checks"][0]["detail"].as_str().expect("a detail");
    assert!(detail.contains("no sign of damage"), "{detail}");
    // And outside the namespace it is as whole as it was.
    assert_eq!(code(&env.run(&["doctor"])), 0);
}

#[test]
fn the_trust_owner_flag_wins_over_the_variable_and_a_bad_variable_is_named() {
    let env = Env::new();
    env.create("a");
    let run = |var: &str, args: &[&str]| {
        env.cmd()
            .env("VBX_TOKENS_TRUST_OWNER", var)
            .args(args)
            .output()
            .expect("runs")
    };
    let out = run("no-such-user-here", &["--trust-owner", "0", "list"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = assert_one_line_error(&run("no-such-user-here", &["list"]), 2);
    assert!(err.contains("VBX_TOKENS_TRUST_OWNER"), "{err}");
    // Set but empty counts as unset.
    assert_eq!(code(&run("", &["list"])), 0);
}

/// Root working in a store it was told to trust leaves every file in it its owner's: the
/// owner is never locked out of their own store by a 0600 file of root's.
#[test]
fn root_in_a_trusted_store_leaves_it_its_owners() {
    use std::os::unix::fs::MetadataExt;
    if !root() {
        return;
    }
    let env = Env::new();
    env.create("theirs");
    let backup = env.tmp.path().join("b.json");
    env.ok(&["backup", backup.to_str().expect("utf-8")]);
    give_all(&env.store(), STRANGER);
    let owners = |why: &str| {
        let store = env.store();
        assert_eq!(
            fs::metadata(&store).expect("store").uid(),
            STRANGER,
            "{why}"
        );
        let mut all = vec![store.clone()];
        all.extend(files_under(&store));
        for e in fs::read_dir(&store).expect("read dir") {
            all.push(e.expect("entry").path());
        }
        for p in all {
            let uid = fs::symlink_metadata(&p).expect("meta").uid();
            assert_eq!(uid, STRANGER, "{why}: {} is {uid}'s", p.display());
        }
    };
    let trusted = |args: &[&str]| {
        let out = env
            .cmd()
            .args([&["--trust-owner", "4242"][..], args].concat())
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let token = trusted(&["create", "--name", "root's", "-q"]);
    owners("create");
    let out = env
        .cmd()
        .args(["--trust-owner", "4242", "verify"])
        .write_stdin(token)
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    owners("verify");
    trusted(&[
        "restore",
        backup.to_str().expect("utf-8"),
        "--yes",
        "--force",
    ]);
    owners("restore");
}

/// A directory that holds no store (`/`, with the system's links in it) is no store, said
/// plainly: not a store refused for a file of the system's.
#[test]
fn a_directory_that_holds_no_store_is_no_store_not_an_untrusted_one() {
    let env = Env::new();
    for args in [&["--store", "/", "list"][..], &["--store", "/", "log"]] {
        let out = env.run(args);
        let err = assert_one_line_error(&out, 6);
        assert!(err.contains("no store at /"), "{args:?}: {err}");
        assert!(!err.contains("not trusting"), "{err}");
    }
    let out = env.run_in(&["--store", "/", "verify"], "vbx_x\n");
    let err = assert_one_line_error(&out, 6);
    assert!(err.contains("no store at /"), "{err}");
    let out = env.run(&["--store", "/", "create", "--name", "x", "-q"]);
    let err = assert_one_line_error(&out, 6);
    assert!(
        err.contains("is not a vbx-tokens store and is not empty"),
        "{err}"
    );
}
