//! textops' multipart body filter.

use crate::host::natives::arg_str;
use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError};

/// The start of the first line at or after `from` (lines end in CRLF) that starts with
/// `text`.
fn line_starting(b: &[u8], mut from: usize, text: &[u8]) -> Option<usize> {
    while from + text.len() <= b.len() {
        if b[from..].starts_with(text) {
            return Some(from);
        }
        let cr = memchr::memchr(b'\r', &b[from..])? + from;
        if b.get(cr + 1) != Some(&b'\n') {
            return None;
        }
        from = cr + 2;
    }
    None
}

/// `filter_body(type)`: of a multipart body, keeps only the content of the first part whose
/// `Content-Type: ` line starts with `type` (everything before it and from its closing
/// boundary on goes). -1 for a body that is not multipart, has no boundary, or no such part.
pub(super) fn filter_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let want = arg_str(args, 0).into_owned();
    let m = ctx.msg;
    let b = m.body();
    if b.is_empty() || want.is_empty() {
        return Ok(-1);
    }
    let boundary = match m.content_type() {
        Ok(Some(ct)) if ct.mtype.eq_ignore_ascii_case("multipart") => {
            match ct.params.get("boundary").flatten() {
                Some(v) => format!("--{}", v.trim_matches('"')),
                None => return Ok(-1),
            }
        }
        _ => return Ok(-1),
    };
    const CT: &[u8] = b"content-type: ";
    let mut at = 0;
    loop {
        // The next line starting with `Content-Type: ` (any case).
        let line = loop {
            if at + CT.len() > b.len() {
                return Ok(-1);
            }
            if b[at..at + CT.len()].eq_ignore_ascii_case(CT) {
                break at;
            }
            let Some(cr) = memchr::memchr(b'\r', &b[at..]) else {
                return Ok(-1);
            };
            if b.get(at + cr + 1) != Some(&b'\n') {
                return Ok(-1);
            }
            at += cr + 2;
        };
        let v = line + CT.len();
        let w = want.as_bytes();
        if b.len() - v <= w.len() + 2 {
            return Ok(-1);
        }
        if !b[v..v + w.len()].eq_ignore_ascii_case(w) {
            at = v;
            let Some(cr) = memchr::memchr(b'\r', &b[at..]) else {
                return Ok(-1);
            };
            at += cr + 2;
            continue;
        }
        let mut p = v + w.len();
        if &b[p..p + 2] != b"\r\n" {
            return Ok(-1);
        }
        p += 2;
        while p < b.len() && (b[p] == b'\r' || b[p] == b'\n') {
            p += 1;
        }
        let Some(q) = line_starting(b, p, boundary.as_bytes()) else {
            return Ok(-1);
        };
        let off = m.body_offset();
        ctx.edits.replace_range(off, off + p, b"");
        ctx.edits
            .replace_range(off + q.saturating_sub(2).max(p), off + b.len(), b"");
        return Ok(1);
    }
}

/// The part whose `Content-Type: ` line is `want` + CRLF: (start of that line, after it,
/// start of the closing boundary line, after that line). `None` when there is none.
fn find_part(b: &[u8], boundary: &[u8], want: &[u8]) -> Option<(usize, usize, usize, usize)> {
    const CT: &[u8] = b"content-type: ";
    let mut at = 0;
    loop {
        let line = loop {
            if at + CT.len() > b.len() {
                return None;
            }
            if b[at..at + CT.len()].eq_ignore_ascii_case(CT) {
                break at;
            }
            let cr = memchr::memchr(b'\r', &b[at..])?;
            if b.get(at + cr + 1) != Some(&b'\n') {
                return None;
            }
            at += cr + 2;
        };
        let v = line + CT.len();
        if b.len() - v <= want.len() + 2 {
            return None;
        }
        if !b[v..v + want.len()].eq_ignore_ascii_case(want) {
            let cr = memchr::memchr(b'\r', &b[v..])?;
            at = v + cr + 2;
            continue;
        }
        let p = v + want.len();
        if &b[p..p + 2] != b"\r\n" {
            return None;
        }
        let hdr_end = p + 2;
        let bstart = line_starting(b, hdr_end, boundary)?;
        let after = bstart + boundary.len();
        let bend = memchr::memchr(b'\r', &b[after..]).map_or(b.len(), |cr| after + cr + 2);
        return Some((line, hdr_end, bstart, bend.min(b.len())));
    }
}

/// `get_body_part(type, pv)` (`raw`: `get_body_part_raw`): the part of a multipart body
/// typed `type` into `pv`: from after its Content-Type line to its closing boundary (raw:
/// from its Content-Type line to the end of the boundary line). A body without a boundary
/// is given whole.
fn body_part(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], raw: bool) -> Result<i64, HostError> {
    let want = arg_str(args, 0).into_owned();
    let m = ctx.msg;
    let b = m.body();
    if b.is_empty() {
        return Ok(-1);
    }
    let boundary = match m.content_type() {
        Ok(Some(ct)) => ct
            .params
            .get("boundary")
            .flatten()
            .map(|v| format!("--{}", v.trim_matches('"'))),
        _ => None,
    };
    let value = match boundary {
        None => String::from_utf8_lossy(b).into_owned(),
        Some(bd) => match find_part(b, bd.as_bytes(), want.as_bytes()) {
            Some((line, hdr_end, bstart, bend)) => {
                let (s, e) = if raw { (line, bend) } else { (hdr_end, bstart) };
                String::from_utf8_lossy(&b[s..e]).into_owned()
            }
            None => return Ok(-1),
        },
    };
    let Some(ArgValue::Pv(pv)) = args.get(1) else {
        return Err(HostError("argument 2 is not a pseudo-variable".into()));
    };
    let prog = ctx.snap.program.clone();
    let key = crate::host::natives::static_key(&prog, *pv)?;
    sipvm_vm::Host::set_pv(ctx, &prog, key, sipvm_vm::Value::Str(value.into()))?;
    Ok(1)
}

pub(super) fn get_body_part(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    body_part(ctx, args, false)
}

pub(super) fn get_body_part_raw(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    body_part(ctx, args, true)
}

/// `remove_body_part(type)`: removes the part typed `type`, from its Content-Type line to
/// the end of its closing boundary line; -1 when the body has no boundary or no such part.
pub(super) fn remove_body_part(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let want = arg_str(args, 0).into_owned();
    let m = ctx.msg;
    let b = m.body();
    if b.is_empty() {
        return Ok(-1);
    }
    let Some(bd) = (match m.content_type() {
        Ok(Some(ct)) => ct
            .params
            .get("boundary")
            .flatten()
            .map(|v| format!("--{}", v.trim_matches('"'))),
        _ => None,
    }) else {
        return Ok(-1);
    };
    let Some((line, _, _, bend)) = find_part(b, bd.as_bytes(), want.as_bytes()) else {
        return Ok(-1);
    };
    let off = m.body_offset();
    ctx.edits.replace_range(off + line, off + bend, b"");
    Ok(1)
}
