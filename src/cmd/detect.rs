//! `openim-init detect [--json]`: which init system runs here, on what evidence, and which
//! backend to use. (To move under `src/cmd/` with the other commands.)

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::cli::DetectArgs;
use crate::lifecycle::detect::{self, DEFAULT_CONFS, Detection};

/// Detect on this machine (or under `--fs-root`) with the configurations to probe.
#[must_use]
pub fn detect_here(fs_root: Option<&Path>, supervisord_conf: Option<&Path>) -> Detection {
    let conf = supervisord_conf.map(|p| p.display().to_string());
    let confs: Vec<&str> = match &conf {
        Some(c) => vec![c.as_str()],
        None => DEFAULT_CONFS.to_vec(),
    };
    let root = fs_root.unwrap_or(Path::new("/"));
    detect::decide(&detect::gather(root, std::env::consts::OS, &confs))
}

/// One line: what runs and which backend to use (for `backends`).
#[must_use]
pub fn verdict(d: &Detection) -> String {
    let running: Vec<&str> = d.running.iter().map(|r| r.system.name()).collect();
    match d.recommended {
        Some(s) => format!(
            "running: {} → `--backend {}` (details: `openim-init detect`)",
            running.join(", "),
            s.name()
        ),
        None => format!(
            "no init system running{} (details: `openim-init detect`)",
            if d.container {
                " in this container"
            } else {
                ""
            }
        ),
    }
}

/// The report for people.
#[must_use]
pub fn render(d: &Detection) -> String {
    let mut out = String::new();
    if d.running.is_empty() {
        out.push_str("running: no init system openim-init can drive\n");
    }
    for (i, r) in d.running.iter().enumerate() {
        let label = if i == 0 { "running:" } else { "        " };
        let _ = writeln!(out, "{label} {} ({})", r.system.name(), r.because);
    }
    match d.recommended {
        Some(s) => {
            let _ = writeln!(out, "use:     --backend {}", s.name());
        }
        None => out.push_str("use:     (none detected; see the note)\n"),
    }
    let e = &d.evidence;
    let yes_no = |b: bool| if b { "present" } else { "absent" };
    let _ = writeln!(out, "\nevidence:");
    let _ = writeln!(out, "  os: {}", e.os);
    let _ = writeln!(
        out,
        "  PID 1: {} (exe: {})",
        e.pid1_comm.as_deref().unwrap_or("unknown"),
        e.pid1_exe.as_deref().unwrap_or("unreadable")
    );
    let _ = writeln!(
        out,
        "  /run/systemd/system: {}",
        yes_no(e.run_systemd_system)
    );
    let _ = writeln!(
        out,
        "  /run/openrc/softlevel: {}",
        yes_no(e.openrc_softlevel)
    );
    let procs = if e.supervisors.is_empty() {
        "none".to_owned()
    } else {
        e.supervisors.join(", ")
    };
    let _ = writeln!(out, "  supervisor processes: {procs}");
    for p in &e.supervisord {
        let socket = if p.socket.is_empty() {
            "no [unix_http_server] file"
        } else {
            &p.socket
        };
        let state = if p.reachable {
            "answers"
        } else {
            "not answering"
        };
        let _ = writeln!(out, "  supervisord: {} → {socket} ({state})", p.conf);
    }
    let container = if e.container.is_empty() {
        "no".to_owned()
    } else {
        format!("yes ({})", e.container.join(", "))
    };
    let _ = writeln!(out, "  container: {container}");
    for n in &d.notes {
        let _ = writeln!(out, "\nnote: {n}");
    }
    out
}

/// Run `detect`.
///
/// # Errors
/// Writing the JSON fails.
pub fn run(args: &DetectArgs) -> Result<()> {
    let d = detect_here(args.fs_root.as_deref(), args.supervisord_conf.as_deref());
    if args.json {
        crate::stdout::line(serde_json::to_string_pretty(&d)?)?;
    } else {
        crate::stdout::write_str(&render(&d))?;
    }
    Ok(())
}
