//! siputils' checks on strings, URIs and the message (Kamailio's checks.c and sipops.c):
//! return codes as Kamailio 5.6 gives them.

use super::Options;
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::Ctx;
use crate::sip::{HeaderName, Scheme, Uri};
use sipvm_vm::{ArgValue, Host, HostError, Value};

pub(super) fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

pub(super) fn has_totag(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let tag = ctx.msg.to().ok().and_then(|t| t.tag());
    Ok(truth(tag.is_some_and(|t| !t.is_empty())))
}

pub(super) fn is_request(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(ctx.msg.is_request()))
}

pub(super) fn is_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(!ctx.msg.is_request()))
}

/// `is_tel_number(s)`: an optional `+` followed by a non-zero digit, then digits; -2 when not.
pub(super) fn is_tel_number(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = arg_str(args, 0);
    let b = s.as_bytes();
    let digits = match b.first() {
        None => return Ok(-2),
        Some(b'+') => match b.get(1) {
            Some(b'1'..=b'9') => &b[2..],
            _ => return Ok(-2),
        },
        Some(_) => b,
    };
    Ok(if digits.iter().all(u8::is_ascii_digit) {
        1
    } else {
        -2
    })
}

/// `is_numeric(s)`: only digits, at least one; -2 when not.
pub(super) fn is_numeric(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = arg_str(args, 0);
    Ok(if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        1
    } else {
        -2
    })
}

/// `is_alphanum(s)`: only ASCII letters and digits; -2 for an empty string, -3 otherwise.
pub(super) fn is_alphanum(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(alphanum(&arg_str(args, 0), ""))
}

/// `is_alphanumex(s, extra)`: like `is_alphanum`, the bytes of `extra` allowed too.
pub(super) fn is_alphanumex(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(alphanum(&arg_str(args, 0), &arg_str(args, 1)))
}

fn alphanum(s: &str, extra: &str) -> i64 {
    if s.is_empty() {
        return -2;
    }
    let ok = s
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || extra.as_bytes().contains(&c));
    if ok {
        1
    } else {
        -3
    }
}

/// Kamailio's URI parser accepts sip, sips, tel and urn URIs (with a host for sip/sips).
fn kam_uri(s: &str) -> Option<Uri<'_>> {
    let u = Uri::parse(s).ok()?;
    match u.scheme() {
        Scheme::Sip | Scheme::Sips => (!u.host().is_empty()).then_some(u),
        Scheme::Tel => u.user().is_some_and(|n| !n.is_empty()).then_some(u),
        Scheme::Other => u.scheme_str().eq_ignore_ascii_case("urn").then_some(u),
    }
}

/// `is_uri(s)`: `s` parses as a SIP, SIPS or tel URI.
pub(super) fn is_uri(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(kam_uri(&arg_str(args, 0)).is_some()))
}

/// E.164 as Kamailio checks it: `+` and 2 to 15 digits.
pub(super) fn e164(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 2 && b.len() < 17 && b[0] == b'+' && b[1..].iter().all(u8::is_ascii_digit)
}

/// The string value of the pseudo-variable of argument `i` (`None`: unset or not a string).
fn pv_string(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    i: usize,
) -> Result<Option<String>, HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        )));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    Ok(match ctx.get_pv(&prog, key)? {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    })
}

/// `is_e164(pv)`: the value is `+` and 2 to 15 digits.
pub(super) fn is_e164(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(match pv_string(ctx, args, 0)? {
        Some(s) if !s.is_empty() => truth(e164(&s)),
        _ => -1,
    })
}

/// `is_uri_user_e164(pv)`: the part between the first `:` and the next `@` is E.164.
pub(super) fn is_uri_user_e164(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(s) = pv_string(ctx, args, 0)? else {
        return Ok(-1);
    };
    let Some((_, rest)) = s.split_once(':') else {
        return Ok(-1);
    };
    Ok(match rest.split_once('@') {
        Some((user, _)) => truth(e164(user)),
        None => -1,
    })
}

/// Kamailio's return of a comparison: 1 equal, -1 different, -2 when either does not parse.
fn cmp_rc(r: Option<bool>) -> i64 {
    match r {
        Some(true) => 1,
        Some(false) => -1,
        None => -2,
    }
}

/// `cmp_uri(a, b)`: RFC 3261 §19.1.4 as Kamailio does it: same scheme, user, password and
/// port as written, host ignoring case; parameters present in both must agree, and `user`,
/// `ttl`, `method`, `maddr` present in one only make them differ.
pub(super) fn cmp_uri(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (a, b) = (arg_str(args, 0), arg_str(args, 1));
    let (Some(a), Some(b)) = (kam_uri(&a), kam_uri(&b)) else {
        return Ok(-2);
    };
    Ok(cmp_rc(Some(uri_eq(&a, &b))))
}

fn uri_eq(a: &Uri<'_>, b: &Uri<'_>) -> bool {
    if a.scheme() != b.scheme()
        || a.user() != b.user()
        || a.password() != b.password()
        || a.port_str() != b.port_str()
        || !a.host().eq_ignore_ascii_case(b.host())
    {
        return false;
    }
    let (pa, pb) = (a.params(), b.params());
    let special = ["user", "ttl", "method", "maddr"];
    if pa.is_empty() != pb.is_empty() {
        let other = if pa.is_empty() { pb } else { pa };
        return !special.iter().any(|n| other.contains(n));
    }
    pa.iter().all(|(n, v)| match pb.get(n) {
        Some(w) => v.unwrap_or("").eq_ignore_ascii_case(w.unwrap_or("")),
        None => true,
    })
}

/// `cmp_aor(a, b)`: user (case-sensitive) and host (ignoring case); a missing port equals
/// 5060; scheme and parameters are not compared.
pub(super) fn cmp_aor(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (a, b) = (arg_str(args, 0), arg_str(args, 1));
    let (Some(a), Some(b)) = (kam_uri(&a), kam_uri(&b)) else {
        return Ok(-2);
    };
    let port = |u: &Uri<'_>| u.port().unwrap_or(5060);
    Ok(truth(
        a.user().unwrap_or("") == b.user().unwrap_or("")
            && a.host().eq_ignore_ascii_case(b.host())
            && (a.port_str() == b.port_str() || port(&a) == port(&b)),
    ))
}

/// `cmp_hdr_name(a, b)`: the same header, a compact form equal to its long name.
pub(super) fn cmp_hdr_name(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (a, b) = (arg_str(args, 0), arg_str(args, 1));
    let (a, b) = (a.trim_end(), b.trim_end());
    let (ka, kb) = (
        HeaderName::from_bytes(a.as_bytes()),
        HeaderName::from_bytes(b.as_bytes()),
    );
    Ok(truth(
        if ka != HeaderName::Other || kb != HeaderName::Other {
            ka == kb
        } else {
            a.eq_ignore_ascii_case(b)
        },
    ))
}

/// `is_gruu([uri])`: 1 when the URI (the Request-URI by default) has `gr=value`, 2 for a bare
/// `gr`, -1 otherwise or when it does not parse.
pub(super) fn is_gruu(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = if args.is_empty() {
        ctx.ruri_str().to_string()
    } else {
        arg_str(args, 0).into_owned()
    };
    let Some(u) = kam_uri(&s) else {
        return Ok(-1);
    };
    Ok(match u.param("gr") {
        Some(Some(v)) if !v.is_empty() => 1,
        Some(_) => 2,
        None => -1,
    })
}

/// `is_supported(tag)`: a Supported header lists the option tag; Kamailio knows `path`,
/// `100rel`, `timer`, `eventlist`, `gruu` and `outbound` (any other is a configuration error).
pub(super) fn is_supported(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let tag = arg_str(args, 0);
    const KNOWN: [&str; 6] = ["path", "100rel", "timer", "eventlist", "gruu", "outbound"];
    if !KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&tag)) {
        return Err(HostError(format!(
            "is_supported: unknown option tag {tag:?}"
        )));
    }
    Ok(match ctx.msg.supported() {
        Ok(tags) => truth(tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))),
        Err(_) => -1,
    })
}

/// `is_first_hop([mode])`: a request with one Via value; a reply without Record-Route, or
/// whose top Record-Route is this server (an IP address unless `mode` is 1) and did not come
/// from that address (a loop).
pub(super) fn is_first_hop(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let mode = if args.is_empty() {
        0
    } else {
        arg_int(args, 0)?
    };
    if ctx.msg.is_request() {
        return Ok(match ctx.msg.via() {
            Ok(v) => truth(v.len() < 2),
            Err(_) => 1,
        });
    }
    let rr = match ctx.msg.record_route() {
        Ok(rr) => rr,
        Err(_) => return Ok(-1),
    };
    let Some(top) = rr.first() else {
        return Ok(1);
    };
    let u = top.uri();
    let ip: Option<std::net::IpAddr> = u
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    if mode == 0 && ip.is_none() {
        return Ok(-1);
    }
    if !ctx.is_local(u.host(), u.port()) {
        return Ok(-1);
    }
    if mode == 0 && ip == Some(ctx.src.ip()) && ctx.src.port() == u.port().unwrap_or(5060) {
        return Ok(-1);
    }
    Ok(1)
}

/// `hdr_date_check(seconds)`: the Date header is at most `seconds` old: -1 without a
/// (parsable) Date, -4 when older.
pub(super) fn hdr_date_check(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let diff = arg_int(args, 0)?;
    let Ok(Some(d)) = ctx.msg.date() else {
        return Ok(-1);
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(if now > d.unix.saturating_add(diff) {
        -4
    } else {
        1
    })
}

/// `options_reply()`: a 200 to an OPTIONS addressed to the server itself (no user in the
/// Request-URI), with Accept, Accept-Encoding, Accept-Language and Supported from the
/// `options_*` parameters; -1 for anything else.
pub(super) fn options_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.method_str().eq_ignore_ascii_case("OPTIONS") {
        return Ok(-1);
    }
    let ruri = ctx.ruri_str().to_string();
    match Uri::parse(&ruri) {
        Ok(u) if u.user().unwrap_or("").is_empty() => {}
        _ => return Ok(-1),
    }
    let o = ctx.state::<Options>();
    let extra = [
        ("Accept", o.accept.as_str()),
        ("Accept-Encoding", o.accept_encoding.as_str()),
        ("Accept-Language", o.accept_language.as_str()),
        ("Supported", o.support.as_str()),
    ];
    crate::forward::reply(ctx, 200, "OK", &extra)?;
    Ok(1)
}

/// The credentials a successful `www_authorize`/`proxy_authorize` accepted for this
/// request: the digest username's user part. The auth module fills this slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizedCred {
    pub username_user: String,
}

impl crate::host::MsgState for AuthorizedCred {}

/// `is_user(user)`: the authorized credentials' username is `user` (case-sensitive); -1
/// without authorized credentials (Kamailio's "call {www,proxy}_authorize first").
pub(super) fn is_user(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let want = arg_str(args, 0);
    let Some(c) = ctx.slots.get::<AuthorizedCred>() else {
        tracing::error!(
            "no authorized credentials found (error in scripts): call {{www,proxy}}_authorize before is_user"
        );
        return Ok(-1);
    };
    if c.username_user.is_empty() || c.username_user != want {
        return Ok(-1);
    }
    Ok(1)
}
