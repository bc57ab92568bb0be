//! Reading systemd syntax back (for `import systemd`): the inverses of the escaping in
//! [`super`], each proven against it by the round-trip tests.

/// The inverse of the `%` escaping: `%%` → `%`, and every other specifier `%c` replaced by
/// what `spec(c)` says (`Err` refuses it, e.g. `%h` that depends on the machine).
///
/// # Errors
/// A specifier `spec` refuses, or a `%` at the end.
pub fn unspecify(
    text: &str,
    spec: &impl Fn(char) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(s) => out.push_str(&spec(s)?),
            None => return Err("a lone `%` at the end".into()),
        }
    }
    Ok(out)
}

/// C escapes in a quoted or unquoted word (`\n`, `\t`, `\xHH`, `\NNN`, `\uXXXX`, `\s`, …).
fn c_unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    fn take(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        n: usize,
        radix: u32,
    ) -> Result<char, String> {
        let digits: String = (0..n).filter_map(|_| chars.next()).collect();
        u32::from_str_radix(&digits, radix)
            .ok()
            .and_then(char::from_u32)
            .filter(|c| *c != '\0')
            .ok_or_else(|| format!("a bad escape `\\…{digits}`"))
    }
    let Some(c) = chars.next() else {
        return Err("a `\\` at the end".into());
    };
    Ok(match c {
        'a' => '\u{7}',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\u{b}',
        's' => ' ',
        'x' => take(chars, 2, 16)?,
        'u' => take(chars, 4, 16)?,
        'U' => take(chars, 8, 16)?,
        '0'..='7' => {
            let rest: String = (0..2).filter_map(|_| chars.next()).collect();
            u32::from_str_radix(&format!("{c}{rest}"), 8)
                .ok()
                .and_then(char::from_u32)
                .filter(|c| *c != '\0')
                .ok_or_else(|| format!("a bad escape `\\{c}{rest}`"))?
        }
        c => c,
    })
}

/// Split a value into words as systemd does for Exec lines and `Environment=`
/// (`extract_first_word` with unquoting and C unescaping): blanks separate, `"…"` and
/// `'…'` group, `\` escapes inside and outside quotes.
///
/// # Errors
/// An unclosed quote or a bad escape.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => words.extend(word.take()),
            '"' | '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\\') => w.push(c_unescape(&mut chars)?),
                        Some(x) => w.push(x),
                        None => return Err(format!("an unclosed `{c}`")),
                    }
                }
            }
            '\\' => {
                let e = c_unescape(&mut chars)?;
                word.get_or_insert_with(String::new).push(e);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The inverse of the `$` escaping of an Exec word: `$$` → `$`; `Err` when the word
/// refers to a variable (`$NAME`, `${NAME}`), which an argv cannot carry.
///
/// # Errors
/// The variable reference found.
pub fn undollar(word: &str) -> Result<String, String> {
    let mut out = String::with_capacity(word.len());
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(n) if *n == '{' || *n == '_' || n.is_ascii_alphabetic() => {
                return Err(format!(
                    "`{}` refers to an environment variable",
                    word.escape_debug()
                ));
            }
            _ => out.push('$'),
        }
    }
    Ok(out)
}

/// One Exec line read back (specifiers already expanded by the caller; `$$` undone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLine {
    /// The `-` prefix: a failure is ignored.
    pub ignore_failure: bool,
    /// Prefixes this model has no field for (`+`, `!`, `!!`, `:`).
    pub other_prefixes: String,
    /// The argv (the executable first).
    pub argv: Vec<String>,
    /// With `@`: the `argv[0]` systemd passes instead of the executable path.
    pub argv0: Option<String>,
}

/// Parse an Exec line (`ExecStart=` value, specifiers already replaced): the inverse of
/// [`super::exec_line`].
///
/// # Errors
/// Bad quoting, an empty line, or a variable reference in an argument.
pub fn parse_exec(line: &str) -> Result<ExecLine, String> {
    let mut words = split_words(line)?.into_iter();
    let first = words.next().ok_or("the command is empty")?;
    let split = first
        .find(|c| !matches!(c, '-' | '@' | '+' | '!' | ':'))
        .unwrap_or(first.len());
    let (prefixes, exe) = first.split_at(split);
    let mut exe = exe.to_owned();
    if exe.is_empty() {
        exe = words.next().ok_or("the command is empty")?;
    }
    let argv0 = if prefixes.contains('@') {
        Some(undollar(&words.next().ok_or("`@` without argv[0]")?)?)
    } else {
        None
    };
    let mut argv = vec![exe];
    for w in words {
        argv.push(undollar(&w)?);
    }
    Ok(ExecLine {
        ignore_failure: prefixes.contains('-'),
        other_prefixes: prefixes.replace(['-', '@'], ""),
        argv,
        argv0,
    })
}
