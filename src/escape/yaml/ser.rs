//! The YAML text of a serialisable value, written while serde walks it: no intermediate
//! value tree, no map of keys. The layout is [`super`]'s (block style, two-space indent,
//! the first key of a sequence item after its `- `, empty collections as `{}`/`[]`, every
//! string double-quoted); the tests compare it with writing `serde_norway`'s value tree.

use serde::ser::{self, Serialize};

use super::error::{Error, unsupported};
use super::push_quote;
use super::scalar::push_field_key;
use crate::render::native::{push_i64, push_u64};

/// Where a value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The whole document.
    Top,
    /// After `key:`.
    Value,
    /// After `- `.
    Item,
}

/// Append `n` spaces.
fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// Serialises one value at `place`; `indent` is the indentation of the key or the `- `
/// before it.
pub(super) struct ValueSer<'o> {
    out: &'o mut String,
    indent: usize,
    place: Place,
}

impl<'o> ValueSer<'o> {
    /// The serialiser of a whole document into `out`.
    pub(super) fn top(out: &'o mut String) -> Self {
        Self {
            out,
            indent: 0,
            place: Place::Top,
        }
    }

    /// Write a scalar's text (given by `write`) where it goes.
    fn scalar(self, write: impl FnOnce(&mut String)) {
        if self.place == Place::Value {
            self.out.push(' ');
        }
        write(self.out);
        self.out.push('\n');
    }

    fn text(self, text: &str) {
        self.scalar(|out| out.push_str(text));
    }

    /// The indentation of the keys or items inside a collection here.
    fn inner(&self) -> usize {
        match self.place {
            Place::Top => 0,
            Place::Value | Place::Item => self.indent + 2,
        }
    }

    fn map(self) -> MapSer<'o> {
        MapSer {
            inner: self.inner(),
            parent: self,
            opened: false,
        }
    }

    fn seq(self) -> SeqSer<'o> {
        SeqSer {
            inner: self.inner(),
            parent: self,
            opened: false,
        }
    }
}

/// A mapping (struct or map) being written.
pub(super) struct MapSer<'o> {
    parent: ValueSer<'o>,
    inner: usize,
    opened: bool,
}

impl MapSer<'_> {
    /// Start an entry: what comes before its key.
    fn key(&mut self) -> &mut String {
        let first = !self.opened;
        if first && self.parent.place == Place::Value {
            self.parent.out.push('\n');
        }
        self.opened = true;
        // the first key of a sequence item follows its "- " on the same line
        if !(first && self.parent.place == Place::Item) {
            indent(self.parent.out, self.inner);
        }
        self.parent.out
    }

    /// After the key: the value's serialiser.
    fn value(&mut self) -> ValueSer<'_> {
        self.parent.out.push(':');
        ValueSer {
            out: self.parent.out,
            indent: self.inner,
            place: Place::Value,
        }
    }

    fn finish(self) {
        if !self.opened {
            self.parent.text("{}");
        }
    }
}

/// A sequence being written.
pub(super) struct SeqSer<'o> {
    parent: ValueSer<'o>,
    inner: usize,
    opened: bool,
}

impl SeqSer<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.opened && self.parent.place != Place::Top {
            self.parent.out.push('\n');
        }
        self.opened = true;
        indent(self.parent.out, self.inner);
        self.parent.out.push_str("- ");
        value.serialize(ValueSer {
            out: self.parent.out,
            indent: self.inner,
            place: Place::Item,
        })
    }

    fn finish(self) {
        if !self.opened {
            self.parent.text("[]");
        }
    }
}

impl<'o> ser::Serializer for ValueSer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSer<'o>;
    type SerializeTuple = SeqSer<'o>;
    type SerializeTupleStruct = SeqSer<'o>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = MapSer<'o>;
    type SerializeStruct = MapSer<'o>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    same_scalars!();
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(|out| push_i64(out, v));
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(|out| push_u64(out, v));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.scalar(|out| push_quote(out, v));
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(unsupported("bytes"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(unsupported("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<SeqSer<'o>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple(self, _: usize) -> Result<SeqSer<'o>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<SeqSer<'o>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(unsupported("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSer<'o>, Error> {
        Ok(self.map())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<MapSer<'o>, Error> {
        Ok(self.map())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(unsupported("an enum variant with data"))
    }
}

/// A sequence, a tuple and a tuple struct are all written as a YAML sequence.
macro_rules! seq_like {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for SeqSer<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.item(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish();
                Ok(())
            }
        }
    )*};
}

seq_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for MapSer<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // the value comes next: its `:` is written with it
        key.serialize(super::key::KeySer(self.key()))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(self.value())
    }
    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStruct for MapSer<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        push_field_key(self.key(), key);
        value.serialize(self.value())
    }
    fn end(self) -> Result<(), Error> {
        self.finish();
        Ok(())
    }
}

/// Append one `key: value` entry of a block mapping whose keys are indented by `indent`
/// spaces and that has an entry before it: what [`super::push_document`] writes for that
/// entry at that depth, so that a large mapping (compose's `services:`) can be written,
/// and handed on, an entry at a time.
///
/// # Errors
/// As [`super::to_string`].
///
/// # Panics
/// In test builds, when the text differs from the value-tree writer's (a bug here).
pub fn push_entry(
    out: &mut String,
    indent: usize,
    key: &str,
    value: &impl Serialize,
) -> Result<(), Error> {
    #[cfg(test)]
    let start = out.len();
    let mut map = MapSer {
        parent: ValueSer::top(out),
        inner: indent,
        opened: true,
    };
    ser::SerializeMap::serialize_entry(&mut map, key, value)?;
    #[cfg(test)]
    {
        // the same entry alone in a document, indented
        let alone = super::reference::to_string(&std::collections::BTreeMap::from([(key, value)]));
        let pad = " ".repeat(indent);
        let mut indented = String::new();
        for line in alone.lines() {
            indented.push_str(&pad);
            indented.push_str(line);
            indented.push('\n');
        }
        assert_eq!(out[start..], indented);
    }
    Ok(())
}
