//! `sl`: declarations mirroring Kamailio 5.6's sl module: stateless replies.

use sipvm_lang::registry::ArgKind::{Code, Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "sl",
    functions: &[
        FnDecl { name: "sl_send_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "sl_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "send_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY), implemented: false },
        FnDecl { name: "send_reply_mode", args: &[Code, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY), implemented: false },
        FnDecl { name: "sl_reply_error", args: &[], min_args: 0, routes: RouteMask::REQUEST, implemented: false },
        FnDecl { name: "sl_forward_reply", args: &[Code, Fmt], min_args: 0, routes: RouteMask::ONREPLY, implemented: false },
    ],
    params: &[
        ParamDecl { name: "default_code", ty: ParamType::Int },
        ParamDecl { name: "default_reason", ty: ParamType::Str },
        ParamDecl { name: "bind_tm", ty: ParamType::Int },
        ParamDecl { name: "rich_redirect", ty: ParamType::Int },
        ParamDecl { name: "event_callback_fl_ack", ty: ParamType::Str },
        ParamDecl { name: "event_callback_lres_sent", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "ltt", form: PvForm::Named, writable: false },
    ],
};
