//! mqueue's RPC methods with Kamailio 5.6's names, result shapes and fault codes:
//! `mqueue.get_size name`, `mqueue.get_sizes`, `mqueue.fetch name`.

use super::Queues;
use crate::host::Server;
use sipvm_rpc::{Params, Registry, RpcError, Value};

fn name(p: &Params, missing: i64, code: &str) -> Result<String, RpcError> {
    match p.get(0) {
        None => Err(RpcError::new(missing, code)),
        Some(v) => {
            let s = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            if s.is_empty() {
                return Err(RpcError::new(missing, "Invalid queue name"));
            }
            Ok(s)
        }
    }
}

/// `{name, size}`; 400 without a name, 404 for a queue that does not exist.
pub fn get_size(qs: &Queues, p: &Params) -> Result<Value, RpcError> {
    let n = name(p, 400, "No queue name")?;
    let q = qs
        .get(&n)
        .ok_or_else(|| RpcError::new(404, "No such queue"))?;
    Ok(serde_json::json!({ "name": n, "size": q.len() }))
}

/// One `{name, size}` per queue, the last defined first (Kamailio's list order).
pub fn get_sizes(qs: &Queues) -> Value {
    let all = qs.all();
    Value::Array(
        all.iter()
            .rev()
            .map(|q| serde_json::json!({ "name": q.def.name, "size": q.len() }))
            .collect(),
    )
}

/// `{key, val}` of the oldest item, taken out; 404 "Empty queue", 500 otherwise. Kamailio
/// cannot return an item whose key or value is empty: it takes it out and answers 500.
pub fn fetch(qs: &Queues, p: &Params) -> Result<Value, RpcError> {
    let n = name(p, 500, "No queue name")?;
    let q = qs
        .get(&n)
        .ok_or_else(|| RpcError::new(500, "No such queue"))?;
    let (k, v) = q.pop().ok_or_else(|| RpcError::new(404, "Empty queue"))?;
    if k.is_empty() || v.is_empty() {
        return Err(RpcError::new(500, "Unexpected error (result)"));
    }
    Ok(serde_json::json!({ "key": k, "val": v }))
}

pub fn register(reg: &Registry, server: &Server) {
    if !server.live.current().modules.iter().any(|m| m == "mqueue") {
        return;
    }
    let sh = server.shared.clone();
    reg.method("mqueue.get_size", "Get size of mqueue.", move |p| {
        get_size(sh.state::<Queues>(), &p)
    });
    let sh = server.shared.clone();
    reg.method("mqueue.get_sizes", "Get sizes of all mqueues.", move |_| {
        Ok(get_sizes(sh.state::<Queues>()))
    });
    let sh = server.shared.clone();
    reg.method(
        "mqueue.fetch",
        "Fetch an element from the queue.",
        move |p| fetch(sh.state::<Queues>(), &p),
    );
}
