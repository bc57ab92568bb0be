//! Shrinking a failing case in batches. A real parser run or manager start costs a few
//! hundred milliseconds however many services it holds, so instead of proptest's one
//! candidate per step, each round checks many smaller variants of the case at once
//! (dropped commands, arguments, variables; chunks cut out of strings, biggest first;
//! odd characters replaced by `x`) and keeps the first that still fails.

use std::time::{Duration, Instant};

use openim_init::model::INSTANCE_PLACEHOLDER;

use super::cases::Case;

/// Candidates per batch.
const CHUNK: usize = 48;
/// Candidates per round at most.
const CAP: usize = 480;

/// Strings shorter by a chunk of chars, big chunks first, as (chunk size, string).
fn cuts(s: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut size = n;
    while size > 0 {
        for start in (0..n).step_by(size) {
            let mut v = chars.clone();
            v.drain(start..(start + size).min(n));
            out.push((size, v.into_iter().collect()));
        }
        size /= 2;
    }
    for (i, c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            let mut v = chars.clone();
            v[i] = 'x';
            out.push((0, v.into_iter().collect()));
        }
    }
    out
}

/// Every string of a case, in a fixed order: the program directory, the arguments, the
/// environment values, the `pre_start` arguments.
fn strings(c: &Case) -> Vec<String> {
    std::iter::once(&c.exe_dir)
        .chain(&c.args)
        .chain(c.env.values())
        .chain(c.pre.iter().flatten())
        .cloned()
        .collect()
}

/// `c` with its strings replaced, in the order of [`strings`].
fn rebuild(c: &Case, new: Vec<String>) -> Case {
    let mut it = new.into_iter();
    let mut next = || it.next().expect("as many strings as the case has");
    let exe_dir = next();
    let args = c.args.iter().map(|_| next()).collect();
    let env = c.env.keys().map(|k| (k.clone(), next())).collect();
    let pre = c
        .pre
        .iter()
        .map(|p| p.iter().map(|_| next()).collect())
        .collect();
    Case {
        exe_dir,
        odd_path: c.odd_path,
        args,
        env,
        pre,
        variant: c.variant,
    }
}

/// Whether a variant is still a case the round trip can generate.
fn valid(c: &Case) -> bool {
    let dir_ok =
        !c.exe_dir.is_empty() && !c.exe_dir.contains('/') && c.exe_dir != "." && c.exe_dir != "..";
    dir_ok && strings(c).iter().all(|s| !s.contains(INSTANCE_PLACEHOLDER))
}

/// Smaller variants of `c`, the most promising first.
fn candidates(c: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let mut with = |f: &dyn Fn(&mut Case)| {
        let mut v = c.clone();
        f(&mut v);
        out.push(v);
    };
    if !c.pre.is_empty() {
        with(&|v| v.pre.clear());
    }
    if !c.args.is_empty() {
        with(&|v| v.args.clear());
    }
    if !c.env.is_empty() {
        with(&|v| v.env.clear());
    }
    for i in 0..c.pre.len() {
        with(&|v| drop(v.pre.remove(i)));
    }
    for i in 0..c.args.len() {
        with(&|v| drop(v.args.remove(i)));
    }
    for k in c.env.keys() {
        with(&|v| drop(v.env.remove(k)));
    }
    for (j, p) in c.pre.iter().enumerate() {
        for i in 0..p.len() {
            with(&|v| drop(v.pre[j].remove(i)));
        }
    }
    if c.odd_path {
        with(&|v| v.odd_path = false);
    }
    if c.exe_dir != "x" {
        with(&|v| v.exe_dir = "x".into());
    }
    let all = strings(c);
    let mut cut: Vec<(usize, Case)> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        for (size, shorter) in cuts(s) {
            let mut v = all.clone();
            v[i] = shorter;
            cut.push((size, rebuild(c, v)));
        }
    }
    cut.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    out.extend(cut.into_iter().map(|(_, v)| v));
    out.retain(valid);
    out.truncate(CAP);
    out
}

/// Shrink `case` while `first_failing` (the index of the first failing case of a batch,
/// if any) finds a smaller variant that fails, within `budget`. Returns the smallest
/// failing case and the number of rounds that made it smaller.
pub fn minimize(
    case: Case,
    budget: Duration,
    mut first_failing: impl FnMut(&[Case]) -> Option<usize>,
) -> (Case, usize) {
    let t0 = Instant::now();
    let mut best = case;
    let mut rounds = 0;
    'rounds: while t0.elapsed() < budget {
        for chunk in candidates(&best).chunks(CHUNK) {
            if let Some(i) = first_failing(chunk) {
                best = chunk[i].clone();
                rounds += 1;
                continue 'rounds;
            }
            if t0.elapsed() >= budget {
                break 'rounds;
            }
        }
        break;
    }
    (best, rounds)
}
