//! Kamailio's `cfg_rpc` methods over sipvm's custom parameters (`group.name = value desc
//! "..."`): read, list and describe them, change them at once or staged, reset a group.
//! Changes go through `Live` (a new snapshot sharing the program, one atomic swap).
//! See docs/rpc.md, "Custom parameters".

use super::State;
use sipvm_cfg::{CustomError, Snapshot};
use sipvm_rpc::{Params, Registry, RpcError, Value};
use sipvm_vm::Value as V;

/// Kamailio's cfg_rpc answers its faults with 400.
const BAD: i64 = 400;

fn to_json(v: &V) -> Value {
    match v {
        V::Int(n) => Value::from(*n),
        V::Str(s) => Value::from(s.as_ref()),
        V::Null => Value::Null,
    }
}

fn fault(what: &str, e: CustomError) -> RpcError {
    RpcError::new(BAD, format!("{what}: {e}"))
}

/// `what` failed: there is no parameter `group.name`.
fn unknown(what: &str, group: &str, name: &str) -> RpcError {
    let e = CustomError::Unknown {
        group: group.to_string(),
        name: name.to_string(),
    };
    fault(what, e)
}

fn set_fault(e: CustomError) -> RpcError {
    match e {
        CustomError::NotInt { .. } => {
            RpcError::new(BAD, format!("parameter 'value' must be an integer: {e}"))
        }
        e => fault("Failed to set the variable", e),
    }
}

/// `value` for `cfg.set` / `cfg.set_delayed`: an integer as an integer, anything else as text.
fn any_value(p: &Params) -> Result<V, RpcError> {
    match p.get(2) {
        Some(Value::Number(n)) if n.is_i64() => Ok(V::Int(n.as_i64().unwrap_or_default())),
        _ => p.str(2, "value").map(|s| V::str(&s)),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Str,
    Any,
}

fn value_of(p: &Params, kind: Kind) -> Result<V, RpcError> {
    match kind {
        Kind::Int => p.int(2, "value").map(V::Int),
        Kind::Str => p.str(2, "value").map(|s| V::str(&s)),
        Kind::Any => any_value(p),
    }
}

const SET_NOW: &str = "Set the value of a configuration variable and commit the change immediately";
const SET_DELAYED: &str =
    "Prepare the change of a configuration variable, but does not commit the new value yet";

/// Registers a method on the current snapshot whose first parameter is a group name.
fn on_group(
    reg: &Registry,
    state: &State,
    name: &str,
    help: &str,
    f: fn(&Snapshot, String, &Params) -> Result<Value, RpcError>,
) {
    let live = state.live.clone();
    reg.method(name, help, move |p| {
        let group = p.str(0, "group")?;
        f(&live.current(), group, &p)
    });
}

pub fn register(reg: &Registry, state: &State) {
    // `delayed`: staged until `cfg.commit`, else committed at once.
    for (name, kind, delayed) in [
        ("cfg.set", Kind::Any, false),
        ("cfg.set_now_int", Kind::Int, false),
        ("cfg.seti", Kind::Int, false),
        ("cfg.set_now_string", Kind::Str, false),
        ("cfg.sets", Kind::Str, false),
        ("cfg.set_delayed", Kind::Any, true),
        ("cfg.set_delayed_int", Kind::Int, true),
        ("cfg.set_delayed_string", Kind::Str, true),
    ] {
        let live = state.live.clone();
        let help = if delayed { SET_DELAYED } else { SET_NOW };
        reg.method(name, help, move |p| {
            let group = p.str(0, "group")?;
            let var = p.str(1, "name")?;
            let value = value_of(&p, kind)?;
            let done = if delayed {
                live.stage_custom(&group, &var, value)
            } else {
                live.set_custom(&group, &var, value).map(drop)
            };
            done.map_err(set_fault)?;
            Ok(Value::Null)
        });
    }

    let live = state.live.clone();
    reg.method(
        "cfg.commit",
        "Commit the previously prepared configuration changes",
        move |_| {
            live.commit_custom()
                .map_err(|e| fault("Failed to commit the changes", e))?;
            Ok(Value::Null)
        },
    );

    let live = state.live.clone();
    reg.method(
        "cfg.rollback",
        "Drop the prepared configuration changes",
        move |_| {
            live.discard_custom();
            Ok(Value::Null)
        },
    );

    on_group(
        reg,
        state,
        "cfg.get",
        "Get the value of a configuration variable",
        |snap, group, p| match p.opt_str(1, "name")? {
            Some(var) => snap
                .custom(&group, &var)
                .map(|c| to_json(&c.value))
                .ok_or_else(|| unknown("Failed to get the variable", &group, &var)),
            None => {
                let o: serde_json::Map<String, Value> = snap
                    .custom
                    .iter()
                    .filter(|c| c.group == group)
                    .map(|c| (c.name.clone(), to_json(&c.value)))
                    .collect();
                Ok(Value::Object(o))
            }
        },
    );

    let live = state.live.clone();
    reg.method("cfg.list", "List the configuration variables", move |p| {
        let group = p.opt_str(0, "group")?;
        let snap = live.current();
        Ok(Value::Array(
            snap.custom
                .iter()
                .filter(|c| group.as_deref().is_none_or(|g| g == c.group))
                .map(|c| Value::from(format!("{}: {}", c.group, c.name)))
                .collect(),
        ))
    });

    on_group(
        reg,
        state,
        "cfg.help",
        "Print the description of a configuration variable",
        |snap, group, p| {
            let var = p.str(1, "name")?;
            let c = snap
                .custom(&group, &var)
                .ok_or_else(|| unknown("Failed to get the variable description", &group, &var))?;
            let ty = match c.value {
                V::Int(_) => "(parameter type is integer)",
                _ => "(parameter type is string)",
            };
            Ok(Value::Array(vec![
                Value::from(c.desc.clone()),
                Value::from(ty),
            ]))
        },
    );

    let live = state.live.clone();
    reg.method(
        "cfg.diff",
        "List the pending configuration changes that have not been committed yet",
        move |_| {
            let items: Vec<Value> = live
                .staged_custom()
                .into_iter()
                .map(|c| {
                    let mut o = serde_json::Map::new();
                    o.insert("group name".into(), Value::from(c.group));
                    o.insert("variable name".into(), Value::from(c.name));
                    o.insert("old value".into(), to_json(&c.old));
                    o.insert("new value".into(), to_json(&c.new));
                    Value::Object(o)
                })
                .collect();
            Ok(super::misc::replies(items))
        },
    );

    let live = state.live.clone();
    reg.method(
        "cfg.reset",
        "Reset all the values of a configuration group and commit the change immediately",
        move |p| {
            let group = p.str(0, "group")?;
            live.reset_custom(&group)
                .map_err(|e| fault("Reset failed", e))?;
            Ok(Value::Null)
        },
    );
}
