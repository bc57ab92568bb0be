//! The ledger's plain form: recognised exactly where writing the ledger again would give
//! the same bytes.

use std::collections::BTreeMap;
use std::io::Write as _;

use proptest::prelude::*;

use super::{CHUNK, LEDGER_MODE, canonical};
use crate::lifecycle::ledger::{
    ContentHash, Entry, Kind, LEDGER_FILE, LEGACY_STATE_FILE, Ledger, Store, write_ledger,
};

/// The text [`write_ledger`] writes for version 1 of `files`.
fn written(files: &BTreeMap<String, Entry>) -> Vec<u8> {
    let ledger = Ledger {
        version: 1,
        files: files.clone(),
    };
    let mut out = Vec::new();
    write_ledger(&ledger, &mut out).expect("written");
    out
}

/// Whether a file holding `text` is in the plain form, read `chunk` bytes at a time.
fn plain(text: &[u8], chunk: usize) -> bool {
    let mut file = tempfile::tempfile().expect("tmp");
    file.write_all(text).expect("write");
    canonical(&file, chunk).expect("read")
}

/// A ledger of `n` files and links, of two modes.
fn files(n: usize) -> BTreeMap<String, Entry> {
    (0..n)
        .map(|i| {
            let kind = if i % 3 == 0 {
                Kind::Symlink
            } else {
                Kind::File
            };
            let mode = if i % 2 == 0 { 0o644 } else { 0o755 };
            let entry = Entry::of(kind, mode, &i.to_le_bytes());
            (format!("s6/svc-{i}/run"), entry)
        })
        .collect()
}

fn entries() -> impl Strategy<Value = BTreeMap<String, Entry>> {
    let entry = (any::<bool>(), any::<u32>(), any::<[u8; 32]>(), 0..8u8).prop_map(
        |(link, mode, digest, other)| Entry {
            kind: if link { Kind::Symlink } else { Kind::File },
            mode,
            sha256: if other == 0 {
                ContentHash::other("edited-since-written")
            } else {
                ContentHash::Sha256(digest)
            },
        },
    );
    // mostly plain paths, some with what JSON escapes
    proptest::collection::btree_map(
        "[a-z0-9/._é日 -]{1,12}|[a-z\"\\\\\u{1}\n]{1,4}",
        entry,
        0..20,
    )
}

proptest! {
    /// A ledger as written is recognised, whatever the chunk, unless it has a path JSON
    /// escapes or a hash not in hex (then it is written again, as always).
    #[test]
    fn a_ledger_as_written_is_recognised_unless_escaped(files in entries()) {
        let text = written(&files);
        let escaped = files.keys().any(|p| p.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
        let other = files.values().any(|e| matches!(e.sha256, ContentHash::Other(_)));
        for chunk in [200, 257, CHUNK] {
            prop_assert_eq!(plain(&text, chunk), !escaped && !other, "chunk {}", chunk);
        }
    }

    /// Whatever a byte changed, inserted or removed: a text recognised is the text its
    /// ledger is written as again.
    #[test]
    fn a_text_recognised_is_written_again_as_it_is(
        files in entries(),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b" \n\",:{}01239aefAF\\/-_\x7f".to_vec()),
        how in 0..3u8,
    ) {
        let mut text = written(&files);
        let i = at.index(text.len());
        match how {
            0 => text[i] = byte,
            1 => text.insert(i, byte),
            _ => drop(text.remove(i)),
        }
        if plain(&text, CHUNK) {
            let ledger: Ledger = serde_json::from_slice(&text).expect("a ledger");
            prop_assert_eq!(written(&ledger.files), text);
        }
    }
}

#[test]
fn every_other_form_is_not_recognised() {
    let files = files(5);
    let text = String::from_utf8(written(&files)).expect("utf-8");
    assert!(plain(text.as_bytes(), CHUNK));
    assert!(plain(&written(&BTreeMap::new()), CHUNK));
    // out of path order (as a new tree's ledger lists its files), and a path twice
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(3, 4);
    let reordered = format!("{}\n", lines.join("\n"));
    let duplicated = text.replacen("svc-1/", "svc-0/", 1);
    let others = [
        reordered,
        duplicated,
        text.replace("\"version\": 1", "\"version\": 2"),
        text.replace("  \"files\"", "  \"extra\": 0,\n  \"files\""),
        text.replacen(":\"file\",", ": \"file\",", 1),
        text.replacen("\"mode\":420", "\"mode\":0420", 1),
        text.replacen("\"mode\":420", "\"mode\":4294967296", 1),
        text.replacen(
            "\"kind\":\"file\",\"mode\":420",
            "\"mode\":420,\"kind\":\"file\"",
            1,
        ),
        text.replacen("\"sha256\":\"", "\"sha256\":\"A", 1),
        text.replacen("svc-1", "svc\\u002d1", 1),
        text.replacen("svc-1", "svc\\/1", 1),
        text.trim_end().to_owned(),
        format!("{text}\n"),
        format!("{text}x"),
        text.replace("\n    ", "\n\t"),
        "{\n  \"version\": 1,\n  \"files\": {\n  }\n}\n".to_owned(),
        String::new(),
    ];
    for other in others {
        assert_ne!(other, text, "a form not changed");
        assert!(!plain(other.as_bytes(), CHUNK), "{other}");
    }
    // a line longer than the chunk is not recognised (nor is any text after it)
    assert!(!plain(text.as_bytes(), 40));
}

#[test]
fn a_legacy_state_file_or_another_mode_means_the_ledger_is_written_again() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    let lock = store.lock(tmp.path()).expect("lock");
    assert!(!store.is_canonical(&lock), "no ledger yet");
    let ledger = Ledger {
        version: 1,
        files: files(3),
    };
    store.write(&lock, &ledger).expect("write");
    assert!(store.is_canonical(&lock));
    let path = store.state.join(LEDGER_FILE);
    let mode = |m| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).expect("chmod");
    };
    mode(0o600);
    assert!(!store.is_canonical(&lock));
    mode(LEDGER_MODE);
    std::fs::write(tmp.path().join(LEGACY_STATE_FILE), "a.service\n").expect("legacy");
    assert!(!store.is_canonical(&lock));
    std::fs::remove_file(tmp.path().join(LEGACY_STATE_FILE)).expect("rm");
    assert!(store.is_canonical(&lock));
    // a link to a ledger in the form is not a ledger written by a run
    let elsewhere = tmp.path().join("elsewhere.json");
    std::fs::rename(&path, &elsewhere).expect("mv");
    std::os::unix::fs::symlink(&elsewhere, &path).expect("ln");
    assert!(!store.is_canonical(&lock));
}
