//! Cron jobs fire together: many processes at once must all succeed, and every use is counted.

use std::collections::HashMap;
use std::process::Stdio;
use std::thread;

use crate::common::*;

const PROCESSES: usize = 16;
const TOKENS_EACH: usize = 2;
const VERIFIES_EACH: usize = 3;

#[test]
fn sixteen_processes_at_once_all_succeed_and_every_use_counts() {
    let env = Env::new();
    // Make the store first so the race is on the lock, not on who creates the directory.
    env.create("seed");

    let results: Vec<Vec<(String, String)>> = thread::scope(|s| {
        let workers: Vec<_> = (0..PROCESSES)
            .map(|p| {
                let env = &env;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for t in 0..TOKENS_EACH {
                        let name = format!("p{p}-t{t}");
                        let out = env
                            .std_cmd()
                            .args(["create", "--name", &name, "-q"])
                            .env("VBX_TOKENS_WAIT", "120")
                            .output()
                            .expect("runs");
                        assert!(out.status.success(), "create {name}: {}", stderr(&out));
                        let token = String::from_utf8(out.stdout)
                            .expect("utf-8")
                            .trim()
                            .to_owned();
                        for _ in 0..VERIFIES_EACH {
                            let out = env
                                .std_cmd()
                                .arg("verify")
                                .env("VBX_TOKEN", &token)
                                .env("VBX_TOKENS_WAIT", "120")
                                .stdout(Stdio::null())
                                .output()
                                .expect("runs");
                            assert!(out.status.success(), "verify {name}: {}", stderr(&out));
                        }
                        mine.push((name, token));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });

    let listed = env.json(&["list"]);
    let counts: HashMap<String, u64> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().expect("name").to_owned(),
                r["use_count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(counts.len(), PROCESSES * TOKENS_EACH + 1);
    for (name, token) in results.iter().flatten() {
        assert_eq!(counts.get(name), Some(&(VERIFIES_EACH as u64)), "{name}");
        let (code, v) = env.verify(token, &["--no-touch"]);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(v["name"], name.as_str());
    }
    let created = env.json(&["log"]);
    let created = created
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e["event"] == "created")
        .count();
    assert_eq!(created, PROCESSES * TOKENS_EACH + 1);
}
