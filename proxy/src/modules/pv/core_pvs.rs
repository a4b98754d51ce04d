//! More of the pv module's classes (Kamailio 5.6.3 pv_core.c), bound in the core's table
//! (`modules/core/pvs.rs`): the original Request-URI, URI user lengths, the destination URI's
//! parts, source and receiving socket URIs, message facts, constants, environment.

use crate::host::Ctx;
use crate::sip::{NameAddr, Uri};
use sipvm_vm::{HostError, PvKey, Value};
use std::sync::Arc;

type R = Result<Value, HostError>;

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

fn opt(x: Option<&str>) -> Value {
    x.filter(|x| !x.is_empty()).map(s).unwrap_or(Value::Null)
}

/// The URI parts Kamailio's `pv_get_xuri_attr` gives.
#[derive(Clone, Copy)]
enum Part {
    User,
    Host,
    Port,
    Proto,
    UserLen,
}

fn transport<'u>(u: &Uri<'u>) -> Option<&'u str> {
    u.params().get("transport").flatten()
}

fn uri_part(u: Option<Uri<'_>>, p: Part) -> Value {
    let Some(u) = u else {
        return Value::Null;
    };
    match p {
        Part::User => opt(u.user()),
        Part::Host => opt(Some(u.host())),
        // Kamailio defaults to 5061 only for `transport=tls`, not for a sips scheme.
        Part::Port => match u.port() {
            Some(n) => Value::Int(n as i64),
            None if transport(&u).is_some_and(|t| t.eq_ignore_ascii_case("tls")) => {
                Value::Int(5061)
            }
            None => Value::Int(5060),
        },
        // The transport as written, `UDP` without one.
        Part::Proto => s(transport(&u).unwrap_or("UDP")),
        Part::UserLen => Value::Int(u.user().map_or(0, str::len) as i64),
    }
}

fn orig(ctx: &Ctx<'_>, p: Part) -> Value {
    if !ctx.msg.is_request() {
        return Value::Null;
    }
    uri_part(Uri::parse(ctx.msg.ruri_str()).ok(), p)
}

pub fn ou(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(if ctx.msg.is_request() {
        s(ctx.msg.ruri_str())
    } else {
        Value::Null
    })
}
pub fn o_user(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(orig(ctx, Part::User))
}
pub fn o_host(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(orig(ctx, Part::Host))
}
pub fn o_port(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(orig(ctx, Part::Port))
}
pub fn o_proto(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(orig(ctx, Part::Proto))
}
pub fn o_user_len(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(orig(ctx, Part::UserLen))
}

/// `$rUl`: the user length of the current Request-URI; `$rP` its transport.
pub fn r_user_len(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    if !ctx.msg.is_request() {
        return Ok(Value::Null);
    }
    Ok(uri_part(Uri::parse(ctx.ruri_str()).ok(), Part::UserLen))
}
pub fn r_proto(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    if !ctx.msg.is_request() {
        return Ok(Value::Null);
    }
    Ok(uri_part(Uri::parse(ctx.ruri_str()).ok(), Part::Proto))
}

fn na_user_len(n: Result<&NameAddr<'_>, crate::sip::HeaderError>) -> Value {
    match n {
        Ok(n) => Value::Int(n.uri().user().map_or(0, str::len) as i64),
        Err(_) => Value::Null,
    }
}
pub fn f_user_len(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(na_user_len(ctx.msg.from()))
}
pub fn t_user_len(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(na_user_len(ctx.msg.to()))
}

fn dst(ctx: &Ctx<'_>, p: Part) -> Value {
    match ctx.dst_uri.as_deref() {
        Some(d) => uri_part(Uri::parse(d).ok(), p),
        None => Value::Null,
    }
}
pub fn d_host(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(dst(ctx, Part::Host))
}
pub fn d_port(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(dst(ctx, Part::Port))
}
pub fn d_proto(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(dst(ctx, Part::Proto))
}

fn host_text(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(a) => format!("[{a}]"),
        a => a.to_string(),
    }
}

/// `$su` `sip:IP:PORT` of the source; `$sut` with `;transport=` (Kamailio's `get_src_uri`).
pub fn su(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(s(&format!(
        "sip:{}:{}",
        host_text(ctx.src.ip()),
        ctx.src.port()
    )))
}
pub fn sut(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(s(&format!(
        "sip:{}:{};transport={}",
        host_text(ctx.src.ip()),
        ctx.src.port(),
        ctx.local.proto.as_str()
    )))
}

/// `$Ru`, `$Rut`: the same for the receiving socket.
pub fn ru_sock(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    let a = ctx.local.addr;
    Ok(s(&format!("sip:{}:{}", host_text(a.ip()), a.port())))
}
pub fn rut_sock(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    let a = ctx.local.addr;
    Ok(s(&format!(
        "sip:{}:{};transport={}",
        host_text(a.ip()),
        a.port(),
        ctx.local.proto.as_str()
    )))
}

/// `$rv`: the SIP version of the first line.
pub fn rv(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(s(&String::from_utf8_lossy(ctx.msg.version())))
}

/// `$csb`: the CSeq header's body.
pub fn csb(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(ctx
        .msg
        .header_values(crate::sip::HeaderName::CSeq)
        .next()
        .map(|b| s(&String::from_utf8_lossy(b)))
        .unwrap_or(Value::Null))
}

/// `$mt`: 1 request, 2 reply; `$mts`: `rq` or `rp`.
pub fn mt(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(Value::Int(if ctx.msg.is_request() { 1 } else { 2 }))
}
pub fn mts(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(s(if ctx.msg.is_request() { "rq" } else { "rp" }))
}

/// Kamailio's method ids (`METHOD_*` of parse_methods.h), 0 for an unknown method.
pub fn method_id(m: &str) -> i64 {
    const IDS: &[(&str, i64)] = &[
        ("INVITE", 1),
        ("CANCEL", 2),
        ("ACK", 4),
        ("BYE", 8),
        ("INFO", 16),
        ("REGISTER", 32),
        ("SUBSCRIBE", 64),
        ("NOTIFY", 128),
        ("MESSAGE", 256),
        ("OPTIONS", 512),
        ("PRACK", 1024),
        ("UPDATE", 2048),
        ("REFER", 4096),
        ("PUBLISH", 8192),
        ("KDMQ", 16384),
        ("GET", 32768),
        ("POST", 65536),
        ("PUT", 131072),
        ("DELETE", 262144),
    ];
    IDS.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(m))
        .map_or(0, |(_, v)| *v)
}

/// `$rmid`: the request's method id, of the CSeq method in a reply.
pub fn rmid(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    if ctx.msg.is_request() {
        return Ok(Value::Int(method_id(ctx.msg.method_str())));
    }
    Ok(ctx
        .msg
        .cseq()
        .map(|c| Value::Int(method_id(c.method)))
        .unwrap_or(Value::Null))
}

/// `$true`: 1.
pub fn true_(_: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(Value::Int(1))
}

/// `$K(name)`: Kamailio's constants (address families and protocol ids).
pub fn k(_: &mut Ctx<'_>, key: PvKey<'_>) -> R {
    let n = key.name.unwrap_or("");
    Ok(Value::Int(match n {
        "IPv4" | "INET" => 2,
        "IPv6" | "INET6" => 10,
        "UDP" => 1,
        "TCP" => 2,
        "TLS" => 3,
        "SCTP" => 4,
        "WS" => 5,
        "WSS" => 6,
        _ => return Err(HostError(format!("$K({n}): unknown constant"))),
    }))
}

/// `$env(NAME)`: the environment variable, `$null` when unset.
pub fn env(_: &mut Ctx<'_>, key: PvKey<'_>) -> R {
    Ok(std::env::var(key.name.unwrap_or(""))
        .ok()
        .map(|v| s(&v))
        .unwrap_or(Value::Null))
}

/// `$envn(NAME)`: the variable as an integer, `$null` when unset or not a number.
pub fn envn(_: &mut Ctx<'_>, key: PvKey<'_>) -> R {
    Ok(std::env::var(key.name.unwrap_or(""))
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(Value::Int)
        .unwrap_or(Value::Null))
}

/// `$via0(attr)`, `$via1(attr)`, `$viaZ(attr)`: the first, second and last Via body's
/// `host`, `port` (5060 when absent), `proto`, `protoid`, `branch`, `rport`, `received`, `i`.
fn via_attr(ctx: &Ctx<'_>, which: fn(usize) -> Option<usize>, key: &PvKey<'_>) -> R {
    let attr = key.name.unwrap_or("");
    let vias = match ctx.msg.via() {
        Ok(v) => v,
        Err(_) => return Ok(Value::Null),
    };
    let Some(v) = which(vias.len()).and_then(|i| vias.get(i)) else {
        return Ok(Value::Null);
    };
    let param = |n: &str| opt(v.params().get(n).flatten());
    Ok(match attr {
        "host" => opt(Some(v.host())),
        "port" => Value::Int(v.port().unwrap_or(5060) as i64),
        "proto" => s(v.transport()),
        "protoid" => Value::Int(match v.transport().to_ascii_uppercase().as_str() {
            "UDP" => 1,
            "TCP" => 2,
            "TLS" => 3,
            "SCTP" => 4,
            "WS" => 5,
            "WSS" => 6,
            _ => 0,
        }),
        "branch" => opt(v.branch()),
        "rport" => opt(v.rport().flatten()),
        "received" => opt(v.received()),
        "i" => param("i"),
        other => return Err(HostError(format!("unknown via key {other}"))),
    })
}

pub fn via0(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    via_attr(ctx, |_| Some(0), &k)
}
pub fn via1(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    via_attr(ctx, |_| Some(1), &k)
}
pub fn via_z(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    via_attr(ctx, |n| n.checked_sub(1), &k)
}

/// A header's values split at the commas between its name-addrs (not inside quotes or `<>`).
fn name_addrs<'m>(ctx: &'m Ctx<'_>, header: &'m str) -> Vec<&'m str> {
    let mut out = Vec::new();
    for v in ctx.msg.header_values_by_name(header) {
        let Ok(v) = std::str::from_utf8(v) else {
            continue;
        };
        let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' if quoted => i += 1,
                b'"' => quoted = !quoted,
                b'<' if !quoted => depth += 1,
                b'>' if !quoted => depth -= 1,
                b',' if !quoted && depth <= 0 => {
                    out.push(v[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        out.push(v[start..].trim());
    }
    out.retain(|s| !s.is_empty());
    out
}

#[derive(Clone, Copy)]
enum Id {
    Uri,
    User,
    Host,
    Display,
}

/// The identity at the pseudo-variable's index (0 when none) of a P-Asserted- or
/// P-Preferred-Identity list; `[*]` is an error, as in Kamailio.
fn identity(ctx: &Ctx<'_>, header: &str, k: &PvKey<'_>, what: Id) -> R {
    let i = match k.index {
        None => 0,
        Some(sipvm_vm::Index::At(i)) => i.max(0) as usize,
        Some(sipvm_vm::Index::All) => {
            return Err(HostError(format!("unable to return all {header} values")))
        }
    };
    let ids = name_addrs(ctx, header);
    // Past the last identity Kamailio stays on the last one.
    let Some(text) = ids.get(i.min(ids.len().saturating_sub(1))) else {
        return Ok(Value::Null);
    };
    let Ok(n) = NameAddr::parse(text) else {
        return Ok(Value::Null);
    };
    Ok(match what {
        Id::Uri => s(n.uri().as_str()),
        Id::User => opt(n.uri().user()),
        Id::Host => opt(Some(n.uri().host())),
        Id::Display => opt(n.display()),
    })
}

pub fn ai(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    identity(ctx, "P-Asserted-Identity", &k, Id::Uri)
}
pub fn pu(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    identity(ctx, "P-Preferred-Identity", &k, Id::Uri)
}
pub fn p_user(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    identity(ctx, "P-Preferred-Identity", &k, Id::User)
}
pub fn pd(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    identity(ctx, "P-Preferred-Identity", &k, Id::Host)
}
pub fn pn(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    identity(ctx, "P-Preferred-Identity", &k, Id::Display)
}

/// The first name-addr of `header`.
fn first(ctx: &Ctx<'_>, header: &str) -> Option<String> {
    name_addrs(ctx, header).first().map(|s| s.to_string())
}

/// `$rt`: the Refer-To URI.
pub fn rt(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(first(ctx, "Refer-To")
        .and_then(|t| NameAddr::parse(&t).ok().map(|n| s(n.uri().as_str())))
        .unwrap_or(Value::Null))
}

fn diversion(ctx: &Ctx<'_>, param: Option<&str>) -> R {
    let Some(t) = first(ctx, "Diversion") else {
        return Ok(Value::Null);
    };
    let Ok(n) = NameAddr::parse(&t) else {
        return Ok(Value::Null);
    };
    Ok(match param {
        None => s(n.uri().as_str()),
        Some(p) => opt(n.params().get(p).flatten()),
    })
}

/// `$di` the Diversion URI; `$dir`, `$dip`, `$dic` its reason, privacy, counter.
pub fn di(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    diversion(ctx, None)
}
pub fn dir(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    diversion(ctx, Some("reason"))
}
pub fn dip(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    diversion(ctx, Some("privacy"))
}
pub fn dic(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    diversion(ctx, Some("counter"))
}
