use super::*;
use crate::lifecycle::ledger::{ContentHash, Kind};

#[test]
fn a_piece_is_spilled_before_it_grows_and_each_record_is_as_long_as_said() {
    let mut runs = Runs::new(tempfile::tempfile().expect("file"));
    let mut odd = Entry::of(Kind::File, 0o644, b"x");
    odd.sha256 = ContentHash::other("edited-since-written");
    for i in 0..20_000 {
        let (entry, target) = match i % 3 {
            0 => (Entry::of(Kind::Symlink, 0, b"t"), Some("../t")),
            1 => (odd.clone(), None),
            _ => (Entry::of(Kind::File, 0o755, b"run"), None),
        };
        let path = format!("svc-{i}/run");
        let mut one = Vec::new();
        encode(&mut one, &path, &entry, target);
        assert_eq!(one.len(), encoded_len(&path, &entry, target));
        assert_eq!(record_len(&one), one.len());
        let read = Record::read(&mut one.as_slice())
            .expect("read")
            .expect("one");
        assert_eq!((read.path.as_str(), &read.entry), (path.as_str(), &entry));
        assert_eq!(read.target.as_deref(), target);
        runs.add(&path, &entry, target).expect("added");
        assert_eq!(runs.piece.capacity(), PIECE_BYTES, "never grown");
    }
    let sealed = runs.seal().expect("sealed");
    assert!(sealed.count() > 5, "{} runs", sealed.count());
    let mut merge = sealed.merge().expect("merge");
    let mut last = String::new();
    let mut count = 0;
    while let Some(record) = merge.next().expect("read") {
        assert!(record.path > last, "{} after {last}", record.path);
        assert_eq!(record.target.is_some(), record.entry.kind == Kind::Symlink);
        last = record.path;
        count += 1;
    }
    assert_eq!(count, 20_000);
}
