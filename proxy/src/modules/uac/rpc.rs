//! uac's RPC methods with Kamailio 5.6's names and result shapes: `uac.reg_dump`,
//! `uac.reg_info`, `uac.reg_enable`, `uac.reg_disable`, `uac.reg_reload`, `uac.reg_refresh`,
//! `uac.reg_add`, `uac.reg_remove`, `uac.reg_active`, `uac.reg_unregister`.

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

/// `uac.reg_add`: the 15 fields in Kamailio's order (socket before contact_addr).
pub fn add(uac: &Uac, p: &Params) -> Result<Value, RpcError> {
    let bad = |_| RpcError::new(400, "Invalid Parameters");
    let st = |i: usize, n: &str| p.str(i, n).map_err(bad);
    let int = |i: usize, n: &str| {
        p.int(i, n)
            .map_err(bad)
            .map(|v| u32::try_from(v).unwrap_or(0))
    };
    let r = Reg {
        l_uuid: st(0, "l_uuid")?,
        l_username: st(1, "l_username")?,
        l_domain: st(2, "l_domain")?,
        r_username: st(3, "r_username")?,
        r_domain: st(4, "r_domain")?,
        realm: st(5, "realm")?,
        auth_username: st(6, "auth_username")?,
        auth_password: st(7, "auth_password")?,
        auth_ha1: st(8, "auth_ha1")?,
        auth_proxy: st(9, "auth_proxy")?,
        expires: int(10, "expires")?,
        flags: int(11, "flags")?,
        reg_delay: int(12, "reg_delay")?,
        socket: st(13, "socket")?,
        contact_addr: st(14, "contact_addr")?,
        ..Reg::default()
    };
    let contact = uac
        .reg
        .cfg
        .as_ref()
        .map(|c| c.contact.clone())
        .unwrap_or_default();
    uac.reg
        .with(|recs| reg::add(recs, r, &contact))
        .ok_or_else(not_enabled)?
        .map(|()| Value::Null)
        .map_err(|(code, m)| RpcError::new(code, m))
}

/// `uac.reg_remove l_uuid`.
pub fn remove(uac: &Uac, p: &Params) -> Result<Value, RpcError> {
    let uuid = p
        .str(0, "l_uuid")
        .map_err(|_| RpcError::new(400, "Invalid Parameters"))?;
    uac.reg
        .with(|recs| match recs.iter().position(|r| r.l_uuid == uuid) {
            Some(i) => {
                recs.remove(i);
                Ok(Value::Null)
            }
            None => Err(RpcError::new(404, "Record not found")),
        })
        .unwrap_or_else(|| Err(RpcError::new(404, "Record not found")))
}

/// `uac.reg_active mode`: `{omode, nmode}`.
pub fn active(uac: &Uac, p: &Params) -> Result<Value, RpcError> {
    let n = p
        .int(0, "mode")
        .map_err(|_| RpcError::new(500, "Missing parameter"))?;
    let old = uac
        .reg
        .active
        .swap(n != 0, std::sync::atomic::Ordering::Relaxed);
    Ok(serde_json::json!({ "omode": i64::from(old), "nmode": n }))
}

/// `uac.reg_unregister attr val`: a REGISTER with expires 0, sent at the next tick.
pub fn unregister(uac: &Uac, p: &Params) -> Result<Value, RpcError> {
    if uac.reg.recs.is_none() {
        return Err(not_enabled());
    }
    let (a, v) = filter(p)?;
    uac.reg
        .with(|recs| match reg::find(recs, &a, &v) {
            Ok(Some(r)) => {
                r.expires = 0;
                r.send_now = true;
                Ok(Value::Null)
            }
            Ok(None) => Err(RpcError::new(404, "Record not found")),
            Err(reg::UnsupportedFilter) => Err(RpcError::new(400, "Unsupported filter attribute")),
        })
        .unwrap_or_else(|| Err(not_enabled()))
}

pub fn register(reg: &Registry, server: &Server) {
    let uac = server.shared.state::<Uac>();
    if !uac.enabled || uac.reg.recs.is_none() {
        return;
    }
    type M = fn(&Uac, &Params) -> Result<Value, RpcError>;
    let more: [(&str, &str, M); 4] = [
        ("uac.reg_remove", "Remove a record from memory.", remove),
        ("uac.reg_add", "Add a record to memory.", add),
        (
            "uac.reg_active",
            "Set remote registration active or inactive for all records.",
            active,
        ),
        (
            "uac.reg_unregister",
            "Send a register request with expires 0.",
            unregister,
        ),
    ];
    for (name, help, f) in more {
        let s = server.shared.clone();
        reg.method(name, help, move |p| f(s.state::<Uac>(), &p));
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
