//! `cfgutils`: declarations mirroring Kamailio 5.6's cfgutils module: config utilities: locks, probabilities, sleeps, gflags.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "cfgutils",
    functions: &[
        FnDecl { name: "rand_set_prob", args: &[Int], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "rand_reset_prob", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "rand_get_prob", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "rand_event", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "sleep", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "usleep", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "abort", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "pkg_status", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "shm_status", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "pkg_summary", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "shm_summary", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "reset_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "is_gflag", args: &[Int], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "lock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "unlock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "trylock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "core_hash", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "check_route_exists", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "route_if_exists", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
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
