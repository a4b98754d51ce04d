//! `set_body_multipart`, `append_body_part`, `append_body_part_hex`: multipart/mixed bodies
//! built as Kamailio 5.6 builds them (parts closed by `--boundary` CRLF, never by
//! `--boundary--`). Both read the message as received: a part appended after
//! `set_body_multipart` needs a multipart body in the received message.

use super::headers_named;
use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::sip::{HeaderPos, Msg};
use sipvm_vm::{ArgValue, HostError};

/// One part with its closing delimiter (Kamailio's `generate_boundary`): with `initial`,
/// the opening `--delim` line too. `None` for an empty text, type or delimiter, or a
/// delimiter starting with `-`.
fn part(txt: &[u8], ctype: &str, disp: &str, delim: &str, initial: bool) -> Option<Vec<u8>> {
    if txt.is_empty() || ctype.is_empty() || delim.is_empty() || delim.starts_with('-') {
        return None;
    }
    let mut n = Vec::with_capacity(txt.len() + ctype.len() + disp.len() + 2 * delim.len() + 64);
    if initial {
        n.extend_from_slice(b"--");
        n.extend_from_slice(delim.as_bytes());
        n.extend_from_slice(b"\r\n");
    }
    n.extend_from_slice(b"Content-Type: ");
    n.extend_from_slice(ctype.as_bytes());
    n.extend_from_slice(b"\r\n");
    if !disp.is_empty() {
        n.extend_from_slice(b"Content-Disposition: ");
        n.extend_from_slice(disp.as_bytes());
        n.extend_from_slice(b"\r\n");
    }
    n.extend_from_slice(b"\r\n");
    n.extend_from_slice(txt);
    if !txt.ends_with(b"\r\n\r\n") {
        n.extend_from_slice(b"\r\n");
    }
    n.extend_from_slice(b"--");
    n.extend_from_slice(delim.as_bytes());
    n.extend_from_slice(b"\r\n");
    Some(n)
}

/// The raw value of the first Content-Type header, and its index.
fn content_type(m: &Msg) -> Option<(usize, &[u8])> {
    let i = *headers_named(m, "Content-Type").first()?;
    Some((i, m.header(i)?.value))
}

/// The boundary of a Content-Type value as Kamailio's `get_mixed_part_delimiter` reads it:
/// the first parameter must be `boundary`; its value runs to the end of the header, quotes
/// around it removed.
fn delimiter(ct: &[u8]) -> Option<&[u8]> {
    let semi = memchr::memchr(b';', ct)?;
    let mut p = &ct[semi + 1..];
    p = trim_blank(p);
    if p.len() < 8 || !p[..8].eq_ignore_ascii_case(b"boundary") {
        return None;
    }
    p = trim_blank(&p[8..]);
    p = p.strip_prefix(b"=")?;
    while p.len() > 1 && matches!(p[0], b' ' | b'\t') {
        p = &p[1..];
    }
    match p.first() {
        Some(&q @ (b'"' | b'\'')) => {
            if p.len() < 2 || p[p.len() - 1] != q || p.len() == 2 {
                return None;
            }
            Some(&p[1..p.len() - 1])
        }
        Some(_) => Some(p),
        None => None,
    }
}

/// The `boundary` parameter of the received Content-Type (Kamailio's `get_boundary`).
fn received_boundary(m: &Msg) -> Option<Vec<u8>> {
    let (_, ct) = content_type(m)?;
    let semi = memchr::memchr(b';', ct)?;
    ct[semi + 1..].split(|&c| c == b';').find_map(|p| {
        let (n, v) = match memchr::memchr(b'=', p) {
            Some(i) => (&p[..i], &p[i + 1..]),
            None => (p, &b""[..]),
        };
        if !n.trim_ascii().eq_ignore_ascii_case(b"boundary") {
            return None;
        }
        let v = v.trim_ascii();
        let v = v
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(v);
        Some(v.to_vec())
    })
}

/// Kamailio's `check_boundaries`, run when it sends a request whose multipart body a
/// function built: each delimiter line (one starting with `--b`) but the last becomes
/// `--b` CRLF, the last `--b--` CRLF, and what follows it goes. `None` (body left as it is)
/// with fewer than two delimiter lines.
fn fix_boundaries(body: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    let ob = [&b"--"[..], b].concat();
    let line_b = [&ob[..], b"\r\n"].concat();
    let mut starts = Vec::new();
    let mut pos = 0;
    'find: while body.len() >= pos + ob.len() {
        let mut st = pos;
        loop {
            if body.len() < st + ob.len() {
                break 'find;
            }
            if body[st..].starts_with(&ob) {
                break;
            }
            match memchr::memchr(b'\r', &body[st..body.len() - 1]) {
                Some(i) if body[st + i + 1] == b'\n' => st += i + 2,
                _ => break 'find,
            }
        }
        starts.push(st);
        pos = st + ob.len();
    }
    if starts.len() < 2 {
        return None;
    }
    let line_len = |s: usize| match memchr::memchr(b'\r', &body[s..]) {
        Some(i) if body.get(s + i + 1) == Some(&b'\n') => i + 2,
        Some(_) => 0,
        None => body.len() - s,
    };
    let mut out = Vec::with_capacity(body.len() + 2);
    for w in starts.windows(2) {
        let (s, next) = (w[0], w[1]);
        let l = line_len(s);
        if body[s..s + l] != line_b[..] {
            out.extend_from_slice(&line_b);
            out.extend_from_slice(&body[(s + l).min(next)..next]);
        } else {
            out.extend_from_slice(&body[s..next]);
        }
    }
    out.extend_from_slice(&ob);
    out.extend_from_slice(b"--\r\n");
    Some(out)
}

/// The body with the edits recorded so far.
fn current_body(ctx: &Ctx<'_>) -> Vec<u8> {
    let m = ctx.msg;
    if ctx.edits.is_empty() {
        return m.body().to_vec();
    }
    let mut out = Vec::with_capacity(m.len() + 256);
    if m.serialize(&ctx.edits, &mut out).is_err() {
        return m.body().to_vec();
    }
    match memchr::memmem::find(&out, b"\r\n\r\n") {
        Some(i) => out[i + 4..].to_vec(),
        None => Vec::new(),
    }
}

/// Sets a multipart body, its delimiters fixed as Kamailio fixes them when it sends.
fn put_body(ctx: &mut Ctx<'_>, body: Vec<u8>) {
    let fixed = received_boundary(ctx.msg).and_then(|b| fix_boundaries(&body, &b));
    ctx.edits.set_body(fixed.as_deref().unwrap_or(&body));
}

fn trim_blank(mut p: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = p {
        p = rest;
    }
    p
}

/// `set_body_multipart([body, content_type][, boundary])` (one argument: the boundary):
/// the body becomes a multipart/mixed one whose first part is `body` (`text/plain` by
/// default) or, without `body`, the received body with its own type; the boundary defaults
/// to `unique-boundary-1`. A body that is not multipart/mixed yet gets the new Content-Type
/// and `Mime-Version: 1.0`. 1 and no change for a multipart body without `body`; -1 when
/// there is no body at all.
pub(super) fn set_body_multipart(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let (nbody, ctype, boundary) = match args.len() {
        0 => (String::new(), String::new(), String::new()),
        1 => (String::new(), String::new(), arg_str(args, 0).into_owned()),
        2 => (
            arg_str(args, 0).into_owned(),
            arg_str(args, 1).into_owned(),
            String::new(),
        ),
        _ => (
            arg_str(args, 0).into_owned(),
            arg_str(args, 1).into_owned(),
            arg_str(args, 2).into_owned(),
        ),
    };
    let m = ctx.msg;
    let is_multi = matches!(m.content_type(), Ok(Some(ct)) if ct.is("multipart", "mixed"));
    if is_multi && nbody.is_empty() {
        return Ok(1);
    }
    let newctype = if ctype.is_empty() {
        "text/plain"
    } else {
        &ctype
    };
    let delim = if boundary.is_empty() {
        "unique-boundary-1"
    } else {
        &boundary
    };
    let body = m.body();
    let ct = content_type(m);
    let nbb = if !nbody.is_empty() {
        part(nbody.as_bytes(), newctype, "", delim, true)
    } else if body.is_empty() {
        return Ok(-1);
    } else {
        // The received body becomes the first part, with its own type.
        let old_ct = ct.map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        let t = old_ct
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or(newctype);
        part(body, t, "", delim, true)
    };
    let Some(nbb) = nbb else {
        // Kamailio has removed the received body by then, and leaves it removed.
        if !body.is_empty() {
            ctx.edits.set_body(b"");
        }
        return Ok(-1);
    };
    if !is_multi {
        if let Some((i, _)) = ct {
            ctx.edits.remove_header(i);
        }
        let line = format!("Content-Type: multipart/mixed;boundary=\"{delim}\"\r\n");
        ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
        ctx.edits
            .add_header_raw(HeaderPos::End, b"Mime-Version: 1.0\r\n");
    }
    put_body(ctx, nbb);
    Ok(1)
}

fn append_part(ctx: &mut Ctx<'_>, txt: &[u8], ctype: &str, disp: &str) -> Result<i64, HostError> {
    if txt.is_empty() || ctype.is_empty() {
        return Ok(-1);
    }
    let m = ctx.msg;
    if m.body().is_empty() {
        return Ok(-1);
    }
    let Some(delim) = content_type(m).and_then(|(_, v)| delimiter(v)) else {
        return Ok(-1);
    };
    let delim = String::from_utf8_lossy(delim).into_owned();
    let Some(nbb) = part(txt, ctype, disp, &delim, false) else {
        return Ok(-1);
    };
    let mut body = current_body(ctx);
    body.extend_from_slice(&nbb);
    put_body(ctx, body);
    Ok(1)
}

/// `append_body_part(text, content_type[, disposition])`: a part added at the end of the
/// received multipart body (its boundary from the Content-Type); -1 without a body or a
/// boundary.
pub(super) fn append_body_part(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (txt, ct, cd) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    append_part(ctx, txt.as_bytes(), &ct, &cd)
}

/// Hex digits (blanks between pairs skipped) to bytes; `None` for bad or no data.
fn unhex(h: &[u8]) -> Option<Vec<u8>> {
    let v = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(h.len() / 2);
    let mut i = 0;
    while i < h.len() {
        if matches!(h[i], b' ' | b'\t') {
            i += 1;
            continue;
        }
        let hi = v(h[i])?;
        let lo = v(*h.get(i + 1)?)?;
        out.push(hi << 4 | lo);
        i += 2;
    }
    (!out.is_empty()).then_some(out)
}

/// `append_body_part_hex(hex, content_type[, disposition])`: `append_body_part` with the
/// part's bytes given in hex.
pub(super) fn append_body_part_hex(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let (h, ct, cd) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    if h.is_empty() {
        return Ok(-1);
    }
    let Some(raw) = unhex(h.as_bytes()) else {
        return Ok(-1);
    };
    append_part(ctx, &raw, &ct, &cd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_as_kamailio_reads_them() {
        assert_eq!(
            delimiter(b"multipart/mixed;boundary=abc"),
            Some(&b"abc"[..])
        );
        assert_eq!(
            delimiter(b"multipart/mixed; Boundary = \"a b\""),
            Some(&b"a b"[..])
        );
        assert_eq!(
            delimiter(b"multipart/mixed;boundary=x;y=1"),
            Some(&b"x;y=1"[..])
        );
        assert_eq!(delimiter(b"multipart/mixed;charset=x;boundary=y"), None);
        assert_eq!(delimiter(b"multipart/mixed"), None);
        assert_eq!(delimiter(b"m/m;boundary=\"x"), None);
        assert_eq!(delimiter(b"m/m;boundary=\"\""), None);
    }

    #[test]
    fn hex_and_parts() {
        assert_eq!(unhex(b"41 42\t43"), Some(b"ABC".to_vec()));
        assert_eq!(unhex(b"4"), None);
        assert_eq!(unhex(b"  "), None);
        assert_eq!(unhex(b"4g"), None);
        assert_eq!(
            part(b"x", "text/plain", "", "b", true).unwrap(),
            b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b\r\n"
        );
        assert!(part(b"x", "t/p", "", "-b", false).is_none());
        assert_eq!(
            fix_boundaries(b"--b\r\nx\r\n--b--\r\ny\r\n--b\r\ntail", b"b").unwrap(),
            b"--b\r\nx\r\n--b\r\ny\r\n--b--\r\n"
        );
        assert!(fix_boundaries(b"--b\r\nx\r\n", b"b").is_none());
    }
}
