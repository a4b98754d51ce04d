//! `alias_db`: declarations mirroring Kamailio 5.6's alias_db module: database aliases.

use sipvm_lang::registry::ArgKind::{Fmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "alias_db",
    functions: &[
        FnDecl { name: "alias_db_lookup", args: &[Fmt, Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "alias_db_find", args: &[Fmt, Fmt, Pv, Str], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "user_column", ty: ParamType::Str },
        ParamDecl { name: "domain_column", ty: ParamType::Str },
        ParamDecl { name: "alias_user_column", ty: ParamType::Str },
        ParamDecl { name: "alias_domain_column", ty: ParamType::Str },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "domain_prefix", ty: ParamType::Str },
        ParamDecl { name: "append_branches", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
