//! `ctl`: declarations mirroring Kamailio 5.6's ctl module: binrpc control socket.

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "ctl",
    functions: &[],
    params: &[
        ParamDecl { name: "fifo", ty: ParamType::Str },
        ParamDecl { name: "binrpc", ty: ParamType::Str },
        ParamDecl { name: "mode", ty: ParamType::Int },
        ParamDecl { name: "user", ty: ParamType::Str },
        ParamDecl { name: "group", ty: ParamType::Str },
        ParamDecl { name: "autoconversion", ty: ParamType::Int },
        ParamDecl { name: "binrpc_max_body_size", ty: ParamType::Int },
        ParamDecl { name: "binrpc_struct_max_body_size", ty: ParamType::Int },
        ParamDecl { name: "binrpc_buffer_size", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
