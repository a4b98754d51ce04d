//! dispatcher's RPC methods, with Kamailio 5.6's names, parameters, result shapes and fault
//! texts: `dispatcher.list`, `dispatcher.reload`, `dispatcher.set_state`,
//! `dispatcher.ping_active`.

use crate::host::Server as State;
use crate::modules::dispatcher::state::{Dest, Dispatcher, DISABLED, INACTIVE, PROBING, TRYING};
use sipvm_rpc::{Params, Registry, RpcError, Value};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// How much `dispatcher.list` shows (its optional `short` / `full` parameter).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Short,
    Normal,
    Full,
}

/// Kamailio's two state letters: A/I/D/T, then P (probing) or X.
pub fn flag_letters(flags: u32) -> String {
    let a = if flags & INACTIVE != 0 {
        'I'
    } else if flags & DISABLED != 0 {
        'D'
    } else if flags & TRYING != 0 {
        'T'
    } else {
        'A'
    };
    let b = if flags & PROBING != 0 { 'P' } else { 'X' };
    format!("{a}{b}")
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn opt(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, Value::from)
}

fn dest_json(d: &Dest, mode: Mode) -> Value {
    let mut o = vec![
        ("URI", Value::from(d.spec.uri.as_str())),
        ("FLAGS", Value::from(flag_letters(d.flags()))),
        ("PRIORITY", Value::from(d.spec.priority)),
    ];
    if mode == Mode::Full {
        let ip = d.addr.map(|a| a.ip().to_string()).unwrap_or_default();
        // Kamailio's PROTO_* numbers: none 0, udp 1, tcp 2, tls 3, sctp 4, ws 5, wss 6.
        let proto = d.proto.map_or(0, |p| p as i64 + 1);
        o.extend([
            ("HOST", Value::from(d.host.as_str())),
            ("IPADDR", Value::from(ip)),
            ("PORT", Value::from(d.port)),
            ("PROTOID", Value::from(proto)),
            ("DNSTIME_SEC", Value::from(0)),
            ("DNSTIME_USEC", Value::from(0)),
        ]);
    }
    if let (Some(a), true) = (&d.spec.attrs, mode != Mode::Short) {
        o.push((
            "ATTRS",
            obj(vec![
                ("BODY", Value::from(a.body.as_str())),
                ("DUID", opt(&a.duid)),
                ("MAXLOAD", Value::from(a.maxload)),
                ("WEIGHT", Value::from(a.weight)),
                ("RWEIGHT", Value::from(a.rweight)),
                ("SOCKET", opt(&a.socket)),
                ("SOCKNAME", opt(&a.sockname)),
                ("OBPROXY", opt(&a.obproxy)),
            ]),
        ));
    }
    obj(vec![("DEST", obj(o))])
}

/// `dispatcher.list`'s result: sets in Kamailio's order (its AVL tree, children first),
/// destinations in set order.
pub fn list(ds: &Dispatcher, mode_param: Option<&str>) -> Result<Value, RpcError> {
    let mode = match mode_param {
        Some(m) if m.eq_ignore_ascii_case("short") => Mode::Short,
        Some(m) if m.eq_ignore_ascii_case("full") => Mode::Full,
        _ => Mode::Normal,
    };
    let sets = ds.sets.load();
    if sets.sets.is_empty() {
        return Err(RpcError::internal("No Destination Sets"));
    }
    let records = sets
        .listing
        .iter()
        .filter_map(|&id| sets.get(id))
        .map(|s| {
            let targets = s.dests.iter().map(|d| dest_json(d, mode)).collect();
            obj(vec![(
                "SET",
                obj(vec![
                    ("ID", Value::from(s.id)),
                    ("TARGETS", Value::Array(targets)),
                ]),
            )])
        })
        .collect();
    Ok(obj(vec![
        ("NRSETS", Value::from(sets.sets.len())),
        ("RECORDS", Value::Array(records)),
    ]))
}

/// `dispatcher.set_state STATE SET URI|all`: the state letters as Kamailio reads them (only
/// the first, and a `p` second).
fn set_state(ds: &Dispatcher, p: &Params) -> Result<Value, RpcError> {
    let invalid = || RpcError::internal("Invalid Parameters");
    if p.len() < 3 {
        return Err(invalid());
    }
    let state = p.str(0, "state").map_err(|_| invalid())?;
    let group = p.int(1, "group").map_err(|_| invalid())?;
    let dest = p.str(2, "address").map_err(|_| invalid())?;
    let mut chars = state.chars().map(|c| c.to_ascii_lowercase());
    let probing = |c: Option<char>| if c == Some('p') { PROBING } else { 0 };
    let st = match chars.next() {
        None => return Err(RpcError::internal("Invalid State Parameter")),
        Some('0' | 'i') => INACTIVE | probing(chars.next()),
        Some('1' | 'a') => probing(chars.next()),
        Some('2' | 'd') => DISABLED,
        Some('3' | 't') => TRYING | probing(chars.next()),
        Some(_) => return Err(RpcError::internal("Unknown State Value")),
    };
    if !ds.set_state(group, &dest, st) {
        return Err(RpcError::internal("State Update Failed"));
    }
    Ok(Value::from("Ok. Dispatcher state updated."))
}

/// Registers the methods when the configuration loads the dispatcher module (Kamailio has
/// them only then).
pub fn register(reg: &Registry, state: &State) {
    if !state.shared.state::<Dispatcher>().cfg.enabled {
        return;
    }
    let shared = state.shared.clone();
    reg.method(
        "dispatcher.list",
        "Return the content of dispatcher sets",
        move |p| {
            list(
                shared.state::<Dispatcher>(),
                p.opt_str(0, "mode")?.as_deref(),
            )
        },
    );

    let shared = state.shared.clone();
    reg.method(
        "dispatcher.reload",
        "Reload dispatcher destination sets",
        move |_| {
            let shared = Arc::clone(&shared);
            match shared.state::<Dispatcher>().reload() {
                Ok(_) => Ok(Value::from("Ok. Dispatcher successfully reloaded.")),
                Err(e) => {
                    tracing::error!("dispatcher.reload: {e}");
                    Err(RpcError::internal(e.to_string()))
                }
            }
        },
    );

    let shared = state.shared.clone();
    reg.method(
        "dispatcher.set_state",
        "Set the state of a destination by address",
        move |p| set_state(shared.state::<Dispatcher>(), &p),
    );

    let shared = state.shared.clone();
    reg.method(
        "dispatcher.ping_active",
        "Manage setting on/off the pinging (keepalive) of destinations",
        move |p| {
            let ds = shared.state::<Dispatcher>();
            let old = i64::from(ds.ping_active.load(Relaxed));
            // Kamailio reads an integer; anything else is "no parameter".
            let Some(new) = p.int(0, "state").ok() else {
                return Ok(obj(vec![("OldPingState", Value::from(old))]));
            };
            ds.ping_active.store(new != 0, Relaxed);
            Ok(obj(vec![
                ("NewPingState", Value::from(new)),
                ("OldPingState", Value::from(old)),
            ]))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(flag_letters(0), "AX");
        assert_eq!(flag_letters(INACTIVE | PROBING), "IP");
        assert_eq!(flag_letters(DISABLED), "DX");
        assert_eq!(flag_letters(TRYING | PROBING), "TP");
        assert_eq!(flag_letters(INACTIVE | DISABLED), "IX");
    }
}
