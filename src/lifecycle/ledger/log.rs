//! A ledger written as files go into a new tree (see `output::stream::fresh`), in path
//! order as every ledger is: the entries wait in sorted runs (see `lifecycle::runs`), never all in
//! memory (120,000 entries of s6 would be 20 MB), and are merged into the ledger when the
//! tree is done, and again for the report. A new tree's ledger used to be in the order the
//! files came, and the first run after it had to gather and sort every path to read it.

use std::fs::File;
use std::io::BufWriter;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{Entry, LEDGER_FILE, write_files};
use crate::lifecycle::runs::{Runs, Sealed};

pub use record::{Record, put_entry, take_entry};

mod record;

/// A ledger being written.
pub struct Log {
    /// The ledger's file, created empty to claim it.
    ledger: File,
    path: PathBuf,
    runs: Runs,
    /// The payload being encoded.
    scratch: Vec<u8>,
}

impl Log {
    /// Start the ledger in the state directory `state` (no ledger there yet).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn create(state: &Path) -> Result<Self> {
        let path = state.join(LEDGER_FILE);
        let ledger = File::options()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        // the runs: a file with no name, gone with the process
        let runs = tempfile::tempfile_in(state)
            .with_context(|| format!("creating a file in {}", state.display()))?;
        Ok(Self {
            ledger,
            path,
            runs: Runs::new(runs),
            scratch: Vec::new(),
        })
    }

    fn writing(&self) -> String {
        format!("writing {}", self.path.display())
    }

    /// Record `path` as `entry` (a link to `target`, which the report shows).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn add(&mut self, path: &str, entry: &Entry, target: Option<&str>) -> Result<()> {
        self.scratch.clear();
        record::encode(&mut self.scratch, entry, target);
        self.runs
            .add(path, &self.scratch)
            .with_context(|| self.writing())
    }

    /// Whether `path` was recorded: looked for in the runs (for the rare path whose hash
    /// was seen before, see `output::stream::feed`).
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn contains(&mut self, path: &str) -> Result<bool> {
        self.runs.contains(path).with_context(|| self.writing())
    }

    /// Write the ledger, in path order (not yet durable): the entries, to be walked again.
    ///
    /// # Errors
    /// I/O errors, with the path.
    pub fn finish(self) -> Result<Written> {
        let writing = self.writing();
        let sealed = self.runs.seal().with_context(|| writing.clone())?;
        {
            let mut merge = sealed.merge().with_context(|| writing.clone())?;
            let files = std::iter::from_fn(|| merge.next_record().transpose()).map(|record| {
                let (path, payload) = record?;
                Record::decode(path, &payload).map(|r| (r.path, r.entry))
            });
            let mut out = BufWriter::with_capacity(1 << 16, self.ledger);
            write_files(1, files, &mut out)
                .and_then(|()| {
                    Ok(out
                        .into_inner()
                        .map_err(std::io::IntoInnerError::into_error)?)
                })
                .with_context(|| writing)?;
        }
        Ok(Written { runs: sealed })
    }
}

/// The entries of a ledger written by a [`Log`], to be walked again (for the report).
pub struct Written {
    runs: Sealed,
}

impl Written {
    /// Call `f` with each entry, in path order.
    ///
    /// # Errors
    /// Reading the entries, or `f`'s error.
    pub fn each(&self, mut f: impl FnMut(&Record) -> Result<()>) -> Result<()> {
        let mut merge = self.runs.merge()?;
        while let Some((path, payload)) = merge.next_record()? {
            f(&Record::decode(path, &payload)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{ContentHash, Kind, Ledger, Store};
    use super::*;

    fn entry(kind: Kind, text: &str) -> Entry {
        Entry::of(kind, 0o640, text.as_bytes())
    }

    /// The paths of the ledger file in `state`, in the order its text lists them.
    fn listed(state: &Path) -> Vec<String> {
        let text = std::fs::read_to_string(state.join(LEDGER_FILE)).expect("ledger");
        text.lines()
            .filter_map(|l| l.strip_prefix("    "))
            .map(|l| {
                let mut de = serde_json::Deserializer::from_str(l).into_iter::<String>();
                de.next().expect("a path").expect("a JSON string")
            })
            .collect()
    }

    /// A directory with the state directory of an `--out` tree in it, made.
    fn state_dir() -> (tempfile::TempDir, Store) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::for_out_dir(tmp.path());
        std::fs::create_dir(&store.state).expect("state");
        (tmp, store)
    }

    /// Every record of `written`, in the order walked.
    fn walked(written: &Written) -> Vec<Record> {
        let mut got = Vec::new();
        written
            .each(|r| {
                got.push(Record {
                    path: r.path.clone(),
                    entry: r.entry.clone(),
                    target: r.target.clone(),
                });
                Ok(())
            })
            .expect("walked");
        got
    }

    #[test]
    fn entries_in_any_order_make_a_ledger_in_path_order_that_reads_as_any_other() {
        let (tmp, store) = state_dir();
        let mut log = Log::create(&store.state).expect("log");
        assert!(Log::create(&store.state).is_err(), "never over a ledger");
        // paths JSON escapes, a recorded text in place of a digest, in no particular order
        let mut odd = entry(Kind::File, "3");
        odd.sha256 = ContentHash::other("edited-since-written");
        let files = [
            ("z/run", entry(Kind::File, "1"), None),
            ("a \"quoted\"\\path", entry(Kind::File, "2"), None),
            ("línea\nnueva", entry(Kind::Symlink, "../x"), Some("../x")),
            ("    \"indented\": {}", odd, None),
        ];
        for (path, e, target) in &files {
            assert!(!log.contains(path).expect("looked for"));
            log.add(path, e, *target).expect("added");
            assert!(log.contains(path).expect("looked for"), "{path}");
        }
        let written = log.finish().expect("finished");
        assert_eq!(walked(&written).len(), 4);
        assert!(
            std::fs::read_dir(&store.state).expect("state").count() == 1,
            "only the ledger is left"
        );
        let mut want: Vec<Record> = files
            .iter()
            .map(|(p, e, t)| Record {
                path: (*p).to_owned(),
                entry: e.clone(),
                target: t.map(str::to_owned),
            })
            .collect();
        want.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(walked(&written), want, "walked in path order, twice");
        assert_eq!(walked(&written), want);
        let paths: Vec<String> = want.iter().map(|r| r.path.clone()).collect();
        assert_eq!(listed(&store.state), paths, "the text in path order");
        let lock = store.lock(tmp.path()).expect("lock");
        let read = store.read(&lock).expect("a ledger like any other");
        let expected = Ledger {
            version: 1,
            files: want.into_iter().map(|r| (r.path, r.entry)).collect(),
        };
        assert_eq!(read, expected);
    }

    #[test]
    fn many_runs_merge_into_one_order_and_a_path_given_again_keeps_the_later() {
        let (tmp, store) = state_dir();
        let mut log = Log::create(&store.state).expect("log");
        let mut want = BTreeMap::new();
        let mut given = Vec::new();
        // about 1 MB of records, in an order far from path order: several runs
        let count: u32 = 12_000;
        for i in 0..count {
            let n = i.wrapping_mul(7919) % count;
            let path = format!(
                "s6/svc-{n}/{}",
                ["run", "finish", "log/run"][(i % 3) as usize]
            );
            let e = entry(Kind::File, &i.to_string());
            log.add(&path, &e, None).expect("added");
            given.push(path.clone());
            want.insert(path, e);
        }
        // one path again, much later, and one in the piece still in memory
        let again = [(&given[3], "again"), (&given[given.len() - 2], "again too")];
        for (path, text) in again {
            assert!(log.contains(path).expect("looked for"));
            let e = entry(Kind::File, text);
            log.add(path, &e, None).expect("added");
            want.insert(path.clone(), e);
        }
        assert!(!log.contains("s6/svc-0/nothing").expect("looked for"));
        let written = log.finish().expect("finished");
        assert!(written.runs.count() >= 4, "{} runs", written.runs.count());
        let got: BTreeMap<String, Entry> = walked(&written)
            .into_iter()
            .map(|r| (r.path, r.entry))
            .collect();
        assert_eq!(got.len(), walked(&written).len(), "each path once");
        assert_eq!(got, want);
        let listed = listed(&store.state);
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "in path order");
        let lock = store.lock(tmp.path()).expect("lock");
        assert_eq!(store.read(&lock).expect("read").files, want);
    }

    #[test]
    fn an_empty_ledger_reads_as_one() {
        let (tmp, store) = state_dir();
        let log = Log::create(&store.state).expect("log");
        let written = log.finish().expect("finished");
        assert!(walked(&written).is_empty());
        let lock = store.lock(tmp.path()).expect("lock");
        assert!(store.read(&lock).expect("read").files.is_empty());
    }
}
