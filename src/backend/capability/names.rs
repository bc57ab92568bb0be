//! The services a warning names, shared between the warnings that name the same ones.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::Feature;
use crate::model::{Model, Service};

/// The services a warning names, in order. Warnings that name the same services share one
/// list: a stack whose every service uses several features a backend lost held a list of
/// every name for each (640 KB for runit at 10,000 services, while the render's memory
/// was at its peak). Changed through [`DerefMut`] or [`Names::push`], a shared list is
/// copied first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(Arc<Vec<Arc<str>>>);

impl Names {
    /// Add `name` at the end.
    pub fn push(&mut self, name: Arc<str>) {
        Arc::make_mut(&mut self.0).push(name);
    }

    /// Keep only the names `keep` says to, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Arc<str>) -> bool) {
        Arc::make_mut(&mut self.0).retain(keep);
    }

    /// Whether `self` and `other` are one list (not a copy).
    #[cfg(test)]
    #[must_use]
    pub fn shares(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for Names {
    type Target = [Arc<str>];

    fn deref(&self) -> &[Arc<str>] {
        &self.0
    }
}

impl DerefMut for Names {
    fn deref_mut(&mut self) -> &mut [Arc<str>] {
        Arc::make_mut(&mut self.0).as_mut_slice()
    }
}

impl From<Vec<Arc<str>>> for Names {
    fn from(names: Vec<Arc<str>>) -> Self {
        Self(Arc::new(names))
    }
}

impl FromIterator<Arc<str>> for Names {
    fn from_iter<I: IntoIterator<Item = Arc<str>>>(names: I) -> Self {
        Self(Arc::new(names.into_iter().collect()))
    }
}

impl IntoIterator for Names {
    type Item = Arc<str>;
    type IntoIter = std::vec::IntoIter<Arc<str>>;

    /// The names, taken out of the list when no other warning shares it.
    fn into_iter(self) -> Self::IntoIter {
        Arc::unwrap_or_clone(self.0).into_iter()
    }
}

/// The services of `model` that use each of `features` (as `uses` says), in order, where
/// `counts` says how many use each. Features used by the same services share one list,
/// made once.
pub(super) fn lists_of(
    model: &Model,
    features: &[Feature],
    counts: Vec<usize>,
    uses: impl Fn(&Service, Feature) -> bool,
) -> Vec<Names> {
    // the first feature used by the same services as each (itself when none before is)
    let same_as: Vec<usize> = (0..features.len())
        .map(|k| {
            (0..k)
                .find(|&j| {
                    counts[j] == counts[k]
                        && model
                            .services
                            .iter()
                            .all(|s| uses(s, features[j]) == uses(s, features[k]))
                })
                .unwrap_or(k)
        })
        .collect();
    let mut lists: Vec<Option<Vec<Arc<str>>>> = counts
        .into_iter()
        .enumerate()
        .map(|(k, n)| (same_as[k] == k).then(|| Vec::with_capacity(n)))
        .collect();
    for svc in &model.services {
        for (&feature, list) in features.iter().zip(&mut lists) {
            if let Some(list) = list
                && uses(svc, feature)
            {
                list.push(Arc::clone(&svc.name));
            }
        }
    }
    let mut out: Vec<Names> = Vec::with_capacity(lists.len());
    for (k, list) in lists.into_iter().enumerate() {
        let names = match list {
            Some(list) => Names::from(list),
            None => out[same_as[k]].clone(),
        };
        out.push(names);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_list_is_copied_before_it_changes() {
        let a: Names = ["x", "y"].into_iter().map(Arc::from).collect();
        let mut b = a.clone();
        assert!(a.shares(&b));
        b.push("z".into());
        assert!(!a.shares(&b));
        assert_eq!(a.len(), 2);
        assert_eq!(&*b[2], "z");
        let mut c = a.clone();
        c[0] = "w".into();
        c.retain(|n| &**n != "y");
        assert_eq!(c.iter().map(|n| &**n).collect::<Vec<_>>(), ["w"]);
        assert_eq!(a.iter().map(|n| &**n).collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(a.into_iter().count(), 2);
    }

    #[test]
    fn features_used_by_the_same_services_share_one_list() {
        let text = r#"
            name = "s"
            [services.a]
            command = ["/bin/a"]
            [services.b]
            command = ["/bin/b"]
            [services.c]
            command = ["/bin/c"]
        "#;
        let model = Model::from_toml("t.toml", text).expect("a model");
        let features = [
            Feature::Restart,
            Feature::Sandbox,
            Feature::Health,
            Feature::PreStart,
        ];
        // restart and pre_start: every service; sandbox: a and c; health: none
        let uses = |s: &Service, f: Feature| match f {
            Feature::Sandbox => &*s.name != "b",
            Feature::Health => false,
            _ => true,
        };
        let lists = lists_of(&model, &features, vec![3, 2, 0, 3], uses);
        let names = |n: &Names| n.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(names(&lists[0]), ["a", "b", "c"]);
        assert_eq!(names(&lists[1]), ["a", "c"]);
        assert!(lists[2].is_empty());
        assert!(lists[3].shares(&lists[0]));
        assert!(!lists[1].shares(&lists[0]) && !lists[2].shares(&lists[0]));
    }
}
