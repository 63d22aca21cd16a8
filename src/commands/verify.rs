//! `verify`: is this token valid? Read from `$VBX_TOKEN` or stdin, never from an argument.

use std::io::{self, Read};

use zeroize::Zeroizing;

use super::Context;
use crate::error::{Error, Result, reason};
use crate::lines::{BoundedLines, Line};
use crate::outcome::Outcome;
use crate::output::Printer;
use crate::policy::{self, Request};
use crate::prompt;
use crate::verdict::{Touch, Verdict};
use crate::verifier::{Reading, Verifier};

use crate::cli::TOKEN_VAR;
/// More than any token; a line longer than this is not one, and is not kept.
pub const MAX_LINE: usize = 4096;
/// Batches are made durable and printed in chunks of this many, so a long stream shows progress
/// without an fsync per token.
const BATCH_CHUNK: usize = 1024;

/// `verify [--no-touch] [--batch] [--scope SCOPE]... [--ip ADDR]`.
#[derive(Debug, Clone, Default)]
pub struct Verify {
    /// Don't count a valid check as a use.
    pub no_touch: bool,
    /// One token per line of stdin, one JSON line out per token.
    pub batch: bool,
    /// Scopes the token must carry, as typed.
    pub scopes: Vec<String>,
    /// The client's address, as typed.
    pub ip: Option<String>,
}

pub fn run(ctx: &Context, req: Verify, p: &mut Printer) -> Result<Outcome> {
    let touch = if req.no_touch { Touch::No } else { Touch::Yes };
    // Checked before any token is read, so a typo in a flag is a usage error, not a verdict.
    let request = Request {
        scopes: policy::check_scopes(&req.scopes)?,
        ip: req.ip.as_deref().map(policy::parse_ip).transpose()?,
    };
    if req.batch {
        return batch(ctx, touch, &request, p);
    }
    let candidate = read_one()?;
    let mut verifier = Verifier::at_unchecked(&ctx.location, Reading::File, ctx.wait)?;
    let verdict = verifier
        .check_many(&[candidate.as_str()], touch, &request)?
        .pop()
        .expect("one candidate, one verdict");
    p.verdict(&verdict);
    verifier.leave();
    Ok(outcome(std::slice::from_ref(&verdict)))
}

fn outcome(verdicts: &[Verdict]) -> Outcome {
    if verdicts.iter().all(Verdict::is_valid) {
        Outcome::Success
    } else {
        Outcome::Invalid
    }
}

/// The one token to check: `$VBX_TOKEN` when set, else a hidden prompt in a terminal, else the
/// first line of stdin (at most [`MAX_LINE`] bytes of it are read).
fn read_one() -> Result<Zeroizing<String>> {
    // Set but empty counts as unset, as for every variable (README, "Environment").
    let raw = if let Some(value) = std::env::var_os(TOKEN_VAR).filter(|v| !v.is_empty()) {
        let value = value
            .into_string()
            .map_err(|_| Error::usage(format!("{TOKEN_VAR} is not valid UTF-8")))?;
        Zeroizing::new(value)
    } else if prompt::interactive() {
        prompt::secret("Token")?
    } else {
        let stdin = io::stdin().lock().take(MAX_LINE as u64 + 1);
        let line = BoundedLines::new(io::BufReader::new(stdin), MAX_LINE)
            .next_line()
            .map_err(|e| {
                Error::usage(format!("cannot read the token from stdin: {}", reason(&e)))
            })?;
        match line {
            Some((_, Line::Text(bytes))) => Zeroizing::new(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| Error::usage("the token on stdin is not valid UTF-8"))?,
            ),
            // Longer than any token: it is checked (and found malformed) without being kept.
            Some((_, Line::TooLong)) => Zeroizing::new("-".repeat(MAX_LINE + 1)),
            None => Zeroizing::new(String::new()),
        }
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(Error::usage(format!(
            "no token given: pipe one on stdin or set {TOKEN_VAR}"
        )));
    }
    Ok(Zeroizing::new(token.to_owned()))
}

/// `--batch`: one token per line of stdin, one JSON line out per token, in order. Lines that
/// are blank or not UTF-8 count as malformed tokens, so output line N always answers input line
/// N. A line longer than any token stops the batch there (exit 2, naming the line), so an endless
/// line cannot keep it reading. The exit status is 0 only when every line was checked and valid:
/// if the reader of the output leaves before the input ends, the rest is not checked and the
/// answer is 1.
fn batch(ctx: &Context, touch: Touch, request: &Request, p: &mut Printer) -> Result<Outcome> {
    let mut verifier = Verifier::at(&ctx.location, Reading::Memory, ctx.wait)?;
    let mut input = BoundedLines::new(io::stdin().lock(), MAX_LINE);
    let mut all_valid = true;
    let mut seen = 0usize;
    loop {
        let (chunk, too_long) = read_chunk(&mut input)?;
        if !chunk.is_empty() {
            seen += chunk.len();
            let verdicts = verifier.check_many(&chunk, touch, request)?;
            // `verify_many` made the chunk's uses and failures durable; now they may be reported.
            p.batch_verdicts(&verdicts);
            all_valid &= outcome(&verdicts) == Outcome::Success;
        }
        if let Some(line) = too_long {
            return Err(Error::usage(format!(
                "line {line}: longer than {MAX_LINE} bytes, so not a token; the rest of the input was not checked"
            )));
        }
        if chunk.is_empty() {
            break;
        }
        if p.output_failed() {
            let (more, too_long) = read_chunk(&mut input)?;
            if !more.is_empty() || too_long.is_some() {
                p.batch_cut_short(seen);
                return Ok(Outcome::Invalid);
            }
        }
    }
    if seen == 0 {
        return Err(Error::usage(
            "no tokens on stdin: --batch reads one per line",
        ));
    }
    verifier.leave();
    Ok(if all_valid {
        Outcome::Success
    } else {
        Outcome::Invalid
    })
}

/// Up to [`BATCH_CHUNK`] lines, and the number of a too-long line that ended the chunk early.
fn read_chunk(
    input: &mut BoundedLines<impl io::BufRead>,
) -> Result<(Vec<Zeroizing<String>>, Option<usize>)> {
    let mut chunk = Vec::new();
    while chunk.len() < BATCH_CHUNK {
        let line = input
            .next_line()
            .map_err(|e| Error::usage(format!("cannot read tokens from stdin: {}", reason(&e))))?;
        match line {
            None => break,
            // Not UTF-8 cannot be a token; an empty string verifies as malformed.
            Some((_, Line::Text(bytes))) => chunk.push(Zeroizing::new(
                String::from_utf8(bytes.to_vec()).unwrap_or_default(),
            )),
            Some((n, Line::TooLong)) => return Ok((chunk, Some(n))),
        }
    }
    Ok((chunk, None))
}
