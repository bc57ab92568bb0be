//! The inverse of the escape functions, layer by layer: the ini file as Python's
//! `configparser` reads it ([`parse_ini`]), `%` expansion ([`interpolate`]), `command`
//! ([`shlex_split`]) and `environment` ([`parse_environment`]).

use super::is_space;

/// The inverse of [`super::expand`] (layer 2): Python's `text % expansions`. `%%` → `%`,
/// `%(NAME)s` / `%(NAME)d` → `lookup(NAME)`.
///
/// # Errors
/// An unknown name or a `%` that Python would reject.
pub fn interpolate(text: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(r) = rest.strip_prefix('(') else {
            return Err(format!(
                "a `%` without `%` or `(`: `{}`",
                text.escape_debug()
            ));
        };
        let close = r
            .find(')')
            .ok_or_else(|| format!("an unclosed `%(` in `{}`", text.escape_debug()))?;
        let name = &r[..close];
        let after = &r[close + 1..];
        let conv = after.chars().next().filter(|c| matches!(c, 's' | 'd'));
        let Some(conv) = conv else {
            return Err(format!("`%({name})` needs `s` or `d`"));
        };
        out.push_str(&lookup(name).ok_or_else(|| format!("`%({name}){conv}` is not known here"))?);
        rest = &after[1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The inverse of [`super::command`] after [`interpolate`]: `shlex.split` (POSIX, no comments).
///
/// # Errors
/// An unclosed quote or a `\` at the end (shlex's "No closing quotation" / "No escaped
/// character").
pub fn shlex_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => w.push(x),
                        None => return Err("no closing quotation".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => w.push(e),
                            Some(e) => {
                                w.push('\\');
                                w.push(e);
                            }
                            None => return Err("no closing quotation".into()),
                        },
                        Some(x) => w.push(x),
                        None => return Err("no closing quotation".into()),
                    }
                }
            }
            '\\' => {
                let e = chars.next().ok_or("no escaped character")?;
                word.get_or_insert_with(String::new).push(e);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Tokens of supervisor's non-POSIX `shlex.shlex`: words, quoted strings, other characters.
fn env_tokens(text: &str) -> Result<Vec<String>, String> {
    let word = |c: char| c.is_ascii_alphanumeric() || "_/.+-():".contains(c);
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            continue;
        }
        if c == '#' {
            while chars.next_if(|c| *c != '\n').is_some() {}
            continue;
        }
        let mut t = c.to_string();
        if c == '"' || c == '\'' {
            loop {
                let x = chars.next().ok_or("no closing quotation")?;
                t.push(x);
                if x == c {
                    break;
                }
            }
        } else if word(c) {
            while let Some(x) = chars.next_if(|x| word(*x) || *x == '"' || *x == '\'') {
                t.push(x);
            }
        }
        out.push(t);
    }
    Ok(out)
}

/// The inverse of [`super::environment`] after [`interpolate`]: supervisor's
/// `dict_of_key_value_pairs` (`KEY`, `=`, one token, a separator; quotes stripped from
/// both ends of the value).
///
/// # Errors
/// What supervisor would reject ("Unexpected end of key/value pairs").
pub fn parse_environment(text: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = env_tokens(text)?;
    if !tokens
        .chunks(4)
        .all(|kv| matches!(kv, [_, eq, _, ..] if eq == "="))
    {
        let what = "unexpected end of key/value pairs in";
        return Err(format!("{what} `{}`", text.escape_debug()));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for kv in tokens.chunks(4) {
        let (k, v) = (&kv[0], kv[2].trim_matches(['\'', '"']).to_owned());
        out.retain(|(key, _)| key != k);
        out.push((k.clone(), v));
    }
    Ok(out)
}

/// One `key = value` of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniValue {
    /// The key, lower-cased (configparser's `optionxform`).
    pub key: String,
    /// The value: stripped, continuation lines joined with `\n`.
    pub value: String,
    /// The line of the key, 1-based.
    pub line: usize,
}

/// A `[section]`: its values and the comment lines right below its header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniSection {
    /// The text between the brackets.
    pub name: String,
    /// The line of the (first) header, 1-based.
    pub line: usize,
    /// Comment lines between the header and the first key, without `;`/`#` and one blank.
    pub comments: Vec<String>,
    /// The values, a repeated key replacing the earlier one.
    pub values: Vec<IniValue>,
}

impl IniSection {
    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&IniValue> {
        self.values.iter().find(|v| v.key == key)
    }
}

/// A file as configparser reads it (`strict=False`: a repeated section is merged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniFile {
    /// The sections in the order of their first header.
    pub sections: Vec<IniSection>,
    /// Lines configparser rejects: (line, message).
    pub errors: Vec<(usize, String)>,
}

/// Where an inline comment starts in `line` (char index), exactly as configparser 3.x looks
/// for `inline_comment_prefixes=(';', '#')`: each prefix's occurrences in turn, round by
/// round, stopping in the first round where one follows whitespace (or starts the line).
fn inline_comment(line: &[char]) -> Option<usize> {
    let find = |p: char, from: usize| (from..line.len()).find(|&i| line[i] == p);
    let mut next: Vec<(char, Option<usize>)> = vec![(';', None), ('#', None)];
    loop {
        let mut found = None;
        let mut round = Vec::new();
        for (p, last) in next {
            let Some(i) = find(p, last.map_or(0, |l| l + 1)) else {
                continue;
            };
            round.push((p, Some(i)));
            if i == 0 || is_space(line[i - 1]) {
                found = Some(found.map_or(i, |f: usize| f.min(i)));
            }
        }
        if found.is_some() || round.is_empty() {
            return found;
        }
        next = round;
    }
}

/// The index of section `name`, added at `line` when it is new (repeated sections merge).
fn section(file: &mut IniFile, name: &str, line: usize) -> usize {
    if let Some(known) = file.sections.iter().position(|s| s.name == name) {
        return known;
    }
    file.sections.push(IniSection {
        name: name.to_owned(),
        line,
        ..IniSection::default()
    });
    file.sections.len() - 1
}

/// A `key = value` (or `key: value`) line of section `s`: a later key replaces an earlier
/// one; returns the option whose continuation lines follow, or records the error.
fn option(file: &mut IniFile, s: usize, value: &str, line: usize) -> Option<(usize, Vec<String>)> {
    let Some(p) = value.find(['=', ':']).filter(|&p| p > 0) else {
        file.errors.push((
            line,
            format!("`{}` is not `key = value`", value.escape_debug()),
        ));
        return None;
    };
    let key = value[..p].trim_end_matches(is_space).to_lowercase();
    let v = value[p + 1..].trim_start_matches(is_space).to_owned();
    let values = &mut file.sections[s].values;
    values.retain(|x| x.key != key);
    values.push(IniValue {
        key,
        value: String::new(),
        line,
    });
    Some((values.len() - 1, vec![v]))
}

/// Read `text` as supervisor's `UnhosedConfigParser` does (Python's `RawConfigParser` with
/// `inline_comment_prefixes=(';', '#')`, `strict=False`, delimiters `=` and `:`): full-line
/// and inline comments removed, indented lines continuing the value above, blank lines
/// inside a value kept, trailing ones dropped.
#[must_use]
pub fn parse_ini(text: &str) -> IniFile {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut file = IniFile::default();
    let mut cur: Option<usize> = None;
    let mut opt: Option<(usize, Vec<String>)> = None;
    let mut indent_level = 0;
    let flush = |file: &mut IniFile, cur: Option<usize>, opt: &mut Option<(usize, Vec<String>)>| {
        if let (Some(s), Some((v, lines))) = (cur, opt.take()) {
            lines
                .join("\n")
                .trim_end_matches(is_space)
                .clone_into(&mut file.sections[s].values[v].value);
        }
    };
    for (i, raw) in text.split('\n').enumerate() {
        let chars: Vec<char> = raw.chars().collect();
        let full = raw.trim_matches(is_space).starts_with([';', '#']);
        let cut = if full {
            Some(0)
        } else {
            inline_comment(&chars)
        };
        let kept: String = chars[..cut.unwrap_or(chars.len())].iter().collect();
        let value = kept.trim_matches(is_space);
        if value.is_empty() {
            match (&mut opt, cut) {
                (Some((_, lines)), None) => lines.push(String::new()),
                (None, Some(_)) if full => {
                    if let Some(s) = cur.filter(|&s| file.sections[s].values.is_empty()) {
                        let c = raw.trim_matches(is_space)[1..].strip_prefix(' ');
                        let c = c.unwrap_or(&raw.trim_matches(is_space)[1..]);
                        file.sections[s].comments.push(c.to_owned());
                    }
                }
                _ => {}
            }
            continue;
        }
        let indent = chars.iter().take_while(|c| is_space(**c)).count();
        if let Some((_, lines)) = opt
            .as_mut()
            .filter(|_| cur.is_some() && indent > indent_level)
        {
            lines.push(value.to_owned());
            continue;
        }
        indent_level = indent;
        flush(&mut file, cur, &mut opt);
        let header = value
            .strip_prefix('[')
            .and_then(|v| v.rfind(']').filter(|&e| e > 0).map(|e| &v[..e]));
        if let Some(name) = header {
            cur = Some(section(&mut file, name, i + 1));
            continue;
        }
        let Some(s) = cur else {
            file.errors
                .push((i + 1, "a key before any [section] header".into()));
            continue;
        };
        opt = option(&mut file, s, value, i + 1);
    }
    flush(&mut file, cur, &mut opt);
    file
}
