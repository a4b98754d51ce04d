//! topoh's encoding: base64 over a 64-symbol alphabet (`A-Z a-z 0-9 . -`, pad `*`) shuffled
//! by the mask key, so the same key gives the same bytes Kamailio 5.6 writes.
//!
//! The shuffle is a Fisher-Yates pass whose choices come from the MD5 of the key written twice
//! (read as four little-endian words), the key's CRC-16 (CCITT, reflected, Kamailio's
//! `crcitt_string`) and the key's own bytes.

use md5::{Digest, Md5};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-";
const PAD: u8 = b'*';

/// Kamailio's `ccitt_tab`: CRC-16 polynomial 0x8408 (reflected 0x1021).
const CCITT: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u16;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x8408
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Kamailio's `crcitt_string`: start from all ones, complement at the end.
pub fn crcitt(s: &[u8]) -> u16 {
    let mut c: u16 = !0;
    for &b in s {
        c = CCITT[((c ^ b as u16) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The alphabet for one key and its reverse table.
#[derive(Clone, Debug)]
pub struct Mask {
    enc: [u8; 64],
    dec: [i8; 256],
}

impl Mask {
    /// The tables for `key` (must not be empty: Kamailio divides by its length).
    pub fn new(key: &[u8]) -> Mask {
        let mut enc = *ALPHABET;
        if !key.is_empty() {
            let mut h = Md5::new();
            h.update(key);
            h.update(key);
            let d = h.finalize();
            let words: Vec<u32> = d
                .chunks(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let crc = crcitt(key) as u32;
            let klen = key.len() as u32;
            for last in (2..=64u32).rev() {
                let i = crc.wrapping_add(last).wrapping_add(klen);
                // The key byte is a C `char`: signed on the platforms Kamailio runs on.
                let kb = key[(i % klen) as usize] as i8 as i32 as u32;
                let r = words[(i % 4) as usize].wrapping_add(kb) % last;
                enc.swap(r as usize, (last - 1) as usize);
            }
        }
        let mut dec = [-1i8; 256];
        for (i, &c) in enc.iter().enumerate() {
            dec[c as usize] = i as i8;
        }
        Mask { enc, dec }
    }

    /// The shuffled alphabet (Kamailio logs it at debug level as "updated table").
    pub fn alphabet(&self) -> &[u8; 64] {
        &self.enc
    }

    /// `prefix` then `input` encoded.
    pub fn encode(&self, input: &[u8], prefix: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(prefix.len() + input.len().div_ceil(3) * 4);
        out.extend_from_slice(prefix);
        for chunk in input.chunks(3) {
            let mut block = 0u32;
            for (i, &b) in chunk.iter().enumerate() {
                block |= (b as u32) << (16 - 8 * i);
            }
            out.push(self.enc[(block >> 18) as usize & 0x3f]);
            out.push(self.enc[(block >> 12) as usize & 0x3f]);
            out.push(if chunk.len() > 1 {
                self.enc[(block >> 6) as usize & 0x3f]
            } else {
                PAD
            });
            out.push(if chunk.len() > 2 {
                self.enc[block as usize & 0x3f]
            } else {
                PAD
            });
        }
        out
    }

    /// Decodes `input` after skipping `prefix_len` bytes (not compared, as in Kamailio).
    /// `None` when the result would be empty or a symbol is not in the alphabet.
    pub fn decode(&self, input: &[u8], prefix_len: usize) -> Option<Vec<u8>> {
        let pads = input.iter().rev().take_while(|&&c| c == PAD).count();
        let body = input.len().checked_sub(prefix_len)?;
        let olen = (body * 6 / 8).checked_sub(pads).filter(|&n| n > 0)?;
        let end = input.len() - pads;
        if end < prefix_len {
            return None;
        }
        let mut out = Vec::with_capacity(olen);
        for group in input[prefix_len..end].chunks(4) {
            let mut block = 0u32;
            for (j, &c) in group.iter().enumerate() {
                let v = self.dec[c as usize];
                if v < 0 {
                    return None;
                }
                block |= (v as u32) << (18 - 6 * j);
            }
            for j in 0..3 {
                if out.len() < olen {
                    out.push((block >> (16 - 8 * j)) as u8);
                }
            }
        }
        // Kamailio's buffer is zero-filled to `olen`.
        out.resize(olen, 0);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kamailio's default key.
    const KEY: &[u8] = b"aL9.n8~Hm]Z";

    #[test]
    fn crc_matches_x25_check_value() {
        // CRC-16/X-25 of "123456789" is 0x906E.
        assert_eq!(crcitt(b"123456789"), 0x906e);
    }

    #[test]
    fn alphabet_is_a_permutation() {
        let m = Mask::new(KEY);
        let mut a = *m.alphabet();
        a.sort_unstable();
        let mut b = *ALPHABET;
        b.sort_unstable();
        assert_eq!(a, b);
        assert_ne!(m.alphabet(), ALPHABET);
    }

    #[test]
    fn round_trip_all_lengths() {
        let m = Mask::new(b"other-key");
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 1..data.len() {
            let e = m.encode(&data[..n], b"p-");
            assert_eq!(m.decode(&e, 2).as_deref(), Some(&data[..n]), "{n}");
        }
    }

    #[test]
    fn junk_is_refused_not_panicking() {
        let m = Mask::new(KEY);
        assert_eq!(m.decode(b"", 0), None);
        assert_eq!(m.decode(b"***", 0), None);
        assert_eq!(m.decode(b"ab", 5), None);
        assert_eq!(m.decode(b"AB!D", 0), None);
        assert_eq!(m.decode("AÄBC".as_bytes(), 0), None);
    }
}
