//! `rr`: declarations mirroring Kamailio 5.6's rr module: record-routing and loose routing.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "rr",
    functions: &[
        FnDecl { name: "loose_route", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "loose_route_preloaded", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "loose_route_mode", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "record_route", args: &[Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "record_route_preset", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "record_route_advertised_address", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "add_rr_param", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "check_route_param", args: &[Regex], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "is_direction", args: &[Str], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "remove_record_route", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "rr_next_hop_route", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "append_fromtag", ty: ParamType::Int },
        ParamDecl { name: "enable_double_rr", ty: ParamType::Int },
        ParamDecl { name: "enable_full_lr", ty: ParamType::Int },
        ParamDecl { name: "add_username", ty: ParamType::Int },
        ParamDecl { name: "enable_socket_mismatch_warning", ty: ParamType::Int },
        ParamDecl { name: "custom_user_avp", ty: ParamType::Str },
        ParamDecl { name: "force_send_socket", ty: ParamType::Int },
        ParamDecl { name: "ignore_sips", ty: ParamType::Int },
        ParamDecl { name: "sockname_mode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "route_uri", form: PvForm::Plain, writable: false },
        PvDecl { name: "fti", form: PvForm::Plain, writable: false },
        PvDecl { name: "tti", form: PvForm::Plain, writable: false },
        PvDecl { name: "rdir", form: PvForm::Named, writable: false },
    ],
};
