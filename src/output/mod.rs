//! Everything a command shows: data on stdout (tables for people, JSON for scripts), messages
//! on stderr. Every script-facing shape ([`views`]) and every message lives here; commands hand
//! the [`Printer`] plain values and never format or print themselves.
//!
//! JSON is one pretty, newline-terminated document, or one compact line per item for streams
//! (NDJSON), and never coloured. A failed write to stdout does not stop a command with an error:
//! the [`Printer`] remembers it, and `crate::error::decide` judges it by the kind of command
//! (a closed pipe is nothing to `list`, a failure to `export`, and never changes a verdict).

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::chain::Broken;
use crate::outcome::OutputFailure;
use crate::record::{Event, Record};
use crate::store::{Chain, Changed, Revoked, Rotated, Verdict};
use crate::time::Time;

mod text;
pub mod views;

use views::{
    BulkRevoked, Created, Forgotten, Imported, LogBroken, LogWhole, RecordView, Revealed,
    ScanFinding, ScanSummary, ShowView, StatusView, VaultExported, VaultImported, VaultStatus,
    VerdictView,
};

/// Stdout, remembering its first failure. After a failure every write "succeeds" and goes
/// nowhere, so a renderer never has to decide what a failed write means.
struct Sink<'a> {
    inner: &'a mut dyn Write,
    failed: Option<io::Error>,
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed.is_some() {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = Some(e);
                Ok(buf.len())
            }
            ok => ok,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.failed.is_none()
            && let Err(e) = self.inner.flush()
        {
            self.failed = Some(e);
        }
        Ok(())
    }
}

/// Where a command's output goes: stdout for data, stderr for messages, and how to render.
pub struct Printer<'a> {
    out: Sink<'a>,
    err: &'a mut dyn Write,
    json: bool,
    color: bool,
    loss: Option<String>,
    /// No item of a streamed array written yet.
    first: bool,
}

impl<'a> Printer<'a> {
    /// `json` for `--json`; `color` when stdout is a terminal and `NO_COLOR` is unset.
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, json: bool, color: bool) -> Self {
        Printer {
            out: Sink {
                inner: out,
                failed: None,
            },
            err,
            json,
            color,
            loss: None,
            first: true,
        }
    }

    /// True once a write to stdout has failed (the reader left, the disk filled): streaming
    /// commands stop early.
    pub fn output_failed(&self) -> bool {
        self.out.failed.is_some()
    }

    /// Flushes stdout and reports how writing it failed, if it did.
    pub fn finish(&mut self) -> Option<OutputFailure<'_>> {
        let _ = self.out.flush();
        self.out.failed.as_ref().map(|error| OutputFailure {
            error,
            loss: self.loss.as_deref(),
        })
    }

    /// One message line on stderr (a closed stderr has nowhere to report to, so it is
    /// ignored). Whatever it holds (a file name, a token's name) is escaped:
    /// it stays one line and cannot drive the terminal.
    fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.err, "{}", message(line.as_ref()));
    }

    fn document(&mut self, value: &impl Serialize) {
        self.json_out(serde_json::to_vec_pretty(value));
    }

    fn line(&mut self, value: &impl Serialize) {
        self.json_out(serde_json::to_vec(value));
    }

    /// Writes one JSON value whole, or nothing: a value that cannot be serialised is a failed
    /// write (judged as any other), never half a document with exit 0.
    fn json_out(&mut self, json: serde_json::Result<Vec<u8>>) {
        match json {
            Ok(mut bytes) => {
                bytes.push(b'\n');
                let _ = self.out.write_all(&bytes);
            }
            Err(e) if self.out.failed.is_none() => self.out.failed = Some(io::Error::other(e)),
            Err(_) => {}
        }
    }

    /// `create`: the token, shown once. Written last, after the record is durable.
    pub fn created(&mut self, record: &Record, token: &str, quiet: bool, kept: bool) {
        self.loss = Some(if kept {
            format!(
                "token {:?} ({}) was created and kept, but not shown: `vbx-tokens vault reveal {}` shows it",
                record.name, record.id, record.id
            )
        } else {
            format!(
                "token {:?} ({}) was created but not shown: revoke it and create another",
                record.name, record.id
            )
        });
        let message = format!("Created token {:?} (id {}).", record.name, record.id);
        self.show_token(Created::new(record, token), quiet, &message);
    }

    /// `rotate`: the new token, shown once, as `create` shows one.
    pub fn rotated(&mut self, rotated: &Rotated, token: &str, quiet: bool, kept: bool) {
        let (old, new) = (&rotated.old, &rotated.new);
        self.loss = Some(if kept {
            format!(
                "token {:?} was rotated ({} replaces {}) and the new one kept, but not shown: `vbx-tokens vault reveal {}` shows it",
                new.name, new.id, old.id, new.id
            )
        } else {
            format!(
                "token {:?} was rotated ({} replaces {}) but the new one was not shown: rotate it again",
                new.name, new.id, old.id
            )
        });
        // A grace keeps an old token verifying only if it still would: not one expired or
        // disabled already.
        let now = crate::time::Time::now();
        let stopped = if old.disabled {
            Some("disabled")
        } else if old.expires_at.is_some_and(|end| end <= now) {
            Some("expired")
        } else {
            None
        };
        let old_fate = match (old.grace_until, stopped) {
            (Some(end), None) => format!("still verifies until {end}"),
            (Some(end), Some(why)) => {
                format!("does not verify (it is {why}), and is revoked at {end}")
            }
            (None, _) => "is revoked".to_owned(),
        };
        // Its predecessor's lifetime from now: said, since a token made to live a second (or
        // imported so) gives a successor that lives a second too.
        let expiry = match new.expires_at {
            Some(end) => format!(
                " The new one expires at {end}, {} from now: the lifetime its predecessor had.",
                text::span(
                    end.as_second()
                        .saturating_sub(new.created_at.as_second())
                        .unsigned_abs()
                )
            ),
            None => String::new(),
        };
        let message = format!(
            "Rotated token {:?}: the new id is {}; the old one ({}) {old_fate}.{expiry}",
            new.name, new.id, old.id
        );
        let view = Created {
            replaces: Some(&old.id),
            grace_until: old.grace_until,
            ..Created::new(new, token)
        };
        self.show_token(view, quiet, &message);
    }

    /// A token shown once: JSON, the token alone, or the token between two messages.
    fn show_token(&mut self, view: Created<'_>, quiet: bool, message: &str) {
        if self.json {
            self.document(&view);
        } else if quiet {
            let _ = writeln!(self.out, "{}", view.token);
        } else {
            self.say(message);
            let _ = writeln!(self.out, "{}", view.token);
            let _ = self.out.flush();
            if !self.output_failed() {
                self.say("Copy this token now: it will not be shown again.");
            }
        }
    }

    /// `disable`, `enable`, `extend`: the record as it now stands.
    pub fn changed(&mut self, changed: &Changed, verb: &str) {
        let r = &changed.record;
        if !changed.already {
            self.loss = Some(format!("the token {:?} ({}) was {verb}", r.name, r.id));
        }
        if self.json {
            self.document(&RecordView::new(r, false));
        } else {
            let expiry = match (verb, r.expires_at) {
                ("extended", Some(at)) => format!("; it expires at {at}"),
                _ => String::new(),
            };
            let already = if changed.already { " already" } else { "" };
            self.say(format!(
                "Token {:?} ({}) was{already} {verb}{expiry}.",
                r.name, r.id
            ));
        }
    }

    /// `revoke --unused-for` in a terminal: the tokens it is about to ask about, on stderr.
    pub fn preview(&mut self, records: &[Record]) {
        let _ = text::records_table(
            &mut self.err,
            records,
            &HashSet::new(),
            Time::now(),
            self.color,
        );
    }

    /// `revoke --unused-for`: what was revoked, or with `--dry-run` what would be.
    pub fn bulk_revoked(&mut self, records: &[Record], dry_run: bool) {
        if !dry_run && !records.is_empty() {
            self.loss = Some(format!("{} token(s) were revoked", records.len()));
        }
        if self.json {
            let now = Time::now();
            self.document(&BulkRevoked {
                dry_run,
                revoked: records
                    .iter()
                    .map(|r| RecordView::at(r, false, now))
                    .collect(),
            });
            return;
        }
        if !records.is_empty() {
            let _ = text::records_table(
                &mut self.out,
                records,
                &HashSet::new(),
                Time::now(),
                self.color,
            );
        }
        self.say(match (dry_run, records.len()) {
            (_, 0) => "No tokens match: nothing to revoke.".to_owned(),
            (true, n) => format!("{n} token(s) would be revoked (dry run: nothing was changed)."),
            (false, n) => format!("Revoked {n} token(s)."),
        });
    }

    /// `list`; `all` (revoked tokens asked for) and `filtered` (a filter given) choose the
    /// message about an empty list.
    pub fn records(
        &mut self,
        records: &[Record],
        kept: &HashSet<String>,
        all: bool,
        filtered: bool,
    ) {
        if self.json {
            let views: Vec<RecordView> = records
                .iter()
                .map(|r| RecordView::new(r, kept.contains(&r.id)))
                .collect();
            self.document(&views);
        } else if records.is_empty() && filtered {
            self.say("No tokens match.");
        } else if records.is_empty() {
            self.say(format!(
                "No {}tokens. Make one with `vbx-tokens create --name NAME`.",
                if all { "" } else { "active " }
            ));
        } else {
            let _ = text::records_table(&mut self.out, records, kept, Time::now(), self.color);
        }
    }

    /// Whether `list` streams its records (JSON) rather than measuring them all (a table).
    pub fn streams_records(&self) -> bool {
        self.json
    }

    /// `list --json`, streamed: `[`, then one record a line, then `]`.
    pub fn records_start(&mut self) {
        let _ = write!(self.out, "[");
        self.first = true;
    }

    pub fn records_item(&mut self, record: &Record, kept: bool) {
        let _ = write!(self.out, "{}\n  ", if self.first { "" } else { "," });
        self.first = false;
        let _ = serde_json::to_writer(&mut self.out, &RecordView::new(record, kept));
    }

    pub fn records_end(&mut self) {
        let _ = writeln!(self.out, "{}]", if self.first { "" } else { "\n" });
    }

    /// `show`.
    pub fn record(&mut self, record: &Record, kept: bool, chain: &Chain) {
        if self.json {
            self.document(&ShowView {
                record: RecordView::new(record, kept),
                predecessors: &chain.predecessors,
                successors: &chain.successors,
            });
        } else {
            let _ =
                text::record_detail(&mut self.out, record, kept, chain, Time::now(), self.color);
        }
    }

    /// `revoke`.
    pub fn revoked(&mut self, revoked: &Revoked) {
        let r = &revoked.record;
        if !revoked.already {
            self.loss = Some(format!("the token {:?} ({}) was revoked", r.name, r.id));
        }
        if self.json {
            self.document(&RecordView::new(r, false));
        } else if revoked.already {
            let when = r.revoked_at.map(|t| format!(" at {t}")).unwrap_or_default();
            self.say(format!(
                "Token {:?} ({}) was already revoked{when}.",
                r.name, r.id
            ));
        } else {
            self.say(format!("Revoked token {:?} ({}).", r.name, r.id));
        }
    }

    /// `grant-verify`: `role` may now verify tokens of `store`. JSON: `{"role", "store"}`.
    pub fn granted_verify(&mut self, role: &str, store: &str) {
        if self.json {
            self.document(&serde_json::json!({ "role": role, "store": store }));
        } else {
            self.say(format!(
                "Role {role:?} may now verify tokens of {store} (and count their uses), and nothing else."
            ));
        }
    }

    /// `verify`: one verdict.
    pub fn verdict(&mut self, verdict: &Verdict) {
        if self.json {
            self.document(&VerdictView::from(verdict));
        } else {
            let _ = text::verdict_line(&mut self.out, verdict);
        }
    }

    /// `verify --batch`: one NDJSON line per input line, flushed with each chunk.
    pub fn batch_verdicts(&mut self, verdicts: &[Verdict]) {
        for v in verdicts {
            self.line(&VerdictView::from(v));
        }
        let _ = self.out.flush();
    }

    /// `verify --batch` whose reader left: the rest was not checked, so it cannot be all valid.
    pub fn batch_cut_short(&mut self, answered: usize) {
        let what = match &self.out.failed {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                format!("failed ({})", crate::error::reason(e))
            }
            _ => "closed".to_owned(),
        };
        self.say(format!(
            "vbx-tokens: the output {what} after {answered} answer(s); the rest of the input was not checked"
        ));
    }

    /// `log`: the events, and (for the table) the names of the tokens failure counters count,
    /// by id.
    pub fn events(&mut self, events: &[Event], names: &HashMap<String, String>) {
        if self.json {
            self.document(&events);
        } else if events.is_empty() {
            self.say("No events.");
        } else {
            let _ = text::events_table(&mut self.out, events, names, Time::now(), self.color);
        }
    }

    /// `log --check` of a whole chain: the answer, on stdout.
    pub fn log_whole(&mut self, events: u64) {
        if self.json {
            self.document(&LogWhole {
                whole: true,
                events,
            });
        } else {
            let s = if events == 1 { "" } else { "s" };
            let _ = writeln!(self.out, "audit log whole: {events} event{s} chained");
        }
    }

    /// `log --check` of a broken chain: with `--json`, the document on stdout; the one line
    /// naming the event is the error's, on stderr, either way.
    pub fn log_broken(&mut self, broken: &Broken) {
        if self.json {
            self.document(&LogBroken::from(broken));
        }
    }

    /// `export`: one stored record per line, every field.
    pub fn exported_record(&mut self, record: &Record) {
        self.loss
            .get_or_insert_with(|| "the export is incomplete".to_owned());
        self.line(record);
    }

    /// `import`.
    pub fn imported(&mut self, imported: usize, skipped: usize, source: &str) {
        self.loss = Some(format!("the import was committed: {imported} token(s)"));
        if self.json {
            self.document(&Imported { imported, skipped });
        } else {
            let skipped = if skipped == 0 {
                String::new()
            } else {
                format!("; skipped {skipped} that already exist")
            };
            self.say(format!(
                "Imported {imported} token(s) from {source}{skipped}."
            ));
        }
    }

    /// `vault init`.
    pub fn vault_ready(&mut self, status: &VaultStatus) {
        self.loss = Some("the vault was created".to_owned());
        if self.json {
            self.document(&StatusView::from(status));
        } else if let Some((_, kdf)) = &status.vault {
            self.say(format!(
                "Vault ready ({}). Keep the passphrase safe: without it, kept tokens cannot be revealed.",
                describe(kdf)
            ));
        }
    }

    /// `vault reveal`: the token alone on stdout.
    pub fn revealed(&mut self, record: &Record, token: &str) {
        self.loss = Some("the token was not shown".to_owned());
        if self.json {
            self.document(&Revealed {
                id: &record.id,
                name: &record.name,
                token,
            });
        } else {
            let _ = writeln!(self.out, "{token}");
        }
    }

    /// `doctor`: one line a check.
    pub fn diagnosis(&mut self, d: &crate::store::Diagnosis) {
        if self.json {
            self.document(&views::DiagnosisView::from(d));
            return;
        }
        for f in &d.findings {
            let _ = writeln!(
                self.out,
                "{:<9} {:<19} {}",
                f.health.as_str(),
                f.check,
                escape(&f.detail)
            );
        }
        if let Some((at, file)) = &d.last_backup {
            let _ = writeln!(
                self.out,
                "{:<9} {:<19} {} (taken {})",
                "",
                "last backup",
                escape(file),
                escape(at)
            );
        }
        if d.whole() {
            self.say("The store is whole.");
        }
    }

    /// `doctor --json` on a store it will not examine (someone else could have written it:
    /// `check` is `ownership`) or could not finish examining (`store`: one it cannot write):
    /// the shape a script parses, not whole and not opened, `check` the one failed check. Text
    /// output says nothing here; the error line says it all.
    pub fn not_examined(&mut self, check: &'static str, why: &crate::error::Error) {
        if self.json {
            self.diagnosis(&crate::store::Diagnosis {
                opened: false,
                findings: vec![crate::store::Finding {
                    check,
                    health: crate::store::Health::Failed,
                    detail: why.to_string(),
                }],
                last_backup: None,
            });
        }
    }

    /// `backup`.
    pub fn backed_up(&mut self, file: &Path, head: &crate::backup::Head) {
        self.loss = Some(format!("the backup {} was written", file.display()));
        if self.json {
            self.document(&views::BackedUp {
                file: crate::error::Masked::new(file.to_string_lossy()).to_string(),
                records: head.records,
                events: head.events,
                vault: head.vault,
                taken_at: head.taken_at,
            });
        } else {
            let vault = if head.vault { " and the vault" } else { "" };
            self.say(format!(
                "Backed up {} token record(s), {} event(s){vault} to {}.",
                head.records,
                head.events,
                file.display()
            ));
        }
    }

    /// `restore`.
    pub fn restored(&mut self, r: &crate::store::Restored, from: &Path) {
        self.loss = Some(format!("the store was restored from {}", from.display()));
        if self.json {
            self.document(&views::RestoredView {
                records: r.records,
                events: r.events,
                kept: r.kept,
                replaced: r
                    .replaced
                    .as_deref()
                    .map(|p| crate::error::Masked::new(p.to_string_lossy()).to_string()),
            });
        } else {
            self.say(format!(
                "Restored {} token record(s), {} event(s) and {} kept secret(s) from {}.",
                r.records,
                r.events,
                r.kept,
                from.display()
            ));
            if let Some(old) = &r.replaced {
                self.say(format!(
                    "The store it replaced is kept at {}.",
                    old.display()
                ));
            }
        }
    }

    /// `vault status`.
    pub fn vault_status(&mut self, status: &VaultStatus) {
        if self.json {
            self.document(&StatusView::from(status));
            return;
        }
        let _ = match &status.vault {
            Some((id, kdf)) => writeln!(
                self.out,
                "vault:  initialised (id {id})\nkdf:    {}\nkept:   {}",
                describe(kdf),
                status.kept
            ),
            None => writeln!(
                self.out,
                "vault:  not initialised (run `vbx-tokens vault init`)"
            ),
        };
    }

    /// `vault passwd`.
    pub fn passphrase_changed(&mut self, status: &VaultStatus) {
        self.loss = Some("the passphrase was changed".to_owned());
        if self.json {
            self.document(&StatusView::from(status));
        } else if let Some((_, kdf)) = &status.vault {
            self.say(format!("Passphrase changed ({}).", describe(kdf)));
        }
    }

    /// `vault forget`.
    pub fn forgotten(&mut self, record: &Record, forgotten: bool) {
        if forgotten {
            self.loss = Some(format!("the kept secret of {} was erased", record.id));
        }
        if self.json {
            self.document(&Forgotten {
                id: &record.id,
                name: &record.name,
                forgotten,
            });
        } else if forgotten {
            self.say(format!(
                "Forgot the kept secret of {:?} ({}); the token still works.",
                record.name, record.id
            ));
        } else {
            self.say(format!(
                "{:?} ({}) had no kept secret.",
                record.name, record.id
            ));
        }
    }

    /// `vault export -`: the encrypted export itself, on stdout.
    pub fn vault_export_bytes(&mut self, bytes: &[u8]) {
        self.loss = Some("the vault export is incomplete".to_owned());
        let _ = self.out.write_all(bytes);
    }

    /// `vault export FILE`.
    pub fn vault_exported(&mut self, file: &Path, kept: usize) {
        self.loss = Some(format!("the export was written to {}", file.display()));
        if self.json {
            self.document(&VaultExported {
                file: file.to_string_lossy(),
                kept,
            });
        } else {
            self.say(format!(
                "Exported {kept} kept secret(s) to {}, encrypted: the vault passphrase opens it.",
                file.display()
            ));
        }
    }

    /// `vault import`.
    pub fn vault_imported(
        &mut self,
        file: &Path,
        imported: &[String],
        skipped: &[String],
        mismatched: &[String],
    ) {
        self.loss = Some(format!(
            "the import was committed: {} kept secret(s)",
            imported.len()
        ));
        if self.json {
            // Ids come from the file: anything token-shaped in them is masked here too.
            let mask = |ids: &[String]| -> Vec<String> {
                ids.iter()
                    .map(|id| crate::token::mask_tokens(id).into_owned())
                    .collect()
            };
            self.document(&VaultImported {
                imported: &mask(imported),
                skipped: &mask(skipped),
                mismatched: &mask(mismatched),
            });
            return;
        }
        self.say(format!(
            "Imported {} kept secret(s) from {}.",
            imported.len(),
            file.display()
        ));
        // Ids come from the file: shown escaped, so none can drive the terminal.
        let list = |ids: &[&String]| -> String {
            ids.iter()
                .map(|id| crate::token::mask_tokens(&id.escape_debug().to_string()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let wrong: Vec<&String> = mismatched.iter().collect();
        if !wrong.is_empty() {
            self.say(format!(
                "Skipped {} secret(s) that are not the token this store has by that id (the SHA-256 differs): {}",
                wrong.len(),
                list(&wrong)
            ));
        }
        let absent: Vec<&String> = skipped
            .iter()
            .filter(|id| !mismatched.contains(id))
            .collect();
        if !absent.is_empty() {
            self.say(format!(
                "Skipped {} with no active token of that id here: {}",
                absent.len(),
                list(&absent)
            ));
        }
    }

    /// `scan`: what it found, sorted (an empty table prints nothing; the summary speaks).
    pub fn scan_findings(&mut self, findings: &[ScanFinding]) {
        if self.json {
            self.document(&findings);
        } else if !findings.is_empty() {
            let _ = text::scan_table(&mut self.out, findings, self.color);
        }
    }

    /// `scan` and `redact` with no store: every token is unknown.
    pub fn no_store(&mut self, dir: &Path, consequence: &str) {
        self.say(format!(
            "vbx-tokens: no store at {}: {consequence}",
            crate::error::Masked::new(dir.display().to_string())
        ));
    }

    /// `scan`: a file (or directory) that could not be read, and was skipped.
    pub fn scan_unreadable(&mut self, what: &str) {
        self.say(format!(
            "vbx-tokens: {}; skipped",
            escape(&crate::error::Masked::new(what).to_string())
        ));
    }

    /// `scan`: the one summary line, on stderr.
    pub fn scan_summary(&mut self, s: &ScanSummary) {
        self.say(Self::scan_summary_line(s));
    }

    /// What `scan` says when it is done: one sentence.
    pub fn scan_summary_line(s: &ScanSummary) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut line = if s.found == 0 {
            format!(
                "No tokens found in {}",
                plural(s.files_searched, "file", "files")
            )
        } else {
            format!(
                "{} found in {}",
                plural(s.found, "token", "tokens"),
                plural(s.files_with, "file", "files")
            )
        };
        if s.found > 0 {
            match &s.no_store {
                None => line.push_str(&format!(", {} still valid", s.live)),
                Some(_) => line.push_str(", none checked (no store): any may still be valid"),
            }
        }
        if s.binary_skipped > 0 {
            line.push_str(&format!(
                "; {} skipped as binary (name a file to search it)",
                plural(s.binary_skipped, "file", "files")
            ));
        }
        if s.unreadable > 0 {
            line.push_str(&format!(
                "; {} could not be read",
                plural(s.unreadable, "file", "files")
            ));
        }
        line.push('.');
        line
    }

    /// `redact`: a piece of the stream, redacted.
    pub fn redacted(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
    }

    /// Pushes what was written so far to the reader (`redact` on a tail, between lines).
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// `generate`: one line per file written.
    pub fn wrote(&mut self, path: &Path) {
        self.say(format!("wrote {}", path.display()));
    }
}

/// The one escape for text output: every string from the store, a file, the environment or the
/// command line that a text renderer prints goes through it. Control characters (C0, C1,
/// DEL: a newline, an escape sequence, BEL), bidi overrides and other characters that show
/// nothing are written as their escapes (`\n`, `\u{1b}`, `\u{202e}`), so a line stays one line
/// and cannot drive the terminal or lie about what it says. JSON output is not escaped here:
/// serde writes every string exactly, escaped as JSON.
pub fn escape(text: &str) -> String {
    vbx_tokens::name::escape_invisible(text)
}

/// A message or error line as it is printed: anything token-shaped in it masked
/// (`vbx_AbCd…`, a token in disguise too), then [`escape`]d. A path the user gave may hold a
/// token (a directory named after one): no message prints it whole.
pub fn message(text: &str) -> String {
    escape(crate::error::Masked::new(text).as_str())
}

fn describe(p: &crate::vault::KdfParams) -> String {
    format!(
        "Argon2id, {} MiB, {} iterations, {} lanes",
        p.memory_kib / 1024,
        p.iterations,
        p.parallelism
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_remembered_with_what_it_lost() {
        let mut out = Closed;
        let mut err = Vec::new();
        let mut p = Printer::new(&mut out, &mut err, false, false);
        assert!(!p.output_failed());
        p.vault_export_bytes(b"abc");
        assert!(p.output_failed());
        let failure = p.finish().expect("failed");
        assert_eq!(failure.error.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(failure.loss, Some("the vault export is incomplete"));
    }

    #[test]
    fn messages_go_to_stderr_and_data_to_stdout() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut p = Printer::new(&mut out, &mut err, false, false);
        p.records(&[], &HashSet::new(), false, false);
        assert!(p.finish().is_none());
        assert!(out.is_empty());
        assert_eq!(
            String::from_utf8(err).expect("utf-8"),
            "No active tokens. Make one with `vbx-tokens create --name NAME`.\n"
        );
    }
}
