//! The bytes uac writes: the Record-Route parameter that carries the original From/To URI
//! (Kamailio's from_to encoding: the two URIs XOR'd, XOR'd again with `restore_passwd`,
//! base64 with `-` for padding), and where a From/To header's parts sit in a message.

use crate::sip::{HeaderName, Msg};

/// Kamailio's MAX_URI_SIZE: longer URIs are refused, as there.
pub const MAX_URI: usize = 1024;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The parameter value for replacing `old` by `new`: the longer URI with the shorter XOR'd
/// over its start, XOR'd with the password (repeating), base64-encoded. `None` when a URI
/// is longer than Kamailio allows.
pub fn encode_pair(old: &[u8], new: &[u8], passwd: &[u8]) -> Option<String> {
    if old.len() > MAX_URI || new.len() > MAX_URI {
        return None;
    }
    let (long, short) = if old.len() > new.len() {
        (old, new)
    } else {
        (new, old)
    };
    let mut buf = long.to_vec();
    for (b, s) in buf.iter_mut().zip(short) {
        *b ^= s;
    }
    xor_passwd(&mut buf, passwd);
    Some(encode(&buf))
}

fn xor_passwd(buf: &mut [u8], passwd: &[u8]) {
    if passwd.is_empty() {
        return;
    }
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= passwd[i % passwd.len()];
    }
}

/// Base64 with `-` where standard base64 pads with `=`.
pub fn encode(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len().div_ceil(3) * 4);
    for chunk in src.chunks(3) {
        let mut block = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            block |= u32::from(*b) << (16 - 8 * i);
        }
        let c = |shift: u32| B64[((block >> shift) & 0x3f) as usize] as char;
        out.push(c(18));
        out.push(c(12));
        out.push(if chunk.len() > 1 { c(6) } else { '-' });
        out.push(if chunk.len() > 2 { c(0) } else { '-' });
    }
    out
}

/// The inverse of [`encode`]; `None` on a character outside the alphabet or an empty input.
pub fn decode(src: &[u8]) -> Option<Vec<u8>> {
    if src.is_empty() {
        return None;
    }
    let pad = src.iter().rev().take_while(|c| **c == b'-').count();
    let len = ((src.len() * 6) >> 3).checked_sub(pad)?;
    if len > MAX_URI {
        return None;
    }
    let val = |c: u8| B64.iter().position(|b| *b == c).map(|p| p as u32);
    let data = &src[..src.len() - pad];
    let mut out = Vec::with_capacity(len + 3);
    for chunk in data.chunks(4) {
        let mut block = 0u32;
        for (j, c) in chunk.iter().enumerate() {
            block |= val(*c)? << (18 - 6 * j);
        }
        for j in 0..3 {
            out.push((block >> (16 - 8 * j)) as u8);
        }
    }
    out.truncate(len);
    Some(out)
}

/// What `restore` makes of a parameter value and the URI now in the header: the other URI.
/// Kamailio's checks: the decoded value must not be shorter than the current URI, the
/// result must not be empty and must be printable.
pub fn decode_pair(param: &str, current: &[u8], passwd: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut buf = decode(param.as_bytes()).ok_or("failed to decode uri")?;
    xor_passwd(&mut buf, passwd);
    if buf.len() < current.len() {
        return Err("new URI shorter than old URI");
    }
    let mut len = buf.len();
    for (i, c) in current.iter().enumerate() {
        buf[i] ^= c;
        if buf[i] == 0 {
            len = i;
            break;
        }
    }
    buf.truncate(len);
    if buf.is_empty() {
        return Err("new URI got 0 len");
    }
    if !buf.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Err("invalid char found in the new uri");
    }
    Ok(buf)
}

/// Byte positions of a From/To header's parts in the message buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Where the value starts (Kamailio's `body.s`).
    pub body: usize,
    /// The display name as written (quotes included), if any.
    pub display: Option<(usize, usize)>,
    /// The URI, without its brackets.
    pub uri: (usize, usize),
    /// The `<` before the URI, when bracketed.
    pub lt: Option<usize>,
    /// Where the span a reply restore replaces ends: after the URI, then white space and a
    /// `>` when there is one.
    pub addr_end: usize,
}

fn offset(msg: &Msg, part: &str) -> Option<usize> {
    let base = msg.as_bytes().as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p + part.len() <= base + msg.len()).then(|| p - base)
}

/// The parts of the first From (or To) header of `msg`.
pub fn parts(msg: &Msg, name: HeaderName) -> Option<Parts> {
    let na = match name {
        HeaderName::From => msg.from().ok()?,
        _ => msg.to().ok()?,
    };
    let h = msg.headers().find(|h| h.name == name)?;
    let b = msg.as_bytes();
    let base = b.as_ptr() as usize;
    let body = (h.value.as_ptr() as usize).checked_sub(base)?;
    let us = na.uri().as_str();
    let u0 = offset(msg, us)?;
    let uri = (u0, u0 + us.len());
    let display = match na.display() {
        Some(d) => {
            let d0 = offset(msg, d)?;
            Some((d0, d0 + d.len()))
        }
        None => None,
    };
    let lt = if na.bracketed() {
        b[body..u0]
            .iter()
            .rposition(|c| *c == b'<')
            .map(|p| body + p)
    } else {
        None
    };
    let mut end = uri.1;
    while end < b.len() && b[end].is_ascii_whitespace() {
        end += 1;
    }
    let addr_end = if b.get(end) == Some(&b'>') {
        end + 1
    } else {
        uri.1
    };
    Some(Parts {
        body,
        display,
        uri,
        lt,
        addr_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values Kamailio 5.6.3 wrote (tests/golden_uac, restore_passwd "s3cr3t").
    #[test]
    fn encoding_matches_kamailio() {
        let p = b"s3cr3t";
        assert_eq!(
            encode_pair(b"sip:alice@atlanta.example.com", b"sip:bob@example.net", p).unwrap(),
            "czNjcjB3eBBjSjNtbz5oKDw/YksCH0MYFh0AHV4-"
        );
        assert_eq!(
            encode_pair(
                b"sip:callee@biloxi.example.com",
                b"sip:a-much-longer-target-uri@example.org",
                p
            )
            .unwrap(),
            "czNjcjE4ciplf156dTFrbyh3YipweCZsO2hydB4RC1IOAl8RXVwRFQ--"
        );
    }

    #[test]
    fn decoding_gives_the_other_uri() {
        let p = b"s3cr3t";
        let enc = "czNjcjB3eBBjSjNtbz5oKDw/YksCH0MYFh0AHV4-";
        assert_eq!(
            decode_pair(enc, b"sip:alice@atlanta.example.com", p).unwrap(),
            b"sip:bob@example.net"
        );
        assert_eq!(
            decode_pair(enc, b"sip:bob@example.net", p).unwrap(),
            b"sip:alice@atlanta.example.com"
        );
        let long = "czNjcjE4ciplf156dTFrbyh3YipweCZsO2hydB4RC1IOAl8RXVwRFQ--";
        assert_eq!(
            decode_pair(long, b"sip:a-much-longer-target-uri@example.org", p).unwrap(),
            b"sip:callee@biloxi.example.com"
        );
        assert!(decode_pair("!!!!", b"sip:x", p).is_err());
        assert!(decode_pair("", b"sip:x", p).is_err());
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..20 {
            let v: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            if n == 0 {
                continue;
            }
            assert_eq!(decode(encode(&v).as_bytes()).unwrap(), v);
        }
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A Route parameter and a header come from the network: decoding never panics, and
        /// what encode_pair writes decodes back to the other URI.
        #[test]
        fn decode_never_panics(p in ".{0,80}", cur in "[ -~]{0,40}") {
            let _ = decode_pair(&p, cur.as_bytes(), b"pw");
        }

        #[test]
        fn pairs_round_trip(a in "sip:[a-z0-9@.]{1,40}", b in "sip:[a-z0-9@.]{1,40}") {
            let e = encode_pair(a.as_bytes(), b.as_bytes(), b"k3y").unwrap();
            prop_assert_eq!(decode_pair(&e, a.as_bytes(), b"k3y").unwrap(), b.as_bytes());
            prop_assert_eq!(decode_pair(&e, b.as_bytes(), b"k3y").unwrap(), a.as_bytes());
        }

        #[test]
        fn challenge_parse_never_panics(s in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = super::super::auth::parse_challenge(&s);
            let mut d = b"Digest ".to_vec();
            d.extend_from_slice(&s);
            let _ = super::super::auth::parse_challenge(&d);
        }
    }
}
