//! `maxfwd`: declarations mirroring Kamailio 5.6's maxfwd module: Max-Forwards handling.

use sipvm_lang::registry::ArgKind::IntFmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "maxfwd",
    functions: &[
        FnDecl { name: "maxfwd_process", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "mf_process_maxfwd_header", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "process_maxfwd", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "is_maxfwd_lt", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH), implemented: false },
        FnDecl { name: "maxfwd_at_least", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH), implemented: false },
        FnDecl { name: "mf_lowlimit", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH), implemented: false },
    ],
    params: &[
        ParamDecl { name: "max_limit", ty: ParamType::Int },
    ],
    pvs: &[],
};
