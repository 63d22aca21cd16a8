//! Figures and their Markdown tables: each harness returns a [`Table`]; a figure with a
//! requirement that does not hold fails the run.

use std::fmt::Write as _;

/// What a figure must be.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Must {
    /// Only reported.
    Any,
    /// Must be zero.
    Zero,
    /// Must equal another figure (said in the text).
    Holds(bool),
}

pub struct Figure {
    pub name: String,
    pub value: String,
    pub must: Must,
    pub ok: bool,
}

pub struct Table {
    pub title: String,
    pub figures: Vec<Figure>,
    /// Lines under the table: what was run, what was not, what broke.
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            figures: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A figure that is only reported.
    pub fn info(&mut self, name: impl Into<String>, value: impl ToString) {
        self.figures.push(Figure {
            name: name.into(),
            value: value.to_string(),
            must: Must::Any,
            ok: true,
        });
    }

    /// A figure that must be zero.
    pub fn zero(&mut self, name: impl Into<String>, value: usize) {
        self.figures.push(Figure {
            name: name.into(),
            value: value.to_string(),
            must: Must::Zero,
            ok: value == 0,
        });
    }

    /// A figure whose requirement is stated in its name and checked by the caller.
    pub fn holds(&mut self, name: impl Into<String>, value: impl ToString, ok: bool) {
        self.figures.push(Figure {
            name: name.into(),
            value: value.to_string(),
            must: Must::Holds(ok),
            ok,
        });
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    pub fn ok(&self) -> bool {
        self.figures.iter().all(|f| f.ok)
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "### {}\n", self.title);
        let _ = writeln!(s, "| figure | value | required |");
        let _ = writeln!(s, "|---|---|---|");
        for f in &self.figures {
            let required = match f.must {
                Must::Any => "",
                Must::Zero if f.ok => "0: holds",
                Must::Zero => "0: **BROKEN**",
                Must::Holds(true) => "holds",
                Must::Holds(false) => "**BROKEN**",
            };
            let _ = writeln!(s, "| {} | {} | {} |", f.name, f.value, required);
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}
