//! nathelper's script side (Kamailio 5.6 nathelper.c): NAT detection (`nat_uac_test`) and
//! the Contact/Request-URI rewrites that keep a NATed UA reachable. Edits are byte ranges of
//! the received message, like Kamailio's lumps; the Contact can be rewritten once per message.

use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::{Ctx, Impl, MsgState};
use crate::sip::{Msg, Uri};
use crate::transport::Proto;
use sipvm_vm::{ArgValue, Host, HostError, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "nat_uac_test",
        f: nat_uac_test,
    },
    Impl {
        name: "fix_nated_contact",
        f: fix_nated_contact,
    },
    Impl {
        name: "fix_nated_register",
        f: fix_nated_register,
    },
    Impl {
        name: "set_contact_alias",
        f: set_contact_alias,
    },
    Impl {
        name: "add_contact_alias",
        f: add_contact_alias,
    },
    Impl {
        name: "handle_ruri_alias",
        f: handle_ruri_alias,
    },
    Impl {
        name: "add_rcv_param",
        f: add_rcv_param,
    },
    Impl {
        name: "is_rfc1918",
        f: is_rfc1918,
    },
    Impl {
        name: "set_alias_to_pv",
        f: set_alias_to_pv,
    },
];

pub static PVS: &[crate::host::PvImpl] = &[
    crate::host::PvImpl {
        name: "rr_count",
        get: rr_count,
        set: None,
    },
    crate::host::PvImpl {
        name: "rr_top_count",
        get: rr_top_count,
        set: None,
    },
];

/// `$rr_count`: the Record-Route entries of the message, over all its Record-Route headers;
/// `$null` when they do not parse.
fn rr_count(ctx: &mut Ctx<'_>, _: sipvm_vm::PvKey<'_>) -> Result<Value, HostError> {
    Ok(match ctx.msg.record_route() {
        Ok(rr) => Value::Int(rr.len() as i64),
        Err(_) => Value::Null,
    })
}

/// `$rr_top_count`: 0 without Record-Route, 2 when the first entry's URI has an `r2` value
/// (a double Record-Route), else 1.
fn rr_top_count(ctx: &mut Ctx<'_>, _: sipvm_vm::PvKey<'_>) -> Result<Value, HostError> {
    Ok(match ctx.msg.record_route() {
        Ok([]) => Value::Int(0),
        Ok([top, ..]) => {
            let r2 = top
                .uri()
                .param("r2")
                .flatten()
                .is_some_and(|v| !v.is_empty());
            Value::Int(if r2 { 2 } else { 1 })
        }
        Err(_) => Value::Null,
    })
}

/// The Contact was rewritten by this message's script (Kamailio refuses a second rewrite).
#[derive(Default)]
struct ContactDone(bool);
impl MsgState for ContactDone {}

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// Kamailio's `PROTO_*` numbers, as the `alias` parameter encodes them.
pub fn proto_num(p: Proto) -> u8 {
    match p {
        Proto::Udp => 1,
        Proto::Tcp => 2,
        Proto::Tls => 3,
        Proto::Sctp => 4,
        Proto::Ws => 5,
        Proto::Wss => 6,
    }
}

fn proto_name(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "udp",
        2 => "tcp",
        3 => "tls",
        4 => "sctp",
        5 => "ws",
        6 => "wss",
        _ => return None,
    })
}

/// RFC 1918 and the other ranges nathelper counts as private (`nat_addr_mode` 1 adds
/// 192.0.0.0/24).
pub fn is_private(ip: Ipv4Addr, addr_mode: i64) -> bool {
    let n = u32::from(ip);
    let nets: &[(u32, u32)] = &[
        (0x0a00_0000, 8),
        (0xac10_0000, 12),
        (0xc0a8_0000, 16),
        (0x6440_0000, 10),
        (0xc000_0000, 29),
    ];
    let within = |&(net, bits): &(u32, u32)| n & (u32::MAX << (32 - bits)) == net;
    nets.iter().any(within) || (addr_mode == 1 && within(&(0xc000_0000, 24)))
}

fn addr_mode(ctx: &Ctx<'_>) -> i64 {
    ctx.snap.modparam_int("nathelper", "nat_addr_mode", 1)
}

/// `is1918addr`: only a dotted IPv4 literal can be private.
fn text_is_private(ctx: &Ctx<'_>, s: &str) -> bool {
    s.parse::<Ipv4Addr>()
        .is_ok_and(|ip| is_private(ip, addr_mode(ctx)))
}

/// Where `part` (a slice of the message's bytes) starts in the message.
fn offset(msg: &Msg, part: &str) -> Option<usize> {
    let base = msg.as_bytes().as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p + part.len() <= base + msg.as_bytes().len()).then(|| p - base)
}

/// The first Contact's URI (Kamailio's `get_contact_uri`): none for `*` or no Contact.
fn first_contact<'m>(msg: &'m Msg) -> Option<&'m crate::sip::ContactAddr<'m>> {
    let c = msg.contacts().ok()?;
    if c.star {
        return None;
    }
    c.list.first()
}

fn port_or_default(p: Option<u16>) -> u16 {
    p.unwrap_or(5060)
}

/// The source as an `alias` value: `ip~port~proto` (IPv6 in brackets).
fn alias_value(ip: IpAddr, port: u16, proto: u8) -> String {
    match ip {
        IpAddr::V6(v6) => format!("[{v6}]~{port}~{proto}"),
        IpAddr::V4(v4) => format!("{v4}~{port}~{proto}"),
    }
}

fn host_port(src: SocketAddr) -> String {
    match src.ip() {
        IpAddr::V6(v6) => format!("[{v6}]:{}", src.port()),
        IpAddr::V4(v4) => format!("{v4}:{}", src.port()),
    }
}

/// `sip:ip:port` of the source, with `;transport=` unless UDP (Kamailio's `get_src_uri`).
fn source_uri(ctx: &Ctx<'_>) -> String {
    let mut s = format!("sip:{}", host_port(ctx.src));
    if ctx.local.proto != Proto::Udp {
        s.push_str(";transport=");
        s.push_str(&ctx.local.proto.as_str().to_ascii_lowercase());
    }
    s
}

/// A `c=` address: whether it is IPv4, and the address.
type SdpAddr = (bool, String);

/// The session and media `c=` addresses of an SDP body: per session, its own address and
/// its streams' (`None` when a stream has none). Only `IN IP4`/`IN IP6` lines count.
fn sdp_addrs(body: &str) -> (Option<SdpAddr>, Vec<Option<SdpAddr>>) {
    let mut session = None;
    let mut streams: Vec<Option<SdpAddr>> = Vec::new();
    for line in body.lines() {
        let line = line.trim_end();
        if line.starts_with("m=") {
            streams.push(None);
        } else if let Some(c) = line.strip_prefix("c=") {
            let mut it = c.split_whitespace();
            let (Some("IN"), Some(af), Some(addr)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let v = Some((
                af == "IP4",
                addr.split('/').next().unwrap_or(addr).to_string(),
            ));
            match streams.last_mut() {
                Some(s) => *s = v,
                None => session = v,
            }
        }
    }
    (session, streams)
}

fn has_sdp(ctx: &Ctx<'_>) -> Option<String> {
    let body = ctx.msg.body();
    if body.is_empty() {
        return None;
    }
    std::str::from_utf8(body).ok().map(str::to_string)
}

/// Test 8: a private address in the SDP (stream's, else the session's; stops at a non-IPv4
/// or null address, as Kamailio does).
fn sdp_private(ctx: &Ctx<'_>) -> bool {
    let Some(body) = has_sdp(ctx) else {
        return false;
    };
    let (session, streams) = sdp_addrs(&body);
    for s in streams {
        let Some((v4, ip)) = s.or_else(|| session.clone()) else {
            break;
        };
        if !v4 || ip == "0.0.0.0" {
            break;
        }
        if text_is_private(ctx, &ip) {
            return true;
        }
    }
    false
}

/// Test 256: the session `c=` address differs from the source address.
fn sdp_cline_differs(ctx: &Ctx<'_>) -> bool {
    let Some(body) = has_sdp(ctx) else {
        return false;
    };
    match sdp_addrs(&body).0 {
        Some((_, ip)) => ip.parse::<IpAddr>().ok() != Some(ctx.src.ip()),
        None => false,
    }
}

/// The URI's `transport` parameter; `None` without one.
fn explicit_proto(u: &Uri<'_>) -> Option<Proto> {
    u.param("transport")
        .flatten()
        .and_then(|t| Proto::from_name(&t.to_ascii_lowercase()))
}

fn uri_proto(u: &Uri<'_>) -> Proto {
    explicit_proto(u).unwrap_or(Proto::Udp)
}

/// Test 512: the next hop (`$du`) differs from the Request-URI, or goes to a WebSocket;
/// for a reply, the second Via's `received`/`rport` differ from its sent-by.
fn destination_differs(ctx: &Ctx<'_>) -> bool {
    if !ctx.msg.is_request() {
        let Ok(vias) = ctx.msg.via() else {
            return false;
        };
        let Some(v2) = vias.get(1) else { return false };
        if matches!(
            Proto::from_name(v2.transport()),
            Some(Proto::Ws | Proto::Wss)
        ) {
            return true;
        }
        if let Some(Some(rp)) = v2.rport() {
            if rp.parse::<u16>().ok() != Some(port_or_default(v2.port())) {
                return true;
            }
        }
        let Some(rcv) = v2.received() else {
            return false;
        };
        return hosts_differ(rcv, v2.host());
    }
    let ruri = ctx.ruri_str().to_string();
    let Ok(r) = Uri::parse(&ruri) else {
        return false;
    };
    let Some(du) = ctx.dst_uri.clone() else {
        return matches!(uri_proto(&r), Proto::Ws | Proto::Wss);
    };
    let Ok(d) = Uri::parse(&du) else { return false };
    if matches!(uri_proto(&d), Proto::Ws | Proto::Wss) {
        return true;
    }
    if port_or_default(d.port()) != port_or_default(r.port()) {
        return true;
    }
    hosts_differ(d.host(), r.host())
}

fn hosts_differ(a: &str, b: &str) -> bool {
    let ip = |s: &str| s.trim_matches(['[', ']']).parse::<IpAddr>().ok();
    match (ip(a), ip(b)) {
        (None, None) => a != b,
        (Some(x), Some(y)) => x != y,
        _ => true,
    }
}

/// `nat_uac_test(flags)`: 1 when any test of `flags` holds, else -1 (bits as in Kamailio
/// 5.6: 1 Contact private, 2 Via host is not the source, 4 Via private, 8 SDP private, 16
/// source port is not the Via port, 32 source private, 64 WebSocket, 128 source port is not
/// the Contact port, 256 SDP `c=` is not the source, 512 destination differs).
fn nat_uac_test(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let t = arg_int(args, 0)?;
    let via = ctx.msg.top_via().ok();
    let src = ctx.src;
    let contact_uri = |ctx: &Ctx<'_>| {
        first_contact(ctx.msg).map(|c| (c.addr.uri().host().to_string(), c.addr.uri().port()))
    };
    if t & 16 != 0 && via.is_some_and(|v| port_or_default(v.port()) != src.port()) {
        return Ok(1);
    }
    if t & 2 != 0
        && via.is_some_and(|v| {
            v.host().trim_matches(['[', ']']).parse::<IpAddr>().ok() != Some(src.ip())
        })
    {
        return Ok(1);
    }
    if t & 1 != 0 && contact_uri(ctx).is_some_and(|(h, _)| text_is_private(ctx, &h)) {
        return Ok(1);
    }
    if t & 8 != 0 && sdp_private(ctx) {
        return Ok(1);
    }
    if t & 4 != 0 && via.is_some_and(|v| text_is_private(ctx, v.host())) {
        return Ok(1);
    }
    if t & 32 != 0 && matches!(src.ip(), IpAddr::V4(v4) if is_private(v4, addr_mode(ctx))) {
        return Ok(1);
    }
    if t & 64 != 0 && matches!(ctx.local.proto, Proto::Ws | Proto::Wss) {
        return Ok(1);
    }
    if t & 128 != 0 && contact_uri(ctx).is_some_and(|(_, p)| port_or_default(p) != src.port()) {
        return Ok(1);
    }
    if t & 256 != 0 && sdp_cline_differs(ctx) {
        return Ok(1);
    }
    if t & 512 != 0 && destination_differs(ctx) {
        return Ok(1);
    }
    Ok(-1)
}

/// The first Contact's URI and where it sits in the message; -1 when there is none or it
/// was rewritten already.
fn contact_span(ctx: &mut Ctx<'_>) -> Option<(usize, usize, bool)> {
    if ctx.slots.get::<ContactDone>().is_some_and(|d| d.0) {
        tracing::error!("nathelper: the Contact cannot be rewritten twice in one message");
        return None;
    }
    let c = first_contact(ctx.msg)?;
    let uri = c.addr.uri().as_str();
    let start = offset(ctx.msg, uri)?;
    Some((start, start + uri.len(), c.addr.bracketed()))
}

fn replace_contact(ctx: &mut Ctx<'_>, start: usize, end: usize, new: &str) {
    ctx.edits.replace_range(start, end, new.as_bytes());
    ctx.slots.entry::<ContactDone>().0 = true;
}

/// `fix_nated_contact()`: the Contact URI's host and port become the source address (an
/// `maddr` parameter is dropped).
fn fix_nated_contact(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some((start, end, _)) = contact_span(ctx) else {
        return Ok(-1);
    };
    let text = String::from_utf8_lossy(&ctx.msg.as_bytes()[start..end]).into_owned();
    let Ok(u) = Uri::parse(&text) else {
        return Ok(-1);
    };
    let hp = u.hostport();
    let hp_at = hp.as_ptr() as usize - text.as_ptr() as usize;
    let mut rest = text[hp_at + hp.len()..].to_string();
    if let Some(i) = rest.to_ascii_lowercase().find(";maddr=") {
        let after = rest[i + 1..]
            .find([';', '?'])
            .map_or(rest.len(), |j| i + 1 + j);
        rest.replace_range(i..after, "");
    }
    let new = format!("{}{}{}", &text[..hp_at], host_port(ctx.src), rest);
    replace_contact(ctx, start, end, &new);
    Ok(1)
}

/// Drops a trailing `;alias=...` parameter from a URI (Kamailio's `uri_trim_rcv_alias`).
fn trim_alias(uri: &str) -> Option<String> {
    let i = uri.rfind(";alias=")?;
    let end = uri[i + 1..].find(';').map_or(uri.len(), |j| i + 1 + j);
    Some(format!("{}{}", &uri[..i], &uri[end..]))
}

/// `set_contact_alias([trim])`: appends `;alias=ip~port~proto` of the source to the Contact
/// URI (in `<>` if it was bare); with trim 1 an alias already there is replaced.
fn set_contact_alias(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let trim = !args.is_empty() && arg_int(args, 0)? >= 1;
    let Some((start, end, bracketed)) = contact_span(ctx) else {
        return Ok(-1);
    };
    let mut uri = String::from_utf8_lossy(&ctx.msg.as_bytes()[start..end]).into_owned();
    if trim {
        if let Some(t) = trim_alias(&uri) {
            uri = t;
        }
    }
    uri.push_str(";alias=");
    uri.push_str(&alias_value(
        ctx.src.ip(),
        ctx.src.port(),
        proto_num(ctx.local.proto),
    ));
    let new = if bracketed { uri } else { format!("<{uri}>") };
    replace_contact(ctx, start, end, &new);
    Ok(1)
}

/// `add_contact_alias()`: like `set_contact_alias`, but only when the Contact is not the
/// source address already (2 then, and 2 without a Contact); `add_contact_alias(ip, port,
/// proto)` adds the given address.
fn add_contact_alias(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(c) = first_contact(ctx.msg) else {
        return Ok(if ctx.msg.contacts().is_ok() { 2 } else { -1 });
    };
    let u = c.addr.uri();
    let value = if args.len() >= 3 {
        let ip = arg_str(args, 0).into_owned();
        let port = arg_str(args, 1).into_owned();
        let proto = match Proto::from_name(&arg_str(args, 2).to_ascii_lowercase()) {
            Some(p) => proto_num(p),
            None => return Ok(-1),
        };
        if ip.parse::<IpAddr>().is_err() || port.parse::<u16>().is_err() {
            return Ok(-1);
        }
        let ip = if ip.contains(':') && !ip.starts_with('[') {
            format!("[{ip}]")
        } else {
            ip
        };
        format!("{ip}~{port}~{proto}")
    } else {
        let same = u.host().trim_matches(['[', ']']).parse::<IpAddr>().ok() == Some(ctx.src.ip())
            && port_or_default(u.port()) == ctx.src.port()
            // Without a transport parameter the URI's protocol is none, never the source's.
            && explicit_proto(u) == Some(ctx.local.proto);
        if same {
            return Ok(2);
        }
        alias_value(ctx.src.ip(), ctx.src.port(), proto_num(ctx.local.proto))
    };
    if ctx.slots.get::<ContactDone>().is_some_and(|d| d.0) {
        return Ok(-1);
    }
    let hp = u.hostport();
    let Some(at) = offset(ctx.msg, hp).map(|o| o + hp.len()) else {
        return Ok(-1);
    };
    let whole = c.addr.as_str();
    let bracket = whole.contains('<');
    let mut param = format!(";alias={value}");
    if !bracket {
        let Some(body_at) = offset(ctx.msg, whole) else {
            return Ok(-1);
        };
        ctx.edits.insert_at(body_at, b"<");
        param.push('>');
    }
    ctx.edits.insert_at(at, param.as_bytes());
    ctx.slots.entry::<ContactDone>().0 = true;
    Ok(1)
}

/// `handle_ruri_alias([mode])`: the Request-URI's `alias` parameter (the first; with mode 1
/// the last) becomes `$du` and leaves the Request-URI. 2 when there is none, -1 when it is
/// malformed.
fn handle_ruri_alias(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let mode = if args.is_empty() {
        0
    } else {
        arg_int(args, 0)?
    };
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let hp = u.hostport();
    let params_at = hp.as_ptr() as usize - ruri.as_ptr() as usize + hp.len();
    let params_end = ruri[params_at..]
        .find('?')
        .map_or(ruri.len(), |i| params_at + i);
    let params = &ruri[params_at..params_end];
    let mut found = None;
    let mut pos = 0;
    for p in params.split(';') {
        if p.starts_with("alias=") {
            found = Some(params_at + pos - 1);
            if mode == 0 {
                break;
            }
        }
        pos += p.len() + 1;
    }
    let Some(at) = found else { return Ok(2) };
    let end = ruri[at + 1..params_end]
        .find(';')
        .map_or(params_end, |i| at + 1 + i);
    if mode != 0 && end == params_end {
        // Kamailio 5.6.3 fails to parse the last alias when it is the URI's last parameter.
        tracing::error!("handle_ruri_alias: no second '~' in alias param value");
        return Ok(-1);
    }
    let val = &ruri[at + 7..end];
    let mut parts = val.split('~');
    let (Some(ip), Some(port), Some(proto), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        tracing::error!("handle_ruri_alias: invalid alias parameter [{val}]");
        return Ok(-1);
    };
    let Some(proto) = proto
        .parse::<u8>()
        .ok()
        .filter(|_| proto.len() == 1)
        .and_then(|n| proto_name(n).map(|s| (n, s)))
    else {
        tracing::error!("handle_ruri_alias: unknown proto in alias parameter [{val}]");
        return Ok(-1);
    };
    let mut du = format!("sip:{ip}:{port}");
    if proto.0 != 1 {
        du.push_str(";transport=");
        du.push_str(proto.1);
    }
    ctx.dst_uri = Some(du);
    ctx.ruri = Some(format!("{}{}", &ruri[..at], &ruri[end..]));
    Ok(1)
}

/// The AVP name of a `$avp(name)` spec (`s:` prefix allowed).
fn avp_name(spec: &str) -> &str {
    let n = spec
        .trim()
        .strip_prefix("$avp(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(spec);
    n.strip_prefix("s:").unwrap_or(n)
}

/// `fix_nated_register()`: the source URI goes into the `received_avp` AVP (which
/// registrar's `save` stores as the binding's received address); 1 without the parameter.
fn fix_nated_register(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(spec) = ctx
        .snap
        .modparam("nathelper", "received_avp")
        .map(|v| v.to_str().into_owned())
        .filter(|s| !s.is_empty())
    else {
        return Ok(1);
    };
    let v = source_uri(ctx);
    ctx.avps.push((avp_name(&spec).into(), Value::str(&v)));
    Ok(1)
}

/// `add_rcv_param([flag])`: `;received="<source uri>"` on every Contact (flag 0), or
/// `;received=<source uri>` inside each Contact URI (flag 1, UDP only).
fn add_rcv_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let upos = !args.is_empty() && arg_int(args, 0)? != 0;
    if upos && ctx.local.proto != Proto::Udp {
        tracing::error!("add_rcv_param: a received URI parameter works only for UDP");
        return Ok(-1);
    }
    let uri = source_uri(ctx);
    let Ok(cs) = ctx.msg.contacts() else {
        return Ok(-1);
    };
    if cs.star || cs.list.is_empty() {
        return Ok(-1);
    }
    let mut inserts = Vec::with_capacity(cs.list.len());
    for c in &cs.list {
        let part = if upos {
            c.addr.uri().as_str()
        } else {
            c.addr.as_str()
        };
        let Some(at) = offset(ctx.msg, part) else {
            return Ok(-1);
        };
        let p = if upos {
            format!(";received={uri}")
        } else {
            format!(";received=\"{uri}\"")
        };
        inserts.push((at + part.len(), p));
    }
    for (at, p) in inserts {
        ctx.edits.insert_at(at, p.as_bytes());
    }
    Ok(1)
}

/// `is_rfc1918(address)`: 1 for a private IPv4 address, -1 otherwise, -2 for an empty one.
fn is_rfc1918(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let a = arg_str(args, 0).into_owned();
    if a.is_empty() {
        return Ok(-2);
    }
    Ok(truth(text_is_private(ctx, &a)))
}

/// `set_alias_to_pv(pv)`: the single Contact's `alias` parameter as
/// `sip:ip:port;transport=proto`, assigned to the pseudo-variable.
fn set_alias_to_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(ArgValue::Pv(pv)) = args.first() else {
        return Err(HostError("argument 1 is not a pseudo-variable".into()));
    };
    let Ok(cs) = ctx.msg.contacts() else {
        return Ok(-1);
    };
    if cs.star || cs.list.len() != 1 {
        return Ok(-1);
    }
    let whole = cs.list[0].addr.as_str();
    let Some(i) = whole.find(";alias=") else {
        return Ok(-1);
    };
    let val = &whole[i + 7..];
    let val = &val[..val.find([';', '>', ' ']).unwrap_or(val.len())];
    let mut it = val.split('~');
    let (Some(host), Some(port), Some(proto)) = (it.next(), it.next(), it.next()) else {
        return Ok(-1);
    };
    let proto = proto
        .get(..1)
        .and_then(|p| p.parse::<u8>().ok())
        .and_then(proto_name)
        .unwrap_or("");
    let uri = format!("sip:{host}:{port};transport={proto}");
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    Ok(match ctx.set_pv(&prog, key, Value::str(&uri)) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!("set_alias_to_pv: {e}");
            -1
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges() {
        for (ip, want) in [
            ("10.1.2.3", true),
            ("172.16.0.1", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("100.64.0.1", true),
            ("100.128.0.1", false),
            ("192.0.0.7", true),
            ("192.0.0.9", true),
            ("8.8.8.8", false),
            ("127.0.0.1", false),
        ] {
            assert_eq!(is_private(ip.parse().unwrap(), 1), want, "{ip}");
        }
        assert!(!is_private("192.0.0.9".parse().unwrap(), 0));
        assert!(is_private("192.0.0.7".parse().unwrap(), 0));
    }

    #[test]
    fn alias_trim() {
        assert_eq!(
            trim_alias("sip:a@1.2.3.4;alias=5.6.7.8~5060~1;lr").as_deref(),
            Some("sip:a@1.2.3.4;lr")
        );
        assert_eq!(trim_alias("sip:a@1.2.3.4"), None);
    }

    #[test]
    fn sdp_lines() {
        let (s, m) = sdp_addrs("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 1 RTP/AVP 0\r\nm=video 2 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\n");
        assert_eq!(s, Some((true, "10.0.0.1".into())));
        assert_eq!(m, vec![None, Some((true, "1.2.3.4".into()))]);
    }
}
