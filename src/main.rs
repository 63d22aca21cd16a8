//! The `vbx-tokens` binary: parse, run, print the error once, return the exit code.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use vbx_tokens::cli::Cli;
use vbx_tokens::commands::{self, Outcome};
use vbx_tokens::error::{Error, exit};

fn main() -> ExitCode {
    vbx_tokens::panic::install_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap prints them and tells us how it went.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::SUCCESS
            });
        }
    };
    let result = vbx_tokens::panic::quietly(move || {
        let mut out = std::io::stdout().lock();
        let result = commands::run(cli, &mut out);
        result.and_then(|outcome| out.flush().map(|()| outcome).map_err(Error::Output))
    });
    let result = result.unwrap_or_else(|message| Err(Error::Internal(message)));
    match result {
        Ok(Outcome::Success) => ExitCode::from(exit::SUCCESS),
        Ok(Outcome::Invalid) => ExitCode::from(exit::INVALID),
        Err(e) if e.is_broken_pipe() => ExitCode::from(exit::SUCCESS),
        Err(e) => {
            eprintln!("vbx-tokens: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
