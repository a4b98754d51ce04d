//! `sanity`: declarations mirroring Kamailio 5.6's sanity module: message sanity checks.

use sipvm_lang::registry::ArgKind::IntFmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "sanity",
    functions: &[
        FnDecl { name: "sanity_check", args: &[IntFmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "sanity_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
    ],
    params: &[
        ParamDecl { name: "default_checks", ty: ParamType::Int },
        ParamDecl { name: "uri_checks", ty: ParamType::Int },
        ParamDecl { name: "proxy_require", ty: ParamType::Str },
        ParamDecl { name: "autodrop", ty: ParamType::Int },
        ParamDecl { name: "noreply", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- implementations ----

use crate::forward as send;
use crate::host::natives::arg_int;
use crate::host::{Ctx, Impl};
use crate::sip::{HeaderName, Method, Msg, Scheme, Uri};
use sipvm_vm::{ArgValue, HostError};

/// sanity's natives.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "sanity_check",
        f: sanity_check,
    },
    Impl {
        name: "sanity_reply",
        f: sanity_reply,
    },
];

// Kamailio 5.6's check bits (sanity_mod.h).
pub const RURI_SIP_VERSION: i64 = 1 << 0;
pub const RURI_SCHEME: i64 = 1 << 1;
pub const REQUIRED_HEADERS: i64 = 1 << 2;
pub const VIA_SIP_VERSION: i64 = 1 << 3;
pub const VIA_PROTOCOL: i64 = 1 << 4;
pub const CSEQ_METHOD: i64 = 1 << 5;
pub const CSEQ_VALUE: i64 = 1 << 6;
pub const CL: i64 = 1 << 7;
pub const EXPIRES_VALUE: i64 = 1 << 8;
pub const PROXY_REQUIRE: i64 = 1 << 9;
pub const PARSE_URIS: i64 = 1 << 10;
pub const CHECK_DIGEST: i64 = 1 << 11;
pub const CHECK_DUPTAGS: i64 = 1 << 12;
pub const CHECK_AUTHORIZATION: i64 = 1 << 13;
pub const VIA1_HEADER: i64 = 1 << 14;
pub const MAX_CHECKS: i64 = 1 << 17;
/// `default_checks` when unset: 3047.
pub const DEFAULT_CHECKS: i64 = RURI_SIP_VERSION
    | RURI_SCHEME
    | REQUIRED_HEADERS
    | CSEQ_METHOD
    | CSEQ_VALUE
    | CL
    | EXPIRES_VALUE
    | PROXY_REQUIRE
    | CHECK_DIGEST;
pub const URI_RURI: i64 = 1 << 0;
pub const URI_FROM: i64 = 1 << 1;
pub const URI_TO: i64 = 1 << 2;
pub const URI_CONTACT: i64 = 1 << 3;
pub const URI_MAX_CHECKS: i64 = 1 << 4;
/// `uri_checks` when unset: 7.
pub const DEFAULT_URI_CHECKS: i64 = URI_RURI | URI_FROM | URI_TO;

/// Why a check failed: the reply it calls for (`None`: fail without a reply, as Kamailio
/// does when the message is too broken to answer), and extra reply headers.
struct Failed {
    reply: Option<(u16, &'static str)>,
    extra: Vec<(&'static str, String)>,
}

fn fail(code: u16, reason: &'static str) -> Result<(), Failed> {
    Err(Failed {
        reply: Some((code, reason)),
        extra: Vec::new(),
    })
}

fn fail_silently() -> Result<(), Failed> {
    Err(Failed {
        reply: None,
        extra: Vec::new(),
    })
}

/// `sanity_check([msg_checks[, uri_checks]])`, with `default_checks` / `uri_checks` when
/// omitted. Passing: 1. Failing: the check's reply is sent (for a request other than ACK,
/// unless `noreply` is set: then `sanity_reply()` sends it) and the result is 0 (the script
/// stops) with `autodrop` on (Kamailio's default), -1 with it off. Checks out of range: -1.
fn sanity_check(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let snap = ctx.snap;
    let msg_checks = match args.first() {
        Some(_) => arg_int(args, 0)?,
        None => snap.modparam_int("sanity", "default_checks", DEFAULT_CHECKS),
    };
    let uri_checks = match args.get(1) {
        Some(_) => arg_int(args, 1)?,
        None => snap.modparam_int("sanity", "uri_checks", DEFAULT_URI_CHECKS),
    };
    if !(1..MAX_CHECKS).contains(&msg_checks) || !(1..URI_MAX_CHECKS).contains(&uri_checks) {
        tracing::error!("sanity_check: checks ({msg_checks}, {uri_checks}) out of range");
        return Ok(-1);
    }
    let noreply = snap.modparam_int("sanity", "noreply", 0) != 0;
    if noreply {
        ctx.slots.take::<KeptReply>();
    }
    let Err(f) = run_checks(ctx, msg_checks, uri_checks) else {
        return Ok(1);
    };
    if let Some((code, reason)) = f.reply {
        let m = ctx.msg;
        if m.is_request() && m.method() != Some(Method::Ack) {
            if noreply {
                ctx.slots.put(KeptReply(code, reason.to_string()));
            } else {
                let extra: Vec<(&str, &str)> =
                    f.extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
                reply(ctx, code, reason, &extra)?;
            }
        }
    }
    let autodrop = snap.modparam_int("sanity", "autodrop", 1) != 0;
    Ok(if autodrop { 0 } else { -1 })
}

/// `sanity_reply()`: with `noreply` set, sends the reply the last failed `sanity_check()` of
/// this message kept (500 "Server Sanity Failure" when none). Always 1; nothing for replies
/// and ACKs, or when `noreply` is off.
fn sanity_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = ctx.msg;
    if !m.is_request() || m.method() == Some(Method::Ack) {
        return Ok(1);
    }
    if ctx.snap.modparam_int("sanity", "noreply", 0) == 0 {
        return Ok(1);
    }
    let (code, reason) = match ctx.slots.get::<KeptReply>() {
        Some(KeptReply(c, r)) => (*c, r.clone()),
        None => (500, "Server Sanity Failure".to_string()),
    };
    reply(ctx, code, &reason, &[])?;
    Ok(1)
}

/// Sends a sanity reply: the usual stateless reply when the request is readable enough,
/// else one built from the raw header lines (a broken Via, To or missing From still gets
/// its 400, as RFC 4475 asks; Kamailio's core would drop some of these before the script).
/// A request without any Via line gets nothing.
fn reply(
    ctx: &mut Ctx<'_>,
    code: u16,
    reason: &str,
    extra: &[(&str, &str)],
) -> Result<(), HostError> {
    let m = ctx.msg;
    if m.can_reply() {
        return send::reply(ctx, code, reason, extra);
    }
    match send::raw_reply(m, code, reason, extra) {
        Some(buf) => send::reply_raw(ctx, buf),
        None => tracing::debug!("sanity: no Via, {code} not sent"),
    }
    Ok(())
}

/// CSeq's number and method as written (Kamailio's `parse_cseq`: two words).
fn cseq_parts(m: &Msg) -> Option<(&str, &str)> {
    let v = m.header_values(HeaderName::CSeq).next()?;
    let v = std::str::from_utf8(v).ok()?;
    let mut it = v.split_ascii_whitespace();
    let (n, method) = (it.next()?, it.next()?);
    it.next().is_none().then_some((n, method))
}

/// Kamailio's checks in Kamailio's order, with what sipvm adds because its parser reads
/// headers lazily where Kamailio's core parses them up front (see `docs/modules/sanity.md`).
fn run_checks(ctx: &Ctx<'_>, checks: i64, uri_checks: i64) -> Result<(), Failed> {
    let m = ctx.msg;
    let req = m.is_request();
    if checks & RURI_SIP_VERSION != 0 && req {
        let v = m.version();
        let ver = v.iter().position(|&c| c == b'/').map(|i| &v[i + 1..]);
        if ver != Some(b"2.0".as_slice()) {
            return fail(505, "Version Not Supported (R-URI)");
        }
    }
    if checks & RURI_SCHEME != 0 && req {
        match Uri::parse(ctx.ruri_str()) {
            Err(_) => return fail(400, "Bad Request URI"),
            Ok(u) if u.scheme() == Scheme::Other => {
                return fail(416, "Unsupported URI Scheme in Request URI")
            }
            // RFC 3261 §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
            Ok(u) if u.headers().is_some() => return fail(400, "Bad Request URI"),
            Ok(_) => {}
        }
    }
    if checks & REQUIRED_HEADERS != 0 {
        required_headers(m)?;
    }
    if checks & VIA1_HEADER != 0 && m.top_via().is_err() {
        return fail_silently();
    }
    // VIA_SIP_VERSION and VIA_PROTOCOL are no-ops in Kamailio 5.6 too.
    if checks & CSEQ_METHOD != 0 && req {
        let Some((_, method)) = cseq_parts(m) else {
            return fail_silently();
        };
        if method != m.method_str() {
            return fail(400, "CSeq method does not match request method");
        }
    }
    if checks & CSEQ_VALUE != 0 {
        let Some((n, _)) = cseq_parts(m) else {
            return fail_silently();
        };
        // RFC 3261 §8.1.1.5: less than 2^31 (Kamailio takes any 32-bit value).
        let ok = n.len() <= 10
            && n.bytes().all(|c| c.is_ascii_digit())
            && n.parse::<u64>().is_ok_and(|v| v < 1 << 31);
        if !ok {
            return fail(400, "CSeq number is illegal");
        }
    }
    if checks & CL != 0 {
        // The parser already cut the body to Content-Length (and refused a short one).
        if let Some(cl) = m.content_length() {
            if m.body().len() != cl as usize {
                return fail(400, "Content-Length mis-match");
            }
        }
    }
    if checks & EXPIRES_VALUE != 0 {
        if let Some(v) = m.header_values(HeaderName::Expires).next() {
            let t = std::str::from_utf8(v).unwrap_or("\u{0}").trim();
            if t.is_empty() {
                return fail(400, "Missing number in Expires header");
            }
            if !t.bytes().all(|c| c.is_ascii_digit()) {
                return fail(400, "Bad Expires Header");
            }
            if t.len() > 10 || t.parse::<u64>().map_or(true, |v| v > u32::MAX as u64) {
                return fail(400, "Expires value is illegal");
            }
        }
    }
    if checks & PROXY_REQUIRE != 0 {
        proxy_require(ctx)?;
    }
    if checks & PARSE_URIS != 0 {
        parse_uris(ctx, uri_checks)?;
    }
    // Kamailio's CHECK_DIGEST also fails, silently, on credentials of another scheme
    // (`Authorization: Basic ...`), so Kamailio drops RFC 4475 §3.3.7's valid request;
    // sipvm lets other schemes pass, as CHECK_AUTHORIZATION does.
    if checks & (CHECK_DIGEST | CHECK_AUTHORIZATION) != 0 {
        digest(m)?;
    }
    if checks & CHECK_DUPTAGS != 0 {
        let (Ok(from), Ok(to)) = (m.from(), m.to()) else {
            return fail_silently();
        };
        let tags = |p: crate::sip::Params<'_>| {
            p.iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("tag"))
                .count()
        };
        if tags(from.params()) > 1 {
            return fail(400, "Many From Tag Params");
        }
        if tags(to.params()) > 1 {
            return fail(400, "Many To Tag Params");
        }
    }
    Ok(())
}

/// The headers every message needs, once each, and readable. Kamailio drops a message
/// without the transaction quadruple or with duplicates silently; sipvm answers 400
/// (RFC 4475 §3.3.1 and §3.3.8 ask for it).
fn required_headers(m: &Msg) -> Result<(), Failed> {
    use HeaderName as H;
    for name in [H::From, H::To, H::CallId, H::CSeq, H::Via] {
        match m.header_values(name).count() {
            0 => return fail(400, "Missing Required Headers"),
            n if n > 1 && name != H::Via => return fail(400, "Duplicate Headers"),
            _ => {}
        }
    }
    // What Kamailio's core parses while it reads the headers (Via, To, CSeq, and
    // Content-Length, which sipvm's framing already checked), plus From and Call-ID.
    if m.via().is_err()
        || m.to().is_err()
        || m.from().is_err()
        || m.call_id().is_err()
        || cseq_parts(m).is_none()
    {
        return fail(400, "Bad Headers");
    }
    Ok(())
}

/// Every option of Proxy-Require must be in `modparam("sanity", "proxy_require", "a,b")`
/// (empty by default: sipvm supports no extension a proxy must know). 420 with an
/// `Unsupported` header listing every unknown option (Kamailio lists the first one only).
fn proxy_require(ctx: &Ctx<'_>) -> Result<(), Failed> {
    let m = ctx.msg;
    if m.find(HeaderName::ProxyRequire).is_none() {
        return Ok(());
    }
    let Ok(opts) = m.proxy_require() else {
        return fail(400, "Bad Proxy Require Header");
    };
    let known = ctx
        .snap
        .modparam("sanity", "proxy_require")
        .map(|v| v.to_str().into_owned())
        .unwrap_or_default();
    let known: Vec<&str> = known
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let unknown: Vec<&str> = opts
        .iter()
        .copied()
        .filter(|o| !known.iter().any(|k| k.eq_ignore_ascii_case(o)))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(Failed {
        reply: Some((420, "Bad Proxy Require Extension")),
        extra: vec![("Unsupported", unknown.join(", "))],
    })
}

fn parse_uris(ctx: &Ctx<'_>, checks: i64) -> Result<(), Failed> {
    let m = ctx.msg;
    if checks & URI_RURI != 0 && m.is_request() && Uri::parse(ctx.ruri_str()).is_err() {
        return fail(400, "Bad Request URI");
    }
    if checks & URI_FROM != 0 && m.from().is_err() {
        if m.find(HeaderName::From).is_none() {
            return fail_silently();
        }
        return fail(400, "Invalid From Header");
    }
    if checks & URI_TO != 0 && m.to().is_err() {
        if m.find(HeaderName::To).is_none() {
            return fail_silently();
        }
        // Kamailio's reason phrase, typo included.
        return fail(400, "Ivalid To Header");
    }
    if checks & URI_CONTACT != 0 && m.find(HeaderName::Contact).is_some() {
        match m.contacts() {
            Err(_) => return fail(400, "Bad Contact Header"),
            Ok(c) => {
                if !c.star {
                    if let Some(first) = c.list.first() {
                        if Uri::parse(first.addr.uri().as_str()).is_err() {
                            return fail(400, "Bad Contact URI");
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Kamailio's `check_digest_only`: every Authorization, then every Proxy-Authorization
/// header must hold Digest credentials with username, realm, nonce, uri and response
/// (and cnonce and nc with qop); username, nonce and response not empty.
/// Credentials of another scheme end the check with a pass (see `run_checks`).
fn digest(m: &Msg) -> Result<(), Failed> {
    let hdrs: Vec<&[u8]> = m
        .header_values(HeaderName::Authorization)
        .chain(m.header_values(HeaderName::ProxyAuthorization))
        .collect();
    for v in hdrs {
        let Ok(v) = std::str::from_utf8(v) else {
            return fail(400, "Bad Auth Header");
        };
        let v = v.trim();
        let (scheme, rest) = v.split_once([' ', '\t']).unwrap_or((v, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Ok(());
        }
        let Some(params) = digest_params(rest) else {
            return fail(400, "Bad Auth Header");
        };
        let get = |n: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.as_str())
        };
        let required = ["username", "realm", "nonce", "uri", "response"];
        let qop_ok = get("qop").is_none() || (get("cnonce").is_some() && get("nc").is_some());
        if required.iter().any(|n| get(n).is_none()) || !qop_ok {
            fail(400, "Bad Auth Credentials")?;
        }
        if get("username").is_some_and(str::is_empty) {
            fail(400, "Auth Empty User")?;
        }
        if get("nonce").is_some_and(str::is_empty) {
            fail(400, "Auth Empty Nonce")?;
        }
        if get("response").is_some_and(str::is_empty) {
            fail(400, "Auth Empty Response")?;
        }
    }
    Ok(())
}

/// `name=value, name="quoted, value"`: the pairs, values unquoted; `None` when malformed.
fn digest_params(s: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n' | b',') {
            i += 1;
        }
        if i >= b.len() {
            return Some(out);
        }
        let ns = i;
        while i < b.len() && b[i] != b'=' && b[i] != b',' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return None;
        }
        let name = s[ns..i].trim().to_string();
        i += 1;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let mut v = Vec::new();
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < b.len() => {
                        v.push(b[i + 1]);
                        i += 2;
                    }
                    Some(&c) => {
                        v.push(c);
                        i += 1;
                    }
                }
            }
            String::from_utf8(v).ok()?
        } else {
            let vs = i;
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
            s[vs..i].trim().to_string()
        };
        if name.is_empty() {
            return None;
        }
        out.push((name, value));
    }
}

/// The reply a failed `sanity_check()` kept for `sanity_reply()` (with `noreply` set).
struct KeptReply(u16, String);

impl crate::host::MsgState for KeptReply {}

/// The sanity module.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &[
        "default_checks",
        "uri_checks",
        "proxy_require",
        "autodrop",
        "noreply",
    ],
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
