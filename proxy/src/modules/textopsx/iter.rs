//! textopsx's named iterators over the headers (`hf_iterator_*`, `$hfitname`, `$hfitbody`)
//! and over the body lines (`bl_iterator_*`, `$blitval`), kept per message. As in Kamailio,
//! at most 4 of each, names under 32 bytes; `*_start` puts an iterator before the first
//! item and `*_next` moves it (-1 past the last).

use crate::host::natives::arg_str;
use crate::host::{Ctx, MsgState};
use crate::sip::HeaderPos;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};

const MAX_ITERATORS: usize = 4;
const MAX_NAME: usize = 32;

/// Where one iterator is: `None` before the first item, `Some(i)` on item `i`; `done` past
/// the last.
#[derive(Clone, Debug, Default)]
struct Pos {
    name: String,
    at: Option<usize>,
    done: bool,
}

/// The message's iterators.
#[derive(Default)]
pub(super) struct Iters {
    hf: Vec<Pos>,
    bl: Vec<Pos>,
}

impl MsgState for Iters {}

fn find<'a>(v: &'a mut [Pos], name: &str) -> Option<&'a mut Pos> {
    v.iter_mut().find(|p| p.name == name)
}

/// `*_start(name)`: (re)starts the iterator, taking a free one for a new name.
fn start(v: &mut Vec<Pos>, name: &str) -> i64 {
    if name.is_empty() || name.len() >= MAX_NAME {
        return -1;
    }
    if let Some(p) = find(v, name) {
        p.at = None;
        p.done = false;
        return 1;
    }
    if v.len() >= MAX_ITERATORS {
        return -1;
    }
    v.push(Pos {
        name: name.to_string(),
        ..Pos::default()
    });
    1
}

/// Moves the iterator over `n` items.
fn next(v: &mut [Pos], name: &str, n: usize) -> i64 {
    let Some(p) = find(v, name) else { return -1 };
    if p.done {
        return -1;
    }
    let i = p.at.map_or(0, |i| i + 1);
    if i >= n {
        p.at = None;
        p.done = true;
        return -1;
    }
    p.at = Some(i);
    1
}

fn current(v: &[Pos], name: &str) -> Option<usize> {
    v.iter().find(|p| p.name == name).and_then(|p| p.at)
}

pub(super) fn hf_iterator_start(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    Ok(start(&mut ctx.slots.entry::<Iters>().hf, &name))
}

pub(super) fn hf_iterator_next(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let n = ctx.msg.header_count();
    Ok(next(&mut ctx.slots.entry::<Iters>().hf, &name, n))
}

/// `hf_iterator_prev(name)`: back one header; on the first one (or before it) the iterator
/// starts again (1, as Kamailio); -1 past the last.
pub(super) fn hf_iterator_prev(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let it = ctx.slots.entry::<Iters>();
    let Some(p) = find(&mut it.hf, &name) else {
        return Ok(-1);
    };
    if p.done {
        return Ok(-1);
    }
    p.at = p.at.and_then(|i| i.checked_sub(1));
    Ok(1)
}

/// `*_end(name)`: puts the iterator back before the first item (a later `*_next` starts
/// over); -1 for an unknown name.
fn end(v: &mut [Pos], name: &str) -> i64 {
    match find(v, name) {
        Some(p) => {
            p.at = None;
            p.done = false;
            1
        }
        None => -1,
    }
}

pub(super) fn hf_iterator_end(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    Ok(end(&mut ctx.slots.entry::<Iters>().hf, &name))
}

fn hf_current(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Option<usize> {
    let name = arg_str(args, 0);
    current(&ctx.slots.entry::<Iters>().hf, &name)
}

pub(super) fn hf_iterator_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(i) = hf_current(ctx, args) else {
        return Ok(-1);
    };
    ctx.edits.remove_header(i);
    Ok(1)
}

/// `hf_iterator_append(name, text)`: `text` (whole header lines) after the current header.
pub(super) fn hf_iterator_append(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Some(i) = hf_current(ctx, args) else {
        return Ok(-1);
    };
    let text = arg_str(args, 1);
    if text.is_empty() {
        return Ok(-1);
    }
    ctx.edits
        .add_header_raw(HeaderPos::After(i), text.as_bytes());
    Ok(1)
}

pub(super) fn hf_iterator_insert(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Some(i) = hf_current(ctx, args) else {
        return Ok(-1);
    };
    let text = arg_str(args, 1);
    if text.is_empty() {
        return Ok(-1);
    }
    ctx.edits
        .add_header_raw(HeaderPos::Before(i), text.as_bytes());
    Ok(1)
}

/// `$hfitname(name)` / `$hfitbody(name)`: the current header's name / value; `$null` when
/// the iterator is not on a header.
pub(super) fn pv_hfitname(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let i = current(&ctx.slots.entry::<Iters>().hf, key.name.unwrap_or(""));
    Ok(match i.and_then(|i| ctx.msg.header(i)) {
        Some(h) => Value::Str(String::from_utf8_lossy(h.name_str).as_ref().into()),
        None => Value::Null,
    })
}

pub(super) fn pv_hfitbody(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let i = current(&ctx.slots.entry::<Iters>().hf, key.name.unwrap_or(""));
    Ok(match i.and_then(|i| ctx.msg.header(i)) {
        Some(h) => Value::Str(String::from_utf8_lossy(h.value).as_ref().into()),
        None => Value::Null,
    })
}

/// The body lines as `(start, end)` body offsets, each with its line end.
fn body_lines(body: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i + 1);
        out.push((at, end));
        at = end;
    }
    out
}

pub(super) fn bl_iterator_start(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    Ok(start(&mut ctx.slots.entry::<Iters>().bl, &name))
}

pub(super) fn bl_iterator_next(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let n = body_lines(ctx.msg.body()).len();
    Ok(next(&mut ctx.slots.entry::<Iters>().bl, &name, n))
}

pub(super) fn bl_iterator_end(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    Ok(end(&mut ctx.slots.entry::<Iters>().bl, &name))
}

/// The current body line of the iterator in argument 0, as message offsets.
fn bl_current(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Option<(usize, usize)> {
    let name = arg_str(args, 0);
    let i = current(&ctx.slots.entry::<Iters>().bl, &name)?;
    let off = ctx.msg.body_offset();
    body_lines(ctx.msg.body())
        .get(i)
        .map(|&(s, e)| (off + s, off + e))
}

pub(super) fn bl_iterator_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some((s, e)) = bl_current(ctx, args) else {
        return Ok(-1);
    };
    ctx.edits.replace_range(s, e, b"");
    Ok(1)
}

/// `bl_iterator_append(name, text)`: `text` after the current line (its line end included).
pub(super) fn bl_iterator_append(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Some((_, e)) = bl_current(ctx, args) else {
        return Ok(-1);
    };
    let text = arg_str(args, 1);
    ctx.edits.insert_at(e, text.as_bytes());
    Ok(1)
}

pub(super) fn bl_iterator_insert(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Some((s, _)) = bl_current(ctx, args) else {
        return Ok(-1);
    };
    let text = arg_str(args, 1);
    ctx.edits.insert_at(s, text.as_bytes());
    Ok(1)
}

/// `$blitval(name)`: the current body line, its line end included.
pub(super) fn pv_blitval(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let i = current(&ctx.slots.entry::<Iters>().bl, key.name.unwrap_or(""));
    let body = ctx.msg.body();
    Ok(match i.and_then(|i| body_lines(body).get(i).copied()) {
        Some((s, e)) => Value::Str(String::from_utf8_lossy(&body[s..e]).as_ref().into()),
        None => Value::Null,
    })
}
