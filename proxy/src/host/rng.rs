//! A per-thread xorshift64* generator for what needs spread, not secrecy: dispatcher's random
//! algorithm and weight shuffles, probe tags and branches, cfgutils' `rand_event`.

use std::cell::Cell;

thread_local! {
    /// This thread's state, seeded from the clock and a per-process random key.
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() | 1
}

/// The next 64 bits (xorshift64* output).
pub fn next_u64() -> u64 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// A random 32-bit number (the output's high half).
pub fn next_u32() -> u32 {
    (next_u64() >> 32) as u32
}

/// A uniform number in `[0, 1)` (53 bits).
pub fn unit() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn unit_is_in_range_and_varies() {
        let xs: Vec<f64> = (0..1000).map(|_| super::unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.iter().any(|&x| x < 0.5) && xs.iter().any(|&x| x >= 0.5));
    }
}
