//! `jsonrpcs`: declarations mirroring Kamailio 5.6's jsonrpcs module: JSON-RPC server.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "jsonrpcs",
    functions: &[
        FnDecl { name: "jsonrpc_dispatch", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "jsonrpc_exec", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "pretty_format", ty: ParamType::Int },
        ParamDecl { name: "transport", ty: ParamType::Int },
        ParamDecl { name: "fifo_name", ty: ParamType::Str },
        ParamDecl { name: "fifo_mode", ty: ParamType::Int },
        ParamDecl { name: "fifo_group", ty: ParamType::Any },
        ParamDecl { name: "fifo_user", ty: ParamType::Any },
        ParamDecl { name: "fifo_reply_dir", ty: ParamType::Str },
        ParamDecl { name: "dgram_socket", ty: ParamType::Str },
        ParamDecl { name: "dgram_workers", ty: ParamType::Int },
        ParamDecl { name: "dgram_timeout", ty: ParamType::Int },
        ParamDecl { name: "dgram_mode", ty: ParamType::Int },
        ParamDecl { name: "dgram_group", ty: ParamType::Any },
        ParamDecl { name: "dgram_user", ty: ParamType::Any },
    ],
    pvs: &[
        PvDecl { name: "jsonrpl", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};
