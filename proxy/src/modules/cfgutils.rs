//! `cfgutils`: declarations mirroring Kamailio 5.6's cfgutils module: config utilities: locks, probabilities, sleeps, gflags.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
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
};

// ---- implementations ----

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

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
];

fn lock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.shared.locks.slot(&arg_str(args, 0));
    if ctx.held_locks.contains(&slot) {
        // Already ours (Kamailio's locks are not recursive either; don't deadlock ourselves).
        return Ok(1);
    }
    ctx.shared.locks.lock(slot);
    ctx.held_locks.push(slot);
    Ok(1)
}

fn unlock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.shared.locks.slot(&arg_str(args, 0));
    if let Some(i) = ctx.held_locks.iter().position(|s| *s == slot) {
        ctx.held_locks.swap_remove(i);
        ctx.shared.locks.unlock(slot);
    }
    Ok(1)
}

fn trylock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let slot = ctx.shared.locks.slot(&arg_str(args, 0));
    if ctx.held_locks.contains(&slot) || !ctx.shared.locks.try_lock(slot) {
        return Ok(-1);
    }
    ctx.held_locks.push(slot);
    Ok(1)
}
