//! A backup of a store with a vault needs no passphrase (README, "backup, restore, doctor"):
//! the vault goes in sealed and comes back sealed; the passphrase is needed only to reveal.

use crate::common::*;

#[test]
fn a_cron_backup_without_any_passphrase_restores_and_reveals_with_it() {
    let env = Env::new();
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

#[test]
fn a_passphrase_given_to_backup_or_restore_is_checked_against_every_secret() {
    let env = Env::new();
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

#[test]
fn a_changed_sealed_secret_in_a_backup_is_found_at_reveal_not_silently_kept() {
    let env = Env::new();
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
