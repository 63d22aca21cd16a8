//! The one place that decides the exit code: [`decide`] turns how a command ended (its verdict
//! or error, and whether its output could be written) into the code a script sees.

use std::io;

use crate::error::{Masked, Result, exit, reason};

/// How a command that did not fail ended: it matters to `verify`, whose "no" is exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Invalid,
}

impl Outcome {
    fn code(self) -> u8 {
        match self {
            Outcome::Success => exit::SUCCESS,
            Outcome::Invalid => exit::INVALID,
        }
    }
}

/// What a command's stdout is to whoever reads it, which decides what a failed write means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Something to look at (`list`, `show`, `log`): a reader that leaves early (`| head -1`)
    /// is no failure, so a closed pipe ends quietly with the command's own code.
    Display,
    /// The output is what the command is for (`export`, `vault export -`, `create`'s token,
    /// `vault reveal`): if any of it could not be written, the command failed.
    Product,
    /// The exit status is the answer (`verify`): it stands whatever happens to stdout.
    Verdict,
}

/// Why writing stdout failed, and what that means for the user (set by the command).
#[derive(Debug)]
pub struct OutputFailure<'a> {
    pub error: &'a io::Error,
    /// What was lost, in the words of the command ("the export is incomplete").
    pub loss: Option<&'a str>,
}

/// The one function that decides the exit code, and the one line (if any) to print on stderr.
/// An error the command returned wins; then a failed write of stdout, judged by the kind of
/// output; then the command's outcome.
pub fn decide(
    kind: OutputKind,
    result: &Result<Outcome>,
    output: Option<OutputFailure<'_>>,
) -> (u8, Option<String>) {
    let outcome = match result {
        Err(e) => return (e.exit_code(), Some(e.to_string())),
        Ok(outcome) => *outcome,
    };
    let Some(failure) = output else {
        return (outcome.code(), None);
    };
    let closed = failure.error.kind() == io::ErrorKind::BrokenPipe;
    let message = || {
        let mut m = format!("cannot write output: {}", reason(failure.error));
        if let Some(loss) = failure.loss {
            m.push_str("; ");
            m.push_str(loss);
        }
        Masked::new(m).as_str().to_owned()
    };
    match kind {
        OutputKind::Verdict => (outcome.code(), None),
        OutputKind::Display if closed => (outcome.code(), None),
        OutputKind::Display | OutputKind::Product => (exit::STORE, Some(message())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn broken_pipe() -> io::Error {
        io::Error::from(io::ErrorKind::BrokenPipe)
    }

    #[test]
    fn a_closed_output_is_judged_by_the_kind_of_command() {
        let pipe = broken_pipe();
        let full = io::Error::from_raw_os_error(28);
        let failed = |e| {
            Some(OutputFailure {
                error: e,
                loss: Some("the export is incomplete"),
            })
        };
        let ok = Ok(Outcome::Success);
        let invalid = Ok(Outcome::Invalid);
        use OutputKind::*;
        // A verdict stands, whatever happened to stdout.
        assert_eq!(decide(Verdict, &invalid, failed(&pipe)), (1, None));
        assert_eq!(decide(Verdict, &ok, failed(&pipe)), (0, None));
        assert_eq!(decide(Verdict, &invalid, failed(&full)), (1, None));
        // Display: a reader that left is no failure; a write that failed otherwise is.
        assert_eq!(decide(Display, &ok, failed(&pipe)), (0, None));
        let (code, message) = decide(Display, &ok, failed(&full));
        assert_eq!(code, 6);
        assert!(message.expect("a line").contains("no space left"));
        // A product cut short is a failure, and says what was lost.
        let (code, message) = decide(Product, &ok, failed(&pipe));
        assert_eq!(code, 6);
        assert_eq!(
            message.as_deref(),
            Some("cannot write output: broken pipe; the export is incomplete")
        );
        // With nothing failed, the outcome; an error always wins.
        assert_eq!(decide(Product, &ok, None), (0, None));
        assert_eq!(decide(Verdict, &invalid, None), (1, None));
        let err = Err(Error::usage("bad"));
        assert_eq!(
            decide(Display, &err, failed(&pipe)),
            (2, Some("bad".into()))
        );
    }
}
