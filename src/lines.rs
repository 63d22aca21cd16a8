//! Lines of input read with a bound on each, so no input, however long its lines, makes memory
//! grow or keeps us reading: a line is reported as too long as soon as it passes the bound,
//! without reading the rest of it (an endless line ends there). Every reader of user input
//! (`verify`, `verify --batch`, `import`) goes through this.

use std::io::{self, BufRead};

use zeroize::Zeroizing;

/// One line of input, without its `\n` (a `\r` before it is the caller's to strip).
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes. Wiped when dropped: a line may hold a token.
    Text(Zeroizing<Vec<u8>>),
    /// The line is longer than the bound. Its rest was not read: the caller stops here.
    TooLong,
}

/// Reads `reader` a line at a time, keeping at most `max` bytes of any line.
pub struct BoundedLines<R> {
    reader: R,
    max: usize,
    line_no: usize,
    /// Nothing of the next line has been read yet (false inside a line).
    at_line_start: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            max,
            line_no: 0,
            at_line_start: true,
        }
    }

    /// The next line with its number (from 1), or `None` at the end of input. A last line
    /// without a `\n` still counts; an empty input has no lines.
    ///
    /// # Errors
    /// A read error from the underlying reader, as it is.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, Line)>> {
        let mut kept = Zeroizing::new(Vec::new());
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if kept.is_empty() && self.at_line_start {
                    return Ok(None);
                }
                break;
            }
            self.at_line_start = false;
            let (chunk, used, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (&buf[..at], at + 1, true),
                None => (buf, buf.len(), false),
            };
            if kept.len() + chunk.len() > self.max {
                self.line_no += 1;
                return Ok(Some((self.line_no, Line::TooLong)));
            }
            kept.extend_from_slice(chunk);
            self.reader.consume(used);
            if done {
                break;
            }
        }
        self.at_line_start = true;
        self.line_no += 1;
        Ok(Some((self.line_no, Line::Text(kept))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(usize, Line)> {
        // A tiny buffer, so lines span many fills.
        let reader = io::BufReader::with_capacity(3, input);
        let mut lines = BoundedLines::new(reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().expect("reads") {
            out.push(line);
        }
        out
    }

    fn text(s: &str) -> Line {
        Line::Text(Zeroizing::new(s.as_bytes().to_vec()))
    }

    #[test]
    fn lines_are_numbered_and_bounded() {
        assert_eq!(all(b"", 5), vec![]);
        assert_eq!(all(b"\n", 5), vec![(1, text(""))]);
        assert_eq!(
            all(b"ab\ncd\nij", 5),
            vec![(1, text("ab")), (2, text("cd")), (3, text("ij"))]
        );
        assert_eq!(all(b"abcde\n", 5), vec![(1, text("abcde"))]);
        assert_eq!(
            all(b"a\r\n\nb", 5),
            vec![(1, text("a\r")), (2, text("")), (3, text("b"))]
        );
    }

    #[test]
    fn a_long_line_is_refused_at_once_without_reading_its_rest() {
        let mut lines =
            BoundedLines::new(io::BufReader::with_capacity(3, &b"ab\ncdefgh\nij"[..]), 5);
        assert_eq!(lines.next_line().expect("reads"), Some((1, text("ab"))));
        assert_eq!(lines.next_line().expect("reads"), Some((2, Line::TooLong)));
        // An endless line ends: /dev/zero has no newline.
        let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
        let mut lines = BoundedLines::new(io::BufReader::new(zero), 4096);
        assert_eq!(lines.next_line().expect("reads"), Some((1, Line::TooLong)));
    }
}
