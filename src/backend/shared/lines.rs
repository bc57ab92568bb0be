//! Lists that grow with the stack (the units a target wants, a service's dependencies)
//! written over as many lines as they need: every reader of these lists accumulates repeated
//! settings (systemd's `Wants=`/`After=`…, OpenRC's `need`/`after`…), so a long list never
//! makes a line that nears a reader's line limit (systemd's 1 MiB, see
//! [`crate::limits::MAX_LINE_BYTES`]). A list that fits stays on one line.

pub use crate::render::native::push_joined;

/// The most bytes of list items, separators included, on one generated line.
pub const LIST_LINE_BYTES: usize = 4096;

/// `items` cut into runs, in order: each run's items joined by a one-byte separator take at
/// most [`LIST_LINE_BYTES`] (an item longer than that makes a run of its own). An empty list
/// has no run.
pub fn runs<S: AsRef<str>>(items: &[S]) -> impl Iterator<Item = &[S]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut len = rest[0].as_ref().len();
        let mut n = 1;
        while let Some(next) = rest.get(n) {
            len += 1 + next.as_ref().len();
            if len > LIST_LINE_BYTES {
                break;
            }
            n += 1;
        }
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some(run)
    })
}

/// Append `\n{key}{run}` for every run of `items` (joined by `sep`, one byte): a list
/// setting written the way the templates' `{%- for %}` loops write it.
pub fn push_lines<S: AsRef<str>>(out: &mut String, key: &str, items: &[S], sep: &str) {
    for run in runs(items) {
        out.push('\n');
        out.push_str(key);
        push_joined(out, run, sep);
    }
}

/// A list in a template context, serialised as the lines it takes ([`joined_runs`] with
/// spaces): the native writers cut the list themselves ([`push_lines`]), so the lines are
/// only built when a template reads them.
#[derive(Debug, Clone, Copy)]
pub struct Lines<'a, S>(pub &'a [S]);

impl<S: AsRef<str>> serde::Serialize for Lines<'_, S> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        serializer.collect_seq(joined_runs(self.0, " "))
    }
}

/// Every run of `items` joined by `sep` (one byte), for a template context: one line each.
#[must_use]
pub fn joined_runs<S: AsRef<str>>(items: &[S], sep: &str) -> Vec<String> {
    runs(items)
        .map(|run| {
            let mut line = String::with_capacity(LIST_LINE_BYTES.min(run.len() * 24));
            push_joined(&mut line, run, sep);
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_is_one_run() {
        let items = ["a.service", "b.service"];
        assert_eq!(joined_runs(&items, " "), ["a.service b.service"]);
        assert!(joined_runs::<&str>(&[], " ").is_empty());
    }

    #[test]
    fn a_long_list_is_cut_below_the_limit_and_keeps_every_item_in_order() {
        let items: Vec<String> = (0..5000).map(|i| format!("svc-{i}.service")).collect();
        let lines = joined_runs(&items, " ");
        assert!(lines.len() > 1);
        assert!(
            lines.iter().all(|l| l.len() <= LIST_LINE_BYTES),
            "{lines:?}"
        );
        let back: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
        assert_eq!(back, items);
        // each run is as full as the next item allows
        for pair in lines.windows(2) {
            let next = pair[1].split(' ').next().unwrap_or_default();
            assert!(pair[0].len() + 1 + next.len() > LIST_LINE_BYTES);
        }
    }

    #[test]
    fn an_item_longer_than_a_line_stands_alone() {
        let long = "x".repeat(LIST_LINE_BYTES + 1);
        let items = ["a".to_owned(), long.clone(), "b".to_owned()];
        assert_eq!(
            joined_runs(&items, " "),
            ["a".to_owned(), long, "b".to_owned()]
        );
        let mut out = String::new();
        push_lines(&mut out, "need ", &["a", "b"], " ");
        assert_eq!(out, "\nneed a b");
    }
}
