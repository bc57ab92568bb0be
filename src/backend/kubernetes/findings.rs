//! What rendering found, merged as it is found: one warning per finding.

use std::sync::Arc;

use hashbrown::{HashMap, HashSet};

use crate::backend::capability::{Feature, Warning};

/// The findings of one render, merged as they come: one warning per finding (feature and
/// message), naming every service it applies to once, in the order first found. A large
/// stack repeats the same few findings for every service: only the names are kept per
/// service, not a warning each.
#[derive(Debug, Default)]
pub struct Findings {
    out: Vec<Warning>,
    /// Per message, per feature: the index in `out`.
    by_message: HashMap<String, Vec<(Feature, usize)>>,
    /// (index in `out`, service) for every service a warning names.
    named: HashSet<(usize, Arc<str>)>,
    /// The service named last: the findings of one service come together, and share it.
    last: Option<Arc<str>>,
}

impl Findings {
    /// Add `w`: a new finding, or more services for one already found.
    pub fn push(&mut self, mut w: Warning) {
        for s in &mut w.services {
            match &self.last {
                Some(last) if **last == **s => *s = Arc::clone(last),
                _ => self.last = Some(Arc::clone(s)),
            }
        }
        let seen = self
            .by_message
            .get(w.message.as_str())
            .and_then(|fs| fs.iter().find(|(f, _)| *f == w.feature))
            .map(|&(_, i)| i);
        if let Some(i) = seen {
            for s in w.services {
                if self.named.insert((i, Arc::clone(&s))) {
                    self.out[i].services.push(s);
                }
            }
            return;
        }
        let i = self.out.len();
        self.by_message
            .entry_ref(w.message.as_str())
            .or_default()
            .push((w.feature, i));
        for s in &w.services {
            self.named.insert((i, Arc::clone(s)));
        }
        self.out.push(w);
    }

    /// The merged warnings, in the order first found.
    #[must_use]
    pub fn into_warnings(self) -> Vec<Warning> {
        self.out
    }
}

/// One warning per finding (feature and message), naming every service it applies to once,
/// in the order first found.
pub fn merge(found: impl Iterator<Item = Warning>) -> Vec<Warning> {
    let mut all = Findings::default();
    found.for_each(|w| all.push(w));
    all.into_warnings()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(feature: Feature, services: &[&str], message: &str) -> Warning {
        Warning {
            backend: "kubernetes",
            feature,
            services: services.iter().map(|s| Arc::from(*s)).collect(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn a_finding_names_each_service_once_in_the_order_found() {
        let merged = merge(
            [
                w(Feature::Requires, &["a"], "m"),
                w(Feature::Wants, &["a"], "m"),
                w(Feature::Requires, &["b", "a"], "m"),
                w(Feature::Requires, &["c"], "other"),
                w(Feature::Requires, &["c", "b"], "m"),
            ]
            .into_iter(),
        );
        let names: Vec<Vec<&str>> = merged
            .iter()
            .map(|w| w.services.iter().map(|s| &**s).collect())
            .collect();
        assert_eq!(names, [vec!["a", "b", "c"], vec!["a"], vec!["c"]]);
        assert_eq!(merged[1].feature, Feature::Wants);
        assert_eq!(merged[2].message, "other");
    }
}
