//! sdpops' functions. The SDP is the body when the Content-Type is `application/sdp` (or
//! absent); removals are edits of the received body, so tests after them still see the SDP
//! as received (as in Kamailio before `msg_apply_changes`). Return codes as Kamailio 5.6's.

use super::sdp::{attr_payload, Sdp, Stream};
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::Ctx;
use crate::sip::Msg;
use sipvm_vm::{ArgValue, Host, HostError, PvKey, Value};

/// The message's SDP: a non-empty body typed `application/sdp` or untyped.
pub fn message_sdp(m: &Msg) -> Option<Sdp<'_>> {
    match m.content_type() {
        Ok(Some(ct)) if !ct.is("application", "sdp") => return None,
        Err(_) => return None,
        _ => {}
    }
    let body = m.body();
    if body.is_empty() {
        return None;
    }
    Sdp::parse(body)
}

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// The comma-separated list of argument `i`, items trimmed.
fn list(args: &[ArgValue<'_>], i: usize) -> Vec<String> {
    arg_str(args, i)
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// 1 when a stream of the message's SDP passes `pick(stream, argument 1)`, else -1.
fn any_stream(
    ctx: &Ctx<'_>,
    args: &[ArgValue<'_>],
    pick: impl Fn(&Stream<'_>, &str) -> bool,
) -> Result<i64, HostError> {
    let t = arg_str(args, 0);
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    Ok(truth(s.streams.iter().any(|st| pick(st, &t))))
}

pub(super) fn sdp_with_media(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    any_stream(ctx, args, |st, t| st.media == t)
}

/// A stream of that media with a port other than 0.
pub(super) fn sdp_with_active_media(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    any_stream(ctx, args, |st, t| st.media == t && st.port != "0")
}

pub(super) fn sdp_with_transport(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    any_stream(ctx, args, |st, t| st.transport.eq_ignore_ascii_case(t))
}

/// A stream whose transport contains the text.
pub(super) fn sdp_with_transport_like(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    any_stream(ctx, args, |st, t| !t.is_empty() && st.transport.contains(t))
}

/// Removes the lines `first..end` of the body (their line ends included).
fn remove_lines(ctx: &mut Ctx<'_>, s: &Sdp<'_>, first: usize, end: usize) {
    if first >= end {
        return;
    }
    let off = ctx.msg.body_offset();
    let (a, b) = (s.lines[first].start, s.lines[end - 1].next);
    ctx.edits.replace_range(off + a, off + b, b"");
}

fn remove_streams(ctx: &mut Ctx<'_>, pick: impl Fn(&Stream<'_>) -> bool) -> i64 {
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else { return -1 };
    let mut any = false;
    for st in s.streams.iter().filter(|st| pick(st)) {
        remove_lines(ctx, &s, st.m, st.end);
        any = true;
    }
    truth(any)
}

/// Removes every stream of that media (from its `m=` line to the next stream).
pub(super) fn sdp_remove_media(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let t = arg_str(args, 0).into_owned();
    Ok(remove_streams(ctx, |st| st.media == t))
}

pub(super) fn sdp_remove_transport(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let t = arg_str(args, 0).into_owned();
    Ok(remove_streams(ctx, |st| {
        st.transport.eq_ignore_ascii_case(&t)
    }))
}

/// `sdp_remove_line_by_prefix(prefix[, media])`: every line starting with `prefix`, in the
/// whole body or in the streams of `media`; 1 whenever there is an SDP.
pub(super) fn sdp_remove_line_by_prefix(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let prefix = arg_str(args, 0).into_owned();
    let media = (args.len() > 1).then(|| arg_str(args, 1).into_owned());
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else {
        return Ok(-1);
    };
    if prefix.is_empty() {
        return Ok(1);
    }
    let ranges: Vec<std::ops::Range<usize>> = match &media {
        None => std::iter::once(0..s.lines.len()).collect(),
        Some(t) => s
            .streams
            .iter()
            .filter(|st| st.media == t)
            .map(|st| st.m..st.end)
            .collect(),
    };
    for r in ranges {
        for i in r {
            if s.text(i).starts_with(&prefix) {
                remove_lines(ctx, &s, i, i + 1);
            }
        }
    }
    Ok(1)
}

/// Drops from a stream the payloads `drop` says: from its `m=` line, and their `a=rtpmap`,
/// `a=fmtp` and `a=rtcp-fb` lines.
fn drop_payloads(ctx: &mut Ctx<'_>, s: &Sdp<'_>, st: &Stream<'_>, drop: &dyn Fn(&str) -> bool) {
    let off = ctx.msg.body_offset();
    let kept: Vec<&str> = st.payloads.iter().copied().filter(|p| !drop(p)).collect();
    if kept.len() != st.payloads.len() {
        let mut text = String::new();
        for p in &kept {
            text.push(' ');
            text.push_str(p);
        }
        let line = s.lines[st.m];
        ctx.edits
            .replace_range(off + st.transport_end, off + line.end, text.as_bytes());
    }
    for i in s.stream_lines(st) {
        if attr_payload(s.text(i)).is_some_and(drop) {
            remove_lines(ctx, s, i, i + 1);
        }
    }
}

/// The streams `media` (all without it) have their payloads filtered by `drop(stream, pt)`.
fn filter_codecs(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    drop: &dyn Fn(&Sdp<'_>, &Stream<'_>, &str) -> bool,
) -> i64 {
    let media = (args.len() > 1).then(|| arg_str(args, 1).into_owned());
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else { return -1 };
    for st in &s.streams {
        if media.as_ref().is_some_and(|t| st.media != t) {
            continue;
        }
        drop_payloads(ctx, &s, st, &|p| drop(&s, st, p));
    }
    1
}

fn named(s: &Sdp<'_>, st: &Stream<'_>, pt: &str, names: &[String]) -> bool {
    s.codec_name(st, pt)
        .is_some_and(|n| names.iter().any(|w| w.eq_ignore_ascii_case(n)))
}

/// The payloads listed in argument 1 (by id, or by codec name) are dropped, or with `keep`
/// all the others.
fn codecs(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], by_name: bool, keep: bool) -> i64 {
    let items = list(args, 0);
    filter_codecs(ctx, args, &|s, st, p| {
        let listed = if by_name {
            named(s, st, p, &items)
        } else {
            items.iter().any(|i| i == p)
        };
        listed != keep
    })
}

pub(super) fn sdp_remove_codecs_by_id(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    Ok(codecs(ctx, args, false, false))
}

pub(super) fn sdp_keep_codecs_by_id(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    Ok(codecs(ctx, args, false, true))
}

pub(super) fn sdp_remove_codecs_by_name(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    Ok(codecs(ctx, args, true, false))
}

pub(super) fn sdp_keep_codecs_by_name(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    Ok(codecs(ctx, args, true, true))
}

/// Kamailio's answer for a list of payload types: 1 when every stream has each of them, 2
/// when some stream lacks one, -1 when no stream has any.
fn with_ids(s: &Sdp<'_>, ids: &[String]) -> i64 {
    let (mut found, mut missing) = (false, false);
    for st in &s.streams {
        for id in ids {
            if st.payloads.iter().any(|p| p == id) {
                found = true;
            } else {
                missing = true;
            }
        }
    }
    match (found, missing) {
        (false, _) => -1,
        (true, false) => 1,
        (true, true) => 2,
    }
}

pub(super) fn sdp_with_codecs_by_id(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let ids = list(args, 0);
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    Ok(with_ids(&s, &ids))
}

/// The names become the payload types that carry them (`a=rtpmap`, or RFC 3551's static
/// types), then as `sdp_with_codecs_by_id`.
pub(super) fn sdp_with_codecs_by_name(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let names = list(args, 0);
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    let mut ids: Vec<String> = Vec::new();
    for st in &s.streams {
        for p in &st.payloads {
            if named(&s, st, p, &names) && !ids.iter().any(|i| i == p) {
                ids.push(p.to_string());
            }
        }
    }
    if ids.is_empty() {
        return Ok(-1);
    }
    Ok(with_ids(&s, &ids))
}

/// `sdp_with_ice()`: the body has an `a=candidate` line.
pub(super) fn sdp_with_ice(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(
        memchr::memmem::find(ctx.msg.body(), b"a=candidate").is_some(),
    ))
}

/// `sdp_content([sloppy])`: the body is SDP (typed `application/sdp`, or untyped); sloppy, a
/// `multipart/mixed` body naming `application/sdp` counts too.
pub(super) fn sdp_content(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = ctx.msg;
    if m.body().is_empty() {
        return Ok(-1);
    }
    Ok(match m.content_type() {
        Ok(None) => 1,
        Ok(Some(ct)) if ct.is("application", "sdp") => 1,
        Ok(Some(ct)) if !args.is_empty() && ct.is("multipart", "mixed") => {
            let b = String::from_utf8_lossy(m.body()).to_ascii_lowercase();
            truth(b.contains("application/sdp"))
        }
        _ => -1,
    })
}

/// `sdp_get_address_family()`: 4 or 6 from the `c=` line, -1 otherwise.
pub(super) fn sdp_get_address_family(
    ctx: &mut Ctx<'_>,
    _: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    Ok(s.address_family().map_or(-1, i64::from))
}

/// The key of an `$avp(...)` argument (Kamailio's sdpops accepts AVPs only).
fn avp_key<'p>(
    prog: &'p sipvm_vm::Program,
    args: &[ArgValue<'_>],
    i: usize,
) -> Result<PvKey<'p>, HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        )));
    };
    if &*prog.pvs[pv.ix()].class_name != "avp" {
        return Err(HostError(format!(
            "{}: sdpops writes AVPs only",
            prog.pvs[pv.ix()].text
        )));
    }
    static_key(prog, *pv)
}

fn set_avp(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], i: usize, v: &str) -> Result<(), HostError> {
    let prog = ctx.snap.program.clone();
    let key = avp_key(&prog, args, i)?;
    ctx.set_pv(&prog, key, Value::Str(v.into()))
}

/// `sdp_transport(avp)`: the streams' common transport into the AVP; -2 when they differ.
pub(super) fn sdp_transport(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else {
        return Ok(-1);
    };
    let Some(first) = s.streams.first().map(|st| st.transport) else {
        return Ok(1);
    };
    if s.streams
        .iter()
        .any(|st| !st.transport.eq_ignore_ascii_case(first))
    {
        return Ok(-2);
    }
    set_avp(ctx, args, 0, first)?;
    Ok(1)
}

/// `sdp_get(avp)`: the whole SDP into the AVP.
pub(super) fn sdp_get(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else {
        return Ok(-1);
    };
    set_avp(ctx, args, 0, s.body)?;
    Ok(1)
}

/// `sdp_get_line_startswith(avp, prefix)`: the first line starting with `prefix`.
pub(super) fn sdp_get_line_startswith(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let prefix = arg_str(args, 1).into_owned();
    let m = ctx.msg;
    let Some(s) = message_sdp(m) else {
        return Ok(-1);
    };
    if prefix.is_empty() {
        return Ok(-1);
    }
    match (0..s.lines.len())
        .map(|i| s.text(i))
        .find(|t| t.starts_with(&prefix))
    {
        Some(line) => {
            set_avp(ctx, args, 0, line)?;
            Ok(1)
        }
        None => Ok(-1),
    }
}

/// `sdp_print(level)`: logs the streams (Kamailio prints its parsed structure at that level;
/// sipvm logs at the matching `tracing` level).
pub(super) fn sdp_print(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let level = arg_int(args, 0)?;
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    let mut out = String::new();
    for (n, st) in s.streams.iter().enumerate() {
        out += &format!(
            " stream[{n}]: media={} port={} transport={} payloads={}",
            st.media,
            st.port,
            st.transport,
            st.payloads.join(" ")
        );
    }
    match level {
        i64::MIN..=-1 => tracing::error!(target: "sdpops", "sdp:{out}"),
        0 => tracing::warn!(target: "sdpops", "sdp:{out}"),
        1 | 2 => tracing::info!(target: "sdpops", "sdp:{out}"),
        _ => tracing::debug!(target: "sdpops", "sdp:{out}"),
    }
    Ok(1)
}

/// `$sdp(body)`: the SDP; `$sdp(sess_version)`: the version of its `o=` line. `$null`
/// without an SDP.
pub(super) fn pv_sdp(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let Some(s) = message_sdp(ctx.msg) else {
        return Ok(Value::Null);
    };
    match key.name {
        Some("body") => Ok(Value::Str(s.body.into())),
        Some("sess_version") => {
            let o = (0..s.session_end)
                .map(|i| s.text(i))
                .find(|t| t.starts_with("o="));
            let v = o.and_then(|o| o.split(' ').nth(2));
            Ok(match v {
                Some(v) => v
                    .parse::<i64>()
                    .map_or_else(|_| Value::Str(v.into()), Value::Int),
                None => Value::Null,
            })
        }
        other => Err(HostError(format!(
            "$sdp({}) is not known",
            other.unwrap_or("")
        ))),
    }
}
