//! Secrets stay secret: no plaintext token on disk, private file modes whatever the umask.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn the_plaintext_token_never_appears_under_the_store() {
    let env = Env::new();
    let tokens: Vec<String> = (0..5).map(|i| env.create(&format!("t{i}"))).collect();
    for t in &tokens {
        env.verify(t, &[]);
    }
    env.ok(&["revoke", "t0", "--yes"]);
    env.verify(&tokens[0], &[]);
    let files = files_under(&env.store());
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let bytes = fs::read(&f).expect("read");
        for t in &tokens {
            // The random part alone would be enough to rebuild the token.
            let needle = &t.as_bytes()[4..34];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds a plaintext token",
                f.display()
            );
        }
    }
}

#[test]
fn store_is_private_whatever_the_umask() {
    let env = Env::new();
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            r#"umask 000 && "$BIN" create --name a -q >/dev/null && "$BIN" list >/dev/null"#,
        ])
        .env("BIN", BIN)
        .env("VBX_TOKENS_HOME", env.store())
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&env.store()), 0o700);
    let mut stack = vec![env.store()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "{}", path.display());
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
            }
        }
    }
}
