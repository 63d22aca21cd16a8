//! kill -9 at random moments: every token that was printed still verifies, and the store always
//! opens afterwards.

use std::io::Write;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use rand::Rng;

use crate::common::*;

const ROUNDS: usize = 40;

#[test]
fn kill_9_never_loses_a_printed_token_or_breaks_the_store() {
    let env = Env::new();
    let mut rng = rand::rng();
    let mut printed: Vec<String> = vec![env.create("before")];

    for round in 0..ROUNDS {
        // A create, killed somewhere between start and finish.
        let mut create = env
            .std_cmd()
            .args(["create", "--name", &format!("round-{round}"), "-q"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn create");
        // A batch verify of everything printed so far, killed too.
        let mut verify = env
            .std_cmd()
            .args(["verify", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn verify");
        let mut stdin = verify.stdin.take().expect("stdin");
        let batch: String = printed.iter().map(|t| format!("{t}\n")).collect();
        thread::spawn(move || {
            let _ = stdin.write_all(batch.as_bytes());
        });

        thread::sleep(Duration::from_millis(rng.random_range(0..250)));
        let _ = create.kill();
        thread::sleep(Duration::from_millis(rng.random_range(0..50)));
        let _ = verify.kill();
        let _ = verify.wait();
        let out = create.wait_with_output().expect("wait");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        // A token on stdout (whole line) was acknowledged: it must survive.
        if let Some(line) = text.lines().next().filter(|_| text.ends_with('\n')) {
            printed.push(line.to_owned());
        }

        let out = env.run(&["list", "--all", "--json"]);
        assert_eq!(
            code(&out),
            0,
            "round {round}: the store must open: {}",
            stderr(&out)
        );
    }

    assert!(
        printed.len() > 1,
        "no create ever finished; the test proved nothing"
    );
    for t in &printed {
        let (code, v) = env.verify(t, &["--no-touch"]);
        assert_eq!(code, 0, "a printed token was lost: {v}");
    }
    eprintln!(
        "{} of {ROUNDS} killed creates had printed their token",
        printed.len() - 1
    );
}
