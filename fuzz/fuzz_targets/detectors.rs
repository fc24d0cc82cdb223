//! Any text, any detector settings (names and addresses included): the scanner never panics,
//! returns findings that are in order, inside the text and on character boundaries, and keeps
//! its time bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use msp_bridge::contracts::DetectorKind;
use msp_bridge::redaction::detect::{ScanOptions, scan};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let options = ScanOptions {
        // Bit 0: aggressive; bit 1: every detector, else every other one (so that each
        // detector also runs without the ones that would claim its text first).
        detectors: DetectorKind::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| flags & 2 == 2 || i % 2 == usize::from(flags & 4 == 4))
            .map(|(_, k)| *k)
            .collect(),
        aggressive: flags & 1 == 1,
    };
    if let Ok(found) = scan(text, &options) {
        let mut last_end = 0;
        for f in found {
            assert!(f.start >= last_end && f.start < f.end && f.end <= text.len());
            assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            last_end = f.end;
        }
    }
});
