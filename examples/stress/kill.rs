//! kill -9 at random moments across every writing command, the journal fold and the index
//! rewrite; after each kill, the store must open and every acknowledged create, revoke and use
//! must still be there.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::Ctx;
use crate::report::Table;
use crate::run::{self, Run, token};

const LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Op {
    Create,
    CreateKeep,
    Revoke,
    Rotate,
    Disable,
    Enable,
    Extend,
    Import,
    VaultInit,
    VaultPasswd,
    Verify,
    Batch,
    List,
}

const OPS: &[Op] = &[
    Op::Create,
    Op::CreateKeep,
    Op::Revoke,
    Op::Rotate,
    Op::Disable,
    Op::Enable,
    Op::Extend,
    Op::Import,
    Op::VaultInit,
    Op::VaultPasswd,
    Op::Verify,
    Op::Batch,
    Op::List,
];

/// What a token may answer now, as far as the acknowledged commands tell.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Active,
    Revoked,
    Disabled,
    /// A revoke (or rotation) was killed: either.
    MaybeRevoked,
    /// A disable or enable was killed: either.
    MaybeDisabled,
    /// An import was killed: it may or may not be there.
    MaybeCreated,
    /// An import killed and then undone.
    Gone,
}

impl State {
    fn allows(self, reason: &str) -> bool {
        match self {
            State::Active => reason == "valid",
            State::Revoked => reason == "revoked",
            State::Disabled => reason == "disabled",
            State::MaybeRevoked => reason == "valid" || reason == "revoked",
            State::MaybeDisabled => reason == "valid" || reason == "disabled",
            State::MaybeCreated => reason == "valid" || reason == "unknown",
            State::Gone => reason == "unknown",
        }
    }
}

struct Tok {
    id: Option<String>,
    token: String,
    state: State,
    /// Acknowledged counted uses, and uses a kill may or may not have counted.
    uses: u64,
    maybe: u64,
    kept: bool,
    /// Never revoked, rotated or disabled: the vault always has one kept token to open.
    pinned: bool,
    /// The import it came in with (to check all-or-nothing).
    group: Option<usize>,
}

#[derive(Default)]
struct Figures {
    rounds: usize,
    landed: HashMap<Op, usize>,
    finished: HashMap<Op, usize>,
    creates_lost: Vec<String>,
    revokes_lost: Vec<String>,
    revoked_verify: Vec<String>,
    uses_lost: u64,
    uses_lost_at: Vec<String>,
    uses_extra: Vec<String>,
    partial_imports: Vec<String>,
    unexpected: Vec<String>,
    open_failed: Vec<String>,
    repaired: usize,
    kept_lost: Vec<String>,
    crashes: Vec<String>,
    failed_acknowledged: Vec<String>,
    acked_creates: usize,
    acked_revokes: usize,
    acked_uses: u64,
}

struct Harness<'a> {
    ctx: &'a Ctx,
    store: PathBuf,
    toks: Vec<Tok>,
    /// Passphrase files; `pass` is the one the vault has now.
    passes: [PathBuf; 2],
    pass: usize,
    /// Full run time of each command kind when it was not killed: the kill lands within it.
    typical: HashMap<Op, Duration>,
    groups: usize,
    f: Figures,
    rng: StdRng,
}

use crate::CHEAP_KDF as KDF;

impl Harness<'_> {
    fn pass(&self, which: usize) -> String {
        self.passes[which].to_string_lossy().into_owned()
    }

    fn pick(&mut self, want: impl Fn(&Tok) -> bool) -> Option<usize> {
        let ids: Vec<usize> = (0..self.toks.len())
            .filter(|&i| want(&self.toks[i]) && self.toks[i].id.is_some())
            .collect();
        (!ids.is_empty()).then(|| ids[self.rng.random_range(0..ids.len())])
    }

    fn check_run(&mut self, what: &str, out: &Run) {
        if out.crashed() || out.timed_out {
            self.f.crashes.push(format!("{what}: {}", out.describe()));
        }
    }

    /// Runs one command with a SIGKILL at a random moment within its usual run time.
    fn round(&mut self, op: Op) {
        let r = self.f.rounds;
        let name = format!("k{r}");
        let mut args: Vec<String>;
        let mut stdin = None;
        let mut env_token = None;
        let mut store = self.store.clone();
        let mut target = None;
        let mut batch: Vec<usize> = Vec::new();
        let mut imported: Vec<(String, String)> = Vec::new();
        let s = |v: &[&str]| v.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>();
        match op {
            Op::Create => args = s(&["create", "--json", "--name", &name]),
            Op::CreateKeep => {
                let p = self.pass(self.pass);
                args = s(&[
                    "create",
                    "--json",
                    "--name",
                    &name,
                    "--keep",
                    "--passphrase-file",
                    &p,
                ]);
            }
            Op::Revoke | Op::Rotate | Op::Disable | Op::Extend => {
                let Some(i) = self.pick(|t| t.state == State::Active && !t.pinned) else {
                    return self.round(Op::Create);
                };
                target = Some(i);
                let id = self.toks[i].id.clone().expect("id");
                args = match op {
                    Op::Revoke => s(&["revoke", &id, "--yes", "--json"]),
                    Op::Rotate => s(&["rotate", &id, "--json"]),
                    Op::Disable => s(&["disable", &id, "--json"]),
                    _ => s(&["extend", &id, "--expires-in", "90d", "--json"]),
                };
            }
            Op::Enable => {
                let Some(i) =
                    self.pick(|t| matches!(t.state, State::Disabled | State::MaybeDisabled))
                else {
                    return self.round(Op::Disable);
                };
                target = Some(i);
                let id = self.toks[i].id.clone().expect("id");
                args = s(&["enable", &id, "--json"]);
            }
            Op::Import => {
                let n = self.rng.random_range(1..=120);
                let mut input = String::new();
                for k in 0..n {
                    let t = token::random(&mut self.rng);
                    let id = format!("tok_{:08}", r * 1000 + k);
                    input.push_str(&format!(
                        "{{\"id\":\"{id}\",\"name\":\"{name}-{k}\",\"token\":\"{t}\"}}\n"
                    ));
                    imported.push((id, t));
                }
                args = s(&["import", "-", "--json"]);
                stdin = Some(input);
            }
            Op::VaultInit => {
                store = self.ctx.fresh(&format!("kill/init-{r}"));
                let p = self.pass(0);
                args = s(&["vault", "init", "--passphrase-file", &p]);
                args.extend(s(KDF));
            }
            Op::VaultPasswd => {
                let (old, new) = (self.pass(self.pass), self.pass(1 - self.pass));
                args = s(&[
                    "vault",
                    "passwd",
                    "--passphrase-file",
                    &old,
                    "--new-passphrase-file",
                    &new,
                ]);
                args.extend(s(KDF));
            }
            Op::Verify => {
                let Some(i) = self.pick(|t| t.state == State::Active) else {
                    return self.round(Op::Create);
                };
                target = Some(i);
                env_token = Some(self.toks[i].token.clone());
                args = s(&["verify", "--json"]);
            }
            Op::Batch => {
                let active: Vec<usize> = (0..self.toks.len())
                    .filter(|&i| self.toks[i].state == State::Active)
                    .collect();
                if active.is_empty() {
                    return self.round(Op::Create);
                }
                let n = self.rng.random_range(1..=3000);
                batch = (0..n)
                    .map(|_| active[self.rng.random_range(0..active.len())])
                    .collect();
                stdin = Some(
                    batch
                        .iter()
                        .map(|&i| format!("{}\n", self.toks[i].token))
                        .collect(),
                );
                args = s(&["verify", "--batch"]);
            }
            Op::List => args = s(&["list", "--all", "--json"]),
        }

        let mut cmd = self.ctx.bin.cmd(&store, 30);
        cmd.args(&args);
        if let Some(t) = &env_token {
            cmd.env("VBX_TOKEN", t);
        }
        // The kill lands within the command's usual run time, learnt from runs left whole: the
        // first of each kind, and one in twenty after (the store grows).
        let calibrate = !self.typical.contains_key(&op) || self.rng.random_ratio(1, 20);
        let typical = self.typical.get(&op).copied().unwrap_or_default();
        let most = (typical.as_micros() as u64 * 13 / 10).max(500);
        let delay = Duration::from_micros(self.rng.random_range(0..=most));
        let mut running = run::spawn(cmd, stdin.map(String::into_bytes));
        if !calibrate {
            thread::sleep(delay);
        }
        let out = if calibrate || running.ended() {
            running.wait(LIMIT)
        } else {
            running.kill()
        };
        let killed = out.signal() == Some(9);
        self.f.rounds += 1;
        if killed {
            *self.f.landed.entry(op).or_default() += 1;
        } else {
            *self.f.finished.entry(op).or_default() += 1;
            self.typical.insert(op, out.elapsed);
            self.check_run(&format!("{op:?}"), &out);
        }
        let acked = out.code() == Some(0);
        let answered_invalid = op == Op::Verify && out.code() == Some(1);
        if !(killed || acked || answered_invalid) {
            self.f.failed_acknowledged.push(format!(
                "{op:?} {}: {}",
                args.join(" "),
                out.describe()
            ));
        }
        let json = out.json();
        if acked {
            match op {
                Op::Create | Op::CreateKeep => self.f.acked_creates += 1,
                Op::Revoke => self.f.acked_revokes += 1,
                Op::Rotate => {
                    self.f.acked_creates += 1;
                    self.f.acked_revokes += 1;
                }
                Op::Import => self.f.acked_creates += imported.len(),
                _ => {}
            }
        }
        let made = |v: &Value| {
            (
                v["id"].as_str().map(str::to_owned),
                v["token"].as_str().unwrap_or_default().to_owned(),
            )
        };
        match op {
            Op::Create | Op::CreateKeep => {
                if let (true, Some(v)) = (acked, &json) {
                    let (id, token) = made(v);
                    self.add(id, token, State::Active, op == Op::CreateKeep, None);
                }
            }
            Op::Revoke | Op::Rotate | Op::Disable | Op::Extend | Op::Enable => {
                let i = target.expect("target");
                let t = &mut self.toks[i];
                t.state = match (op, acked) {
                    (Op::Revoke | Op::Rotate, true) => State::Revoked,
                    (Op::Revoke | Op::Rotate, false) => State::MaybeRevoked,
                    (Op::Disable, true) => State::Disabled,
                    (Op::Enable, true) => State::Active,
                    (Op::Disable | Op::Enable, false) => State::MaybeDisabled,
                    _ => t.state,
                };
                if op == Op::Rotate
                    && let (true, Some(v)) = (acked, &json)
                {
                    let (id, token) = made(v);
                    self.add(id, token, State::Active, false, None);
                }
            }
            Op::Import => {
                let group = self.groups;
                self.groups += 1;
                let state = if acked {
                    State::Active
                } else {
                    State::MaybeCreated
                };
                for (id, token) in imported {
                    self.add(Some(id), token, state, false, Some(group));
                }
            }
            Op::VaultInit => {
                self.check_fresh_store(&store, acked);
                let _ = std::fs::remove_dir_all(&store);
            }
            Op::VaultPasswd => {
                if acked {
                    self.pass = 1 - self.pass;
                } else {
                    self.settle_passphrase();
                }
            }
            Op::Verify => {
                let t = &mut self.toks[target.expect("target")];
                match json {
                    Some(v) if acked && v["valid"] == true => {
                        t.uses += 1;
                        self.f.acked_uses += 1;
                    }
                    Some(v) if !killed => self
                        .f
                        .unexpected
                        .push(format!("verify of an active token answered {v}")),
                    _ => t.maybe += 1,
                }
            }
            Op::Batch => {
                let text = out.out();
                let complete = if text.ends_with('\n') {
                    text.lines().count()
                } else {
                    text.lines().count().saturating_sub(1)
                };
                for (k, line) in text.lines().take(complete).enumerate() {
                    let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
                    if v["valid"] == true {
                        self.toks[batch[k]].uses += 1;
                        self.f.acked_uses += 1;
                    } else {
                        self.f
                            .unexpected
                            .push(format!("batch line for an active token answered {v}"));
                    }
                }
                for &i in &batch[complete.min(batch.len())..] {
                    self.toks[i].maybe += 1;
                }
            }
            Op::List => {}
        }
        // A full check opens the store (folding the journal, rebuilding the index); a light one
        // only verifies from the index, so that the next command killed meets the journal to
        // fold and what the kill left, as a user's next command would.
        let full = !matches!(op, Op::Verify | Op::Batch) && self.rng.random_bool(0.6);
        self.check(killed.then_some(op), full);
    }

    fn add(
        &mut self,
        id: Option<String>,
        token: String,
        state: State,
        kept: bool,
        group: Option<usize>,
    ) {
        self.toks.push(Tok {
            id,
            token,
            state,
            uses: 0,
            maybe: 0,
            kept,
            pinned: self.toks.is_empty(),
            group,
        });
    }

    /// A `vault init` into a new directory: afterwards there is a store with a vault, or (when it
    /// was killed) none at all, or one that opens.
    fn check_fresh_store(&mut self, store: &Path, acked: bool) {
        let mut cmd = self.ctx.bin.cmd(store, 30);
        cmd.args(["vault", "status", "--json"]);
        let out = run::run(cmd, None, LIMIT);
        self.check_run("vault status", &out);
        let fine = match (out.code(), out.json()) {
            (Some(0), Some(v)) => !acked || v["initialized"] == true,
            (Some(6), _) => !acked && out.err().contains("no store at"),
            _ => false,
        };
        if !fine {
            self.f.open_failed.push(format!(
                "a killed `vault init` left {}: {}",
                store.display(),
                out.describe()
            ));
        }
    }

    /// After a killed `vault passwd`, finds which passphrase the vault has now.
    fn settle_passphrase(&mut self) {
        let Some(kept) = self
            .toks
            .iter()
            .position(|t| t.kept && t.state == State::Active)
        else {
            return;
        };
        let id = self.toks[kept].id.clone().expect("id");
        for which in [self.pass, 1 - self.pass] {
            let mut cmd = self.ctx.bin.cmd(&self.store, 30);
            let p = self.pass(which);
            cmd.args(["vault", "reveal", &id, "--passphrase-file", &p]);
            let out = run::run(cmd, None, LIMIT);
            self.check_run("vault reveal", &out);
            if out.code() == Some(0) {
                self.pass = which;
                return;
            }
        }
        self.f
            .kept_lost
            .push("after a killed `vault passwd`, neither passphrase opens the vault".to_owned());
    }

    /// The store opens; every token answers as the acknowledged commands say; use counts are
    /// between what was acknowledged and what was attempted. Then what a kill left undecided is
    /// settled by what the store now says.
    fn check(&mut self, killed: Option<Op>, full: bool) {
        let mut cmd = self.ctx.bin.cmd(&self.store, 30);
        cmd.args(["list", "--all", "--json"]);
        let mut list = if full {
            run::run(cmd, None, LIMIT)
        } else {
            run::run(Command::new("true"), None, LIMIT)
        };
        self.check_run("list", &list);
        if list.code() != Some(0) {
            let keep = self
                .ctx
                .dir
                .join(format!("kill-unopenable-{}", self.f.rounds));
            let _ = run::copy_tree(&self.store, &keep);
            self.f.open_failed.push(format!(
                "after {killed:?} killed (round {}), list: {} (copy in {})",
                self.f.rounds,
                list.describe(),
                keep.display()
            ));
            if self.ctx.doctor(&self.store) == Some(true) {
                self.f.repaired += 1;
                let mut cmd = self.ctx.bin.cmd(&self.store, 30);
                cmd.args(["list", "--all", "--json"]);
                list = run::run(cmd, None, LIMIT);
            } else {
                return;
            }
        }
        let records: HashMap<String, u64> = list
            .json()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or_default().to_owned(),
                    r["use_count"].as_u64().unwrap_or(0),
                )
            })
            .collect();

        let input: String = self.toks.iter().map(|t| format!("{}\n", t.token)).collect();
        let mut cmd = self.ctx.bin.cmd(&self.store, 30);
        cmd.args(["verify", "--batch", "--no-touch"]);
        let out = run::run(cmd, Some(input.into_bytes()), LIMIT);
        self.check_run("verify --batch --no-touch", &out);
        let answers: Vec<Value> = out
            .out()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        let mut groups: HashMap<usize, (usize, usize)> = HashMap::new();
        let round = self.f.rounds;
        for (k, t) in self.toks.iter_mut().enumerate() {
            let v = answers.get(k).cloned().unwrap_or(Value::Null);
            let reason = v["reason"].as_str().unwrap_or("(no answer)").to_owned();
            let who = format!(
                "{} (round {round}, after {killed:?})",
                t.id.as_deref().unwrap_or("?")
            );
            if !t.state.allows(&reason) {
                match (t.state, reason.as_str()) {
                    (State::Active | State::Disabled, "unknown") => {
                        self.f.creates_lost.push(who.clone())
                    }
                    (State::Revoked, "valid") => self.f.revoked_verify.push(who.clone()),
                    (State::Revoked, _) => {
                        self.f.revokes_lost.push(format!("{who} answers {reason}"))
                    }
                    _ => self
                        .f
                        .unexpected
                        .push(format!("{who} is {:?} and answers {reason}", t.state)),
                }
            }
            if let Some(g) = t.group {
                let e = groups.entry(g).or_default();
                if reason == "unknown" {
                    e.0 += 1
                } else {
                    e.1 += 1
                }
            }
            if !full {
                continue;
            }
            // Settle what a kill left open.
            t.state = match (t.state, reason.as_str()) {
                (State::MaybeRevoked, "revoked") => State::Revoked,
                (State::MaybeRevoked, "valid") => State::Active,
                (State::MaybeDisabled, "disabled") => State::Disabled,
                (State::MaybeDisabled, "valid") => State::Active,
                (State::MaybeCreated, "valid") => State::Active,
                (State::MaybeCreated, "unknown") => State::Gone,
                (s, _) => s,
            };
            if let Some(count) = t.id.as_ref().and_then(|id| records.get(id)) {
                if *count < t.uses {
                    self.f.uses_lost += t.uses - count;
                    self.f
                        .uses_lost_at
                        .push(format!("{who}: use_count {count}, acknowledged {}", t.uses));
                } else if *count > t.uses + t.maybe {
                    self.f.uses_extra.push(format!(
                        "{who}: use_count {count}, acknowledged {} + {} attempted",
                        t.uses, t.maybe
                    ));
                }
                t.uses = *count;
                t.maybe = 0;
            }
        }
        for (g, (unknown, there)) in groups {
            if unknown > 0 && there > 0 {
                self.f
                    .partial_imports
                    .push(format!("import {g}: {there} there, {unknown} not"));
            }
        }
    }

    /// Every kept token still active reveals as itself.
    fn check_kept(&mut self) {
        let kept: Vec<(String, String)> = self
            .toks
            .iter()
            .filter(|t| t.kept && t.state == State::Active)
            .map(|t| (t.id.clone().expect("id"), t.token.clone()))
            .collect();
        for (id, token) in kept {
            let mut cmd = self.ctx.bin.cmd(&self.store, 30);
            let p = self.pass(self.pass);
            cmd.args(["vault", "reveal", &id, "--passphrase-file", &p]);
            let out = run::run(cmd, None, LIMIT);
            self.check_run("vault reveal", &out);
            if out.code() != Some(0) || out.out().trim() != token {
                self.f.kept_lost.push(format!("{id}: {}", out.describe()));
            }
        }
    }
}

pub fn run(ctx: &Ctx) -> Table {
    let target = ctx.setting.kills;
    let mut table = Table::new(format!(
        "kill -9 at random moments: {target} kills that land mid-command"
    ));
    let store = ctx.fresh("kill/store");
    let passes = [
        ctx.passphrase("kill-a", "first passphrase"),
        ctx.passphrase("kill-b", "second passphrase"),
    ];
    let mut h = Harness {
        ctx,
        store,
        toks: Vec::new(),
        passes,
        pass: 0,
        typical: HashMap::new(),
        groups: 0,
        f: Figures::default(),
        rng: ctx.rng(2),
    };
    let p = h.pass(0);
    let mut init = vec!["vault", "init", "--passphrase-file", &p];
    init.extend(KDF);
    ctx.must(&h.store, &init, None);
    for i in 0..5 {
        let (id, token) = ctx.create(
            &h.store,
            &[
                "--name",
                &format!("seed-{i}"),
                "--keep",
                "--passphrase-file",
                &p,
            ],
        );
        h.add(Some(id), token, State::Active, true, None);
    }
    // Enough records that the index rewrite and the fold take a moment.
    let mut input = String::new();
    for k in 0..2000 {
        input.push_str(&format!(
            "{{\"name\":\"bulk-{k}\",\"sha256\":\"{:064x}\"}}\n",
            k + 1
        ));
    }
    ctx.must(&h.store, &["import", "-"], Some(&input));

    let landed = |h: &Harness| h.f.landed.values().sum::<usize>();
    let cap = target * 4;
    while landed(&h) < target && h.f.rounds < cap {
        let op = OPS[h.rng.random_range(0..OPS.len())];
        h.round(op);
    }
    h.check(None, true);
    h.check_kept();
    let f = &h.f;
    let mut per_op: Vec<String> = OPS
        .iter()
        .map(|op| {
            format!(
                "{op:?} {}/{}",
                f.landed.get(op).unwrap_or(&0),
                f.landed.get(op).unwrap_or(&0) + f.finished.get(op).unwrap_or(&0)
            )
        })
        .collect();
    per_op.sort();
    table.holds(
        format!("kills that landed mid-command (at least {target})"),
        landed(&h),
        landed(&h) >= target,
    );
    table.info("commands run (killed or finished first)", f.rounds);
    table.info("tokens tracked at the end", h.toks.len());
    table.info(
        "acknowledged: creates (incl. rotate, import) / revokes / counted uses",
        format!(
            "{} / {} / {}",
            f.acked_creates, f.acked_revokes, f.acked_uses
        ),
    );
    table.zero("acknowledged creates lost", f.creates_lost.len());
    table.zero("acknowledged revokes lost", f.revokes_lost.len());
    table.zero("acknowledged uses lost", f.uses_lost as usize);
    table.zero("uses counted beyond those attempted", f.uses_extra.len());
    table.zero("imports found half there", f.partial_imports.len());
    table.zero("revoked tokens that verify", f.revoked_verify.len());
    table.zero(
        "other verdicts the ledger does not allow",
        f.unexpected.len(),
    );
    table.zero(
        "stores that fail to open afterwards",
        f.open_failed.len() - f.repaired,
    );
    table.info(
        "stores that failed to open and were repaired by `doctor`",
        if ctx.doctor {
            f.repaired.to_string()
        } else {
            format!("{} (no `doctor` in this binary)", f.repaired)
        },
    );
    table.zero("kept secrets lost or unreadable", f.kept_lost.len());
    table.zero(
        "panics, hangs and crashes of commands not killed",
        f.crashes.len(),
    );
    table.zero(
        "commands not killed that failed",
        f.failed_acknowledged.len(),
    );
    table.note(format!(
        "kills landed / commands run, by kind: {}",
        per_op.join(", ")
    ));
    for line in f
        .creates_lost
        .iter()
        .chain(&f.revokes_lost)
        .chain(&f.uses_lost_at)
        .chain(&f.uses_extra)
        .chain(&f.partial_imports)
        .chain(&f.revoked_verify)
        .chain(&f.unexpected)
        .chain(&f.open_failed)
        .chain(&f.kept_lost)
        .chain(&f.crashes)
        .chain(&f.failed_acknowledged)
        .take(20)
    {
        table.note(line.clone());
    }
    table
}
