//! Where a token hides in text: look-alike letters of other scripts, compatibility forms,
//! combining marks, characters that show nothing, right-to-left runs that reorder what shows,
//! and writing it backwards. What every free text that enters a store, every message and every
//! argument is held to (`crate::name` refuses such text; `crate::error` masks it).
//!
//! Below `error` and `name`, which both use it: it uses only the token format (`crate::token`)
//! and the Unicode tables.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::token;

/// Whether `text` holds a token, plainly or in disguise: token-shaped as it is, once what shows
/// nothing is dropped and compatibility forms are folded ([`visible_form`]), or once look-alike
/// letters of other scripts and combining marks are folded too ([`disguised_tokens`]). Every
/// free text that enters a store (names, notes, imported fields, backups) and every argument is
/// held to it, so a token is refused however it is written.
pub fn holds_token(text: &str) -> bool {
    if text.is_ascii() {
        // NFKC leaves ASCII as it is, no ASCII character is hidden, and ASCII has no
        // right-to-left run: the text shows as it is, and the three passes below that fold it
        // (the cost of a bulk import) have nothing to fold.
        let backwards: String = text.chars().rev().collect();
        return token::contains_token_shape(text)
            || !disguised_tokens(text.as_bytes()).is_empty()
            || token::contains_token_shape(&backwards);
    }
    holds_token_folded(text)
}

/// [`holds_token`] for any text: each fold of it searched.
fn holds_token_folded(text: &str) -> bool {
    if token::contains_token_shape(text)
        || token::contains_token_shape(&visible_form(text))
        || !disguised_tokens(text.as_bytes()).is_empty()
    {
        return true;
    }
    // As it shows: each right-to-left override or isolate's run reversed (a token split by
    // them, `RLO _xbv PDF body`, shows whole), and the whole read backwards (whatever joins
    // prefix and body).
    let shown = visible_form(&bidi_shown(text));
    let backwards: String = visible_form(text).chars().rev().collect();
    token::contains_token_shape(&shown) || token::contains_token_shape(&backwards)
}

/// `text` with the contents of each right-to-left override or isolate (U+202E, U+202B,
/// U+2067 up to its U+202C or U+2069, or the end) reversed, as a left-to-right line shows it.
/// Runs inside runs are reversed with their own.
fn bidi_shown(text: &str) -> String {
    if !text
        .chars()
        .any(|c| matches!(c, '\u{202B}' | '\u{202E}' | '\u{2067}'))
    {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut run: Option<(usize, Vec<char>)> = None;
    for c in text.chars() {
        match (&mut run, c) {
            (None, '\u{202B}' | '\u{202E}' | '\u{2067}') => run = Some((1, Vec::new())),
            (
                Some((depth, _)),
                '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}' | '\u{2066}' | '\u{2067}'
                | '\u{2068}',
            ) => *depth += 1,
            (Some((depth, chars)), '\u{202C}' | '\u{2069}') => {
                *depth -= 1;
                if *depth == 0 {
                    out.extend(chars.iter().rev());
                    run = None;
                }
            }
            (Some((_, chars)), c) => chars.push(c),
            (None, c) => out.push(c),
        }
    }
    if let Some((_, chars)) = run {
        out.extend(chars.iter().rev());
    }
    out
}

/// `text` as it shows: NFKC, without the characters that show nothing. A token hidden behind a
/// zero-width space or typed in full width is a token in this form.
pub fn visible_form(text: &str) -> String {
    text.nfkc()
        .filter(|&c| c.is_ascii() || why_hidden(c).is_none())
        .collect()
}

/// The places in `bytes` of tokens in disguise: token-shaped once what shows nothing is dropped
/// (invisible and formatting characters, combining marks, control characters, bytes that are
/// not UTF-8) and the rest folded to what it looks like (NFKC, then the UTS #39 skeleton: full
/// width, other scripts' look-alikes; a letter or digit that still folds to no ASCII letter or
/// digit stands for one, since a reader would take it for one). Each comes with its folded form,
/// what a reader would copy out of it. Tokens written plainly are not listed (they are found as
/// they are).
pub fn disguised_tokens(bytes: &[u8]) -> Vec<(std::ops::Range<usize>, String)> {
    let plain_ascii = bytes.is_ascii()
        && !bytes
            .iter()
            .any(|b| b.is_ascii_control() && !b"\t\n\r".contains(b));
    // Plain ASCII hides a token only written backwards, which holds `_xbv`.
    if plain_ascii && !bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"_xbv")) {
        return Vec::new();
    }
    // The folded text, and for each of its bytes the source range it came from.
    let mut folded = String::with_capacity(bytes.len());
    let mut source: Vec<std::ops::Range<usize>> = Vec::with_capacity(bytes.len());
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            let from = at + i..at + i + c.len_utf8();
            let looks = looks_like(c);
            for _ in 0..looks.len() {
                source.push(from.clone());
            }
            folded.push_str(&looks);
        }
        // Bytes that are not UTF-8 show as nothing, or as one replacement mark: dropped.
        at += chunk.valid().len() + chunk.invalid().len();
    }
    // Parts, not whole shapes: a plain token glued to a letter that folds (`vbx_…é`) is no
    // disguise, and the letters after it are no part of one.
    let mut found: Vec<(std::ops::Range<usize>, String)> =
        crate::token::masked_parts(folded.as_bytes())
            .into_iter()
            .filter_map(|(r, _)| {
                let start = source[r.start].start;
                let end = source[r.end - 1].end;
                let span = &bytes[start..end];
                // Plain in the source too: not a disguise.
                let plain = span.iter().all(|b| b.is_ascii() && !b.is_ascii_control());
                (!plain).then(|| (start..end, folded[r].to_owned()))
            })
            .collect();
    // Written backwards: shown forwards inside a right-to-left override (U+202E) or isolate,
    // and a token again to anyone who reverses it. Its folded form is the token forwards.
    if folded.is_ascii() {
        let reversed: Vec<u8> = folded.bytes().rev().collect();
        let n = reversed.len();
        for (r, _) in crate::token::masked_parts(&reversed) {
            let start = source[n - r.end].start;
            let end = source[n - 1 - r.start].end;
            if found.iter().any(|(f, _)| f.start < end && start < f.end) {
                continue;
            }
            let forwards = String::from_utf8_lossy(&reversed[r]).into_owned();
            found.push((start..end, forwards));
        }
        found.sort_by_key(|(r, _)| r.start);
    }
    found
}

/// What one character looks like, for [`disguised_tokens`]: nothing when it shows nothing,
/// else its folded form, a letter or digit that folds to no ASCII one standing for `x`.
fn looks_like(c: char) -> String {
    use GeneralCategory as G;
    if c.is_ascii() {
        return match c {
            '\t' | '\n' | '\r' => c.to_string(),
            _ if c.is_ascii_control() => String::new(),
            _ => c.to_string(),
        };
    }
    if why_hidden(c).is_some()
        || matches!(
            c.general_category(),
            G::NonspacingMark | G::EnclosingMark | G::SpacingMark
        )
    {
        return String::new();
    }
    let nfkc: String = c.to_string().nfkc().collect();
    // Full width and other compatibility forms of ASCII are that ASCII: the skeleton would
    // take it further (`m` to `rn`), and a token written in full width would no longer be one.
    if !nfkc.is_empty()
        && nfkc
            .chars()
            .all(|k| k.is_ascii_alphanumeric() || k == '_' || k == '-')
    {
        return nfkc;
    }
    let skeleton: String = unicode_security::skeleton(&nfkc).collect();
    if skeleton
        .chars()
        .all(|k| k.is_ascii_alphanumeric() || k == '_' || k == '-')
    {
        return skeleton;
    }
    if c.is_alphanumeric() {
        return "x".to_owned();
    }
    skeleton
}

/// Whether `c` shows nothing or changes how the text around it is drawn (a bidi override, a
/// zero-width space): what a name may not hold, plain spaces apart.
pub fn is_invisible(c: char) -> bool {
    why_hidden(c).is_some()
}

/// `text` with every character [`is_invisible`] says shows nothing or drives the terminal (a
/// control character, an escape, a bidi override) written as its escape (`\u{1b}`, `\n`), so
/// text from outside (a file name) can be stored in the audit log, and shown, as one plain line.
pub fn escape_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `c` is a character text holds: not a control character (whitespace and ESC apart),
/// not unassigned, private-use or a surrogate. Random bytes read as UTF-16 give one of those in
/// about one unit in five; text in any script almost never does (`crate::scan`'s encoding
/// guess).
pub fn is_text_char(c: char) -> bool {
    use GeneralCategory as G;
    match c.general_category() {
        G::Control => matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1b'),
        G::Unassigned | G::PrivateUse | G::Surrogate => false,
        _ => true,
    }
}

/// Why `c` may not stand in a name, if it may not.
pub(crate) fn why_hidden(c: char) -> Option<&'static str> {
    use GeneralCategory as G;
    if c == ' ' {
        return None;
    }
    match c.general_category() {
        // Shows as an empty cell in most fonts.
        _ if c == '\u{2800}' => Some("a blank character"),
        G::Control => Some("a control character"),
        G::Format => Some("an invisible formatting character, category Cf"),
        G::Unassigned => Some("an unassigned code point"),
        G::PrivateUse => Some("a private-use character"),
        G::Surrogate => Some("a surrogate"),
        G::SpaceSeparator => Some("a space other than U+0020"),
        G::LineSeparator | G::ParagraphSeparator => Some("a line or paragraph separator"),
        // Default-ignorable code points outside Cf (variation selectors, the combining grapheme
        // joiner, Hangul fillers) vanish from the UTS #39 skeleton: that is how we know them.
        _ if unicode_security::skeleton(c.encode_utf8(&mut [0; 4]))
            .next()
            .is_none() =>
        {
            Some("an invisible character")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ASCII text around a token, forwards or backwards, with controls and `_xbv` pieces.
    fn ascii_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy;
        let token = "[0-9A-Za-z]{30}"
            .prop_map(|random| format!("{}{random}{}", token::PREFIX, token::checksum(&random)));
        (
            "[ -~\t\n\r\x01\x1b]{0,12}",
            proptest::option::of(token),
            proptest::bool::ANY,
            "[ -~\x07]{0,12}|_xbv|vbx_",
        )
            .prop_map(|(before, token, backwards, after)| {
                let token = token.map_or_else(String::new, |t| match backwards {
                    true => t.chars().rev().collect(),
                    false => t,
                });
                format!("{before}{token}{after}")
            })
    }

    proptest::proptest! {
        /// The ASCII path gives what the folds would have found.
        #[test]
        fn ascii_text_is_judged_as_its_folds_judge_it(text in ascii_text()) {
            proptest::prop_assert_eq!(holds_token(&text), holds_token_folded(&text), "{:?}", text);
        }
    }

    #[test]
    fn a_token_in_ascii_is_found_forwards_backwards_and_past_controls() {
        let t = token::Token::generate();
        let body = t.expose();
        let backwards: String = body.chars().rev().collect();
        assert!(holds_token(&format!("note {body} end")));
        assert!(holds_token(&format!("note {backwards}")));
        let (head, tail) = body.split_at(10);
        assert!(holds_token(&format!("{head}\x1b{tail}")));
        assert!(!holds_token("an ordinary note about vbx_ tokens"));
    }
}
