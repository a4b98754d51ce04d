//! `speeddial`: declarations mirroring Kamailio 5.6's speeddial module: speed dial.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "speeddial",
    functions: &[
        FnDecl { name: "sd_lookup", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "user_column", ty: ParamType::Str },
        ParamDecl { name: "domain_column", ty: ParamType::Str },
        ParamDecl { name: "sd_user_column", ty: ParamType::Str },
        ParamDecl { name: "sd_domain_column", ty: ParamType::Str },
        ParamDecl { name: "new_uri_column", ty: ParamType::Str },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "domain_prefix", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};
