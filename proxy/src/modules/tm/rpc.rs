//! `tm.stats`: Kamailio's shape (the transcript's field order) over sipvm's transaction table.

use super::Tm;
use crate::host::Server;
use sipvm_rpc::{Registry, Value};
use std::sync::atomic::Ordering::Relaxed;

pub fn register(reg: &Registry, state: &Server) {
    let st = state.clone();
    reg.method("tm.stats", "Print transaction statistics.", move |_| {
        let tm = st.shared.state::<Tm>();
        let s = &tm.stats;
        let get = |a: &std::sync::atomic::AtomicU64| Value::from(a.load(Relaxed));
        let mut o = serde_json::Map::new();
        o.insert("current".into(), Value::from(tm.current() as u64));
        o.insert("waiting".into(), Value::from(tm.waiting() as u64));
        o.insert("total".into(), get(&s.created));
        o.insert("total_local".into(), get(&s.total_local));
        o.insert("rpl_received".into(), get(&s.rpl_received));
        o.insert("rpl_generated".into(), get(&s.rpl_generated));
        o.insert("rpl_sent".into(), get(&s.rpl_sent));
        for class in (2..=6).rev() {
            o.insert(format!("{class}xx"), get(&s.class[class]));
        }
        o.insert("created".into(), get(&s.created));
        o.insert("freed".into(), get(&s.freed));
        // sipvm frees a transaction at once when its timers end.
        o.insert("delayed_free".into(), Value::from(0u64));
        Ok(Value::Object(o))
    });
}
