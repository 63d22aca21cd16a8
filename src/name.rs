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

use crate::disguise::why_hidden;
pub use crate::disguise::{
    disguised_tokens, escape_invisible, holds_token, is_invisible, is_text_char, visible_form,
};
use crate::error::{Error, Result};

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
        if let Some(why) = why_hidden(c) {
            return Err(Error::usage(format!(
                "{what} holds U+{:04X} ({why}) at character {}: use visible characters and plain spaces only",
                u32::from(c),
                i + 1
            )));
        }
    }
    Ok(())
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
