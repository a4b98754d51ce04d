//! Kamailio's `core.info`, `core.ps`/`core.psx`, `pv.shvSet`/`pv.shvGet`, `sl.stats` and
//! `stats.get_statistics`/`stats.fetch`, over what sipvm really has: its threads, `$shv`, and
//! the per-generation counters of `Live::status()`. A statistic sipvm does not count is left
//! out. See docs/rpc.md.

use super::State;
use sipvm_cfg::Counts;
use sipvm_rpc::{Params, Registry, RpcError, Value};

/// A method's replies as Kamailio's jsonrpcs returns them: none → `null`, one → itself,
/// more → an array.
pub fn replies(mut items: Vec<Value>) -> Value {
    match items.len() {
        0 => Value::Null,
        1 => items.pop().unwrap_or(Value::Null),
        _ => Value::Array(items),
    }
}

/// The process's threads as `(id, name)`, the main thread first (Linux: /proc/self/task);
/// elsewhere the process alone.
fn threads() -> Vec<(i64, String)> {
    let pid = i64::from(std::process::id());
    let mut out: Vec<(i64, String)> = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let tid: i64 = e.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
            Some((tid, comm.trim_end().to_string()))
        })
        .collect();
    out.sort_by_key(|(tid, _)| (*tid != pid, *tid));
    if out.is_empty() {
        out.push((pid, "main process".to_string()));
    }
    out
}

/// Counts summed over every generation `Live::status()` reports.
fn totals(state: &State) -> Counts {
    let mut t = Counts::default();
    for g in state.live.status().generations {
        let c = g.counts;
        t.requests += c.requests;
        t.replies_received += c.replies_received;
        for (a, b) in t.sent.iter_mut().zip(c.sent) {
            *a += b;
        }
        t.runtime_errors += c.runtime_errors;
        t.drops += c.drops;
    }
    t
}

/// Every statistic sipvm keeps, as `(group, name, value)`, in Kamailio's names.
fn statistics(state: &State) -> Vec<(&'static str, String, u64)> {
    let t = totals(state);
    let mut out = vec![
        ("core", "rcv_requests".to_string(), t.requests),
        ("core", "rcv_replies".to_string(), t.replies_received),
    ];
    for class in 1..=6 {
        out.push(("sl", format!("{class}xx_replies"), t.sent_class(class)));
    }
    out.push(("sl", "sent_replies".to_string(), t.sent.iter().sum()));
    out
}

/// The statistics named by `p` (each `all`, `group:`, `group:name` or `name`); a name that
/// matches nothing is an error naming it.
fn selected(state: &State, p: &Params) -> Result<Vec<(&'static str, String, u64)>, RpcError> {
    p.str(0, "statistic")?;
    let all = statistics(state);
    let mut out: Vec<(&'static str, String, u64)> = Vec::new();
    for i in 0..p.len() {
        let want = p.str(i, "statistic")?;
        let hits: Vec<_> = all
            .iter()
            .filter(|(g, n, _)| match want.split_once(':') {
                _ if want == "all" => true,
                Some((wg, "")) => wg == *g,
                Some((wg, wn)) => wg == *g && wn == n,
                None => want == *n,
            })
            .cloned()
            .collect();
        if hits.is_empty() {
            return Err(RpcError::internal(format!(
                "parameter 'statistic': no statistic '{want}'"
            )));
        }
        for h in hits {
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

pub fn register(reg: &Registry, state: &State) {
    reg.method(
        "core.info",
        "Verbose info, including version number.",
        |_| {
            let mut o = serde_json::Map::new();
            o.insert(
                "version".into(),
                Value::from(format!("sipvm {}", env!("CARGO_PKG_VERSION"))),
            );
            Ok(Value::Object(o))
        },
    );

    reg.method(
        "core.ps",
        "Returns the description of running processes (sipvm: the threads of its process).",
        |_| {
            let mut items = Vec::new();
            for (id, name) in threads() {
                items.push(Value::from(id));
                items.push(Value::from(name));
            }
            Ok(Value::Array(items))
        },
    );

    reg.method(
        "core.psx",
        "Returns the detailed description of running processes (sipvm: its threads).",
        |_| {
            let items = threads()
                .into_iter()
                .enumerate()
                .map(|(i, (id, name))| {
                    let mut o = serde_json::Map::new();
                    o.insert("IDX".into(), Value::from(i));
                    o.insert("PID".into(), Value::from(id));
                    o.insert("DSC".into(), Value::from(name));
                    Value::Object(o)
                })
                .collect();
            Ok(replies(items))
        },
    );

    let st = state.clone();
    reg.method(
        "sl.stats",
        "Print reply statistics (sipvm: every reply sent, by class).",
        move |_| {
            let t = totals(&st);
            let mut o = serde_json::Map::new();
            for class in 2..=6 {
                o.insert(format!("{class}xx"), Value::from(t.sent_class(class)));
            }
            Ok(Value::Object(o))
        },
    );

    let st = state.clone();
    reg.method(
        "stats.get_statistics",
        "Print the values of the statistics given (all, group:, group:name or name).",
        move |p| {
            Ok(Value::Array(
                selected(&st, &p)?
                    .into_iter()
                    .map(|(g, n, v)| Value::from(format!("{g}:{n} = {v}")))
                    .collect(),
            ))
        },
    );

    let st = state.clone();
    reg.method(
        "stats.fetch",
        "Fetch the statistics given (all, group:, group:name or name).",
        move |p| {
            Ok(Value::Object(
                selected(&st, &p)?
                    .into_iter()
                    .map(|(g, n, v)| (format!("{g}.{n}"), Value::from(v.to_string())))
                    .collect(),
            ))
        },
    );
}
