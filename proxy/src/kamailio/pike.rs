//! `pike`: declarations mirroring Kamailio 5.6's pike module: flood detection.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "pike",
    functions: &[
        FnDecl { name: "pike_check_req", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "pike_check_ip", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
    ],
    params: &[
        ParamDecl { name: "sampling_time_unit", ty: ParamType::Int },
        ParamDecl { name: "reqs_density_per_unit", ty: ParamType::Int },
        ParamDecl { name: "remove_latency", ty: ParamType::Int },
        ParamDecl { name: "pike_log_level", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
