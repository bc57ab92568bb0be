//! The line check, whole and in parts.

use super::*;

#[test]
fn a_line_systemd_cannot_read_is_refused() {
    let ok = Artifact::file(
        "a.service",
        0o644,
        format!("[Unit]\nDescription={}\n", "x".repeat(1000)),
    );
    assert!(check_lines("systemd", &ok).is_ok());
    let long = Artifact::file(
        "a.service",
        0o644,
        format!("[Unit]\nDescription={}\n", "x".repeat(MAX_LINE_BYTES)),
    );
    let e = check_lines("systemd", &long).expect_err("refused");
    assert_eq!(e.exit_code(), crate::errors::EXIT_INVALID);
    assert!(
        e.to_string().contains("a.service line 2 (Description…)"),
        "{e}"
    );
    // a large file of short lines passes; a long last line without a newline does not
    let many = Artifact::file("b", 0o644, "x=1\n".repeat(MAX_LINE_BYTES));
    assert!(check_lines("systemd", &many).is_ok());
    let last = Artifact::file("c", 0o644, format!("a\nk={}", "x".repeat(MAX_LINE_BYTES)));
    let e = check_lines("systemd", &last).expect_err("refused");
    assert!(e.to_string().contains("c line 2 (k…)"), "{e}");
}

/// Texts with long and short lines around every kind of line end.
fn awkward_texts() -> Vec<String> {
    let long = "x".repeat(MAX_LINE_BYTES);
    let short = "y".repeat(MAX_LINE_BYTES - 1);
    vec![
        String::new(),
        format!("{short}\n{short}\r\n{short}"),
        format!("{short}\r\n{long}\n"),
        format!("a\n\nb\r\n{short}\n{long}x\r\nz"),
        format!("{short}\n{short}\n{long}"),
        format!("{long}\r"),
        format!("{short}\r\r\n"),
    ]
}

#[test]
fn the_first_long_line_is_the_one_lines_finds() {
    let mut cases = awkward_texts();
    cases.push("\n".repeat(MAX_LINE_BYTES + 3));
    for text in &cases {
        let by_lines = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.len() >= MAX_LINE_BYTES);
        assert_eq!(first_long_line(text), by_lines, "{}", text.len());
    }
}

/// Takes parts as they come (`keep`: leaves their text, so it grows whole).
struct Parts {
    keep: bool,
    whole: String,
}

impl Sink for Parts {
    fn take(&mut self, artifact: Artifact) -> Result<()> {
        self.whole = artifact.contents().to_owned();
        Ok(())
    }

    fn take_part(&mut self, part: Part<'_>) -> Result<()> {
        if self.keep {
            if part.last {
                self.whole = std::mem::take(part.text);
            }
        } else {
            self.whole.push_str(part.text);
            part.text.clear();
        }
        Ok(())
    }
}

/// Check `text` given in parts cut at `cuts` (byte offsets, in order), the inner sink
/// taking or keeping them.
fn in_parts(text: &str, cuts: &[usize], keep: bool) -> std::result::Result<(), String> {
    let inner = RefCell::new(Parts {
        keep,
        whole: String::new(),
    });
    let mut checked = Checked::new("systemd", &inner);
    let mut buffer = String::new();
    let mut from = 0;
    let ends = cuts.iter().copied().chain([text.len()]);
    for (i, to) in ends.enumerate() {
        buffer.push_str(&text[from..to]);
        from = to;
        let part = Part {
            path: "p",
            mode: 0o644,
            text: &mut buffer,
            first: i == 0,
            last: to == text.len(),
            size_hint: 0,
        };
        checked.take_part(part).map_err(|e| e.to_string())?;
    }
    assert_eq!(inner.borrow().whole, text, "parts reassembled");
    Ok(())
}

#[test]
fn a_file_in_parts_is_checked_as_it_is_whole() {
    let short = "y".repeat(MAX_LINE_BYTES - 1);
    let mut cases = awkward_texts();
    cases.extend([
        format!("k={}\r", "x".repeat(MAX_LINE_BYTES)),
        format!("{short}\r\nq\n"),
        format!("a\n{}", "\n".repeat(MAX_LINE_BYTES + 3)),
        format!("1\n2\n\u{e9}k {}\n", "\u{e9}".repeat(MAX_LINE_BYTES / 2)),
    ]);
    for text in &cases {
        let whole = check_lines("systemd", &Artifact::file("p", 0o644, text.as_str()))
            .map_err(|e| e.to_string());
        let n = text.len();
        let mut cut_sets: Vec<Vec<usize>> = vec![
            vec![],
            vec![0],
            vec![1, 2, 3],
            vec![n / 3, n / 2],
            vec![MAX_LINE_BYTES - 1, MAX_LINE_BYTES, MAX_LINE_BYTES + 1],
            vec![n.saturating_sub(2), n.saturating_sub(1)],
        ];
        // every cut on a character boundary, in order, within the text
        for cuts in &mut cut_sets {
            cuts.retain(|&c| c <= n && text.is_char_boundary(c));
            cuts.dedup();
        }
        for cuts in &cut_sets {
            for keep in [false, true] {
                assert_eq!(
                    in_parts(text, cuts, keep),
                    whole,
                    "{n} bytes cut at {cuts:?}"
                );
            }
        }
    }
}
