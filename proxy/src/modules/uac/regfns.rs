//! The script side of remote registrations: lookups, status, `uac_reg_request_to`,
//! enable/disable and refresh, with Kamailio's return codes.

use super::reg::{self, Reg, DISABLED, ONGOING, ONLINE};
use super::Uac;
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::Ctx;
use crate::sip::Uri;
use sipvm_vm::{ArgValue, Host, HostError, Value};
use std::sync::Arc;

fn set_out(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    i: usize,
    v: String,
) -> Result<i64, HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError("dst is not a pseudo-variable".into()));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    Ok(match ctx.set_pv(&prog, key, Value::Str(v.into())) {
        Ok(()) => 1,
        Err(_) => -1,
    })
}

fn with_reg<R>(ctx: &Ctx<'_>, f: impl FnOnce(&mut Vec<Reg>) -> R) -> Option<R> {
    ctx.state::<Uac>().reg.with(f)
}

/// `uac_reg_lookup(uuid, dst)`: `sip:l_username@l_domain` of the record.
pub fn uac_reg_lookup(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uuid = arg_str(args, 0).into_owned();
    let found = with_reg(ctx, |recs| {
        recs.iter()
            .find(|r| r.l_uuid == uuid)
            .map(|r| format!("sip:{}@{}", r.l_username, r.l_domain))
    })
    .flatten();
    match found {
        Some(v) => set_out(ctx, args, 1, v),
        None => Ok(-1),
    }
}

/// `uac_reg_lookup_uri(uri, dst)`: the l_uuid of the record whose l_username is the URI's
/// user (-2 when the URI does not parse).
pub fn uac_reg_lookup_uri(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uri = arg_str(args, 0).into_owned();
    let Ok(u) = Uri::parse(&uri) else {
        tracing::error!("failed to parse uri");
        return Ok(-2);
    };
    let user = u.user().unwrap_or("").to_string();
    let host = u.host().to_string();
    let use_domain = ctx.state::<Uac>().cfg.reg_use_domain;
    let found = with_reg(ctx, |recs| {
        recs.iter()
            .find(|r| r.l_username == user && (!use_domain || r.l_domain == host))
            .map(|r| r.l_uuid.clone())
    })
    .flatten();
    match found {
        Some(v) => set_out(ctx, args, 1, v),
        None => Ok(-1),
    }
}

/// `uac_reg_status(uuid)`: 1 registered, -2 in progress, -3 disabled, -99 otherwise, -1 no
/// such record.
pub fn uac_reg_status(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uuid = arg_str(args, 0).into_owned();
    let tn = reg::now();
    let st = with_reg(ctx, |recs| {
        recs.iter().find(|r| r.l_uuid == uuid).map(|r| {
            if r.flags & ONLINE != 0 && r.timer_expires > tn {
                1
            } else if r.flags & ONGOING != 0 {
                -2
            } else if r.flags & DISABLED != 0 {
                -3
            } else {
                -99
            }
        })
    })
    .flatten();
    Ok(st.unwrap_or(-1))
}

/// `uac_reg_request_to(id, mode)`: `$ru`, `$du` and the auth AVPs from the record (mode bit
/// 1: `id` is an l_username, else an l_uuid; bit 2: the HA1 instead of the password).
pub fn uac_reg_request_to(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let id = arg_str(args, 0).into_owned();
    let mode = arg_int(args, 1)?;
    if !(0..=3).contains(&mode) {
        tracing::error!("invalid mode");
        return Ok(-1);
    }
    let by_user = mode & 1 != 0;
    let Some(r) = with_reg(ctx, |recs| {
        recs.iter()
            .find(|r| {
                if by_user {
                    r.l_username == id
                } else {
                    r.l_uuid == id
                }
            })
            .cloned()
    })
    .flatten() else {
        return Ok(-1);
    };
    ctx.ruri = Some(format!("sip:{}@{}", r.r_username, r.r_domain));
    ctx.dst_uri = (!r.auth_proxy.is_empty()).then(|| r.auth_proxy.clone());
    let Some((realm, user, pass)) = ctx.state::<Uac>().cfg.auth_avps.clone() else {
        tracing::error!("error while setting auth_realm: no auth AVPs configured");
        return Ok(-1);
    };
    let pw = if mode & 2 != 0 {
        r.auth_ha1
    } else {
        r.auth_password
    };
    for (n, v) in [(realm, r.realm), (user, r.auth_username), (pass, pw)] {
        ctx.avps.push((Arc::from(n.as_str()), Value::Str(v.into())));
    }
    Ok(1)
}

/// Kamailio's `uac_reg_update_flag`: -1 not enabled or empty arguments, -2 no record, -3 an
/// unsupported attribute.
pub fn update_flag(uac: &Uac, attr: &str, val: &str, set: bool) -> i64 {
    if attr.is_empty() || val.is_empty() {
        return -1;
    }
    uac.reg
        .with(|recs| match reg::find(recs, attr, val) {
            Err(reg::UnsupportedFilter) => -3,
            Ok(None) => -2,
            Ok(Some(r)) => {
                if set {
                    r.flags |= DISABLED;
                } else {
                    r.flags &= !DISABLED;
                }
                r.timer_expires = reg::now() + 1;
                1
            }
        })
        .unwrap_or_else(|| {
            tracing::error!("uac remote registrations not enabled");
            -1
        })
}

pub fn uac_reg_enable(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(update_flag(
        ctx.state::<Uac>(),
        &arg_str(args, 0),
        &arg_str(args, 1),
        false,
    ))
}

pub fn uac_reg_disable(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(update_flag(
        ctx.state::<Uac>(),
        &arg_str(args, 0),
        &arg_str(args, 1),
        true,
    ))
}

/// `uac_reg_refresh(l_uuid)`: the record read again from the table; -1 when it is not there.
pub fn uac_reg_refresh(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uuid = arg_str(args, 0).into_owned();
    if uuid.is_empty() {
        return Ok(-1);
    }
    Ok(match ctx.state::<Uac>().reg.refresh(&uuid) {
        Ok(true) => 1,
        Ok(false) => {
            tracing::warn!("record not found: {uuid}");
            -1
        }
        Err(e) => {
            tracing::warn!("failed to refresh record: {uuid}: {e}");
            -1
        }
    })
}
