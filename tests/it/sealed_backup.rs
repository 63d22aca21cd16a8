//! A backup of a store with a vault needs no passphrase (README, "backup, restore, doctor"):
//! the vault goes in sealed and comes back sealed; the passphrase is needed only to reveal.

use crate::common::*;

#[test]
fn a_cron_backup_without_any_passphrase_restores_and_reveals_with_it() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, kept) = env.vault_with("kept");
        env.create("plain");
        // Cron: no terminal, no passphrase in the environment (Env clears every variable of ours),
        // none on the command line.
        let file = env.tmp.path().join("nightly.vbxbackup");
        let out = env.run(&["backup", file.to_str().expect("utf-8")]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert!(stderr(&out).contains("and the vault"), "{}", stderr(&out));
        // Neither the passphrase nor the token is in the file.
        let bytes = std::fs::read(&file).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&kept) && !text.contains("correct horse"));

        let fresh = Env::new();
        let out = fresh.run(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        assert_eq!(
            code(&out),
            0,
            "restored without a passphrase: {}",
            stderr(&out)
        );
        assert!(stdout(&fresh.run(&["vault", "status"])).contains("initialised"));
        let out = fresh.run(&["vault", "reveal", "kept", "--passphrase-file", &pass]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), kept);

        // A wrong passphrase still opens nothing.
        let wrong = fresh.tmp.path().join("wrong.pass");
        std::fs::write(&wrong, "not it\n").expect("write");
        let out = fresh.run(&[
            "vault",
            "reveal",
            "kept",
            "--passphrase-file",
            wrong.to_str().expect("utf-8"),
        ]);
        assert_one_line_error(&out, 4);
    }
}

#[test]
fn a_passphrase_given_to_backup_or_restore_is_checked_against_every_secret() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, _) = env.vault_with("kept");
        let wrong = env.tmp.path().join("wrong.pass");
        std::fs::write(&wrong, "not it\n").expect("write");
        let file = env.tmp.path().join("b.vbxbackup");
        let out = env.run(&[
            "backup",
            file.to_str().expect("utf-8"),
            "--passphrase-file",
            wrong.to_str().expect("utf-8"),
        ]);
        assert_one_line_error(&out, 4);
        assert!(!file.exists(), "no backup written");
        env.ok(&[
            "backup",
            file.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        let fresh = Env::new();
        let out = fresh.run(&[
            "restore",
            file.to_str().expect("utf-8"),
            "--yes",
            "--passphrase-file",
            wrong.to_str().expect("utf-8"),
        ]);
        assert_one_line_error(&out, 4);
        assert!(!fresh.store().join("db").exists(), "nothing restored");
    }
}

#[test]
fn a_changed_sealed_secret_in_a_backup_is_found_at_reveal_not_silently_kept() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, _) = env.vault_with("kept");
        let file = env.tmp.path().join("b.vbxbackup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        // Flip the last byte of the sealed vault (inside the last secret's tag), then make the
        // file's own hash match again, as a forger would.
        reforge_backup(&file, |lines| {
            let at = lines
                .iter()
                .position(|l| l.starts_with(r#"{"vault""#))
                .expect("vault line");
            let v: serde_json::Value = serde_json::from_str(&lines[at]).expect("json");
            let mut bytes = hex::decode(v["vault"].as_str().expect("hex")).expect("hex");
            *bytes.last_mut().expect("bytes") ^= 1;
            lines[at] = format!(r#"{{"vault":"{}"}}"#, hex::encode(bytes));
        });
        let fresh = Env::new();
        // With the passphrase, restore finds it at once.
        let out = fresh.run(&[
            "restore",
            file.to_str().expect("utf-8"),
            "--yes",
            "--passphrase-file",
            &pass,
        ]);
        assert_one_line_error(&out, 4);
        // Without, it is restored sealed, and the secret does not open: never a wrong token.
        fresh.ok(&["restore", file.to_str().expect("utf-8"), "--yes"]);
        let out = fresh.run(&["vault", "reveal", "kept", "--passphrase-file", &pass]);
        assert_ne!(code(&out), 0);
        assert_eq!(stdout(&out), "");
    }
}

/// A passphrase file named is read even when there is no vault to check it against (a store or
/// a backup with none): one that cannot be read is exit 2 and changes nothing, as everywhere.
#[test]
fn every_passphrase_file_named_is_read_even_with_no_vault_to_check() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        env.create("plain");
        let dir = env.tmp.path();
        let fifo = dir.join("fifo");
        mkfifo(&fifo);
        let good = dir.join("good.pass");
        std::fs::write(&good, "correct horse\n").expect("write");
        let backup = dir.join("b.vbxbackup");
        // A FIFO with no writer reads as empty, as everywhere (README, "Named pipes and devices").
        let bad: [(std::path::PathBuf, i32); 4] = [
            (dir.join("missing"), 2),
            (dir.to_owned(), 2),
            ("/dev/zero".into(), 2),
            (fifo, 4),
        ];
        for (file, wanted) in &bad {
            let out = env.run(&[
                "backup",
                backup.to_str().expect("utf-8"),
                "--passphrase-file",
                file.to_str().expect("utf-8"),
            ]);
            let err = assert_one_line_error(&out, *wanted);
            assert!(err.contains("passphrase file"), "{err}");
            assert!(!backup.exists(), "{file:?}: a backup was written");
        }
        let out = env.run(&[
            "backup",
            backup.to_str().expect("utf-8"),
            "--passphrase-file",
            good.to_str().expect("utf-8"),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let fresh = Env::new();
        for (file, wanted) in &bad {
            let out = fresh.run(&[
                "restore",
                backup.to_str().expect("utf-8"),
                "--yes",
                "--passphrase-file",
                file.to_str().expect("utf-8"),
            ]);
            assert_one_line_error(&out, *wanted);
            assert!(!fresh.store().exists(), "{file:?}: a store was made");
        }
        let out = fresh.run(&[
            "restore",
            backup.to_str().expect("utf-8"),
            "--yes",
            "--passphrase-file",
            good.to_str().expect("utf-8"),
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
}

/// Into a store with no vault, `vault import` adopts the file's vault with its own passphrase:
/// `--from-passphrase-file` names it as well as `--passphrase-file` does, and two that differ
/// are refused rather than one of them ignored.
#[test]
fn vault_import_into_a_store_with_no_vault_reads_the_file_passphrase_it_is_given() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, kept) = env.vault_with("kept");
        let export = env.tmp.path().join("v.export");
        let out = env.run(&[
            "vault",
            "export",
            export.to_str().expect("utf-8"),
            "--passphrase-file",
            &pass,
        ]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let other = env.tmp.path().join("other.pass");
        std::fs::write(&other, "another one\n").expect("write");
        let missing = env.tmp.path().join("missing");

        // The records first (and no vault): a store the kept secret's token is in.
        let fresh = Env::new();
        let lines = env.run(&["export"]).stdout;
        let out = fresh.run_in(&["import", "-"], lines);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let import = |extra: &[&str]| {
            let mut args = vec!["vault", "import", export.to_str().expect("utf-8")];
            args.extend_from_slice(extra);
            fresh.run(&args)
        };
        let missing = missing.to_str().expect("utf-8");
        let other = other.to_str().expect("utf-8");
        assert_one_line_error(&import(&["--from-passphrase-file", missing]), 2);
        assert_one_line_error(
            &import(&[
                "--from-passphrase-file",
                &pass,
                "--passphrase-file",
                missing,
            ]),
            2,
        );
        let err = assert_one_line_error(
            &import(&["--from-passphrase-file", &pass, "--passphrase-file", other]),
            2,
        );
        assert!(err.contains("two different"), "{err}");
        assert_one_line_error(&import(&["--from-passphrase-file", other]), 4);
        assert!(stdout(&fresh.run(&["vault", "status"])).contains("not initialised"));
        let out = import(&["--from-passphrase-file", &pass]);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let out = fresh.run(&["vault", "reveal", "kept", "--passphrase-file", &pass]);
        assert_eq!(stdout(&out).trim(), kept, "{}", stderr(&out));
    }
}

#[test]
fn a_backup_whose_vault_header_asks_for_key_derivation_out_of_bounds_is_refused() {
    for env in Env::engines() {
        eprintln!("engine: {}", env.engine());
        let (pass, _) = env.vault_with("kept");
        let file = env.tmp.path().join("b.vbxbackup");
        env.ok(&["backup", file.to_str().expect("utf-8")]);
        let original = std::fs::read(&file).expect("backup");
        // Memory (KiB), iterations, lanes: each u32 of the header (bytes 31, 35, 39), with the
        // header's checksum and the file's hash made to match, as a forger would.
        for (at, value) in [
            (31, u32::MAX),
            (31, 1),
            (35, 0),
            (35, 65),
            (39, 0),
            (39, u32::MAX),
        ] {
            std::fs::write(&file, &original).expect("put back");
            reforge_backup(&file, |lines| {
                let line = lines
                    .iter()
                    .position(|l| l.starts_with(r#"{"vault""#))
                    .expect("vault line");
                let v: serde_json::Value = serde_json::from_str(&lines[line]).expect("json");
                let mut bytes = hex::decode(v["vault"].as_str().expect("hex")).expect("hex");
                bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
                let sum = <sha2::Sha256 as sha2::Digest>::digest(&bytes[..131]);
                bytes[131..163].copy_from_slice(&sum);
                lines[line] = format!(r#"{{"vault":"{}"}}"#, hex::encode(bytes));
            });
            let name = file.to_str().expect("utf-8");
            for with_passphrase in [false, true] {
                let fresh = Env::new();
                let mut args = vec!["restore", name, "--yes"];
                if with_passphrase {
                    args.extend(["--passphrase-file", &pass]);
                }
                let out = fresh.run(&args);
                // Refused as every other forged backup is: a file that cannot be restored.
                let err = assert_one_line_error(&out, 2);
                assert!(
                    err.contains("KDF parameters out of bounds"),
                    "{at} {value}: {err}"
                );
                assert_eq!(
                    fresh.run(&["list"]).status.code(),
                    Some(6),
                    "{at} {value}: no store"
                );
            }
        }
    }
}
