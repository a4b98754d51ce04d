//! `cfgutils`: declarations mirroring Kamailio 5.6's cfgutils module: config utilities: locks, probabilities, sleeps, gflags.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "cfgutils",
    functions: &[
        FnDecl { name: "rand_set_prob", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rand_reset_prob", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rand_get_prob", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rand_event", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sleep", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "usleep", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "abort", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pkg_status", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "shm_status", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pkg_summary", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "shm_summary", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "reset_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "lock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "unlock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "trylock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "core_hash", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "check_route_exists", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "route_if_exists", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "initial_probability", ty: ParamType::Int },
        ParamDecl { name: "initial_gflags", ty: ParamType::Int },
        ParamDecl { name: "hash_file", ty: ParamType::Str },
        ParamDecl { name: "lock_set_size", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "RANDOM", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Impl, PvImpl};
use lock::{Cfgutils, HeldLocks};

pub mod lock;
pub mod misc;
mod rpc;
use sipvm_vm::{ArgValue, HostError};
use std::sync::atomic::Ordering;

/// cfgutils' natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "lock",
        f: lock,
    },
    Impl {
        name: "unlock",
        f: unlock,
    },
    Impl {
        name: "trylock",
        f: trylock,
    },
    Impl {
        name: "rand_event",
        f: rand_event,
    },
    Impl {
        name: "rand_set_prob",
        f: rand_set_prob,
    },
    Impl {
        name: "rand_reset_prob",
        f: rand_reset_prob,
    },
    Impl {
        name: "rand_get_prob",
        f: rand_get_prob,
    },
    Impl {
        name: "sleep",
        f: sleep,
    },
    Impl {
        name: "usleep",
        f: usleep,
    },
    Impl {
        name: "set_gflag",
        f: misc::set_gflag,
    },
    Impl {
        name: "reset_gflag",
        f: misc::reset_gflag,
    },
    Impl {
        name: "is_gflag",
        f: misc::is_gflag,
    },
    Impl {
        name: "core_hash",
        f: misc::w_core_hash,
    },
    Impl {
        name: "check_route_exists",
        f: misc::check_route_exists,
    },
    Impl {
        name: "route_if_exists",
        f: misc::route_if_exists,
    },
    Impl {
        name: "abort",
        f: misc::abort,
    },
    Impl {
        name: "pkg_status",
        f: misc::pkg_status,
    },
    Impl {
        name: "shm_status",
        f: misc::shm_status,
    },
    Impl {
        name: "pkg_summary",
        f: misc::pkg_summary,
    },
    Impl {
        name: "shm_summary",
        f: misc::shm_summary,
    },
];

static PVS: &[PvImpl] = &[PvImpl {
    name: "RANDOM",
    get: misc::random,
    set: None,
}];

fn lock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.state::<Cfgutils>().locks.slot(&arg_str(args, 0));
    if ctx.slots.entry::<HeldLocks>().0.contains(&slot) {
        // Already ours (Kamailio's locks are not recursive either; don't deadlock ourselves).
        return Ok(1);
    }
    ctx.state::<Cfgutils>().locks.lock(slot);
    ctx.slots.entry::<HeldLocks>().0.push(slot);
    Ok(1)
}

fn unlock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.state::<Cfgutils>().locks.slot(&arg_str(args, 0));
    if let Some(i) = ctx
        .slots
        .entry::<HeldLocks>()
        .0
        .iter()
        .position(|s| *s == slot)
    {
        ctx.slots.entry::<HeldLocks>().0.swap_remove(i);
        ctx.state::<Cfgutils>().locks.unlock(slot);
    }
    Ok(1)
}

fn trylock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.state::<Cfgutils>().locks.slot(&arg_str(args, 0));
    if ctx.slots.entry::<HeldLocks>().0.contains(&slot)
        || !ctx.state::<Cfgutils>().locks.try_lock(slot)
    {
        return Ok(-1);
    }
    ctx.slots.entry::<HeldLocks>().0.push(slot);
    Ok(1)
}

/// `rand_event()`: true with the current probability (0: never, 100: always). The
/// probability is one value shared by every worker, as Kamailio keeps it in shared memory.
fn rand_event(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = ctx.state::<Cfgutils>().rand_prob.load(Ordering::Relaxed);
    Ok(match p {
        0 => -1,
        100 => 1,
        p if crate::host::rng::unit() < p as f64 / 100.0 => 1,
        _ => -1,
    })
}

/// `rand_set_prob(percent)`: 0..=100 (Kamailio refuses other values when the script loads;
/// sipvm refuses them when called). Returns 1.
fn rand_set_prob(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = arg_int(args, 0)?;
    if !(0..=100).contains(&p) {
        return Err(HostError(format!("invalid probability <{p}>")));
    }
    ctx.state::<Cfgutils>()
        .rand_prob
        .store(p, Ordering::Relaxed);
    Ok(1)
}

/// `rand_reset_prob()`: back to `initial_probability` (default 10), read from the running
/// configuration. Returns 1.
fn rand_reset_prob(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = ctx
        .snap
        .modparam_int("cfgutils", "initial_probability", 10)
        .clamp(0, 100);
    ctx.state::<Cfgutils>()
        .rand_prob
        .store(p, Ordering::Relaxed);
    Ok(1)
}

/// `rand_get_prob()`: returns the probability itself, as Kamailio does, so a probability
/// of 0 ends the script.
fn rand_get_prob(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(ctx.state::<Cfgutils>().rand_prob.load(Ordering::Relaxed))
}

/// `sleep(seconds)`: really sleeps, blocking this worker (and every message queued to it)
/// exactly as it blocks a Kamailio process. Returns 1.
fn sleep(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let s = arg_int(args, 0)?;
    std::thread::sleep(std::time::Duration::from_secs(s.max(0) as u64));
    Ok(1)
}

/// `usleep(microseconds)`: like `sleep`, in microseconds. Returns 1.
fn usleep(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let us = arg_int(args, 0)?;
    std::thread::sleep(std::time::Duration::from_micros(us.max(0) as u64));
    Ok(1)
}

/// The cfgutils module.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &[
        "initial_probability",
        "lock_set_size",
        "initial_gflags",
        "hash_file",
    ],
    restart: &[
        "lock_set_size",
        "initial_probability",
        "initial_gflags",
        "hash_file",
    ],
    natives: IMPLS,
    pvs: PVS,
    state: Some(lock::state),
    rpc: Some(rpc::register),
    ..crate::host::Module::decl(&DECL)
};
