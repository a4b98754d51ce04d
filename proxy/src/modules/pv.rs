//! `pv`: declarations mirroring Kamailio 5.6's pv module: pseudo-variables (its classes are core pseudo-variables in sipvm, see `core.rs`).

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "pv",
    functions: &[
        FnDecl { name: "pv_isset", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "pv_unset", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavp_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavu_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavi_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_var_to_xavp", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavp_to_var", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_int", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "typeof", args: &[Pv, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "not_empty", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavp_copy", args: &[Str, IntFmt, Str, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_slist_explode", args: &[Fmt, Fmt, Fmt, Fmt], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "xavp_params_explode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavp_params_implode", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavu_params_explode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavu_params_implode", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_seti", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_sets", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_rm", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_seti", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_sets", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavi_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_rm", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_set_ruri", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_append", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_reset", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_evalx", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "shvset", ty: ParamType::Str },
        ParamDecl { name: "varset", ty: ParamType::Str },
        ParamDecl { name: "avp_aliases", ty: ParamType::Str },
    ],
    pvs: &[],
};
