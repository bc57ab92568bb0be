use super::bytes::{put_text, take_text, take_u32};
use super::*;

/// The payload of record `i`: its number, then a text as long as its number says.
fn payload(i: u32) -> Vec<u8> {
    let mut out = i.to_le_bytes().to_vec();
    put_text(&mut out, &"x".repeat(i as usize % 7));
    out
}

#[test]
fn a_piece_is_spilled_before_it_grows_and_records_come_back_in_path_order_whole() {
    let mut runs = Runs::new(tempfile::tempfile().expect("file"));
    for i in 0..20_000u32 {
        // added out of order
        let n = (i * 7919) % 20_000;
        runs.add(&format!("svc-{n}/run"), &payload(n))
            .expect("added");
        assert_eq!(runs.piece.capacity(), PIECE_BYTES, "never grown");
    }
    assert!(runs.contains("svc-19999/run").expect("looked"));
    assert!(!runs.contains("svc-20000/run").expect("looked"));
    let sealed = runs.seal().expect("sealed");
    assert!(sealed.count() > 2, "{} runs", sealed.count());
    let mut merge = sealed.merge().expect("merge");
    let mut last = String::new();
    let mut count = 0;
    while let Some((path, bytes)) = merge.next_record().expect("read") {
        assert!(path > last, "{path} after {last}");
        let mut from = bytes.as_slice();
        let n = take_u32(&mut from).expect("number");
        assert_eq!(path, format!("svc-{n}/run"));
        assert_eq!(
            take_text(&mut from).expect("text"),
            "x".repeat(n as usize % 7)
        );
        assert!(from.is_empty());
        last = path;
        count += 1;
    }
    assert_eq!(count, 20_000);
}

#[test]
fn of_a_path_added_twice_the_later_is_kept_and_a_large_record_has_a_piece_of_its_own() {
    let mut runs = Runs::new(tempfile::tempfile().expect("file"));
    let large = vec![7u8; PIECE_BYTES + 10];
    runs.add("b", b"first").expect("added");
    runs.add("a", &large).expect("added");
    runs.add("b", b"second").expect("added");
    let sealed = runs.seal().expect("sealed");
    let mut merge = sealed.merge().expect("merge");
    let mut got = Vec::new();
    while let Some(record) = merge.next_record().expect("read") {
        got.push(record);
    }
    assert_eq!(
        got,
        vec![("a".into(), large), ("b".into(), b"second".to_vec())]
    );
}
