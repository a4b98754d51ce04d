//! `websocket`: declarations mirroring Kamailio 5.6's websocket module: WebSocket transport (transcribed from the 5.6.3 source).

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "websocket",
    functions: &[
        FnDecl { name: "ws_close", args: &[IntFmt, Fmt, IntFmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "ws_handle_handshake", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "keepalive_mechanism", ty: ParamType::Int },
        ParamDecl { name: "keepalive_timeout", ty: ParamType::Int },
        ParamDecl { name: "ping_application_data", ty: ParamType::Str },
        ParamDecl { name: "sub_protocols", ty: ParamType::Int },
        ParamDecl { name: "cors_mode", ty: ParamType::Int },
        ParamDecl { name: "keepalive_interval", ty: ParamType::Int },
        ParamDecl { name: "keepalive_processes", ty: ParamType::Int },
        ParamDecl { name: "timer_interval", ty: ParamType::Int },
        ParamDecl { name: "rm_delay_interval", ty: ParamType::Int },
        ParamDecl { name: "verbose_list", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "ws_conid", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};
