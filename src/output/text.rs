//! Text for people: tables, a record's detail, a verdict line, relative times. The only module
//! that uses `comfy_table`. Each renderer takes a writer.

use std::collections::HashSet;
use std::io::{Result, Write};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use crate::record::{Event, EventKind, Record, Status};
use crate::store::Verdict;
use crate::time::Time;

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

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
        "KEPT",
    ]);
    for r in records {
        t.add_row([
            Cell::new(&r.id),
            Cell::new(&r.name),
            Cell::new(&r.hint),
            paint(Cell::new(r.status.as_str()), status_color(r.status), color),
            Cell::new(relative(r.created_at, now)),
            Cell::new(&r.created_by),
            Cell::new(relative_or_never(r.last_used_at, now)),
            Cell::new(r.use_count),
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
    now: Time,
    color: bool,
) -> Result<()> {
    let mut t = table();
    let mut row = |k: &str, v: String| {
        let cell = if k == "status" {
            paint(Cell::new(v), status_color(r.status), color)
        } else {
            Cell::new(v)
        };
        t.add_row([Cell::new(k), cell]);
    };
    row("id", r.id.clone());
    row("name", r.name.clone());
    if let Some(note) = &r.note {
        row("note", note.clone());
    }
    row("hint", r.hint.clone());
    row("status", r.status.as_str().to_owned());
    row(
        "created",
        format!("{} ({})", relative(r.created_at, now), r.created_at),
    );
    row("created by", r.created_by.clone());
    if let Some(at) = r.revoked_at {
        row("revoked", format!("{} ({at})", relative(at, now)));
    }
    row(
        "last used",
        match r.last_used_at {
            Some(at) => format!("{} ({at})", relative(at, now)),
            None => "never".to_owned(),
        },
    );
    row("uses", r.use_count.to_string());
    row(
        "kept",
        if kept { "yes, in the vault" } else { "no" }.to_owned(),
    );
    write_table(w, t)
}

/// The audit log as a table.
pub fn events_table(w: &mut impl Write, events: &[Event], now: Time, color: bool) -> Result<()> {
    let mut t = table();
    t.set_header(["WHEN", "EVENT", "TOKEN", "NAME", "ACTOR", "REASON"]);
    for e in events {
        t.add_row([
            Cell::new(relative(e.at, now)),
            paint(
                Cell::new(e.event.as_str()),
                (e.event == EventKind::VerifyFailed).then_some(Color::Red),
                color,
            ),
            Cell::new(e.token_id.as_deref().unwrap_or("-")),
            Cell::new(e.name.as_deref().unwrap_or("-")),
            Cell::new(&e.actor),
            Cell::new(e.reason.as_deref().unwrap_or_default()),
        ]);
    }
    write_table(w, t)
}

/// One verification, as a line of text.
pub fn verdict_line(w: &mut impl Write, v: &Verdict) -> Result<()> {
    let who = match (&v.name, &v.id) {
        (Some(name), Some(id)) => format!(": {name} ({id})"),
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
fn paint(cell: Cell, fg: Option<Color>, color: bool) -> Cell {
    match fg {
        Some(c) if color => cell.fg(c),
        _ => cell,
    }
}

fn status_color(status: Status) -> Option<Color> {
    Some(match status {
        Status::Active => Color::Green,
        Status::Revoked => Color::Red,
    })
}

fn relative_or_never(at: Option<Time>, now: Time) -> String {
    at.map_or_else(|| "never".to_owned(), |at| relative(at, now))
}

/// "3 days ago": the largest whole unit, as people say it.
pub fn relative(then: Time, now: Time) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const MONTH: i64 = 30 * DAY;
    const YEAR: i64 = 365 * DAY;
    let secs = now.as_second() - then.as_second();
    if secs < 0 {
        return "in the future".to_owned();
    }
    let (n, unit) = match secs {
        0..10 => return "just now".to_owned(),
        s if s < MINUTE => (s, "second"),
        s if s < HOUR => (s / MINUTE, "minute"),
        s if s < DAY => (s / HOUR, "hour"),
        s if s < MONTH => (s / DAY, "day"),
        s if s < YEAR => (s / MONTH, "month"),
        s => (s / YEAR, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
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
        assert_eq!(ago(-5), "in the future");
    }
}
