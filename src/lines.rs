//! Lines of input read with a bound on each, so no input, however long its lines or endless
//! its stream, makes memory grow: a line past the bound is reported as too long and skipped to
//! its end without being kept. Every reader of user input (`verify --batch`, `import`) goes
//! through this.

use std::io::{self, BufRead};

use zeroize::Zeroizing;

/// One line of input, without its `\n` (a `\r` before it is the caller's to strip).
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes. Wiped when dropped: a line may hold a token.
    Text(Zeroizing<Vec<u8>>),
    /// The line was longer than the bound; its bytes were read and dropped.
    TooLong,
}

/// Reads `reader` a line at a time, keeping at most `max` bytes of any line.
pub struct BoundedLines<R> {
    reader: R,
    max: usize,
    line_no: usize,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        BoundedLines {
            reader,
            max,
            line_no: 0,
        }
    }

    /// The next line with its number (from 1), or `None` at the end of input. A last line
    /// without a `\n` still counts; an empty input has no lines.
    ///
    /// # Errors
    /// A read error from the underlying reader, as it is.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, Line)>> {
        let mut kept = Zeroizing::new(Vec::new());
        let mut too_long = false;
        let mut read_any = false;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (&buf[..at], Some(at + 1)),
                None => (buf, None),
            };
            if !too_long {
                if kept.len() + chunk.len() > self.max {
                    too_long = true;
                    kept.clear();
                } else {
                    kept.extend_from_slice(chunk);
                }
            }
            let used = done.unwrap_or(buf.len());
            self.reader.consume(used);
            if done.is_some() {
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line_no += 1;
        let line = if too_long {
            Line::TooLong
        } else {
            Line::Text(kept)
        };
        Ok(Some((self.line_no, line)))
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
            all(b"ab\ncdefgh\nij", 5),
            vec![(1, text("ab")), (2, Line::TooLong), (3, text("ij"))]
        );
        assert_eq!(all(b"abcde\n", 5), vec![(1, text("abcde"))]);
        assert_eq!(all(b"abcdef", 5), vec![(1, Line::TooLong)]);
        assert_eq!(
            all(b"a\r\n\nb", 5),
            vec![(1, text("a\r")), (2, text("")), (3, text("b"))]
        );
    }

    #[test]
    fn a_huge_line_is_skipped_without_being_kept() {
        let mut input = vec![b'x'; 10 * 1024 * 1024];
        input.extend_from_slice(b"\nok\n");
        let mut lines = BoundedLines::new(io::BufReader::new(&input[..]), 4096);
        let (n, first) = lines.next_line().expect("reads").expect("a line");
        assert_eq!((n, first), (1, Line::TooLong));
        assert_eq!(lines.next_line().expect("reads"), Some((2, text("ok"))));
        assert_eq!(lines.next_line().expect("reads"), None);
    }
}
