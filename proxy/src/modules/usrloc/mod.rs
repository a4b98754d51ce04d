//! The location service behind Kamailio's usrloc and registrar modules: tables by name
//! ("location"), each sharded by the hash of the address of record with one lock per shard,
//! living in [`crate::host::Shared`] so registrations survive `route.reload`. Expired
//! bindings are invisible at once (every read compares with the current time) and removed by
//! a sweeper thread once a second. With `modparam("usrloc", "db_url", "sqlite://...")` and
//! `db_mode` ≥ 1, changes are written to SQLite by a writer thread (see [`db`]).
//! See docs/modules/registrar.md.

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "usrloc",
    functions: &[],
    params: &[
        ParamDecl { name: "ruid_column", ty: ParamType::Str },
        ParamDecl { name: "user_column", ty: ParamType::Str },
        ParamDecl { name: "domain_column", ty: ParamType::Str },
        ParamDecl { name: "contact_column", ty: ParamType::Str },
        ParamDecl { name: "expires_column", ty: ParamType::Str },
        ParamDecl { name: "q_column", ty: ParamType::Str },
        ParamDecl { name: "callid_column", ty: ParamType::Str },
        ParamDecl { name: "cseq_column", ty: ParamType::Str },
        ParamDecl { name: "flags_column", ty: ParamType::Str },
        ParamDecl { name: "cflags_column", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "timer_interval", ty: ParamType::Int },
        ParamDecl { name: "db_mode", ty: ParamType::Int },
        ParamDecl { name: "db_load", ty: ParamType::Int },
        ParamDecl { name: "db_insert_update", ty: ParamType::Int },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "desc_time_order", ty: ParamType::Int },
        ParamDecl { name: "user_agent_column", ty: ParamType::Str },
        ParamDecl { name: "received_column", ty: ParamType::Str },
        ParamDecl { name: "path_column", ty: ParamType::Str },
        ParamDecl { name: "socket_column", ty: ParamType::Str },
        ParamDecl { name: "methods_column", ty: ParamType::Str },
        ParamDecl { name: "instance_column", ty: ParamType::Str },
        ParamDecl { name: "reg_id_column", ty: ParamType::Str },
        ParamDecl { name: "server_id_column", ty: ParamType::Str },
        ParamDecl { name: "connection_id_column", ty: ParamType::Str },
        ParamDecl { name: "keepalive_column", ty: ParamType::Str },
        ParamDecl { name: "partition_column", ty: ParamType::Str },
        ParamDecl { name: "matching_mode", ty: ParamType::Int },
        ParamDecl { name: "cseq_delay", ty: ParamType::Int },
        ParamDecl { name: "fetch_rows", ty: ParamType::Int },
        ParamDecl { name: "hash_size", ty: ParamType::Int },
        ParamDecl { name: "nat_bflag", ty: ParamType::Int },
        ParamDecl { name: "handle_lost_tcp", ty: ParamType::Int },
        ParamDecl { name: "close_expired_tcp", ty: ParamType::Int },
        ParamDecl { name: "skip_remote_socket", ty: ParamType::Int },
        ParamDecl { name: "preload", ty: ParamType::Str },
        ParamDecl { name: "db_update_as_insert", ty: ParamType::Int },
        ParamDecl { name: "timer_procs", ty: ParamType::Int },
        ParamDecl { name: "db_check_update", ty: ParamType::Int },
        ParamDecl { name: "xavp_contact", ty: ParamType::Str },
        ParamDecl { name: "db_ops_ruid", ty: ParamType::Int },
        ParamDecl { name: "expires_type", ty: ParamType::Int },
        ParamDecl { name: "db_raw_fetch_type", ty: ParamType::Int },
        ParamDecl { name: "db_insert_null", ty: ParamType::Int },
        ParamDecl { name: "server_id_filter", ty: ParamType::Int },
        ParamDecl { name: "db_timer_clean", ty: ParamType::Int },
        ParamDecl { name: "rm_expired_delay", ty: ParamType::Int },
        ParamDecl { name: "version_table", ty: ParamType::Int },
        ParamDecl { name: "ka_mode", ty: ParamType::Int },
        ParamDecl { name: "ka_from", ty: ParamType::Str },
        ParamDecl { name: "ka_domain", ty: ParamType::Str },
        ParamDecl { name: "ka_method", ty: ParamType::Str },
        ParamDecl { name: "ka_filter", ty: ParamType::Int },
        ParamDecl { name: "ka_timeout", ty: ParamType::Int },
        ParamDecl { name: "ka_loglevel", ty: ParamType::Int },
        ParamDecl { name: "ka_logmsg", ty: ParamType::Str },
        ParamDecl { name: "load_rank", ty: ParamType::Int },
        ParamDecl { name: "db_clean_tcp", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

pub mod db;
pub mod lookup;
pub mod request;
mod rpc;
pub mod save;
mod store;

pub use store::{Binding, Record, Table, Usrloc, Q_UNSPECIFIED};

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch: the clock of expiry times, as Kamailio's `time(0)`.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Kamailio's `core_hash` of one string (the AoR's `HashID` in `ul.dump`; its low bits pick
/// the slot). Bytes are signed as C's `char` is on x86.
pub fn core_hash(s: &[u8]) -> u32 {
    crate::host::hash::core_hash(s, None, 0)
}

/// Kamailio's method bits (`METHOD_INVITE` = 1 ...), for a contact's `methods`.
pub fn method_bit(m: &str) -> u32 {
    const NAMES: [&str; 19] = [
        "INVITE",
        "CANCEL",
        "ACK",
        "BYE",
        "INFO",
        "REGISTER",
        "SUBSCRIBE",
        "NOTIFY",
        "MESSAGE",
        "OPTIONS",
        "PRACK",
        "UPDATE",
        "REFER",
        "PUBLISH",
        "KDMQ",
        "GET",
        "POST",
        "PUT",
        "DELETE",
    ];
    match NAMES.iter().position(|n| n.eq_ignore_ascii_case(m.trim())) {
        Some(i) => 1 << i,
        None => 1 << 19,
    }
}

// ---- the module ----

fn state(
    snap: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(Usrloc::start(snap).map_err(|e| format!("usrloc: {e}"))?)
}

/// What `sipvm check` can tell without opening anything: the settings are ones sipvm honours.
fn check(modparams: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    for m in modparams.iter().filter(|m| m.module == "usrloc") {
        // One sweeper thread serves every table: timer_procs is 1 by construction.
        if m.param == "timer_procs" && m.value.to_int() != 1 {
            return Err(format!(
                "timer_procs {}: sipvm runs one usrloc timer",
                m.value.to_int()
            ));
        }
    }
    Ok(())
}

/// Registrations queued for the database are on disk before the process ends.
fn shutdown(shared: &crate::host::Shared) {
    shared.state::<Usrloc>().flush();
}

/// The usrloc module: the location tables and the `ul.*` RPCs.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &[
        "db_url",
        "db_mode",
        "use_domain",
        "hash_size",
        "timer_interval",
        "timer_procs",
    ],
    restart: &[
        "db_url",
        "db_mode",
        "use_domain",
        "hash_size",
        "timer_interval",
        "timer_procs",
    ],
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: crate::host::Hooks {
        shutdown: Some(shutdown),
        ..crate::host::Hooks::NONE
    },
    ..crate::host::Module::decl(&DECL)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_hash_matches_kamailio() {
        // HashID Kamailio 5.6.3 printed in ul.dump for these AoRs.
        assert_eq!(core_hash(b"alice"), 1834153949);
    }

    #[test]
    fn method_bits() {
        assert_eq!(method_bit("INVITE"), 1);
        assert_eq!(method_bit("register"), 32);
        assert_eq!(method_bit("FOO"), 1 << 19);
    }
}
