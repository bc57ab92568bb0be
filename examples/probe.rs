//! `probe`: a stand-in service for the end-to-end tests under real init systems.
//!
//! Every start appends one JSON line to the file named by `PROBE_RECORD` (an environment
//! variable, so that every argv element stays data under the test's control). The line
//! holds what the init system really handed over: argv (including argv[0]), the whole
//! environment, cwd, uid/gid/user, pid/ppid, wall-clock nanoseconds and /proc/uptime.
//!
//! Behaviour, all from the environment:
//! - `PROBE_LABEL=text`          copied into every record.
//! - `PROBE_REQUIRE=host:port`   connect first; `require_ok` is recorded, and the probe
//!   exits 1 when the port did not answer (proves start ordering).
//! - `PROBE_CRASH=1`             abort (SIGABRT) right after recording.
//! - `PROBE_EXIT=code`           exit with `code` right after recording …
//! - `PROBE_EXIT_AFTER=ms`       … or after `ms` milliseconds (code `PROBE_EXIT`, default 0).
//! - `PROBE_LISTEN_DELAY=ms`     wait this long before listening (a slow-starting service).
//! - `PROBE_LISTEN=host:port`    listen on TCP, accept and close connections; a second
//!   record with `"event":"listen"` is appended once the port is bound.
//! - `PROBE_ON_SIGTERM_EXIT=n`   exit with status `n` on SIGTERM (OpenIM exits 255).
//!
//! Without any of these the probe sleeps until it is killed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::fs::OpenOptionsExt as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One JSON line of the record file.
#[derive(Serialize)]
struct Record {
    event: &'static str,
    label: String,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: String,
    uid: u32,
    gid: u32,
    user: Option<String>,
    pid: u32,
    ppid: u32,
    unix_nanos: u64,
    uptime_secs: f64,
    require_ok: Option<bool>,
}

#[allow(clippy::needless_pass_by_value)] // used as a `map` argument over owned OsStrings
fn lossy(s: std::ffi::OsString) -> String {
    s.to_string_lossy().into_owned()
}

/// The user name of `uid` from /etc/passwd (no NSS: enough for the local users tests use).
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
}

fn uptime_secs() -> f64 {
    std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(-1.0)
}

fn record(event: &'static str, require_ok: Option<bool>) -> Record {
    let unix_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    Record {
        event,
        label: std::env::var("PROBE_LABEL").unwrap_or_default(),
        argv: std::env::args_os().map(lossy).collect(),
        env: std::env::vars_os()
            .map(|(k, v)| (lossy(k), lossy(v)))
            .collect(),
        cwd: std::env::current_dir().map_or_else(|e| format!("<error: {e}>"), |p| lossy(p.into())),
        uid,
        gid,
        user: user_name(uid),
        pid: std::process::id(),
        ppid: std::os::unix::process::parent_id(),
        unix_nanos,
        uptime_secs: uptime_secs(),
        require_ok,
    }
}

/// Append one line with a single write, so concurrent probes never interleave.
fn append(path: &std::path::Path, rec: &Record) {
    let mut line = serde_json::to_string(rec).expect("a record serialises");
    line.push('\n');
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o666)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("probe: cannot append to {}: {e}", path.display());
        std::process::exit(70);
    }
}

fn env_num<T: std::str::FromStr>(key: &str) -> Option<T> {
    let text = std::env::var(key).ok()?;
    if let Ok(v) = text.parse() {
        Some(v)
    } else {
        eprintln!("probe: {key}={text:?} is not a number");
        std::process::exit(64);
    }
}

fn connectable(addr: &str) -> bool {
    addr.to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
    })
}

static SIGTERM_EXIT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_sigterm(_: libc::c_int) {
    // SAFETY: _exit and an atomic load are async-signal-safe.
    unsafe { libc::_exit(SIGTERM_EXIT.load(Ordering::Relaxed)) }
}

fn exit_on_sigterm(code: i32) {
    SIGTERM_EXIT.store(code, Ordering::Relaxed);
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is well-formed.
    let rc = unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigterm as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&raw mut sa.sa_mask);
        libc::sigaction(libc::SIGTERM, &raw const sa, std::ptr::null_mut())
    };
    assert_eq!(rc, 0, "sigaction(SIGTERM) failed");
}

fn main() {
    let Some(path) = std::env::var_os("PROBE_RECORD").map(std::path::PathBuf::from) else {
        eprintln!("probe: PROBE_RECORD (the record file) is not set");
        std::process::exit(64);
    };
    if let Some(code) = env_num::<i32>("PROBE_ON_SIGTERM_EXIT") {
        exit_on_sigterm(code);
    }
    let require = std::env::var("PROBE_REQUIRE").ok();
    let require_ok = require.as_deref().map(connectable);
    append(&path, &record("start", require_ok));
    if require_ok == Some(false) {
        eprintln!(
            "probe: required port {} does not answer",
            require.unwrap_or_default()
        );
        std::process::exit(1);
    }
    if std::env::var("PROBE_CRASH").is_ok_and(|v| v == "1") {
        std::process::abort();
    }
    let code = env_num::<i32>("PROBE_EXIT");
    match (env_num::<u64>("PROBE_EXIT_AFTER"), code) {
        (Some(ms), code) => {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(ms));
                std::process::exit(code.unwrap_or(0));
            });
        }
        (None, Some(code)) => std::process::exit(code),
        (None, None) => {}
    }
    if let Some(ms) = env_num::<u64>("PROBE_LISTEN_DELAY") {
        std::thread::sleep(Duration::from_millis(ms));
    }
    if let Ok(addr) = std::env::var("PROBE_LISTEN") {
        let listener = TcpListener::bind(&addr).unwrap_or_else(|e| {
            eprintln!("probe: cannot listen on {addr}: {e}");
            std::process::exit(71);
        });
        append(&path, &record("listen", require_ok));
        for conn in listener.incoming() {
            drop(conn);
        }
    }
    loop {
        std::thread::park();
    }
}
