//! `sanity`: declarations mirroring Kamailio 5.6's sanity module: message sanity checks.

use sipvm_lang::registry::ArgKind::IntFmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "sanity",
    functions: &[
        FnDecl { name: "sanity_check", args: &[IntFmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "sanity_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
    ],
    params: &[
        ParamDecl { name: "default_checks", ty: ParamType::Int },
        ParamDecl { name: "uri_checks", ty: ParamType::Int },
        ParamDecl { name: "proxy_require", ty: ParamType::Str },
        ParamDecl { name: "autodrop", ty: ParamType::Int },
        ParamDecl { name: "noreply", ty: ParamType::Int },
    ],
    pvs: &[],
};
