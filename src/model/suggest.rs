//! "did you mean": the known name an unknown reference was probably meant to be, within a
//! budget per manifest so that thousands of unknown references stay near-linear.

use std::sync::Arc;

/// How many names all "did you mean" searches of one manifest may compare in total. Each
/// search compares the unknown name with every known one; the budget keeps a manifest with
/// thousands of unknown references near-linear (the first searches get suggestions, the
/// rest list what is known).
pub(super) const SUGGEST_BUDGET: usize = 50_000;

/// "did you mean" for an unknown reference (while `budget` lasts), or the list of what is
/// known (made once into `list`, for every later call about the same `known`). `known` is
/// iterated, never collected whole: a call costs at most its share of the budget (a cheap
/// test per name, the exact score only for names that pass it) plus a dozen names.
pub(super) fn suggest<'a, I>(
    budget: &mut usize,
    name: &str,
    known: I,
    list: &mut Option<Arc<str>>,
) -> Arc<str>
where
    I: Iterator<Item = &'a str> + Clone,
{
    // keys of maps: the size hint is exact, and costs nothing
    let count = known.size_hint().1.unwrap_or(usize::MAX);
    if count <= *budget {
        *budget -= count;
        let mut typo = Typo::new(name);
        let known: Vec<&str> = known.clone().filter(|k| typo.may_match(k)).collect();
        if let Some(k) = crate::manifest::error::closest(name, &known) {
            return format!("did you mean `{k}`?").into();
        }
    }
    // one list, shared by every problem that gets it
    Arc::clone(list.get_or_insert_with(|| {
        let head: Vec<&str> = known.take(12).collect();
        match count {
            0 => "nothing of that kind is defined".into(),
            n if n > head.len() => format!("known: {}, …", head.join(", ")).into(),
            _ => format!("known: {}", head.join(", ")).into(),
        }
    }))
}

/// A quick test of whether a known name may be what an unknown one was meant to be: `false`
/// only for names `closest` (in `manifest::error`) certainly rejects, i.e. whose score stays
/// at most 0.8. Its scores are Jaro-Winkler, one Damerau-Levenshtein edit, or a prefix or
/// suffix; for ASCII names each is bounded by the characters the two names have in common.
struct Typo<'a> {
    name: &'a str,
    /// How often each ASCII character occurs in `name`; `None` when it is not ASCII.
    counts: Option<[u32; 128]>,
    /// Per character, how many of a known name's have been matched (all 0 between calls).
    used: [u32; 128],
}

impl<'a> Typo<'a> {
    fn new(name: &'a str) -> Self {
        let counts = name.is_ascii().then(|| {
            let mut c = [0u32; 128];
            for b in name.bytes() {
                c[usize::from(b)] += 1;
            }
            c
        });
        Self {
            name,
            counts,
            used: [0; 128],
        }
    }

    fn may_match(&mut self, known: &str) -> bool {
        let Some(counts) = &self.counts else {
            return true;
        };
        let (a, b) = (self.name.len(), known.len());
        if a == 0 || b == 0 || !known.is_ascii() {
            return true;
        }
        if a >= 4 && (known.starts_with(self.name) || known.ends_with(self.name)) {
            return true;
        }
        // characters in common (as multisets): no more can match, in any measure
        let mut common = 0usize;
        for x in known.bytes() {
            let i = usize::from(x);
            self.used[i] += 1;
            common += usize::from(self.used[i] <= counts[i]);
        }
        for x in known.bytes() {
            self.used[usize::from(x)] = 0;
        }
        // one edit apart: lengths at most one apart, all but one character shared
        if a.abs_diff(b) <= 1 && common + 1 >= a.max(b) {
            return true;
        }
        // Jaro with every shared character matched and none transposed, boosted for the
        // common prefix as Jaro-Winkler does: an upper bound of the score
        let prefix = self
            .name
            .bytes()
            .zip(known.bytes())
            .take(4)
            .take_while(|(x, y)| x == y)
            .count();
        #[expect(
            clippy::cast_precision_loss,
            reason = "names are far shorter than 2^52"
        )]
        let (c, a, b, p) = (common as f64, a as f64, b as f64, prefix as f64);
        let jaro = (c / a + c / b + 1.0) / 3.0;
        jaro + 0.1 * p * (1.0 - jaro) > 0.8 - 1e-9
    }
}

#[cfg(test)]
mod tests {
    use super::{Arc, SUGGEST_BUDGET, Typo, suggest};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("svc-{i:05}")).collect()
    }

    #[test]
    fn suggests_while_the_budget_lasts_then_lists() {
        let mut known = names(39);
        known.push("kafka".to_owned());
        let mut budget = 100;
        let mut list = None;
        let names = || known.iter().map(String::as_str);
        assert_eq!(
            &*suggest(&mut budget, "kafak", names(), &mut list),
            "did you mean `kafka`?"
        );
        assert_eq!(budget, 60);
        let _ = suggest(&mut budget, "svc-0008", names(), &mut list);
        assert_eq!(budget, 20);
        // not enough left for 40 comparisons: the known names instead, no search
        let hint = suggest(&mut budget, "kafak", names(), &mut list);
        assert!(hint.starts_with("known: svc-00000, "), "{hint}");
        assert!(hint.ends_with(", …"), "{hint}");
        assert_eq!(budget, 20);
        // the list is made once and shared by every problem that gets it
        let again = suggest(&mut budget, "other", names(), &mut list);
        assert!(Arc::ptr_eq(&hint, &again));
        assert_eq!(
            &*suggest(&mut budget, "x", std::iter::empty(), &mut None),
            "nothing of that kind is defined"
        );
    }

    #[test]
    fn many_unknown_references_cost_at_most_the_budget() {
        let known = names(10_000);
        let mut budget = SUGGEST_BUDGET;
        let mut searched = 0;
        for i in 0..10_000 {
            let before = budget;
            let names = known.iter().map(String::as_str);
            let _ = suggest(&mut budget, &format!("dep-{i}"), names, &mut None);
            searched += usize::from(budget < before);
        }
        assert_eq!(searched, SUGGEST_BUDGET / known.len());
    }

    #[test]
    fn the_quick_test_passes_every_name_closest_accepts() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "kafka",
            "kafak",
            "kafkaa",
            "afka",
            "redis",
            "rdis",
            "reddis",
            "svc-1",
            "svc-10",
            "svc-01",
            "dep-1",
            "openim-api",
            "openim-apj",
            "api-openim",
            "openim-rpc-user",
            "openim-rpc-usr",
            "rpc-user",
            "user",
            "timeout",
            "wait_timeout",
            "exit_codes",
            "success_exit_codes",
            "mongodb",
            "mongo",
            "MONGODB",
            "etcd",
            "etdc",
            "zookeeper",
            "zk",
            "héllo",
            "hello",
            "msg-gateway",
            "msggateway",
            "push",
            "posh",
        ];
        for u in words {
            let mut typo = Typo::new(u);
            for k in words {
                let exact = crate::manifest::error::closest(u, &[k]).is_some();
                assert!(!exact || typo.may_match(k), "{u:?} → {k:?}");
            }
        }
        // and it does reject what is far off
        assert!(!Typo::new("dep-1").may_match("svc-00001"));
        // and its counts are those of each known name alone
        let mut typo = Typo::new("aab");
        assert!(typo.may_match("aab") && typo.may_match("aab") && !typo.may_match("bbbbbbbbb"));
    }
}
