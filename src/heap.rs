//! How the process's allocator (glibc's malloc) is tuned, in one place: what it keeps for
//! reuse, which blocks get a mapping of their own, and when freed memory goes back to the
//! kernel. Elsewhere (another libc), nothing is changed.

/// The largest mmap threshold glibc takes on 64-bit systems (32 MiB): blocks under it are
/// taken from the heap and kept there once freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const KEEP: libc::c_int = 32 << 20;

/// Blocks of this size or more made by [`in_own_mapping`] get a mapping of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING: libc::c_int = 1 << 20;

/// The trim threshold while [`give_back`] frees: a heap's free top of 128 KiB or more is
/// given back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_NOW: libc::c_int = 128 << 10;

/// Held while a threshold is lowered (see [`in_own_mapping`], [`give_back`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static THRESHOLD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Tune the allocator for a short run (once, before any thread is started).
///
/// glibc's malloc gives memory back to the kernel (a freed block of 128 KiB or more, and
/// the top of the heap past 128 KiB) and asks for fresh pages again soon after: a run is
/// short and its big buffers come and go (the manifest's tables, then the model, then the
/// artifacts), so every page would be faulted in twice. Keep what was freed for reuse.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets two thresholds of the allocator.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, KEEP);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP);
    }
}

/// Run `make`, whose blocks of 1 MiB or more each get a mapping of their own, given back to
/// the kernel when freed, for the big blocks made once and freed before the end: the
/// manifest's text (freed once the model is built) and the model's list of services
/// (freed once the render is done). In the heap, their pages stayed in use under what was
/// allocated after them: plain 10k (1.07 MB), every file rewritten, 0.2-0.6 MiB more at
/// the peak. Only these: every big block in a mapping of its own (a lower threshold for
/// the whole run) made rich 10k 5-10 % slower, each one faulted in afresh.
///
/// A block taken from room the heap has free gets none: early in a run (where these are
/// made) there is little. The threshold is the process's: a block another thread allocates
/// meanwhile may get a mapping of its own too (no harm, only its pages go back sooner).
/// Two threads take turns (one's end would not put the threshold back under the other);
/// not to be nested.
pub fn in_own_mapping<T>(make: impl FnOnce() -> T) -> T {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let _turn = THRESHOLD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: mallopt only sets a threshold of the allocator.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING) };
        let block = make();
        // SAFETY: as above.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, KEEP) };
        block
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    make()
}

/// Give the memory freed so far back to the kernel, and with it what `free` frees (big
/// blocks no longer needed): glibc keeps freed memory for reuse (see [`tune`]), and what
/// is allocated next would otherwise add to the peak instead of taking its place (the
/// steps read back after the render, see `output::stream`).
///
/// `malloc_trim` gives back the free pages inside every heap, but the free top of only
/// the main thread's: a block another thread made last (the writing thread's lookups) and
/// freed joins the top of that thread's heap, and stayed in use. So `free` runs with the
/// trim threshold lowered, which trims such a top as a block of 64 KiB or more joins it.
/// Not to be nested with [`in_own_mapping`].
pub fn give_back(free: impl FnOnce()) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Trims and puts the usual threshold back when dropped: also when `free` panics
        /// (while the lock is still held: it is dropped after).
        struct Restore;
        impl Drop for Restore {
            fn drop(&mut self) {
                // SAFETY: malloc_trim only returns free pages of the allocator's own
                // heaps; mallopt only sets a threshold.
                unsafe {
                    libc::malloc_trim(0);
                    libc::mallopt(libc::M_TRIM_THRESHOLD, KEEP);
                }
            }
        }
        let _turn = THRESHOLD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: mallopt only sets a threshold of the allocator.
        unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_NOW) };
        let _restore = Restore;
        free();
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    free();
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Whether glibc gave the block at `p` a mapping of its own: the `IS_MMAPPED` bit of
    /// the size word in its chunk's header, just before it.
    fn own_mapping(p: *const u8) -> bool {
        // SAFETY: every block glibc's malloc returns has the size word of its chunk just
        // before it.
        let word = unsafe {
            p.sub(size_of::<usize>())
                .cast::<[u8; size_of::<usize>()]>()
                .read()
        };
        usize::from_ne_bytes(word) & 2 != 0
    }

    /// The checks, in a process of their own: a heap that other tests have used may have
    /// the room free already, and a block taken from free room gets no mapping of its own.
    fn check_in_a_fresh_heap() {
        tune();
        let big = 2 << 20;
        let inside: Vec<u8> = in_own_mapping(|| Vec::with_capacity(big));
        let outside: Vec<u8> = Vec::with_capacity(big);
        let small: Vec<u8> = in_own_mapping(|| Vec::with_capacity(64 << 10));
        assert!(
            own_mapping(inside.as_ptr()),
            "made inside: a mapping of its own"
        );
        assert!(
            !own_mapping(outside.as_ptr()),
            "made after: kept in the heap"
        );
        assert!(!own_mapping(small.as_ptr()), "under 1 MiB: in the heap");
    }

    /// Anonymous memory in use, in KiB.
    fn anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let line = status.lines().find(|l| l.starts_with("RssAnon:"));
        let kib = line.and_then(|l| l.split_whitespace().nth(1));
        kib.and_then(|n| n.parse().ok()).expect("RssAnon")
    }

    /// A block another thread made last, at the top of its heap: `malloc_trim` alone keeps
    /// it (the first half: the check would show nothing otherwise), `give_back` returns it.
    fn check_another_threads_top() {
        tune();
        let spawn_and_join = || {
            std::thread::spawn(|| {
                let block = vec![1u8; 4 << 20];
                std::hint::black_box(block)
            })
            .join()
            .expect("thread")
        };
        let before = anon_kib();
        let kept = spawn_and_join();
        let made = anon_kib();
        drop(kept);
        // SAFETY: as in `give_back`.
        unsafe { libc::malloc_trim(0) };
        let trimmed = anon_kib();
        assert!(
            trimmed + 1024 > made,
            "freed and trimmed, still in use: {made} -> {trimmed} KiB"
        );
        let block = spawn_and_join();
        let made_again = anon_kib();
        give_back(|| drop(block));
        let given = anon_kib();
        assert!(
            made > before + 3072,
            "the block is in use: {before} -> {made} KiB"
        );
        assert!(
            given + 3072 < made_again,
            "given back: {made_again} -> {given} KiB"
        );
    }

    /// A `free` that panics leaves the usual threshold behind: a block freed after is kept
    /// for reuse, not trimmed at once (as it would be under [`TRIM_NOW`]).
    fn check_a_panic_restores_the_threshold() {
        tune();
        let panicked = std::panic::catch_unwind(|| give_back(|| panic!("in free")));
        assert!(panicked.is_err());
        let block = vec![1u8; 4 << 20];
        let made = anon_kib();
        drop(std::hint::black_box(block));
        let freed = anon_kib();
        assert!(freed + 1024 > made, "kept for reuse: {made} -> {freed} KiB");
    }

    /// Run the check named `name` in a process of its own (this test binary again, told so
    /// by `OPENIM_INIT_HEAP_TEST_CHILD`): each needs a heap no other test has used.
    fn in_a_child(name: &str, check: fn()) {
        const CHILD: &str = "OPENIM_INIT_HEAP_TEST_CHILD";
        if std::env::var_os(CHILD).is_some() {
            check();
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([name, "--exact", "--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("test binary runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn a_big_block_made_in_its_own_mapping_has_one_and_others_stay_in_the_heap() {
        in_a_child(
            "heap::tests::a_big_block_made_in_its_own_mapping_has_one_and_others_stay_in_the_heap",
            check_in_a_fresh_heap,
        );
    }

    #[test]
    fn what_another_thread_made_last_is_given_back_when_freed() {
        in_a_child(
            "heap::tests::what_another_thread_made_last_is_given_back_when_freed",
            check_another_threads_top,
        );
    }

    #[test]
    fn a_panic_while_giving_back_restores_the_threshold() {
        in_a_child(
            "heap::tests::a_panic_while_giving_back_restores_the_threshold",
            check_a_panic_restores_the_threshold,
        );
    }
}
