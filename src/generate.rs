//! Completions and man pages, generated from the clap definitions: the only module that uses
//! clap_complete and clap_mangen. `vbx-tokens generate --out-dir .` rewrites `completions/` and
//! `man/`; a test fails when the committed files differ from what this produces.
//!
//! clap_complete's bash and fish scripts get a few documented fixes here (modules `bash` and
//! `fish`), and the man pages are made plain ASCII roff (`plain_roff`); the tests in
//! `tests/it/completion.rs` drive real completion in bash, zsh and fish and lint the pages.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Command, CommandFactory, ValueHint};
use clap_complete::{Generator, Shell};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{Cli, EXIT_CODES};
use crate::error::{Error, Result};

/// The binary name the generated files are for, whatever the running binary is called.
pub const BIN: &str = "vbx-tokens";
/// The date in every man page's `.TH` line (mandoc warns about a page without one). A constant,
/// not today, so that every machine generates the same bytes and the drift test can compare them:
/// move it forward when the pages change in a way that matters to a reader.
pub const MAN_DATE: &str = "2026-11-29";

const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

/// Every generated file, as (path relative to the output directory, contents).
pub fn files() -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    for shell in SHELLS {
        let rel = Path::new("completions").join(shell.file_name(BIN));
        let script = completion(shell)
            .map_err(|e| Error::io(format!("cannot generate {}", rel.display()), e))?;
        out.push((rel, script));
    }
    let mut root = public_command().bin_name(BIN);
    root.build();
    man_pages(&root, &mut out)?;
    Ok(out)
}

/// The command line as users see it: clap_complete would offer hidden subcommands (`generate`,
/// `debug-panic`) too, and clap has no way to remove one, so the root is rebuilt with only the
/// visible ones.
fn public_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    if let Some(long_about) = full.get_long_about() {
        cmd = cmd.long_about(long_about.clone());
    }
    if let Some(after_help) = full.get_after_help() {
        cmd = cmd.after_help(after_help.clone());
    }
    cmd
}

/// One shell's script: clap_complete's, with the fixes below for bash and fish.
fn completion(shell: Shell) -> io::Result<Vec<u8>> {
    let mut cmd = public_command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    // `generate` has built `cmd` (bin names set, `help` subcommands added): the tree the script
    // was written from.
    let fix = match shell {
        Shell::Bash => bash::fix,
        Shell::Fish => fish::fix,
        _ => return Ok(buf),
    };
    let script = String::from_utf8(buf).map_err(io::Error::other)?;
    Ok(fix(&cmd, script)?.into_bytes())
}

/// Whether an argument's value is a path, so that completing file names for it is right. Anything
/// else (`ValueHint::Other` on `--name`, `--wait`, an ID|NAME, and `Unknown` on a plain string)
/// must not offer them.
fn is_path(arg: &clap::Arg) -> bool {
    matches!(
        arg.get_value_hint(),
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath | ValueHint::ExecutablePath
    )
}

/// Whether any positional argument of `cmd` is a path.
fn takes_path(cmd: &Command) -> bool {
    cmd.get_positionals().any(is_path)
}

fn broken(what: String) -> io::Error {
    io::Error::other(format!(
        "{what}: clap_complete's output changed; revisit the fixes in src/generate.rs"
    ))
}

/// clap_complete's bash script (as of 4.6.11) needs two fixes.
///
/// 1. With a hyphen in the binary's name, no subcommand completes at all (clap-rs/clap#6421, also
///    reported as #6386 and #6529; #6428 proposed a fix). The script walks the words
///    typed so far into a state, spelling `vbx-tokens create` as `vbx__tokens__subcmd__create`
///    (the bin name with `-` as `__`, then `__subcmd__` before each subcommand), and then switches
///    on that state. But the switch's case labels are made by escaping the whole path
///    `vbx-tokens__subcmd__create` in one go, `-` becoming `__subcmd__`, so they read
///    `vbx__subcmd__tokens__subcmd__create`: no label ever matches a subcommand's state, and
///    `vbx-tokens create --<TAB>` offers nothing. The labels are respelled the way the walk spells
///    states, and every state the walk can reach is checked to have its arm.
/// 2. The script is registered with `complete -o default`, so whenever a command's arm finds no
///    match bash falls back to file names: `vbx-tokens show t<TAB>` would offer `tokens.txt` for
///    an ID|NAME. The arms of commands none of whose positionals is a path turn that fallback off
///    for the attempt (`compopt +o default +o bashdefault`). Flags are not concerned: clap_complete
///    completes a path flag's value itself, and offers only the word typed for a
///    `ValueHint::Other` one, which stops the fallback.
mod bash {
    use super::*;

    /// What clap_complete puts between a command and a subcommand in a state's name.
    const SEP: &str = "__subcmd__";

    const NO_FILE_FALLBACK: &str = "            if [[ \"${BASH_VERSINFO[0]}\" -ge 4 ]]; then
                compopt +o default +o bashdefault
            fi
";

    pub fn fix(cmd: &Command, mut script: String) -> io::Result<String> {
        let state = BIN.replace('-', "__");
        let mislabelled = BIN.replace('-', SEP);
        if mislabelled != state {
            script = script.replace(&format!("{mislabelled}{SEP}"), &format!("{state}{SEP}"));
        }
        let mut states = Vec::new();
        states_of(cmd, state, &mut states);
        for (state, cmd) in states {
            let label = format!("\n        {state})\n");
            let at = script
                .find(&label)
                .ok_or_else(|| broken(format!("no case arm for the state {state}")))?;
            if !takes_path(cmd) {
                script.insert_str(at + label.len(), NO_FILE_FALLBACK);
            }
        }
        Ok(format!(
            "# clap_complete's script, with two fixes made by vbx-tokens' src/generate.rs: case labels\n\
             # that match a hyphenated name's states, and no file names where no argument is a path.\n{script}"
        ))
    }

    /// Every state the script's walk can reach, with its command: the root and each subcommand,
    /// recursively, `help` and its own subcommands included.
    fn states_of<'a>(cmd: &'a Command, state: String, out: &mut Vec<(String, &'a Command)>) {
        for sub in cmd.get_subcommands() {
            let name = sub.get_name().replace('-', SEP);
            states_of(sub, format!("{state}{SEP}{name}"), out);
        }
        out.push((state, cmd));
    }
}

/// clap_complete's fish script (as of 4.6.11) needs two additions, appended as rules of their own.
///
/// 1. It writes rules for flags and subcommands only, never for positionals, and fish completes
///    file names for an argument no rule covers: `vbx-tokens show <TAB>` would list the current
///    directory for an ID|NAME. A `-f` (no files) rule is added for each command none of whose
///    positionals is a path, under the same condition clap_complete uses for that command's
///    other rules (and checked to be one of them).
/// 2. Its conditions parse the words typed so far with `argparse`, which fails while a global flag
///    before the subcommand still lacks its value (`vbx-tokens --wait <TAB>`); then no rule
///    applies and fish falls back to file names. Each global flag that takes a value gets its
///    root rule again without a condition (global flags are valid anywhere; identical rules
///    complete once).
mod fish {
    use super::*;

    pub fn fix(cmd: &Command, mut script: String) -> io::Result<String> {
        let name = BIN.replace('-', "_");
        let mut extra = String::new();
        let mut conditions = BTreeMap::new();
        conditions_of(&name, cmd, &[], &mut conditions);
        for (condition, no_path) in conditions {
            if !script.contains(&format!(" -n \"{condition}\" ")) {
                return Err(broken(format!("no rule has the condition {condition:?}")));
            }
            if no_path {
                let _ = writeln!(extra, "complete -c {BIN} -n \"{condition}\" -f");
            }
        }
        let root = format!("-n \"__fish_{name}_needs_command\" ");
        for arg in cmd
            .get_arguments()
            .filter(|a| a.is_global_set() && a.get_action().takes_values())
        {
            let Some(long) = arg.get_long() else { continue };
            let start = format!("complete -c {BIN} {root}-l {long} ");
            let line = script
                .lines()
                .find(|l| l.starts_with(&start))
                .ok_or_else(|| broken(format!("no root rule for --{long}")))?;
            let _ = writeln!(extra, "{}", line.replacen(&root, "", 1));
        }
        if !extra.is_empty() {
            if !script.ends_with('\n') {
                script.push('\n');
            }
            script.push_str(
                "# Added by vbx-tokens (src/generate.rs): no file names for arguments that are not \
                 paths, and\n# global flags' values completed before the subcommand too.\n",
            );
            script.push_str(&extra);
        }
        Ok(script)
    }

    /// The condition clap_complete gives the rules of each command it writes rules for (the root,
    /// subcommands and their subcommands, `help` aside), and whether the command takes no path.
    fn conditions_of(name: &str, cmd: &Command, path: &[&str], out: &mut BTreeMap<String, bool>) {
        let condition = match path {
            [] => format!("__fish_{name}_needs_command"),
            [command] if cmd.has_subcommands() => {
                let subs: Vec<&str> = cmd
                    .get_subcommands()
                    .flat_map(Command::get_name_and_visible_aliases)
                    .collect();
                format!(
                    "__fish_{name}_using_subcommand {command}; and not __fish_seen_subcommand_from {}",
                    subs.join(" ")
                )
            }
            [command] => format!("__fish_{name}_using_subcommand {command}"),
            [command, sub] => format!(
                "__fish_{name}_using_subcommand {command}; and __fish_seen_subcommand_from {sub}"
            ),
            // clap_complete writes no rules deeper than this.
            _ => return,
        };
        out.insert(condition, !takes_path(cmd));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            for alias in sub.get_name_and_visible_aliases() {
                let mut deeper = path.to_vec();
                deeper.push(alias);
                conditions_of(name, sub, &deeper, out);
            }
        }
    }
}

/// Writes every generated file under `dir`.
pub fn write_all(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, bytes) in files()? {
        let path = dir.join(&rel);
        let io = |e| Error::io(format!("cannot write {}", path.display()), e);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        fs::write(&path, bytes).map_err(io)?;
        written.push(rel);
    }
    Ok(written)
}

/// One page for the command and one for each visible subcommand, recursively
/// (`vbx-tokens-vault-init.1`).
fn man_pages(cmd: &clap::Command, out: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<()> {
    let name = cmd.get_display_name().unwrap_or(BIN).to_owned();
    let rel = Path::new("man").join(format!("{name}.1"));
    let fail = |e| Error::io(format!("cannot generate {}", rel.display()), e);
    let mut page = Vec::new();
    render_page(cmd, &name, &mut page).map_err(fail)?;
    let page = String::from_utf8(page).map_err(|e| fail(io::Error::other(e)))?;
    out.push((rel.clone(), plain_roff(&page).into_bytes()));
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        man_pages(sub, out)?;
    }
    Ok(())
}

fn render_page(cmd: &clap::Command, name: &str, w: &mut dyn Write) -> std::io::Result<()> {
    // clap's after_help holds our examples (subcommands) or the exit codes (the root); both get
    // sections of their own below, so the page is built from the parts rather than `render`.
    let man = Man::new(cmd.clone())
        .title(name.to_uppercase())
        .date(MAN_DATE)
        .source(format!("{BIN} {}", env!("CARGO_PKG_VERSION")))
        .manual("User Commands");
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(w)?;
    }
    let mut roff = Roff::new();
    examples(&mut roff, cmd, name);
    section(
        &mut roff,
        "EXIT STATUS",
        EXIT_CODES.lines().skip(1).map(str::trim),
    );
    environment(&mut roff);
    roff.control("SH", ["FILES"]);
    roff.text([bold("~/.local/share/vbx-tokens/")]);
    roff.control("RS", []);
    roff.text([roman(
        "The default store (the XDG data directory): a sled database, the lock file and a marker. \
         The directory is 0700 and every file in it 0600.",
    )]);
    roff.control("RE", []);
    roff.control("SH", ["SEE ALSO"]);
    let see_also: Vec<String> = if name == BIN {
        [
            "create", "list", "show", "revoke", "verify", "log", "vault", "export", "import",
        ]
        .iter()
        .map(|s| format!("{BIN}-{s}(1)"))
        .collect()
    } else {
        vec![format!("{BIN}(1)")]
    };
    roff.text([roman(see_also.join(", "))]);
    roff.to_writer(w)
}

/// Characters that groff's terminal devices (`-Tascii`, `-Tlatin1`: `man` in a non-UTF-8
/// locale) have no glyph for, with what to print instead.
const TTY_FALLBACKS: &[(char, &str)] = &[('\u{2026}', "...")];

/// The page as roff any formatter reads the same: plain groff takes its input as Latin-1 (only
/// man-db runs preconv first), so every non-ASCII character becomes a groff escape (`…` is
/// `\[u2026]`, which groff and mandoc both know), with a fallback defined for the ones a terminal
/// device has no glyph for. Trailing blanks, which mandoc flags, go too (never one that a
/// backslash escapes).
fn plain_roff(page: &str) -> String {
    let mut body = String::with_capacity(page.len());
    let mut fallbacks = BTreeMap::new();
    for line in page.lines() {
        let trimmed = line.trim_end_matches([' ', '\t']);
        let line = if trimmed.ends_with('\\') {
            line
        } else {
            trimmed
        };
        for c in line.chars() {
            if c.is_ascii() {
                body.push(c);
            } else {
                let glyph = format!("\\[u{:04X}]", u32::from(c));
                if let Some((_, text)) = TTY_FALLBACKS.iter().find(|(f, _)| *f == c) {
                    fallbacks.insert(glyph.clone(), *text);
                }
                body.push_str(&glyph);
            }
        }
        body.push('\n');
    }
    let mut out = String::new();
    for (glyph, text) in fallbacks {
        let _ = writeln!(out, ".if !c{glyph} .char {glyph} {text}");
    }
    out + &body
}

/// The "Examples:" part of a subcommand's after_help, or a few for the root page.
fn examples(roff: &mut Roff, cmd: &clap::Command, name: &str) {
    let text = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let lines: Vec<String> = match text.split_once("Examples:") {
        Some((_, ex)) => ex
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        None if name == BIN => vec![
            format!("{BIN} create --name \"accounting export\""),
            format!("printf '%s\\n' \"$T\" | {BIN} verify && echo valid"),
            format!("{BIN} list --json | jq -r '.[].name'"),
            format!("{BIN} revoke ci --yes"),
        ],
        None => Vec::new(),
    };
    if let Some((intro, _)) = text
        .split_once("Examples:")
        .filter(|(i, _)| !i.trim().is_empty())
    {
        roff.control("SH", ["NOTES"]);
        roff.text([roman(intro.trim().replace('\n', " "))]);
    }
    section(roff, "EXAMPLES", lines.iter().map(String::as_str));
}

/// A section of preformatted lines.
fn section<'a>(roff: &mut Roff, title: &str, lines: impl Iterator<Item = &'a str>) {
    let lines: Vec<&str> = lines.collect();
    if lines.is_empty() {
        return;
    }
    roff.control("SH", [title]);
    roff.control("nf", []);
    for line in lines {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    for (var, what) in [
        (
            "VBX_TOKENS_STORE",
            "The store, a directory or a PostgreSQL URL (which may hold a password, unlike --store); --store wins over it.",
        ),
        (
            "VBX_TOKENS_HOME",
            "The store directory; --store and VBX_TOKENS_STORE win over it.",
        ),
        (
            "VBX_TOKENS_WAIT",
            "Seconds to wait for a busy store (--wait; default 10).",
        ),
        ("VBX_TOKEN", "The token verify checks, instead of stdin."),
        (
            "VBX_TOKENS_PASSPHRASE_FILE",
            "A file holding the vault passphrase; --passphrase-file wins over it.",
        ),
        (
            "VBX_TOKENS_PASSPHRASE",
            "The vault passphrase itself: the weakest source, as the environment leaks.",
        ),
        (
            "NO_COLOR",
            "When set and not empty, tables are never coloured.",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(var)]);
        roff.text([roman(what)]);
    }
}
