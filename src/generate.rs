//! Completions and man pages, generated from the clap definitions: the only module that uses
//! clap_complete and clap_mangen. `vbx-tokens generate --out-dir .` rewrites `completions/` and
//! `man/`; a test fails when the committed files differ from what this produces.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::{Generator, Shell};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{Cli, EXIT_CODES};
use crate::error::{Error, Result};

/// The binary name the generated files are for, whatever the running binary is called.
pub const BIN: &str = "vbx-tokens";
/// The command that regenerates everything, for error messages and the drift test.
pub const REGENERATE: &str = "cargo run -- generate --out-dir .";

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
        let mut cmd = public_command();
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
        out.push((Path::new("completions").join(shell.file_name(BIN)), buf));
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
    let mut page = Vec::new();
    render_page(cmd, &name, &mut page).map_err(Error::Output)?;
    out.push((Path::new("man").join(format!("{name}.1")), page));
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
            "VBX_TOKENS_HOME",
            "The store directory; --store wins over it.",
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
