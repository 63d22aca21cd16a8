//! Verifying tokens of a PostgreSQL store: what a host that only verifies runs, on one
//! connection it keeps. It needs no right beyond what `grant-verify` gives (the
//! `vbx_tokens.lookup` and `vbx_tokens.count_use` functions), so it never reads the schema's
//! tables itself; the server decides and counts each use in one statement, so a revocation
//! committed anywhere is seen by the next verify and a use limit holds across every host.

use postgres::Client;

use super::config::Target;
use super::connect::connect;
use super::tokens;
use crate::error::{Error, Result};
use crate::policy::Request;
use crate::record::Record;
use crate::time::Time;
use crate::verdict::{Touch, Verdict};

/// A connection to a PostgreSQL store, for verifying.
pub struct Verifier {
    client: Client,
    target: Target,
    /// Who failed verifies are counted as: the OS user, as on a directory store.
    actor: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("target", &self.target)
            .finish()
    }
}

impl Verifier {
    /// Connects to the store at `target`.
    ///
    /// # Errors
    /// As for [`connect`].
    pub fn open(target: &Target) -> Result<Verifier> {
        let mut verifier = Verifier {
            client: connect(target)?,
            target: target.clone(),
            actor: crate::store::current_user(),
        };
        // Said now, as a directory with no store is: `scan` and `redact` go on without one.
        if verifier.missing() {
            return Err(Error::NoStore(target.shown().into()));
        }
        Ok(verifier)
    }

    /// Verifies `candidates` in order, as [`tokens::verify`] does each, and counts each
    /// failure (`super::failures`) before it answers.
    ///
    /// # Errors
    /// [`Error::NoStore`] when the database has no store; the server's errors.
    pub fn check_many<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
        request: &Request,
    ) -> Result<Vec<Verdict>> {
        let now = Time::now();
        let mut verdicts = Vec::with_capacity(candidates.len());
        for c in candidates {
            let verdict = tokens::verify(
                &mut self.client,
                &self.target,
                c.as_ref(),
                request,
                touch,
                now,
            )
            .map_err(|e| self.no_store(e))?;
            if !verdict.is_valid() {
                let hash = crate::token::lookup_hash(c.as_ref().trim());
                super::failures::count(
                    &mut self.client,
                    &self.target,
                    verdict.reason,
                    &self.actor,
                    hash.as_ref(),
                    now,
                    request.ip,
                )?;
            }
            verdicts.push(verdict);
        }
        Ok(verdicts)
    }

    /// The record of the token `candidate` is, as it is now, counting nothing.
    ///
    /// # Errors
    /// As for [`Verifier::check_many`].
    pub fn record(&mut self, candidate: &str) -> Result<Option<Record>> {
        let Some(hash) = crate::token::lookup_hash(candidate.trim()) else {
            return Ok(None);
        };
        tokens::by_hash(&mut self.client, &self.target, &hash).map_err(|e| self.no_store(e))
    }

    /// Whether the database lacks the store's schema (or the functions a verify calls).
    fn missing(&mut self) -> bool {
        self.client
            .query_one(
                "SELECT to_regprocedure('vbx_tokens.lookup(bytea)') IS NULL",
                &[],
            )
            .map(|row| row.get::<_, bool>(0))
            .unwrap_or(false)
    }

    /// A database that lost the schema since it was opened holds no store.
    fn no_store(&mut self, e: Error) -> Error {
        if self.missing() {
            Error::NoStore(self.target.shown().into())
        } else {
            e
        }
    }
}
