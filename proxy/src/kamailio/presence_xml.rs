//! `presence_xml`: declarations mirroring Kamailio 5.6's presence_xml module: presence XML bodies (transcribed from the 5.6.3 source).

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "presence_xml",
    functions: &[
        FnDecl { name: "pres_check_basic", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "pres_check_activities", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "xcap_table", ty: ParamType::Str },
        ParamDecl { name: "force_active", ty: ParamType::Int },
        ParamDecl { name: "integrated_xcap_server", ty: ParamType::Int },
        ParamDecl { name: "xcap_server", ty: ParamType::Str },
        ParamDecl { name: "disable_presence", ty: ParamType::Int },
        ParamDecl { name: "disable_winfo", ty: ParamType::Int },
        ParamDecl { name: "disable_bla", ty: ParamType::Int },
        ParamDecl { name: "disable_xcapdiff", ty: ParamType::Int },
        ParamDecl { name: "passive_mode", ty: ParamType::Int },
        ParamDecl { name: "xcapauth_userdel_reason", ty: ParamType::Str },
        ParamDecl { name: "force_dummy_presence", ty: ParamType::Int },
        ParamDecl { name: "force_presence_single_body", ty: ParamType::Int },
        ParamDecl { name: "presence_single_body_priorities", ty: ParamType::Str },
        ParamDecl { name: "presence_single_body_lookup_element", ty: ParamType::Str },
        ParamDecl { name: "default_expires", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
