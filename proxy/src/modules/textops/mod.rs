//! `textops`: declarations mirroring Kamailio 5.6's textops module: message text operations.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Methods, Pv, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "textops",
    functions: &[
        FnDecl { name: "search", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "search_body", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "search_hf", args: &[Str, Regex, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "search_append", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "search_append_body", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_body", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_hdrs", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_hdrs_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_all", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_all", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_atonce", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "append_to_reply", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_hf", args: &[Fmt, Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "insert_hf", args: &[Fmt, Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "append_urihf", args: &[Str, Str], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_hf", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_idx", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_re", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_exp", args: &[Regex, Regex], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_re", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_re_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_exp_pv", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_match", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_re_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst_uri", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "subst_user", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "subst_body", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst_hf", args: &[Str, Str, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "filter_body", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "append_time", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "set_body", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "set_reply_body", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "is_method", args: &[Methods], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "has_body", args: &[Str], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_privacy", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "in_list", args: &[Fmt, Fmt, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "in_list_prefix", args: &[Fmt, Fmt, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "cmp_str", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "cmp_istr", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "search_str", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "starts_with", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "ends_with", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "str_find", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "str_ifind", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_audio_on_hold", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "append_time_to_request", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_body_multipart", args: &[Fmt, Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_body_part", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_body_part_hex", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_body_part", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "get_body_part_raw", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "get_body_part", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "regex_substring", args: &[Fmt, Fmt, IntFmt, IntFmt, Pv], min_args: 5, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
    ],
    params: &[],
    pvs: &[],
    transforms: &[],
};

// ---- implementations ----

mod body;
mod edits;
mod hdrs;
mod multipart;
mod reply;
mod strs;

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use crate::sip::{HeaderName, HeaderPos, Msg};
use sipvm_vm::{ArgValue, HostError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// textops' natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "is_method",
        f: is_method,
    },
    Impl {
        name: "has_body",
        f: has_body,
    },
    Impl {
        name: "search",
        f: search,
    },
    Impl {
        name: "search_body",
        f: search_body,
    },
    Impl {
        name: "is_present_hf",
        f: is_present_hf,
    },
    Impl {
        name: "remove_hf",
        f: remove_hf,
    },
    Impl {
        name: "append_hf",
        f: append_hf,
    },
    Impl {
        name: "insert_hf",
        f: insert_hf,
    },
    Impl {
        name: "subst",
        f: subst,
    },
    Impl {
        name: "search_hf",
        f: edits::search_hf,
    },
    Impl {
        name: "search_append",
        f: edits::search_append,
    },
    Impl {
        name: "search_append_body",
        f: edits::search_append_body,
    },
    Impl {
        name: "replace",
        f: edits::replace,
    },
    Impl {
        name: "replace_all",
        f: edits::replace_all,
    },
    Impl {
        name: "replace_hdrs",
        f: edits::replace_hdrs,
    },
    Impl {
        name: "replace_body",
        f: edits::replace_body,
    },
    Impl {
        name: "replace_body_all",
        f: edits::replace_body_all,
    },
    Impl {
        name: "replace_body_atonce",
        f: edits::replace_body_atonce,
    },
    Impl {
        name: "replace_str",
        f: edits::replace_str,
    },
    Impl {
        name: "replace_hdrs_str",
        f: edits::replace_hdrs_str,
    },
    Impl {
        name: "replace_body_str",
        f: edits::replace_body_str,
    },
    Impl {
        name: "subst_body",
        f: edits::subst_body,
    },
    Impl {
        name: "subst_hf",
        f: edits::subst_hf,
    },
    Impl {
        name: "subst_uri",
        f: edits::subst_uri,
    },
    Impl {
        name: "subst_user",
        f: edits::subst_user,
    },
    Impl {
        name: "append_urihf",
        f: edits::append_urihf,
    },
    Impl {
        name: "remove_hf_idx",
        f: hdrs::remove_hf_idx,
    },
    Impl {
        name: "remove_hf_re",
        f: hdrs::remove_hf_re,
    },
    Impl {
        name: "remove_hf_exp",
        f: hdrs::remove_hf_exp,
    },
    Impl {
        name: "is_present_hf_re",
        f: hdrs::is_present_hf_re,
    },
    Impl {
        name: "remove_hf_pv",
        f: hdrs::remove_hf_pv,
    },
    Impl {
        name: "remove_hf_re_pv",
        f: hdrs::remove_hf_re_pv,
    },
    Impl {
        name: "remove_hf_exp_pv",
        f: hdrs::remove_hf_exp_pv,
    },
    Impl {
        name: "is_present_hf_pv",
        f: hdrs::is_present_hf_pv,
    },
    Impl {
        name: "is_present_hf_re_pv",
        f: hdrs::is_present_hf_re_pv,
    },
    Impl {
        name: "remove_hf_match",
        f: hdrs::remove_hf_match,
    },
    Impl {
        name: "set_body",
        f: hdrs::set_body,
    },
    Impl {
        name: "is_privacy",
        f: hdrs::is_privacy,
    },
    Impl {
        name: "append_time_to_request",
        f: hdrs::append_time_to_request,
    },
    Impl {
        name: "cmp_str",
        f: strs::cmp_str,
    },
    Impl {
        name: "cmp_istr",
        f: strs::cmp_istr,
    },
    Impl {
        name: "starts_with",
        f: strs::starts_with,
    },
    Impl {
        name: "ends_with",
        f: strs::ends_with,
    },
    Impl {
        name: "str_find",
        f: strs::str_find,
    },
    Impl {
        name: "str_ifind",
        f: strs::str_ifind,
    },
    Impl {
        name: "search_str",
        f: strs::search_str,
    },
    Impl {
        name: "in_list",
        f: strs::in_list,
    },
    Impl {
        name: "in_list_prefix",
        f: strs::in_list_prefix,
    },
    Impl {
        name: "filter_body",
        f: body::filter_body,
    },
    Impl {
        name: "get_body_part",
        f: body::get_body_part,
    },
    Impl {
        name: "get_body_part_raw",
        f: body::get_body_part_raw,
    },
    Impl {
        name: "remove_body_part",
        f: body::remove_body_part,
    },
    Impl {
        name: "is_audio_on_hold",
        f: strs::is_audio_on_hold,
    },
    Impl {
        name: "regex_substring",
        f: strs::regex_substring,
    },
    Impl {
        name: "append_to_reply",
        f: reply::append_to_reply,
    },
    Impl {
        name: "append_time",
        f: reply::append_time,
    },
    Impl {
        name: "set_reply_body",
        f: reply::set_reply_body,
    },
    Impl {
        name: "set_body_multipart",
        f: multipart::set_body_multipart,
    },
    Impl {
        name: "append_body_part",
        f: multipart::append_body_part,
    },
    Impl {
        name: "append_body_part_hex",
        f: multipart::append_body_part_hex,
    },
];

/// `is_method("INVITE|BYE")`: methods compared ignoring case; for a reply, its CSeq method.
fn is_method(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let list = arg_str(args, 0);
    let m = if ctx.msg.is_request() {
        ctx.msg.method_str()
    } else {
        ctx.msg.cseq().map(|c| c.method).unwrap_or("")
    };
    Ok(
        if list.split('|').any(|x| x.trim().eq_ignore_ascii_case(m)) {
            1
        } else {
            -1
        },
    )
}

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// `has_body([type])`: a Content-Length header with a value above 0 (Kamailio answers false
/// without the header, whatever follows the headers); with `type` (`application/sdp`), the
/// Content-Type must match too, a missing one counting as `application/sdp` (RFC 3261).
fn has_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = ctx.msg;
    if m.find(HeaderName::ContentLength).is_none() || m.content_length().unwrap_or(0) == 0 {
        return Ok(-1);
    }
    let want = arg_str(args, 0);
    let want = want.trim();
    if args.is_empty() || want.is_empty() {
        return Ok(1);
    }
    let (wt, ws) = want.split_once('/').unwrap_or((want, ""));
    let (wt, ws) = (wt.trim(), ws.trim());
    Ok(match m.content_type() {
        Ok(Some(ct)) => truth(ct.is(wt, ws)),
        Ok(None) => truth(wt.eq_ignore_ascii_case("application") && ws.eq_ignore_ascii_case("sdp")),
        Err(_) => -1,
    })
}

thread_local! {
    /// Byte regexes built from the script's (compiled, `str`) regexes or `subst` expressions,
    /// by pattern text; a worker builds each once.
    static BYTE_RES: RefCell<HashMap<String, Arc<regex::bytes::Regex>>> = RefCell::new(HashMap::new());
}

/// `pat` as a byte regex. `newline` is POSIX `REG_NEWLINE` (Kamailio's default for `search`
/// and `subst`): `^`/`$` match at line boundaries and `.` does not match a newline.
pub(crate) fn byte_regex(
    pat: &str,
    icase: bool,
    newline: bool,
) -> Result<Arc<regex::bytes::Regex>, HostError> {
    let key = format!("{}{}{pat}", icase as u8, newline as u8);
    BYTE_RES.with(|c| {
        if let Some(r) = c.borrow().get(&key) {
            return Ok(r.clone());
        }
        let r = regex::bytes::RegexBuilder::new(pat)
            .case_insensitive(icase)
            .multi_line(newline)
            .dot_matches_new_line(!newline)
            .build()
            .map_err(|e| HostError(format!("bad regular expression {pat:?}: {e}")))?;
        let r = Arc::new(r);
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(key, r.clone());
        Ok(r)
    })
}

/// The script regex of argument `i` as a byte regex with Kamailio's `search` flags
/// (extended, case-insensitive, `REG_NEWLINE`).
fn arg_regex(args: &[ArgValue<'_>], i: usize) -> Result<Arc<regex::bytes::Regex>, HostError> {
    match args.get(i) {
        Some(ArgValue::Regex(r)) => byte_regex(r.as_str(), true, true),
        Some(ArgValue::Val(v)) => byte_regex(&v.to_str(), true, true),
        _ => Err(HostError(format!("argument {} is not a regex", i + 1))),
    }
}

/// `search(re)`: the regex matches somewhere in the message as received (first line,
/// headers and body).
fn search(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    Ok(truth(re.is_match(ctx.msg.as_bytes())))
}

/// `search_body(re)`: the regex matches in the body; false for an empty body.
fn search_body(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let re = arg_regex(args, 0)?;
    let body = ctx.msg.body();
    Ok(truth(!body.is_empty() && re.is_match(body)))
}

/// Indexes of the headers called `name`, matched as Kamailio does: a known name by its type
/// (so `f` finds `From` and `From` finds `f`), any other name case-insensitively.
pub(crate) fn headers_named(msg: &Msg, name: &str) -> Vec<usize> {
    let name = name.trim();
    let known = HeaderName::from_bytes(name.as_bytes());
    msg.headers()
        .filter(|h| {
            if known != HeaderName::Other {
                h.name == known
            } else {
                h.name == HeaderName::Other && h.name_str.eq_ignore_ascii_case(name.as_bytes())
            }
        })
        .map(|h| h.index)
        .collect()
}

/// `is_present_hf(name)`.
fn is_present_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(!headers_named(ctx.msg, &arg_str(args, 0)).is_empty()))
}

/// `remove_hf(name)`: removes every header called `name`; 1 when at least one was removed,
/// -1 when none (Kamailio 5.6 returns 1, not the count).
fn remove_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let found = headers_named(ctx.msg, &arg_str(args, 0));
    for &i in &found {
        ctx.edits.remove_header(i);
    }
    Ok(truth(!found.is_empty()))
}

/// `append_hf(text[, hdr])`: `text` is added as written (a full `Name: value\r\n` line, as in
/// Kamailio) after the last header, or after the last header called `hdr` (after the last
/// header when there is none). -1 when `text` is empty.
fn append_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let text = arg_str(args, 0);
    if text.is_empty() {
        return Ok(-1);
    }
    let pos = match args.get(1) {
        Some(_) => headers_named(ctx.msg, &arg_str(args, 1))
            .last()
            .map_or(HeaderPos::End, |&i| HeaderPos::After(i)),
        None => HeaderPos::End,
    };
    ctx.edits.add_header_raw(pos, text.as_bytes());
    Ok(1)
}

/// `insert_hf(text[, hdr])`: like `append_hf`, but before the first header, or before the
/// first header called `hdr` (before the first header when there is none).
fn insert_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let text = arg_str(args, 0);
    if text.is_empty() || ctx.msg.header_count() == 0 {
        return Ok(-1);
    }
    let first = match args.get(1) {
        Some(_) => headers_named(ctx.msg, &arg_str(args, 1))
            .first()
            .copied()
            .unwrap_or(0),
        None => 0,
    };
    ctx.edits
        .add_header_raw(HeaderPos::Before(first), text.as_bytes());
    Ok(1)
}

/// One piece of a `subst` replacement.
#[derive(Debug, Clone, PartialEq)]
enum Repl {
    Lit(Vec<u8>),
    /// `\0`..`\9`: a group of the match.
    Group(usize),
    /// `\u`: the current Request-URI.
    Uri,
}

/// A parsed `/re/replacement/flags` expression (Kamailio's `subst_parser`).
#[derive(Debug)]
struct SubstExpr {
    re: Arc<regex::bytes::Regex>,
    repl: Vec<Repl>,
    global: bool,
}

/// Parses Kamailio's sed-like `/re/repl/flags`: any separator but `\`; flags `i` (ignore
/// case), `g` (every match), `s` (no `REG_NEWLINE`: `.` matches a newline, `^`/`$` only at
/// the ends). In the replacement, `\0`-`\9` are groups, `\u` the Request-URI, `\n \r \t \\`
/// and `\$` characters, any other `\c` is `c`. Pseudo-variables (`$x`) in the replacement
/// are refused: sipvm does not expand them there yet.
fn parse_subst(expr: &str) -> Result<SubstExpr, HostError> {
    let bad = |why: &str| HostError(format!("subst: {why} in {expr:?}"));
    let b = expr.as_bytes();
    if b.len() < 3 {
        return Err(bad("expression too short"));
    }
    let sep = b[0];
    if sep == b'\\' {
        return Err(bad("invalid separator"));
    }
    // The regex: up to the first separator not preceded by a backslash.
    let mut p = 1;
    while p < b.len() && !(b[p] == sep && b[p - 1] != b'\\') {
        p += 1;
    }
    if p >= b.len() {
        return Err(bad("no separator after the regex"));
    }
    let re_text = &expr[1..p];
    // `\<sep>` means the separator itself; POSIX takes it, Rust's regex may not.
    let sep_s = (sep as char).to_string();
    let re_text = re_text.replace(&format!("\\{sep_s}"), &regex::escape(&sep_s));
    // The replacement, with its escapes.
    let mut repl = Vec::new();
    let mut lit = Vec::new();
    p += 1;
    let mut closed = false;
    while p < b.len() {
        let c = b[p];
        if c == b'\\' && p + 1 < b.len() {
            let e = b[p + 1];
            let piece = match e {
                b'\\' => Some(b'\\'),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                b'u' => None,
                b'0'..=b'9' => None,
                other => Some(other),
            };
            match piece {
                Some(ch) => lit.push(ch),
                None => {
                    if !lit.is_empty() {
                        repl.push(Repl::Lit(std::mem::take(&mut lit)));
                    }
                    repl.push(if e == b'u' {
                        Repl::Uri
                    } else {
                        Repl::Group((e - b'0') as usize)
                    });
                }
            }
            p += 2;
            continue;
        }
        if c == sep {
            closed = true;
            p += 1;
            break;
        }
        if c == b'$' {
            return Err(bad(
                "pseudo-variables in the replacement are not supported by sipvm yet",
            ));
        }
        lit.push(c);
        p += 1;
    }
    if !closed {
        return Err(bad("missing separator after the replacement"));
    }
    if !lit.is_empty() {
        repl.push(Repl::Lit(lit));
    }
    let (mut icase, mut newline, mut global) = (false, true, false);
    for &f in &b[p..] {
        match f {
            b'i' => icase = true,
            b's' => newline = false,
            b'g' => global = true,
            other => return Err(bad(&format!("unknown flag {:?}", other as char))),
        }
    }
    Ok(SubstExpr {
        re: byte_regex(&re_text, icase, newline)?,
        repl,
        global,
    })
}

thread_local! {
    static SUBSTS: RefCell<HashMap<String, Arc<SubstExpr>>> = RefCell::new(HashMap::new());
}

fn subst_expr(expr: &str) -> Result<Arc<SubstExpr>, HostError> {
    if let Some(e) = SUBSTS.with(|c| c.borrow().get(expr).cloned()) {
        return Ok(e);
    }
    let e = Arc::new(parse_subst(expr)?);
    SUBSTS.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(expr.to_string(), e.clone());
    });
    Ok(e)
}

/// `subst('/re/repl/flags')`: sed-like replacement over the headers and the body (the first
/// line is left alone, as in Kamailio), each match recorded as an edit of the received
/// bytes. 1 when something was replaced, -1 when nothing matched or a match was empty
/// (Kamailio refuses empty matches and then changes nothing).
fn subst(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let se = subst_expr(&arg_str(args, 0))?;
    let buf = ctx.msg.as_bytes();
    let off = memchr::memchr(b'\n', buf).map_or(buf.len(), |i| i + 1);
    let hay = &buf[off..];
    let ruri = ctx.ruri_str().to_string();
    let mut edits = Vec::new();
    for caps in se.re.captures_iter(hay) {
        let m = caps.get(0).expect("group 0 always matches");
        if m.start() == m.end() {
            return Ok(-1);
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
        edits.push((off + m.start(), off + m.end(), out));
        if !se.global {
            break;
        }
    }
    if edits.is_empty() {
        return Ok(-1);
    }
    for (s, e, data) in edits {
        ctx.edits.replace_range(s, e, &data);
    }
    Ok(1)
}

/// The textops module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subst_parses_kamailio_syntax() {
        let e = parse_subst(r"/a(b)\/c/x\1\u\n\\y/gi").unwrap();
        assert!(e.global);
        assert_eq!(
            e.repl,
            vec![
                Repl::Lit(b"x".to_vec()),
                Repl::Group(1),
                Repl::Uri,
                Repl::Lit(b"\n\\y".to_vec()),
            ]
        );
        assert!(e.re.is_match(b"AB/C"));
        assert!(parse_subst("/a/b").is_err());
        assert!(parse_subst("/a/b/q").is_err());
        assert!(parse_subst("/a/$rU/").is_err());
        assert!(parse_subst(r"\a\b\").is_err());
        let e = parse_subst("#x#y#").unwrap();
        assert!(!e.global);
        assert!(!e.re.is_match(b"X"));
    }
}
