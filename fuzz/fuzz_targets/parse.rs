//! Fuzz target: any bytes into `Msg::parse` (datagram and stream framing) and every accessor.
//! A parsed message must serialise back to its own bytes without edits, and any reply built
//! from it must parse. Seeds: `fuzz/corpus/parse/` (the RFC 4475 and RFC 5118 torture
//! messages), which `proxy/tests/receive_path.rs` also replays under plain `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same routine the never-panic tests run (sip/src/exercise.rs).
    sipvm_sip::exercise(data);
});
