//! textopsx's reply status, body and header functions.

use crate::host::natives::{arg_int, arg_str};
use crate::host::Ctx;
use crate::sip::{HeaderName, Msg};
use sipvm_vm::{ArgValue, HostError};

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// Whether a reply's code may become `code`: 100..=699, and a 1xx or 2xx (old or new) keeps
/// its class.
fn status_change_ok(old: u16, code: i64) -> bool {
    (100..=699).contains(&code)
        && !((code < 300 || old < 300) && code / 100 != i64::from(old / 100))
}

/// The offsets of the status code in a reply's first line.
fn code_range(m: &Msg) -> Option<(usize, usize)> {
    let b = m.as_bytes();
    let sp = memchr::memchr(b' ', b)?;
    Some((sp + 1, sp + 4))
}

/// `change_reply_status(code, reason)`: rewrites the status line of the reply.
pub(super) fn change_reply_status(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let code = arg_int(args, 0)?;
    let reason = arg_str(args, 1);
    let Some(old) = ctx.msg.status() else {
        return Ok(-1);
    };
    if reason.is_empty() || !status_change_ok(old, code) {
        return Ok(-1);
    }
    let Some((s, e)) = code_range(ctx.msg) else {
        return Ok(-1);
    };
    ctx.edits.replace_range(s, e, code.to_string().as_bytes());
    let line_end = memchr::memchr(b'\n', ctx.msg.as_bytes()).unwrap_or(e);
    let mut reason_end = line_end;
    if reason_end > e && ctx.msg.as_bytes()[reason_end - 1] == b'\r' {
        reason_end -= 1;
    }
    if reason_end <= e {
        // `SIP/2.0 200` without a reason phrase.
        ctx.edits.insert_at(e, format!(" {reason}").as_bytes());
    } else {
        ctx.edits
            .replace_range(e + 1, reason_end, reason.as_bytes());
    }
    Ok(1)
}

/// `change_reply_status_code(code)`: the code only; the reason stays.
pub(super) fn change_reply_status_code(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let code = arg_int(args, 0)?;
    let Some(old) = ctx.msg.status() else {
        return Ok(-1);
    };
    if !status_change_ok(old, code) {
        return Ok(-1);
    }
    let Some((s, e)) = code_range(ctx.msg) else {
        return Ok(-1);
    };
    ctx.edits.replace_range(s, e, code.to_string().as_bytes());
    Ok(1)
}

/// `remove_body()`: the body goes (Content-Length follows); 1 also without a body.
pub(super) fn remove_body(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, e) = (ctx.msg.body_offset(), ctx.msg.as_bytes().len());
    if s < e {
        ctx.edits.replace_range(s, e, b"");
    }
    Ok(1)
}

/// `keep_hf(re)`: removes every header but From, To, Call-ID, CSeq, Via, Contact,
/// Content-Length, Content-Type, Route, Record-Route, Max-Forwards and those whose name
/// matches `re`. Kamailio 5.6 answers -1 even when it worked, and refuses `keep_hf()`
/// without a regex at start-up (its fixup needs one), so does sipvm.
pub(super) fn keep_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = match args.first() {
        Some(ArgValue::Regex(r)) => crate::modules::textops::byte_regex(r.as_str(), true, true)?,
        _ => return Err(HostError("keep_hf: a regular expression is needed".into())),
    };
    const KEPT: [HeaderName; 11] = [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::Via,
        HeaderName::Contact,
        HeaderName::ContentLength,
        HeaderName::ContentType,
        HeaderName::Route,
        HeaderName::RecordRoute,
        HeaderName::MaxForwards,
    ];
    let drop: Vec<usize> = ctx
        .msg
        .headers()
        .filter(|h| !KEPT.contains(&h.name) && !re.is_match(h.name_str))
        .map(|h| h.index)
        .collect();
    for i in drop {
        ctx.edits.remove_header(i);
    }
    Ok(-1)
}

/// Shell-style matching (`*`, `?`, `[a-z]`, `[!x]`, `\` escapes), as fnmatch(3) without flags.
fn glob(p: &[u8], s: &[u8], icase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if icase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, len)) = class(&p[pi..], s[si], icase) {
                        if ok {
                            pi += len;
                            si += 1;
                            continue;
                        }
                    } else if eq(b'[', s[si]) {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if eq(p[pi + 1], s[si]) {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if eq(c, s[si]) {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at the start of `p`: (matches `c`, its length); `None` if unterminated.
fn class(p: &[u8], c: u8, icase: bool) -> Option<(bool, usize)> {
    let mut i = 1;
    let neg = matches!(p.get(1), Some(b'!' | b'^'));
    if neg {
        i += 1;
    }
    let start = i;
    let mut hit = false;
    let lc = |x: u8| if icase { x.to_ascii_lowercase() } else { x };
    while i < p.len() && (p[i] != b']' || i == start) {
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            if (lc(p[i])..=lc(p[i + 2])).contains(&lc(c)) {
                hit = true;
            }
            i += 3;
        } else {
            if lc(p[i]) == lc(c) {
                hit = true;
            }
            i += 1;
        }
    }
    (i < p.len()).then_some((hit != neg, i + 1))
}

/// `fnmatch(value, pattern[, flags])`: shell-style match; flag `i` ignores case.
pub(super) fn fnmatch(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (v, p) = (arg_str(args, 0), arg_str(args, 1));
    let icase = args.len() > 2 && arg_str(args, 2).starts_with(['i', 'I']);
    Ok(truth(glob(p.as_bytes(), v.as_bytes(), icase)))
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob(b"a*f", b"abcdef", false));
        assert!(glob(b"*", b"", false));
        assert!(glob(b"a?c", b"abc", false));
        assert!(glob(b"a[a-c]c", b"abc", false));
        assert!(!glob(b"a[!a-c]c", b"abc", false));
        assert!(glob(b"A*F", b"abcdef", true));
        assert!(!glob(b"A*F", b"abcdef", false));
        assert!(!glob(b"b*", b"abc", false));
        assert!(glob(b"*b*c", b"abbbc", false));
        assert!(glob(b"a\\*", b"a*", false));
        assert!(!glob(b"a\\*", b"ab", false));
    }
}
