//! `route.*`: reload, canary, promote, abort, rollback, status and dump of the routing program
//! (`sipvm_cfg::Live`), and the Prometheus text of its per-generation counters (`/metrics`).
//! See docs/rpc.md and docs/reload.md.

use super::State;
use sipvm_cfg::{GenerationStatus, Live, LoadError, Snapshot, StateError};
use sipvm_rpc::{Params, Registry, RpcError, Value};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

fn load_error(e: LoadError) -> RpcError {
    RpcError::internal(e.to_string())
}

fn state_error(e: StateError) -> RpcError {
    RpcError::internal(e.to_string())
}

/// `{"generation": N, "file": F}` plus `extra` members.
fn snapshot_json(s: &Snapshot, extra: &[(&str, Value)]) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("generation".into(), Value::from(s.generation));
    o.insert("file".into(), Value::from(&*s.file));
    for (k, v) in extra {
        o.insert((*k).into(), v.clone());
    }
    Value::Object(o)
}

fn millis(since: Instant) -> Value {
    Value::from(since.elapsed().as_millis() as u64)
}

/// The share of new dialogs a generation takes now, in percent.
fn share(g: &GenerationStatus, percent: u8) -> u8 {
    match g.role {
        "current" => 100 - percent,
        "candidate" => percent,
        _ => 0,
    }
}

fn status_json(live: &Live) -> Value {
    let st = live.status();
    let opt = |g: Option<u64>| g.map_or(Value::Null, Value::from);
    let gens: Vec<Value> = st
        .generations
        .iter()
        .map(|g| {
            let c = &g.counts;
            let mut sent = serde_json::Map::new();
            for (i, n) in c.sent.iter().enumerate() {
                sent.insert(format!("{}xx", i + 1), Value::from(*n));
            }
            let mut o = serde_json::Map::new();
            o.insert("generation".into(), Value::from(g.generation));
            o.insert("file".into(), Value::from(g.file.as_str()));
            o.insert("role".into(), Value::from(g.role));
            o.insert("share".into(), Value::from(share(g, st.percent)));
            o.insert("requests".into(), Value::from(c.requests));
            o.insert("replies_received".into(), Value::from(c.replies_received));
            o.insert("replies_sent".into(), Value::Object(sent));
            o.insert("runtime_errors".into(), Value::from(c.runtime_errors));
            o.insert("drops".into(), Value::from(c.drops));
            Value::Object(o)
        })
        .collect();
    let mut o = serde_json::Map::new();
    o.insert("current".into(), Value::from(st.current));
    o.insert("candidate".into(), opt(st.candidate));
    o.insert("percent".into(), Value::from(st.percent));
    o.insert("previous".into(), opt(st.previous));
    o.insert("generations".into(), Value::from(gens));
    Value::Object(o)
}

/// The program `route.dump` lists: the current one, or the live generation `which` (current,
/// candidate or previous).
fn dump(live: &Live, which: Option<i64>) -> Result<Value, RpcError> {
    let routing = live.routing();
    let snap: Arc<Snapshot> = match which {
        None => routing.current.snapshot.clone(),
        Some(g) => {
            let live_ones = [
                Some(routing.current.snapshot.clone()),
                routing
                    .candidate
                    .as_ref()
                    .map(|c| c.running.snapshot.clone()),
                live.previous(),
            ];
            live_ones
                .into_iter()
                .flatten()
                .find(|s| i64::try_from(s.generation).ok() == Some(g))
                .ok_or_else(|| {
                    RpcError::internal(format!(
                        "generation {g} is not current, candidate or previous"
                    ))
                })?
        }
    };
    Ok(Value::from(sipvm_vm::disasm::disassemble(&snap.program)))
}

/// Registers `route.reload`, `route.canary`, `route.promote`, `route.abort`,
/// `route.rollback`, `route.status` and `route.dump`.
pub fn register(reg: &Registry, state: &State) {
    let live = state.live.clone();
    reg.method(
        "route.reload",
        "Recompiles the running file (or the file given) and makes it current; answers after \
         the swap with the new generation, or refuses with the diagnostics and changes nothing.",
        move |p: Params| {
            let file = p.opt_str(0, "file")?;
            let t = Instant::now();
            let s = live.reload(file.as_deref()).map_err(load_error)?;
            Ok(snapshot_json(&s, &[("compile_ms", millis(t))]))
        },
    );
    let live = state.live.clone();
    reg.method(
        "route.canary",
        "Compiles FILE as a candidate taking PERCENT% of new dialogs (by Call-ID).",
        move |p: Params| {
            let file = p.str(0, "file")?;
            let percent = p.int(1, "percent")?;
            let percent = u8::try_from(percent)
                .ok()
                .filter(|n| *n <= 100)
                .ok_or_else(|| {
                    RpcError::internal(format!(
                        "a canary share must be 0..100 percent, not {percent}"
                    ))
                })?;
            let t = Instant::now();
            let s = live.canary(&file, percent).map_err(load_error)?;
            Ok(snapshot_json(
                &s,
                &[("percent", Value::from(percent)), ("compile_ms", millis(t))],
            ))
        },
    );
    type Step = fn(&Live) -> Result<Arc<Snapshot>, StateError>;
    let steps: [(&str, &str, Step); 3] = [
        (
            "route.promote",
            "Makes the canary candidate current for every message.",
            Live::promote,
        ),
        (
            "route.abort",
            "Drops the canary candidate; every message goes to the current program.",
            Live::abort,
        ),
        (
            "route.rollback",
            "Makes the previous generation current again (kept compiled, same number).",
            Live::rollback,
        ),
    ];
    for (name, help, step) in steps {
        let live = state.live.clone();
        reg.method(name, help, move |_| {
            let s = step(&live).map_err(state_error)?;
            Ok(snapshot_json(&s, &[]))
        });
    }
    let live = state.live.clone();
    reg.method(
        "route.status",
        "Generations, the candidate's share, and per-generation counters.",
        move |_| Ok(status_json(&live)),
    );
    let live = state.live.clone();
    reg.method(
        "route.dump",
        "The disassembly of the current program (or of live generation N).",
        move |p: Params| dump(&live, p.opt_int(0, "generation")?),
    );
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The Prometheus text exposition of the routing state and per-generation counters.
pub fn metrics(live: &Live) -> String {
    let st = live.status();
    let mut out = String::new();
    let mut put = |name: &str, kind: &str, help: &str, rows: Vec<(String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {v}");
            }
        }
    };
    put(
        "sipvm_route_current_generation",
        "gauge",
        "The generation of the current program.",
        vec![(String::new(), st.current)],
    );
    put(
        "sipvm_route_candidate_percent",
        "gauge",
        "The canary candidate's share of new dialogs, in percent (0 without a candidate).",
        vec![(String::new(), u64::from(st.percent))],
    );
    let gl = |g: &GenerationStatus| format!("generation=\"{}\"", g.generation);
    let per = |f: &dyn Fn(&GenerationStatus) -> u64| -> Vec<(String, u64)> {
        st.generations.iter().map(|g| (gl(g), f(g))).collect()
    };
    put(
        "sipvm_route_generation_info",
        "gauge",
        "Each reported generation, its file, role and share of new dialogs (value 1).",
        st.generations
            .iter()
            .map(|g| {
                (
                    format!(
                        "{},file=\"{}\",role=\"{}\",share=\"{}\"",
                        gl(g),
                        label(&g.file),
                        g.role,
                        share(g, st.percent)
                    ),
                    1,
                )
            })
            .collect(),
    );
    put(
        "sipvm_route_requests_total",
        "counter",
        "Requests for which request_route ran, per generation.",
        per(&|g| g.counts.requests),
    );
    put(
        "sipvm_route_replies_received_total",
        "counter",
        "Replies received and handled, per generation.",
        per(&|g| g.counts.replies_received),
    );
    let mut sent = Vec::new();
    for g in &st.generations {
        for (i, v) in g.counts.sent.iter().enumerate() {
            sent.push((format!("{},class=\"{}xx\"", gl(g), i + 1), *v));
        }
    }
    put(
        "sipvm_route_replies_sent_total",
        "counter",
        "SIP replies sent (local and relayed), per generation and class.",
        sent,
    );
    put(
        "sipvm_route_runtime_errors_total",
        "counter",
        "Runs of the program that ended in a runtime error, per generation.",
        per(&|g| g.counts.runtime_errors),
    );
    put(
        "sipvm_route_drops_total",
        "counter",
        "Messages handled without an error for which nothing was sent, per generation.",
        per(&|g| g.counts.drops),
    );
    out
}
