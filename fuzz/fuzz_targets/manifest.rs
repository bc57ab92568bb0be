//! Fuzz manifest loading, model building and rendering for every backend.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run manifest fuzz/corpus/manifest tests/corpus/invalid
//! tests/fixtures -- -dict=fuzz/manifest.dict` (see README "Safety").

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = openim_init::fuzzing::manifest_pipeline(text);
    }
});
