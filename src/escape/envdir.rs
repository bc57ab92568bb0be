//! Environment directories (runit's `chpst -e`, s6's `s6-envdir`): one file per variable,
//! named after it. Both tools take the file's first line, drop some trailing characters and
//! turn NUL bytes into newlines; a file holding only a newline sets the variable empty (an
//! empty file unsets it). They differ in what they drop: chpst spaces and tabs, s6-envdir
//! also carriage returns. So a value is written with its newlines as NULs and one final
//! newline; a value ending in a character the tool drops cannot be carried by a file, and
//! is left to the caller (the shared `/bin/sh` wrapper exports it).

/// The tool reading the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// runit's `chpst -e`.
    Chpst,
    /// s6's `s6-envdir`.
    S6Envdir,
}

impl Reader {
    /// The trailing characters the tool removes from a value.
    #[must_use]
    pub fn trimmed(self) -> &'static [char] {
        match self {
            Self::Chpst => &[' ', '\t'],
            Self::S6Envdir => &[' ', '\t', '\r'],
        }
    }
}

/// The file contents that make `reader` set exactly `value`, or `None` when no file can.
#[must_use]
pub fn file(value: &str, reader: Reader) -> Option<String> {
    if !carries(value, reader) {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 1);
    super::scan::push_escaped(&mut out, value, b"\n", |_| "\0");
    out.push('\n');
    Some(out)
}

/// Whether a file can make `reader` set exactly `value` (see [`file()`]).
#[must_use]
pub fn carries(value: &str, reader: Reader) -> bool {
    !value.ends_with(reader.trimmed()) && !value.contains('\0')
}

/// What `reader` makes of `contents` (its rule, for tests): the first line, trailing
/// characters removed, NULs turned into newlines; `None` for an empty file (unset).
#[must_use]
pub fn read(contents: &str, reader: Reader) -> Option<String> {
    if contents.is_empty() {
        return None;
    }
    let line = contents.split('\n').next().unwrap_or_default();
    Some(line.trim_end_matches(reader.trimmed()).replace('\0', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_what_a_file_can_and_nothing_else() {
        for reader in [Reader::Chpst, Reader::S6Envdir] {
            for v in [
                "x",
                "",
                "a b",
                "multi\nline\n",
                " lead",
                "$HOME '\"\\",
                "é ✓",
                "x \n",
                "v\x0b",
            ] {
                let f = file(v, reader).unwrap_or_else(|| panic!("{v:?} fits a file"));
                assert_eq!(read(&f, reader).as_deref(), Some(v), "{f:?}");
            }
            for v in ["trail ", "tab\t", "nul\0", "x\n "] {
                assert_eq!(file(v, reader), None, "{v:?}");
            }
        }
        assert_eq!(read("a\r\n", Reader::Chpst).as_deref(), Some("a\r"));
        assert_eq!(file("a\r", Reader::S6Envdir), None);
        assert_eq!(read("", Reader::Chpst), None);
    }
}
