//! textops' regex and string replacements over the message as received (Kamailio's lumps:
//! every match is found in the received bytes, edits are applied when the message leaves).

use super::{arg_regex, byte_regex, headers_named, subst_expr, truth, Repl, SubstExpr};
use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::sip::{HeaderPos, Msg, Uri};
use sipvm_vm::{ArgValue, HostError};

/// After the first line: where Kamailio's `get_header()` starts.
fn headers_start(m: &Msg) -> usize {
    let b = m.as_bytes();
    memchr::memchr(b'\n', b).map_or(b.len(), |i| i + 1)
}

/// The end of the header block (the empty line included).
fn headers_end(m: &Msg) -> usize {
    m.body_offset()
}

/// The byte offset of a slice of the message's buffer.
fn offset_in(m: &Msg, part: &[u8]) -> usize {
    part.as_ptr() as usize - m.as_bytes().as_ptr() as usize
}

/// Replaces the first (or every) match of `re` in `start..end` of the message with `with`.
fn replace_in(
    ctx: &mut Ctx<'_>,
    re: &regex::bytes::Regex,
    start: usize,
    end: usize,
    with: &[u8],
    all: bool,
) -> i64 {
    let hay = &ctx.msg.as_bytes()[start..end];
    let mut spans = Vec::new();
    for m in re.find_iter(hay) {
        if m.is_empty() {
            break;
        }
        spans.push((start + m.start(), start + m.end()));
        if !all {
            break;
        }
    }
    for &(s, e) in &spans {
        ctx.edits.replace_range(s, e, with);
    }
    truth(!spans.is_empty())
}

fn body_range(m: &Msg) -> (usize, usize) {
    (m.body_offset(), m.as_bytes().len())
}

/// `replace(re, txt)`: the first match after the first line.
pub(super) fn replace(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = (headers_start(ctx.msg), ctx.msg.as_bytes().len());
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        false,
    ))
}

/// `replace_all(re, txt)`: every match after the first line.
pub(super) fn replace_all(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = (headers_start(ctx.msg), ctx.msg.as_bytes().len());
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        true,
    ))
}

/// `replace_hdrs(re, txt)`: the first match in the headers.
pub(super) fn replace_hdrs(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = (headers_start(ctx.msg), headers_end(ctx.msg));
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        false,
    ))
}

/// `replace_body(re, txt)`: the first match in the body.
pub(super) fn replace_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = body_range(ctx.msg);
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        false,
    ))
}

/// `replace_body_all(re, txt)`: every match in the body.
pub(super) fn replace_body_all(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = body_range(ctx.msg);
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        true,
    ))
}

/// `replace_body_atonce(re, txt)`: every match in the body, the regex compiled without
/// `REG_NEWLINE` (`.` matches a newline, `^`/`$` only at the ends).
pub(super) fn replace_body_atonce(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let pat = match args.first() {
        Some(ArgValue::Regex(r)) => r.as_str().to_string(),
        _ => arg_str(args, 0).into_owned(),
    };
    let re = byte_regex(&pat, true, false)?;
    let (s, e) = body_range(ctx.msg);
    Ok(replace_in(
        ctx,
        &re,
        s,
        e,
        arg_str(args, 1).as_bytes(),
        true,
    ))
}

/// The `*_str` replacements: `key` (case-sensitive) from `start`; mode `f` (the default) the
/// first one only, anything else all of them. As in Kamailio, after the first match the
/// search runs to the end of the message whatever the starting region, and the answer is 1
/// whether or not anything matched.
fn replace_str_from(ctx: &mut Ctx<'_>, start: usize, args: &[ArgValue<'_>]) -> i64 {
    let (key, with, mode) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    let buf = ctx.msg.as_bytes();
    if key.is_empty() || start >= buf.len() {
        return 1;
    }
    let first_only = mode.is_empty() || mode.starts_with(['f', 'F']);
    let key = key.as_bytes();
    let mut at = start;
    let mut spans = Vec::new();
    while let Some(p) = memchr::memmem::find(&buf[at..], key) {
        spans.push(at + p);
        if first_only {
            break;
        }
        at += p + key.len();
    }
    for s in spans {
        ctx.edits.replace_range(s, s + key.len(), with.as_bytes());
    }
    1
}

pub(super) fn replace_str(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = headers_start(ctx.msg);
    Ok(replace_str_from(ctx, s, args))
}

/// `replace_hdrs_str`: from the first header (-1 without headers).
pub(super) fn replace_hdrs_str(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.msg.header_count() == 0 {
        return Ok(-1);
    }
    let s = headers_start(ctx.msg);
    Ok(replace_str_from(ctx, s, args))
}

/// `replace_body_str`: from the body (-1 without one).
pub(super) fn replace_body_str(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.msg.body().is_empty() {
        return Ok(-1);
    }
    let s = ctx.msg.body_offset();
    Ok(replace_str_from(ctx, s, args))
}

/// `search_append(re, txt)`: `txt` inserted after the first match in the whole message.
pub(super) fn search_append(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    Ok(append_after(
        ctx,
        &re,
        0,
        ctx.msg.as_bytes().len(),
        &arg_str(args, 1),
    ))
}

/// `search_append_body(re, txt)`: the same in the body.
pub(super) fn search_append_body(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let (s, e) = body_range(ctx.msg);
    Ok(append_after(ctx, &re, s, e, &arg_str(args, 1)))
}

fn append_after(ctx: &mut Ctx<'_>, re: &regex::bytes::Regex, s: usize, e: usize, txt: &str) -> i64 {
    if s >= e {
        return -1;
    }
    match re.find(&ctx.msg.as_bytes()[s..e]) {
        Some(m) => {
            ctx.edits.insert_at(s + m.end(), txt.as_bytes());
            1
        }
        None => -1,
    }
}

/// `search_hf(name, re, flags)`: the regex matches the value of a header `name`: `f` the
/// first such header, `l` the last, anything else any of them.
pub(super) fn search_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 1)?;
    let found = headers_named(ctx.msg, &arg_str(args, 0));
    let flags = arg_str(args, 2);
    let pick: Vec<usize> = match flags.as_bytes().first() {
        Some(b'f') => found.first().copied().into_iter().collect(),
        Some(b'l') => found.last().copied().into_iter().collect(),
        _ => found,
    };
    let m = ctx.msg;
    Ok(truth(pick.iter().any(|&i| {
        m.header(i).is_some_and(|h| re.is_match(h.value))
    })))
}

/// Applies a parsed `subst` expression to `text`: the replacement, or `None` when nothing
/// matched (or a match was empty, which Kamailio refuses).
fn subst_text(se: &SubstExpr, text: &[u8], ruri: &str) -> Option<Vec<(usize, usize, Vec<u8>)>> {
    let mut edits = Vec::new();
    for caps in se.re.captures_iter(text) {
        let m = caps.get(0)?;
        if m.is_empty() {
            return None;
        }
        let mut out = Vec::new();
        for piece in &se.repl {
            match piece {
                Repl::Lit(l) => out.extend_from_slice(l),
                Repl::Group(n) => {
                    if let Some(g) = caps.get(*n) {
                        out.extend_from_slice(g.as_bytes());
                    }
                }
                Repl::Uri => out.extend_from_slice(ruri.as_bytes()),
            }
        }
        edits.push((m.start(), m.end(), out));
        if !se.global {
            break;
        }
    }
    (!edits.is_empty()).then_some(edits)
}

/// `text` with `edits` applied.
fn spliced(text: &[u8], edits: &[(usize, usize, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (s, e, d) in edits {
        out.extend_from_slice(&text[at..*s]);
        out.extend_from_slice(d);
        at = *e;
    }
    out.extend_from_slice(&text[at..]);
    out
}

/// Records `edits` of the region starting at `off` of the message.
fn apply_at(ctx: &mut Ctx<'_>, off: usize, edits: Vec<(usize, usize, Vec<u8>)>) {
    for (s, e, d) in edits {
        ctx.edits.replace_range(off + s, off + e, &d);
    }
}

/// `subst_body('/re/repl/flags')`.
pub(super) fn subst_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let se = subst_expr(&arg_str(args, 0))?;
    let ruri = ctx.ruri_str().to_string();
    let off = ctx.msg.body_offset();
    let Some(edits) = subst_text(&se, ctx.msg.body(), &ruri) else {
        return Ok(-1);
    };
    apply_at(ctx, off, edits);
    Ok(1)
}

/// `subst_hf(name, '/re/repl/flags', flags)`: on the values of the headers `name`: `f` the
/// first, `l` the last, anything else each of them.
pub(super) fn subst_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let se = subst_expr(&arg_str(args, 1))?;
    let ruri = ctx.ruri_str().to_string();
    let found = headers_named(ctx.msg, &arg_str(args, 0));
    let flags = arg_str(args, 2);
    let pick: Vec<usize> = match flags.as_bytes().first() {
        Some(b'f') => found.first().copied().into_iter().collect(),
        Some(b'l') => found.last().copied().into_iter().collect(),
        _ => found,
    };
    let m = ctx.msg;
    let mut any = false;
    for i in pick {
        let Some(h) = m.header(i) else { continue };
        if let Some(edits) = subst_text(&se, h.value, &ruri) {
            apply_at(ctx, offset_in(m, h.value), edits);
            any = true;
        }
    }
    Ok(truth(any))
}

/// `subst_uri('/re/repl/flags')`: on the current Request-URI, which is rewritten.
pub(super) fn subst_uri(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let se = subst_expr(&arg_str(args, 0))?;
    let ruri = ctx.ruri_str().to_string();
    let Some(edits) = subst_text(&se, ruri.as_bytes(), &ruri) else {
        return Ok(-1);
    };
    let new = String::from_utf8_lossy(&spliced(ruri.as_bytes(), &edits)).into_owned();
    ctx.ruri = Some(new);
    Ok(1)
}

/// `subst_user('/re/repl/flags')`: on the user part of the Request-URI (an empty one when it
/// has none); an empty result removes the user.
pub(super) fn subst_user(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let se = subst_expr(&arg_str(args, 0))?;
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let user = u.user().unwrap_or("");
    let Some(edits) = subst_text(&se, user.as_bytes(), &ruri) else {
        return Ok(-1);
    };
    let new_user = String::from_utf8_lossy(&spliced(user.as_bytes(), &edits)).into_owned();
    let user = (!new_user.is_empty()).then_some(new_user.as_str());
    let new = crate::host::uri_edit::rewrite(&ruri, &crate::host::uri_edit::UriChange::user(user));
    ctx.ruri = Some(new);
    Ok(1)
}

/// `append_urihf(prefix, suffix)`: a header `prefix<Request-URI>suffix` after the last one.
pub(super) fn append_urihf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let line = format!("{}{}{}", arg_str(args, 0), ctx.ruri_str(), arg_str(args, 1));
    ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
    Ok(1)
}
