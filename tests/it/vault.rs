//! The vault from the command line: every command round-trips, passphrases come from exactly one
//! source, damage and wrong passphrases are told apart, and no plaintext reaches the disk.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::*;

const PASS: &str = "correct horse battery staple";
/// Cheap Argon2id parameters: the floor `vault init` accepts.
const CHEAP: &[&str] = &[
    "--kdf-memory-mib",
    "8",
    "--kdf-iterations",
    "1",
    "--kdf-parallelism",
    "1",
];
const HEADER_LEN: usize = 163;
const TRAILER_LEN: usize = 40;

/// A store with a vault, and a passphrase file for it.
struct VaultEnv {
    env: Env,
    pass: PathBuf,
}

impl VaultEnv {
    fn new() -> VaultEnv {
        VaultEnv::in_env(Env::new())
    }

    /// A store with a vault on each engine (`Env::engines`).
    fn engines() -> Vec<VaultEnv> {
        Env::engines().into_iter().map(VaultEnv::in_env).collect()
    }

    fn in_env(env: Env) -> VaultEnv {
        let pass = write(&env, "pass.txt", &format!("{PASS}\n"));
        let v = VaultEnv { env, pass };
        v.ok(&["vault", "init"], &[]);
        v
    }

    fn pass_arg(&self) -> Vec<String> {
        vec![
            "--passphrase-file".into(),
            self.pass.to_string_lossy().into_owned(),
        ]
    }

    /// Runs with the passphrase file (and cheap KDF flags for init); expects success.
    fn ok(&self, args: &[&str], extra: &[&str]) -> Vec<u8> {
        let out = self.run(args, extra);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        out.stdout
    }

    fn run(&self, args: &[&str], extra: &[&str]) -> std::process::Output {
        let mut cmd = self.env.cmd();
        cmd.args(args).args(self.pass_arg()).args(extra);
        if args == ["vault", "init"] {
            cmd.args(CHEAP);
        }
        cmd.output().expect("runs")
    }

    fn keep(&self, name: &str) -> String {
        let out = self.ok(&["create", "--name", name, "--keep", "-q"], &[]);
        String::from_utf8(out).expect("utf-8").trim().to_owned()
    }

    fn reveal(&self, name: &str) -> String {
        String::from_utf8(self.ok(&["vault", "reveal", name], &[])).expect("utf-8")
    }

    fn status(&self) -> Value {
        self.env.json(&["vault", "status"])
    }

    fn export(&self, file: &str) -> Vec<u8> {
        let path = self.env.tmp.path().join(file);
        self.ok(&["vault", "export", &path.to_string_lossy()], &[]);
        fs::read(path).expect("export written")
    }
}

/// `vault reveal NAME` with the passphrase from `pass`.
fn reveal_with(env: &Env, name: &str, pass: &Path) -> std::process::Output {
    env.cmd()
        .args(["vault", "reveal", name, "--passphrase-file"])
        .arg(pass)
        .output()
        .expect("runs")
}

fn write(env: &Env, name: &str, contents: &str) -> PathBuf {
    let path = env.tmp.path().join(name);
    fs::write(&path, contents).expect("write");
    path
}

#[test]
fn keep_reveal_status_forget_round_trip() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let status = v.status();
        assert_eq!(
            keys(&status),
            sorted(&["initialized", "vault_id", "kdf", "kept"])
        );
        assert_eq!(status["initialized"], true);
        assert_eq!(status["kept"], 0);
        assert_eq!(
            status["kdf"],
            serde_json::json!({"algorithm": "argon2id", "version": 19, "memory_kib": 8192, "iterations": 1, "parallelism": 1})
        );
        assert_eq!(status["vault_id"].as_str().map(str::len), Some(32));

        let t = v.keep("pos");
        v.env.create("plain");
        assert_eq!(
            v.reveal("pos"),
            format!("{t}\n"),
            "the kept token alone on stdout"
        );
        let json: Value = parse(&v.ok(&["vault", "reveal", "pos", "--json"], &[]));
        assert_eq!(json["token"], t.as_str());
        assert_eq!(json["name"], "pos");
        assert_eq!(v.status()["kept"], 1);
        assert_eq!(v.env.record("pos")["kept"], true);
        assert_eq!(v.env.record("plain")["kept"], false);
        let listed = v.env.json(&["list"]);
        let kept: Vec<bool> = listed
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["kept"] == true)
            .collect();
        assert_eq!(kept, [true, false]);

        // A token without a kept secret.
        let out = v.run(&["vault", "reveal", "plain"], &[]);
        assert!(assert_one_line_error(&out, 4).contains("no kept secret"));

        // Forget: the secret is gone, the token still works.
        v.env.ok(&["vault", "forget", "pos"]);
        assert_eq!(v.status()["kept"], 0);
        assert_eq!(v.env.verify(&t, &[]).0, 0);
        assert_one_line_error(&v.run(&["vault", "reveal", "pos"], &[]), 4);
        let again = v.env.json(&["vault", "forget", "pos"]);
        assert_eq!(again["forgotten"], false);

        let events: Vec<String> = v
            .env
            .json(&["log"])
            .as_array()
            .expect("array")
            .iter()
            .map(|e| e["event"].as_str().expect("event").to_owned())
            .collect();
        for kind in ["vault_init", "revealed", "forgotten"] {
            assert!(
                events.iter().any(|e| e == kind),
                "{kind} missing from {events:?}"
            );
        }
    }
}

#[test]
fn status_without_a_vault_or_a_store() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let none =
            serde_json::json!({"initialized": false, "vault_id": null, "kdf": null, "kept": 0});
        // No store is no store, as for every other command that reads one.
        let out = env.run(&["vault", "status"]);
        assert!(assert_one_line_error(&out, 6).contains("no store at"));
        env.create("a");
        assert_eq!(env.json(&["vault", "status"]), none);
        let text = env.ok(&["vault", "status"]);
        assert!(String::from_utf8_lossy(&text).contains("not initialised"));
    }
}

#[test]
fn vault_commands_without_a_vault_exit_4_and_change_nothing() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("a");
        let pass = write(&env, "p", PASS);
        let before = env.snapshot();
        for args in [
            &["create", "--name", "b", "--keep"][..],
            &["vault", "reveal", "a"],
            &["vault", "passwd", "--new-passphrase-file"],
            &["vault", "forget", "a"],
        ] {
            let mut cmd = env.cmd();
            cmd.args(args);
            if args.last() == Some(&"--new-passphrase-file") {
                cmd.arg(&pass);
            }
            if args[..2] != ["vault", "forget"] {
                cmd.arg("--passphrase-file").arg(&pass);
            }
            let out = cmd.output().expect("runs");
            let err = assert_one_line_error(&out, 4);
            assert!(err.contains("vault init"), "{err}");
        }
        assert_eq!(env.snapshot(), before);
    }
}

#[test]
fn init_refuses_weak_parameters_and_a_second_vault() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let pass = write(&env, "p", PASS);
        // Each flag's both bounds, from `vault init` and `vault passwd`: a bad flag (2) that says
        // so, never "vault damaged".
        for (flag, value, range) in [
            ("--kdf-memory-mib", "7", "8 to 4096"),
            ("--kdf-memory-mib", "4097", "8 to 4096"),
            // Past what any integer type holds: the same sentence, never "too large to fit".
            ("--kdf-memory-mib", "18446744073709551616", "8 to 4096"),
            ("--kdf-iterations", "0", "1 to 64"),
            ("--kdf-iterations", "65", "1 to 64"),
            ("--kdf-parallelism", "0", "1 to 16"),
            ("--kdf-parallelism", "17", "1 to 16"),
        ] {
            for sub in ["init", "passwd"] {
                let out = env
                    .cmd()
                    .args(["vault", sub, flag, value])
                    .arg("--passphrase-file")
                    .arg(&pass)
                    .output()
                    .expect("runs");
                let err = assert_one_line_error(&out, 2);
                let metavar = if flag == "--kdf-memory-mib" {
                    "MIB"
                } else {
                    "N"
                };
                assert_eq!(
                    err,
                    format!(
                        "vbx-tokens: invalid value '{value}' for '{flag} <{metavar}>': {value} is not from {range} (see --help)\n"
                    )
                );
            }
        }
        // --help gives both bounds of each.
        for sub in ["init", "passwd"] {
            let help = String::from_utf8(env.ok(&["vault", sub, "--help"])).expect("utf-8");
            for bounds in ["8 to 4096", "1 to 64", "1 to 16"] {
                assert!(help.contains(bounds), "{sub} --help lacks {bounds}: {help}");
            }
        }
        assert!(!env.store().exists());
        let v = VaultEnv { env, pass };
        v.ok(&["vault", "init"], &[]);
        let out = v.run(&["vault", "init"], &[]);
        assert!(assert_one_line_error(&out, 4).contains("already has a vault"));
    }
}

#[test]
fn wrong_passphrase_is_exit_4_and_says_so() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        v.keep("pos");
        let wrong = write(&v.env, "wrong", "not it\n");
        let out = reveal_with(&v.env, "pos", &wrong);
        let err = assert_one_line_error(&out, 4);
        assert!(err.contains("wrong passphrase"), "{err}");
        assert!(!err.contains("not it"), "the passphrase is never echoed");
    }
}

/// `create` and `rotate` open the vault only with `--keep`: a passphrase file typed without it
/// would go unread, so it is refused; the same file from the environment is left alone.
#[test]
fn a_passphrase_file_typed_without_keep_is_refused_and_changes_nothing() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let file = write(&v.env, "pass", &format!("{PASS}\n"));
        let file = file.to_str().expect("utf-8");
        v.env.create("pos");
        let before = v.env.snapshot();
        for args in [
            vec!["create", "--name", "other", "--passphrase-file", file],
            vec!["rotate", "pos", "--passphrase-file", file],
        ] {
            let err = assert_one_line_error(&v.env.run(&args), 2);
            assert!(err.contains("only with --keep"), "{err}");
        }
        assert_eq!(v.env.snapshot(), before);
        let out = v
            .env
            .cmd()
            .env("VBX_TOKENS_PASSPHRASE_FILE", "/nonexistent")
            .args(["create", "--name", "other", "-q"])
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let out = v.env.run(&[
            "create",
            "--name",
            "third",
            "--keep",
            "--passphrase-file",
            file,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

#[test]
fn passphrase_sources_and_their_exclusivity() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let t = v.keep("pos");
        let reveal = |configure: &dyn Fn(&mut assert_cmd::Command)| {
            let mut cmd = v.env.cmd();
            cmd.args(["vault", "reveal", "pos"]);
            configure(&mut cmd);
            cmd.output().expect("runs")
        };
        let revealed =
            |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).trim().to_owned();

        // Each source alone works; a file may end in LF, CRLF or nothing.
        for (name, body) in [
            ("lf", format!("{PASS}\n")),
            ("crlf", format!("{PASS}\r\n")),
            ("bare", PASS.to_owned()),
        ] {
            let file = write(&v.env, name, &body);
            let out = reveal(&|c| {
                c.arg("--passphrase-file").arg(&file);
            });
            assert_eq!(revealed(&out), t, "{name}: {}", stderr(&out));
            let out = reveal(&|c| {
                c.env("VBX_TOKENS_PASSPHRASE_FILE", &file);
            });
            assert_eq!(revealed(&out), t, "{name} via env: {}", stderr(&out));
        }
        let out = reveal(&|c| {
            c.env("VBX_TOKENS_PASSPHRASE", PASS);
        });
        assert_eq!(revealed(&out), t, "{}", stderr(&out));

        // Only one trailing newline is stripped: two make a different passphrase.
        let two = write(&v.env, "two", &format!("{PASS}\n\n"));
        assert_one_line_error(
            &reveal(&|c| {
                c.arg("--passphrase-file").arg(&two);
            }),
            4,
        );
        // Empty, missing, and none at all.
        let empty = write(&v.env, "empty", "\n");
        let err = assert_one_line_error(
            &reveal(&|c| {
                c.arg("--passphrase-file").arg(&empty);
            }),
            4,
        );
        assert!(err.contains("empty"), "{err}");
        assert_one_line_error(
            &reveal(&|c| {
                c.env("VBX_TOKENS_PASSPHRASE", "");
            }),
            4,
        );
        // A file the user named that cannot be read is bad input, with the OS's reason.
        let missing = v.env.tmp.path().join("missing");
        let err = assert_one_line_error(
            &reveal(&|c| {
                c.arg("--passphrase-file").arg(&missing);
            }),
            2,
        );
        assert!(
            err.ends_with(&format!(
                "cannot read the passphrase file {}: no such file or directory\n",
                missing.display()
            )),
            "{err}"
        );
        // Endless or huge: read up to a bound, then refused.
        let err = assert_one_line_error(
            &reveal(&|c| {
                c.arg("--passphrase-file").arg("/dev/zero");
            }),
            2,
        );
        assert!(err.contains("longer than 4096 bytes"), "{err}");
        // The environment variable is taken exactly as it is: a newline is part of it.
        assert_one_line_error(
            &reveal(&|c| {
                c.env("VBX_TOKENS_PASSPHRASE", format!("{PASS}\n"));
            }),
            4,
        );
        let err = assert_one_line_error(&reveal(&|_| {}), 4);
        assert!(
            err.contains("--passphrase-file") && err.contains("VBX_TOKENS_PASSPHRASE"),
            "{err}"
        );
        // Two sources at once is a usage error, whichever file source it is.
        let file = v.pass.clone();
        let err = assert_one_line_error(
            &reveal(&|c| {
                c.arg("--passphrase-file")
                    .arg(&file)
                    .env("VBX_TOKENS_PASSPHRASE", PASS);
            }),
            2,
        );
        assert!(err.contains("one way"), "{err}");
        assert_one_line_error(
            &reveal(&|c| {
                c.env("VBX_TOKENS_PASSPHRASE_FILE", &file)
                    .env("VBX_TOKENS_PASSPHRASE", PASS);
            }),
            2,
        );
        // The passphrase is never an argument.
        let out = v
            .env
            .cmd()
            .args(["vault", "reveal", "pos", "--passphrase", PASS])
            .output()
            .expect("runs");
        assert_eq!(code(&out), 2);
    }
}

#[test]
fn passwd_rewraps_the_key_and_leaves_records_alone() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let t = v.keep("pos");
        v.keep("crm");
        let before = v.export("before.vbxvault");
        let new = write(&v.env, "new", "a new passphrase\n");
        let status = v.env.json(&[
            "vault",
            "passwd",
            "--new-passphrase-file",
            &new.to_string_lossy(),
            "--passphrase-file",
            &v.pass.to_string_lossy(),
            "--kdf-memory-mib",
            "9",
        ]);
        assert_eq!(status["kdf"]["memory_kib"], 9 * 1024);
        assert_eq!(
            status["kdf"]["iterations"], 1,
            "unchanged parameters are kept"
        );

        // The old passphrase fails, the new one works.
        assert_one_line_error(&v.run(&["vault", "reveal", "pos"], &[]), 4);
        let out = reveal_with(&v.env, "pos", &new);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), t);

        // The records, and the vault id, are byte for byte what they were.
        let new_pass = VaultEnv {
            env: Env::new(),
            pass: new,
        };
        let path = v.env.tmp.path().join("after.vbxvault");
        let out = v
            .env
            .cmd()
            .args(["vault", "export"])
            .arg(&path)
            .arg("--passphrase-file")
            .arg(&new_pass.pass)
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let after = fs::read(path).expect("read");
        assert_eq!(before[10..26], after[10..26], "same vault id");
        assert_ne!(
            before[..HEADER_LEN],
            after[..HEADER_LEN],
            "new salt and wrapped key"
        );
        assert_eq!(
            before[HEADER_LEN..before.len() - TRAILER_LEN],
            after[HEADER_LEN..after.len() - TRAILER_LEN]
        );

        // Without a terminal, a new passphrase must come from a file.
        let out = v
            .env
            .cmd()
            .args(["vault", "passwd"])
            .env("VBX_TOKENS_PASSPHRASE", "a new passphrase")
            .output()
            .expect("runs");
        assert!(assert_one_line_error(&out, 4).contains("--new-passphrase-file"));
    }
}

#[test]
fn revoke_erases_the_kept_secret() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        v.keep("pos");
        v.keep("crm");
        v.env.ok(&["revoke", "pos", "--yes"]);
        assert_eq!(v.status()["kept"], 1);
        assert_eq!(v.env.record("pos")["kept"], false);
        assert!(
            assert_one_line_error(&v.run(&["vault", "reveal", "pos"], &[]), 4)
                .contains("no kept secret")
        );
        let exported = v.export("e.vbxvault");
        assert_eq!(
            u32::from_be_bytes(exported[HEADER_LEN..HEADER_LEN + 4].try_into().expect("4")),
            1
        );
    }
}

#[test]
fn export_then_import_into_a_store_without_a_vault_adopts_it() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let t = v.keep("pos");
        let file = v.env.tmp.path().join("backup.vbxvault");
        v.ok(&["vault", "export", &file.to_string_lossy()], &[]);
        let bytes = fs::read(&file).expect("read");
        assert_eq!(&bytes[..8], b"VBXVAULT");
        // The same file again is refused rather than overwritten.
        let out = v.run(&["vault", "export", &file.to_string_lossy()], &[]);
        assert!(assert_one_line_error(&out, 2).contains("already exists"));
        // To stdout, for a pipe.
        let piped = v.ok(&["vault", "export", "-"], &[]);
        assert_eq!(piped.len(), bytes.len());

        // Into a store with no vault and none of the file's tokens: the vault is adopted as it is,
        // and the record is skipped and named.
        let other = VaultEnv {
            env: Env::new(),
            pass: v.pass.clone(),
        };
        other.env.create("unrelated");
        let json: Value =
            parse(&other.ok(&["vault", "import", &file.to_string_lossy(), "--json"], &[]));
        assert_eq!(json["imported"], serde_json::json!([]));
        assert_eq!(json["skipped"].as_array().map(Vec::len), Some(1));
        // The adopted vault is the file's: same id, unlocked by the file's passphrase.
        assert_eq!(other.status()["vault_id"], v.status()["vault_id"]);
        assert_eq!(other.status()["kept"], 0);

        // Into the original store (which has the token and a vault): re-kept after a forget.
        v.env.ok(&["vault", "forget", "pos"]);
        let json: Value =
            parse(&v.ok(&["vault", "import", &file.to_string_lossy(), "--json"], &[]));
        assert_eq!(json["imported"].as_array().map(Vec::len), Some(1));
        assert_eq!(v.reveal("pos").trim(), t);
    }
}

#[test]
fn import_into_another_vault_reencrypts_under_it() {
    // Store A keeps a token; store B is a copy of A's token records (same ids) made by
    // adopting A's export first, then changing B's passphrase so the two vaults differ.
    let a = VaultEnv::new();
    let t = a.keep("pos");
    let file = a.env.tmp.path().join("a.vbxvault");
    a.ok(&["vault", "export", &file.to_string_lossy()], &[]);

    // B: A's store directory copied (same token ids), with its own new vault.
    let b = Env::new();
    copy_dir(&a.env.store(), &b.store());
    let b_pass = write(&b, "b.pass", "bee passphrase\n");
    let b_new = write(&b, "b.new", "bee passphrase two\n");
    b.cmd()
        .args(["vault", "passwd", "--passphrase-file"])
        .arg(&a.pass)
        .arg("--new-passphrase-file")
        .arg(&b_pass)
        .assert()
        .success();
    b.ok(&["vault", "forget", "pos"]);
    b.cmd()
        .args(["vault", "passwd", "--passphrase-file"])
        .arg(&b_pass)
        .arg("--new-passphrase-file")
        .arg(&b_new)
        .assert()
        .success();

    // The file's passphrase differs from B's: given with --from-passphrase-file.
    let out = b
        .cmd()
        .args(["vault", "import"])
        .arg(&file)
        .arg("--passphrase-file")
        .arg(&b_new)
        .arg("--from-passphrase-file")
        .arg(&a.pass)
        .output()
        .expect("runs");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let out = reveal_with(&b, "pos", &b_new);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), t);

    // Without --from-passphrase-file, B's own passphrase is tried on the file: wrong, exit 4.
    let before = b.snapshot();
    let out = b
        .cmd()
        .args(["vault", "import"])
        .arg(&file)
        .arg("--passphrase-file")
        .arg(&b_new)
        .output()
        .expect("runs");
    let err = assert_one_line_error(&out, 4);
    assert!(err.contains("wrong passphrase for"), "{err}");
    assert_eq!(b.snapshot(), before);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_tampered_export_is_refused_whole_and_nothing_changes() {
    let v = VaultEnv::new();
    v.keep("pos");
    v.keep("crm");
    let good = v.export("good.vbxvault");
    v.env.ok(&["vault", "forget", "pos"]);
    v.env.ok(&["vault", "forget", "crm"]);
    let before = v.env.snapshot();
    let status = v.status();
    // Every byte is checked by the unit tests; here a spread of them through the real binary,
    // covering the header, the count, both records and the trailer. A flip in the magic or the
    // version makes it no export at all (2); anywhere else it is an export that is not what was
    // written, so it does not authenticate (4).
    let records = 163 + 4;
    let record_len = 1 + 12 + 4 + 80;
    let expected = |i: usize| -> i32 { if i < 10 { 2 } else { 4 } };
    assert_eq!(good.len(), records + 2 * record_len + 40);
    let positions: Vec<usize> = (0..good.len())
        .step_by(7)
        .chain([records, records + 13, records + record_len, good.len() - 1])
        .collect();
    for i in positions {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        let path = v.env.tmp.path().join(format!("bad-{i}"));
        fs::write(&path, bad).expect("write");
        let out = v.run(&["vault", "import", &path.to_string_lossy()], &[]);
        let err = assert_one_line_error(&out, expected(i));
        let said = if expected(i) == 2 {
            "is not a vbx-tokens vault export"
        } else {
            "does not authenticate"
        };
        assert!(err.contains(said), "byte {i}: {err}");
        assert!(err.contains("nothing was imported"), "byte {i}: {err}");
    }
    let truncated = v.env.tmp.path().join("short");
    fs::write(&truncated, &good[..good.len() - 1]).expect("write");
    let err = assert_one_line_error(
        &v.run(&["vault", "import", &truncated.to_string_lossy()], &[]),
        4,
    );
    assert!(err.contains("cut short"), "{err}");
    // Not an export at all, and another store's data file: 2, never "store damaged".
    for (name, bytes) in [
        ("empty", Vec::new()),
        ("text", b"hello\n".to_vec()),
        ("db", fs::read(v.env.store().join("db")).expect("db")),
    ] {
        let path = v.env.tmp.path().join(name);
        fs::write(&path, bytes).expect("write");
        let err = assert_one_line_error(
            &v.run(&["vault", "import", &path.to_string_lossy()], &[]),
            2,
        );
        assert!(
            err.contains("is not a vbx-tokens vault export"),
            "{name}: {err}"
        );
    }
    assert_eq!(v.env.snapshot(), before);
    assert_eq!(v.status(), status);
}

#[test]
fn hostile_kdf_parameters_are_refused_before_the_kdf_runs() {
    for v in VaultEnv::engines() {
        eprintln!("engine: {}", v.env.engine());
        let good = v.export("good.vbxvault");
        // Iterations = u32::MAX would keep Argon2 busy for days: finishing at all proves it never ran.
        // Memory = u32::MAX KiB (4 TiB) would abort the allocation.
        for (offset, value) in [(35usize, u32::MAX), (31, u32::MAX), (39, 255), (35, 65)] {
            let mut bad = good.clone();
            bad[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
            let sum = Sha256::digest(&bad[..131]);
            bad[131..163].copy_from_slice(&sum);
            let path = v.env.tmp.path().join(format!("hostile-{offset}-{value}"));
            fs::write(&path, bad).expect("write");
            let out = v.run(&["vault", "import", &path.to_string_lossy()], &[]);
            // An export made to be refused: it does not authenticate, and it is never the store's.
            let err = assert_one_line_error(&out, 4);
            assert!(err.contains("out of bounds"), "{err}");
        }
    }
}

#[test]
fn no_plaintext_token_or_passphrase_on_disk() {
    let v = VaultEnv::new();
    let tokens = [v.keep("a"), v.keep("b")];
    v.reveal("a");
    let export = v.export("e.vbxvault");
    let mut files: Vec<(String, Vec<u8>)> = files_under(&v.env.store())
        .into_iter()
        .map(|f| (f.display().to_string(), fs::read(&f).expect("read")))
        .collect();
    files.push(("export".into(), export));
    for (name, bytes) in files {
        for needle in tokens
            .iter()
            .map(|t| &t.as_bytes()[4..34])
            .chain([PASS.as_bytes()])
        {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} holds a secret in plaintext"
            );
        }
    }
}

/// An export written by vbx-tokens 0.1.0 (vault format 1) must open with every later build.
#[test]
fn the_committed_v1_fixture_still_opens() {
    use vbx_tokens::vault::{Export, Vault};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-v1");
    let expected: Value = parse(&fs::read(dir.join("expected.json")).expect("expected.json"));
    let bytes = fs::read(dir.join("export.vbxvault")).expect("fixture");
    let export = Export::parse(bytes).expect("parses");
    // A passphrase file's one trailing newline is not part of the passphrase.
    let text = fs::read_to_string(dir.join("passphrase.txt")).expect("passphrase");
    let pass = secrecy::SecretString::from(text.strip_suffix('\n').unwrap_or(&text).to_owned());
    let vault = Vault::unlock(export.header(), &pass).expect("unlocks");
    let opened: serde_json::Map<String, Value> = export
        .open(&vault)
        .expect("authenticates")
        .into_iter()
        .map(|(id, secret)| (id, Value::from(std::str::from_utf8(&secret).expect("text"))))
        .collect();
    assert_eq!(Value::Object(opened), expected["secrets"]);
}

/// A record line for `import` that gives a kept token's id another token.
fn impostor_line(id: &str, name: &str) -> String {
    let other = vbx_tokens::token::Token::generate();
    format!(
        r#"{{"id":"{id}","name":"{name}","token":"{}"}}"#,
        other.expose()
    )
}

#[test]
fn a_secret_that_is_not_its_records_token_is_named_and_skipped() {
    let a = VaultEnv::new();
    let pos = a.keep("pos");
    let crm = a.keep("crm");
    let pos_id = a.env.record("pos")["id"].as_str().expect("id").to_owned();
    let crm_id = a.env.record("crm")["id"].as_str().expect("id").to_owned();
    let export = a.export("a.vbxvault");
    let file = a.env.tmp.path().join("a.vbxvault");
    let file = file.to_string_lossy();

    // Store B knows crm as it is, but has pos's id on another token.
    for with_vault in [false, true] {
        let b = if with_vault {
            VaultEnv::new()
        } else {
            VaultEnv {
                env: Env::new(),
                pass: a.pass.clone(),
            }
        };
        let lines = format!(
            "{}\n{}\n",
            impostor_line(&pos_id, "pos"),
            String::from_utf8(a.env.ok(&["export"]))
                .expect("utf-8")
                .lines()
                .find(|l| l.contains(&crm_id))
                .expect("crm's record")
        );
        let out = b.env.run_in(&["import", "-"], lines);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let out = b.run(
            &["vault", "import", &file, "--json"],
            &["--from-passphrase-file", &a.pass.to_string_lossy()],
        );
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(
            parse(&out.stdout),
            serde_json::json!({"imported": [crm_id], "skipped": [pos_id], "mismatched": [pos_id]})
        );
        // Only the secret that is its record's token is kept; it reveals, and verifies.
        assert_eq!(b.reveal("crm").trim(), crm);
        let out = b.run(&["vault", "reveal", "pos"], &[]);
        let err = assert_one_line_error(&out, 4);
        assert!(err.contains("has no kept secret"), "{err}");
        assert_eq!(b.env.verify(&crm, &["--no-touch"]).0, 0);
        assert_eq!(b.env.verify(&pos, &["--no-touch"]).0, 1);
        // In text, the mismatch is named.
        let out = b.run(
            &["vault", "import", &file],
            &["--from-passphrase-file", &a.pass.to_string_lossy()],
        );
        assert!(
            stderr(&out).contains(&format!(
                "Skipped 1 secret(s) that are not the token this store has by that id (the SHA-256 differs): {pos_id}"
            )),
            "{}",
            stderr(&out)
        );
    }
    assert!(!export.is_empty());
}

#[test]
fn a_record_that_appears_twice_in_an_export_counts_once() {
    use vbx_tokens::vault::{Export, Vault};
    let a = VaultEnv::new();
    a.keep("pos");
    let bytes = a.export("a.vbxvault");
    let parsed = Export::parse(bytes.clone()).expect("parses");
    let pass = secrecy::SecretString::from(PASS.to_owned());
    let vault = Vault::unlock(parsed.header(), &pass).expect("unlocks");
    let mut records: Vec<(String, Vec<u8>)> = parsed
        .sealed_records()
        .map(|(id, sealed)| (id.to_owned(), sealed.to_vec()))
        .collect();
    records.push(records[0].clone());
    let doubled = a.env.tmp.path().join("doubled.vbxvault");
    fs::write(&doubled, vault.export(&records)).expect("write");

    let b = VaultEnv {
        env: Env::new(),
        pass: a.pass.clone(),
    };
    let records = a.env.ok(&["export"]);
    assert_eq!(code(&b.env.run_in(&["import", "-"], records)), 0);
    let out = b.run(
        &["vault", "import", &doubled.to_string_lossy(), "--json"],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let id = a.env.record("pos")["id"].clone();
    assert_eq!(
        parse(&out.stdout),
        serde_json::json!({"imported": [id], "skipped": [], "mismatched": []})
    );
    assert_eq!(b.status()["kept"], 1);
}

#[test]
fn a_new_passphrase_is_one_line() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let init = |configure: &dyn Fn(&mut assert_cmd::Command)| {
            let mut cmd = env.cmd();
            cmd.args(["vault", "init"]).args(CHEAP);
            configure(&mut cmd);
            cmd.output().expect("runs")
        };
        let two = write(&env, "two", "first\nsecond\n");
        let out = init(&|c| {
            c.arg("--passphrase-file").arg(&two);
        });
        assert_eq!(
            assert_one_line_error(&out, 4),
            format!(
                "vbx-tokens: the passphrase from the passphrase file {} holds a line break (or a NUL): a passphrase is one line, so that a prompt can type it\n",
                two.display()
            )
        );
        let cr = write(&env, "cr", "first\rsecond");
        assert_one_line_error(
            &init(&|c| {
                c.arg("--passphrase-file").arg(&cr);
            }),
            4,
        );
        let blank_second = write(&env, "blank", "first\n\n");
        assert_one_line_error(
            &init(&|c| {
                c.arg("--passphrase-file").arg(&blank_second);
            }),
            4,
        );
        // From the environment nothing is stripped, so a trailing newline is a second line.
        let out = init(&|c| {
            c.env("VBX_TOKENS_PASSPHRASE", "first\n");
        });
        assert_eq!(
            assert_one_line_error(&out, 4),
            "vbx-tokens: the passphrase from VBX_TOKENS_PASSPHRASE holds a line break (or a NUL): a passphrase is one line, so that a prompt can type it\n"
        );
        assert!(!env.store().exists());
        // One line, ended by LF or CRLF or nothing, is the passphrase without its ending.
        let crlf = write(&env, "crlf", &format!("{PASS}\r\n"));
        let out = init(&|c| {
            c.arg("--passphrase-file").arg(&crlf);
        });
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        // passwd holds a new passphrase to the same rule.
        let out = env
            .cmd()
            .args(["vault", "passwd", "--passphrase-file"])
            .arg(&crlf)
            .arg("--new-passphrase-file")
            .arg(&two)
            .output()
            .expect("runs");
        assert!(assert_one_line_error(&out, 4).contains("holds a line break"));
        // The passphrase set from a CRLF file is the bare line: the environment opens the vault.
        env.ok(&[
            "create",
            "--name",
            "k",
            "--keep",
            "--passphrase-file",
            &crlf.to_string_lossy(),
        ]);
        let out = env
            .cmd()
            .args(["vault", "reveal", "k"])
            .env("VBX_TOKENS_PASSPHRASE", PASS)
            .output()
            .expect("runs");
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}
