//! Declarations of the Kamailio 5.6 modules sipvm does not implement: data, not modules. They
//! let `loadmodule` and `modparam` of these modules parse, and let the compiler name the
//! module that has a function sipvm lacks.

pub mod alias_db;
pub mod auth;
pub mod auth_db;
pub mod cfg_rpc;
pub mod counters;
pub mod ctl;
pub mod db_mysql;
pub mod db_sqlite;
pub mod domain;
pub mod kemix;
pub mod outbound;
pub mod path;
pub mod permissions;
pub mod presence;
pub mod presence_xml;
pub mod rtpengine;
pub mod rtpproxy;
pub mod speeddial;
pub mod tls;
pub mod websocket;
pub mod xhttp;

use sipvm_lang::registry::ModuleDecl;

/// In the order the registry lists them after sipvm's own modules.
pub static DECLS: &[&ModuleDecl] = &[
    &xhttp::MODULE,
    &ctl::MODULE,
    &cfg_rpc::MODULE,
    &counters::MODULE,
    &rtpproxy::MODULE,
    &rtpengine::MODULE,
    &auth::MODULE,
    &auth_db::MODULE,
    &permissions::MODULE,
    &alias_db::MODULE,
    &domain::MODULE,
    &speeddial::MODULE,
    &path::MODULE,
    &outbound::MODULE,
    &tls::MODULE,
    &websocket::MODULE,
    &presence::MODULE,
    &presence_xml::MODULE,
    &db_mysql::MODULE,
    &db_sqlite::MODULE,
    &kemix::MODULE,
];
