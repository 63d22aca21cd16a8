//! The `vbx-tokens` binary: parse, run, decide the exit code, print the error once.

#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use vbx_tokens::error::{Error, decide};
use vbx_tokens::output::Printer;
use vbx_tokens::{cli, commands, panic};

fn main() -> ExitCode {
    panic::install_hook();
    let cli = match cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(early) => {
            let _ = if early.to_stdout {
                write!(std::io::stdout(), "{}", early.text)
            } else {
                writeln!(std::io::stderr(), "{}", early.text.trim_end())
            };
            return ExitCode::from(early.code);
        }
    };
    let (ctx, request) = match commands::from_cli(cli) {
        Ok((ctx, request, json)) => ((ctx, json), request),
        Err(e) => return report(&e.to_string(), e.exit_code()),
    };
    let ((ctx, json), kind) = (ctx, request.output_kind());

    let color = !json
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    let mut printer = Printer::new(&mut stdout, &mut stderr, json, color);
    let result = panic::quietly(std::panic::AssertUnwindSafe(|| {
        commands::run(&ctx, request, &mut printer)
    }))
    .unwrap_or_else(|message| Err(Error::internal(message)));
    let (code, message) = decide(kind, &result, printer.finish());
    match message {
        Some(line) => report(&line, code),
        None => ExitCode::from(code),
    }
}

/// The one line an error gets on stderr.
fn report(line: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "vbx-tokens: {line}");
    ExitCode::from(code)
}
