//! The ledger entries of the desired states: a SHA-256 of every text, split over two threads.

use super::Desired;
use crate::lifecycle::ledger::Entry;

/// The ledger entry of each desired state (a SHA-256 of each text), on two threads when
/// there are many (the hashes of 10,000 files are a few milliseconds of CPU).
pub(super) fn entries(desired: &[Desired]) -> Vec<Entry> {
    const SPLIT_FROM: usize = 1024;
    if desired.len() < SPLIT_FROM {
        return desired.iter().map(Desired::entry).collect();
    }
    let (first, second) = desired.split_at(desired.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| second.iter().map(Desired::entry).collect::<Vec<_>>());
        let mut out: Vec<Entry> = first.iter().map(Desired::entry).collect();
        match other.join() {
            Ok(rest) => out.extend(rest),
            Err(panic) => std::panic::resume_unwind(panic),
        }
        out
    })
}
