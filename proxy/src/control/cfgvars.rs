//! Kamailio's `cfg_rpc` methods over sipvm's custom parameters (`group.name = value desc
//! "..."`): read, list and describe them, change them at once or staged, reset a group.
//! Changes go through `Live` (a new snapshot sharing the program, one atomic swap).
//! See docs/rpc.md, "Custom parameters".

use super::State;
use sipvm_cfg::CustomError;
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

pub fn register(reg: &Registry, state: &State) {
    for (name, kind) in [
        ("cfg.set", Kind::Any),
        ("cfg.set_now_int", Kind::Int),
        ("cfg.seti", Kind::Int),
        ("cfg.set_now_string", Kind::Str),
        ("cfg.sets", Kind::Str),
    ] {
        let live = state.live.clone();
        reg.method(name, SET_NOW, move |p| {
            let group = p.str(0, "group")?;
            let var = p.str(1, "name")?;
            let value = value_of(&p, kind)?;
            live.set_custom(&group, &var, value).map_err(set_fault)?;
            Ok(Value::Null)
        });
    }
    for (name, kind) in [
        ("cfg.set_delayed", Kind::Any),
        ("cfg.set_delayed_int", Kind::Int),
        ("cfg.set_delayed_string", Kind::Str),
    ] {
        let live = state.live.clone();
        reg.method(name, SET_DELAYED, move |p| {
            let group = p.str(0, "group")?;
            let var = p.str(1, "name")?;
            let value = value_of(&p, kind)?;
            live.stage_custom(&group, &var, value).map_err(set_fault)?;
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

    let live = state.live.clone();
    reg.method(
        "cfg.get",
        "Get the value of a configuration variable",
        move |p| {
            let group = p.str(0, "group")?;
            let snap = live.current();
            match p.opt_str(1, "name")? {
                Some(var) => snap
                    .custom(&group, &var)
                    .map(|c| to_json(&c.value))
                    .ok_or_else(|| {
                        fault(
                            "Failed to get the variable",
                            CustomError::Unknown {
                                group: group.clone(),
                                name: var.clone(),
                            },
                        )
                    }),
                None => {
                    let o: serde_json::Map<String, Value> = snap
                        .custom
                        .iter()
                        .filter(|c| c.group == group)
                        .map(|c| (c.name.clone(), to_json(&c.value)))
                        .collect();
                    Ok(Value::Object(o))
                }
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

    let live = state.live.clone();
    reg.method(
        "cfg.help",
        "Print the description of a configuration variable",
        move |p| {
            let group = p.str(0, "group")?;
            let var = p.str(1, "name")?;
            let snap = live.current();
            let c = snap.custom(&group, &var).ok_or_else(|| {
                fault(
                    "Failed to get the variable description",
                    CustomError::Unknown {
                        group: group.clone(),
                        name: var.clone(),
                    },
                )
            })?;
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
