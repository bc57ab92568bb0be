//! `stdout_logfile`, `stderr_logfile`, `redirect_stderr` → `logs`.

use super::super::Report;
use super::super::draft::Entry;
use super::reader::{Reader, truthy};

/// A log file value: `Ok(Some(path))`, `Ok(None)` for supervisor's own (`AUTO`), or a drop.
fn log_file(r: &Reader<'_>, key: &str, report: &mut Report) -> Option<String> {
    let v = r.get(key, report)?;
    match v.to_ascii_lowercase().as_str() {
        "auto" => None,
        "none" | "syslog" => {
            report.drop(
                r.s.place(key),
                format!("`{v}`: the output goes to the backend's own log"),
            );
            None
        }
        _ if v.starts_with('/') => Some(v),
        _ => {
            report.drop(r.s.place(key), "not an absolute path");
            None
        }
    }
}

/// `stdout_logfile`, `stderr_logfile`, `redirect_stderr` → `logs`.
pub(super) fn logs(r: &Reader<'_>, e: &mut Entry, report: &mut Report) {
    let out = log_file(r, "stdout_logfile", report);
    let redirect = r.get("redirect_stderr", report).and_then(|v| truthy(&v)) == Some(true);
    let err = if redirect {
        None
    } else {
        log_file(r, "stderr_logfile", report)
    };
    match (out, err) {
        (Some(o), err) => {
            if !redirect && err.is_none() {
                report.note(
                    r.s.place("stdout_logfile"),
                    "stderr, in supervisord's own log file, now goes to the stdout file",
                );
            }
            e.set_in("logs", "stdout", o.clone());
            if let Some(x) = err.filter(|x| *x != o) {
                e.set_in("logs", "stderr", x);
            }
        }
        (None, Some(_)) => report.drop(
            r.s.place("stderr_logfile"),
            "a stderr file without a stdout file",
        ),
        (None, None) => {}
    }
    for k in [
        "stdout_logfile_maxbytes",
        "stdout_logfile_backups",
        "stderr_logfile_maxbytes",
        "stderr_logfile_backups",
    ] {
        if r.raw(k).is_some() {
            report.note(r.s.place(k), "log rotation is the backend's own");
        }
    }
}
