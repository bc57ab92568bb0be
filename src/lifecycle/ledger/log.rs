//! A ledger written entry by entry as files go into a new tree (see
//! `output::stream::fresh`): in the order they come, never held in memory (120,000 entries
//! of s6 would be 20 MB), and read back the same way for the report. The text is what
//! [`super::write_ledger`] writes, one entry a line; its order carries no meaning (every
//! reader keys the entries by path), and the next run writes it in path order.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{Entry, LEDGER_FILE};

/// A ledger being written.
pub struct Log {
    out: BufWriter<File>,
    path: PathBuf,
    /// Entries written so far.
    count: usize,
}

impl Log {
    /// Start the ledger in the state directory `state` (no ledger there yet).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn create(state: &Path) -> Result<Self> {
        let path = state.join(LEDGER_FILE);
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        let mut log = Self {
            out: BufWriter::with_capacity(1 << 16, file),
            path,
            count: 0,
        };
        write!(log.out, "{{\n  \"version\": 1,\n  \"files\": {{").with_context(|| log.writing())?;
        Ok(log)
    }

    fn writing(&self) -> String {
        format!("writing {}", self.path.display())
    }

    /// Record `path` as `entry`.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn add(&mut self, path: &str, entry: &Entry) -> Result<()> {
        let out = &mut self.out;
        let written = out
            .write_all(if self.count == 0 {
                b"\n    "
            } else {
                b",\n    "
            })
            .map_err(serde_json::Error::io)
            .and_then(|()| serde_json::to_writer(&mut *out, path))
            .and_then(|()| out.write_all(b": ").map_err(serde_json::Error::io))
            .and_then(|()| serde_json::to_writer(&mut *out, entry));
        written.with_context(|| self.writing())?;
        self.count += 1;
        Ok(())
    }

    /// How many entries were recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none was.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Whether `path` was recorded: read back from the file (for the rare path whose hash
    /// was seen before, see `output::stream::feed`).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn contains(&mut self, path: &str) -> Result<bool> {
        self.out.flush().with_context(|| self.writing())?;
        let mut found = false;
        each_entry(self.out.get_ref(), |p, _| {
            found |= p == path;
            Ok(())
        })
        .with_context(|| format!("reading {}", self.path.display()))?;
        self.out
            .get_ref()
            .seek(SeekFrom::End(0))
            .with_context(|| self.writing())?;
        Ok(found)
    }

    /// Close the ledger: its file, written whole (not yet durable).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn finish(mut self) -> Result<File> {
        let end: &[u8] = if self.count == 0 {
            b"}\n}\n"
        } else {
            b"\n  }\n}\n"
        };
        self.out.write_all(end).with_context(|| self.writing())?;
        let path = self.path;
        self.out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .with_context(|| format!("writing {}", path.display()))
    }
}

/// Call `f` with each entry of the ledger `file` (as [`super::write_ledger`] writes it, one
/// entry a line), in the order written, from its start.
///
/// # Errors
/// I/O errors, a line that is not an entry, or `f`'s error.
pub fn each_entry(file: &File, mut f: impl FnMut(&str, Entry) -> Result<()>) -> Result<()> {
    let mut file = file;
    file.seek(SeekFrom::Start(0))?;
    let mut lines = BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        // an entry's line is indented four spaces and starts with its path, a JSON string
        let Some(text) = line.strip_prefix("    ").filter(|t| t.starts_with('"')) else {
            continue;
        };
        let text = text.trim_end().trim_end_matches(',');
        let mut key = serde_json::Deserializer::from_str(text).into_iter::<String>();
        let path = key.next().context("a ledger line without its path")??;
        let entry: Entry = match text[key.byte_offset()..].trim_start().strip_prefix(':') {
            Some(value) => serde_json::from_str(value)?,
            None => anyhow::bail!("not a ledger entry: {text}"),
        };
        f(&path, entry)?;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Kind, Ledger, Store};
    use super::*;

    fn entry(kind: Kind, text: &str) -> Entry {
        Entry::of(kind, 0o640, text.as_bytes())
    }

    #[test]
    fn entries_read_back_in_order_and_the_ledger_reads_as_any_other() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::for_out_dir(tmp.path());
        std::fs::create_dir(&store.state).expect("state");
        let mut log = Log::create(&store.state).expect("log");
        assert!(Log::create(&store.state).is_err(), "never over a ledger");
        // paths JSON escapes, in no particular order
        let files = [
            ("z/run", entry(Kind::File, "1")),
            ("a \"quoted\"\\path", entry(Kind::File, "2")),
            ("línea\nnueva", entry(Kind::Symlink, "../x")),
            ("    \"indented\": {}", entry(Kind::File, "3")),
        ];
        for (path, e) in &files {
            assert!(!log.contains(path).expect("read back"));
            log.add(path, e).expect("added");
            assert!(log.contains(path).expect("read back"), "{path}");
        }
        log.add("after/reading", &entry(Kind::File, "4"))
            .expect("written after a read-back, at the end");
        assert_eq!(log.len(), 5);
        let file = log.finish().expect("finished");
        let mut got = Vec::new();
        each_entry(&file, |p, e| {
            got.push((p.to_owned(), e));
            Ok(())
        })
        .expect("read");
        let mut want: Vec<(String, Entry)> = files
            .iter()
            .map(|(p, e)| ((*p).to_owned(), e.clone()))
            .collect();
        want.push(("after/reading".into(), entry(Kind::File, "4")));
        assert_eq!(got, want);
        let lock = store.lock(tmp.path()).expect("lock");
        let read = store.read(&lock).expect("a ledger like any other");
        let expected = Ledger {
            version: 1,
            files: want.into_iter().collect(),
        };
        assert_eq!(read, expected);
    }

    #[test]
    fn an_empty_ledger_reads_as_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::for_out_dir(tmp.path());
        std::fs::create_dir(&store.state).expect("state");
        let log = Log::create(&store.state).expect("log");
        assert!(log.is_empty());
        let file = log.finish().expect("finished");
        each_entry(&file, |p, _| anyhow::bail!("no entry expected, got {p}")).expect("none");
        let lock = store.lock(tmp.path()).expect("lock");
        assert!(store.read(&lock).expect("read").files.is_empty());
    }
}
