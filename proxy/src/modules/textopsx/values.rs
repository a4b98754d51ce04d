//! textopsx's header value functions (`append_hf_value` & co.) for a plain header name:
//! values are the comma-separated items of the headers with that name. Kamailio's select
//! forms (`Route[2]`, `Supported[-1]`, `Via.branch`) are refused with an error.

use super::truth;
use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::modules::textops::headers_named;
use crate::sip::{HeaderPos, Msg};
use sipvm_vm::{ArgValue, HostError};

/// The header name of argument 0; an indexed or dotted form is not supported.
fn hname(args: &[ArgValue<'_>]) -> Result<String, HostError> {
    let n = arg_str(args, 0).trim().to_string();
    if n.is_empty() || n.contains(['[', ']', '.']) {
        return Err(HostError(format!(
            "{n:?}: sipvm supports plain header names here, not Kamailio's indexed or parameter forms yet"
        )));
    }
    Ok(n)
}

/// The values of header `i` as message offsets `(start, end)`, trimmed; commas inside quotes
/// or `<...>` do not split.
fn values(m: &Msg, i: usize) -> Vec<(usize, usize)> {
    let Some(h) = m.header(i) else {
        return Vec::new();
    };
    let base = h.value.as_ptr() as usize - m.as_bytes().as_ptr() as usize;
    let v = h.value;
    let mut out = Vec::new();
    let (mut start, mut q, mut angle) = (0, false, false);
    let push = |s: usize, e: usize, out: &mut Vec<(usize, usize)>| {
        let mut s = s;
        let mut e = e;
        while s < e && v[s].is_ascii_whitespace() {
            s += 1;
        }
        while e > s && v[e - 1].is_ascii_whitespace() {
            e -= 1;
        }
        if s < e {
            out.push((base + s, base + e));
        }
    };
    for (k, &c) in v.iter().enumerate() {
        match c {
            b'"' => q = !q,
            b'<' if !q => angle = true,
            b'>' if !q => angle = false,
            b',' if !q && !angle => {
                push(start, k, &mut out);
                start = k + 1;
            }
            _ => {}
        }
    }
    push(start, v.len(), &mut out);
    out
}

fn text(m: &Msg, (s, e): (usize, usize)) -> &[u8] {
    &m.as_bytes()[s..e]
}

/// The range that removing value `k` of `vals` cuts: the value and the comma after it (the
/// comma before it for the last one).
fn cut(m: &Msg, vals: &[(usize, usize)], k: usize) -> (usize, usize) {
    let (s, e) = vals[k];
    let b = m.as_bytes();
    if k + 1 < vals.len() {
        let comma = memchr::memchr(b',', &b[e..vals[k + 1].0]).map_or(e, |i| e + i + 1);
        (s, comma)
    } else if k > 0 {
        let prev_end = vals[k - 1].1;
        let comma = memchr::memrchr(b',', &b[prev_end..s]).map_or(s, |i| prev_end + i);
        (comma, e)
    } else {
        (s, e)
    }
}

/// `hf_value_exists(name, value)`: some header `name` lists `value` (ignoring case).
pub(super) fn hf_value_exists(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let want = arg_str(args, 1);
    let m = ctx.msg;
    Ok(truth(headers_named(m, &name).into_iter().any(|i| {
        values(m, i)
            .into_iter()
            .any(|r| text(m, r).eq_ignore_ascii_case(want.as_bytes()))
    })))
}

/// `append_hf_value(name, value)`: a new header `name: value` after the last header.
pub(super) fn append_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let line = format!("{name}: {}\r\n", arg_str(args, 1));
    ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
    Ok(1)
}

/// `insert_hf_value(name, value)`: a new header `name: value` before the first `name` (after
/// the last header when there is none).
pub(super) fn insert_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let line = format!("{name}: {}\r\n", arg_str(args, 1));
    let pos = headers_named(ctx.msg, &name)
        .first()
        .map_or(HeaderPos::End, |&i| HeaderPos::Before(i));
    ctx.edits.add_header_raw(pos, line.as_bytes());
    Ok(1)
}

/// `remove_hf_value(name)`: removes the first value of the first header `name` (the header
/// when it is the only one).
pub(super) fn remove_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let m = ctx.msg;
    let Some(&i) = headers_named(m, &name).first() else {
        return Ok(-1);
    };
    let vals = values(m, i);
    if vals.is_empty() {
        return Ok(-1);
    }
    if vals.len() == 1 {
        // Its only value: the header goes.
        ctx.edits.remove_header(i);
        return Ok(1);
    }
    let (s, e) = cut(m, &vals, 0);
    ctx.edits.replace_range(s, e, b"");
    Ok(1)
}

/// `assign_hf_value(name, value)`: replaces the first value of the first header `name`.
pub(super) fn assign_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let new = arg_str(args, 1);
    let m = ctx.msg;
    let Some(&i) = headers_named(m, &name).first() else {
        return Ok(-1);
    };
    let Some(&(s, e)) = values(m, i).first() else {
        return Ok(-1);
    };
    ctx.edits.replace_range(s, e, new.as_bytes());
    Ok(1)
}

/// `include_hf_value(name, value)`: adds `,value` to the last header `name` unless some
/// header lists it already (a new header when there is none).
pub(super) fn include_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if hf_value_exists(ctx, args)? == 1 {
        return Ok(1);
    }
    let name = hname(args)?;
    let v = arg_str(args, 1).into_owned();
    let m = ctx.msg;
    let found = headers_named(m, &name);
    match found.last().and_then(|&i| values(m, i).last().copied()) {
        Some((_, e)) => ctx.edits.insert_at(e, format!(",{v}").as_bytes()),
        None => {
            let line = format!("{name}: {v}\r\n");
            ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
        }
    }
    Ok(1)
}

/// `exclude_hf_value(name, value)`: removes `value` (ignoring case) from every header `name`.
pub(super) fn exclude_hf_value(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let want = arg_str(args, 1).into_owned();
    let m = ctx.msg;
    for i in headers_named(m, &name) {
        let vals = values(m, i);
        for k in 0..vals.len() {
            if text(m, vals[k]).eq_ignore_ascii_case(want.as_bytes()) {
                if vals.len() == 1 {
                    ctx.edits.remove_header(i);
                    continue;
                }
                let (s, e) = cut(m, &vals, k);
                ctx.edits.replace_range(s, e, b"");
            }
        }
    }
    Ok(1)
}

/// `remove_hf_value2(name)`: the first header `name` goes, whatever values it lists.
pub(super) fn remove_hf_value2(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let Some(&i) = headers_named(ctx.msg, &name).first() else {
        return Ok(-1);
    };
    ctx.edits.remove_header(i);
    Ok(1)
}

/// `assign_hf_value2(name, value)`: the whole value of the first header `name` becomes
/// `value` (emptied for an empty one).
pub(super) fn assign_hf_value2(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = hname(args)?;
    let new = arg_str(args, 1);
    let m = ctx.msg;
    let Some(&i) = headers_named(m, &name).first() else {
        return Ok(-1);
    };
    let Some(h) = m.header(i) else {
        return Ok(-1);
    };
    let s = h.value.as_ptr() as usize - m.as_bytes().as_ptr() as usize;
    ctx.edits
        .replace_range(s, s + h.value.len(), new.as_bytes());
    Ok(1)
}
