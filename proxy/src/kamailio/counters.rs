//! `counters`: declarations mirroring Kamailio 5.6's counters module: script counters.

use sipvm_lang::registry::ArgKind::{IntFmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "counters",
    functions: &[
        FnDecl { name: "cnt_inc", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::ONSEND) },
        FnDecl { name: "cnt_add", args: &[Str, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::ONSEND) },
        FnDecl { name: "cnt_reset", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::ONSEND) },
    ],
    params: &[
        ParamDecl { name: "script_cnt_grp_name", ty: ParamType::Str },
        ParamDecl { name: "script_counter", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};
