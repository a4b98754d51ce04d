//! `outbound`: declarations mirroring Kamailio 5.6's outbound module: SIP outbound, RFC 5626 (transcribed from the 5.6.3 source).

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "outbound",
    functions: &[],
    params: &[
        ParamDecl { name: "force_outbound_flag", ty: ParamType::Int },
        ParamDecl { name: "force_no_outbound_flag", ty: ParamType::Int },
        ParamDecl { name: "flow_token_secret", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};
