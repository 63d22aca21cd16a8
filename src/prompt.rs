//! Questions asked in a terminal: the only module that uses `dialoguer`. Every question here has
//! a flag, environment variable or stdin path for scripts, and is asked only when stdin is a
//! terminal. Each one saves the terminal's settings first ([`TerminalGuard`]): a hidden prompt
//! turns echo off (a yes/no one reads its key in raw mode), and whatever ends it, an
//! answer, an error or a signal, the settings are put back as they were.
//!
//! A question is written to stderr when that is the terminal, and otherwise to the terminal
//! itself (`/dev/tty`, as `ssh` and `git` ask): `vbx-tokens revoke ci 2>>errors.log` still asks.

use std::io::IsTerminal;

use dialoguer::Password;
use dialoguer::console::Term;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use vbx_tokens::cleanup::TerminalGuard;

/// True when a person can answer: stdin is a terminal.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Where a question is written: stderr, or the terminal when stderr is not one.
fn term() -> Term {
    if std::io::stderr().is_terminal() {
        return Term::stderr();
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    match tty.and_then(|w| Ok((w.try_clone()?, w))) {
        Ok((r, w)) => Term::read_write_pair(r, w),
        // No controlling terminal: dialoguer says so, as "not a terminal".
        Err(_) => Term::stderr(),
    }
}

/// The terminal a prompt was on has gone (its window closed, the connection dropped): a read
/// then gives end of input or EIO, and asking for its settings gives EIO. The kernel sends
/// SIGHUP too, but the read may end before the handler has it: a prompt that ends this way
/// ends as SIGHUP ends it (129), not as no answer.
fn ended_by_hangup() {
    use std::os::fd::AsFd;
    let gone = |fd: std::os::fd::BorrowedFd<'_>| {
        rustix::termios::tcgetattr(fd).is_err_and(|e| e == rustix::io::Errno::IO)
    };
    if gone(std::io::stdin().as_fd()) || gone(std::io::stderr().as_fd()) {
        vbx_tokens::cleanup::raise(rustix::process::Signal::HUP);
    }
}

fn cancelled(e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = &e;
    ended_by_hangup();
    if io.kind() == std::io::ErrorKind::Interrupted {
        // Ctrl-C at a yes/no prompt (a byte in raw mode), or a read a signal cut short: ended
        // as a signal ends any command.
        vbx_tokens::cleanup::interrupted();
    }
    Error::usage(format!("no answer at the prompt ({e})"))
}

/// Asks for a token's name, read as a line in the terminal's own mode (as `read` in a shell
/// does), so its keys mean what they mean everywhere: Ctrl-D on an empty line is no answer
/// (exit 2), Ctrl-C, `Ctrl-\` and Ctrl-Z are the signals they send, and erasing works as the
/// terminal is set to. An empty line asks again.
pub fn name() -> Result<String> {
    use std::io::BufRead;
    let _terminal = TerminalGuard::save();
    let term = term();
    let failed = |e: std::io::Error| cancelled(dialoguer::Error::IO(e));
    loop {
        term.write_str("Name for the new token: ").map_err(failed)?;
        let mut line = Vec::new();
        if std::io::stdin()
            .lock()
            .read_until(b'\n', &mut line)
            .map_err(failed)?
            == 0
        {
            ended_by_hangup();
            // The prompt's line ends, so the error is on a line of its own.
            let _ = term.write_line("");
            return Err(Error::usage(
                "no name typed at the prompt (end of input): give one with --name NAME",
            ));
        }
        while line.last().is_some_and(|b| matches!(b, b'\n' | b'\r')) {
            line.pop();
        }
        if line.is_empty() {
            continue;
        }
        return String::from_utf8(line)
            .map_err(|_| Error::usage("the name typed at the prompt is not UTF-8"));
    }
}

/// Asks a yes/no question; the default is no. The answer is one key, read in raw mode, where
/// the keys that would be a signal or an end of input are bytes: Ctrl-C ends the command as
/// SIGINT does and `Ctrl-\` as SIGQUIT does, and Ctrl-D (no answer) is no, as Enter is.
pub fn confirm(question: &str) -> Result<bool> {
    use dialoguer::console::Key;
    let _terminal = TerminalGuard::save();
    let term = term();
    if !term.is_term() {
        return Err(Error::usage("no answer at the prompt (not a terminal)"));
    }
    let failed = |e: std::io::Error| cancelled(dialoguer::Error::IO(e));
    term.write_str(&format!("{question} [y/N] "))
        .map_err(failed)?;
    let yes = loop {
        match term.read_key() {
            Ok(Key::Char('y' | 'Y')) => break true,
            Ok(Key::Char('n' | 'N' | '\u{4}') | Key::Enter | Key::Escape) => break false,
            Ok(Key::Char('\u{1c}')) => {
                vbx_tokens::cleanup::raise(rustix::process::Signal::QUIT);
                return Err(Error::usage("no answer at the prompt (Ctrl-\\)"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                ended_by_hangup();
                break false;
            }
            Err(e) => return Err(failed(e)),
        }
    };
    term.write_line(if yes { "yes" } else { "no" })
        .map_err(failed)?;
    Ok(yes)
}

/// Asks for a secret without echoing it.
pub fn secret(prompt: &str) -> Result<Zeroizing<String>> {
    let _terminal = TerminalGuard::save();
    Password::new()
        .with_prompt(prompt)
        .allow_empty_password(true)
        .interact_on(&term())
        .map(Zeroizing::new)
        .map_err(cancelled)
}

/// Asks for a new secret twice, without echoing it.
pub fn new_secret(prompt: &str) -> Result<Zeroizing<String>> {
    let _terminal = TerminalGuard::save();
    Password::new()
        .with_prompt(prompt)
        .with_confirmation("Again, to confirm", "The two did not match; try again")
        .allow_empty_password(true)
        .interact_on(&term())
        .map(Zeroizing::new)
        .map_err(cancelled)
}
