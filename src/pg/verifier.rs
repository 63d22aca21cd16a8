//! Verifying tokens of a PostgreSQL store: what a host that only verifies runs, on one
//! connection it keeps. It needs no right beyond what `grant-verify` gives (the
//! `vbx_tokens.lookup` and `vbx_tokens.count_use` functions), so it never reads the schema's
//! tables itself; the server decides and counts each use in one statement, so a revocation
//! committed anywhere is seen by the next verify and a use limit holds across every host.

use std::collections::{HashMap, HashSet};

use postgres::Client;

use super::config::Target;
use super::connect::connect;
use super::tokens;
use crate::error::{Error, Result};
use crate::policy;
use crate::policy::Request;
use crate::record::Record;
use crate::time::Time;
use crate::token::TokenHash;
use crate::verdict::{Reason, Touch, Verdict};

/// A connection to a PostgreSQL store, for verifying.
pub struct Verifier {
    client: Client,
    target: Target,
    /// Who failed verifies are counted as: the OS user, as on a directory store.
    actor: String,
    /// Whether the schema has the batch functions (step 7) and we may call them, once known:
    /// a chunk then costs three round trips, not two a token. A store an older build made
    /// verifies one token at a time until an admin command of this build brings it up.
    batches: Option<bool>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("target", &self.target)
            .finish()
    }
}

/// What a candidate of a batch comes to before its use is counted.
enum Step {
    Done(Verdict),
    /// Valid by its record: counted next, with the others.
    Count(TokenHash, Verdict),
}

impl Verifier {
    /// Connects to the store at `target`, asking the server nothing yet: a database without
    /// a store is found by [`Verifier::check_store`] or the first verify.
    ///
    /// # Errors
    /// As for [`connect`].
    pub fn open(target: &Target) -> Result<Verifier> {
        Ok(Verifier {
            client: connect(target)?,
            target: target.clone(),
            actor: crate::store::current_user(),
            batches: None,
        })
    }

    /// Makes sure the database holds a store (one round trip).
    ///
    /// # Errors
    /// [`Error::NoStore`] when it does not.
    pub fn check_store(&mut self) -> Result<()> {
        let (missing, batches) = functions(&mut self.client);
        if missing {
            return Err(Error::NoStore(self.target.shown().into()));
        }
        self.batches = Some(batches);
        Ok(())
    }

    /// Lets go of the connection without waiting for the server to close it (a dropped
    /// [`Client`] waits for that): for a process that exits next, whose uses and failures
    /// are committed. The server sees the socket close, as after any client that exits.
    pub fn leave(self) {
        std::mem::forget(self.client);
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
        if self.batches == Some(false) {
            return self
                .check_each(candidates, touch, request, now)
                .map_err(|e| self.no_store(e));
        }
        let hashes: Vec<Option<TokenHash>> = candidates
            .iter()
            .map(|c| crate::token::lookup_hash(c.as_ref().trim()))
            .collect();
        let mut wanted: Vec<&[u8]> = hashes.iter().flatten().map(|h| &h.0[..]).collect();
        wanted.sort_unstable();
        wanted.dedup();
        // The first statement of a connection that has not asked finds out whether the
        // schema is there and has the batch functions; it only reads, so whatever it finds,
        // nothing was counted yet.
        let (records, now) = match tokens::by_hashes(&mut self.client, &self.target, &wanted) {
            Ok(found) => found,
            Err(e) if self.batches.is_none() => {
                self.check_store()?;
                if self.batches == Some(false) {
                    return self
                        .check_each(candidates, touch, request, now)
                        .map_err(|e| self.no_store(e));
                }
                return Err(e);
            }
            Err(e) => return Err(self.no_store(e)),
        };
        self.batches = Some(true);
        self.check_batch(candidates, &hashes, &records, touch, request, now)
            .map_err(|e| self.no_store(e))
    }

    /// [`Verifier::check_many`] in three statements whatever the number: the records of
    /// every candidate (`records`, by the SHA-256 in `hashes`), then the uses of those their
    /// records allow, and the failures. A use the server would not take (the token changed
    /// since it was read, or the same limited token came twice) is decided again alone, so
    /// each verdict is what one verify would give.
    fn check_batch<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        hashes: &[Option<TokenHash>],
        records: &HashMap<[u8; 32], Record>,
        touch: Touch,
        request: &Request,
        now: Time,
    ) -> Result<Vec<Verdict>> {
        let steps: Vec<Step> = candidates
            .iter()
            .zip(hashes)
            .map(|(c, hash)| {
                let record = hash.as_ref().and_then(|h| records.get(&h.0));
                let (Some(hash), Some(r)) = (hash, record) else {
                    return Step::Done(Verdict::anonymous(tokens::not_known(c.as_ref().trim())));
                };
                let reason = policy::judge(&r.facts(), now, r.use_count, request);
                let verdict = Verdict {
                    reason,
                    id: Some(r.id.clone()),
                    name: Some(r.name.clone()),
                };
                if reason == Reason::Valid && touch == Touch::Yes {
                    Step::Count(*hash, verdict)
                } else {
                    Step::Done(verdict)
                }
            })
            .collect();
        // Each round takes one use of each distinct token still waiting, so a token on three
        // lines takes its uses in three rounds, as three verifies one after another would. A
        // token the server refused is refused for the rest of the chunk, and decided again
        // alone below.
        let mut taken = vec![false; steps.len()];
        let mut waiting: Vec<usize> = (0..steps.len())
            .filter(|&i| matches!(steps[i], Step::Count(..)))
            .collect();
        let mut refused: HashSet<[u8; 32]> = HashSet::new();
        while !waiting.is_empty() {
            let mut round: Vec<(usize, &[u8; 32])> = Vec::new();
            let mut named: HashSet<&[u8; 32]> = HashSet::new();
            let mut later = Vec::new();
            for i in waiting {
                let Step::Count(hash, _) = &steps[i] else {
                    continue;
                };
                if refused.contains(&hash.0) {
                    continue;
                }
                if named.insert(&hash.0) {
                    round.push((i, &hash.0));
                } else {
                    later.push(i);
                }
            }
            if round.is_empty() {
                break;
            }
            let hashes: Vec<&[u8]> = round.iter().map(|(_, h)| &h[..]).collect();
            let counted =
                tokens::count_uses(&mut self.client, &self.target, &hashes, now, request.ip)?;
            for (i, hash) in round {
                if counted.contains_key(hash) {
                    taken[i] = true;
                } else {
                    refused.insert(*hash);
                }
            }
            waiting = later;
        }
        let mut verdicts = Vec::with_capacity(candidates.len());
        for ((step, c), taken) in steps.into_iter().zip(candidates).zip(taken) {
            verdicts.push(match step {
                Step::Done(verdict) => verdict,
                Step::Count(_, verdict) if taken => verdict,
                Step::Count(..) => {
                    tokens::verify(&mut self.client, &self.target, c.as_ref(), request, touch)?
                }
            });
        }
        // Every failure, durably counted before any verdict is given.
        let mut failures: Vec<(Reason, Option<TokenHash>, u64)> = Vec::new();
        for (verdict, hash) in verdicts.iter().zip(hashes.iter().copied()) {
            if verdict.is_valid() {
                continue;
            }
            match failures
                .iter_mut()
                .find(|(r, h, _)| *r == verdict.reason && *h == hash)
            {
                Some((_, _, n)) => *n += 1,
                None => failures.push((verdict.reason, hash, 1)),
            }
        }
        super::failures::count_many(
            &mut self.client,
            &self.target,
            &failures,
            &self.actor,
            now,
            request.ip,
        )?;
        Ok(verdicts)
    }

    /// [`Verifier::check_many`] one token at a time, for a schema without the batch
    /// functions.
    fn check_each<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        touch: Touch,
        request: &Request,
        now: Time,
    ) -> Result<Vec<Verdict>> {
        let mut verdicts = Vec::with_capacity(candidates.len());
        for c in candidates {
            let verdict =
                tokens::verify(&mut self.client, &self.target, c.as_ref(), request, touch)?;
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

    /// A database that lost the schema since it was opened holds no store.
    fn no_store(&mut self, e: Error) -> Error {
        if functions(&mut self.client).0 {
            Error::NoStore(self.target.shown().into())
        } else {
            e
        }
    }
}

/// Whether the database lacks the store's schema (or the functions a verify calls), and
/// whether it has the batch functions and we may call them; in one round trip. A server that
/// does not answer says neither (the next statement says why).
fn functions(client: &mut Client) -> (bool, bool) {
    client
        .query_typed_one(
            "SELECT to_regprocedure('vbx_tokens.lookup(bytea)') IS NULL,
                    coalesce(has_function_privilege(
                        to_regprocedure('vbx_tokens.count_uses(bytea[], timestamptz, inet)'),
                        'EXECUTE'), false)",
            &[],
        )
        .map(|row| (row.get::<_, bool>(0), row.get::<_, bool>(1)))
        .unwrap_or((false, false))
}
