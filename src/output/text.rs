//! Text for people: tables, a record's detail, a verdict line, relative times. The only module
//! that uses `comfy_table`. Each renderer takes a writer.

use std::collections::{HashMap, HashSet};
use std::io::{Result, Write};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use crate::policy::State;
use crate::record::{Event, EventKind, Record};
use crate::store::{Chain, Verdict};
use crate::time::Time;

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    // A terminal that says it is (nearly) no columns wide (`stty cols 0`, a serial console
    // that never set it) would get a column a character wide: lines run on instead.
    if t.width().is_some_and(|w| w < MIN_WIDTH) {
        t.set_content_arrangement(ContentArrangement::Disabled);
    }
    t
}

/// The narrowest terminal a table is fitted to.
const MIN_WIDTH: u16 = 20;

/// Writes a table flush left, two spaces between columns and no trailing blanks, so it reads
/// like `ls -l` and survives `cut`/`awk`.
fn write_table(w: &mut impl Write, mut t: Table) -> Result<()> {
    for column in t.column_iter_mut() {
        column.set_padding((0, 2));
    }
    for line in t.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The token list as a table.
pub fn records_table(
    w: &mut impl Write,
    records: &[Record],
    kept: &HashSet<String>,
    now: Time,
    color: bool,
) -> Result<()> {
    let mut t = table();
    t.set_header([
        "ID",
        "NAME",
        "HINT",
        "STATUS",
        "CREATED",
        "BY",
        "LAST USED",
        "USES",
        "EXPIRES",
        "KEPT",
    ]);
    for r in records {
        let state = r.state_at(now);
        let uses = match r.max_uses {
            Some(max) => format!("{}/{max}", r.use_count),
            None => r.use_count.to_string(),
        };
        t.add_row([
            shown(&r.id),
            shown(&r.name),
            shown(&r.hint),
            paint(Cell::new(state.as_str()), status_color(state), color),
            Cell::new(relative(r.created_at, now)),
            shown(&r.created_by),
            Cell::new(relative_or_never(r.last_used_at, now)),
            Cell::new(uses),
            Cell::new(
                r.expires_at
                    .map_or_else(|| "never".to_owned(), |at| relative(at, now)),
            ),
            Cell::new(if kept.contains(&r.id) { "yes" } else { "" }),
        ]);
    }
    write_table(w, t)
}

/// One record, a field a line.
pub fn record_detail(
    w: &mut impl Write,
    r: &Record,
    kept: bool,
    chain: &Chain,
    now: Time,
    color: bool,
) -> Result<()> {
    let mut t = table();
    let state = r.state_at(now);
    let mut row = |k: &str, v: String| {
        let cell = if k == "status" {
            paint(shown(&v), status_color(state), color)
        } else {
            shown(&v)
        };
        t.add_row([Cell::new(k), cell]);
    };
    let when = |at: Time| format!("{} ({at})", relative(at, now));
    row("id", r.id.clone());
    row("name", r.name.clone());
    if let Some(note) = &r.note {
        row("note", note.clone());
    }
    row("hint", r.hint.clone());
    row("status", state.as_str().to_owned());
    row("created", when(r.created_at));
    row("created by", r.created_by.clone());
    match (r.grace_until, r.revoked_at) {
        (Some(end), _) if r.in_grace(now) => {
            row("revoked", format!("at the end of its grace, {}", when(end)))
        }
        (_, Some(at)) => row("revoked", when(at)),
        _ => {}
    }
    if let Some(at) = r.disabled_at.filter(|_| r.disabled) {
        row("disabled", when(at));
    }
    row(
        "expires",
        r.expires_at.map_or_else(|| "never".to_owned(), when),
    );
    row(
        "scopes",
        match r.scopes.is_empty() {
            true => "all (no scopes: full access)".to_owned(),
            false => r.scopes.join(" "),
        },
    );
    if !r.allow_ip.is_empty() {
        let nets: Vec<String> = r.allow_ip.iter().map(ToString::to_string).collect();
        row("allowed from", nets.join(" "));
    }
    row(
        "last used",
        match r.last_used_at {
            Some(at) => when(at),
            None => "never".to_owned(),
        },
    );
    if let Some(ip) = r.last_used_ip {
        row("last used from", ip.to_string());
    }
    row(
        "uses",
        match r.max_uses {
            Some(max) => format!("{} of at most {max}", r.use_count),
            None => r.use_count.to_string(),
        },
    );
    if !chain.predecessors.is_empty() {
        row(
            "replaces",
            chain
                .predecessors
                .iter()
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(" <- "),
        );
    }
    if !chain.successors.is_empty() {
        row("replaced by", chain.successors.join(" -> "));
    }
    row(
        "kept",
        if kept { "yes, in the vault" } else { "no" }.to_owned(),
    );
    write_table(w, t)
}

/// The audit log as a table.
pub fn events_table(
    w: &mut impl Write,
    events: &[Event],
    names: &HashMap<String, String>,
    now: Time,
    color: bool,
) -> Result<()> {
    let mut t = table();
    t.set_header(["WHEN", "EVENT", "TOKEN", "NAME", "ACTOR", "DETAIL"]);
    for e in events {
        // A failure counter of one token shows it as any event of a token does; of more, how
        // many (DETAIL names the first).
        let (token, name) = match e.tokens.keys().collect::<Vec<_>>()[..] {
            [] => (
                e.token_id.clone().unwrap_or_else(|| "-".into()),
                e.name.clone().unwrap_or_else(|| "-".into()),
            ),
            [id] => (
                id.clone(),
                names.get(id).cloned().unwrap_or_else(|| "-".into()),
            ),
            ref many => (format!("{} tokens", many.len()), "-".into()),
        };
        t.add_row([
            Cell::new(relative(e.at, now)),
            paint(
                Cell::new(e.event.as_str()),
                (e.event == EventKind::VerifyFailed).then_some(Color::Red),
                color,
            ),
            shown(&token),
            shown(&name),
            shown(&e.actor),
            shown(&event_detail(e, names, now)),
        ]);
    }
    write_table(w, t)
}

/// What an event adds to its kind: a failure's reason (and how many, and the last when they
/// span time), the token a rotation replaced, a new expiry, why a bulk revoke chose the token.
fn event_detail(e: &Event, names: &HashMap<String, String>, now: Time) -> String {
    /// The most tokens, and addresses, a counter's line names (`log --json` has them all).
    const SHOWN: usize = 3;
    let mut parts = Vec::new();
    if let Some(reason) = &e.reason {
        parts.push(reason.clone());
    }
    if e.count > 1 {
        parts.push(format!("x{}", e.count));
    }
    if let Some(last) = e.last_at.filter(|&last| last != e.at) {
        parts.push(format!("last {}", relative(last, now)));
    }
    if e.tokens.len() > 1 {
        // The most failed first.
        let mut tokens: Vec<(&String, &u64)> = e.tokens.iter().collect();
        tokens.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut named: Vec<String> = tokens
            .iter()
            .take(SHOWN)
            .map(|(id, n)| match names.get(*id) {
                Some(name) => format!("{id} ({name}) x{n}"),
                None => format!("{id} x{n}"),
            })
            .collect();
        if tokens.len() > SHOWN {
            named.push(format!("{} more", tokens.len() - SHOWN));
        }
        parts.push(named.join(", "));
    }
    if let Some(ip) = &e.ip {
        parts.push(format!("from {ip}"));
    }
    if !e.ips.is_empty() {
        let mut ips: Vec<String> = e.ips.iter().take(SHOWN).map(ToString::to_string).collect();
        if e.ips.len() > SHOWN {
            ips.push(format!("{} more", e.ips.len() - SHOWN));
        }
        parts.push(format!("from {}", ips.join(", ")));
    }
    if let Some(old) = &e.replaces {
        parts.push(format!("replaces {old}"));
    }
    if let Some(detail) = &e.detail {
        parts.push(detail.clone());
    }
    parts.join("; ")
}

/// `scan`'s findings as a table: where, which token, its status.
pub fn scan_table(
    w: &mut impl Write,
    findings: &[super::views::ScanFinding],
    color: bool,
) -> Result<()> {
    let mut t = table();
    t.set_header(["PATH", "LINE", "ID", "NAME", "STATUS", "TOKEN"]);
    for f in findings {
        // A token that still works is the leak to act on; one unknown here may work elsewhere.
        let fg = match f.status {
            "active" => Some(Color::Red),
            "unknown" => Some(Color::Yellow),
            _ => None,
        };
        t.add_row([
            shown(&f.path),
            Cell::new(f.line),
            shown(f.id.as_deref().unwrap_or("-")),
            shown(f.name.as_deref().unwrap_or("-")),
            paint(Cell::new(f.status), fg, color),
            Cell::new(&f.token),
        ]);
    }
    write_table(w, t)
}

/// One verification, as a line of text.
pub fn verdict_line(w: &mut impl Write, v: &Verdict) -> Result<()> {
    let who = match (&v.name, &v.id) {
        (Some(name), Some(id)) => super::escape(&format!(": {name} ({id})")),
        _ => String::new(),
    };
    if v.is_valid() {
        writeln!(w, "valid{who}")?;
    } else {
        writeln!(w, "invalid ({}){who}", v.reason.as_str())?;
    }
    Ok(())
}

/// Colour for a terminal; plain when piped or under `NO_COLOR` (the caller decides `color`).
/// A cell of text that came from the store or from outside, escaped ([`super::escape`]): an
/// old store or a future bug must not reach the terminal raw.
fn shown(text: &str) -> Cell {
    Cell::new(super::escape(text))
}

fn paint(cell: Cell, fg: Option<Color>, color: bool) -> Cell {
    match fg {
        Some(c) if color => cell.fg(c),
        _ => cell,
    }
}

fn status_color(state: State) -> Option<Color> {
    Some(match state {
        State::Active => Color::Green,
        State::Revoked => Color::Red,
        State::Expired | State::Disabled => Color::Yellow,
    })
}

fn relative_or_never(at: Option<Time>, now: Time) -> String {
    at.map_or_else(|| "never".to_owned(), |at| relative(at, now))
}

/// "3 days ago": the largest whole unit, as people say it.
pub fn relative(then: Time, now: Time) -> String {
    let ago = now.as_second() - then.as_second();
    if ago.abs() < 10 {
        return "just now".to_owned();
    }
    if ago < 0 {
        format!("in {}", span(ago.unsigned_abs()))
    } else {
        format!("{} ago", span(ago.unsigned_abs()))
    }
}

/// A length of time in its largest whole unit: "1 second", "3 days", "2 years".
pub fn span(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const MONTH: u64 = 30 * DAY;
    const YEAR: u64 = 365 * DAY;
    let (n, unit) = match secs {
        s if s < MINUTE => (s, "second"),
        s if s < HOUR => (s / MINUTE, "minute"),
        s if s < DAY => (s / HOUR, "hour"),
        s if s < MONTH => (s / DAY, "day"),
        s if s < YEAR => (s / MONTH, "month"),
        s => (s / YEAR, "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Time {
        Time::from_second(s).expect("in range")
    }

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now = at(1_000_000_000);
        let ago = |s: i64| relative(at(1_000_000_000 - s), now);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(30), "30 seconds ago");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(3 * 3600 + 5), "3 hours ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
        assert_eq!(ago(65 * 86400), "2 months ago");
        assert_eq!(ago(800 * 86400), "2 years ago");
        assert_eq!(ago(-5), "just now");
        assert_eq!(ago(-7200), "in 2 hours");
    }
}
