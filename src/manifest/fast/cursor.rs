//! The lexical layer of the fast reader: whitespace, comments, newlines, keys, table headers,
//! strings and integers, as TOML 1.1 (the `toml` crate's parser) reads them. Whatever is
//! outside this subset, or is not valid TOML, is a [`Bail`].

use std::borrow::Cow;

use super::strings;
use super::{Bail, Step};

/// How deep arrays and inline tables nest before the reader gives up (`toml` allows more).
const MAX_DEPTH: u32 = 16;

/// A position in the manifest text, and what the tables being read need to remember.
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
    /// The keys of the tables being read, innermost last (each table knows where its own
    /// keys start), to find duplicates.
    pub keys: Vec<Cow<'a, str>>,
    /// The path of the innermost table opened by a `[header]`.
    pub path: Vec<Cow<'a, str>>,
    /// The last `[header]` read, while no table has taken it.
    pub pending: Option<Vec<Cow<'a, str>>>,
    /// The document's own keys whose table a `[header]` opened (not an inline table).
    pub headers: Vec<Cow<'a, str>>,
    /// Where the last `[header]` read starts.
    pub header_at: usize,
    /// Where the first `[header]` read starts.
    pub first_header_at: Option<usize>,
    /// A header path done with, kept for the next header (one allocation for all).
    spare: Vec<Cow<'a, str>>,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text` (after a byte order mark).
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: if text.starts_with('\u{feff}') { 3 } else { 0 },
            depth: 0,
            keys: Vec::new(),
            path: Vec::new(),
            pending: None,
            headers: Vec::new(),
            header_at: 0,
            first_header_at: None,
            spare: Vec::new(),
        }
    }

    /// A cursor at byte `pos` of `text` (a character boundary).
    pub fn at(text: &'a str, pos: usize) -> Self {
        Self {
            pos,
            ..Self::new(text)
        }
    }

    /// The byte offset of the cursor.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The byte at the cursor.
    pub fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// Step over the byte at the cursor (an ASCII delimiter the caller has seen).
    pub fn bump(&mut self) {
        self.pos += 1;
    }

    /// Step over `byte`, or give up.
    pub fn expect(&mut self, byte: u8) -> Step<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Enter an array or inline table; `leave` when it is read.
    pub fn enter(&mut self) -> Step<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// Leave what `enter` entered.
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Spaces and tabs.
    #[inline]
    pub fn ws(&mut self) {
        let b = self.bytes();
        while let Some(b' ' | b'\t') = b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// A `#` comment, up to its line break.
    fn comment(&mut self) -> Step<()> {
        let b = self.bytes();
        let mut i = self.pos + 1;
        while let Some(&c) = b.get(i) {
            if c == b'\n' || c == b'\r' {
                break;
            }
            if strings::is_control(c) {
                return Err(Bail);
            }
            i += 1;
        }
        self.pos = i;
        Ok(())
    }

    /// A line break (`\n` or `\r\n`) at the cursor, if there is one.
    fn newline(&mut self) -> Step<bool> {
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.bytes().get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
            Some(b'\r') => return Err(Bail),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whitespace, comments and line breaks: between statements, and inside arrays and
    /// inline tables.
    #[inline]
    pub fn ws_comment_newline(&mut self) -> Step<()> {
        loop {
            self.ws();
            match self.peek() {
                Some(b'#') => self.comment()?,
                Some(b'\n' | b'\r') => {
                    self.newline()?;
                }
                _ => return Ok(()),
            }
        }
    }

    /// The end of a statement: whitespace, a comment, then a line break or the end.
    #[inline]
    pub fn line_end(&mut self) -> Step<()> {
        self.ws();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        if self.newline()? || self.pos == self.text.len() {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A simple key: bare (`A-Za-z0-9_-`) or quoted on one line.
    #[inline]
    pub fn key(&mut self) -> Step<Cow<'a, str>> {
        let b = &self.bytes()[self.pos..];
        let (key, end) = match b.first() {
            Some(b'"') if !b.starts_with(b"\"\"\"") => strings::basic(self.text, self.pos)?,
            Some(b'\'') if !b.starts_with(b"'''") => strings::literal(self.text, self.pos)?,
            _ => match strings::bare_len(b) {
                0 => return Err(Bail),
                n => (
                    Cow::Borrowed(&self.text[self.pos..self.pos + n]),
                    self.pos + n,
                ),
            },
        };
        self.pos = end;
        Ok(key)
    }

    /// A `[table.header]` line (not `[[array.tables]]`) into `pending`.
    pub fn header(&mut self) -> Step<()> {
        self.header_at = self.pos;
        self.first_header_at.get_or_insert(self.pos);
        self.expect(b'[')?;
        let mut path = self
            .pending
            .take()
            .unwrap_or_else(|| std::mem::take(&mut self.spare));
        path.clear();
        loop {
            self.ws();
            path.push(self.key()?);
            self.ws();
            match self.peek() {
                Some(b'.') => self.bump(),
                Some(b']') => break,
                _ => return Err(Bail),
            }
        }
        self.bump();
        self.line_end()?;
        self.pending = Some(path);
        Ok(())
    }

    /// Keep `path`, a header path done with, for the next header.
    pub fn recycle(&mut self, path: Vec<Cow<'a, str>>) {
        self.spare = path;
    }

    /// How many `[table.NAME]` headers the text has from the one just read on: lines that
    /// start so (one of them could be inside a multi-line string).
    pub fn headers_ahead(&self, table: &str) -> usize {
        let rest = &self.bytes()[self.pos..];
        let header = |i: usize| {
            let name = &rest[i + 2..];
            name.starts_with(table.as_bytes()) && name.get(table.len()) == Some(&b'.')
        };
        1 + memchr::memmem::find_iter(rest, b"\n[")
            .filter(|&i| header(i))
            .count()
    }

    /// About how many elements the array after the cursor has: the commas up to the first
    /// `]`, plus one (a capacity hint: commas in strings, a trailing comma or an array in it
    /// make it wrong, which costs only the capacity).
    pub fn elements_hint(&self) -> usize {
        let rest = &self.bytes()[self.pos..];
        let body = &rest[..memchr::memchr(b']', rest).unwrap_or(rest.len())];
        if body.iter().all(u8::is_ascii_whitespace) {
            return 0;
        }
        1 + memchr::memchr_iter(b',', body).count()
    }

    /// A string value: basic, literal, or either multi-line.
    #[inline]
    pub fn string(&mut self) -> Step<Cow<'a, str>> {
        let (s, end) = strings::string(self.text, self.pos)?;
        self.pos = end;
        Ok(s)
    }

    /// A decimal integer that fits an `i64` (what `toml` hands to `visit_i64`).
    pub fn integer(&mut self) -> Step<i64> {
        let b = self.bytes();
        let mut i = self.pos;
        let negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut n: u64 = 0;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .ok_or(Bail)?
                .checked_add(u64::from(c - b'0'))
                .ok_or(Bail)?;
            i += 1;
        }
        // no digits, a leading zero, or more (a float, a date, `_`, hex…): not this subset
        if i == start || (b[start] == b'0' && i - start > 1) || !ends_value(b.get(i)) {
            return Err(Bail);
        }
        self.pos = i;
        if negative {
            0i64.checked_sub_unsigned(n).ok_or(Bail)
        } else {
            i64::try_from(n).map_err(|_| Bail)
        }
    }

    /// `true` or `false`.
    pub fn boolean(&mut self) -> Step<bool> {
        let b = &self.bytes()[self.pos..];
        let (value, len) = if b.starts_with(b"true") {
            (true, 4)
        } else if b.starts_with(b"false") {
            (false, 5)
        } else {
            return Err(Bail);
        };
        if !ends_value(b.get(len)) {
            return Err(Bail);
        }
        self.pos += len;
        Ok(value)
    }
}

/// What may follow a number or boolean.
fn ends_value(c: Option<&u8>) -> bool {
    matches!(
        c,
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'#')
    )
}
