//! The ledger, its store and lock.

use super::*;

/// The text [`write_ledger`] writes for `ledger`.
fn ledger_text(ledger: &Ledger) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    write_ledger(ledger, &mut out)?;
    Ok(out)
}

#[test]
fn sha256_known_value() {
    assert_eq!(
        sha256(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn ledger_round_trips_and_install_stores_live_under_var_lib() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_install(tmp.path(), "openim", "systemd");
    assert_eq!(
        store.state,
        tmp.path().join("var/lib/openim-init/openim/systemd")
    );
    let lock = store.lock(&store.state).expect("lock");
    assert_eq!(
        store.read(&lock).expect("empty"),
        Ledger {
            version: 1,
            ..Ledger::default()
        }
    );
    let mut ledger = Ledger::default();
    ledger.files.insert(
        "etc/systemd/system/a.service".into(),
        Entry::of(Kind::File, 0o644, b"x"),
    );
    ledger.files.insert(
        "etc/init.d/a.1".into(),
        Entry::of(Kind::Symlink, 0o644, b"a"),
    );
    store.write(&lock, &ledger).expect("write");
    let again = store.read(&lock).expect("read");
    assert_eq!(again.files, ledger.files);
    let text = ledger_text(&again).expect("text");
    // written as it is made, byte for byte what `ledger_text` makes
    let written = std::fs::read(store.state.join(LEDGER_FILE)).expect("ledger file");
    assert_eq!(written, ledger_text(&ledger).expect("text"));
    let value: serde_json::Value = serde_json::from_slice(&text).expect("json");
    assert_eq!(value, serde_json::to_value(&again).expect("value"));
    let empty = ledger_text(&Ledger::default()).expect("empty");
    assert_eq!(
        serde_json::from_slice::<Ledger>(&empty).expect("json"),
        Ledger::default()
    );
    assert_eq!(again.files["etc/init.d/a.1"].mode, 0o777);
}

#[test]
fn the_legacy_state_file_is_imported_then_removed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("same.service"), "one").expect("file");
    std::fs::write(dir.join("edited.service"), "changed").expect("file");
    std::os::unix::fs::symlink("same.service", dir.join("old.link")).expect("link");
    let legacy = format!(
        "# comment\nsame.service fnv1a64:{:016x}\nedited.service fnv1a64:{:016x}\n\
         old.link\ngone.service\n",
        fnv1a64(b"one"),
        fnv1a64(b"original")
    );
    std::fs::write(dir.join(LEGACY_STATE_FILE), legacy).expect("legacy");
    let store = Store::for_out_dir(dir);
    let lock = store.lock(dir).expect("lock");
    let ledger = store.read(&lock).expect("read");
    assert_eq!(
        ledger.files["same.service"],
        Entry::of(Kind::File, 0o644, b"one")
    );
    assert_eq!(
        ledger.files["edited.service"].sha256,
        "edited-since-written"
    );
    assert_eq!(ledger.files["old.link"].kind, Kind::Symlink);
    assert!(!ledger.files.contains_key("gone.service"));
    store.write(&lock, &ledger).expect("write");
    assert!(!dir.join(LEGACY_STATE_FILE).exists());
    assert_eq!(store.read(&lock).expect("read").files, ledger.files);
}

#[test]
fn the_lock_excludes_a_second_run_until_dropped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    let lock = store.lock(tmp.path()).expect("lock");
    let other = File::open(tmp.path()).expect("open");
    assert!(matches!(
        other.try_lock(),
        Err(std::fs::TryLockError::WouldBlock)
    ));
    drop(lock);
    assert!(other.try_lock().is_ok());
}

#[test]
fn a_ledger_that_is_a_symlink_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    std::fs::create_dir(&store.state).expect("state");
    std::os::unix::fs::symlink("/etc/passwd", store.state.join(LEDGER_FILE)).expect("ln");
    let lock = store.lock(tmp.path()).expect("lock");
    let err = store.read(&lock).expect_err("refused");
    assert!(err.downcast_ref::<UsageError>().is_some(), "{err:#}");
}

/// A ledger larger than the write buffer is written whole, streamed; a write that fails
/// partway leaves the old ledger file as it was.
#[test]
fn a_large_ledger_is_streamed_and_a_failed_write_keeps_the_old_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::for_out_dir(tmp.path());
    let lock = store.lock(tmp.path()).expect("lock");
    let mut ledger = Ledger::default();
    for i in 0..5000 {
        ledger.files.insert(
            format!("s6/svc-{i}/log/run"),
            Entry::of(Kind::File, 0o755, i.to_string().as_bytes()),
        );
    }
    store.write(&lock, &ledger).expect("write");
    let path = store.state.join(LEDGER_FILE);
    let before = std::fs::read(&path).expect("ledger file");
    assert!(before.len() > 1 << 16, "{}", before.len());
    assert_eq!(before, ledger_text(&ledger).expect("text"));
    assert_eq!(store.read(&lock).expect("read").files, ledger.files);
    let failed = store.write_with(&lock, |w| {
        w.write_all(b"{\"version\": 1, \"fi")?;
        anyhow::bail!("cut short")
    });
    assert!(failed.is_err());
    assert_eq!(std::fs::read(&path).expect("ledger file"), before);
    let names: Vec<_> = std::fs::read_dir(&store.state)
        .expect("state dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.to_string_lossy().starts_with(fsops::TEMP_PREFIX)),
        "{names:?}"
    );
}

#[test]
fn a_ledger_out_of_order_or_with_a_path_twice_reads_as_before() {
    let entry = |c: &str| {
        let e = Entry::of(Kind::File, 0o644, c.as_bytes());
        format!(r#"{{"kind":"file","mode":420,"sha256":"{}"}}"#, e.sha256)
    };
    // hand-edited: not in path order, and `b` twice (the later one counts, as serde's map)
    let text = format!(
        r#"{{"version":1,"files":{{"c":{},"b":{},"a":{},"b":{}}}}}"#,
        entry("c"),
        entry("old"),
        entry("a"),
        entry("new")
    );
    let ledger: Ledger = serde_json::from_str(&text).expect("ledger");
    let paths: Vec<&str> = ledger.files.keys().map(String::as_str).collect();
    assert_eq!(paths, ["a", "b", "c"]);
    assert_eq!(ledger.files["b"], Entry::of(Kind::File, 0o644, b"new"));
    assert_eq!(ledger.files["c"], Entry::of(Kind::File, 0o644, b"c"));
    let bad = r#"{"version":1,"files":{"a":{"kind":"dir","mode":1,"sha256":"x"}}}"#;
    assert!(serde_json::from_str::<Ledger>(bad).is_err());
}

#[test]
fn a_large_ledger_out_of_order_reads_whole_and_the_later_of_a_path_twice_wins() {
    // more entries than one slice of the reader, in no order, with a path given again far
    // after its first time (in another slice)
    let n = 20_000;
    let mut files = Vec::new();
    for i in (0..n).rev() {
        let e = Entry::of(Kind::File, 0o644, format!("{i}").as_bytes());
        files.push(format!(
            r#""f/{i}":{{"kind":"file","mode":420,"sha256":"{}"}}"#,
            e.sha256
        ));
    }
    let twice = Entry::of(Kind::File, 0o600, b"again");
    files.push(format!(
        r#""f/{}":{{"kind":"file","mode":384,"sha256":"{}"}}"#,
        n - 1,
        twice.sha256
    ));
    let text = format!(r#"{{"version":1,"files":{{{}}}}}"#, files.join(","));
    let ledger: Ledger = serde_json::from_str(&text).expect("ledger");
    assert_eq!(ledger.files.len(), n);
    assert!(ledger.files.keys().is_sorted());
    assert_eq!(ledger.files[&format!("f/{}", n - 1)], twice);
    assert_eq!(ledger.files["f/0"], Entry::of(Kind::File, 0o644, b"0"));
    assert_eq!(
        ledger.files["f/4097"],
        Entry::of(Kind::File, 0o644, b"4097")
    );
}
