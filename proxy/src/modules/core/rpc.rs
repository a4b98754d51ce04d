//! The core module's RPC methods over its state: `pv.shvSet` and `pv.shvGet` (`$shv`).

use super::shv::Shv;
use crate::host::Server;
use sipvm_rpc::{Registry, RpcError, Value};
use sipvm_vm::Value as V;

fn shv_json(name: &str, v: &V) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), Value::from(name));
    match v {
        V::Int(n) => {
            o.insert("type".into(), Value::from("int"));
            o.insert("value".into(), Value::from(*n));
        }
        V::Str(s) => {
            o.insert("type".into(), Value::from("string"));
            o.insert("value".into(), Value::from(s.as_ref()));
        }
        V::Null => {}
    }
    Value::Object(o)
}

pub fn register(reg: &Registry, state: &Server) {
    let shared = state.shared.clone();
    reg.method(
        "pv.shvSet",
        "Set a shared variable (args: name type value)",
        move |p| {
            let name = p.str(0, "name")?;
            let ty = p.str(1, "type")?;
            let v = if ty.eq_ignore_ascii_case("int") {
                V::Int(p.int(2, "value")?)
            } else if ty.eq_ignore_ascii_case("str") {
                V::str(&p.str(2, "value")?)
            } else {
                return Err(RpcError::internal(
                    "parameter 'type' must be int or str (Unknown parameter type (Types: int or str))",
                ));
            };
            shared.state::<Shv>().set(&name, v);
            Ok(Value::from("Ok. Variable set to new value."))
        },
    );

    let shared = state.shared.clone();
    reg.method(
        "pv.shvGet",
        "Get the value of a shared variable, or of all of them without a name. Args: [name]",
        move |p| {
            // Without a name, Kamailio lists every variable.
            let Some(name) = p.opt_str(0, "name")? else {
                let all = shared.state::<Shv>().entries();
                return Ok(Value::Array(
                    all.iter().map(|(n, v)| shv_json(n, v)).collect(),
                ));
            };
            match shared.state::<Shv>().get(&name) {
                V::Null => Err(RpcError::new(404, "Variable not found")),
                v => Ok(shv_json(&name, &v)),
            }
        },
    );
}
