//! `siptrace`: copies of SIP messages to a capture server, as Kamailio 5.6's siptrace sends
//! them: HEPv3 packets (`hep_mode_on`) or the plain message, from `sip_trace()` and
//! `sip_trace_mode()` for the current message, and from `trace_mode=1` for every message
//! received and sent (the `data_in`/`data_out` hooks, Kamailio's `SREV_NET_DATA_*`). The
//! database backend is not here (issue #14): `trace_to_database` must be 0.

use sipvm_lang::registry::ArgKind::{Fmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "siptrace",
    functions: &[
        FnDecl { name: "sip_trace", args: &[Fmt, Fmt, Str], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "hlog", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sip_trace_mode", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "auth_key", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "table", ty: ParamType::Str },
        ParamDecl { name: "date_column", ty: ParamType::Str },
        ParamDecl { name: "callid_column", ty: ParamType::Str },
        ParamDecl { name: "traced_user_column", ty: ParamType::Str },
        ParamDecl { name: "msg_column", ty: ParamType::Str },
        ParamDecl { name: "method_column", ty: ParamType::Str },
        ParamDecl { name: "status_column", ty: ParamType::Str },
        ParamDecl { name: "fromip_column", ty: ParamType::Str },
        ParamDecl { name: "toip_column", ty: ParamType::Str },
        ParamDecl { name: "fromtag_column", ty: ParamType::Str },
        ParamDecl { name: "totag_column", ty: ParamType::Str },
        ParamDecl { name: "direction_column", ty: ParamType::Str },
        ParamDecl { name: "trace_flag", ty: ParamType::Int },
        ParamDecl { name: "trace_on", ty: ParamType::Int },
        ParamDecl { name: "traced_user_avp", ty: ParamType::Str },
        ParamDecl { name: "trace_table_avp", ty: ParamType::Str },
        ParamDecl { name: "duplicate_uri", ty: ParamType::Str },
        ParamDecl { name: "trace_to_database", ty: ParamType::Int },
        ParamDecl { name: "trace_local_ip", ty: ParamType::Str },
        ParamDecl { name: "trace_sl_acks", ty: ParamType::Int },
        ParamDecl { name: "xheaders_write", ty: ParamType::Int },
        ParamDecl { name: "xheaders_read", ty: ParamType::Int },
        ParamDecl { name: "hep_mode_on", ty: ParamType::Int },
        ParamDecl { name: "force_send_sock", ty: ParamType::Str },
        ParamDecl { name: "send_sock_addr", ty: ParamType::Str },
        ParamDecl { name: "send_sock_name", ty: ParamType::Str },
        ParamDecl { name: "hep_version", ty: ParamType::Int },
        ParamDecl { name: "hep_capture_id", ty: ParamType::Int },
        ParamDecl { name: "trace_delayed", ty: ParamType::Int },
        ParamDecl { name: "trace_db_mode", ty: ParamType::Int },
        ParamDecl { name: "trace_init_mode", ty: ParamType::Int },
        ParamDecl { name: "trace_mode", ty: ParamType::Int },
        ParamDecl { name: "evcb_msg", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "siptrace", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

pub mod config;
pub mod hep;
mod rpc;
pub mod send;

pub use config::{Config, Dest};

use crate::host::natives::arg_str;
use crate::host::{Ctx, Hooks, Impl, Module, Shared};
use crate::transport::{Local, Outbox};
use sipvm_vm::{ArgValue, HostError};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The module's state: the settings and the switch `siptrace.status` turns.
pub struct SipTrace {
    /// `None` when the file does not load `siptrace.so`.
    pub cfg: Option<Config>,
    pub on: AtomicBool,
}

impl SipTrace {
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }
}

/// Runs for every file; only one that sets siptrace parameters is checked here (a file that
/// loads the module without any is refused at start-up: `trace_to_database` defaults to 1).
fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    if !m.iter().any(|s| s.module == "siptrace") {
        return Ok(());
    }
    Config::from_modparams(m).map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let loaded = snap.modules.iter().any(|m| m == "siptrace");
    let cfg = if loaded {
        Some(Config::from_modparams(&snap.modparams)?)
    } else {
        None
    };
    let on = cfg.as_ref().is_some_and(|c| c.trace_on);
    Ok(Arc::new(SipTrace {
        cfg,
        on: AtomicBool::new(on),
    }))
}

/// What `sip_trace` does with the current message (Kamailio's `siptrace_type_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Message,
    Transaction,
    Dialog,
}

/// Kamailio reads the first letter: `m`, `t` or `d`, either case.
fn kind_of(s: &str) -> Option<Kind> {
    match s.as_bytes().first().map(u8::to_ascii_lowercase) {
        Some(b'm') => Some(Kind::Message),
        Some(b't') => Some(Kind::Transaction),
        Some(b'd') => Some(Kind::Dialog),
        _ => None,
    }
}

/// `sip_trace([dest [, correlation_id [, mode]]])`: 1 when sent, -1 when tracing is off, the
/// destination is missing or bad, or the message lacks Call-ID, From or To.
fn sip_trace(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let st = ctx.state::<SipTrace>();
    let Some(cfg) = &st.cfg else { return Ok(-1) };
    let kind = if args.len() > 2 {
        match kind_of(&arg_str(args, 2)) {
            Some(k) => k,
            None => {
                tracing::error!(target: "siptrace", "invalid flags <{}>", arg_str(args, 2));
                return Ok(-1);
            }
        }
    } else {
        Kind::Message
    };
    if kind != Kind::Message {
        tracing::error!(
            target: "siptrace",
            "sip_trace(): {} tracing is not implemented by sipvm",
            if kind == Kind::Transaction { "transaction" } else { "dialog" }
        );
        return Ok(-1);
    }
    // A given destination that is empty (or $null) means duplicate_uri.
    let dest = match args.first().map(|_| arg_str(args, 0)) {
        Some(d) if !d.is_empty() && d != "<null>" => match Dest::parse(&d) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::error!(target: "siptrace", "failed to parse uri! ({e})");
                return Ok(-1);
            }
        },
        _ => None,
    };
    if dest.is_none() && cfg.duplicate_uri.is_none() {
        tracing::error!(
            target: "siptrace",
            "no duplicate_uri modparam nor duplicate uri sip_trace() argument provided!"
        );
        return Ok(-1);
    }
    let corr = (args.len() > 1).then(|| arg_str(args, 1).into_owned());
    trace_current(ctx, cfg, dest.as_ref(), corr.as_deref())
}

/// `sip_trace_mode(mode)`: the current message to `duplicate_uri`.
fn sip_trace_mode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let st = ctx.state::<SipTrace>();
    let Some(cfg) = &st.cfg else { return Ok(-1) };
    let mode = arg_str(args, 0);
    let kind = if mode.is_empty() {
        tracing::info!(target: "siptrace", "no tracing mode - trace message");
        Kind::Message
    } else {
        kind_of(&mode).unwrap_or_else(|| {
            tracing::info!(target: "siptrace", "unexpected tracing mode [{mode}] - trace message");
            Kind::Message
        })
    };
    if kind != Kind::Message {
        tracing::error!(target: "siptrace", "sip_trace_mode(): only 'm' is implemented by sipvm");
        return Ok(-1);
    }
    if cfg.duplicate_uri.is_none() {
        tracing::error!(target: "siptrace", "sip_trace_mode(): no duplicate_uri");
        return Ok(-1);
    }
    trace_current(ctx, cfg, None, None)
}

/// Kamailio's `sip_trace()` for a received message: from its source to the socket it came on.
fn trace_current(
    ctx: &mut Ctx<'_>,
    cfg: &Config,
    dest: Option<&Dest>,
    corr: Option<&str>,
) -> Result<i64, HostError> {
    let st = ctx.state::<SipTrace>();
    if !st.is_on() {
        tracing::debug!(target: "siptrace", "trace off...");
        return Ok(-1);
    }
    let m = ctx.msg;
    if m.call_id().is_err() || m.from().is_err() || m.to().is_err() {
        return Ok(-1);
    }
    let proto = ctx.local.proto;
    let to = cfg.local_ip.map_or((proto, ctx.local.addr), |l| l);
    let body = bytes::Bytes::copy_from_slice(m.as_bytes());
    let p = send::Packet {
        body: &body,
        from: (proto, ctx.src),
        to,
        corr,
    };
    send::store(cfg, ctx.locals, ctx.out, &p, dest);
    Ok(1)
}

/// `hlog([correlation_id,] message)`: a HEP log line to `duplicate_uri`, correlated by the
/// Call-ID unless given; 1 when sent, -1 without a Call-ID, `duplicate_uri` or socket.
fn hlog(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let st = ctx.state::<SipTrace>();
    let Some(cfg) = &st.cfg else { return Ok(-1) };
    let (corr, message) = if args.len() >= 2 {
        (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned())
    } else {
        let Ok(cid) = ctx.msg.call_id() else {
            tracing::error!(target: "siptrace", "cannot parse Call-Id header");
            return Ok(-1);
        };
        (cid.to_string(), arg_str(args, 0).into_owned())
    };
    Ok(if send::hlog(cfg, ctx.locals, ctx.out, &corr, &message) {
        1
    } else {
        -1
    })
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "hlog",
        f: hlog,
    },
    Impl {
        name: "sip_trace",
        f: sip_trace,
    },
    Impl {
        name: "sip_trace_mode",
        f: sip_trace_mode,
    },
];

/// `trace_mode=1`: every message received, as received.
fn data_in(
    shared: &Shared,
    locals: &[Local],
    data: &mut bytes::Bytes,
    src: SocketAddr,
    via: &Local,
    out: &mut Outbox,
) {
    let st = shared.state::<SipTrace>();
    let Some(cfg) = st.cfg.as_ref().filter(|c| c.mirror) else {
        return;
    };
    if !st.is_on() || data.is_empty() {
        return;
    }
    let p = send::Packet {
        body: data,
        from: (via.proto, src),
        to: (via.proto, via.addr),
        corr: None,
    };
    send::hep_to(cfg, locals, out, &p, None);
}

/// `trace_mode=1`: every message sent, as sent; never the copies queued aside.
fn data_out(shared: &Shared, locals: &[Local], out: &mut Outbox, first: usize, via: &Local) {
    let st = shared.state::<SipTrace>();
    let Some(cfg) = st.cfg.as_ref().filter(|c| c.mirror && st.is_on()) else {
        return;
    };
    let end = out.len();
    for i in first..end {
        let item = &out.items()[i];
        if item.aside {
            continue;
        }
        let from = item.via_socket.and_then(|s| locals.get(s)).unwrap_or(via);
        let (data, dst, proto) = (item.data.clone(), item.dst, item.proto);
        let p = send::Packet {
            body: &data,
            from: (from.proto, from.addr),
            to: (proto, dst),
            corr: None,
        };
        send::hep_to(cfg, locals, out, &p, None);
    }
}

/// Kamailio runs `event_route[siptrace:msg]` for each mirrored message (and fills
/// `$siptrace(...)` there); sipvm does not, so a file that has it is refused.
fn startup(shared: &Shared, snap: &sipvm_cfg::Snapshot) -> Result<(), String> {
    if shared.state::<SipTrace>().cfg.is_some()
        && snap
            .program
            .route(sipvm_vm::RouteKind::Event, "siptrace:msg")
            .is_some()
    {
        return Err("event_route[siptrace:msg] is not implemented by sipvm".into());
    }
    Ok(())
}

/// The siptrace module: HEP and plain copies of SIP traffic.
pub static MODULE: Module = Module {
    natives: IMPLS,
    params: config::PARAMS,
    restart: config::PARAMS,
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        startup: Some(startup),
        data_in: Some(data_in),
        data_out: Some(data_out),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
