//! Helpers to encode and decode payloads: a cursor over a payload's bytes is a `&[u8]`
//! that each `take` shortens.

use std::io;

/// The next `n` bytes of `from`.
///
/// # Errors
/// Fewer are left: the payload is cut short.
pub fn take<'a>(from: &mut &'a [u8], n: usize) -> io::Result<&'a [u8]> {
    if from.len() < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "a record cut short",
        ));
    }
    let (head, rest) = from.split_at(n);
    *from = rest;
    Ok(head)
}

/// The next byte of `from` (an error if none is left).
///
/// # Errors
/// None is left.
pub fn take_u8(from: &mut &[u8]) -> io::Result<u8> {
    Ok(take(from, 1)?[0])
}

/// The next 4 bytes of `from`, little-endian.
///
/// # Errors
/// Fewer are left.
pub fn take_u32(from: &mut &[u8]) -> io::Result<u32> {
    take_array(from).map(u32::from_le_bytes)
}

/// The next `N` bytes of `from`.
///
/// # Errors
/// Fewer are left.
pub fn take_array<const N: usize>(from: &mut &[u8]) -> io::Result<[u8; N]> {
    take(from, N)?.try_into().map_err(io::Error::other)
}

/// The next length-prefixed text of `from` (see [`put_text`]).
///
/// # Errors
/// It is cut short or not UTF-8.
pub fn take_text(from: &mut &[u8]) -> io::Result<String> {
    String::from_utf8(take_bytes(from)?).map_err(io::Error::other)
}

/// The next length-prefixed bytes of `from` (see [`put_bytes`]).
///
/// # Errors
/// They are cut short.
pub fn take_bytes(from: &mut &[u8]) -> io::Result<Vec<u8>> {
    let len = take_u32(from)? as usize;
    Ok(take(from, len)?.to_vec())
}

/// Append `text` as [`put_bytes`] does.
///
/// # Panics
/// A text of 4 GiB or more.
pub fn put_text(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}

/// Append the length of `bytes` (4 bytes, little-endian) and `bytes`.
///
/// # Panics
/// 4 GiB or more.
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("under 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
}
