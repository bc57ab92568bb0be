//! Runs a [`RoundTrip`]: generates the cases with a seeded proptest runner, checks them in
//! batches, and on a failure finds the failing case (bisecting when a whole batch fails),
//! shrinks it in batches ([`shrink`]) and reports it.

use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::cases::{self, Case};
use super::refuse::carried;
use super::shrink;
use super::{Batch, Lab, RoundTrip, compare};
use crate::common::{in_ci, require};

/// Cases per backend: `OPENIM_ROUNDTRIP_CASES`, default 1000.
fn wanted_cases() -> usize {
    std::env::var("OPENIM_ROUNDTRIP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// The run's seed: `OPENIM_ROUNDTRIP_SEED`, else from the clock.
fn seed() -> u64 {
    if let Some(s) = std::env::var("OPENIM_ROUNDTRIP_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return s;
    }
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    // keep it short enough to retype
    (t.as_nanos() % 1_000_000_000_000) as u64
}

/// A generator seeded by `seed` and the backend's name (each backend gets its own cases).
fn runner(seed: u64, name: &str) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    for (i, b) in name.bytes().enumerate() {
        bytes[8 + i % 24] ^= b;
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// The first failing case of `cases` (index, what differs), checked as one batch; when the
/// batch as a whole fails, its halves are checked until one case fails alone.
fn first_failure(rt: &dyn RoundTrip, lab: &Lab, cases: &[Case]) -> Option<(usize, String)> {
    let batch = Batch::new(lab, cases);
    match rt.check_batch(&batch) {
        Ok(outcomes) => {
            assert_eq!(outcomes.len(), cases.len(), "one outcome per case");
            outcomes.iter().enumerate().find_map(|(i, got)| {
                compare(&rt.expected(&batch, i), got, &|k| rt.added_env(k)).map(|d| (i, d))
            })
        }
        Err(e) if cases.len() == 1 => Some((0, format!("the batch failed: {e}"))),
        Err(e) => {
            let mid = cases.len() / 2;
            first_failure(rt, lab, &cases[..mid])
                .or_else(|| first_failure(rt, lab, &cases[mid..]).map(|(i, d)| (mid + i, d)))
                .or_else(|| {
                    Some((
                        0,
                        format!(
                            "the batch of {} failed, but no half alone: {e}",
                            cases.len()
                        ),
                    ))
                })
        }
    }
}

/// Check `cases` as one batch after cutting each to what `rt` can carry (and checking that
/// it refuses the rest): the first failing case, and how many were refused.
fn check(rt: &dyn RoundTrip, lab: &Lab, cases: &[Case]) -> (Option<(usize, String)>, usize) {
    let mut carried_cases = Vec::with_capacity(cases.len());
    let mut refused = 0;
    for (i, c) in cases.iter().enumerate() {
        match carried(rt, lab, c) {
            Ok((c, was_refused)) => {
                refused += usize::from(was_refused);
                carried_cases.push(c);
            }
            Err(e) => return (Some((i, e)), refused),
        }
    }
    (first_failure(rt, lab, &carried_cases), refused)
}

/// The report of one case checked alone (what differs, the generated files), or `None`
/// when it passes alone.
fn alone(rt: &dyn RoundTrip, lab: &Lab, case: &Case) -> Option<(String, String)> {
    let case = match carried(rt, lab, case) {
        Ok((c, _)) => c,
        Err(e) => return Some((e, String::new())),
    };
    let cases = std::slice::from_ref(&case);
    let batch = Batch::new(lab, cases);
    let detail = match rt.check_batch(&batch) {
        Ok(o) => compare(&rt.expected(&batch, 0), &o[0], &|k| rt.added_env(k)),
        Err(e) => Some(format!("the batch failed: {e}")),
    }?;
    Some((detail, batch.artifacts()))
}

/// The round trip of one backend: skip (outside CI) or fail (in CI) without its tools.
pub fn run(rt: &dyn RoundTrip) {
    let name = rt.name();
    if !require(
        rt.unavailable().is_none(),
        &rt.unavailable().unwrap_or_default(),
    ) {
        return;
    }
    let Some(lab) = Lab::new(name) else { return };
    let total = wanted_cases();
    let seed = seed();
    let mut runner = runner(seed, name);
    let strategy = cases::case();
    let t0 = Instant::now();
    let (mut done, mut execs, mut refused) = (0, 0, 0);
    while done < total {
        let n = rt.batch_size().min(total - done);
        let cases: Vec<Case> = (0..n)
            .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
            .collect();
        let (failure, r) = check(rt, &lab, &cases);
        refused += r;
        if let Some((i, detail)) = failure {
            report(rt, &lab, &cases[i], &detail, seed, done + i);
        }
        execs += cases.iter().map(|c| c.pre.len() + 1).sum::<usize>();
        done += n;
    }
    eprintln!(
        "{name} round trip: {done} cases ({execs} execs) exact in {:.1?}; {refused} refused as they must be, then run without what cannot be carried{} (seed {seed}{})",
        t0.elapsed(),
        rt.stats(),
        if in_ci() { ", CI" } else { "" }
    );
}

/// Shrink the failing `case` (number `index` of the run) and fail the test with it.
fn report(rt: &dyn RoundTrip, lab: &Lab, case: &Case, detail: &str, seed: u64, index: usize) -> ! {
    let t0 = Instant::now();
    let (min, rounds) = if alone(rt, lab, case).is_some() {
        shrink::minimize(case.clone(), Duration::from_mins(2), |batch| {
            check(rt, lab, batch).0.map(|(i, _)| i)
        })
    } else {
        (case.clone(), 0)
    };
    let (diff, files) = alone(rt, lab, &min).unwrap_or_else(|| {
        (
            format!("(passes alone; failed in its batch:)\n{detail}"),
            String::new(),
        )
    });
    panic!(
        "{} round trip: case {index} failed (OPENIM_ROUNDTRIP_SEED={seed} replays this run).\n\
         original case: {case:?}\n\
         minimal case ({rounds} shrink rounds, {:.1?}): {min:#?}\n\
         {}{diff}\n\
         generated for the minimal case:\n{files}",
        rt.name(),
        t0.elapsed(),
        rt.describe(&min),
    );
}
