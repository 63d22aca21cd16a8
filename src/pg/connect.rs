//! Opening a connection to a PostgreSQL store's server, and what a failure means: the server
//! could not be reached in time (exit 5), or it refused us, TLS did not verify, or we may not
//! do what was asked (exit 6). Every message names the host, never the password.

use std::time::Duration;

use postgres::error::SqlState;

use super::config::{SslMode, Target};
use crate::error::{Error, Result};

/// A connection to `target`, with TLS as its mode asks.
///
/// # Errors
/// [`Error::Unreachable`] when the server is down, unreachable or silent past the connect
/// timeout; [`Error::Store`] when it refuses the login (with its reason), the certificate does
/// not verify, or the database does not exist.
pub fn connect(target: &Target) -> Result<postgres::Client> {
    let mut config = target.config.clone();
    // A lock another host holds is waited for as long as a store directory's lock is (`--wait`),
    // set in the startup packet so it costs no round trip.
    let lock_timeout = format!("-c lock_timeout={}", target.wait.as_millis().max(1));
    let options = match config.get_options() {
        Some(given) => format!("{given} {lock_timeout}"),
        None => lock_timeout,
    };
    config.options(&options);
    let tls = if target.ssl == SslMode::Disable || target.local_socket() {
        config.ssl_mode(postgres::config::SslMode::Disable);
        None
    } else {
        config.ssl_mode(match target.ssl {
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            _ => postgres::config::SslMode::Require,
        });
        Some(
            super::tls::client_config(target)
                .map_err(|e| Error::store(format!("{}: {e}", target.shown())))?,
        )
    };
    // The driver's connect timeout bounds reaching the socket, not the handshake after it: a
    // server that accepts and then says nothing (stopped, or swamped) would hold us for ever.
    // So the whole handshake runs beside us, waited for that long; a handshake given up on is
    // left to die with the process.
    let deadline = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(target.wait)
        .max(Duration::from_secs(1));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let connected = match tls {
            None => config.connect(postgres::NoTls),
            Some(tls) => config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
        };
        // The caller may have given up: then no one is told.
        let _ = sender.send(connected);
    });
    match receiver.recv_timeout(deadline) {
        Ok(connected) => connected.map_err(|e| failure(target, &e)),
        Err(_) => Err(Error::unreachable(format!(
            "the PostgreSQL server at {} did not answer within {} s: is it stopped or overloaded? (raise --wait or VBX_TOKENS_WAIT, or connect_timeout in the URL, if it is slow)",
            target.shown(),
            // As given: `--wait 1.5` waited 1.5 s.
            deadline.as_secs_f64()
        ))),
    }
}

/// What a failed statement or connection means, as this tool's error.
pub fn failure(target: &Target, e: &postgres::Error) -> Error {
    let at = target.shown();
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let said = db.message();
        return if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            let from = match &target.password_from {
                Some(source) => format!(" (the password from {source})"),
                None => String::new(),
            };
            Error::store(format!(
                "the PostgreSQL server at {at} refused the login{from}: {said}"
            ))
        } else if [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
        ]
        .contains(code)
        {
            Error::unreachable(format!(
                "the PostgreSQL server at {at} ended the connection: {said}"
            ))
        } else if [
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::QUERY_CANCELED,
            SqlState::TOO_MANY_CONNECTIONS,
        ]
        .contains(code)
        {
            Error::unreachable(format!(
                "the PostgreSQL server at {at} did not serve us in time: {said} (raise --wait or VBX_TOKENS_WAIT)"
            ))
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            Error::store(format!(
                "the PostgreSQL server at {at} refused: {said} (this role may not do that; see the README, \"Many machines\")"
            ))
        } else {
            Error::store(format!("the PostgreSQL server at {at} said: {said}"))
        };
    }
    let text = e.to_string();
    let cause = std::error::Error::source(e)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let cause = cause.lines().next().unwrap_or("");
    if text.starts_with("error performing TLS handshake") {
        Error::store(format!(
            "TLS to the PostgreSQL server at {at} failed (sslmode {}): {cause}",
            target.ssl.as_str()
        ))
    } else if text.contains("password missing") || cause == "password missing" {
        Error::store(format!(
            "the PostgreSQL server at {at} asks for a password and none was given: set PGPASSWORD or a line in the password file (PGPASSFILE, default ~/.pgpass)"
        ))
    } else if e.is_closed() || text.starts_with("error communicating with the server") {
        let why = if cause.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                crate::error::reason(&std::io::Error::other(cause.to_owned()))
            )
        };
        Error::unreachable(format!(
            "the connection to the PostgreSQL server at {at} was lost{why}"
        ))
    } else if text.starts_with("authentication error") {
        Error::store(format!(
            "the PostgreSQL server at {at} refused the login: {cause}"
        ))
    } else {
        let why = if cause.is_empty() {
            text.as_str()
        } else {
            cause
        };
        Error::unreachable(format!(
            "cannot reach the PostgreSQL server at {at}: {why} (is it running? raise --wait or VBX_TOKENS_WAIT if it is slow)"
        ))
    }
}
