//! What rendering found, merged: one warning per finding.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::backend::capability::{Feature, Warning};

/// The services a warning names.
type Named = HashSet<Arc<str>>;

/// One warning per finding (feature and message), naming every service it applies to once,
/// in the order first found.
pub fn merge(found: impl Iterator<Item = Warning>) -> Vec<Warning> {
    let mut out: Vec<Warning> = Vec::new();
    // per message, per feature: the index in `out`, and the services it names
    let mut by_message: HashMap<String, Vec<(Feature, usize, Named)>> = HashMap::new();
    for w in found {
        let seen = by_message
            .get_mut(w.message.as_str())
            .and_then(|fs| fs.iter_mut().find(|(f, ..)| *f == w.feature));
        if let Some((_, i, named)) = seen {
            for s in w.services {
                if named.insert(Arc::clone(&s)) {
                    out[*i].services.push(s);
                }
            }
        } else {
            let named = w.services.iter().cloned().collect();
            by_message
                .entry(w.message.clone())
                .or_default()
                .push((w.feature, out.len(), named));
            out.push(w);
        }
    }
    out
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
