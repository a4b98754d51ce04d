//! uac's RPC methods with Kamailio 5.6's names and result shapes: `uac.reg_dump`,
//! `uac.reg_info`, `uac.reg_enable`, `uac.reg_disable`, `uac.reg_reload`, `uac.reg_refresh`.

use super::reg::{self, Reg};
use super::Uac;
use crate::host::Server;
use sipvm_rpc::{Params, Registry, RpcError, Value};

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}

/// One record as Kamailio's `rpc_uac_reg_add_node_helper` writes it.
pub fn node(r: &Reg, tn: i64) -> Value {
    serde_json::json!({
        "l_uuid": r.l_uuid,
        "l_username": r.l_username,
        "l_domain": r.l_domain,
        "r_username": r.r_username,
        "r_domain": r.r_domain,
        "realm": r.realm,
        "auth_username": r.auth_username,
        "auth_password": or_none(&r.auth_password),
        "auth_ha1": or_none(&r.auth_ha1),
        "auth_proxy": or_none(&r.auth_proxy),
        "expires": r.expires,
        "flags": r.flags,
        "diff_expires": r.timer_expires - tn,
        "timer_expires": r.timer_expires,
        "reg_init": r.reg_init,
        "reg_delay": r.reg_delay,
        "contact_addr": or_none(&r.contact_addr),
        "socket": r.socket,
    })
}

fn not_enabled() -> RpcError {
    RpcError::new(500, "Not enabled")
}

fn filter(p: &Params) -> Result<(String, String), RpcError> {
    let (Ok(a), Ok(v)) = (p.str(0, "attr"), p.str(1, "val")) else {
        return Err(RpcError::new(400, "Invalid Parameters"));
    };
    if a.is_empty() || v.is_empty() {
        return Err(RpcError::new(400, "Invalid Parameter Values"));
    }
    Ok((a, v))
}

pub fn dump(uac: &Uac) -> Result<Value, RpcError> {
    let tn = reg::now();
    uac.reg
        .with(|recs| Value::Array(recs.iter().map(|r| node(r, tn)).collect()))
        .ok_or_else(not_enabled)
}

pub fn info(uac: &Uac, p: &Params) -> Result<Value, RpcError> {
    if uac.reg.recs.is_none() {
        return Err(not_enabled());
    }
    let (a, v) = filter(p)?;
    let tn = reg::now();
    uac.reg
        .with(|recs| match reg::find(recs, &a, &v) {
            Ok(Some(r)) => Ok(node(r, tn)),
            Ok(None) => Err(RpcError::new(404, "Record not found")),
            Err(reg::UnsupportedFilter) => Err(RpcError::new(400, "Unsupported filter attribute")),
        })
        .unwrap_or_else(|| Err(not_enabled()))
}

pub fn set_disabled(uac: &Uac, p: &Params, disabled: bool) -> Result<Value, RpcError> {
    if uac.reg.recs.is_none() {
        return Err(not_enabled());
    }
    let (a, v) = filter(p)?;
    match super::regfns::update_flag(uac, &a, &v, disabled) {
        1 => Ok(Value::Null),
        -2 => Err(RpcError::new(404, "Record not found")),
        -3 => Err(RpcError::new(400, "Unsupported filter attribute")),
        _ => Err(RpcError::new(400, "Invalid Parameter Values")),
    }
}

pub fn register(reg: &Registry, server: &Server) {
    let uac = server.shared.state::<Uac>();
    if !uac.enabled || uac.reg.recs.is_none() {
        return;
    }
    let s = server.shared.clone();
    reg.method(
        "uac.reg_dump",
        "Dump the contents of user registrations table.",
        move |_| dump(s.state::<Uac>()),
    );
    let s = server.shared.clone();
    reg.method(
        "uac.reg_info",
        "Return the details of registration for a particular record.",
        move |p| info(s.state::<Uac>(), &p),
    );
    let s = server.shared.clone();
    reg.method(
        "uac.reg_enable",
        "Enable registration for a particular record.",
        move |p| set_disabled(s.state::<Uac>(), &p, false),
    );
    let s = server.shared.clone();
    reg.method(
        "uac.reg_disable",
        "Disable registration for a particular record.",
        move |p| set_disabled(s.state::<Uac>(), &p, true),
    );
    let s = server.shared.clone();
    reg.method(
        "uac.reg_reload",
        "Reload records from database.",
        move |_| {
            s.state::<Uac>()
                .reg
                .reload()
                .map(|()| Value::Null)
                .map_err(|e| {
                    tracing::error!("uac.reg_reload: {e}");
                    RpcError::new(500, "Failed to reload records - check log messages")
                })
        },
    );
    let s = server.shared.clone();
    reg.method(
        "uac.reg_refresh",
        "Refresh a record from database.",
        move |p| {
            let Ok(uuid) = p.str(0, "l_uuid") else {
                return Err(RpcError::new(400, "Invalid Parameters"));
            };
            match s.state::<Uac>().reg.refresh(&uuid) {
                Ok(true) => Ok(Value::Null),
                Ok(false) => Err(RpcError::new(404, "Record not found")),
                Err(e) => {
                    tracing::error!("uac.reg_refresh: {e}");
                    Err(RpcError::new(
                        500,
                        "Failed to refresh record - check log messages",
                    ))
                }
            }
        },
    );
}
