//! `permissions`: declarations mirroring Kamailio 5.6's permissions module: address and trusted-peer permissions.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "permissions",
    functions: &[
        FnDecl { name: "allow_routing", args: &[Str, Str], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "allow_register", args: &[Str, Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "allow_trusted", args: &[Fmt, Fmt, Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "allow_uri", args: &[Str, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "allow_address", args: &[IntFmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "allow_source_address", args: &[IntFmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "allow_source_address_group", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "allow_address_group", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "default_allow_file", ty: ParamType::Str },
        ParamDecl { name: "default_deny_file", ty: ParamType::Str },
        ParamDecl { name: "check_all_branches", ty: ParamType::Int },
        ParamDecl { name: "allow_suffix", ty: ParamType::Str },
        ParamDecl { name: "deny_suffix", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "db_mode", ty: ParamType::Int },
        ParamDecl { name: "trusted_table", ty: ParamType::Str },
        ParamDecl { name: "source_col", ty: ParamType::Str },
        ParamDecl { name: "proto_col", ty: ParamType::Str },
        ParamDecl { name: "from_col", ty: ParamType::Str },
        ParamDecl { name: "ruri_col", ty: ParamType::Str },
        ParamDecl { name: "tag_col", ty: ParamType::Str },
        ParamDecl { name: "priority_col", ty: ParamType::Str },
        ParamDecl { name: "peer_tag_avp", ty: ParamType::Str },
        ParamDecl { name: "peer_tag_mode", ty: ParamType::Int },
        ParamDecl { name: "address_table", ty: ParamType::Str },
        ParamDecl { name: "address_file", ty: ParamType::Str },
        ParamDecl { name: "grp_col", ty: ParamType::Str },
        ParamDecl { name: "ip_addr_col", ty: ParamType::Str },
        ParamDecl { name: "mask_col", ty: ParamType::Str },
        ParamDecl { name: "port_col", ty: ParamType::Str },
        ParamDecl { name: "max_subnets", ty: ParamType::Int },
        ParamDecl { name: "load_backends", ty: ParamType::Int },
        ParamDecl { name: "reload_delta", ty: ParamType::Int },
        ParamDecl { name: "trusted_cleanup_interval", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
