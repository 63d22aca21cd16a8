//! What a token's name (and note) may hold, and when two names are the same name.
//!
//! A name is what it looks like. Characters that show nothing or change how the text around
//! them is drawn (Unicode general category Cf, bidi controls, default-ignorable code points,
//! line and paragraph separators, spaces other than U+0020, unassigned and private-use code
//! points) are refused, and the error names the character and where it stands. A name is
//! stored in Unicode Normalization Form C (UAX #15), and two names are one name when their
//! UTS #39 confusable skeletons of the NFKC forms match: `ci` and `сi` (Cyrillic `с`), `é`
//! written with or without a combining accent, `ｃｉ` in full width.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::{Error, Result};
use crate::token;

/// The longest name, in characters (after normalization).
pub const NAME_MAX: usize = 64;
/// The longest note, in characters.
pub const NOTE_MAX: usize = 1024;

/// Checks a proposed name, then trims its plain spaces and normalizes it to NFC: 1–64
/// characters, every one of them visible or a plain space, nothing shaped like a token, and not
/// shaped like a token id (`tok_` and 8 of `0-9a-z`, also in full width).
///
/// # Errors
/// [`Error::Usage`] naming the rule broken; for a refused character, its code point and its
/// position in the name as given (counted in characters from 1).
pub fn clean_name(raw: &str) -> Result<String> {
    check_visible("the name", raw)?;
    let name: String = raw.trim_matches(' ').nfc().collect();
    if name.is_empty() {
        return Err(Error::usage("the name is empty: give one with --name"));
    }
    let len = name.chars().count();
    if len > NAME_MAX {
        return Err(Error::usage(format!(
            "the name is {len} characters long; the limit is {NAME_MAX}"
        )));
    }
    if holds_token(raw) || holds_token(&name) {
        return Err(Error::usage(
            "the name looks like a token (vbx_…): a name is shown everywhere, so it must not hold one",
        ));
    }
    // As it would look: compatibility forms, look-alike letters and case folded away.
    let folded: String = unicode_security::skeleton(&name.nfkc().collect::<String>())
        .collect::<String>()
        .to_lowercase();
    if crate::record::looks_like_id(&folded) || crate::record::looks_like_id(&name.to_lowercase()) {
        return Err(Error::usage(format!(
            "{name:?} looks like a token id: pick a name that doesn't start with tok_"
        )));
    }
    Ok(name)
}

/// A note is free text under the same character rules as a name: one line, up to 1024
/// characters. Blank is no note.
///
/// # Errors
/// [`Error::Usage`], as for [`clean_name`].
pub fn clean_note(raw: &str) -> Result<Option<String>> {
    check_visible("the note", raw)?;
    let note: String = raw.trim_matches(' ').nfc().collect();
    let len = note.chars().count();
    if len > NOTE_MAX {
        return Err(Error::usage(format!(
            "the note is {len} characters long; the limit is {NOTE_MAX}"
        )));
    }
    if holds_token(raw) || holds_token(&note) {
        return Err(Error::usage(
            "the note holds something shaped like a token (vbx_…): notes are shown everywhere, so they must not hold one",
        ));
    }
    Ok((!note.is_empty()).then_some(note))
}

/// Whether `text` holds a token, plainly or in disguise: token-shaped as it is, once what shows
/// nothing is dropped and compatibility forms are folded ([`visible_form`]), or once look-alike
/// letters of other scripts and combining marks are folded too ([`disguised_tokens`]). Every
/// free text that enters a store (names, notes, imported fields, backups) and every argument is
/// held to it, so a token is refused however it is written.
pub fn holds_token(text: &str) -> bool {
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
        .filter(|&c| c.is_ascii() || hidden(c).is_none())
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
    if hidden(c).is_some()
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

/// The key under which names are unique: two names with the same key render alike. It is the
/// UTS #39 skeleton of the NFKC form, so it also folds compatibility forms (full width,
/// ligatures) and cross-script look-alikes. Never shown; only compared.
pub fn name_key(name: &str) -> String {
    let nfkc: String = name.trim().nfkc().collect();
    unicode_security::skeleton(&nfkc).collect()
}

/// Refuses the first character of `text` that does not show as itself (see the module's
/// list), naming it and its position. `what` names the text ("the name").
///
/// # Errors
/// [`Error::Usage`].
pub fn check_visible(what: &str, text: &str) -> Result<()> {
    // A combining mark with nothing before it to combine with shows alone or not at all.
    if let Some(c) = text.trim_start_matches(' ').chars().next()
        && matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark
                | GeneralCategory::SpacingMark
                | GeneralCategory::EnclosingMark
        )
    {
        let at = text.chars().take_while(|&c| c == ' ').count() + 1;
        return Err(Error::usage(format!(
            "{what} holds U+{:04X} (a combining mark with nothing to combine with) at character {at}: use visible characters and plain spaces only",
            u32::from(c)
        )));
    }
    for (i, c) in text.chars().enumerate() {
        if let Some(why) = hidden(c) {
            return Err(Error::usage(format!(
                "{what} holds U+{:04X} ({why}) at character {}: use visible characters and plain spaces only",
                u32::from(c),
                i + 1
            )));
        }
    }
    Ok(())
}

/// Whether `c` shows nothing or changes how the text around it is drawn (a bidi override, a
/// zero-width space): what a name may not hold, plain spaces apart.
pub fn is_invisible(c: char) -> bool {
    hidden(c).is_some()
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
fn hidden(c: char) -> Option<&'static str> {
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

    fn refused(name: &str) -> String {
        clean_name(name).expect_err(name).to_string()
    }

    #[test]
    fn a_token_written_backwards_is_found_with_its_forward_form() {
        let t = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        let back: String = t.chars().rev().collect();
        for text in [
            format!("key={back} end"),
            format!("key=\u{202e}{back}\u{202c} end"),
            format!("\u{2067}{back}\u{2069}"),
        ] {
            let found = disguised_tokens(text.as_bytes());
            assert_eq!(found.len(), 1, "{text:?}");
            let (range, forwards) = &found[0];
            assert_eq!(forwards, t);
            assert!(text[range.clone()].contains(&back), "{text:?}");
            assert!(holds_token(&text));
        }
        // Plain text with no `_xbv` is not looked at twice.
        assert!(disguised_tokens(b"plain ascii, no token here").is_empty());
    }

    #[test]
    fn tokens_in_disguise_are_found_where_they_stand() {
        let t = "vbx_zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ0mLq17";
        for (text, from) in [
            (format!("key={}\u{200b}{} end", &t[..20], &t[20..]), 4),
            (
                format!(
                    "k {}",
                    t.chars()
                        .map(|c| char::from_u32(c as u32 + 0xfee0).unwrap())
                        .collect::<String>()
                ),
                2,
            ),
            (format!("{}\u{430}{}", &t[..10], &t[11..]), 0),
            (format!("x{}\u{ad}{}", &t[..4], &t[4..]), 1),
        ] {
            let found = disguised_tokens(text.as_bytes());
            assert_eq!(found.len(), 1, "{text:?}");
            assert_eq!(found[0].0.start, from, "{text:?}");
            assert!(found[0].1.starts_with("vbx_zQWB"), "{:?}", found[0].1);
            assert_eq!(
                found[0].0.end,
                text.find(" end").unwrap_or(text.len()),
                "{text:?}"
            );
        }
        assert!(
            disguised_tokens(t.as_bytes()).is_empty(),
            "plain tokens are found as they are"
        );
        assert!(disguised_tokens("café au lait, naïve".as_bytes()).is_empty());
        // A plain token glued to letters that fold is no disguise.
        for after in ["é", "ñandú", "\u{ff41}bc", "\u{200b}x"] {
            let text = format!("{t}{after} end");
            assert!(disguised_tokens(text.as_bytes()).is_empty(), "{text:?}");
        }
        // Look-alikes the skeleton leaves alone, combining marks and bytes that are not UTF-8.
        for text in [
            format!("{}\u{3f2}{}", &t[..9], &t[10..]),
            format!("{}\u{43a}{}", &t[..25], &t[26..]),
            format!("{}\u{301}{}", &t[..12], &t[12..]),
        ] {
            assert_eq!(disguised_tokens(text.as_bytes()).len(), 1, "{text:?}");
        }
        let mut raw = t.as_bytes()[..12].to_vec();
        raw.push(0x80);
        raw.extend_from_slice(&t.as_bytes()[12..]);
        let found = disguised_tokens(&raw);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, 0..raw.len());
    }

    #[test]
    fn names_are_trimmed_bounded_and_normalized() {
        assert_eq!(clean_name("  ci  ").expect("ok"), "ci");
        assert!(clean_name("").is_err());
        assert!(clean_name("   ").is_err());
        assert!(clean_name(&"a".repeat(64)).is_ok());
        assert!(clean_name(&"a".repeat(65)).is_err());
        // Characters, not bytes.
        assert!(clean_name(&"é".repeat(64)).is_ok());
        assert!(clean_name("crm — main").is_ok());
        assert!(clean_name("café POS #2").is_ok());
        // Stored composed (NFC), whichever way it was typed.
        assert_eq!(clean_name("cafe\u{301}").expect("ok"), "caf\u{e9}");
    }

    #[test]
    fn invisible_and_formatting_characters_are_named_with_their_position() {
        for (name, code, at) in [
            ("c\u{200b}i", "U+200B", 2),   // zero width space (Cf)
            ("ci\u{200d}", "U+200D", 3),   // zero width joiner
            ("\u{feff}ci", "U+FEFF", 1),   // byte order mark
            ("c\u{202e}i", "U+202E", 2),   // right-to-left override
            ("c\u{2066}i", "U+2066", 2),   // left-to-right isolate
            ("c\u{200f}i", "U+200F", 2),   // right-to-left mark
            ("c\u{ad}i", "U+00AD", 2),     // soft hyphen
            ("c\u{a0}i", "U+00A0", 2),     // no-break space
            ("c\u{3000}i", "U+3000", 2),   // ideographic space
            ("c\u{2028}i", "U+2028", 2),   // line separator
            ("c\u{fe0f}i", "U+FE0F", 2),   // variation selector
            ("c\u{34f}i", "U+034F", 2),    // combining grapheme joiner
            ("c\u{3164}i", "U+3164", 2),   // Hangul filler
            ("c\u{e000}i", "U+E000", 2),   // private use
            ("c\u{e0041}i", "U+E0041", 2), // tag character
            ("a\tb", "U+0009", 2),
            ("a\u{1b}[31mb", "U+001B", 2),
            ("a\u{7f}", "U+007F", 2),
        ] {
            let err = refused(name);
            assert!(err.contains(code), "{name:?}: {err}");
            assert!(
                err.contains(&format!("at character {at}")),
                "{name:?}: {err}"
            );
        }
    }

    #[test]
    fn names_that_render_alike_share_a_key() {
        let ci = name_key("ci");
        assert_eq!(name_key("\u{441}i"), ci); // Cyrillic es
        assert_eq!(name_key("\u{ff43}\u{ff49}"), ci); // full width
        assert_eq!(name_key(" ci "), ci);
        assert_eq!(name_key("cafe\u{301}"), name_key("caf\u{e9}"));
        assert_ne!(name_key("cd"), ci);
        assert_ne!(name_key("c i"), ci);
    }

    #[test]
    fn token_shaped_names_and_notes_are_refused() {
        let t = crate::token::Token::generate();
        assert!(refused(t.expose()).contains("looks like a token"));
        assert!(refused(&format!("x {}", t.expose())).contains("looks like a token"));
        assert!(clean_note(&format!("see {}", t.expose())).is_err());
        assert!(clean_name("vbx_ci").is_ok());
        // Ids, typed plainly or in full width, are not names.
        assert!(clean_name("tok_abcd1234").is_err());
        assert!(clean_name("\u{ff54}\u{ff4f}\u{ff4b}_abcd1234").is_err());
        assert!(clean_name("tok_abcd12345").is_ok());
        assert!(clean_name("tok_ABCDEFGH").is_err());
        assert!(clean_name("t\u{43e}k_abcdefgh").is_err()); // Cyrillic o
        assert!(refused("\u{2800}").contains("U+2800"));
        assert!(refused("\u{301}a").contains("U+0301"));
        assert!(clean_name("e\u{301}").is_ok());
    }

    #[test]
    fn characters_are_judged_as_typed_where_they_were_typed() {
        // U+2000 would become U+2002 under NFC: the error names what was typed.
        assert!(refused("a\u{2000}b").contains("U+2000"));
        // Leading blanks other than plain spaces are refused, not trimmed away.
        for (name, code, at) in [
            ("\tx", "U+0009", 1),
            ("x\u{b}", "U+000B", 2),
            ("\u{a0}y", "U+00A0", 1),
        ] {
            let err = refused(name);
            assert!(
                err.contains(code) && err.contains(&format!("at character {at}")),
                "{err}"
            );
        }
        // Positions count what was typed, leading spaces included.
        assert!(refused("   a\u{200b}").contains("at character 5"));
    }

    #[test]
    fn notes_follow_the_same_character_rules() {
        assert_eq!(clean_note("  ").expect("blank"), None);
        assert_eq!(clean_note(" Xero ").expect("ok").as_deref(), Some("Xero"));
        assert!(clean_note("bell\u{7}").is_err());
        assert!(clean_note("a\u{202e}b").is_err());
        assert!(clean_note(&"x".repeat(1025)).is_err());
    }
}
