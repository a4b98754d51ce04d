//! corex's natives about the message itself: internal flags, source address, faked and
//! intercepted messages, and `forward_reply`.

use crate::forward as send;
use crate::host::ctx::is_local;
use crate::host::natives::arg_str;
use crate::host::uri_edit::split_hostport;
use crate::host::{Ctx, MsgState};
use crate::transport::Proto;
use sipvm_vm::{ArgValue, HostError};

/// The internal message flags `msg_iflag_*` name (Kamailio's `FL_USE_UAC_FROM`,
/// `FL_USE_UAC_TO`, `FL_UAC_AUTH`).
#[derive(Default)]
pub struct IFlags(pub u8);
impl MsgState for IFlags {}

fn iflag(name: &str) -> Option<u8> {
    ["USE_UAC_FROM", "USE_UAC_TO", "UAC_AUTH"]
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// The flag of argument 0; `None` (logged) for a name Kamailio does not know.
fn named(args: &[ArgValue<'_>]) -> Option<u8> {
    let name = arg_str(args, 0);
    let f = iflag(&name);
    if f.is_none() {
        tracing::error!("unsupported flag name [{name}]");
    }
    f
}

/// `msg_iflag_set(name)`: 1; -1 for an unknown name.
pub fn msg_iflag_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(f) = named(args) else { return Ok(-1) };
    ctx.slots.entry::<IFlags>().0 |= f;
    Ok(1)
}

/// `msg_iflag_reset(name)`: 1; -1 for an unknown name.
pub fn msg_iflag_reset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(f) = named(args) else { return Ok(-1) };
    ctx.slots.entry::<IFlags>().0 &= !f;
    Ok(1)
}

/// `msg_iflag_is_set(name)`: 1 when set, -2 when not, -1 for an unknown name.
pub fn msg_iflag_is_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(f) = named(args) else { return Ok(-1) };
    let set = ctx.slots.get::<IFlags>().is_some_and(|s| s.0 & f != 0);
    Ok(if set { 1 } else { -2 })
}

/// `set_source_address([proto:]host[:port])`: `$si`/`$sp` (and where an rport reply goes)
/// become that address; a missing port is 0, as in Kamailio. -1 when it does not parse or
/// resolve.
pub fn set_source_address(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let arg = arg_str(args, 0).into_owned();
    if arg.is_empty() {
        tracing::error!("cannot get source address value");
        return Ok(-1);
    }
    let rest = match arg.split_once(':') {
        Some((p, r)) if Proto::from_name(p).is_some() => r,
        _ => &arg,
    };
    let (host, port) = split_hostport(rest);
    let port = match port.map(str::parse::<u16>) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(_)) => {
            tracing::error!("failed to parse the address [{arg}]");
            return Ok(-1);
        }
    };
    if host.is_empty() {
        tracing::error!("failed to parse the address [{arg}]");
        return Ok(-1);
    }
    match send::resolve(host, Some(port), 0) {
        Some(a) => {
            ctx.src = a;
            Ok(1)
        }
        None => {
            tracing::error!("failed to resolve address [{arg}]");
            Ok(-1)
        }
    }
}

/// `is_faked_msg()`: 1 when the script runs on the core's faked request (timer and event
/// routes), -1 on a received message.
pub fn is_faked_msg(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    // The faked request: the core's fixed text from the core's fixed (byte-swapped) source.
    use crate::modules::rtimer::{faked_src, FAKED_MSG};
    let faked = ctx.src == faked_src() && ctx.msg.bytes()[..] == *FAKED_MSG.as_bytes();
    Ok(if faked { 1 } else { -1 })
}

/// `is_incoming()`: 1 only inside the network I/O interception routes (`nio_intercept`),
/// which sipvm does not run (the parameter is refused): -1.
pub fn is_incoming(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(-1)
}

/// `forward_reply()` in the core reply_route: the reply relayed statelessly by its Via stack
/// now (our Via removed, to the next one's received/rport/sent-by). Always 1, as Kamailio;
/// unless the route then drops it, the core relays it again after the route, as Kamailio.
pub fn forward_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (locals, snap) = (ctx.locals, ctx.snap);
    let ours = |h: &str, p: Option<u16>| is_local(locals, snap, h, p);
    if !send::relay_reply(ctx.msg, ours, ctx.local, ctx.out) {
        tracing::error!("forward_reply: the reply cannot be forwarded");
    }
    Ok(1)
}
