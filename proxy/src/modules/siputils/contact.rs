//! siputils' `contact_param_*`: a Contact URI hidden in a parameter of another URI
//! (base64url, padding dropped) and brought back from it.

use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::sip::{HeaderName, Msg, ParamIter, Uri};
use sipvm_vm::{ArgValue, HostError};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding.
fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for k in 0..=chunk.len() {
            out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
    }
    out
}

/// base64url, with or without padding; `None` for another character.
fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Every Contact URI as `(start, end)` offsets of the message, with the index of its header.
fn contact_uris(m: &Msg) -> Vec<(usize, usize, usize)> {
    let Ok(cs) = m.contacts() else {
        return Vec::new();
    };
    let base = m.as_bytes().as_ptr() as usize;
    let len = m.as_bytes().len();
    let hdrs: Vec<(usize, usize, usize)> = m
        .headers()
        .filter(|h| h.name == HeaderName::Contact)
        .map(|h| {
            let s = h.value.as_ptr() as usize - base;
            (h.index, s, s + h.value.len())
        })
        .collect();
    cs.list
        .iter()
        .filter_map(|c| {
            let u = c.addr.uri().as_str();
            let s = (u.as_ptr() as usize).checked_sub(base)?;
            let e = s + u.len();
            let h = hdrs.iter().find(|(_, hs, he)| *hs <= s && e <= *he)?.0;
            (e <= len).then_some((s, e, h))
        })
        .collect()
}

fn text(m: &Msg, s: usize, e: usize) -> &str {
    let b: &[u8] = m.as_bytes();
    std::str::from_utf8(&b[s..e]).unwrap_or("")
}

/// `contact_param_encode(name, addr)`: each Contact URI of the first Contact header becomes
/// `addr;name=<base64url of the URI>` (in `<>` when it was not).
pub(super) fn contact_param_encode(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let (name, addr) = (arg_str(args, 0), arg_str(args, 1));
    let m = ctx.msg;
    let uris = contact_uris(m);
    let Some(first) = uris.first().map(|u| u.2) else {
        return Ok(1);
    };
    for &(s, e, _) in uris.iter().filter(|u| u.2 == first) {
        if e - s <= 4 {
            continue;
        }
        let enc = b64url_encode(&m.as_bytes()[s..e]);
        let bracketed = s > 0 && m.as_bytes()[s - 1] == b'<';
        let new = if bracketed {
            format!("{addr};{name}={enc}")
        } else {
            format!("<{addr};{name}={enc}>")
        };
        ctx.edits.replace_range(s, e, new.as_bytes());
    }
    Ok(1)
}

/// The value of parameter `name` (ignoring case) of URI `u`, when it has one.
fn param_value<'a>(u: &'a str, name: &str) -> Option<&'a str> {
    let uri = Uri::parse(u).ok()?;
    ParamIter::new(uri.params().raw(), b';')
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// `contact_param_decode(name)`: each Contact URI with parameter `name` becomes the URI the
/// parameter holds; -1 when a value does not decode.
pub(super) fn contact_param_decode(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let m = ctx.msg;
    for (s, e, _) in contact_uris(m) {
        if e - s < 4 {
            continue;
        }
        let Some(v) = param_value(text(m, s, e), &name) else {
            continue;
        };
        match b64url_decode(v).filter(|d| !d.is_empty()) {
            Some(d) => ctx.edits.replace_range(s, e, &d),
            None => return Ok(-1),
        }
    }
    Ok(1)
}

/// `contact_param_decode_ruri(name)`: the same on the Request-URI; 1 also without the
/// parameter.
pub(super) fn contact_param_decode_ruri(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let ruri = ctx.ruri_str().to_string();
    if Uri::parse(&ruri).is_err() {
        return Ok(-1);
    }
    let Some(v) = param_value(&ruri, &name) else {
        return Ok(1);
    };
    match b64url_decode(v).filter(|d| !d.is_empty()) {
        Some(d) => {
            ctx.ruri = Some(String::from_utf8_lossy(&d).into_owned());
            Ok(1)
        }
        None => Ok(-1),
    }
}

/// `contact_param_rm(name)`: removes `;name[=value]` from each Contact URI.
pub(super) fn contact_param_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let m = ctx.msg;
    for (s, e, _) in contact_uris(m) {
        let u = text(m, s, e);
        let Ok(uri) = Uri::parse(u) else {
            return Ok(-1);
        };
        let raw = uri.params().raw();
        if raw.is_empty() {
            continue;
        }
        let pbase = s + (raw.as_ptr() as usize - u.as_ptr() as usize);
        let mut at = 0;
        for piece in raw.split(';') {
            let n = piece.split('=').next().unwrap_or("").trim();
            if n.eq_ignore_ascii_case(&name) {
                ctx.edits
                    .replace_range(pbase + at - 1, pbase + at + piece.len(), b"");
                break;
            }
            at += piece.len() + 1;
        }
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        let u = b"sip:alice@127.0.0.1:23061;transport=udp";
        let e = b64url_encode(u);
        assert_eq!(e, "c2lwOmFsaWNlQDEyNy4wLjAuMToyMzA2MTt0cmFuc3BvcnQ9dWRw");
        assert_eq!(b64url_decode(&e).unwrap(), u);
        for n in 0..8 {
            let d: Vec<u8> = (0..n).map(|i| (i * 37 + 250) as u8).collect();
            assert_eq!(b64url_decode(&b64url_encode(&d)).unwrap(), d, "{n}");
        }
        assert_eq!(b64url_encode(b"a"), "YQ");
        assert_eq!(b64url_decode("YQ==").unwrap(), b"a");
        assert!(b64url_decode("a+b").is_none());
    }
}
