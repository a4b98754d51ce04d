//! `async`: Kamailio 5.6's async module. `async_route`/`async_ms_route` suspend the request's
//! transaction and end the script; the named route runs later, on whichever worker's tick
//! finds it due, with the request, its transaction and the script state it had when it was
//! suspended (Kamailio's `t_suspend`/`t_continue`). `async_task_route` does the same at once.
//! `async_task_data` runs a route at once on a faked request with `$async(data)`.
//! `async_sleep`/`async_ms_sleep` (go on with the next action) would need the VM's state
//! saved; they are declared, not implemented. See docs/modules/async.md.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

const RF: RouteMask = RouteMask::REQUEST.or(RouteMask::FAILURE);

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "async",
    functions: &[
        FnDecl { name: "async_route", args: &[Fmt, IntFmt], min_args: 2, routes: RF },
        FnDecl { name: "async_ms_route", args: &[Fmt, IntFmt], min_args: 2, routes: RF },
        FnDecl { name: "async_sleep", args: &[IntFmt], min_args: 1, routes: RF },
        FnDecl { name: "async_ms_sleep", args: &[IntFmt], min_args: 1, routes: RF },
        FnDecl { name: "async_task_route", args: &[Fmt], min_args: 1, routes: RF },
        FnDecl { name: "async_task_group_route", args: &[Fmt, Fmt], min_args: 2, routes: RF },
        FnDecl { name: "async_task_data", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "async_task_group_data", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "workers", ty: ParamType::Int },
        ParamDecl { name: "ms_timer", ty: ParamType::Int },
        ParamDecl { name: "return", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "async", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- the module ----

mod resume;

pub use resume::{Async, Config, DataTask, Item, Pending, TaskData};

use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Hooks, Impl, Module};
use crate::modules::tm::state::{TmSlot, Tx};
use sipvm_vm::{ArgValue, HostError, RouteKind};
use std::sync::Arc;

/// Kamailio's ring of one-second slots: `async_route` sleeps fewer seconds than this.
pub const MAX_SECONDS: i64 = 100;
/// Kamailio's MAX_MS_SLEEP and MAX_MS_SLEEP_QUEUE.
pub const MAX_MS: i64 = 30_000;
pub const MAX_MS_QUEUE: usize = 10_000;

/// When the route runs.
#[derive(Clone, Debug, PartialEq, Eq)]
enum When {
    Seconds(i64),
    Millis(i64),
    /// At once; in the named group of async workers when given.
    Now(Option<String>),
}

/// Suspends the request's transaction (made when there is none) and queues `route` for
/// `when`: Kamailio's `return` modparam (0 by default: the script ends), or -1.
fn suspend(ctx: &mut Ctx<'_>, f: &str, route: &str, when: When) -> Result<i64, HostError> {
    let a = ctx.state::<Async>();
    let cfg = a.cfg;
    if ctx.slots.tm().route == Some(RouteKind::Failure) {
        return Err(HostError(format!(
            "{f}: suspending in failure_route is not supported by sipvm yet"
        )));
    }
    let delay_ms = match when {
        When::Seconds(s) => {
            if cfg.workers <= 0 {
                tracing::error!(target: "async", "no async mod timer workers");
                return Ok(-1);
            }
            if s <= 0 {
                tracing::error!(target: "async", "negative or zero sleep time ({s})");
                return Ok(-1);
            }
            if s >= MAX_SECONDS {
                tracing::error!(target: "async", "max sleep time is {MAX_SECONDS} sec ({s})");
                return Ok(-1);
            }
            s as u64 * 1000
        }
        When::Millis(ms) => {
            if cfg.workers <= 0 {
                tracing::error!(target: "async", "no async mod timer workers");
                return Ok(-1);
            }
            if cfg.ms_timer <= 0 {
                tracing::error!(target: "async", "async timer list not initialized - check modparams");
                return Ok(-1);
            }
            if ms <= 0 {
                tracing::error!(target: "async", "negative or zero sleep time ({ms})");
                return Ok(-1);
            }
            if ms >= MAX_MS {
                tracing::error!(target: "async", "max sleep time is {MAX_MS} msec");
                return Ok(-1);
            }
            if a.ms_len() >= MAX_MS_QUEUE {
                tracing::error!(target: "async", "max sleep queue length exceeded ({MAX_MS_QUEUE})");
                return Ok(-1);
            }
            ms as u64
        }
        When::Now(_) => {
            if !task_workers(ctx) {
                return Ok(-1);
            }
            0
        }
    };
    let Some(ri) = ctx.snap.program.route(RouteKind::Sub, route) else {
        tracing::error!(target: "async", "route block not found: {route}");
        return Ok(-1);
    };
    // t_newtran when there is no transaction yet (a retransmission ends the script there).
    if !ctx.slots.tm().has_tx() {
        let newtran = crate::modules::tm::natives::IMPLS
            .iter()
            .find(|i| i.name == "t_newtran")
            .map(|i| i.f)
            .ok_or_else(|| HostError("tm has no t_newtran".into()))?;
        match newtran(ctx, &[])? {
            1 => {}
            0 => return Ok(0),
            _ => {
                tracing::error!(target: "async", "cannot create the transaction");
                return Ok(-1);
            }
        }
    }
    let id = match &ctx.slots.tm().tx {
        Tx::Held(t) => {
            let t = crate::modules::tm::lock(t);
            if t.status >= 200 {
                tracing::error!(target: "async", "failed to suspend the processing: final reply sent already ({})", t.status);
                return Ok(-1);
            }
            t.id
        }
        _ => return Ok(-1),
    };
    if let When::Now(Some(g)) = &when {
        if !has_group(ctx, g) {
            // Kamailio drops the task and keeps the request suspended.
            tracing::warn!(target: "async", "group [{g}] not found - ignoring");
            return Ok(cfg.ret);
        }
    }
    // t_suspend answers a suspended INVITE 100 Trying: its processing will take a while.
    crate::modules::tm::natives::auto_trying(ctx);
    let pending = Pending::save(ctx, id, ri);
    if !a.push(
        Item::Suspended(Box::new(pending)),
        delay_ms,
        matches!(when, When::Millis(_)),
    ) {
        tracing::error!(target: "async", "{f}: too many suspended requests");
        return Ok(-1);
    }
    Ok(cfg.ret)
}

fn async_route(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = arg_int(args, 1)?;
    suspend(ctx, "async_route", &arg_str(args, 0), When::Seconds(s))
}

fn async_ms_route(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let ms = arg_int(args, 1)?;
    suspend(ctx, "async_ms_route", &arg_str(args, 0), When::Millis(ms))
}

fn async_task_route(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    suspend(ctx, "async_task_route", &arg_str(args, 0), When::Now(None))
}

/// The core's `async_workers` is set: the task functions work (Kamailio refuses to start
/// without; sipvm's start-up hook does too, and a reloaded file meets this).
fn task_workers(ctx: &Ctx<'_>) -> bool {
    let n = ctx
        .snap
        .global("async_workers")
        .last()
        .map_or(0, |g| g.value.to_int());
    if n <= 0 {
        tracing::error!(target: "async", "async task framework was not initialized - set async_workers parameter in core");
    }
    n > 0
}

/// A group of the core's `async_workers_group` ("name=g;workers=n;...", several separated by
/// `|` or given several times).
fn has_group(ctx: &Ctx<'_>, name: &str) -> bool {
    ctx.snap.global("async_workers_group").any(|g| {
        g.value.to_str().split('|').any(|grp| {
            grp.split(';').any(|kv| {
                kv.split_once('=')
                    .is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("name") && v.trim() == name)
            })
        })
    })
}

/// Like async_task_route, in a named group of async workers. For a group that is not
/// defined Kamailio suspends the request and drops the task (a warning): so does sipvm.
fn async_task_group_route(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let group = arg_str(args, 1).into_owned();
    suspend(
        ctx,
        "async_task_group_route",
        &arg_str(args, 0),
        When::Now(Some(group)),
    )
}

/// Queues `route` to run at once on the faked request with `$async(data)`: 1 (the script
/// goes on), or -1.
fn task_data(
    ctx: &mut Ctx<'_>,
    route: &str,
    group: Option<String>,
    data: String,
) -> Result<i64, HostError> {
    if !task_workers(ctx) {
        return Ok(-1);
    }
    let Some(ri) = ctx.snap.program.route(RouteKind::Sub, route) else {
        tracing::error!(target: "async", "route block not found: {route}");
        return Ok(-1);
    };
    if let Some(g) = &group {
        if !has_group(ctx, g) {
            tracing::warn!(target: "async", "group [{g}] not found - ignoring");
            return Ok(1);
        }
    }
    let Some(running) = ctx.running else {
        return Err(HostError("async_task_data: no running program".into()));
    };
    let task = DataTask {
        route: ri,
        data,
        group: group.unwrap_or_else(|| "default".into()),
        running: running.clone(),
    };
    if !ctx.state::<Async>().push(Item::Data(task), 0, false) {
        tracing::error!(target: "async", "too many async tasks queued");
        return Ok(-1);
    }
    Ok(1)
}

fn async_task_data(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let data = arg_str(args, 1).into_owned();
    task_data(ctx, &arg_str(args, 0), None, data)
}

fn async_task_group_data(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (group, data) = (arg_str(args, 1).into_owned(), arg_str(args, 2).into_owned());
    task_data(ctx, &arg_str(args, 0), Some(group), data)
}

/// `$async(data)`, `$async(gname)`: a data task's data and worker group, `$null` elsewhere.
fn pv_async(ctx: &mut Ctx<'_>, k: sipvm_vm::PvKey<'_>) -> Result<sipvm_vm::Value, HostError> {
    let t = ctx.slots.get::<TaskData>();
    let v = match (k.name, t) {
        (Some("data"), Some(t)) => Some(t.data.clone()),
        (Some("gname"), Some(t)) => Some(t.group.clone()),
        _ => None,
    };
    Ok(v.map_or(sipvm_vm::Value::Null, |s| {
        sipvm_vm::Value::Str(Arc::from(s))
    }))
}

static PVS: &[crate::host::PvImpl] = &[crate::host::PvImpl {
    name: "async",
    get: pv_async,
    set: None,
}];

/// Kamailio refuses to start a file that calls the task functions without the core's
/// `async_workers`.
fn startup(_: &crate::host::Shared, snap: &sipvm_cfg::Snapshot) -> Result<(), String> {
    let uses = snap
        .program
        .natives
        .iter()
        .any(|n| &*n.module == "async" && n.name.starts_with("async_task"));
    let workers = snap
        .global("async_workers")
        .last()
        .map_or(0, |g| g.value.to_int());
    if uses && workers <= 0 {
        return Err(
            "async task framework was not initialized - set async_workers parameter in core".into(),
        );
    }
    Ok(())
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "async_route",
        f: async_route,
    },
    Impl {
        name: "async_ms_route",
        f: async_ms_route,
    },
    Impl {
        name: "async_task_route",
        f: async_task_route,
    },
    Impl {
        name: "async_task_group_route",
        f: async_task_group_route,
    },
    Impl {
        name: "async_task_data",
        f: async_task_data,
    },
    Impl {
        name: "async_task_group_data",
        f: async_task_group_data,
    },
];

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(Arc::new(Async::new(Config::from_snapshot(snap)?)))
}

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    let int = |p: &str| {
        m.iter()
            .rev()
            .find(|s| s.module == "async" && s.param == p)
            .map(|s| {
                s.value
                    .try_int()
                    .ok_or_else(|| format!("{p}: not an integer"))
            })
            .transpose()
    };
    for p in ["workers", "ms_timer", "return"] {
        int(p)?;
    }
    Ok(())
}

/// The async module.
pub static MODULE: Module = Module {
    natives: IMPLS,
    pvs: PVS,
    params: &["workers", "ms_timer", "return"],
    restart: &["workers", "ms_timer", "return"],
    check: Some(check),
    state: Some(state),
    hooks: Hooks {
        startup: Some(startup),
        tick: Some(resume::tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
