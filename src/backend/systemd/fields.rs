//! Fields of a unit written straight into it: each serialises into a string only when a
//! template override reads it.

use serde::Serialize;

use super::esc;
use crate::manifest::Duration;
use crate::render::native::push_u64;

/// An Exec line: written straight into the unit, into a string only for a template.
pub(super) struct ExecLine<'a> {
    pub(super) argv: &'a crate::model::Strs,
    pub(super) instanced: bool,
}

impl Serialize for ExecLine<'_> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.serialize_str(&esc::exec_line(self.argv, self.instanced))
    }
}

/// A systemd time span: whole seconds when exact, else milliseconds.
#[derive(Clone, Copy)]
pub(super) struct Span(pub(super) Duration);

impl Span {
    /// Append the span.
    pub(super) fn push(self, out: &mut String) {
        let ms = self.0.millis();
        if ms.is_multiple_of(1000) {
            push_u64(out, ms / 1000);
            out.push('s');
        } else {
            push_u64(out, ms);
            out.push_str("ms");
        }
    }
}

impl Serialize for Span {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut text = String::with_capacity(16);
        self.push(&mut text);
        serializer.serialize_str(&text)
    }
}

/// `Environment=` values: written straight into the unit, quoted into strings only for a
/// template.
pub(super) struct Environment<'a> {
    pub(super) vars: &'a crate::model::Pairs,
    pub(super) instanced: bool,
}

impl Serialize for Environment<'_> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_seq(
            self.vars
                .iter()
                .map(|(k, v)| esc::environment(k, v, self.instanced)),
        )
    }
}
