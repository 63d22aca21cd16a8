//! Verifying tokens of a PostgreSQL store: what a host that only verifies runs, on one
//! connection it keeps. It needs no right beyond what `grant-verify` gives (the
//! `vbx_tokens` functions `lookup`, `count_use`, their batch forms, `verify_uses` and
//! `verify_use`), so it never reads the schema's tables itself; the server decides and counts
//! each use in one statement, so a revocation committed anywhere is seen by the next verify
//! and a use limit holds across every host.

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
    /// Which of the schema's functions we may call, once known. A store an older build made
    /// verifies as that build did until an admin command of this build brings it up.
    calls: Option<Calls>,
    /// Whether a chunk was verified on this connection already: a new connection's first
    /// call is cheaper through the SQL functions, which compile nothing (`verify_use`).
    warm: bool,
}

/// How a chunk of candidates is verified, by what the store's schema offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Calls {
    /// One token at a time (`lookup`, `count_use`): a schema before step 7.
    Each,
    /// Records, then uses, then failures, a statement each (`lookup_many`, `count_uses`,
    /// `count_failures`): steps 7 and 8.
    Batches,
    /// Records and the uses that are certain in one statement (`verify_uses` for a chunk,
    /// `verify_use` for one token on a connection that has verified before; step 9), then
    /// failures: a counted verify of one token is one round trip.
    Certain,
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
            calls: None,
            warm: false,
        })
    }

    /// Makes sure the database holds a store (one round trip).
    ///
    /// # Errors
    /// [`Error::NoStore`] when it does not.
    pub fn check_store(&mut self) -> Result<()> {
        let calls = functions(&mut self.client)
            .ok_or_else(|| Error::NoStore(self.target.shown().into()))?;
        self.calls = Some(calls);
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
        if self.calls == Some(Calls::Each) {
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
        // schema is there and what it offers: a statement that fails counts nothing, so it
        // is asked again the way the schema allows.
        let assumed = self.calls.unwrap_or(Calls::Certain);
        let (records, now) = match self.first(assumed, &wanted, touch, request) {
            Ok(found) => found,
            Err(e) if self.calls.is_none() => {
                self.check_store()?;
                match self.calls {
                    Some(Calls::Each) => {
                        return self
                            .check_each(candidates, touch, request, now)
                            .map_err(|e| self.no_store(e));
                    }
                    Some(calls) if calls != assumed => self
                        .first(calls, &wanted, touch, request)
                        .map_err(|e| self.no_store(e))?,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(self.no_store(e)),
        };
        self.calls.get_or_insert(assumed);
        self.warm = true;
        self.check_batch(candidates, &hashes, &records, touch, request, now)
            .map_err(|e| self.no_store(e))
    }

    /// The first statement of a chunk, as `calls` allows: the records of the tokens `wanted`,
    /// and with [`Calls::Certain`] the uses that are certain. What is cheapest was measured
    /// (pgbench, on the bench machine): on a new connection, `lookup_many` and then
    /// `count_uses` (4.4 ms with the connection, where `verify_uses` took 5.2 and `verify_use`
    /// 5.4); on a kept one, `verify_use` (0.31 ms, where the two took 0.68).
    fn first(
        &mut self,
        calls: Calls,
        wanted: &[&[u8]],
        touch: Touch,
        request: &Request,
    ) -> Result<tokens::Seen> {
        if calls == Calls::Certain && touch == Touch::Yes {
            match wanted {
                [one] if self.warm => {
                    return tokens::verify_use(&mut self.client, &self.target, one, request);
                }
                [_] => {}
                _ => return tokens::verify_uses(&mut self.client, &self.target, wanted, request),
            }
        }
        let (records, now) = tokens::by_hashes(&mut self.client, &self.target, wanted)?;
        let seen = records.into_iter().map(|(h, r)| (h, (r, false))).collect();
        Ok((seen, now))
    }

    /// [`Verifier::check_many`] in two or three statements whatever the number: the records
    /// of every candidate (`records`, by the SHA-256 in `hashes`, each with whether its first
    /// use was taken with it), then the uses of those their records allow that were not, and
    /// the failures. A use the server would not take (the token changed since it was read,
    /// or the same limited token came twice) is decided again alone, so each verdict is what
    /// one verify would give.
    fn check_batch<S: AsRef<str>>(
        &mut self,
        candidates: &[S],
        hashes: &[Option<TokenHash>],
        records: &HashMap<[u8; 32], (Record, bool)>,
        touch: Touch,
        request: &Request,
        now: Time,
    ) -> Result<Vec<Verdict>> {
        let steps: Vec<Step> = candidates
            .iter()
            .zip(hashes)
            .map(|(c, hash)| {
                let record = hash
                    .as_ref()
                    .and_then(|h| records.get(&h.0))
                    .map(|(r, _)| r);
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
        // A use taken with the records is the first of its token's in the chunk. (Taken only
        // where the record allows it, so it always falls on a `Step::Count`.)
        let mut first_taken: HashSet<[u8; 32]> = records
            .iter()
            .filter(|(_, (_, counted))| *counted)
            .map(|(hash, _)| *hash)
            .collect();
        for (i, step) in steps.iter().enumerate() {
            if let Step::Count(hash, _) = step
                && first_taken.remove(&hash.0)
            {
                taken[i] = true;
            }
        }
        let mut waiting: Vec<usize> = (0..steps.len())
            .filter(|&i| matches!(steps[i], Step::Count(..)) && !taken[i])
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
        if functions(&mut self.client).is_none() {
            Error::NoStore(self.target.shown().into())
        } else {
            e
        }
    }
}

/// What the store's schema offers us to call, in one round trip; `None` when the database
/// lacks the schema (or the functions a verify calls). A server that does not answer is taken
/// to offer the first functions only (the next statement says why it does not answer).
fn functions(client: &mut Client) -> Option<Calls> {
    let row = client.query_typed_one(
        "SELECT to_regprocedure('vbx_tokens.lookup(bytea)') IS NULL,
                coalesce(has_function_privilege(
                    to_regprocedure('vbx_tokens.count_uses(bytea[], timestamptz, inet)'),
                    'EXECUTE'), false),
                coalesce(has_function_privilege(
                    to_regprocedure('vbx_tokens.verify_uses(bytea[], inet, jsonb)'),
                    'EXECUTE'), false)",
        &[],
    );
    let Ok(row) = row else {
        return Some(Calls::Each);
    };
    let (missing, batches, certain): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
    if missing {
        None
    } else if certain {
        Some(Calls::Certain)
    } else if batches {
        Some(Calls::Batches)
    } else {
        Some(Calls::Each)
    }
}
