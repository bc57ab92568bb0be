//! Serde over the text: values, arrays, inline tables and `[header]` table bodies are handed
//! to the visitors the way `toml`'s `ValueDeserializer` hands them (strings borrowed when
//! they can be, integers as `i64`, options always `Some`, enums from strings), read straight
//! from the text without building a tree first.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::de::value::CowStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer as _, Visitor};

use super::cursor::Cursor;
use super::{Bail, Step};

/// Above this many keys a table finds duplicates by hashing instead of comparing.
const LINEAR_KEYS: usize = 16;

/// A value at the cursor.
pub struct ValueDe<'c, 'a>(pub &'c mut Cursor<'a>);

/// The body of a table opened by a `[header]` whose path is `level` keys long (0 for the
/// document's own keys before the first header).
pub struct BodyDe<'c, 'a> {
    /// The text.
    pub c: &'c mut Cursor<'a>,
    /// The length of the header path.
    pub level: usize,
}

/// Types `toml` deserializes specially (`Spanned`, datetimes) are not for the fast reader.
fn special(name: &str) -> bool {
    name.starts_with("$__")
}

impl<'a> de::Deserializer<'a> for ValueDe<'_, 'a> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Step<V::Value> {
        let c = self.0;
        match c.peek() {
            Some(b'"' | b'\'') => match c.string()? {
                Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                Cow::Owned(s) => visitor.visit_string(s),
            },
            Some(b'[') => {
                c.enter()?;
                c.bump();
                let hint = c.elements_hint();
                let mut seq = Seq {
                    c,
                    done: false,
                    hint,
                };
                let v = visitor.visit_seq(&mut seq)?;
                if !seq.done {
                    return Err(Bail);
                }
                seq.c.leave();
                Ok(v)
            }
            Some(b'{') => {
                c.enter()?;
                c.bump();
                let v = table(c, None, true, visitor)?;
                c.leave();
                Ok(v)
            }
            Some(b't' | b'f') => visitor.visit_bool(c.boolean()?),
            Some(b'0'..=b'9' | b'+' | b'-') => visitor.visit_i64(c.integer()?),
            _ => Err(Bail),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Step<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Step<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Step<V::Value> {
        if special(name) {
            return Err(Bail);
        }
        let c = self.0;
        if c.peek() != Some(b'{') {
            return ValueDe(c).deserialize_any(visitor);
        }
        c.enter()?;
        c.bump();
        let v = table(c, None, false, visitor)?;
        c.leave();
        Ok(v)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Step<V::Value> {
        // `toml` also takes `{ Variant = ... }` tables: left to it
        if !matches!(self.0.peek(), Some(b'"' | b'\'')) {
            return Err(Bail);
        }
        let s: CowStrDeserializer<'a, Bail> = self.0.string()?.into_deserializer();
        visitor.visit_enum(s)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq
        bytes byte_buf map unit ignored_any unit_struct tuple_struct tuple identifier
    }
}

impl<'a> de::Deserializer<'a> for BodyDe<'_, 'a> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Step<V::Value> {
        table(self.c, Some(self.level), true, visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Step<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Step<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Step<V::Value> {
        if special(name) {
            return Err(Bail);
        }
        table(self.c, Some(self.level), false, visitor)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool u8 u16 u32 u64 u128 i8 i16 i32 i64 i128 f32 f64 char str string seq
        bytes byte_buf map unit ignored_any unit_struct tuple_struct tuple identifier enum
    }
}

/// Visit a table: inline (`{ ... }`, after the brace) when `level` is `None`, else the body of
/// a `[header]` table. The keys of the document's own table (level 0) stay on the key stack.
///
/// Duplicate keys are found here when `checked`; a struct (not `checked`) finds them itself:
/// serde's derive reports a field given twice, and every table struct of the manifest denies
/// unknown keys (a test checks it).
fn table<'a, V: Visitor<'a>>(
    c: &mut Cursor<'a>,
    level: Option<usize>,
    checked: bool,
    visitor: V,
) -> Step<V::Value> {
    let base = c.keys.len();
    let mut map = Table {
        c,
        level,
        checked,
        base,
        set: None,
        done: false,
        sub: false,
    };
    let v = visitor.visit_map(&mut map)?;
    if !map.done {
        return Err(Bail);
    }
    if level != Some(0) {
        map.c.keys.truncate(base);
    }
    Ok(v)
}

/// The entries of an inline table or of a table body.
struct Table<'c, 'a> {
    c: &'c mut Cursor<'a>,
    level: Option<usize>,
    /// Whether duplicate keys are looked for here.
    checked: bool,
    /// Where this table's keys start on the cursor's key stack.
    base: usize,
    /// This table's keys, once it has many.
    set: Option<HashSet<Cow<'a, str>>>,
    /// The closing brace, the next header that is not a sub-table, or the end was reached.
    done: bool,
    /// The current key came from a `[header]`: its value is the body after it.
    sub: bool,
}

impl<'a> Table<'_, 'a> {
    /// Remember `key`; a duplicate is an error in TOML.
    fn add_key(&mut self, key: Cow<'a, str>) -> Step<()> {
        let keys = &mut self.c.keys;
        if !self.checked {
            if self.level == Some(0) {
                keys.push(key);
            }
            return Ok(());
        }
        let dup = match &mut self.set {
            Some(set) => !set.insert(key.clone()),
            None => keys[self.base..].contains(&key),
        };
        if dup {
            return Err(Bail);
        }
        keys.push(key);
        if self.set.is_none() && keys.len() - self.base > LINEAR_KEYS {
            self.set = Some(keys[self.base..].iter().cloned().collect());
        }
        Ok(())
    }

    /// The next key of a `[header]` table body, `None` at its end: the end of the text, or a
    /// header (read here or by a sub-table) that does not open a sub-table of this one.
    fn body_key(&mut self, level: usize) -> Step<Option<Cow<'a, str>>> {
        let c = &mut *self.c;
        if c.pending.is_none() {
            c.ws_comment_newline()?;
            match c.peek() {
                None => return Ok(None),
                Some(b'[') => c.header()?,
                Some(_) => {
                    let key = c.key()?;
                    c.ws();
                    c.expect(b'=')?; // a dotted key is left to `toml`
                    c.ws();
                    return Ok(Some(key));
                }
            }
        }
        // `[services.a.health]` after `[services.a]`: the key `health`, the body its value
        let sub = c.pending.as_ref().and_then(|p| {
            (p.len() == level + 1 && p[..level] == c.path[..level]).then(|| p[level].clone())
        });
        if let Some(key) = &sub {
            if level == 0 {
                c.headers.push(key.clone());
            }
            if let Some(path) = c.pending.take() {
                c.recycle(path);
            }
            c.path.truncate(level);
            c.path.push(key.clone());
            self.sub = true;
        }
        Ok(sub)
    }

    /// The next key of an inline table, `None` after its closing brace.
    fn inline_key(&mut self) -> Step<Option<Cow<'a, str>>> {
        let c = &mut *self.c;
        c.ws_comment_newline()?;
        if c.peek() == Some(b'}') {
            c.bump();
            return Ok(None);
        }
        let key = c.key()?;
        c.ws();
        c.expect(b'=')?;
        c.ws();
        Ok(Some(key))
    }
}

impl<'a> de::MapAccess<'a> for Table<'_, 'a> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Step<Option<K::Value>> {
        if self.done {
            return Ok(None);
        }
        let key = match self.level {
            Some(level) => self.body_key(level)?,
            None => self.inline_key()?,
        };
        let Some(key) = key else {
            self.done = true;
            return Ok(None);
        };
        self.add_key(key.clone())?;
        seed.deserialize(CowStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Step<V::Value> {
        let c = &mut *self.c;
        match self.level {
            _ if self.sub => {
                self.sub = false;
                let level = c.path.len();
                c.enter()?; // sub-tables of sub-tables nest too
                let v = seed.deserialize(BodyDe { c, level })?;
                c.leave();
                c.path.truncate(level - 1);
                Ok(v)
            }
            Some(_) => {
                let v = seed.deserialize(ValueDe(c))?;
                c.line_end()?;
                Ok(v)
            }
            None => {
                let v = seed.deserialize(ValueDe(c))?;
                c.ws_comment_newline()?;
                match c.peek() {
                    Some(b',') => c.bump(),
                    Some(b'}') => {
                        c.bump();
                        self.done = true;
                    }
                    _ => return Err(Bail),
                }
                Ok(v)
            }
        }
    }
}

/// The elements of an array, after its opening bracket.
struct Seq<'c, 'a> {
    c: &'c mut Cursor<'a>,
    /// The closing bracket was read.
    done: bool,
    /// About how many elements there are (for the capacity of a `Vec`).
    hint: usize,
}

impl<'a> de::SeqAccess<'a> for Seq<'_, 'a> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Step<Option<T::Value>> {
        if self.done {
            return Ok(None);
        }
        let c = &mut *self.c;
        c.ws_comment_newline()?;
        if c.peek() == Some(b']') {
            c.bump();
            self.done = true;
            return Ok(None);
        }
        let v = seed.deserialize(ValueDe(c))?;
        c.ws_comment_newline()?;
        match c.peek() {
            Some(b',') => c.bump(),
            Some(b']') => {
                c.bump();
                self.done = true;
            }
            _ => return Err(Bail),
        }
        Ok(Some(v))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.hint)
    }
}
