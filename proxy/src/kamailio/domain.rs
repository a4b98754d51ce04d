//! `domain`: declarations mirroring Kamailio 5.6's domain module: multi-domain support.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "domain",
    functions: &[
        FnDecl { name: "is_from_local", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "is_uri_host_local", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "is_domain_local", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "lookup_domain", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "domain_table", ty: ParamType::Str },
        ParamDecl { name: "domain_attrs_table", ty: ParamType::Str },
        ParamDecl { name: "did_col", ty: ParamType::Str },
        ParamDecl { name: "domain_col", ty: ParamType::Str },
        ParamDecl { name: "name_col", ty: ParamType::Str },
        ParamDecl { name: "type_col", ty: ParamType::Str },
        ParamDecl { name: "value_col", ty: ParamType::Str },
        ParamDecl { name: "register_myself", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
