//! kex's natives: script flags (per worker, as Kamailio's are per process), branch flags
//! (per branch of `Ctx`), the destination URI, `pv_printf`, `is_myself`, and `$sruid`.

use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::{Ctx, Impl, MsgState, PvImpl};
use sipvm_vm::{ArgValue, Host, HostError, PvKey, Value};
use std::sync::atomic::{AtomicU32, Ordering};

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "setsflag",
        f: setsflag,
    },
    Impl {
        name: "resetsflag",
        f: resetsflag,
    },
    Impl {
        name: "issflagset",
        f: issflagset,
    },
    Impl {
        name: "setbflag",
        f: setbflag,
    },
    Impl {
        name: "resetbflag",
        f: resetbflag,
    },
    Impl {
        name: "isbflagset",
        f: isbflagset,
    },
    Impl {
        name: "setdsturi",
        f: setdsturi,
    },
    Impl {
        name: "resetdsturi",
        f: resetdsturi,
    },
    Impl {
        name: "isdsturiset",
        f: isdsturiset,
    },
    Impl {
        name: "pv_printf",
        f: pv_printf,
    },
    Impl {
        name: "avp_printf",
        f: pv_printf,
    },
    Impl {
        name: "is_myself",
        f: is_myself,
    },
    Impl {
        name: "setdebug",
        f: setdebug,
    },
    Impl {
        name: "resetdebug",
        f: resetdebug,
    },
];

pub static PVS: &[PvImpl] = &[PvImpl {
    name: "sruid",
    get: sruid,
    set: None,
}];

/// The script flags: Kamailio 5.6 keeps them per process but starts each message with none
/// (checked side by side), so they are per message here.
#[derive(Default)]
struct ScriptFlags(u32);
impl MsgState for ScriptFlags {}

/// The flag argument: Kamailio's functions answer -1 outside 0..=31.
fn flag(args: &[ArgValue<'_>]) -> Result<Option<u32>, HostError> {
    let f = arg_int(args, 0)?;
    Ok((0..=31).contains(&f).then(|| 1u32 << f))
}

/// The optional branch index argument (0: the Request-URI); `None` when negative.
fn branch_idx(args: &[ArgValue<'_>]) -> Result<Option<usize>, HostError> {
    if args.len() < 2 {
        return Ok(Some(0));
    }
    let i = arg_int(args, 1)?;
    Ok(usize::try_from(i).ok())
}

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

fn setsflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(m) = flag(args)? else { return Ok(-1) };
    ctx.slots.entry::<ScriptFlags>().0 |= m;
    Ok(1)
}

fn resetsflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(m) = flag(args)? else { return Ok(-1) };
    if let Some(f) = ctx.slots.get_mut::<ScriptFlags>() {
        f.0 &= !m;
    }
    Ok(1)
}

fn issflagset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(m) = flag(args)? else { return Ok(-1) };
    let f = ctx.slots.get::<ScriptFlags>().map_or(0, |f| f.0);
    Ok(truth(f & m != 0))
}

/// Applies `op` to the flags of the branch the arguments name; -1 for a bad flag or index or
/// a branch that does not exist (as Kamailio's `setbflag` & co).
fn on_branch(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    op: impl FnOnce(&mut u32, u32) -> i64,
) -> Result<i64, HostError> {
    let (Some(m), Some(i)) = (flag(args)?, branch_idx(args)?) else {
        return Ok(-1);
    };
    Ok(match ctx.branch_flags_mut(i) {
        Some(f) => op(f, m),
        None => -1,
    })
}

fn setbflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    on_branch(ctx, args, |f, m| {
        *f |= m;
        1
    })
}

fn resetbflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    on_branch(ctx, args, |f, m| {
        *f &= !m;
        1
    })
}

fn isbflagset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    // Read-only: a missing branch is -1 without growing the flag list.
    let (Some(m), Some(i)) = (flag(args)?, branch_idx(args)?) else {
        return Ok(-1);
    };
    Ok(ctx.branch_flags(i).map_or(-1, |f| truth(f & m != 0)))
}

/// `setdsturi(uri)`: sets `$du`; -1 for an empty URI.
fn setdsturi(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uri = arg_str(args, 0);
    if uri.is_empty() {
        return Ok(-1);
    }
    ctx.dst_uri = Some(uri.into_owned());
    Ok(1)
}

fn resetdsturi(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.dst_uri = None;
    Ok(1)
}

fn isdsturiset(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(truth(ctx.dst_uri.as_deref().is_some_and(|d| !d.is_empty())))
}

/// `pv_printf(pv, fmt)` / `avp_printf`: assigns the expanded format to the pseudo-variable.
/// Pseudo-variables the VM keeps (`$var`) cannot be reached from a native yet: a run-time
/// error, as every compile-time fact of the argument is checked on each call the same way.
fn pv_printf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(ArgValue::Pv(pv)) = args.first() else {
        return Err(HostError("argument 1 is not a pseudo-variable".into()));
    };
    let text = arg_str(args, 1).into_owned();
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    match ctx.set_pv(&prog, key, Value::str(&text)) {
        Ok(()) => Ok(1),
        Err(e) => {
            tracing::error!("pv_printf: {e}");
            Ok(-1)
        }
    }
}

/// `is_myself(uri)`: a `sip:`/`sips:` URI by its host, port and transport, anything else as a
/// host; without a port any local port matches (Kamailio's `check_self` with port 0), with a
/// `transport` only a socket of that protocol.
fn is_myself(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = arg_str(args, 0).into_owned();
    let lower = s
        .get(..5)
        .map(|p| p.to_ascii_lowercase())
        .unwrap_or_default();
    let (host, port, proto) = if s.len() > 4 && (lower.starts_with("sip:") || lower == "sips:") {
        match crate::sip::Uri::parse(&s) {
            Ok(u) => {
                let proto = u
                    .param("transport")
                    .flatten()
                    .map(|t| crate::transport::Proto::from_name(t).ok_or(()));
                (u.host().to_string(), u.port(), proto)
            }
            Err(_) => {
                tracing::error!("is_myself: failed to parse uri [{s}]");
                return Ok(-1);
            }
        }
    } else {
        (s.clone(), None, None)
    };
    let proto = match proto {
        Some(Err(())) => return Ok(-1),
        Some(Ok(p)) => Some(p),
        None => None,
    };
    // The sockets of that protocol (all without one), and the ports worth trying.
    let locals: Vec<crate::transport::Local> = ctx
        .locals
        .iter()
        .filter(|l| proto.is_none_or(|p| l.proto == p))
        .cloned()
        .collect();
    let ports: Vec<Option<u16>> = match port {
        Some(p) => vec![Some(p)],
        None => locals
            .iter()
            .map(|l| Some(l.addr.port()))
            .chain([None])
            .collect(),
    };
    let found = ports
        .iter()
        .any(|&p| crate::host::ctx::is_local(&locals, ctx.snap, &host, p));
    Ok(truth(found))
}

/// `setdebug(level)`: this worker's own log level from now on, for every message it handles
/// until `resetdebug()` (Kamailio's per-process level): 4 and above trace, 3 debug, 1 and 2
/// info, 0 warn, below 0 error. Returns 1.
fn setdebug(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    use tracing::Level;
    let level = match arg_int(args, 0)? {
        l if l >= 4 => Level::TRACE,
        3 => Level::DEBUG,
        1 | 2 => Level::INFO,
        0 => Level::WARN,
        _ => Level::ERROR,
    };
    crate::logging::set_thread_level(Some(level));
    Ok(1)
}

/// `resetdebug()`: back to the server's `debug` level. Returns 1.
fn resetdebug(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    crate::logging::set_thread_level(None);
    Ok(1)
}

/// Each worker's `$sruid` root (Kamailio's `srid-<time>-<pid>-`) and counter.
struct Sruid {
    root: String,
    counter: u32,
}

thread_local! {
    static SRUID: std::cell::RefCell<Option<Sruid>> = const { std::cell::RefCell::new(None) };
}

/// A number per worker thread, standing for Kamailio's per-process pid in `$sruid`.
fn worker_number() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    std::process::id().wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The next unique id of this worker: the root, then the counter's hex digits, lowest
/// first (Kamailio's order).
pub fn next_sruid() -> String {
    SRUID.with(|cell| {
        let mut g = cell.borrow_mut();
        let s = g.get_or_insert_with(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as u32);
            Sruid {
                root: format!("srid-{now:x}-{:x}-", worker_number()),
                counter: 0,
            }
        });
        s.counter = s.counter.wrapping_add(1).max(1);
        let mut out = s.root.clone();
        let mut v = s.counter;
        while v != 0 {
            out.push(char::from(b"0123456789abcdef"[(v & 0xf) as usize]));
            v >>= 4;
        }
        out
    })
}

fn sruid(_: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    Ok(Value::str(&next_sruid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sruid_counts_in_reversed_hex() {
        let a = next_sruid();
        let b = next_sruid();
        assert!(a.starts_with("srid-"));
        let (ra, ca) = a.rsplit_once('-').unwrap();
        let (rb, cb) = b.rsplit_once('-').unwrap();
        assert_eq!(ra, rb);
        assert_ne!(ca, cb);
        for _ in 0..14 {
            next_sruid();
        }
        // The 17th id: 17 = 0x11.
        let c = next_sruid();
        assert_eq!(c.rsplit_once('-').unwrap().1, "11");
    }
}
