//! Building and sending what the stateless path emits: forwarded requests (own Via, RFC 3581
//! `received`/`rport` on the sender's Via), local replies, and relayed replies.

mod raw_reply;
pub use raw_reply::raw_reply;

use crate::host::{Ctx, SendFlags};
use crate::sip::{build_reply_parts, Edits, Msg, ReplyParts, Scheme, Uri, Via};
use crate::transport::{Local, Outbox, Outgoing, Proto};
use bytes::Bytes;
use sipvm_vm::HostError;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A host with its port, resolved without DNS: IP literals and `localhost` only (sipvm sends
/// nowhere else; DNS comes with the transaction layer).
pub fn resolve(host: &str, port: Option<u16>, default_port: u16) -> Option<SocketAddr> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if h.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        h.parse().ok()?
    };
    Some(SocketAddr::new(ip, port.unwrap_or(default_port)))
}

/// Where a request goes: `$du` when set, else the Request-URI (RFC 3263 minus DNS).
pub fn next_hop(ctx: &Ctx<'_>) -> Option<SocketAddr> {
    let uri = ctx.dst_uri.as_deref().unwrap_or_else(|| ctx.ruri_str());
    let u = Uri::parse(uri).ok()?;
    let default = if u.scheme() == Scheme::Sips {
        5061
    } else {
        5060
    };
    resolve(u.host(), u.port(), default)
}

/// Byte offset of a slice of the message's buffer.
fn offset_in(msg: &Msg, part: &str) -> Option<usize> {
    let base = msg.as_bytes().as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p + part.len() <= base + msg.len()).then(|| p - base)
}

/// RFC 3581 / 3261 §18.2.1: note on the sender's Via where the request really came from.
pub(crate) fn mark_received(ctx: &Ctx<'_>, via: &Via<'_>, e: &mut Edits) {
    let Some(start) = offset_in(ctx.msg, via.as_str()) else {
        return;
    };
    let end = start + via.as_str().len();
    let mut src_ip = String::with_capacity(40);
    crate::sip::numfmt::push_ip(&mut src_ip, ctx.src.ip(), false);
    let rport = via.rport();
    let mut tail = String::new();
    // As Kamailio 5.6: `received` when the address differs from the sent-by (RFC 3261
    // §18.2.1) or the client asked for `rport`; `force_rport()` alone adds only `rport`.
    let moved = via.host().trim_start_matches('[').trim_end_matches(']') != src_ip;
    if (moved || rport.is_some()) && via.received().is_none() {
        tail.push_str(";received=");
        tail.push_str(&src_ip);
    }
    match rport {
        Some(None) => {
            // `;rport` without a value: fill it in where it is.
            if let Some(i) = rfind_ignore_case(via.as_str().as_bytes(), b";rport") {
                let at = start + i + ";rport".len();
                let after = via.as_str().as_bytes().get(i + 6).copied();
                if after.is_none() || after == Some(b';') || after == Some(b' ') {
                    let mut port = String::from("=");
                    crate::sip::numfmt::push_int(&mut port, ctx.src.port());
                    e.insert_at(at, port.as_bytes());
                }
            }
        }
        None if ctx.force_rport => {
            tail.push_str(";rport=");
            crate::sip::numfmt::push_int(&mut tail, ctx.src.port());
        }
        _ => {}
    }
    if !tail.is_empty() {
        e.insert_at(end, tail.as_bytes());
    }
}

/// A stateless branch: the same request (a retransmission) gets the same branch.
fn branch(ctx: &Ctx<'_>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if let Ok(v) = ctx.msg.top_via() {
        v.branch().unwrap_or("").hash(&mut h);
    }
    ctx.msg.call_id().unwrap_or("").hash(&mut h);
    ctx.msg.cseq().map(|c| c.seq).unwrap_or(0).hash(&mut h);
    ctx.ruri_str().hash(&mut h);
    format!("z9hG4bKsv{:016x}", h.finish())
}

/// How this server names itself in Via: the advertised address, else the bound one.
pub fn via_sent_by(l: &Local) -> String {
    match &l.advertise {
        Some(a) => {
            let host = if a.host.contains(':') {
                format!("[{}]", a.host)
            } else {
                a.host.clone()
            };
            format!("{host}:{}", a.port.unwrap_or(l.addr.port()))
        }
        None => {
            let mut s = String::with_capacity(48);
            crate::sip::numfmt::push_socket(&mut s, l.addr);
            s
        }
    }
}

/// Stateless forward of the request to `dst` over the protocol it arrived on (core
/// `forward(host, port)`).
pub fn forward(ctx: &mut Ctx<'_>, dst: SocketAddr) -> Result<(), HostError> {
    let proto = ctx.local.proto;
    forward_over(ctx, dst, proto).map(|_| ())
}

/// Stateless forward of the request to `dst` over `proto`: current edits, the new
/// Request-URI, `received`/`rport` on the sender's Via, Record-Route, and our Via on top.
/// False when no socket can send `proto` to `dst`'s address family.
pub fn forward_over(ctx: &mut Ctx<'_>, dst: SocketAddr, proto: Proto) -> Result<bool, HostError> {
    let Some(out) = sending_socket(ctx, proto, dst) else {
        tracing::warn!("forward: no {proto} socket for {dst}");
        return Ok(false);
    };
    let buf = request_for(ctx, ctx.ruri.as_deref(), &branch(ctx), out)?;
    let flags = ctx.send_flags;
    send_request(ctx.out, out.index, out.proto, dst, Bytes::from(buf), flags);
    Ok(true)
}

/// The socket a request to `dst` over `proto` leaves from (see [`out_socket`]); sending back
/// over the receiving protocol, the receiving socket.
pub fn sending_socket<'l>(ctx: &Ctx<'l>, proto: Proto, dst: SocketAddr) -> Option<&'l Local> {
    match out_socket(ctx.locals, ctx.local, ctx.force_socket, proto, dst) {
        Some(l) => Some(l),
        None if proto == ctx.local.proto && ctx.local.addr.is_ipv4() == dst.is_ipv4() => {
            Some(ctx.local)
        }
        None => None,
    }
}

/// The request as it leaves socket `out`: the script's edits, `ruri` as
/// Request-URI (`None`: as received), the sender's Via marked, Record-Route, and our Via with
/// `branch` on top.
pub fn request_for(
    ctx: &Ctx<'_>,
    ruri: Option<&str>,
    branch: &str,
    out: &Local,
) -> Result<Vec<u8>, HostError> {
    let mut e = ctx.edits.clone();
    if let Some(r) = ruri {
        e.set_ruri(r);
    }
    if let Ok(v) = ctx.msg.top_via() {
        mark_received(ctx, v, &mut e);
    }
    for f in &ctx.shared.hooks.send {
        f(ctx, out, &mut e);
    }
    let mut via = String::with_capacity(96);
    via.push_str("SIP/2.0/");
    via.push_str(&out.proto.as_str().to_ascii_uppercase());
    via.push(' ');
    via.push_str(&via_sent_by(out));
    via.push_str(";branch=");
    via.push_str(branch);
    e.push_via(&via);
    let mut buf = Vec::with_capacity(ctx.msg.len() + 128);
    ctx.msg
        .serialize(&e, &mut buf)
        .map_err(|x| HostError(x.to_string()))?;
    Ok(buf)
}

/// The socket a request to `dst` over `proto` leaves from: the forced one (`loose_route()`
/// of a double Record-Route) when it fits, else the receiving one when it fits, else the
/// first of that protocol and address family.
pub fn out_socket<'l>(
    locals: &'l [Local],
    rcv: &'l Local,
    forced: Option<usize>,
    proto: Proto,
    dst: SocketAddr,
) -> Option<&'l Local> {
    let fits = |l: &Local| l.proto == proto && l.addr.is_ipv4() == dst.is_ipv4();
    let forced = forced.and_then(|i| locals.iter().find(|l| l.index == i));
    if let Some(f) = forced {
        if fits(f) {
            return Some(f);
        }
        // The same address over the wanted protocol.
        if let Some(l) = locals
            .iter()
            .find(|l| fits(l) && l.addr.ip() == f.addr.ip())
        {
            return Some(l);
        }
    }
    if fits(rcv) {
        return Some(rcv);
    }
    locals.iter().find(|l| fits(l))
}

/// The protocol of the next hop (`$du`, else the Request-URI) as Kamailio's `forward()`
/// picks it: the `transport` parameter, TLS for `sips:`, else UDP.
pub fn next_hop_proto(ctx: &Ctx<'_>) -> Proto {
    uri_proto(ctx.dst_uri.as_deref().unwrap_or_else(|| ctx.ruri_str()))
}

/// The protocol a URI asks for (see [`next_hop_proto`]).
pub fn uri_proto(uri: &str) -> Proto {
    let Ok(u) = Uri::parse(uri) else {
        return Proto::Udp;
    };
    let t = u.param("transport").flatten().and_then(Proto::from_name);
    match (u.scheme(), t) {
        (Scheme::Sips, Some(Proto::Ws | Proto::Wss)) => Proto::Wss,
        (Scheme::Sips, _) => Proto::Tls,
        (_, Some(p)) => p,
        _ => Proto::Udp,
    }
}

fn send_from(out: &mut Outbox, local: &Local, dst: SocketAddr, data: Bytes) {
    send_via(out, local.index, local.proto, dst, data);
}

/// Sends `data` to `dst` from socket `local` (an index into the server's sockets).
pub fn send_via(out: &mut Outbox, local: usize, proto: Proto, dst: SocketAddr, data: Bytes) {
    if loopback_only() && !dst.ip().is_loopback() {
        tracing::warn!("not sending to {dst}: SIPVM_LOOPBACK_ONLY is set");
        return;
    }
    out.send(dst, proto, data, Some(local));
}

/// Sends a request the script forwards, as its send flags say: over TCP without
/// `set_forward_no_connect()` a connection is opened when none is open; with
/// `set_forward_close()` it is closed once written. Over UDP the flags change nothing.
pub fn send_request(
    out: &mut Outbox,
    local: usize,
    proto: Proto,
    dst: SocketAddr,
    data: Bytes,
    flags: SendFlags,
) {
    if loopback_only() && !dst.ip().is_loopback() {
        tracing::warn!("not sending to {dst}: SIPVM_LOOPBACK_ONLY is set");
        return;
    }
    out.push(Outgoing {
        dst,
        proto,
        data,
        via_socket: Some(local),
        connect: !flags.forward_no_connect,
        close: flags.forward_close,
        aside: false,
    });
}

/// Test safety net: with `SIPVM_LOOPBACK_ONLY=1` in the environment, sipvm sends nothing
/// outside 127.0.0.0/8 and ::1 (torture messages name hosts such as 192.0.2.1).
pub fn loopback_only() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("SIPVM_LOOPBACK_ONLY").is_some_and(|v| v == "1"))
}

/// The to-tag of local replies: stable for one request, so retransmissions match.
pub fn to_tag(msg: &Msg) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    msg.call_id().unwrap_or("").hash(&mut h);
    msg.from()
        .ok()
        .and_then(|f| f.tag())
        .unwrap_or("")
        .hash(&mut h);
    msg.top_via()
        .ok()
        .and_then(|v| v.branch())
        .unwrap_or("")
        .hash(&mut h);
    // "sv-" and 12 lower-case hex digits of the hash.
    let v = h.finish();
    let mut tag = String::with_capacity(15);
    tag.push_str("sv-");
    for shift in (0..12).rev() {
        tag.push(char::from(
            b"0123456789abcdef"[((v >> (shift * 4)) & 0xf) as usize],
        ));
    }
    tag
}

/// Where a reply to this request goes (RFC 3261 §18.2.2 with RFC 3581): the source address,
/// with the source port when `rport` was asked for (or forced), else the Via port.
pub fn reply_destination(ctx: &Ctx<'_>) -> SocketAddr {
    let Ok(v) = ctx.msg.top_via() else {
        return ctx.src;
    };
    if ctx.force_rport || v.rport().is_some() || ctx.local.proto != Proto::Udp {
        return ctx.src;
    }
    SocketAddr::new(ctx.src.ip(), v.port().unwrap_or(5060))
}

/// The reply's top Via says where the request came from, as Kamailio 5.6 writes it:
/// `received` when the source address differs from the sent-by (RFC 3261 §18.2.1) or the
/// client asked for `rport`, the `rport` value when it was asked for or `force_rport()` was
/// called (RFC 3581 §4). Returns the request's top Via and its replacement, or `None` when it
/// stays as it is.
fn top_via_with_source(msg: &Msg, src: SocketAddr, force_rport: bool) -> Option<(&str, String)> {
    use crate::sip::numfmt::{push_int, push_ip};
    let v = msg.top_via().ok()?;
    let rport = v.rport();
    let mut src_ip = String::with_capacity(40);
    push_ip(&mut src_ip, src.ip(), false);
    let moved = v.host().trim_start_matches('[').trim_end_matches(']') != src_ip;
    let received = (moved || rport.is_some()) && v.received().is_none();
    if !received && rport != Some(None) && (rport.is_some() || !force_rport) {
        return None;
    }
    let old = v.as_str();
    let mut text = String::with_capacity(old.len() + 40);
    text.push_str(old);
    if rport == Some(None) {
        if let Some(i) = rfind_ignore_case(old.as_bytes(), b";rport") {
            let after = text.as_bytes().get(i + 6).copied();
            if after.is_none() || after == Some(b';') {
                let mut port = String::from("=");
                push_int(&mut port, src.port());
                text.insert_str(i + 6, &port);
            }
        }
    } else if rport.is_none() {
        text.push_str(";rport=");
        push_int(&mut text, src.port());
    }
    if received {
        text.push_str(";received=");
        push_ip(&mut text, src.ip(), false);
    }
    Some((old, text))
}

/// The last position of `needle` (ASCII, lower case) in `hay`, ignoring case.
fn rfind_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// What the script added to the replies sipvm makes for the current message (Kamailio's
/// reply lumps): header lines, then at most one body. A per-message slot any module fills;
/// the local-reply builders read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyLumps {
    /// Raw header lines, in the order added.
    pub headers: Vec<u8>,
    pub body: Option<Vec<u8>>,
}

impl crate::host::MsgState for ReplyLumps {}

/// A stateless reply to the current request; `extra` headers (`Contact` for 3xx...).
pub fn reply(
    ctx: &mut Ctx<'_>,
    code: u16,
    reason: &str,
    extra: &[(&str, &str)],
) -> Result<(), HostError> {
    let lumps = ctx.slots.get::<ReplyLumps>();
    let buf = build_local_reply_with(
        ctx.msg,
        ctx.src,
        ctx.force_rport,
        code,
        reason,
        extra,
        lumps,
    )?;
    reply_raw(ctx, buf);
    Ok(())
}

/// A reply sipvm makes itself to `msg` from `src`: our To-tag, a Server header, and the
/// RFC 3581 source note on the top Via.
pub fn build_local_reply(
    msg: &Msg,
    src: SocketAddr,
    force_rport: bool,
    code: u16,
    reason: &str,
    extra: &[(&str, &str)],
) -> Result<Vec<u8>, HostError> {
    build_local_reply_with(msg, src, force_rport, code, reason, extra, None)
}

/// [`build_local_reply`] with the script's reply lumps (before `extra` and Server).
pub fn build_local_reply_with(
    msg: &Msg,
    src: SocketAddr,
    force_rport: bool,
    code: u16,
    reason: &str,
    extra: &[(&str, &str)],
    lumps: Option<&ReplyLumps>,
) -> Result<Vec<u8>, HostError> {
    // A 100 carries no To-tag (RFC 3261 §8.2.6.1): no need to compute one.
    let tag = (code > 100).then(|| to_tag(msg));
    let mut headers: Vec<(&str, &str)> = extra.to_vec();
    headers.push(("Server", "sipvm"));
    let mut buf = Vec::with_capacity(512);
    let via = top_via_with_source(msg, src, force_rport);
    let via = via.as_ref().map(|(old, new)| (*old, new.as_str()));
    let parts = ReplyParts {
        to_tag: tag.as_deref(),
        top_via: via,
        raw_headers: lumps.map_or(&[][..], |l| &l.headers[..]),
        extra_headers: &headers,
        body: lumps.and_then(|l| l.body.as_deref()).unwrap_or_default(),
    };
    build_reply_parts(msg, code, reason, &parts, &mut buf).map_err(|e| HostError(e.to_string()))?;
    Ok(buf)
}

/// Relays a reply statelessly by its Via stack (RFC 3261 §16.7 step 9 without a transaction):
/// our Via on top is removed and the reply goes to the next Via's `received`/`rport`/sent-by.
/// Returns false when the reply is not for us or has nowhere to go.
pub fn relay_reply(
    msg: &Msg,
    is_ours: impl Fn(&str, Option<u16>) -> bool,
    local: &Local,
    out: &mut Outbox,
) -> bool {
    let Ok(vias) = msg.via() else { return false };
    let (Some(top), Some(next)) = (vias.first(), vias.get(1)) else {
        return false;
    };
    if !is_ours(top.host(), top.port()) {
        return false;
    }
    let host = next.received().unwrap_or_else(|| next.host());
    let port = match next.rport() {
        Some(Some(p)) => p.parse().ok(),
        _ => next.port(),
    };
    let Some(dst) = resolve(host, port, 5060) else {
        return false;
    };
    let mut e = Edits::new();
    e.remove_top_via();
    let mut buf = Vec::with_capacity(msg.len());
    if msg.serialize(&e, &mut buf).is_err() {
        return false;
    }
    // The next Via's transport: a reply from a TCP callee to a UDP caller (a dialog
    // record-routed across transports) leaves over UDP, from a socket the transport picks.
    let proto = Proto::from_name(next.transport()).unwrap_or(local.proto);
    if proto == local.proto {
        send_from(out, local, dst, Bytes::from(buf));
    } else if !loopback_only() || dst.ip().is_loopback() {
        out.send(dst, proto, Bytes::from(buf), None);
    }
    true
}

/// Sends a reply built elsewhere (a complete message in `buf`) the way [`reply`] sends its
/// own: from the receiving socket to [`reply_destination`], or back on the stream. Used for
/// replies to requests too broken for [`build_reply`] (sanity's fallback).
pub fn reply_raw(ctx: &mut Ctx<'_>, buf: Vec<u8>) {
    let dst = reply_destination(ctx);
    let data = Bytes::from(buf);
    if ctx.local.proto == Proto::Udp {
        send_from(ctx.out, ctx.local, dst, data);
    } else {
        // A reply never opens a connection (as if `set_reply_no_connect()` were always on).
        ctx.out.push(Outgoing {
            dst: ctx.src,
            proto: ctx.local.proto,
            data,
            via_socket: Some(ctx.local.index),
            connect: false,
            close: ctx.send_flags.reply_close,
            aside: false,
        });
    }
}
