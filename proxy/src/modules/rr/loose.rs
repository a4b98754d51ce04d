//! `loose_route()` as Kamailio 5.6's rr module does it (RFC 3261 §16.4 and §16.12): consume
//! our own Route entries, send to the next Route (loose router) or put it into the
//! Request-URI (strict router, the old Request-URI going to the end of the route set), and
//! recover when the previous hop was a strict router (the Request-URI is our Record-Route).
//!
//! Return codes (Kamailio's `loose.h`): 1 the route set chose the next hop; -1 no Route
//! header, a parse error, or nothing left after our own double Route behind a strict router;
//! -3 a preloaded route set (no To tag) held only us. Outbound flow tokens (2, -2) are not
//! supported.

use super::record::{config, state, state_mut};
use crate::host::Ctx;
use crate::sip::{Edits, HeaderName, HeaderPos, Msg, Uri};
use crate::transport::Proto;

/// One Route entry and where it sits in the received message.
struct Elem<'m> {
    /// Index of its header line ([`Msg::headers`] order).
    hdr: usize,
    /// Offset of that line's value.
    value_start: usize,
    /// Offsets of the entry itself (name-addr and header parameters).
    start: usize,
    end: usize,
    uri: &'m str,
}

fn offset(msg: &Msg, part: &[u8]) -> usize {
    part.as_ptr() as usize - msg.as_bytes().as_ptr() as usize
}

/// Every Route entry in order; `None` when a Route header does not parse.
fn route_elems(msg: &Msg) -> Option<Vec<Elem<'_>>> {
    let routes = msg.route().ok()?;
    let lines: Vec<(usize, usize, usize)> = msg
        .headers()
        .filter(|h| h.name == HeaderName::Route)
        .map(|h| {
            let s = offset(msg, h.value);
            (h.index, s, s + h.value.len())
        })
        .collect();
    routes
        .iter()
        .map(|na| {
            let start = offset(msg, na.as_str().as_bytes());
            let end = start + na.as_str().len();
            let &(hdr, value_start, _) =
                lines.iter().find(|(_, s, e)| (*s..=*e).contains(&start))?;
            Some(Elem {
                hdr,
                value_start,
                start,
                end,
                uri: na.uri().as_str(),
            })
        })
        .collect()
}

/// Turns the removed entries into edits with Kamailio's byte ranges: a header whose entries
/// all go is removed whole; leading entries go from the value start to the next kept entry;
/// others from the end of the kept entry before them to their own end.
fn remove_entries(el: &[Elem<'_>], removed: &[bool], e: &mut Edits) {
    let mut i = 0;
    while i < el.len() {
        let h = el[i].hdr;
        let b = i + el[i..].iter().take_while(|x| x.hdr == h).count();
        if removed[i..b].iter().all(|r| *r) {
            e.remove_header(h);
        } else {
            let mut j = i;
            while j < b {
                if !removed[j] {
                    j += 1;
                    continue;
                }
                let run_end = j + removed[j..b].iter().take_while(|r| **r).count();
                if j == i {
                    e.replace_range(el[i].value_start, el[run_end].start, b"");
                } else {
                    e.replace_range(el[j - 1].end, el[run_end - 1].end, b"");
                }
                j = run_end;
            }
        }
        i = b;
    }
}

/// Kamailio's `check_self_uri`: host and port (5060 when absent) name this server, any
/// protocol, and the URI is not a GRUU.
fn is_self(ctx: &Ctx<'_>, u: &Uri<'_>) -> bool {
    !u.host().is_empty() && ctx.is_local(u.host(), u.port()) && !u.params().contains("gr")
}

/// A next hop without `;lr` is a strict router.
fn is_strict(u: &Uri<'_>) -> bool {
    !u.params().contains("lr")
}

/// The `r2` parameter marks one of a pair of Record-Routes we wrote.
fn is_2rr(u: &Uri<'_>) -> bool {
    u.params().contains("r2")
}

/// A URI with `maddr` becomes `sip:maddr[:port]` (Kamailio's `get_maddr_uri`).
fn maddr_uri(u: &Uri<'_>) -> String {
    match u.param("maddr") {
        Some(Some(m)) if !m.is_empty() => {
            let port = if u.port_str().is_empty() {
                String::new()
            } else {
                format!(":{}", u.port_str())
            };
            format!("sip:{m}{port}")
        }
        _ => u.as_str().to_string(),
    }
}

/// The socket a Route URI of ours names (Kamailio's `grep_sock_info`): its protocol (any
/// when the URI has no transport, UDP first), address and port (the protocol's default when
/// absent, then any port).
fn socket_for(ctx: &Ctx<'_>, u: &Uri<'_>) -> Option<usize> {
    let proto = u.param("transport").flatten().and_then(Proto::from_name);
    let default_port = if proto == Some(Proto::Tls) {
        5061
    } else {
        5060
    };
    let host = u.host().trim_start_matches('[').trim_end_matches(']');
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    let mut candidates: Vec<&crate::transport::Local> = ctx
        .locals
        .iter()
        .filter(|l| proto.is_none_or(|p| p == l.proto))
        .filter(|l| {
            ip.is_some_and(|ip| ip == l.addr.ip())
                || l.advertise
                    .as_ref()
                    .is_some_and(|a| a.host.eq_ignore_ascii_case(host))
        })
        .collect();
    candidates.sort_by_key(|l| l.proto != Proto::Udp);
    let want = u.port().unwrap_or(default_port);
    let port_of = |l: &crate::transport::Local| {
        l.advertise
            .as_ref()
            .and_then(|a| a.port)
            .unwrap_or(l.addr.port())
    };
    candidates
        .iter()
        .find(|l| port_of(l) == want)
        .or_else(|| candidates.first())
        .map(|l| l.index)
}

/// `loose_route()` / `loose_route_mode(mode)`: mode bit 1 = loose routing only (no
/// strict-router recovery). Changes `ctx.ruri`, `ctx.dst_uri` and removes the Route entries
/// it consumes through `ctx.edits`.
pub fn loose_route(ctx: &mut Ctx<'_>, mode: i64) -> i64 {
    let msg = ctx.msg;
    state_mut(ctx).routed = None;
    state_mut(ctx).route_addr = false;
    let Some(el) = route_elems(msg) else {
        tracing::error!("loose_route: bad Route header");
        return -1;
    };
    if el.is_empty() {
        return -1;
    }
    let ruri = ctx.ruri_str().to_string();
    let Ok(ru) = Uri::parse(&ruri) else {
        return -1;
    };
    let Ok(to) = msg.to() else { return -1 };
    let preloaded = to.tag().is_none_or(str::is_empty);
    let mut removed = vec![false; el.len()];
    let r = if preloaded {
        after_loose(ctx, &el, &mut removed, true)
    } else if mode & 1 == 0 && is_self(ctx, &ru) {
        after_strict(ctx, &el, &mut removed, &ru)
    } else {
        after_loose(ctx, &el, &mut removed, false)
    };
    remove_entries(&el, &removed, &mut ctx.edits);
    if r > 0 || r == -3 {
        super::callbacks::run(ctx);
    }
    r
}

/// The previous hop was a loose router (or the route set is preloaded).
fn after_loose(ctx: &mut Ctx<'_>, el: &[Elem<'_>], removed: &mut [bool], preloaded: bool) -> i64 {
    let (double_rr, force_send_socket) = {
        let c = config(ctx);
        (c.double_rr, c.force_send_socket)
    };
    let Ok(top) = Uri::parse(el[0].uri) else {
        return -1;
    };
    let done = if preloaded { -3 } else { 1 };
    let mut rt = 0;
    let mut next = top;
    if is_self(ctx, &top) {
        state_mut(ctx).routed = Some(top.params().raw().to_string());
        let double = double_rr != 0 && is_2rr(&top);
        if force_send_socket && !double {
            ctx.force_socket = socket_for(ctx, &top);
        }
        removed[0] = true;
        rt = 1;
        if rt >= el.len() {
            return done;
        }
        if double {
            // The second of our pair names the socket facing the next hop.
            let Ok(second) = Uri::parse(el[1].uri) else {
                return -1;
            };
            if let Some(s) = socket_for(ctx, &second) {
                ctx.force_socket = Some(s);
            }
            removed[1] = true;
            rt = 2;
            if rt >= el.len() {
                return done;
            }
        }
        let Ok(u) = Uri::parse(el[rt].uri) else {
            return -1;
        };
        next = u;
        state_mut(ctx).route_addr = true;
    }
    if is_strict(&next) {
        // RFC 3261 §16.12.1.2: the strict router goes into the Request-URI and the old
        // Request-URI (as received) to the end of the route set.
        let old = format!("<{}>", ctx.msg.ruri_str());
        ctx.edits.add_header(HeaderPos::End, "Route", &old);
        ctx.ruri = Some(maddr_uri(&next));
        removed[rt] = true;
    } else {
        ctx.dst_uri = Some(maddr_uri(&next));
    }
    1
}

/// The previous hop was a strict router: the Request-URI is our own Record-Route, and the
/// real target is the last Route entry.
fn after_strict(ctx: &mut Ctx<'_>, el: &[Elem<'_>], removed: &mut [bool], ru: &Uri<'_>) -> i64 {
    state_mut(ctx);
    let double_rr = config(ctx).double_rr;
    let Ok(top) = Uri::parse(el[0].uri) else {
        return -1;
    };
    let mut rt = 0;
    let mut next = top;
    if double_rr != 0 && is_2rr(&top) && is_self(ctx, &top) {
        if let Some(s) = socket_for(ctx, &top) {
            ctx.force_socket = Some(s);
        }
        removed[0] = true;
        if el.len() == 1 {
            return -1;
        }
        rt = 1;
        let Ok(u) = Uri::parse(el[1].uri) else {
            return -1;
        };
        next = u;
    }
    state_mut(ctx).routed = Some(ru.params().raw().to_string());
    if is_strict(&next) {
        ctx.ruri = Some(maddr_uri(&next));
        removed[rt] = true;
    } else {
        ctx.dst_uri = Some(maddr_uri(&next));
        let last = el.len() - 1;
        let Ok(l) = Uri::parse(el[last].uri) else {
            return -1;
        };
        ctx.ruri = Some(maddr_uri(&l));
        removed[last] = true;
    }
    1
}

/// The parameters of our own Route: those `loose_route()` found, else the topmost Route's
/// when it is ours (Kamailio's `redo_route_params`).
pub fn routed_params(ctx: &Ctx<'_>) -> Option<String> {
    if let Some(p) = state(ctx)
        .and_then(|s| s.routed.as_ref())
        .filter(|p| !p.is_empty())
    {
        return Some(p.clone());
    }
    let top = ctx.msg.route().ok()?.first()?;
    is_self(ctx, top.uri()).then(|| top.uri().params().raw().to_string())
}

/// A parameter of our Route by exact name: `Some("")` when it has no value.
pub fn route_param(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    let params = routed_params(ctx)?;
    params.split(';').find_map(|p| {
        let p = p.trim_matches([' ', '\t']);
        let (n, v) = match p.split_once('=') {
            Some((n, v)) => (n.trim_end_matches([' ', '\t']), Some(v)),
            None => (p, None),
        };
        (n == name).then(|| {
            v.map(|v| v.trim_matches([' ', '\t']).trim_matches(['"', '\'']))
                .unwrap_or("")
                .to_string()
        })
    })
}

/// Kamailio's `is_direction`: upstream when our Route's `ftag` differs from the From tag;
/// downstream when they match or either is missing.
pub fn is_upstream(ctx: &Ctx<'_>) -> bool {
    let Some(ftag) = route_param(ctx, "ftag").filter(|t| !t.is_empty()) else {
        return false;
    };
    match ctx.msg.from().ok().and_then(|f| f.tag()) {
        Some(t) if !t.is_empty() => t != ftag,
        _ => false,
    }
}
