//! Kamailio's core string hash, which modules show (usrloc's `HashID`) or offer (cfgutils'
//! `core_hash`).

/// Kamailio's `core_hash(s1, s2, size)` (hashes.h): bytes are signed, as C's `char` on x86.
pub fn core_hash(s1: &[u8], s2: Option<&[u8]>, size: u32) -> u32 {
    let mut h: u32 = 0;
    let mut part = |s: &[u8]| {
        let b = |i: usize| s[i] as i8 as i32 as u32;
        let mut p = 0;
        while p + 4 <= s.len() {
            let v = (b(p) << 24)
                .wrapping_add(b(p + 1) << 16)
                .wrapping_add(b(p + 2) << 8)
                .wrapping_add(b(p + 3));
            h = h.wrapping_add(v ^ (v >> 3));
            p += 4;
        }
        let mut v: u32 = 0;
        while p < s.len() {
            v = (v << 8).wrapping_add(b(p));
            p += 1;
        }
        h = h.wrapping_add(v ^ (v >> 3));
    };
    part(s1);
    if let Some(s2) = s2 {
        part(s2);
    }
    let h = h
        .wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23));
    if size == 0 {
        h
    } else {
        h & size.wrapping_sub(1)
    }
}
