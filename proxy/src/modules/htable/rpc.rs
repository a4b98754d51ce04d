//! Kamailio 5.6's `htable.*` RPC methods over `Shared::htable`: the same names, parameters,
//! fault codes and texts, and result shapes (kamcmd prints them alike). See
//! docs/modules/htable.md.

use crate::host::Server as State;
use crate::modules::htable::{now, Htables, StoreError, Table};
use sipvm_rpc::{Params, Registry, RpcError, Value};
use sipvm_vm::Value as V;
use std::sync::Arc;

fn fault(msg: &str) -> RpcError {
    RpcError::new(500, msg)
}

/// Kamailio's `rpc->scan("S")`: a string (a number is taken as its text, as jsonrpcs does).
fn s(p: &Params, i: usize) -> Option<String> {
    match p.get(i)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_i64().map(|n| n.to_string()),
        _ => None,
    }
}

/// `rpc->scan("d")`: an integer, or a string holding one; Kamailio's C `int`.
fn d(p: &Params, i: usize) -> Result<Option<i64>, RpcError> {
    let bad = || fault(&format!("parameter {} is not a 32-bit integer", i + 1));
    let n = match p.get(i) {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(bad)?,
        Some(Value::String(s)) => sipvm_vm::value::parse_int(s.trim()).ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    // htable keeps Kamailio's 32-bit integers: a wider value is refused, not wrapped.
    i32::try_from(n).map(i64::from).map(Some).map_err(|_| bad())
}

/// The tables after the current snapshot's definitions (a reload may have added some).
fn tables(st: &State) -> &Htables {
    let ht = st.shared.state::<Htables>();
    ht.sync(&st.live.current());
    ht
}

fn find(st: &State, name: &str) -> Result<Arc<Table>, RpcError> {
    tables(st).get(name).ok_or_else(|| fault("No such htable"))
}

/// An item's value as Kamailio's RPC gives it: a number or a string.
fn json(v: &V) -> Value {
    match v {
        V::Int(n) => Value::from(*n),
        v => Value::from(v.to_str().into_owned()),
    }
}

/// `%Y-%m-%d %H:%M:%S` in local time, as `htable.get` prints an expiry.
fn local_time(secs: i64) -> String {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r fills `tm`; strftime writes at most buf.len() bytes into buf.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return secs.to_string();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%d %H:%M:%S".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn get(st: &State, p: &Params) -> Result<Value, RpcError> {
    let (Some(tname), Some(key)) = (s(p, 0), s(p, 1)) else {
        return Err(fault("Not enough parameters (htable name and key name)"));
    };
    let t = find(st, &tname)?;
    let (v, expire) = t
        .get_cell(&key, now())
        .ok_or_else(|| fault("Key name doesn't exist in htable."))?;
    // Kamailio's cell flags: AVP_VAL_STR (2) for a string.
    let flags = if matches!(v, V::Str(_)) { 2 } else { 0 };
    let expire = if expire == 0 {
        "NEVER".to_string()
    } else {
        local_time(expire)
    };
    let item = obj(vec![
        ("name", Value::from(key)),
        ("value", json(&v)),
        ("flags", Value::from(flags)),
        ("expire", Value::from(expire)),
    ]);
    Ok(obj(vec![("item", item)]))
}

fn delete(st: &State, p: &Params) -> Result<Value, RpcError> {
    let (Some(tname), Some(key)) = (s(p, 0), s(p, 1)) else {
        return Err(fault("Not enough parameters (htable name & key name"));
    };
    let t = find(st, &tname)?;
    if !t.delete(&key, now()) {
        return Err(RpcError::new(404, "Key not found in htable."));
    }
    Ok(Value::from("Ok. Key deleted."))
}

/// `htable.sets`/`seti`/`setxs`/`setxi`: `int_value` picks `d` over `S` for the value,
/// `with_expire` takes a fourth parameter.
fn set(st: &State, p: &Params, int_value: bool, with_expire: bool) -> Result<Value, RpcError> {
    let not_enough = if with_expire {
        "Not enough parameters (htable name, key name, value and expire)"
    } else {
        "Not enough parameters (htable name, key name and value)"
    };
    let (Some(tname), Some(key)) = (s(p, 0), s(p, 1)) else {
        return Err(fault(not_enough));
    };
    let v = if int_value {
        d(p, 2)?.map(V::Int)
    } else {
        s(p, 2).map(|x| V::str(&x))
    };
    let Some(v) = v else {
        return Err(fault(not_enough));
    };
    let exv = match with_expire {
        true => d(p, 3)?.ok_or_else(|| fault(not_enough))?,
        false => 0,
    };
    let t = find(st, &tname)?;
    t.set(&key, v, exv, now());
    Ok(Value::from("Ok. Key set to new value."))
}

fn setex(st: &State, p: &Params) -> Result<Value, RpcError> {
    let (Some(tname), Some(key), Some(exv)) = (s(p, 0), s(p, 1), d(p, 2)?) else {
        return Err(fault(
            "Not enough parameters (htable name, item name and expire)",
        ));
    };
    let t = find(st, &tname)?;
    t.set_expire(&key, exv, now());
    Ok(Value::from("Ok"))
}

fn dump(st: &State, p: &Params) -> Result<Value, RpcError> {
    let tname = s(p, 0).ok_or_else(|| fault("No htable name given"))?;
    let t = find(st, &tname)?;
    let slots = t
        .dump(now())
        .into_iter()
        .map(|(i, cells)| {
            let items = cells
                .iter()
                .map(|c| {
                    let ty = if matches!(c.value, V::Int(_)) {
                        "int"
                    } else {
                        "str"
                    };
                    obj(vec![
                        ("name", Value::from(&*c.name)),
                        ("value", json(&c.value)),
                        ("type", Value::from(ty)),
                    ])
                })
                .collect();
            obj(vec![
                ("entry", Value::from(i)),
                ("size", Value::from(cells.len())),
                ("slot", Value::Array(items)),
            ])
        })
        .collect();
    Ok(Value::Array(slots))
}

/// Every table, newest definition first (Kamailio's list order).
fn all(st: &State) -> Result<Vec<Arc<Table>>, RpcError> {
    let mut v = tables(st).all();
    if v.is_empty() {
        return Err(fault("No htables"));
    }
    v.reverse();
    Ok(v)
}

fn list(st: &State) -> Result<Value, RpcError> {
    let items = all(st)?
        .iter()
        .map(|t| {
            let d = &t.def;
            obj(vec![
                ("name", Value::from(d.name.as_str())),
                ("dbtable", Value::from(d.dbtable.as_str())),
                ("dbmode", Value::from(d.dbmode)),
                ("expire", Value::from(d.autoexpire)),
                ("updateexpire", Value::from(u8::from(d.updateexpire))),
                ("size", Value::from(t.slot_count())),
                ("dmqreplicate", Value::from(d.dmqreplicate)),
            ])
        })
        .collect();
    Ok(Value::Array(items))
}

fn stats(st: &State) -> Result<Value, RpcError> {
    let now = now();
    let items = all(st)?
        .iter()
        .map(|t| {
            let (n, min, max) = t.stats(now);
            obj(vec![
                ("name", Value::from(t.name())),
                ("slots", Value::from(t.slot_count())),
                ("all", Value::from(n)),
                ("min", Value::from(min)),
                ("max", Value::from(max)),
            ])
        })
        .collect();
    Ok(Value::Array(items))
}

fn flush(st: &State, p: &Params) -> Result<Value, RpcError> {
    let tname = s(p, 0).ok_or_else(|| fault("No htable name given"))?;
    find(st, &tname)?.reset();
    Ok(Value::from("Ok. Htable flushed."))
}

/// The table of `htable.reload`/`htable.store`, with Kamailio's checks in its order.
fn stored(st: &State, p: &Params) -> Result<Arc<Table>, RpcError> {
    if tables(st).file_store().is_none() {
        return Err(fault(if tables(st).db_url().is_empty() {
            "No htable db_url"
        } else {
            "Failed to open htable db connection"
        }));
    }
    let tname = s(p, 0).ok_or_else(|| fault("No htable name given"))?;
    let t = find(st, &tname)?;
    if t.def.dbtable.is_empty() {
        return Err(fault("No database htable"));
    }
    Ok(t)
}

fn reload(st: &State, p: &Params) -> Result<Value, RpcError> {
    let t = stored(st, p)?;
    match tables(st).reload(&t) {
        Ok(n) => {
            tracing::info!("htable {}: reloaded, {n} items", t.name());
            Ok(Value::from("Ok. Htable reloaded."))
        }
        Err(e) => {
            tracing::error!("htable {}: reload failed, content kept: {e}", t.name());
            Err(fault(&reload_fault(&e)))
        }
    }
}

/// Kamailio says only "Htable reload failed"; sipvm adds why (which line is wrong).
fn reload_fault(e: &StoreError) -> String {
    format!("Htable reload failed: {e}")
}

fn store(st: &State, p: &Params) -> Result<Value, RpcError> {
    let t = stored(st, p)?;
    match tables(st).store(&t) {
        Ok(_) => Ok(Value::from("Ok. Htable successfully stored to DB.")),
        Err(e) => {
            tracing::error!("htable {}: store failed: {e}", t.name());
            Err(fault("Storing htable failed"))
        }
    }
}

pub fn register(reg: &Registry, state: &State) {
    type M = fn(&State, &Params) -> Result<Value, RpcError>;
    let methods: [(&str, &str, M); 13] = [
        ("htable.dump", "Dump the contents of hash table.", dump),
        ("htable.delete", "Delete one key from a hash table.", delete),
        ("htable.get", "Get one key from a hash table.", get),
        (
            "htable.sets",
            "Set one key in a hash table to a string value.",
            |st, p| set(st, p, false, false),
        ),
        (
            "htable.seti",
            "Set one key in a hash table to an integer value.",
            |st, p| set(st, p, true, false),
        ),
        (
            "htable.setex",
            "Set expire in a hash table for the item referenced by key.",
            setex,
        ),
        (
            "htable.setxs",
            "Set one key in a hash table to a string value and its expire value.",
            |st, p| set(st, p, false, true),
        ),
        (
            "htable.setxi",
            "Set one key in a hash table to an integer value and its expire value.",
            |st, p| set(st, p, true, true),
        ),
        ("htable.listTables", "List all htables.", |st, _| list(st)),
        (
            "htable.reload",
            "Reload hash table from its file store (db_url text:///folder).",
            reload,
        ),
        (
            "htable.store",
            "Store hash table to its file store (db_url text:///folder).",
            store,
        ),
        ("htable.stats", "Statistics about htables.", |st, _| {
            stats(st)
        }),
        ("htable.flush", "Flush hash table.", flush),
    ];
    for (name, help, f) in methods {
        let st = state.clone();
        reg.method(name, help, move |p| f(&st, &p));
    }
}
