//! XML property lists (launchd.plist(5)). The `plist` crate escapes `&`, `<` and `>`; what no
//! escaping can write is a character outside XML 1.0's `Char` production: the model already
//! refuses control characters, which leaves the noncharacters U+FFFE and U+FFFF (a character
//! reference such as `&#xFFFE;` is not allowed either).

/// Append `text` as XML character data, the way the `plist` crate escapes it (`&`, `<`,
/// `>`, `'`, `"`); a carriage return before a line feed is dropped, as the line-by-line copy
/// of the crate's output always did.
pub fn push_text(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    // short text: a plain scan costs less than setting up the vector search
    if bytes.len() < 32
        && !bytes
            .iter()
            .any(|b| matches!(b, b'&' | b'<' | b'>' | b'\'' | b'"' | b'\r'))
    {
        out.push_str(text);
        return;
    }
    let mut start = 0;
    for i in super::scan::positions(text, b"&<>'\"\r") {
        let escaped = match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\'' => "&apos;",
            b'"' => "&quot;",
            _ if bytes.get(i + 1) == Some(&b'\n') => "",
            _ => continue,
        };
        out.push_str(&text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// Whether an XML 1.0 document can hold `c` (the `Char` production, as the model's
/// characters go: tab, line breaks and everything from U+0020 but U+FFFE and U+FFFF).
#[must_use]
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// Why a plist cannot carry `text`, or `None`.
#[must_use]
pub fn text_problem(text: &str) -> Option<String> {
    // U+FFFE and U+FFFF start with 0xEF; the other bytes below a space are controls
    if text
        .bytes()
        .all(|b| (b >= b' ' || matches!(b, b'\t' | b'\n' | b'\r')) && b < 0xEF)
    {
        return None;
    }
    let c = text.chars().find(|c| !is_xml_char(*c))?;
    Some(format!(
        "contains U+{:04X}, which XML 1.0 cannot hold (not even as a character reference): plist parsers reject the file",
        u32::from(c)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_characters() {
        for ok in [
            "plain",
            "<&>]]>",
            "tab\there",
            "é 中文 🦀",
            "\u{fdd0}\u{1fffe}\u{fffd}",
        ] {
            assert_eq!(text_problem(ok), None, "{ok:?}");
        }
        assert!(text_problem("a\u{fffe}").is_some());
        assert!(text_problem("\u{ffff}b").is_some());
        assert!(text_problem("\u{1}").is_some());
    }
}
