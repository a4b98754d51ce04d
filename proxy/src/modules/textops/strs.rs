//! textops' string functions (no message involved): comparisons, lists, searches. Return codes
//! as Kamailio 5.6's: 1 equal/found, -1 greater/shorter/not found, -2 smaller/mismatch.

use super::{byte_regex, truth};
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::Ctx;
use sipvm_vm::{ArgValue, Host, HostError, Value};
use std::cmp::Ordering;

fn order_rc(o: Ordering) -> i64 {
    match o {
        Ordering::Equal => 1,
        Ordering::Greater => -1,
        Ordering::Less => -2,
    }
}

/// Kamailio's `cmp_str`: lengths first (the shorter one is smaller), then bytes.
fn kam_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => a.len().cmp(&b.len()),
        o => o,
    }
}

pub(super) fn cmp_str(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (a, b) = (arg_str(args, 0), arg_str(args, 1));
    Ok(order_rc(kam_cmp(a.as_bytes(), b.as_bytes())))
}

pub(super) fn cmp_istr(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (a, b) = (
        arg_str(args, 0).to_ascii_lowercase(),
        arg_str(args, 1).to_ascii_lowercase(),
    );
    Ok(order_rc(kam_cmp(a.as_bytes(), b.as_bytes())))
}

/// `starts_with(s, prefix)`: -1 when `s` is shorter than `prefix`.
pub(super) fn starts_with(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, p) = (arg_str(args, 0), arg_str(args, 1));
    if s.len() < p.len() {
        return Ok(-1);
    }
    Ok(order_rc(s.as_bytes()[..p.len()].cmp(p.as_bytes())))
}

/// `ends_with(s, suffix)`: -1 when `s` is shorter than `suffix`.
pub(super) fn ends_with(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, p) = (arg_str(args, 0), arg_str(args, 1));
    if s.len() < p.len() {
        return Ok(-1);
    }
    Ok(order_rc(
        s.as_bytes()[s.len() - p.len()..].cmp(p.as_bytes()),
    ))
}

fn find(hay: &[u8], needle: &[u8], icase: bool) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| {
        if icase {
            w.eq_ignore_ascii_case(needle)
        } else {
            w == needle
        }
    })
}

/// `str_find(s, needle)`: the 1-based position of the first occurrence, -1 when none.
pub(super) fn str_find(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, n) = (arg_str(args, 0), arg_str(args, 1));
    Ok(find(s.as_bytes(), n.as_bytes(), false).map_or(-1, |p| p as i64 + 1))
}

pub(super) fn str_ifind(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, n) = (arg_str(args, 0), arg_str(args, 1));
    Ok(find(s.as_bytes(), n.as_bytes(), true).map_or(-1, |p| p as i64 + 1))
}

/// `search_str(s, re)`: the regex (extended, case-insensitive, newline-sensitive) matches;
/// 2 for an empty regex, -2 for an empty text or a bad regex.
pub(super) fn search_str(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, re) = (arg_str(args, 0), arg_str(args, 1));
    if re.is_empty() {
        return Ok(2);
    }
    if s.is_empty() {
        return Ok(-2);
    }
    Ok(match byte_regex(&re, true, true) {
        Ok(r) => truth(r.is_match(s.as_bytes())),
        Err(_) => -2,
    })
}

/// The items of a `sep`-separated list, white space around each trimmed.
fn items<'a>(list: &'a str, sep: &str) -> Option<impl Iterator<Item = &'a str>> {
    let sep = sep.chars().next()?;
    Some(
        list.split(sep)
            .map(|i| i.trim_matches([' ', '\t', '\r', '\n'])),
    )
}

/// `in_list(subject, list, sep)`: `subject` equals an item (case-sensitive).
pub(super) fn in_list(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (subj, list, sep) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    if subj.is_empty() || list.is_empty() {
        return Ok(-1);
    }
    let Some(mut it) = items(&list, &sep) else {
        return Ok(-1);
    };
    Ok(truth(it.any(|i| i == subj)))
}

/// `in_list_prefix(subject, list, sep)`: an item is a prefix of `subject`.
pub(super) fn in_list_prefix(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (subj, list, sep) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    if subj.is_empty() || list.is_empty() {
        return Ok(-1);
    }
    let Some(mut it) = items(&list, &sep) else {
        return Ok(-1);
    };
    Ok(truth(it.any(|i| !i.is_empty() && subj.starts_with(i))))
}

/// `regex_substring(text, re, index, count, pv)`: the `index`-th group of the match
/// (extended, case-sensitive, `.` matching newlines, as Kamailio compiles it) into `pv`;
/// `count` is how many groups Kamailio takes (it must cover `index`). -2 without a match, -1
/// for an empty or absent group.
pub(super) fn regex_substring(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (text, re) = (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned());
    let index = arg_int(args, 2)?;
    let count = arg_int(args, 3)?;
    if index < 0 || count < 1 || index >= count {
        return Ok(-1);
    }
    let Ok(r) = byte_regex(&re, false, false) else {
        return Ok(-1);
    };
    let Some(caps) = r.captures(text.as_bytes()) else {
        return Ok(-2);
    };
    let groups = (count as usize).min(caps.len());
    if index as usize >= groups {
        return Ok(-1);
    }
    let Some(m) = caps.get(index as usize).filter(|m| !m.is_empty()) else {
        return Ok(-1);
    };
    let v = String::from_utf8_lossy(m.as_bytes()).into_owned();
    let Some(ArgValue::Pv(pv)) = args.get(4) else {
        return Err(HostError("argument 5 is not a pseudo-variable".into()));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    ctx.set_pv(&prog, key, Value::Str(v.into()))?;
    Ok(1)
}

/// `is_audio_on_hold()`: the first audio stream on hold says how: 1 (RFC 2543, `c=0.0.0.0`),
/// 2 (RFC 3264, `sendonly`/`inactive`); -1 when none is (or there is no SDP).
pub(super) fn is_audio_on_hold(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(s) = crate::modules::sdpops::natives::message_sdp(ctx.msg) else {
        return Ok(-1);
    };
    Ok(s.streams
        .iter()
        .filter(|st| st.media == "audio")
        .map(|st| s.on_hold(st))
        .find(|&h| h > 0)
        .map_or(-1, i64::from))
}
