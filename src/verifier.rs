//! Verifying tokens: the fast path of `verify`, and what a Rust service embeds, for a store of
//! either engine. A directory store is verified from its verification index without opening
//! sled or taking its lock (`dir`); a PostgreSQL store on one connection kept open, the server
//! deciding and counting each use in one statement (`crate::pg::verifier`).

use std::path::Path;
use std::time::Duration;

use crate::error::Result;
use crate::location::Location;
use crate::policy::{self, Request, State};
use crate::time::Time;
use crate::verdict::{Touch, Verdict};

mod dir;

/// How a directory store's index is read: from the file on each look-up (a single check), or
/// from a copy in memory (a batch, or a long-lived service). A PostgreSQL store reads the
/// server every time either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    File,
    Memory,
}

/// A token the store knows, as [`Verifier::inspect`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: String,
    pub name: String,
    /// Its status now.
    pub state: State,
    /// It still verifies (from an allowed address, with the scopes it has): active, and its
    /// use limit, if any, not reached.
    pub live: bool,
}

/// Verifies tokens of one store.
///
/// ```no_run
/// use vbx_tokens::{Touch, Verifier};
///
/// let mut verifier = Verifier::open("/var/lib/vbx-tokens".as_ref())?;
/// let verdict = verifier.verify("vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17", Touch::No)?;
/// println!("{}", verdict.reason.as_str());
/// # Ok::<(), vbx_tokens::Error>(())
/// ```
#[derive(Debug)]
pub struct Verifier(Inner);

#[derive(Debug)]
enum Inner {
    Dir(dir::Verifier),
    // Boxed: a connection's state is three times a directory verifier's.
    Postgres(Box<crate::pg::verifier::Verifier>),
}

impl Verifier {
    /// Opens the directory store in `dir` for verifying, reading the index from the file on
    /// each look-up.
    ///
    /// # Errors
    /// [`crate::Error::NoStore`] when `dir` holds no store; [`crate::Error::Untrusted`] when
    /// it, a directory above it or a file in it could have been written by someone untrusted
    /// (`crate::trust`).
    pub fn open(dir: &Path) -> Result<Verifier> {
        Verifier::with(dir, Reading::File, Duration::from_secs(10))
    }

    /// [`Verifier::open`], choosing how the index is read and how long the slow path may wait
    /// for the store's lock.
    ///
    /// # Errors
    /// As for [`Verifier::open`].
    pub fn with(dir: &Path, reading: Reading, wait: Duration) -> Result<Verifier> {
        Ok(Verifier(Inner::Dir(dir::Verifier::with(
            dir, reading, wait,
        )?)))
    }

    /// Opens the store at `location`, a directory (as [`Verifier::with`]) or a PostgreSQL
    /// database (one connection, kept for every check).
    ///
    /// # Errors
    /// As for [`Verifier::open`]; for PostgreSQL, the connection's errors
    /// (`crate::pg::connect::connect`), and [`crate::Error::NoStore`] for a database that
    /// holds no store.
    pub fn at(location: &Location, reading: Reading, wait: Duration) -> Result<Verifier> {
        let mut verifier = Verifier::at_unchecked(location, reading, wait)?;
        if let Inner::Postgres(v) = &mut verifier.0 {
            v.check_store()?;
        }
        Ok(verifier)
    }

    /// [`Verifier::at`], except that a PostgreSQL database without a store is found by the
    /// first check ([`crate::Error::NoStore`] then), not before: a one-shot verify spares
    /// the round trip.
    ///
    /// # Errors
    /// As for [`Verifier::at`], short of the missing store.
    pub fn at_unchecked(location: &Location, reading: Reading, wait: Duration) -> Result<Verifier> {
        match location {
            Location::Dir(dir) => Verifier::with(dir, reading, wait),
            Location::Postgres(target) => Ok(Verifier(Inner::Postgres(Box::new(
                crate::pg::verifier::Verifier::open(target)?,
            )))),
        }
    }

    /// Lets go of the store for a process that exits next, without waiting for what need
    /// not be waited for (a PostgreSQL server closing the connection). Every use and failure
    /// counted is durable already.
    pub fn leave(self) {
        match self.0 {
            Inner::Dir(v) => drop(v),
            Inner::Postgres(v) => v.leave(),
        }
    }

    /// Verifies one token; see [`Verifier::verify_many`].
    ///
    /// # Errors
    /// As for [`Verifier::verify_many`].
    pub fn verify(&mut self, candidate: &str, touch: Touch) -> Result<Verdict> {
        let mut verdicts = self.verify_many(&[candidate], touch)?;
        Ok(verdicts.pop().expect("one candidate, one verdict"))
    }

    /// Verifies candidates in order, asking for nothing beyond the token itself (so a token
    /// restricted to address ranges answers `forbidden`); see [`Verifier::check_many`].
    ///
    /// # Errors
    /// As for [`Verifier::check_many`].
    pub fn verify_many<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
    ) -> Result<Vec<Verdict>> {
        self.check_many(candidates, touch, &Request::default())
    }

    /// Verifies candidates in order against the token's policy and what `request` asks (scopes,
    /// the client's address), one verdict each. A valid one counts a use unless `touch` is
    /// [`Touch::No`], durably before this returns, and a use limit is exact however many
    /// processes (or, on PostgreSQL, hosts) verify at once.
    ///
    /// # Errors
    /// A directory store: [`crate::Error::Io`] or [`crate::Error::DiskFull`] when the journal
    /// or a use counter cannot be written (a counted use is then not acknowledged),
    /// [`crate::Error::Store`] for a damaged use counter. PostgreSQL: the server's errors
    /// ([`crate::Error::Unreachable`] when it does not answer in time). No verdict is given
    /// then.
    pub fn check_many<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
        request: &Request,
    ) -> Result<Vec<Verdict>> {
        match &mut self.0 {
            Inner::Dir(v) => v.check_many(candidates, touch, request),
            Inner::Postgres(v) => v.check_many(candidates, touch, request),
        }
    }

    /// What the store knows of a token, without counting or recording anything (for `scan`
    /// and `redact`): `None` for a string that is no token of this store.
    ///
    /// # Errors
    /// As for [`Verifier::check_many`], short of writing.
    pub fn inspect(&mut self, candidate: &str) -> Result<Option<Known>> {
        match &mut self.0 {
            Inner::Dir(v) => v.inspect(candidate),
            Inner::Postgres(v) => Ok(v.record(candidate)?.map(|r| {
                let facts = r.facts();
                let state = policy::state(&facts, Time::now());
                let spent = facts.max_uses.is_some_and(|max| r.use_count >= max);
                Known {
                    id: r.id,
                    name: r.name,
                    state,
                    live: state == State::Active && !spent,
                }
            })),
        }
    }
}
