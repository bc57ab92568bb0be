//! Reading a manifest: from a file or from stdin (`-`), never more than
//! [`MAX_MANIFEST_BYTES`] whatever the file is (`/dev/zero`, a FIFO, a huge file), and only
//! as UTF-8 (the first bad byte is reported at its line and column).

use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context as _, Result};

use super::error::ManifestError;
use super::locate::line_col;
use crate::errors::usage::UsageError;

/// The largest manifest accepted: 16 MiB (the built-in one is 5 KiB).
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// The `--manifest` value that means stdin.
pub const STDIN: &str = "-";

/// How long opening a FIFO may block before the user is told what it waits for.
const FIFO_NOTE_AFTER: Duration = Duration::from_secs(2);

/// Read the manifest at `path` (`-` = stdin). Returns the name to show in messages and the
/// text.
///
/// # Errors
/// The file cannot be read (exit 1); it is larger than [`MAX_MANIFEST_BYTES`]
/// ([`UsageError`], exit 2); it is not UTF-8 ([`super::ManifestErrors`], exit 2).
pub fn read_manifest(path: &Path) -> Result<(String, String)> {
    let (name, bytes) = if path.as_os_str() == STDIN {
        let bytes = read_capped(&mut std::io::stdin().lock(), MAX_MANIFEST_BYTES)
            .context("reading the manifest from stdin")?;
        ("<stdin>".to_owned(), bytes)
    } else {
        let name = path.display().to_string();
        let bytes = read_file_capped(path, MAX_MANIFEST_BYTES)
            .with_context(|| format!("reading manifest {name}"))?;
        (name, bytes)
    };
    let Some(bytes) = bytes else {
        return Err(UsageError(format!(
            "manifest {name} is larger than {} MiB; a manifest of a whole stack is a few KiB (is it the right file?)",
            MAX_MANIFEST_BYTES >> 20
        ))
        .into());
    };
    let text = utf8(&name, bytes)?;
    Ok((name, text))
}

/// Read a file of any kind, at most `cap` bytes. `Ok(None)` when it holds more. Opening a
/// FIFO blocks until something writes to it (as `cat` does); after a moment a note on stderr
/// says so.
///
/// # Errors
/// The file cannot be opened or read.
pub fn read_file_capped(path: &Path, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    if meta.is_file() && meta.len() > cap {
        return Ok(None); // no need to read it to know
    }
    let file = if meta.is_file() {
        std::fs::File::open(path)?
    } else {
        let _note = WaitNote::after(
            FIFO_NOTE_AFTER,
            format!(
                "note: waiting for a writer: {} is not a regular file (a FIFO blocks until something writes to it; Ctrl-C to stop)",
                path.display()
            ),
        );
        std::fs::File::open(path)?
    };
    // a file's own size: the text is read into a buffer of that size (and one byte to see
    // the end), not into one that doubles as it fills
    let size = if meta.is_file() {
        usize::try_from(meta.len()).unwrap_or(0)
    } else {
        0
    };
    let mut bytes = Vec::with_capacity(size.saturating_add(1));
    std::io::BufReader::new(file)
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok((len <= cap).then_some(bytes))
}

/// Read at most `cap` bytes; `Ok(None)` when the reader holds more.
///
/// # Errors
/// The reader fails.
pub fn read_capped(reader: &mut impl Read, cap: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    Ok((len <= cap).then_some(bytes))
}

/// The text, or an error at the first byte that is not UTF-8.
fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, super::ManifestErrors> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        let bad = bytes.get(at).copied().unwrap_or_default();
        // everything before the bad byte is valid: positions and the field come from it
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, col) = line_col(valid, at);
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        ManifestError {
            file: name.into(),
            line,
            col,
            field: super::syntax::context(valid, at).to_string(),
            message: format!("the manifest is not valid UTF-8 (byte 0x{bad:02X})"),
            hint: Some(
                "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); TOML is always UTF-8"
                    .into(),
            ),
            snippet: valid[line_start..].to_owned(),
        }
        .into()
    })
}

/// Prints a note on stderr if it is not dropped within a delay.
struct WaitNote(Option<mpsc::Sender<()>>);

impl WaitNote {
    fn after(delay: Duration, note: String) -> Self {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if rx.recv_timeout(delay) == Err(mpsc::RecvTimeoutError::Timeout) {
                crate::stdout::diag(note);
            }
        });
        Self(Some(tx))
    }
}

impl Drop for WaitNote {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_what_it_reads() {
        let mut zeros = std::io::repeat(0);
        assert!(matches!(read_capped(&mut zeros, 1000), Ok(None)));
        let mut small: &[u8] = b"name = \"x\"\n";
        let got = read_capped(&mut small, 11).ok().flatten();
        assert_eq!(got.as_deref(), Some(&b"name = \"x\"\n"[..]));
        let mut over: &[u8] = b"name = \"x\"\n";
        assert!(matches!(read_capped(&mut over, 10), Ok(None)));
    }

    #[test]
    fn reports_the_first_bad_byte_where_it_is() {
        let bytes = b"name = \"x\"\n[services.a]\ncommand = [\"/bin/\xff\"]\n".to_vec();
        let e = utf8("m.toml", bytes).err().map(|mut e| e.0.remove(0));
        let e = e.unwrap_or_else(|| panic!("accepted"));
        assert_eq!((e.line, e.col), (3, 18));
        assert_eq!(e.field, "services.a.command");
        assert!(e.message.contains("0xFF"), "{}", e.message);
        assert!(e.hint.is_some());
        // a multi-byte character before it counts as one column
        let e = utf8("m.toml", "é\u{80}".bytes().chain([0xC3]).collect()).err();
        assert_eq!(e.map(|e| (e.0[0].line, e.0[0].col)), Some((1, 3)));
    }
}
