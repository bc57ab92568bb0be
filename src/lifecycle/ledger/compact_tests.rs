//! The compact ledger and its marks.

use super::super::{Kind, Ledger, Owned, Store};
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
    let compact = Compact::read(text.as_bytes(), text.len() as u64).expect("compact");
    assert_eq!(compact.len(), 3000);
    assert!(compact.each().eq(Owned::each(&map)));
    assert_eq!(Ledger::of(&compact), map);
    assert_eq!(compact.get("sv/s5/run"), Some(&entry("again")));
    for k in (0..3000).step_by(37) {
        let path = format!("sv/s{k}/run");
        assert_eq!(compact.get(&path), Some(&entry(&format!("third{k}"))));
    }
    let (place, e) = compact.find("sv/s17/run").expect("there");
    assert_eq!(e, &map.files["sv/s17/run"]);
    let mut marked = Marked::new(&compact);
    marked.mark(place);
    assert_eq!(marked.paths().collect::<Vec<_>>(), ["sv/s17/run"]);
    assert_eq!(compact.get("sv/s17"), None);
    assert_eq!(compact.get("sv/s3000/run"), None);
    assert_eq!(Compact::from(map.clone()), compact);
    let empty = Compact::read(&b"{\"version\":1,\"files\":{}}"[..], 0).expect("empty");
    assert!(empty.is_empty());
    for bad in [
        &b"{\"version\":1}"[..],
        b"{\"files\":{\"a\":1}}",
        b"[]",
        b"{} x",
    ] {
        assert!(
            Compact::read(bad, 0).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn marks_are_a_bit_a_file_and_give_their_paths_in_path_order() {
    let text = json(&[("c", "1"), ("a", "2"), ("b", "3"), ("d", "4")]);
    let ledger = Compact::read(text.as_bytes(), 0).expect("ledger");
    let mut marked = Marked::new(&ledger);
    assert!(marked.is_empty());
    for path in ["d", "b", "d"] {
        let (place, _) = ledger.find(path).expect("there");
        marked.mark(place);
    }
    assert_eq!(marked.len(), 2);
    assert!(marked.has("b") && marked.has("d"));
    assert!(!marked.has("a") && !marked.has("e"));
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
    assert_eq!(compact.get("c"), Some(&entry("legacy\n")));
    assert_eq!(Ledger::of(&compact), store.read(&lock).expect("map"));
}
