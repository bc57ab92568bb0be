//! Environment directories (runit's `chpst -e`, s6's `s6-envdir`): one file per variable,
//! named after it. The tool takes the file's first line, drops trailing spaces and tabs and
//! turns NUL bytes into newlines; an empty file unsets the variable. So a value is written
//! with its newlines as NULs and one final newline, and the values no file can carry exactly
//! (empty, or ending in a space or tab) are left to the caller (the shared `/bin/sh`
//! wrapper exports them).

/// The file contents that make the tool set exactly `value`, or `None` when no file can.
#[must_use]
pub fn file(value: &str) -> Option<String> {
    if value.is_empty() || value.ends_with([' ', '\t']) || value.contains('\0') {
        return None;
    }
    let mut out = value.replace('\n', "\0");
    out.push('\n');
    Some(out)
}

/// What the tool reads back from `contents` (its rule, for tests): the first line, trailing
/// spaces and tabs removed, NULs turned into newlines; `None` for an empty file (unset).
#[must_use]
pub fn read(contents: &str) -> Option<String> {
    if contents.is_empty() {
        return None;
    }
    let line = contents.split('\n').next().unwrap_or_default();
    Some(line.trim_end_matches([' ', '\t']).replace('\0', "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_what_a_file_can_and_nothing_else() {
        for v in [
            "x",
            "a b",
            "multi\nline\n",
            " lead",
            "$HOME '\"\\",
            "é ✓",
            "x\n ",
        ] {
            let f = file(v).unwrap_or_else(|| panic!("{v:?} fits a file"));
            assert_eq!(read(&f).as_deref(), Some(v), "{f:?}");
        }
        for v in ["", "trail ", "tab\t", "nul\0"] {
            assert_eq!(file(v), None, "{v:?}");
        }
        assert_eq!(read(""), None);
    }
}
