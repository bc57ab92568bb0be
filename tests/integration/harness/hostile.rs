//! Values that break naive quoting, and the check that a probe received them intact. Shared
//! by the e2e tests of every backend: each must hand over exactly these argv, environment
//! and working directory, whatever its file syntax does to `$`, `%`, quotes or `;`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::WorkDir;
use super::probe::Record;

/// Arguments no shell, unit-file parser or specifier expansion may touch.
pub const ARGS: &[&str] = &[
    "",
    " ",
    "two words",
    "$HOME",
    "${PATH}",
    "$$",
    "$",
    "%h",
    "%i",
    "%%",
    "100%",
    "'single'",
    "\"double\"",
    "back\\slash",
    "trailing\\",
    "\\n is not a newline",
    ";",
    " ; not a comment",
    "#hash",
    "-",
    "--flag=value",
    "tab\there",
    "ünïcödé ✓ 中文",
    "*",
    "~",
    "`id`",
    "$(id)",
    "a&&b||c",
    "{curly}",
];

/// An environment (a JSON object for a manifest) with the same kind of values.
pub fn env() -> Value {
    json!({
        "PLAIN": "value",
        "EMPTY": "",
        "SPACES": "  leading and trailing  ",
        "DOLLAR": "$HOME ${PATH} $$",
        "PERCENT": "100% %h %i %%",
        "QUOTES": "'single' \"double\"",
        "BACKSLASH": "a\\b\\",
        "EQUALS": "a=b=c",
        "SEMI": "x ; y # z",
        "TAB": "a\tb",
        "UNICODE": "ünïcödé ✓",
        "_lower_key": "ok",
    })
}

/// A working directory under `work` whose name needs quoting; created world-readable.
pub fn dir(work: &WorkDir) -> PathBuf {
    dir_named(work, "work dir 100% $HOME 'q' \"dq\" ;#")
}

/// A working directory `name` under `work` (a syntax that cannot carry every character of
/// [`dir`] picks its own hostile name); created world-readable.
pub fn dir_named(work: &WorkDir, name: &str) -> PathBuf {
    let dir = work.join(name);
    if !dir.is_dir() {
        std::fs::create_dir(&dir).expect("mkdir hostile working dir");
        super::set_mode(&dir, 0o755);
    }
    dir
}

/// (uid, primary gid) of `user` from /etc/passwd.
pub fn passwd_ids(user: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == user)
        .map_or_else(
            || panic!("user {user} missing"),
            |f| (f[2].parse().expect("uid"), f[3].parse().expect("gid")),
        )
}

/// Assert that `rec` got exactly `program` + [`ARGS`] as argv, every variable of [`env`]
/// with its exact value, `cwd` and `user`; and no variable besides those, `PROBE_*` and the
/// ones `allowed_extra` accepts (what the init system itself adds).
pub fn assert_received(
    rec: &Record,
    program: &Path,
    cwd: &Path,
    user: &str,
    allowed_extra: impl Fn(&str) -> bool,
) {
    let mut argv = vec![program.display().to_string()];
    argv.extend(ARGS.iter().map(|a| (*a).to_owned()));
    assert_eq!(rec.argv, argv, "argv");
    let Value::Object(want) = env() else {
        unreachable!("env() is an object")
    };
    for (k, v) in &want {
        assert_eq!(
            rec.env.get(k).map(String::as_str),
            v.as_str(),
            "environment {k}"
        );
    }
    let extra: Vec<&String> = rec
        .env
        .keys()
        .filter(|k| !want.contains_key(*k) && !k.starts_with("PROBE_") && !allowed_extra(k))
        .collect();
    assert!(extra.is_empty(), "unexpected variables: {extra:?}");
    assert_eq!(Path::new(&rec.cwd), cwd, "working directory");
    assert_eq!((rec.uid, rec.gid), passwd_ids(user), "uid/gid of {user}");
    assert_eq!(rec.user.as_deref(), Some(user));
}
