//! `db_mysql`: declarations mirroring Kamailio 5.6's db_mysql module: MySQL database driver, parameters only (transcribed from the 5.6.3 source).

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "db_mysql",
    functions: &[],
    params: &[
        ParamDecl { name: "ping_interval", ty: ParamType::Int },
        ParamDecl { name: "connect_timeout", ty: ParamType::Int },
        ParamDecl { name: "send_timeout", ty: ParamType::Int },
        ParamDecl { name: "receive_timeout", ty: ParamType::Int },
        ParamDecl { name: "retries", ty: ParamType::Int },
        ParamDecl { name: "server_timezone", ty: ParamType::Int },
        ParamDecl { name: "timeout_interval", ty: ParamType::Int },
        ParamDecl { name: "auto_reconnect", ty: ParamType::Int },
        ParamDecl { name: "insert_delayed", ty: ParamType::Int },
        ParamDecl { name: "update_affected_found", ty: ParamType::Int },
        ParamDecl { name: "unsigned_type", ty: ParamType::Int },
        ParamDecl { name: "opt_ssl_mode", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
