//! The compact ledger and its marks.

use super::super::{ContentHash, Kind, Ledger, Owned, Store};
use std::io::Cursor;

use super::*;

fn entry(text: &str) -> Entry {
    Entry::of(Kind::File, 0o644, text.as_bytes())
}

/// The JSON of a ledger with `files` (path, text), in this order (duplicates kept).
fn json(files: &[(&str, &str)]) -> String {
    let one = |(p, t): &(&str, &str)| {
        let e = serde_json::to_string(&entry(t)).expect("entry");
        format!("{}: {e}", serde_json::to_string(p).expect("path"))
    };
    let files: Vec<String> = files.iter().map(one).collect();
    format!(r#"{{"version": 1, "files": {{{}}}}}"#, files.join(", "))
}

#[test]
fn a_compact_ledger_holds_what_the_map_holds_in_any_order_and_finds_each_path() {
    let mut files: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("sv/s{}/run", (i * 7919) % 3000), format!("t{i}")))
        .collect();
    // given twice or more: the latest counts, as in a map (the sort is not stable: the
    // tie is broken by the place a path was added)
    files.push(("sv/s5/run".to_owned(), "again".to_owned()));
    for round in ["second", "third"] {
        files.extend(
            (0..3000)
                .step_by(37)
                .map(|k| (format!("sv/s{k}/run"), format!("{round}{k}"))),
        );
    }
    let pairs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (&**p, &**t)).collect();
    let text = json(&pairs);
    let map: Ledger = serde_json::from_str(&text).expect("map");
    let compact = Compact::read(Cursor::new(&text), text.len() as u64).expect("compact");
    assert_eq!(compact.len(), 3000);
    assert!(compact.each().eq(Owned::each(&map)));
    assert_eq!(Ledger::of(&compact), map);
    assert_eq!(compact.get("sv/s5/run"), Some(entry("again")));
    for k in (0..3000).step_by(37) {
        let path = format!("sv/s{k}/run");
        assert_eq!(compact.get(&path), Some(entry(&format!("third{k}"))));
    }
    let (place, e) = compact.find("sv/s17/run").expect("there");
    assert_eq!(e, map.files["sv/s17/run"]);
    let mut marked = Marked::new(&compact);
    marked.mark(place);
    assert_eq!(marked.paths().collect::<Vec<_>>(), ["sv/s17/run"]);
    assert_eq!(compact.get("sv/s17"), None);
    assert_eq!(compact.get("sv/s3000/run"), None);
    assert_eq!(Compact::from(map.clone()), compact);
    let empty = Compact::read(Cursor::new(b"{\"version\":1,\"files\":{}}"), 0).expect("empty");
    assert!(empty.is_empty());
    for bad in [
        &b"{\"version\":1}"[..],
        b"{\"files\":{\"a\":1}}",
        b"[]",
        b"{} x",
    ] {
        assert!(
            Compact::read(Cursor::new(bad), 0).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn marks_are_a_bit_a_file_and_give_their_paths_in_path_order() {
    let text = json(&[("c", "1"), ("a", "2"), ("b", "3"), ("d", "4")]);
    let ledger = Compact::read(Cursor::new(&text), 0).expect("ledger");
    let mut marked = Marked::new(&ledger);
    assert!(marked.is_empty());
    for path in ["d", "b", "d"] {
        let (place, _) = ledger.find(path).expect("there");
        marked.mark(place);
    }
    assert_eq!(marked.len(), 2);
    let place = |path| ledger.find(path).expect("there").0;
    assert!(marked.has(place("b")) && marked.has(place("d")));
    assert!(!marked.has(place("a")) && !marked.has(place("c")));
    assert_eq!(marked.paths().collect::<Vec<_>>(), ["b", "d"]);
    assert_eq!(Marked::new(&EMPTY).paths().count(), 0);
}

#[test]
fn the_store_reads_the_same_ledger_compact_and_as_a_map() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    let lock = store.lock(tmp.path()).expect("lock");
    assert!(store.read_compact(&lock).expect("none").is_empty());
    let mut ledger = Ledger::default();
    for (p, t) in [("b/run", "1"), ("a/run", "2"), ("a/log/run", "3")] {
        ledger.files.insert(p.to_owned(), entry(t));
    }
    store.write(&lock, &ledger).expect("write");
    let compact = store.read_compact(&lock).expect("read");
    assert_eq!(Ledger::of(&compact).files, ledger.files);
    // the legacy state file is imported through the map, as `read` does
    std::fs::write(tmp.path().join("c"), "legacy\n").expect("c");
    std::fs::write(tmp.path().join(super::super::LEGACY_STATE_FILE), "c\n").expect("legacy");
    let compact = store.read_compact(&lock).expect("read");
    assert_eq!(compact.get("c"), Some(entry("legacy\n")));
    assert_eq!(Ledger::of(&compact), store.read(&lock).expect("map"));
}

/// Strings of up to 7 characters of a few (ASCII, and several that begin with the same
/// byte) from the pseudo-random `seed`: many shared beginnings, some ending inside a
/// character.
fn words(seed: u64, n: usize) -> Vec<String> {
    const CHARS: [&str; 8] = ["a", "b", "/", "é", "è", "€", "z", "-"];
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) as usize
    };
    (0..n)
        .map(|_| {
            (0..next() % 8)
                .map(|_| CHARS[next() % CHARS.len()])
                .collect()
        })
        .collect()
}

/// The entry of `i`: files and links, several modes, digests and other recorded values.
fn varied(i: usize) -> Entry {
    let text = format!("{i}");
    match i % 5 {
        0 => Entry::of(Kind::Symlink, 0, text.as_bytes()),
        1 => Entry {
            kind: Kind::File,
            mode: 0o100_644 + u32::try_from(i).expect("small"),
            sha256: ContentHash::other(&format!("edited-{}", i % 3)),
        },
        2 => Entry::of(Kind::File, 0o755, text.as_bytes()),
        _ => Entry::of(Kind::File, u32::MAX - 7, text.as_bytes()),
    }
}

#[test]
fn front_coded_paths_come_back_whole_and_every_path_and_no_other_is_found() {
    let mut map = Ledger::default();
    for (i, path) in words(7, 3000).into_iter().enumerate() {
        map.files.insert(path, varied(i));
    }
    // the empty path, long ones, and many with the same beginning
    map.files.insert(String::new(), varied(1));
    let long = "d/".repeat(300);
    for i in 0..40 {
        map.files.insert(format!("{long}{i}"), varied(i));
    }
    assert!(map.files.len() > 20 * BLOCK);
    let paths: Vec<String> = map.files.keys().cloned().collect();
    let coded = Compact::from(map.clone());
    // read from JSON too: in path order (coded as read), and shuffled (gathered loose,
    // then sorted: a permutation of long cycles)
    let mut text = Vec::new();
    super::super::write_ledger(&map, &mut text).expect("text");
    let read = Compact::read(Cursor::new(&text), 0).expect("read");
    assert_eq!(read, coded);
    let n = map.files.len();
    assert_ne!(n % 7919, 0);
    let files: Vec<(&String, &Entry)> = map.files.iter().collect();
    let shuffled: Vec<String> = (0..n)
        .map(|i| files[i * 7919 % n])
        .map(|(p, e)| {
            format!(
                "{}: {}",
                serde_json::to_string(p).expect("path"),
                serde_json::to_string(e).expect("entry")
            )
        })
        .collect();
    let text = format!(r#"{{"version": 1, "files": {{{}}}}}"#, shuffled.join(", "));
    assert_eq!(Compact::read(Cursor::new(&text), 0).expect("read"), coded);
    assert_eq!(coded.len(), map.files.len());
    assert!(coded.each().eq(Owned::each(&map)));
    assert_eq!(Ledger::of(&coded).files, map.files);
    for (place, path) in paths.iter().enumerate() {
        assert_eq!(
            coded.find(path),
            Some((place, map.files[path].clone())),
            "{path:?}"
        );
    }
    // absent: before the first, between any two, after the last, and random ones
    let absent = words(11, 4000)
        .into_iter()
        .chain(map.files.keys().flat_map(|p| {
            let mut cut = p.clone();
            cut.pop();
            [
                format!("{p}\0"),
                format!("{p}a"),
                format!("{p}\u{10ffff}"),
                cut,
            ]
        }));
    for path in absent {
        assert_eq!(coded.get(&path), map.files.get(&path).cloned(), "{path:?}");
    }
    let mut marked = Marked::new(&coded);
    for place in (0..coded.len()).step_by(7) {
        marked.mark(place);
    }
    let every_seventh: Vec<String> = paths.iter().step_by(7).cloned().collect();
    assert_eq!(marked.paths().collect::<Vec<_>>(), every_seventh);
}

#[test]
fn a_path_given_twice_in_path_order_is_read_loose_and_the_later_wins() {
    let text = json(&[("a", "1"), ("b", "2"), ("b", "3"), ("c", "4")]);
    let ledger = Compact::read(Cursor::new(&text), 0).expect("ledger");
    assert_eq!(ledger.len(), 3);
    assert_eq!(ledger.get("b"), Some(entry("3")));
    let paths: Vec<String> = ledger.each().map(|(p, _)| p.into_owned()).collect();
    assert_eq!(paths, ["a", "b", "c"]);
}

#[test]
fn a_compact_ledger_of_s6_services_holds_under_45_bytes_a_file() {
    // a path in one text and a 48-byte slot a file were 65 bytes a file of these
    let files = ["finish", "log/run", "run", "timeout-finish", "timeout-kill"];
    let mut map = Ledger::default();
    for i in 0..2000 {
        for (k, file) in files.iter().enumerate() {
            let mode = if k < 3 { 0o755 } else { 0o644 };
            let e = Entry::of(Kind::File, mode, format!("{i}{file}").as_bytes());
            map.files.insert(format!("s6/svc-{i}/{file}"), e);
        }
    }
    let n = map.files.len();
    let coded = Compact::from(map);
    let held = coded.paths.len() + coded.blocks.len() * 4 + coded.hashes.len();
    assert!(held < 45 * n, "{held} bytes for {n} files");
}

/// A text that is `first` until it is read again from the start, then `second`.
struct Changing {
    now: Cursor<String>,
    second: Option<String>,
}

impl std::io::Read for Changing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.now.read(buf)
    }
}

impl std::io::Seek for Changing {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        if let Some(second) = self.second.take() {
            self.now = Cursor::new(second);
        }
        self.now.seek(to)
    }
}

#[test]
fn a_ledger_out_of_order_is_read_twice_and_must_be_the_same_both_times() {
    let first = json(&[("b", "1"), ("a", "2"), ("c", "3")]);
    let read = |second: &str| {
        let text = Changing {
            now: Cursor::new(first.clone()),
            second: Some(second.to_owned()),
        };
        Compact::read(text, 0)
    };
    let same = read(&first).expect("same");
    assert_eq!(same.get("a"), Some(entry("2")));
    for other in [
        json(&[("b", "1"), ("a", "2")]),
        json(&[("b", "1"), ("a", "2"), ("c", "3"), ("d", "4")]),
    ] {
        let e = read(&other).expect_err("changed");
        assert!(e.to_string().contains("changed while it was read"), "{e}");
    }
    // in path order, it is read once
    let sorted = json(&[("a", "2"), ("b", "1")]);
    let text = Changing {
        now: Cursor::new(sorted),
        second: Some(String::new()),
    };
    assert_eq!(Compact::read(text, 0).expect("once").len(), 2);
    // `files` twice is refused, as the map refuses it
    let twice = r#"{"version": 1, "files": {"b": 1}, "files": {}}"#;
    assert!(Compact::read(Cursor::new(twice), 0).is_err());
    let twice = r#"{"version": 1, "files": {}, "files": {}}"#;
    let e = Compact::read(Cursor::new(twice), 0).expect_err("twice");
    assert!(e.to_string().contains("duplicate field"), "{e}");
}
