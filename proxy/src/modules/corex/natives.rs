//! corex's natives besides `append_branch`: extended flags, file I/O, sockets, raw sends.

use crate::forward as send;
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::uri_edit::split_hostport;
use crate::host::{Ctx, MsgState};
use crate::transport::{Local, Proto};
use bytes::Bytes;
use sipvm_vm::{ArgValue, Host, HostError, Value};

/// The 64 extended flags of a message (Kamailio's `xflags`).
#[derive(Default)]
struct XFlags(u64);
impl MsgState for XFlags {}

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// The flag argument as a bit; `None` outside 0..=63 (Kamailio answers -1 then).
fn xbit(args: &[ArgValue<'_>]) -> Result<Option<u64>, HostError> {
    let f = arg_int(args, 0)?;
    Ok((0..=63).contains(&f).then(|| 1u64 << f))
}

pub fn setxflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(b) = xbit(args)? else { return Ok(-1) };
    ctx.slots.entry::<XFlags>().0 |= b;
    Ok(1)
}

pub fn resetxflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(b) = xbit(args)? else { return Ok(-1) };
    if let Some(f) = ctx.slots.get_mut::<XFlags>() {
        f.0 &= !b;
    }
    Ok(1)
}

pub fn isxflagset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(b) = xbit(args)? else { return Ok(-1) };
    Ok(truth(
        ctx.slots.get::<XFlags>().is_some_and(|f| f.0 & b != 0),
    ))
}

/// `file_read(path, pv)`: the whole file into the pseudo-variable; -1 when it cannot be read
/// (the worker waits for the disk, as a Kamailio process does).
pub fn file_read(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let path = arg_str(args, 0).into_owned();
    let Some(ArgValue::Pv(pv)) = args.get(1) else {
        return Err(HostError("argument 2 is not a pseudo-variable".into()));
    };
    if path.is_empty() {
        tracing::error!("file_read: cannot get file path");
        return Ok(-1);
    }
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("file_read: cannot open file: {path}: {e}");
            return Ok(-1);
        }
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    let text = String::from_utf8_lossy(&data);
    Ok(match ctx.set_pv(&prog, key, Value::str(&text)) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!("file_read: {e}");
            -1
        }
    })
}

/// `file_write(path, content)`: the file is replaced by `content`; -1 for an empty path or
/// content, or a file that cannot be written.
pub fn file_write(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (path, content) = (arg_str(args, 0), arg_str(args, 1));
    if path.is_empty() || content.is_empty() {
        tracing::error!("file_write: cannot get the file path or the content");
        return Ok(-1);
    }
    Ok(match std::fs::write(&*path, content.as_bytes()) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!("file_write: cannot open file: {path}: {e}");
            -1
        }
    })
}

/// `is_socket_name(name)`: a listen socket has `name "..."`.
pub fn is_socket_name(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let n = arg_str(args, 0);
    if n.is_empty() {
        return Ok(-1);
    }
    Ok(truth(
        ctx.locals.iter().any(|l| l.name.as_deref() == Some(&*n)),
    ))
}

/// A socket specification `[proto:]host[:port]`: `None` when its port does not parse; a host
/// that is no address of ours (a name) matches no socket.
type Spec = (Option<Proto>, Option<std::net::IpAddr>, Option<u16>);

fn parse_spec(spec: &str) -> Option<Spec> {
    // Kamailio's parse_phostport: at most two colons outside brackets.
    let mut depth = 0i32;
    let colons = spec
        .chars()
        .filter(|c| {
            depth += match c {
                '[' => 1,
                ']' => -1,
                _ => 0,
            };
            *c == ':' && depth == 0
        })
        .count();
    if colons > 2 {
        return None;
    }
    let (proto, rest) = match spec.split_once(':') {
        Some((p, r)) if Proto::from_name(p).is_some() => (Proto::from_name(p), r),
        _ => (None, spec),
    };
    let (h, p) = split_hostport(rest);
    let port = match p {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((proto, h.trim_matches(['[', ']']).parse().ok(), port))
}

/// Which of `locals` a socket argument names (by address, or by `name` when `by_name`):
/// `Err` for an argument that does not parse, `Ok(None)` for no such socket.
fn find_socket<'l>(locals: &'l [Local], arg: &str, by_name: bool) -> Result<Option<&'l Local>, ()> {
    if by_name {
        return Ok(locals.iter().find(|l| l.name.as_deref() == Some(arg)));
    }
    let (proto, ip, port) = parse_spec(arg).ok_or(())?;
    Ok(locals.iter().find(|l| {
        proto.is_none_or(|p| l.proto == p)
            && ip == Some(l.addr.ip())
            && port.is_none_or(|p| l.addr.port() == p)
    }))
}

/// Kamailio's `set_*_socket*`: an empty argument or a socket that does not parse is -1; one
/// that is not ours is a warning and 1 (nothing changes).
fn set_socket(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], recv: bool, by_name: bool) -> i64 {
    let arg = arg_str(args, 0).into_owned();
    if arg.is_empty() {
        tracing::error!("cannot get socket address value");
        return -1;
    }
    let locals = ctx.locals;
    match find_socket(locals, &arg, by_name) {
        Err(()) => {
            tracing::error!("invalid socket specification [{arg}]");
            -1
        }
        Ok(None) => {
            tracing::warn!("no socket found to match [{arg}]");
            1
        }
        Ok(Some(l)) if recv => {
            ctx.local = l;
            1
        }
        Ok(Some(l)) => {
            ctx.force_socket = Some(l.index);
            1
        }
    }
}

/// `set_send_socket(spec)`: requests leave from that socket.
pub fn set_send_socket(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(set_socket(ctx, args, false, false))
}

/// `set_send_socket_name(name)`: the same, by the socket's `name`.
pub fn set_send_socket_name(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(set_socket(ctx, args, false, true))
}

/// `set_recv_socket(spec)`: the message counts as received on that socket (`$Ri`, `$Rp`,
/// where replies leave from).
pub fn set_recv_socket(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(set_socket(ctx, args, true, false))
}

/// `set_recv_socket_name(name)`: the same, by the socket's `name`.
pub fn set_recv_socket_name(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(set_socket(ctx, args, true, true))
}

/// `send_udp([host[:port]])` / `send_tcp(...)`: the request as it is now, forwarded
/// statelessly over that protocol to `host:port` (5060), or to `$du`/the Request-URI.
fn send_over(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], proto: Proto) -> Result<i64, HostError> {
    let dest = args.first().map(|_| arg_str(args, 0).into_owned());
    let dst = match dest.filter(|d| !d.is_empty()) {
        Some(d) => {
            let (h, p) = split_hostport(&d);
            send::resolve(h, p.and_then(|p| p.parse().ok()), 5060)
        }
        None => send::next_hop(ctx),
    };
    let Some(dst) = dst else {
        tracing::error!("send: no usable destination");
        return Ok(-1);
    };
    Ok(truth(send::forward_over(ctx, dst, proto)?))
}

pub fn send_udp(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    send_over(ctx, args, Proto::Udp)
}

pub fn send_tcp(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    send_over(ctx, args, Proto::Tcp)
}

/// `send_data(uri, data)`: `data` as it is to the URI's address, over its `transport`
/// (UDP by default), from a socket of that protocol; -1 when it has nowhere to go.
pub fn send_data(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (uri, data) = (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned());
    Ok(send_raw(ctx, &uri, "", data))
}

/// `sendx(uri, socket, data)`: `send_data` from the socket `socket` names
/// (`udp:127.0.0.1:5060`; empty, or not ours: as `send_data`, with a warning).
pub fn sendx(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (uri, sock) = (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned());
    Ok(send_raw(ctx, &uri, &sock, arg_str(args, 2).into_owned()))
}

fn send_raw(ctx: &mut Ctx<'_>, uri: &str, sock: &str, data: String) -> i64 {
    let Ok(u) = crate::sip::Uri::parse(uri) else {
        tracing::error!("bad dst sip uri <{uri}>");
        return -1;
    };
    let default = if u.scheme() == crate::sip::Scheme::Sips {
        5061
    } else {
        5060
    };
    let Some(dst) = send::resolve(u.host(), u.port(), default) else {
        tracing::error!("failed to resolve [{}]", u.host());
        return -1;
    };
    let proto = send::uri_proto(uri);
    let locals = ctx.locals;
    let named = match sock {
        "" => None,
        s => match find_socket(locals, s, false) {
            Err(()) => {
                tracing::error!("invalid socket specification");
                return -1;
            }
            Ok(None) => {
                tracing::warn!("local socket not found: {s}");
                None
            }
            Ok(found) => found.filter(|l| l.proto == proto),
        },
    };
    let Some(out) = named.or_else(|| send::sending_socket(ctx, proto, dst)) else {
        tracing::error!("no socket for dst sip uri <{uri}>");
        return -1;
    };
    let (index, proto) = (out.index, out.proto);
    let flags = ctx.send_flags;
    send::send_request(
        ctx.out,
        index,
        proto,
        dst,
        Bytes::from(data.into_bytes()),
        flags,
    );
    1
}
