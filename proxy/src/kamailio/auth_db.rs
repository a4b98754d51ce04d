//! `auth_db`: declarations mirroring Kamailio 5.6's auth_db module: digest authentication against a database.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "auth_db",
    functions: &[
        FnDecl { name: "www_authorize", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "www_authenticate", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "proxy_authorize", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "proxy_authenticate", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "auth_check", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "is_subscriber", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "user_column", ty: ParamType::Str },
        ParamDecl { name: "domain_column", ty: ParamType::Str },
        ParamDecl { name: "password_column", ty: ParamType::Str },
        ParamDecl { name: "password_column_2", ty: ParamType::Str },
        ParamDecl { name: "calculate_ha1", ty: ParamType::Int },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "load_credentials", ty: ParamType::Str },
        ParamDecl { name: "version_table", ty: ParamType::Int },
        ParamDecl { name: "force_generate_avps", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
