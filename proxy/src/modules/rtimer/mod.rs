//! `rtimer`: Kamailio 5.6's rtimer module: routes run on a schedule with a faked request,
//! from `modparam("rtimer", "timer", "name=t;interval=10;mode=1;")` and
//! `modparam("rtimer", "exec", "timer=t;route=X")`. Each due run happens once across the
//! workers (the first worker whose tick finds it due claims it). See docs/modules/rtimer.md.

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "rtimer",
    functions: &[],
    params: &[
        ParamDecl { name: "default_interval", ty: ParamType::Int },
        ParamDecl { name: "timer", ty: ParamType::Str },
        ParamDecl { name: "exec", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "rtimer_worker", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};

// ---- the module ----

pub mod sched;

pub use sched::{Def, Timers};

use crate::host::{Ctx, Env, Hooks, Module, MsgState, PvImpl, Server};
use crate::sip::Msg;
use sipvm_vm::{HostError, PvKey, RouteKind, Value, Vm};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Kamailio's faked request (`core/fmsg.c`): what timer routes run on, from 127.0.0.1:5060.
pub const FAKED_MSG: &str =
    "OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\
From: <sip:you@kamailio.org>;tag=123\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: 123\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

/// The faked request (a message caches what it parses, so each run gets its own).
pub fn faked_msg() -> Msg {
    Msg::parse(bytes::Bytes::from_static(FAKED_MSG.as_bytes())).expect("faked request parses")
}

/// Where the faked request comes from: Kamailio 5.6.3 stores 127.0.0.1 in host byte order,
/// so on the machines it runs on `$si` reads `1.0.0.127`; sipvm shows the same.
pub fn faked_src() -> SocketAddr {
    SocketAddr::from(([1, 0, 0, 127], 5060))
}

/// rtimer's shared state: the timers and the live configuration, whose current program a
/// timer runs (it is handed to modules with their RPC registration, before any worker runs).
pub struct Rtimer {
    pub timers: Timers,
    live: OnceLock<Arc<sipvm_cfg::Live>>,
    /// Said once when timers are due but no live configuration was handed over.
    warned: std::sync::atomic::AtomicBool,
}

/// `$rtimer_worker`: which of a timer's `mode` runs this is (0 outside timer routes).
#[derive(Default)]
struct Worker(i64);
impl MsgState for Worker {}

fn rtimer_worker(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    Ok(Value::Int(ctx.slots.get::<Worker>().map_or(0, |w| w.0)))
}

static PVS: &[PvImpl] = &[PvImpl {
    name: "rtimer_worker",
    get: rtimer_worker,
    set: None,
}];

/// Every worker's tick: the runs that are due, each claimed by one worker.
fn tick(e: &mut Env<'_>, vm: &mut Vm) {
    let rt = e.shared.state::<Rtimer>();
    if rt.timers.is_empty() {
        return;
    }
    let now = rt.timers.now_us();
    let Some(live) = rt.live.get() else {
        if rt.timers.list().iter().any(|t| t.claim(now))
            && !rt.warned.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(target: "rtimer", "timers are due but the server gave rtimer no configuration: not run");
        }
        return;
    };
    let mut routing = None;
    for t in rt.timers.list() {
        if !t.claim(now) {
            continue;
        }
        let routing = routing.get_or_insert_with(|| live.routing());
        let running = &routing.current;
        for worker in 0..t.def.runs() {
            for name in &t.def.routes {
                run(e, vm, running, name, worker);
            }
        }
    }
}

/// One run of route `name` of the current program on the faked request.
fn run(e: &mut Env<'_>, vm: &mut Vm, running: &sipvm_cfg::Running, name: &str, worker: i64) {
    let snap = &running.snapshot;
    let Some(route) = snap.program.route(RouteKind::Sub, name) else {
        tracing::error!(target: "rtimer", "route block not found: {name}");
        return;
    };
    let Some(local) = e.locals.first() else {
        return;
    };
    let msg = faked_msg();
    let mut c = Ctx::new(&msg, faked_src(), local, e.locals, e.out, snap, e.shared);
    c.running = Some(running);
    c.slots.put(Worker(worker));
    let r = vm.run(&snap.program, route, &mut c);
    c.finish();
    if let Err(err) = r {
        tracing::error!(target: "rtimer", "route {name}: {}", err.render(&snap.program));
        running.counters.runtime_error();
    }
}

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    sched::defs(m).map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let defs = sched::defs(&snap.modparams)?;
    for d in &defs {
        for r in &d.routes {
            if snap.program.route(RouteKind::Sub, r).is_none() {
                return Err(format!("invalid route: {r} (timer {})", d.name));
            }
        }
    }
    Ok(Arc::new(Rtimer {
        timers: Timers::new(defs),
        live: OnceLock::new(),
        warned: Default::default(),
    }))
}

/// No RPC methods: the live configuration is kept for the timers.
fn register(_: &sipvm_rpc::Registry, server: &Server) {
    let _ = server
        .shared
        .state::<Rtimer>()
        .live
        .set(server.live.clone());
}

/// The rtimer module.
pub static MODULE: Module = Module {
    pvs: PVS,
    params: &["default_interval", "timer", "exec"],
    restart: &["default_interval", "timer", "exec"],
    check: Some(check),
    state: Some(state),
    rpc: Some(register),
    hooks: Hooks {
        tick: Some(tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
