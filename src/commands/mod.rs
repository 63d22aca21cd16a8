//! One file per subcommand: the only place that joins the store, prompts and output. Each turns
//! its clap arguments into plain values, does the work and renders the result.

mod create;
mod log;
mod records;
mod revoke;
mod show;
mod vault;
mod verify;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::paths;
use crate::store::{OpenMode, Store};

/// How a command that did not fail ended: it matters only to `verify`, whose "no" is exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Invalid,
}

/// What every command needs besides its own arguments.
pub struct Context {
    pub store_dir: PathBuf,
    pub wait: Duration,
    pub json: bool,
    /// Colour tables: stdout is a terminal and `NO_COLOR` is unset or empty (no-color.org).
    pub color: bool,
}

impl Context {
    pub fn open(&self, mode: OpenMode) -> Result<Store> {
        Store::open(&self.store_dir, mode, self.wait)
    }
}

/// Runs a parsed command line, writing data to `out`.
pub fn run(cli: Cli, out: &mut impl Write) -> Result<Outcome> {
    let store_dir = match cli.store {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => paths::default_store_dir()?,
    };
    let ctx = Context {
        store_dir,
        wait: cli.wait,
        json: cli.json,
        color: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    match cli.command {
        Command::Create(args) => create::run(&ctx, args, out),
        Command::List(args) => show::list(&ctx, args, out),
        Command::Show(args) => show::show(&ctx, args, out),
        Command::Revoke(args) => revoke::run(&ctx, args, out),
        Command::Verify(args) => verify::run(&ctx, args, out),
        Command::Log(args) => log::run(&ctx, args, out),
        Command::Export => records::export(&ctx, out),
        Command::Import(args) => records::import(
            &ctx,
            records::ImportArgs {
                file: &args.file,
                any_format: args.any_format,
                skip_existing: args.skip_existing,
            },
            out,
        ),
        Command::Vault(command) => vault::run(&ctx, command, out),
        Command::Generate { out_dir } => {
            for path in crate::generate::write_all(&out_dir)? {
                eprintln!("wrote {}", out_dir.join(path).display());
            }
            Ok(Outcome::Success)
        }
        Command::DebugPanic => panic!("debug-panic was asked for"),
    }
}
