//! The `vbx-tokens` binary: parse, run, decide the exit code, print the error once. The
//! command line (clap types, prompts, renderers, completions) lives here, apart from the
//! `vbx_tokens` library it drives.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod generate;
mod harden;
mod outcome;
mod output;
mod panic;
mod passphrase;
mod progress;
mod prompt;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use vbx_tokens::error::{self, Error, exit, reason};
use vbx_tokens::{
    backup, chain, engine, lines, name, paths, policy, record, scan, store, time, token, transfer,
    vault,
};
use vbx_tokens::{verdict, verifier};

use crate::outcome::decide;
use crate::output::Printer;

fn main() -> ExitCode {
    panic::install_hook();
    // Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, whose default is to kill the
    // process without a word; handled, the write fails with EFBIG instead, which is reported as
    // a full disk in one line with exit 6, like any other.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    // Ctrl-C, `kill` and a closed terminal remove our temporary files and put the terminal
    // back before the process ends with 128 + the signal (why that is safe: src/cleanup.rs).
    // Without the handler thread they end it as before, just without that cleanup.
    let _ = vbx_tokens::cleanup::catch_signals();
    // Whatever sled or anything else creates in the store is private to this user.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(early) if early.to_stdout => return help(&early.text, early.code),
        Err(early) => return report(early.text.trim_end(), early.code),
    };
    let (ctx, request, json) = match commands::from_cli(cli) {
        Ok(parts) => parts,
        Err(e) => return report(&format!("vbx-tokens: {e}"), e.exit_code()),
    };
    let kind = request.output_kind();
    if request.handles_secrets() {
        harden::no_core_dumps();
    }
    if request.output_must_be_kept() && stdout_is_null() {
        return report(
            "vbx-tokens: stdout is /dev/null (or closed), so the output would be lost: nothing was done; redirect it to a file or a pipe",
            exit::USAGE,
        );
    }
    let color = !json
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // Block-buffered: Rust's stdout is line-buffered, a write per line of a long listing.
    // Everything is flushed at the end, and where it must be seen at once (a batch's chunk).
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut stderr = std::io::stderr();
    let mut printer = Printer::new(&mut stdout, &mut stderr, json, color);
    let result = panic::quietly(std::panic::AssertUnwindSafe(|| {
        commands::run(&ctx, request, &mut printer)
    }))
    .unwrap_or_else(|message| Err(Error::internal(message)));
    let (code, message) = decide(kind, &result, printer.finish());
    match message {
        Some(line) => report(&format!("vbx-tokens: {line}"), code),
        None => ExitCode::from(code),
    }
}

/// `--help` or `--version` on stdout. A reader that left is no failure; a write that failed
/// otherwise is (`--help > /dev/full`).
fn help(text: &str, code: u8) -> ExitCode {
    let mut out = std::io::stdout();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(code),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(e) => report(
            &format!("vbx-tokens: cannot write output: {}", reason(&e)),
            exit::STORE,
        ),
    }
}

/// The one line an error gets on stderr: a token in it masked, and control characters (a
/// newline in a path, an escape sequence) written escaped, so it stays one line and cannot
/// drive the terminal.
fn report(line: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{}", output::message(line));
    ExitCode::from(code)
}

/// True when stdout goes nowhere: `/dev/null`, which is also what the runtime puts on a closed
/// descriptor (`>&-`).
fn stdout_is_null() -> bool {
    let (Ok(out), Ok(null)) = (
        rustix::fs::fstat(std::io::stdout()),
        rustix::fs::stat("/dev/null"),
    ) else {
        return false;
    };
    out.st_rdev == null.st_rdev && (out.st_mode & 0o170000) == (null.st_mode & 0o170000)
}
