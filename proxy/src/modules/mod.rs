//! sipvm's built-in modules, as the compiler sees them: one file per Kamailio 5.6 module it
//! mirrors (functions with their argument kinds and allowed route types, module parameters,
//! pseudo-variables), `core.rs` for what needs no `loadmodule`, and `globals.rs` for the core
//! parameters. The facts (names, parameter counts, route flags, parameter types, which
//! pseudo-variables have setters) are Kamailio 5.6.3's `cmd_export_t`/`param_export_t`/
//! `pv_export_t` tables; the argument kinds are sipvm's reading of each function's fixup.
//!
//! A function Kamailio exports with several parameter counts is one declaration: `min_args`
//! is the fewest, `args` the kinds of the longest form, its route mask the union of the forms'.
//! Each module's implementations (natives, later RPC methods) live next to its declaration,
//! in `IMPLS`; a declared native without one fails at run time with a clear error.

use std::sync::OnceLock;

use sipvm_lang::registry::{ModuleDecl, Registry, RouteMask};

pub mod core;
pub mod globals;

pub mod acc;
pub mod alias_db;
pub mod auth;
pub mod auth_db;
pub mod cfg_rpc;
pub mod cfgutils;
pub mod corex;
pub mod counters;
pub mod ctl;
pub mod db_mysql;
pub mod db_sqlite;
pub mod debugger;
pub mod dispatcher;
pub mod domain;
pub mod htable;
pub mod jsonrpcs;
pub mod kemix;
pub mod kex;
pub mod maxfwd;
pub mod nathelper;
pub mod outbound;
pub mod path;
pub mod permissions;
pub mod pike;
pub mod presence;
pub mod presence_xml;
pub mod pv;
pub mod registrar;
pub mod rr;
pub mod rtpengine;
pub mod rtpproxy;
pub mod sanity;
pub mod siputils;
pub mod sl;
pub mod speeddial;
pub mod textops;
pub mod textopsx;
pub mod tls;
pub mod tm;
pub mod tmx;
pub mod usrloc;
pub mod websocket;
pub mod xhttp;
pub mod xlog;

/// Kamailio's `ONEVENT_ROUTE` bit (`EVENT_ROUTE` is `REQUEST_ROUTE|ONEVENT_ROUTE`); the
/// registry has no name for it, it is kept so the masks stay Kamailio's.
pub const ONEVENT: RouteMask = RouteMask(1 << 9);

/// Functions whose shorter forms drop arguments from the front, not the back: the last
/// argument is always the message (`xlog(fmt)`, `xlog(level, fmt)`,
/// `xlog(facility, level, fmt)`; core `log(msg)`, `log(level, msg)`). Their `args` are the
/// longest form's kinds, to be matched from the right. The compiler recognises them as the
/// functions with optional arguments and a `LogLevel` one; the registry test keeps this list
/// and that rule in agreement.
pub const RIGHT_ALIGNED: &[&str] = &["log", "xlog", "xlogl"];

/// Every module, in registry order (module index `i + 1`; the core is index 0).
pub static MODULES: &[&ModuleDecl] = &[
    &sl::MODULE,
    &tm::MODULE,
    &tmx::MODULE,
    &rr::MODULE,
    &maxfwd::MODULE,
    &textops::MODULE,
    &textopsx::MODULE,
    &siputils::MODULE,
    &sanity::MODULE,
    &pv::MODULE,
    &cfgutils::MODULE,
    &xlog::MODULE,
    &htable::MODULE,
    &dispatcher::MODULE,
    &usrloc::MODULE,
    &registrar::MODULE,
    &corex::MODULE,
    &kex::MODULE,
    &jsonrpcs::MODULE,
    &xhttp::MODULE,
    &ctl::MODULE,
    &cfg_rpc::MODULE,
    &counters::MODULE,
    &acc::MODULE,
    &debugger::MODULE,
    &nathelper::MODULE,
    &rtpproxy::MODULE,
    &rtpengine::MODULE,
    &auth::MODULE,
    &auth_db::MODULE,
    &permissions::MODULE,
    &pike::MODULE,
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

/// The registry the compiler checks scripts against: the core, then every module, with each
/// native marked implemented when its module's `IMPLS` has it.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Registry::new(&core::MODULE, MODULES.to_vec(), globals::GLOBALS)
            .with_implemented(|m, f| crate::host::natives::find(m, f).is_some())
    })
}

/// The native implementations of a module (`"core"` for the core).
pub fn impls(module: &str) -> Option<&'static [crate::host::Impl]> {
    Some(match module {
        "core" => core::IMPLS,
        "sl" => sl::IMPLS,
        "textops" => textops::IMPLS,
        "siputils" => siputils::IMPLS,
        "cfgutils" => cfgutils::IMPLS,
        "corex" => corex::IMPLS,
        "maxfwd" => maxfwd::IMPLS,
        "xlog" => xlog::IMPLS,
        "sanity" => sanity::IMPLS,
        "pv" => pv::IMPLS,
        "tm" => crate::tm::natives::IMPLS,
        "tmx" => tmx::IMPLS,
        "rr" => rr::IMPLS,
        "htable" => htable::IMPLS,
        "dispatcher" => dispatcher::IMPLS,
        "registrar" => registrar::IMPLS,
        _ => return None,
    })
}
