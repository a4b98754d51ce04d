//! dialog's RPC methods with Kamailio 5.6's names, parameters and result shapes
//! (`dialog.c`): `dlg.list`, `dlg.list_ctx`, `dlg.end_dlg`, `dlg.stats_active`,
//! `dlg.profile_get_size`, `dlg.profile_list`.

use super::logic::now_secs;
use super::table::{ByeTo, Dialog, Leg, State};
use super::Dlg;
use crate::host::Server;
use serde_json::json;
use sipvm_rpc::{Params, Registry, RpcError, Value};

fn leg(l: &Leg, is_callee: bool, d: &Dialog) -> Value {
    // The callee's side is empty until the 2xx.
    let known = !is_callee || d.state >= State::ConfirmedNa;
    json!({
        "tag": l.tag,
        "contact": l.contact,
        "cseq": if known { l.cseq.to_string() } else { String::new() },
        "route_set": l.route_set.join(","),
        "socket": l.socket,
    })
}

/// One dialog as `internal_rpc_print_dlg` prints it.
pub fn dialog(d: &Dialog, now: u64) -> Value {
    let duration = if d.end_ts > 0 {
        d.end_ts.saturating_sub(d.start_ts)
    } else if d.start_ts > 0 {
        now.saturating_sub(d.start_ts)
    } else {
        0
    };
    let timeout = if d.state >= State::ConfirmedNa && d.state < State::Deleted {
        d.timer_at
    } else {
        0
    };
    let alive = d.state < State::Deleted;
    // Kamailio lists the profiles newest first.
    let profiles: Vec<Value> = d
        .profiles
        .iter()
        .rev()
        .filter(|_| alive)
        .map(|(n, v)| match v {
            Some(v) => json!({ n.as_str(): v }),
            None => Value::from(n.as_str()),
        })
        .collect();
    let vars: Vec<Value> = d
        .vars
        .iter()
        .rev()
        .filter(|_| alive)
        .map(|(k, v)| json!({ k.as_str(): v }))
        .collect();
    json!({
        "h_entry": d.h_entry,
        "h_id": d.h_id,
        "ref": 1,
        "call-id": d.callid,
        "from_uri": d.from_uri,
        "to_uri": d.to_uri,
        "state": d.state as u8,
        "start_ts": d.start_ts,
        "init_ts": d.init_ts,
        "end_ts": d.end_ts,
        "duration": duration,
        "timeout": timeout,
        "lifetime": d.lifetime,
        "dflags": 0,
        "sflags": d.sflags,
        "iflags": d.iflags,
        "caller": leg(&d.caller, false, d),
        "callee": leg(&d.callee, true, d),
        "profiles": profiles,
        "variables": vars,
    })
}

fn list(dlg: &Dlg, filter: impl Fn(&Dialog) -> bool) -> Value {
    let now = now_secs();
    let mut out = Vec::new();
    dlg.table.each(|d| {
        if filter(d) {
            out.push(dialog(d, now));
        }
    });
    Value::Array(out)
}

fn known_profile(dlg: &Dlg, name: &str) -> Result<(), RpcError> {
    if dlg
        .profiles_wv
        .iter()
        .chain(&dlg.profiles_nv)
        .any(|p| p == name)
    {
        Ok(())
    } else {
        Err(RpcError::new(404, format!("Profile not found: {name}")))
    }
}

fn uint(p: &Params, i: usize, what: &str) -> Result<u32, RpcError> {
    let v = p
        .values()
        .get(i)
        .ok_or_else(|| RpcError::new(500, "Invalid parameters"))?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| RpcError::new(500, format!("Invalid parameters ({what})")))
}

pub fn register(reg: &Registry, server: &Server) {
    if !server.shared.state::<Dlg>().enabled {
        return;
    }
    for name in ["dlg.list", "dlg.list_ctx"] {
        let shared = server.shared.clone();
        reg.method(name, "Print all dialogs", move |_| {
            Ok(list(shared.state::<Dlg>(), |_| true))
        });
    }
    let shared = server.shared.clone();
    reg.method(
        "dlg.end_dlg",
        "End a given dialog based on [h_entry] [h_id]",
        move |p| {
            let dlg = shared.state::<Dlg>();
            let (e, i) = (uint(&p, 0, "h_entry")?, uint(&p, 1, "h_id")?);
            let id = (u64::from(e) << 32) | u64::from(i);
            if dlg.table.with(id, |_| ()).is_none() {
                return Err(RpcError::new(404, "Dialog not found"));
            }
            dlg.table.end(id, ByeTo::Both);
            Ok(Value::Null)
        },
    );
    let shared = server.shared.clone();
    reg.method(
        "dlg.stats_active",
        "Get stats of active dialogs",
        move |_| {
            let [starting, connecting, answering, ongoing] = shared.state::<Dlg>().table.counts();
            Ok(json!({
                "starting": starting,
                "connecting": connecting,
                "answering": answering,
                "ongoing": ongoing,
                "all": starting + connecting + answering + ongoing,
            }))
        },
    );
    let shared = server.shared.clone();
    reg.method(
        "dlg.profile_get_size",
        "Returns the number of dialogs belonging to a profile",
        move |p| {
            let dlg = shared.state::<Dlg>();
            let name = p.str(0, "profile")?;
            known_profile(dlg, &name)?;
            let value = p.opt_str(1, "value")?;
            Ok(Value::from(dlg.table.profile_size(&name, value.as_deref())))
        },
    );
    let shared = server.shared.clone();
    reg.method(
        "dlg.profile_list",
        "Lists all the dialogs belonging to a profile",
        move |p| {
            let dlg = shared.state::<Dlg>();
            let name = p.str(0, "profile")?;
            known_profile(dlg, &name)?;
            let value = p.opt_str(1, "value")?;
            Ok(list(dlg, |d| {
                d.state < State::Deleted && d.in_profile(&name, value.as_deref())
            }))
        },
    );
}
