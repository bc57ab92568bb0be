//! The compact ledger and its marks.

use super::super::{ContentHash, Kind, Ledger, Owned, Store};
use std::fmt::Write as _;
use std::io::Write as _;

use super::*;

fn entry(text: &str) -> Entry {
    Entry::of(Kind::File, 0o644, text.as_bytes())
}

/// A file holding `text`.
fn file(text: impl AsRef<[u8]>) -> std::fs::File {
    let mut file = tempfile::tempfile().expect("tempfile");
    file.write_all(text.as_ref()).expect("write");
    file
}

/// The ledger `text` holds, read from a file.
fn read(text: impl AsRef<[u8]>) -> serde_json::Result<Compact> {
    let len = text.as_ref().len() as u64;
    Compact::read(file(text), len)
}

/// The entry of `path`, read again.
fn get(ledger: &Compact, path: &str) -> Option<Entry> {
    ledger.get(path).expect("read again")
}

/// Every path and entry, read again.
fn each(ledger: &dyn Owned) -> Vec<(String, Entry)> {
    let files = ledger.each().map(|f| f.map(|(p, e)| (p.into_owned(), e)));
    files.collect::<std::io::Result<_>>().expect("read again")
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
    let compact = read(&text).expect("compact");
    assert_eq!(compact.len(), 3000);
    assert_eq!(each(&compact), each(&map));
    assert_eq!(Ledger::of(&compact).expect("ledger"), map);
    assert_eq!(get(&compact, "sv/s5/run"), Some(entry("again")));
    for k in (0..3000).step_by(37) {
        let path = format!("sv/s{k}/run");
        assert_eq!(get(&compact, &path), Some(entry(&format!("third{k}"))));
    }
    let (place, e) = compact.find("sv/s17/run").expect("read").expect("there");
    assert_eq!(e, map.files["sv/s17/run"]);
    assert_eq!(compact.place("sv/s17/run"), Some(place));
    let mut marked = Marked::new(&compact);
    marked.mark(place);
    assert_eq!(marked.paths().collect::<Vec<_>>(), ["sv/s17/run"]);
    assert_eq!(get(&compact, "sv/s17"), None);
    assert_eq!(get(&compact, "sv/s3000/run"), None);
    assert_eq!(compact.place("sv/s3000/run"), None);
    assert_eq!(Compact::from(map.clone()), compact);
    let empty = read(b"{\"version\":1,\"files\":{}}").expect("empty");
    assert!(empty.is_empty());
    for bad in [
        &b"{\"version\":1}"[..],
        b"{\"files\":{\"a\":1}}",
        b"[]",
        b"{} x",
    ] {
        assert!(read(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn marks_are_a_bit_a_file_and_give_their_paths_in_path_order() {
    let text = json(&[("c", "1"), ("a", "2"), ("b", "3"), ("d", "4")]);
    let ledger = read(&text).expect("ledger");
    let mut marked = Marked::new(&ledger);
    assert!(marked.is_empty());
    for path in ["d", "b", "d"] {
        marked.mark(ledger.place(path).expect("there"));
    }
    assert_eq!(marked.len(), 2);
    let place = |path| ledger.place(path).expect("there");
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
    assert_eq!(Ledger::of(&compact).expect("ledger").files, ledger.files);
    // the legacy state file is imported through the map, as `read` does
    std::fs::write(tmp.path().join("c"), "legacy\n").expect("c");
    std::fs::write(tmp.path().join(super::super::LEGACY_STATE_FILE), "c\n").expect("legacy");
    let compact = store.read_compact(&lock).expect("read");
    assert_eq!(get(&compact, "c"), Some(entry("legacy\n")));
    assert_eq!(
        Ledger::of(&compact).expect("ledger"),
        store.read(&lock).expect("map")
    );
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
    assert_eq!(read(&text).expect("read"), coded);
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
    let shuffled = read(&text).expect("read");
    assert_eq!(shuffled, coded);
    assert_eq!(coded.len(), map.files.len());
    assert_eq!(each(&coded), each(&map));
    assert_eq!(Ledger::of(&coded).expect("ledger").files, map.files);
    for (place, path) in paths.iter().enumerate() {
        let want = Some((place, map.files[path].clone()));
        assert_eq!(coded.find(path).expect("held"), want, "{path:?}");
        assert_eq!(shuffled.find(path).expect("read"), want, "{path:?}");
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
        assert_eq!(
            get(&coded, &path),
            map.files.get(&path).cloned(),
            "{path:?}"
        );
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
    let ledger = read(&text).expect("ledger");
    assert_eq!(ledger.len(), 3);
    assert_eq!(get(&ledger, "b"), Some(entry("3")));
    let paths: Vec<String> = each(&ledger).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["a", "b", "c"]);
}

#[test]
fn a_compact_ledger_read_from_its_file_holds_under_17_bytes_a_file_of_s6() {
    // a path in one text and a 48-byte slot a file were 65 bytes a file of these; with
    // the hashes held, 45
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
    let mut text = Vec::new();
    super::super::write_ledger(&map, &mut text).expect("text");
    let ledger = read(&text).expect("read");
    let hashes = match &ledger.hashes {
        Hashes::Held(hashes) => hashes.len(),
        Hashes::InFile(file) => file.len() * 4,
    };
    let held = ledger.paths.len() + ledger.blocks.len() * 4 + hashes;
    assert!(held < 17 * n, "{held} bytes for {n} files");
    assert!(Ledger::of(&ledger).expect("ledger").files == map.files);
}

#[test]
fn entries_are_read_again_however_they_are_written_and_a_changed_file_is_an_error() {
    // blanks anywhere, fields in any order, a text that is no digest, an entry longer than
    // what is read at a time, one cut by the end of what was read
    let long = "x".repeat(3 * in_file::WINDOW);
    let mut text = String::from("{\"files\": {\n");
    for i in 0..400 {
        let pad = " ".repeat(i % 13);
        let hash = if i % 50 == 7 {
            long.clone()
        } else {
            format!("{i}")
        };
        let _ = writeln!(
            text,
            "\"p{i:03}\"{pad}:{pad}{{ \"sha256\" : \"{hash}\", \"mode\": {i}, \"kind\": \"file\" }},"
        );
    }
    text.push_str("\"q\": {\"kind\":\"symlink\",\"mode\":511,\"sha256\":\"t\"}}, \"version\": 1}");
    let map: Ledger = serde_json::from_str(&text).expect("map");
    let ledger = read(&text).expect("read");
    assert_eq!(each(&ledger), each(&map));
    for (path, e) in &map.files {
        assert_eq!(get(&ledger, path).as_ref(), Some(e), "{path}");
    }
    // the file read is kept: written over in place (not replaced, as a ledger is), its
    // entries are no longer the ones read
    let other = text.replace("\"mode\": 3,", "\"mode\": 4,");
    assert_eq!(other.len(), text.len());
    let kept = Compact::read(file(&text), 0).expect("read");
    let Hashes::InFile(in_file) = &kept.hashes else {
        panic!("held");
    };
    in_file.write_over(other.as_bytes());
    let e = kept.get("p003").expect_err("changed");
    assert!(e.to_string().contains("changed since it was read"), "{e}");
    assert!(kept.each().any(|f| f.is_err()));
    assert_eq!(get(&kept, "p004"), map.files.get("p004").cloned());
    in_file.write_over(b"{}");
    let e = kept.get("q").expect_err("shorter");
    assert!(e.to_string().contains("changed since it was read"), "{e}");
}
