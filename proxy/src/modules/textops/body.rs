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
            let Some(cr) = memchr::memchr(b'\r', &b[at..]) else { return Ok(-1) };
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
            let Some(cr) = memchr::memchr(b'\r', &b[at..]) else { return Ok(-1) };
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
        let Some(q) = line_starting(b, p, boundary.as_bytes()) else { return Ok(-1) };
        let off = m.body_offset();
        ctx.edits.replace_range(off, off + p, b"");
        ctx.edits.replace_range(off + q.saturating_sub(2).max(p), off + b.len(), b"");
        return Ok(1);
    }
}
