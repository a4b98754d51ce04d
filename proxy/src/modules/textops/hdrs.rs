//! textops' header functions by name, index, regex and value.

use super::{arg_regex, byte_regex, headers_named, truth};
use crate::host::natives::{arg_int, arg_str};
use crate::host::Ctx;
use crate::sip::{HeaderName, HeaderPos, Msg};
use sipvm_vm::{ArgValue, HostError};

/// `remove_hf_idx(name, idx)`: removes the `idx`-th header `name` (0 the first, -1 the
/// last); 2 when there is no such header, but 1 for a negative index past the first one
/// (Kamailio's answer, nothing removed).
pub(super) fn remove_hf_idx(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let found = headers_named(ctx.msg, &arg_str(args, 0));
    let idx = arg_int(args, 1)?;
    let at = if idx < 0 {
        match found.len().checked_sub(idx.unsigned_abs() as usize) {
            Some(i) => i,
            None => return Ok(1),
        }
    } else {
        idx as usize
    };
    match found.get(at) {
        Some(&h) => {
            ctx.edits.remove_header(h);
            Ok(1)
        }
        None => Ok(2),
    }
}

/// Indexes of the headers whose name (as written) matches `re` and not `skip`.
fn names_matching(
    m: &Msg,
    re: &regex::bytes::Regex,
    skip: Option<&regex::bytes::Regex>,
) -> Vec<usize> {
    m.headers()
        .filter(|h| re.is_match(h.name_str) && !skip.is_some_and(|s| s.is_match(h.name_str)))
        .map(|h| h.index)
        .collect()
}

fn remove_all(ctx: &mut Ctx<'_>, found: &[usize]) -> i64 {
    for &i in found {
        ctx.edits.remove_header(i);
    }
    truth(!found.is_empty())
}

/// `remove_hf_re(re)`: removes the headers whose name matches.
pub(super) fn remove_hf_re(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let found = names_matching(ctx.msg, &re, None);
    Ok(remove_all(ctx, &found))
}

/// `remove_hf_exp(match, skip)`: removes the headers whose name matches `match` but not `skip`.
pub(super) fn remove_hf_exp(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (re, skip) = (arg_regex(args, 0)?, arg_regex(args, 1)?);
    let found = names_matching(ctx.msg, &re, Some(&skip));
    Ok(remove_all(ctx, &found))
}

/// `is_present_hf_re(re)`: some header name matches.
pub(super) fn is_present_hf_re(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    Ok(truth(!names_matching(ctx.msg, &re, None).is_empty()))
}

/// A regex given as a string at run time (the `_pv` variants), with `search`'s flags.
fn runtime_regex(
    args: &[ArgValue<'_>],
    i: usize,
) -> Result<std::sync::Arc<regex::bytes::Regex>, HostError> {
    byte_regex(&arg_str(args, i), true, true)
}

pub(super) fn remove_hf_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let found = headers_named(ctx.msg, &arg_str(args, 0));
    Ok(remove_all(ctx, &found))
}

pub(super) fn remove_hf_re_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Ok(re) = runtime_regex(args, 0) else {
        return Ok(-1);
    };
    let found = names_matching(ctx.msg, &re, None);
    Ok(remove_all(ctx, &found))
}

pub(super) fn remove_hf_exp_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (Ok(re), Ok(skip)) = (runtime_regex(args, 0), runtime_regex(args, 1)) else {
        return Ok(-1);
    };
    let found = names_matching(ctx.msg, &re, Some(&skip));
    Ok(remove_all(ctx, &found))
}

pub(super) fn is_present_hf_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(!headers_named(ctx.msg, &arg_str(args, 0)).is_empty()))
}

pub(super) fn is_present_hf_re_pv(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let Ok(re) = runtime_regex(args, 0) else {
        return Ok(-1);
    };
    Ok(truth(!names_matching(ctx.msg, &re, None).is_empty()))
}

/// `remove_hf_match(name, op, expr)`: removes the headers `name` whose value is `eq` (equal,
/// case-sensitive), `ne` (not equal), `in` (contains) or `re` (matches) `expr`; 1 when one
/// was removed, -2 when none, -1 for another operator or a bad regex.
pub(super) fn remove_hf_match(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (name, op, expr) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    let re = if op.eq_ignore_ascii_case("re") {
        match byte_regex(&expr, true, true) {
            Ok(r) => Some(r),
            Err(_) => return Ok(-1),
        }
    } else {
        None
    };
    let e = expr.as_bytes();
    type Test<'t> = Box<dyn Fn(&[u8]) -> bool + 't>;
    let test: Test<'_> = match op.to_ascii_lowercase().as_str() {
        "eq" => Box::new(|v: &[u8]| v == e),
        "ne" => Box::new(|v: &[u8]| v != e),
        "in" => Box::new(|v: &[u8]| !e.is_empty() && memchr::memmem::find(v, e).is_some()),
        "re" => Box::new(move |v: &[u8]| re.as_ref().is_some_and(|r| r.is_match(v))),
        _ => return Ok(-1),
    };
    let m = ctx.msg;
    let found: Vec<usize> = headers_named(m, &name)
        .into_iter()
        .filter(|&i| m.header(i).is_some_and(|h| test(h.value)))
        .collect();
    for &i in &found {
        ctx.edits.remove_header(i);
    }
    Ok(if found.is_empty() { -2 } else { 1 })
}

/// `set_body(body, type)`: replaces the body; Content-Type is replaced by `type` (after the
/// last header) and Content-Length follows. -1 for an empty body.
pub(super) fn set_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (body, ctype) = (arg_str(args, 0), arg_str(args, 1));
    if body.is_empty() {
        return Ok(-1);
    }
    for i in headers_named(ctx.msg, "Content-Type") {
        ctx.edits.remove_header(i);
    }
    ctx.edits.set_body(body.as_bytes());
    if !ctype.is_empty() {
        let line = format!("Content-Type: {ctype}\r\n");
        ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
    }
    Ok(1)
}

/// `is_privacy(value)`: a Privacy header lists `value` (none, header, session, user, id,
/// critical; `;`-separated).
pub(super) fn is_privacy(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let want = arg_str(args, 0);
    const KNOWN: [&str; 6] = ["none", "header", "session", "user", "id", "critical"];
    if !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&want)) {
        return Err(HostError(format!(
            "is_privacy: unknown privacy value {want:?}"
        )));
    }
    let m = ctx.msg;
    let listed = headers_named(m, "Privacy").into_iter().any(|i| {
        m.header(i).is_some_and(|h| {
            String::from_utf8_lossy(h.value)
                .split(';')
                .any(|v| v.trim().eq_ignore_ascii_case(&want))
        })
    });
    Ok(truth(listed))
}

/// `append_time_to_request()`: a Date header (now, RFC 1123) at the end of the headers,
/// unless the request has one; 1 also then.
pub(super) fn append_time_to_request(
    ctx: &mut Ctx<'_>,
    _: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    if ctx.msg.find(HeaderName::Date).is_some() {
        return Ok(1);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let line = format!("Date: {}\r\n", rfc1123(now));
    ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
    Ok(1)
}

/// `Sat, 13 Nov 2010 23:29:00 GMT` for a Unix time.
pub(super) fn rfc1123(t: i64) -> String {
    const WK: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        WK[days.rem_euclid(7) as usize],
        MON[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc1123_dates() {
        assert_eq!(super::rfc1123(1289690940), "Sat, 13 Nov 2010 23:29:00 GMT");
        assert_eq!(super::rfc1123(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(super::rfc1123(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
