//! sipvm's modules: one folder each, behind one `Module` value (declarations, natives,
//! pseudo-variables, shared and per-message state, RPC methods, hooks), and the list of them.
//! Adding a module is a new folder and one line in `LIST` (docs/modules/README.md).
//!
//! The declarations (names, parameter counts, route flags, parameter types, which
//! pseudo-variables have setters) are Kamailio 5.6.3's `cmd_export_t`/`param_export_t`/
//! `pv_export_t` tables; the argument kinds are sipvm's reading of each function's fixup. A
//! function Kamailio exports with several parameter counts is one declaration: `min_args` is
//! the fewest, `args` the kinds of the longest form, its route mask the union of the forms'.
//! Kamailio modules sipvm does not implement are data in `crate::kamailio`, for `loadmodule`
//! and the compiler's hints.

use crate::host::{Module, Shared};
use std::sync::OnceLock;

use sipvm_lang::registry::Registry;

pub mod acc;
pub mod r#async;
pub mod avpops;
pub mod cfgutils;
pub mod core;
pub mod corex;
pub mod debugger;
pub mod dialog;
pub mod dispatcher;
pub mod htable;
pub mod ipops;
pub mod jansson;
pub mod json;
pub mod jsonrpcs;
pub mod kex;
pub mod maxfwd;
pub mod mqueue;
pub mod nathelper;
pub mod pike;
pub mod pv;
pub mod regex;
pub mod registrar;
pub mod rr;
pub mod rtimer;
pub mod sanity;
pub mod sdpops;
pub mod siptrace;
pub mod siputils;
pub mod sl;
pub mod textops;
pub mod textopsx;
pub mod tm;
pub mod tmx;
pub mod topoh;
pub mod uac;
pub mod usrloc;
pub mod uuid;
pub mod xlog;

/// Functions whose shorter forms drop arguments from the front, not the back: the last
/// argument is always the message (`xlog(fmt)`, `xlog(level, fmt)`,
/// `xlog(facility, level, fmt)`; core `log(msg)`, `log(level, msg)`). Their `args` are the
/// longest form's kinds, to be matched from the right. The compiler recognises them as the
/// functions with optional arguments and a `LogLevel` one; the registry test keeps this list
/// and that rule in agreement.
pub const RIGHT_ALIGNED: &[&str] = &["log", "xlog", "xlogl"];

/// Every module sipvm implements, in registry order (module index `i + 1`; the core, first
/// here, is index 0). Hooks run in this order: tm before sl, so an ACK for a reply of a
/// transaction ends its timer G before sl's stateless ACK filter sees it.
pub static LIST: &[&Module] = &[
    &core::MODULE,
    // Before tm: its reply hook hands tm replies with From/To restored.
    &uac::MODULE,
    &tm::MODULE,
    &sl::MODULE,
    &tmx::MODULE,
    &rr::MODULE,
    &maxfwd::MODULE,
    &textops::MODULE,
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
    &pike::MODULE,
    &mqueue::MODULE,
    &rtimer::MODULE,
    &avpops::MODULE,
    &r#async::MODULE,
    &topoh::MODULE,
    &siptrace::MODULE,
    &jsonrpcs::MODULE,
    &sdpops::MODULE,
    &textopsx::MODULE,
    &uuid::MODULE,
    &jansson::MODULE,
    &json::MODULE,
    &regex::MODULE,
    &ipops::MODULE,
    &acc::MODULE,
    &dialog::MODULE,
    &kex::MODULE,
    &nathelper::MODULE,
    &debugger::MODULE,
];

/// The registry the compiler checks scripts against: the core, every module of `LIST`, then
/// the Kamailio modules sipvm only declares; each native and pseudo-variable marked
/// implemented when its module has it.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let modules = LIST[1..]
            .iter()
            .map(|m| m.decl)
            .chain(crate::kamailio::DECLS.iter().copied())
            .collect();
        let find = |name: &str| LIST.iter().find(|m| m.decl.name == name);
        Registry::new(LIST[0].decl, modules, core::globals::GLOBALS)
            .with_implemented(|m, f| find(m).is_some_and(|m| m.natives.iter().any(|i| i.name == f)))
            .with_pvs_implemented(|m, p| {
                let pv = find(m).and_then(|m| m.pvs.iter().find(|i| i.name == p));
                (pv.is_some(), pv.is_some_and(|i| i.set.is_some()))
            })
            .with_params_implemented(|m, p| find(m).is_some_and(|m| m.params.contains(&p)))
            .with_params_restart(|m, p| find(m).is_some_and(|m| m.restart.contains(&p)))
            .with_modules_implemented(|m| find(m).is_some())
            .with_global_support(core::globals::support)
    })
}

/// The state every worker shares, for the modules of `LIST`, built from the first snapshot.
pub fn shared(snap: &sipvm_cfg::Snapshot) -> Result<Shared, String> {
    Shared::new(LIST, registry(), snap)
}

/// Checks every module's parameters without starting anything: `Err("modparam NAME: why")`.
pub fn check(modparams: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    for m in LIST {
        if let Some(f) = m.check {
            f(modparams).map_err(|e| format!("modparam {}: {e}", m.decl.name))?;
        }
    }
    Ok(())
}

/// The native implementations of a module (`"core"` for the core), if sipvm has the module.
pub fn find(module: &str) -> Option<&'static Module> {
    LIST.iter().copied().find(|m| m.decl.name == module)
}
