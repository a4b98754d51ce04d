//! `$dlg(name)`, `$dlg_ctx(name)` and `$dlg_var(name)`, Kamailio's names and values.

use super::logic::{current, DlgCtx};
use super::table::Dialog;
use super::Dlg;
use crate::host::{Ctx, PvImpl};
use sipvm_vm::{HostError, PvKey, Value};

fn s(v: &str) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Str(v.into())
    }
}

/// One field of a dialog, as `$dlg(name)` gives it.
pub fn field(d: &Dialog, name: &str) -> Result<Value, HostError> {
    let int = |n: u64| Value::Int(n as i64);
    Ok(match name {
        // The table's own reference (sipvm does not count holders as Kamailio does).
        "ref" => int(1),
        "h_id" => int(d.h_id.into()),
        "h_entry" => int(d.h_entry.into()),
        "state" => int(d.state as u64),
        "to_rs" => s(&d.callee.route_set.join(",")),
        "from_rs" => s(&d.caller.route_set.join(",")),
        "dflags" => int(0),
        "sflags" => int(d.sflags.into()),
        "callid" => s(&d.callid),
        "to_uri" => s(&d.to_uri),
        "from_uri" => s(&d.from_uri),
        "to_tag" => s(&d.callee.tag),
        "from_tag" => s(&d.caller.tag),
        "toroute" => int(u64::from(d.toroute.is_some())),
        "to_cseq" => s(&d.callee.cseq.to_string()),
        "from_cseq" => s(&d.caller.cseq.to_string()),
        "lifetime" => int(d.lifetime),
        "start_ts" => int(d.start_ts),
        "to_contact" => s(&d.callee.contact),
        "from_contact" => s(&d.caller.contact),
        "to_bindaddr" => s(&d.callee.socket),
        "from_bindaddr" => s(&d.caller.socket),
        n => return Err(HostError(format!("$dlg({n}): unknown name"))),
    })
}

fn dlg_get(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let name = key.name.unwrap_or("");
    let Some(id) = current(ctx) else {
        field_name_ok(name)?;
        return Ok(Value::Null);
    };
    ctx.state::<Dlg>()
        .table
        .with(id, |d| field(d, name))
        .unwrap_or(Ok(Value::Null))
}

fn field_name_ok(name: &str) -> Result<(), HostError> {
    const NAMES: &[&str] = &[
        "ref",
        "h_id",
        "h_entry",
        "state",
        "to_rs",
        "from_rs",
        "dflags",
        "sflags",
        "callid",
        "to_uri",
        "from_uri",
        "to_tag",
        "from_tag",
        "toroute",
        "to_cseq",
        "from_cseq",
        "lifetime",
        "start_ts",
        "to_contact",
        "from_contact",
        "to_bindaddr",
        "from_bindaddr",
    ];
    if NAMES.contains(&name) {
        Ok(())
    } else {
        Err(HostError(format!("$dlg({name}): unknown name")))
    }
}

fn ctx_get(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let name = key.name.unwrap_or("");
    let id = current(ctx);
    let c = ctx.slots.entry::<DlgCtx>();
    Ok(match name {
        "on" => Value::Int(c.on),
        "flags" => Value::Int(c.flags.into()),
        "timeout" => Value::Int(c.timeout),
        "timeout_bye" => Value::Int(c.to_bye),
        "timeout_route" => c
            .to_route
            .as_deref()
            .map_or(Value::Null, |r| Value::Str(r.into())),
        "timeout_route_id" => Value::Int(i64::from(c.to_route.is_some())),
        "set" => Value::Int(i64::from(id.is_some())),
        "dir" => Value::Int(c.dir.into()),
        n => return Err(HostError(format!("$dlg_ctx({n}): unknown name"))),
    })
}

/// Kamailio stores integers; `timeout_route` takes a route name. Names it cannot set
/// (`set`, `dir`, `timeout_route_id`) set `on`, as Kamailio's setter does. The dialog reads
/// `timeout_bye`, `timeout_route` and `flags` when it is made (`dlg_manage`), not later.
fn ctx_set(ctx: &mut Ctx<'_>, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let name = key.name.unwrap_or("");
    let n = match &v {
        Value::Int(n) => *n,
        _ => 0,
    };
    let c = ctx.slots.entry::<DlgCtx>();
    match name {
        "flags" => c.flags = n as u32,
        "timeout" => c.timeout = n,
        "timeout_bye" => c.to_bye = n,
        "timeout_route" => {
            c.to_route = match v {
                Value::Str(s) if !s.is_empty() => Some(s.to_string()),
                Value::Int(n) if n != 0 => Some(n.to_string()),
                _ => None,
            }
        }
        "on" | "set" | "dir" | "timeout_route_id" => c.on = n,
        n => return Err(HostError(format!("$dlg_ctx({n}): unknown name"))),
    }
    Ok(())
}

fn var_get(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let name = key.name.unwrap_or("");
    let found = match current(ctx) {
        Some(id) => ctx.state::<Dlg>().table.with(id, |d| {
            d.vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }),
        None => Some(ctx.slots.get::<DlgCtx>().and_then(|s| {
            s.vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })),
    };
    Ok(found
        .flatten()
        .map_or(Value::Null, |v| Value::Str(v.into())))
}

/// How many variables one dialog may hold (a script cannot grow one without bound).
const MAX_VARS: usize = 64;

fn put(vars: &mut Vec<(String, String)>, name: &str, v: &Value) -> Result<(), HostError> {
    vars.retain(|(k, _)| k != name);
    if v.is_null() {
        return Ok(());
    }
    if vars.len() >= MAX_VARS {
        return Err(HostError(format!(
            "$dlg_var: more than {MAX_VARS} variables"
        )));
    }
    vars.push((name.to_string(), v.to_str().into_owned()));
    Ok(())
}

fn var_set(ctx: &mut Ctx<'_>, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let name = key.name.unwrap_or("");
    match current(ctx) {
        Some(id) => ctx
            .state::<Dlg>()
            .table
            .with(id, |d| put(&mut d.vars, name, &v))
            .unwrap_or(Ok(())),
        None => put(&mut ctx.slots.entry::<DlgCtx>().vars, name, &v),
    }
}

/// `$DLG_count`: the dialogs answered and not ended (Kamailio's `active_dialogs`).
fn count_get(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    let c = ctx.state::<Dlg>().table.counts();
    Ok(Value::Int((c[2] + c[3]) as i64))
}

/// The dialog of a request within it (Kamailio sets these while routing such a request
/// only; other messages read `$null`).
fn within(ctx: &mut Ctx<'_>) -> Option<u64> {
    let in_dialog = ctx.msg.is_request() && ctx.msg.to().ok().and_then(|t| t.tag()).is_some();
    in_dialog.then(|| current(ctx)).flatten()
}

/// `$DLG_status`: the state of the dialog of a request within it.
fn status_get(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    let Some(id) = within(ctx) else {
        return Ok(Value::Null);
    };
    let st = ctx.state::<Dlg>().table.with(id, |d| d.state as i64);
    Ok(st.map_or(Value::Null, Value::Int))
}

/// `$DLG_lifetime`: seconds since the dialog of a request within it was answered.
fn lifetime_get(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    let Some(id) = within(ctx) else {
        return Ok(Value::Null);
    };
    let now = super::logic::now_secs();
    let l = ctx
        .state::<Dlg>()
        .table
        .with(id, |d| now.saturating_sub(d.start_ts) as i64);
    Ok(l.map_or(Value::Null, Value::Int))
}

pub static PVS: &[PvImpl] = &[
    PvImpl {
        name: "DLG_count",
        get: count_get,
        set: None,
    },
    PvImpl {
        name: "DLG_status",
        get: status_get,
        set: None,
    },
    PvImpl {
        name: "DLG_lifetime",
        get: lifetime_get,
        set: None,
    },
    PvImpl {
        name: "dlg",
        get: dlg_get,
        set: None,
    },
    PvImpl {
        name: "dlg_ctx",
        get: ctx_get,
        set: Some(ctx_set),
    },
    PvImpl {
        name: "dlg_var",
        get: var_get,
        set: Some(var_set),
    },
];
