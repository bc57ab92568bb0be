//! The status table for people: one row per process (instances separate), then the
//! externals; colour only when asked for (a terminal without `NO_COLOR`).

use std::fmt::Write as _;

use super::{Health, Report, State};

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn state_colour(s: State) -> &'static str {
    match s {
        State::Running => "32",
        State::Starting | State::Stopping => "33",
        State::Failed => "31",
        State::Stopped | State::NotInstalled => "2",
    }
}

/// `3725` → `1h02m`, `65` → `1m05s`, `7` → `7s`; days as `2d03h`.
#[must_use]
pub fn duration(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// The table of `report`, with ANSI colours when `colour`.
#[must_use]
pub fn table(report: &Report, colour: bool) -> String {
    let dash = || "-".to_owned();
    let rows: Vec<[String; 6]> = report
        .processes
        .iter()
        .map(|p| {
            [
                p.unit.clone(),
                p.state.word().to_owned(),
                p.pid.map_or_else(dash, |v| v.to_string()),
                p.uptime_s.map_or_else(dash, duration),
                p.restarts.map_or_else(dash, |v| v.to_string()),
                match p.health {
                    Health::Ok => "ok",
                    Health::Failing => "failing",
                    Health::None => "-",
                }
                .to_owned(),
            ]
        })
        .collect();
    let head = ["UNIT", "STATE", "PID", "UPTIME", "RESTARTS", "HEALTH"];
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "stack {} ({})", report.stack, report.backend);
    let line = |cells: &[String], out: &mut String, p: Option<(State, Health)>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&width).enumerate() {
            let pad = format!("{cell:<w$}");
            let shown = match (i, p) {
                (1, Some((s, _))) => paint(&pad, state_colour(s), colour),
                (5, Some((_, Health::Failing))) => paint(&pad, "31", colour),
                (5, Some((_, Health::Ok))) => paint(&pad, "32", colour),
                _ => pad,
            };
            text.push_str(&shown);
            text.push_str("  ");
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    let head: Vec<String> = head.iter().map(|h| (*h).to_owned()).collect();
    line(&head, &mut out, None);
    for (r, p) in rows.iter().zip(&report.processes) {
        line(r, &mut out, Some((p.state, p.health)));
    }
    for e in &report.externals {
        let word = if e.reachable {
            paint("reachable", "32", colour)
        } else {
            paint("unreachable", "31", colour)
        };
        let _ = writeln!(out, "external {}: {word}", e.name);
    }
    let well = report.all_well();
    let total = report.processes.len();
    let up = report
        .processes
        .iter()
        .filter(|p| p.state == State::Running)
        .count();
    let _ = writeln!(
        out,
        "{up}/{total} running{}",
        if well {
            ""
        } else {
            "; not all running and healthy"
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::status::{ExternalStatus, ProcessStatus};

    #[test]
    fn the_table_is_aligned_and_coloured_only_when_asked() {
        let p = |unit: &str, state, health| ProcessStatus {
            unit: unit.into(),
            service: unit.into(),
            instance: None,
            state,
            pid: Some(7),
            uptime_s: Some(65),
            restarts: Some(0),
            health,
        };
        let r = Report {
            stack: "s".into(),
            backend: "systemd".into(),
            processes: vec![
                p("a.service", State::Running, Health::Ok),
                p("long-name.service", State::Failed, Health::Failing),
            ],
            externals: vec![ExternalStatus {
                name: "kafka".into(),
                reachable: false,
            }],
        };
        let plain = table(&r, false);
        assert!(!plain.contains('\x1b'));
        assert_eq!(
            plain,
            "stack s (systemd)\n\
             UNIT               STATE    PID  UPTIME  RESTARTS  HEALTH\n\
             a.service          running  7    1m05s   0         ok\n\
             long-name.service  failed   7    1m05s   0         failing\n\
             external kafka: unreachable\n\
             1/2 running; not all running and healthy\n"
        );
        assert!(table(&r, true).contains("\x1b[31mfailed"));
        assert_eq!(duration(3725), "1h02m");
        assert_eq!(duration(90_000), "1d01h");
    }
}
