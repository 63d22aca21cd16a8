//! 32 processes at once, 50 mixed operations each, with a ledger of what each saw acknowledged,
//! checked afterwards against `list --all --json`, `log --json` and `verify --no-touch`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::thread;
use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::Ctx;
use crate::report::Table;
use crate::run::{self, percentile, token};

const PROCESSES: usize = 32;
const OPERATIONS: usize = 50;
/// The wait limit each command gets: long enough that only a stuck store makes it give up.
const WAIT: u32 = 60;
const LIMIT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Op {
    Create,
    Verify,
    Batch,
    Revoke,
    Rotate,
    List,
    Import,
    Reveal,
}

const MIX: &[(Op, u32)] = &[
    (Op::Create, 18),
    (Op::Verify, 24),
    (Op::Batch, 10),
    (Op::Revoke, 8),
    (Op::Rotate, 8),
    (Op::List, 10),
    (Op::Import, 8),
    (Op::Reveal, 8),
];

#[derive(Clone)]
struct Tok {
    id: String,
    token: String,
}

/// What one process saw acknowledged.
#[derive(Default)]
struct Ledger {
    /// Every token it made (create, rotate, import), with how.
    made: Vec<(Tok, Op)>,
    /// Indices into `made` still active as far as it knows.
    active: Vec<usize>,
    revoked: HashSet<String>,
    /// (old, new) ids of acknowledged rotations.
    rotated: Vec<(String, String)>,
    /// Acknowledged valid, counted verifies by token id.
    uses: HashMap<String, u64>,
    imported: usize,
    reveals: usize,
    waits: Vec<(Op, Duration)>,
    failures: Vec<String>,
    busy: usize,
    wrong: Vec<String>,
}

struct Shared<'a> {
    ctx: &'a Ctx,
    store: &'a Path,
    pass: &'a Path,
    /// Never revoked or rotated: verified by everyone.
    common: &'a [Tok],
    /// Kept in the vault, never revoked: revealed by everyone (name, token).
    kept: &'a [(String, String)],
}

fn random_id(rng: &mut StdRng) -> String {
    const ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let s: String = (0..8)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    format!("tok_{s}")
}

fn pick(rng: &mut StdRng) -> Op {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut n = rng.random_range(0..total);
    for (op, w) in MIX {
        if n < *w {
            return *op;
        }
        n -= w;
    }
    Op::List
}

impl Shared<'_> {
    fn go(
        &self,
        l: &mut Ledger,
        op: Op,
        args: &[&str],
        stdin: Option<String>,
        env: Option<&str>,
    ) -> run::Run {
        let mut cmd = self.ctx.bin.cmd(self.store, WAIT);
        cmd.args(args);
        if let Some(t) = env {
            cmd.env("VBX_TOKEN", t);
        }
        let out = run::run(cmd, stdin.map(String::into_bytes), LIMIT);
        l.waits.push((op, out.elapsed));
        if out.code() == Some(5) {
            l.busy += 1;
        }
        out
    }

    fn fail(&self, l: &mut Ledger, what: String, out: &run::Run) {
        l.failures.push(format!("{what}: {}", out.describe()));
    }

    /// A token this process may verify: its own active ones, or the common ones.
    fn verifiable(&self, l: &Ledger, rng: &mut StdRng) -> Tok {
        let own = l.active.len();
        let n = rng.random_range(0..own + self.common.len());
        if n < own {
            l.made[l.active[n]].0.clone()
        } else {
            self.common[n - own].clone()
        }
    }

    fn worker(&self, round: usize, p: usize, mut rng: StdRng) -> Ledger {
        let mut l = Ledger::default();
        for i in 0..OPERATIONS {
            let mut op = pick(&mut rng);
            if matches!(op, Op::Revoke | Op::Rotate) && l.active.is_empty() {
                op = Op::Create;
            }
            let name = format!("r{round}-p{p}-{i}");
            match op {
                Op::Create => {
                    let pass = self.pass.to_string_lossy();
                    let mut args = vec!["create", "--json", "--name", &name];
                    if rng.random_bool(0.25) {
                        args.extend(["--keep", "--passphrase-file", &pass]);
                    }
                    let out = self.go(&mut l, op, &args, None, None);
                    match (out.code(), out.json()) {
                        (Some(0), Some(v)) => {
                            let tok = Tok {
                                id: v["id"].as_str().unwrap_or_default().to_owned(),
                                token: v["token"].as_str().unwrap_or_default().to_owned(),
                            };
                            l.made.push((tok, op));
                            l.active.push(l.made.len() - 1);
                        }
                        _ => self.fail(&mut l, format!("create {name}"), &out),
                    }
                }
                Op::Verify => {
                    let t = self.verifiable(&l, &mut rng);
                    let out = self.go(&mut l, op, &["verify", "--json"], None, Some(&t.token));
                    let v = out.json().unwrap_or(Value::Null);
                    if out.code() == Some(0) && v["valid"] == true && v["id"] == t.id.as_str() {
                        *l.uses.entry(t.id.clone()).or_default() += 1;
                    } else if out.code() == Some(1) {
                        l.wrong
                            .push(format!("verify of active {} answered {v}", t.id));
                    } else {
                        self.fail(&mut l, format!("verify {}", t.id), &out);
                    }
                }
                Op::Batch => {
                    let n = rng.random_range(1..=5);
                    let toks: Vec<Tok> = (0..n).map(|_| self.verifiable(&l, &mut rng)).collect();
                    let junk = rng.random_bool(0.3).then(|| token::random(&mut rng));
                    let mut input: String = toks.iter().map(|t| format!("{}\n", t.token)).collect();
                    if let Some(j) = &junk {
                        input.push_str(j);
                        input.push('\n');
                    }
                    let out = self.go(&mut l, op, &["verify", "--batch"], Some(input), None);
                    let text = out.out();
                    let lines: Vec<&str> = text.lines().collect();
                    let expected_code = if junk.is_some() { 1 } else { 0 };
                    if out.code() != Some(expected_code)
                        || lines.len() != toks.len() + usize::from(junk.is_some())
                    {
                        self.fail(&mut l, "verify --batch".to_owned(), &out);
                    }
                    for (k, line) in lines.iter().enumerate() {
                        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                        match toks.get(k) {
                            Some(t) if v["valid"] == true && v["id"] == t.id.as_str() => {
                                *l.uses.entry(t.id.clone()).or_default() += 1;
                            }
                            Some(t) => l
                                .wrong
                                .push(format!("batch line for active {} answered {v}", t.id)),
                            None if v["valid"] == false && v["reason"] == "unknown" => {}
                            None => l
                                .wrong
                                .push(format!("batch line for an unknown token answered {v}")),
                        }
                    }
                }
                Op::Revoke | Op::Rotate => {
                    let k = rng.random_range(0..l.active.len());
                    let idx = l.active[k];
                    let id = l.made[idx].0.id.clone();
                    let args: Vec<&str> = if op == Op::Revoke {
                        vec!["revoke", &id, "--yes", "--json"]
                    } else {
                        vec!["rotate", &id, "--json"]
                    };
                    let out = self.go(&mut l, op, &args, None, None);
                    match (out.code(), out.json()) {
                        (Some(0), Some(v)) => {
                            l.active.swap_remove(k);
                            l.revoked.insert(id.clone());
                            if op == Op::Rotate {
                                let tok = Tok {
                                    id: v["id"].as_str().unwrap_or_default().to_owned(),
                                    token: v["token"].as_str().unwrap_or_default().to_owned(),
                                };
                                l.rotated.push((id, tok.id.clone()));
                                l.made.push((tok, op));
                                l.active.push(l.made.len() - 1);
                            }
                        }
                        _ => self.fail(&mut l, format!("{op:?} {id}"), &out),
                    }
                }
                Op::List => {
                    let out = self.go(&mut l, op, &["list", "--json"], None, None);
                    if out.code() != Some(0) || out.json().is_none() {
                        self.fail(&mut l, "list".to_owned(), &out);
                    }
                }
                Op::Import => {
                    let n = rng.random_range(1..=3);
                    let toks: Vec<Tok> = (0..n)
                        .map(|_| Tok {
                            id: random_id(&mut rng),
                            token: token::random(&mut rng),
                        })
                        .collect();
                    let input: String = toks
                        .iter()
                        .enumerate()
                        .map(|(k, t)| {
                            format!(
                                "{{\"id\":\"{}\",\"name\":\"{name}-i{k}\",\"token\":\"{}\"}}\n",
                                t.id, t.token
                            )
                        })
                        .collect();
                    let out = self.go(&mut l, op, &["import", "-", "--json"], Some(input), None);
                    match out.json() {
                        Some(v) if out.code() == Some(0) && v["imported"] == n => {
                            l.imported += n;
                            for t in toks {
                                l.made.push((t, op));
                                l.active.push(l.made.len() - 1);
                            }
                        }
                        _ => self.fail(&mut l, format!("import {n}"), &out),
                    }
                }
                Op::Reveal => {
                    let (kname, ktoken) = &self.kept[rng.random_range(0..self.kept.len())];
                    let pass = self.pass.to_string_lossy();
                    let out = self.go(
                        &mut l,
                        op,
                        &[
                            "vault",
                            "reveal",
                            kname,
                            "--json",
                            "--passphrase-file",
                            &pass,
                        ],
                        None,
                        None,
                    );
                    match out.json() {
                        Some(v) if out.code() == Some(0) && v["token"] == ktoken.as_str() => {
                            l.reveals += 1
                        }
                        Some(v) if out.code() == Some(0) => l.wrong.push(format!(
                            "reveal of {kname} gave another token ({})",
                            v["id"]
                        )),
                        _ => self.fail(&mut l, format!("reveal {kname}"), &out),
                    }
                }
            }
        }
        l
    }
}

pub fn run(ctx: &Ctx) -> Table {
    let mut table = Table::new(format!(
        "Concurrency: {PROCESSES} processes × {OPERATIONS} mixed operations, {} round(s)",
        ctx.setting.concurrency_rounds
    ));
    let store = ctx.fresh("concurrency/store");
    let pass = ctx.passphrase("concurrency", "stress passphrase");
    let p = pass.to_string_lossy().into_owned();
    ctx.vault_init(&store, &p);
    let mut common = Vec::new();
    let mut kept = Vec::new();
    for i in 0..4 {
        let (id, token) = ctx.create(&store, &["--name", &format!("common-{i}")]);
        common.push(Tok { id, token });
        let name = format!("kept-{i}");
        let (_, token) = ctx.create(
            &store,
            &["--name", &name, "--keep", "--passphrase-file", &p],
        );
        kept.push((name, token));
    }
    let shared = Shared {
        ctx,
        store: &store,
        pass: &pass,
        common: &common,
        kept: &kept,
    };

    let mut ledgers: Vec<Ledger> = Vec::new();
    let mut process_failures = 0;
    for round in 0..ctx.setting.concurrency_rounds {
        let seeds: Vec<StdRng> = (0..PROCESSES)
            .map(|p| ctx.rng(1000 + (round * PROCESSES + p) as u64))
            .collect();
        let round_ledgers: Vec<Ledger> = thread::scope(|s| {
            let handles: Vec<_> = seeds
                .into_iter()
                .enumerate()
                .map(|(p, rng)| {
                    let shared = &shared;
                    s.spawn(move || shared.worker(round, p, rng))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker"))
                .collect()
        });
        process_failures += round_ledgers
            .iter()
            .filter(|l| !l.failures.is_empty())
            .count();
        ledgers.extend(round_ledgers);
    }

    // What the store says now.
    let list = ctx
        .must(&store, &["list", "--all", "--json"], None)
        .json()
        .expect("list json");
    let records: HashMap<String, &Value> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r))
        .collect();
    let log = ctx
        .must(&store, &["log", "--json"], None)
        .json()
        .expect("log json");
    let events = log.as_array().expect("array");
    let with = |kind: &str| -> HashSet<String> {
        events
            .iter()
            .filter(|e| e["event"] == kind)
            .filter_map(|e| e["token_id"].as_str().map(str::to_owned))
            .collect()
    };
    let (created_ev, revoked_ev, rotated_ev) = (with("created"), with("revoked"), with("rotated"));
    let imported_ev: u64 = events
        .iter()
        .filter(|e| e["event"] == "imported")
        .filter_map(|e| e["count"].as_u64())
        .sum();
    let revealed_ev = events.iter().filter(|e| e["event"] == "revealed").count();

    let mut acknowledged = 0;
    let mut missing: Vec<String> = Vec::new();
    let mut uses: HashMap<String, u64> = HashMap::new();
    let (mut imported, mut reveals, mut busy) = (0, 0, 0);
    let mut waits: Vec<(Op, Duration)> = Vec::new();
    let mut failures = Vec::new();
    let mut wrong = Vec::new();
    let mut all_tokens: Vec<(Tok, bool)> = common.iter().map(|t| (t.clone(), true)).collect();
    for l in &ledgers {
        acknowledged += l.waits.len() - l.failures.len() - l.wrong.len();
        imported += l.imported;
        reveals += l.reveals;
        busy += l.busy;
        waits.extend(l.waits.iter().copied());
        failures.extend(l.failures.iter().cloned());
        wrong.extend(l.wrong.iter().cloned());
        for (id, n) in &l.uses {
            *uses.entry(id.clone()).or_default() += n;
        }
        for (t, how) in &l.made {
            let revoked = l.revoked.contains(&t.id);
            all_tokens.push((t.clone(), !revoked));
            match records.get(&t.id) {
                None => missing.push(format!("{how:?} {} is not in the store", t.id)),
                Some(r) => {
                    let status = r["status"].as_str().unwrap_or_default();
                    if revoked != (status == "revoked") {
                        missing.push(format!(
                            "{} is {status}, acknowledged revoked: {revoked}",
                            t.id
                        ));
                    }
                }
            }
            let logged = match how {
                Op::Create => created_ev.contains(&t.id),
                Op::Rotate => rotated_ev.contains(&t.id),
                _ => true,
            };
            if !logged {
                missing.push(format!("{how:?} {} has no event", t.id));
            }
        }
        for id in &l.revoked {
            let by_rotation = l.rotated.iter().any(|(old, _)| old == id);
            if !by_rotation && !revoked_ev.contains(id) {
                missing.push(format!("revoke of {id} has no event"));
            }
        }
    }
    if (imported as u64) != imported_ev {
        missing.push(format!(
            "{imported} records imported, the log counts {imported_ev}"
        ));
    }
    // The set-up revealed nothing; every reveal acknowledged must be logged.
    if reveals != revealed_ev {
        missing.push(format!(
            "{reveals} reveals acknowledged, the log has {revealed_ev}"
        ));
    }

    // use_count against acknowledged valid verifies, token by token.
    let mut unequal = Vec::new();
    let (mut counted, mut acked_uses) = (0u64, 0u64);
    for (id, r) in &records {
        let got = r["use_count"].as_u64().unwrap_or(0);
        let want = uses.get(id).copied().unwrap_or(0);
        counted += got;
        acked_uses += want;
        if got != want {
            unequal.push(format!("{id}: use_count {got}, acknowledged {want}"));
        }
    }

    // Every token verifies as the ledger says (without counting).
    let input: String = all_tokens
        .iter()
        .map(|(t, _)| format!("{}\n", t.token))
        .collect();
    let mut cmd = ctx.bin.cmd(&store, WAIT);
    cmd.args(["verify", "--batch", "--no-touch"]);
    let out = run::run(cmd, Some(input.into_bytes()), LIMIT);
    let answers: Vec<Value> = out
        .out()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect();
    let mut misverified = 0;
    for (k, (t, active)) in all_tokens.iter().enumerate() {
        let v = answers.get(k).cloned().unwrap_or(Value::Null);
        let fine = if *active {
            v["valid"] == true && v["id"] == t.id.as_str()
        } else {
            v["valid"] == false && v["reason"] == "revoked"
        };
        if !fine {
            misverified += 1;
            wrong.push(format!("{} (active: {active}) verifies as {v}", t.id));
        }
    }

    let ops = waits.len();
    table.info("operations run", ops);
    table.info("operations acknowledged", acknowledged);
    table.info(
        "tokens made (create, rotate, import) / revoked",
        format!(
            "{} / {}",
            ledgers.iter().map(|l| l.made.len()).sum::<usize>(),
            ledgers.iter().map(|l| l.revoked.len()).sum::<usize>()
        ),
    );
    table.zero(
        "acknowledged writes missing afterwards (record or event)",
        missing.len(),
    );
    table.holds(
        "`use_count` against acknowledged valid verifies (must be equal)",
        format!(
            "{counted} = {acked_uses}; {} token(s) differ",
            unequal.len()
        ),
        unequal.is_empty() && counted == acked_uses,
    );
    table.zero(
        "tokens verifying otherwise than the ledger says",
        misverified,
    );
    table.zero(
        "wrong answers seen during the run",
        wrong.len() - misverified,
    );
    table.zero("operations failed", failures.len());
    table.zero(
        "processes that failed within the wait limit",
        process_failures,
    );
    table.info("of the failures, store busy (exit 5)", busy);
    let mut all: Vec<Duration> = waits.iter().map(|(_, d)| *d).collect();
    all.sort();
    table.info(
        "wait p50 / p99 / max, every operation (ms)",
        format!(
            "{:.1} / {:.1} / {:.1}",
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            percentile(&all, 1.0)
        ),
    );
    for (label, kinds) in [
        ("verify and verify --batch", &[Op::Verify, Op::Batch][..]),
        (
            "create, revoke, rotate, import, reveal",
            &[Op::Create, Op::Revoke, Op::Rotate, Op::Import, Op::Reveal],
        ),
        ("list", &[Op::List]),
    ] {
        let mut d: Vec<Duration> = waits
            .iter()
            .filter(|(o, _)| kinds.contains(o))
            .map(|(_, d)| *d)
            .collect();
        d.sort();
        table.info(
            format!("wait p50 / p99 / max, {label} (ms)"),
            format!(
                "{:.1} / {:.1} / {:.1}",
                percentile(&d, 0.5),
                percentile(&d, 0.99),
                percentile(&d, 1.0)
            ),
        );
    }
    for line in missing
        .iter()
        .chain(&unequal)
        .chain(&wrong)
        .chain(&failures)
        .take(20)
    {
        table.note(line.clone());
    }
    table
}
