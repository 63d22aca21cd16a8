//! One damage to one file of a small store per case (bit flips, bytes overwritten, truncation, a
//! missing file, a garbage file, the file of another store, one owned by someone else or
//! writable by others), then a fixed script of commands,
//! each classified: correct answer, clean error, panic, hang, or wrong answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

use crate::Ctx;
use crate::report::Table;
use crate::run::{self, Run, token};

const HANG: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Class {
    Correct,
    CleanError,
    /// A valid token answered "not valid" without an error: not a wrong answer as the issue
    /// defines it, but the store was not honest about its damage.
    Denied,
    /// An error that is not one line, or an undocumented exit code.
    Unclean,
    Hang,
    Panic,
    Wrong,
}

const KINDS: &[&str] = &[
    "bit flip",
    "bytes overwritten",
    "truncated",
    "missing",
    "garbage",
    "another store's",
    "another owner's",
    "writable by others",
];

/// A store built the same way twice: the tokens it holds and what each must answer.
struct Base {
    dir: PathBuf,
    /// (token, id, expected reason)
    tokens: Vec<(String, String, &'static str)>,
}

fn build(ctx: &Ctx, name: &str) -> Base {
    let dir = ctx.fresh(&format!("damage/{name}"));
    let pass = ctx.passphrase(&format!("damage-{name}"), "damage passphrase");
    let p = pass.to_string_lossy().into_owned();
    ctx.vault_init(&dir, &p);
    let mut tokens = Vec::new();
    let mut add = |args: &[&str], reason: &'static str| {
        let (id, t) = ctx.create(&dir, args);
        tokens.push((t, id, reason));
    };
    add(
        &["--name", "kept-1", "--keep", "--passphrase-file", &p],
        "valid",
    );
    add(
        &["--name", "kept-2", "--keep", "--passphrase-file", &p],
        "valid",
    );
    add(&["--name", "plain", "--scope", "invoices:read"], "valid");
    add(&["--name", "limited", "--max-uses", "5"], "valid");
    add(&["--name", "gone-1"], "revoked");
    add(
        &["--name", "gone-2", "--keep", "--passphrase-file", &p],
        "revoked",
    );
    add(&["--name", "paused"], "disabled");
    add(&["--name", "old"], "revoked");
    let id = |n: usize| tokens[n].1.clone();
    ctx.must(&dir, &["revoke", &id(4), "--yes"], None);
    ctx.must(&dir, &["revoke", &id(5), "--yes"], None);
    ctx.must(&dir, &["disable", &id(6)], None);
    let v = ctx
        .must(&dir, &["rotate", &id(7), "--json"], None)
        .json()
        .expect("rotate json");
    tokens.push((
        v["token"].as_str().expect("token").to_owned(),
        v["id"].as_str().expect("id").to_owned(),
        "valid",
    ));
    let mut input = String::new();
    for k in 0..50 {
        input.push_str(&format!(
            "{{\"name\":\"bulk-{k}\",\"sha256\":\"{:064x}\"}}\n",
            k + 1
        ));
    }
    ctx.must(&dir, &["import", "-"], Some(&input));
    // The use table, and uses folded.
    let limited = tokens[3].0.clone();
    for _ in 0..2 {
        let mut c = ctx.bin.cmd(&dir, 30);
        c.arg("verify").env("VBX_TOKEN", &limited);
        assert_eq!(run::run(c, None, HANG).code(), Some(0), "set-up verify");
    }
    ctx.must(&dir, &["list"], None);
    // Pending in the journal: uses and failures no command has folded yet.
    let plain = tokens[2].0.clone();
    for t in [&plain, &plain, &"vbx_junk".to_owned(), &tokens[4].0] {
        let mut c = ctx.bin.cmd(&dir, 30);
        c.arg("verify").env("VBX_TOKEN", t);
        let _ = run::run(c, None, HANG);
    }
    Base { dir, tokens }
}

/// Every file under `dir`, relative.
fn files(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let rel = under.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            // The directory itself (sled's `blobs/`), then what it holds.
            out.push(rel.clone());
            files(&e.path(), &rel, out);
        } else {
            out.push(rel);
        }
    }
}

/// Applies damage `kind` to `file` in `store`; a description, or `None` when it does not apply.
fn damage(store: &Path, file: &Path, kind: &str, other: &Path, rng: &mut StdRng) -> Option<String> {
    let path = store.join(file);
    // Not damage to the bytes but to who could have written them: the store must refuse to
    // believe the file (README, "Whose store"). Giving a file away takes root.
    match kind {
        "another owner's" => {
            // An attacker's file: another store's, owned by someone else.
            if !path.is_dir() {
                std::fs::copy(other.join(file), &path).ok()?;
            }
            std::os::unix::fs::chown(&path, Some(4242), None).ok()?;
            return Some("another store's, owned by uid 4242".to_owned());
        }
        "writable by others" => {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).ok()?;
            return Some("mode 0666".to_owned());
        }
        _ => {}
    }
    if path.is_dir() {
        if kind != "missing" && kind != "garbage" {
            return None;
        }
        std::fs::remove_dir_all(&path).ok()?;
        return match kind {
            "missing" => Some("directory removed".to_owned()),
            "garbage" => {
                std::fs::write(&path, b"not a directory").ok()?;
                Some("directory replaced by a file".to_owned())
            }
            _ => None,
        };
    }
    let bytes = std::fs::read(&path).ok()?;
    let len = bytes.len();
    let desc = match kind {
        "bit flip" if len > 0 => {
            let mut b = bytes;
            let at = rng.random_range(0..len);
            let bit = rng.random_range(0..8);
            b[at] ^= 1 << bit;
            std::fs::write(&path, b).ok()?;
            format!("bit {bit} of byte {at}")
        }
        "bytes overwritten" if len > 0 => {
            let mut b = bytes;
            let at = rng.random_range(0..len);
            let n = rng.random_range(1..=64).min(len - at);
            for x in &mut b[at..at + n] {
                *x = rng.random();
            }
            std::fs::write(&path, b).ok()?;
            format!("{n} bytes at {at}")
        }
        "truncated" if len > 0 => {
            let to = if rng.random_bool(0.2) {
                0
            } else {
                rng.random_range(0..len)
            };
            std::fs::write(&path, &bytes[..to]).ok()?;
            format!("to {to} of {len} bytes")
        }
        "missing" => {
            std::fs::remove_file(&path).ok()?;
            "removed".to_owned()
        }
        "garbage" => {
            let n = rng.random_range(1..=(len * 2).max(64));
            let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            std::fs::write(&path, b).ok()?;
            format!("{n} random bytes")
        }
        "another store's" => {
            std::fs::copy(other.join(file), &path).ok()?;
            "copied from another store".to_owned()
        }
        _ => return None,
    };
    Some(desc)
}

struct Case<'a> {
    ctx: &'a Ctx,
    store: PathBuf,
    classes: Vec<(Class, String)>,
    exit6: bool,
    /// Exit codes of the clean errors.
    codes: BTreeMap<i32, usize>,
}

impl Case<'_> {
    fn go(&mut self, args: &[&str], token: Option<&str>, stdin: Option<String>) -> Run {
        let mut cmd = self.ctx.bin.cmd(&self.store, 5);
        cmd.args(args);
        if let Some(t) = token {
            cmd.env("VBX_TOKEN", t);
        }
        let out = run::run(cmd, stdin.map(String::into_bytes), HANG);
        self.exit6 |= out.code() == Some(6);
        if out.clean_error() {
            *self.codes.entry(out.code().unwrap_or(-1)).or_default() += 1;
        }
        out
    }

    fn failed(&mut self, what: &str, out: &Run) -> bool {
        let class = if out.timed_out {
            Class::Hang
        } else if out.crashed() {
            Class::Panic
        } else if out.clean_error() {
            Class::CleanError
        } else if out.code() == Some(0) || out.code() == Some(1) {
            return false;
        } else {
            Class::Unclean
        };
        self.classes
            .push((class, format!("{what}: {}", out.describe())));
        true
    }

    fn mark(&mut self, class: Class, what: String) {
        self.classes.push((class, what));
    }

    /// One verdict against what it must be.
    fn judge(&mut self, what: &str, want: &str, v: &Value) {
        let valid = v["valid"] == true;
        let class = match (want == "valid", valid) {
            (false, true) => Class::Wrong,
            (true, false) => Class::Denied,
            _ => Class::Correct,
        };
        self.mark(class, format!("{what} (must be {want}): {v}"));
    }

    fn script(&mut self, base: &Base, rng: &mut StdRng) {
        let unknown = token::random(rng);
        let altered = token::altered(&base.tokens[2].0, rng);
        let mut checks: Vec<(String, &str, String)> = base
            .tokens
            .iter()
            .map(|(t, id, want)| (t.clone(), *want, id.clone()))
            .collect();
        checks.push((unknown, "unknown", "a random token".to_owned()));
        checks.push((
            altered,
            "unknown",
            "a known token, one character changed".to_owned(),
        ));
        for (t, want, what) in &checks {
            let out = self.go(&["verify", "--no-touch", "--json"], Some(t), None);
            if !self.failed(&format!("verify {what}"), &out) {
                let v = out.json().unwrap_or(Value::Null);
                let consistent = (out.code() == Some(0)) == (v["valid"] == true);
                self.judge(&format!("verify {what}"), want, &v);
                if !consistent {
                    self.mark(
                        Class::Wrong,
                        format!(
                            "verify {what}: exit {:?} says otherwise than {v}",
                            out.code()
                        ),
                    );
                }
            }
        }
        let out = self.go(&["verify", "--json"], Some(&base.tokens[0].0), None);
        if !self.failed("counted verify", &out) {
            self.judge(
                "counted verify",
                "valid",
                &out.json().unwrap_or(Value::Null),
            );
        }
        let out = self.go(&["list", "--all", "--json"], None, None);
        if !self.failed("list", &out) {
            let records = out
                .json()
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default();
            for (_, id, want) in &base.tokens {
                let status = records
                    .iter()
                    .find(|r| r["id"] == id.as_str())
                    .map(|r| r["status"].clone());
                let fine = match status.as_ref().and_then(Value::as_str) {
                    Some("revoked") => *want == "revoked",
                    Some(_) if *want == "revoked" => false,
                    Some(_) => true,
                    None => false,
                };
                if !fine {
                    let class = if *want == "revoked" && status.is_some() {
                        Class::Wrong
                    } else {
                        Class::Denied
                    };
                    self.mark(
                        class,
                        format!("list shows {id} (must be {want}) as {status:?}"),
                    );
                }
            }
            self.mark(Class::Correct, "list".to_owned());
        }
        let shown = base.tokens[1].1.clone();
        for args in [
            &["show", &shown, "--json"][..],
            &["log", "--json"],
            &["export"],
        ] {
            let out = self.go(args, None, None);
            if !self.failed(args[0], &out) {
                let class = if out.code() == Some(0) {
                    Class::Correct
                } else {
                    Class::Unclean
                };
                self.mark(class, format!("{}: {}", args[0], out.describe()));
            }
        }
        let input: String = checks.iter().map(|(t, _, _)| format!("{t}\n")).collect();
        let out = self.go(&["verify", "--batch", "--no-touch"], None, Some(input));
        if !self.failed("verify --batch", &out) {
            let lines: Vec<Value> = out
                .out()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
                .collect();
            for (k, (_, want, what)) in checks.iter().enumerate() {
                let v = lines.get(k).cloned().unwrap_or(Value::Null);
                self.judge(&format!("batch {what}"), want, &v);
            }
        }
    }
}

/// Use counts put back (README, "A count never goes down"): the `uses` file removed, an older
/// copy of it put back, and the whole store put back from a copy, each after the limited token
/// (5 uses, 2 spent) spent the rest. Its next counted verify must not be valid; `doctor` must
/// end at 0, exiting 6 first (naming the lost uses) when the whole store was put back.
fn rollbacks(ctx: &Ctx, base: &Base, table: &mut Table) {
    let limited = &base.tokens[3].0;
    let (mut valid_again, mut doctor_wrong) = (0, 0);
    for how in [
        "uses removed",
        "an older uses put back",
        "the whole store put back",
    ] {
        let store = ctx.fresh("damage/rollback");
        run::copy_tree(&base.dir, &store).expect("copy the store");
        let before = ctx.fresh("damage/rollback-before");
        run::copy_tree(&store, &before).expect("copy the store");
        let verify = |store: &Path| {
            let mut c = ctx.bin.cmd(store, 30);
            c.arg("verify").env("VBX_TOKEN", limited);
            run::run(c, None, HANG).code()
        };
        for _ in 0..3 {
            assert_eq!(verify(&store), Some(0), "{how}: set-up verify");
        }
        match how {
            "uses removed" => std::fs::remove_file(store.join("uses")).expect("rm uses"),
            "an older uses put back" => {
                std::fs::copy(before.join("uses"), store.join("uses")).expect("put back");
            }
            _ => {
                std::fs::remove_dir_all(&store).expect("rm store");
                run::copy_tree(&before, &store).expect("put back the store");
            }
        }
        if verify(&store) == Some(0) {
            valid_again += 1;
        }
        let doctor = |store: &Path| ctx.bin.cmd(store, 30).arg("doctor").output();
        let first = doctor(&store).expect("doctor");
        let second = doctor(&store).expect("doctor");
        // With the journal intact (only `uses` touched) nothing was lost: doctor folds it in
        // and may exit 0 at once. A whole store put back lost what only the witness knows.
        let named = String::from_utf8_lossy(&first.stdout).contains("use counts");
        let first_right = match first.status.code() {
            Some(6) => named,
            Some(0) => how != "the whole store put back",
            _ => false,
        };
        if !first_right || second.status.code() != Some(0) {
            doctor_wrong += 1;
        }
    }
    table.zero(
        "use counts put back (uses removed, an older uses, the whole store): a spent token valid again",
        valid_again,
    );
    table.zero(
        "use counts put back: doctor not 6 naming them (whole store) then 0",
        doctor_wrong,
    );
}

pub fn run(ctx: &Ctx) -> Table {
    let n = ctx.setting.damage_cases;
    let mut table = Table::new(format!(
        "Damage: {n} damaged stores, one damage to one file each"
    ));
    let base = build(ctx, "base");
    let other = build(ctx, "other");
    rollbacks(ctx, &base, &mut table);
    let mut all = Vec::new();
    files(&base.dir, Path::new(""), &mut all);
    let mut rng = ctx.rng(3);
    let mut by_class: BTreeMap<Class, usize> = BTreeMap::new();
    let mut by_file: BTreeMap<String, BTreeMap<Class, usize>> = BTreeMap::new();
    let mut worst_examples: Vec<String> = Vec::new();
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let (mut repaired, mut unrepaired, mut exit6_cases, mut commands) = (0, 0, 0, 0);
    let mut i = 0;
    let mut ran = 0;
    while ran < n && i < n * 4 {
        let file = &all[i % all.len()];
        let kind = KINDS[(i / all.len()) % KINDS.len()];
        i += 1;
        let store = ctx.fresh("damage/case");
        run::copy_tree(&base.dir, &store).expect("copy the store");
        let Some(desc) = damage(&store, file, kind, &other.dir, &mut rng) else {
            continue;
        };
        ran += 1;
        let mut case = Case {
            ctx,
            store: store.clone(),
            classes: Vec::new(),
            exit6: false,
            codes: BTreeMap::new(),
        };
        case.script(&base, &mut rng);
        commands += case.classes.len();
        for (code, k) in &case.codes {
            *codes.entry(*code).or_default() += k;
        }
        let worst = case
            .classes
            .iter()
            .map(|(c, _)| *c)
            .max()
            .unwrap_or(Class::Correct);
        *by_class.entry(worst).or_default() += 1;
        *by_file
            .entry(file.display().to_string())
            .or_default()
            .entry(worst)
            .or_default() += 1;
        if worst >= Class::Denied {
            let (_, what) = case
                .classes
                .iter()
                .find(|(c, _)| *c == worst)
                .expect("worst");
            worst_examples.push(format!(
                "{worst:?}: {} {kind} ({desc}): {what}",
                file.display()
            ));
            if worst >= Class::Unclean || worst_examples.len() < 5 {
                let keep = ctx.dir.join(format!("damage-{worst:?}-{ran}"));
                let _ = std::fs::rename(&store, &keep);
            }
        }
        if case.exit6 {
            exit6_cases += 1;
            match ctx.doctor(&store) {
                Some(true) => repaired += 1,
                Some(false) => unrepaired += 1,
                None => {}
            }
        }
    }
    let count = |c: Class| by_class.get(&c).copied().unwrap_or(0);
    table.holds(format!("cases run (at least {n})"), ran, ran >= n);
    table.info("commands run and judged", commands);
    let codes: Vec<String> = codes
        .iter()
        .map(|(c, k)| format!("exit {c}: {k}"))
        .collect();
    table.info(
        "commands ending in a clean error, by exit code",
        codes.join(", "),
    );
    table.info(
        "files damaged",
        all.iter()
            .map(|f| format!("`{}`", f.display()))
            .collect::<Vec<_>>()
            .join(", "),
    );
    table.info(
        "cases: correct answer from every command",
        count(Class::Correct),
    );
    table.info(
        "cases: clean error (one line, exit 2–6), the rest correct",
        count(Class::CleanError),
    );
    table.info(
        "cases: a valid token answered not valid without an error",
        count(Class::Denied),
    );
    table.zero(
        "cases: an error not on one line, or an undocumented exit code",
        count(Class::Unclean),
    );
    table.zero("cases: panic", count(Class::Panic));
    table.zero("cases: hang over 10 s", count(Class::Hang));
    table.zero(
        "cases: wrong answer (a revoked, unknown or altered token valid)",
        count(Class::Wrong),
    );
    table.info(
        "cases with exit 6 repaired by `doctor` / not",
        if ctx.doctor {
            format!("{repaired} / {unrepaired} of {exit6_cases}")
        } else {
            format!("not run: no `doctor` in this binary ({exit6_cases} cases had exit 6)")
        },
    );
    for (file, classes) in &by_file {
        let parts: Vec<String> = classes.iter().map(|(c, k)| format!("{c:?} {k}")).collect();
        table.note(format!("`{file}`: {}", parts.join(", ")));
    }
    for line in worst_examples.iter().take(20) {
        table.note(line.clone());
    }
    table
}
