//! Kamailio's usrloc RPCs over the shared location tables: `ul.dump [brief]`,
//! `ul.lookup table AOR`, `ul.rm table AOR`, `ul.rm_contact table AOR contact`, with ul_rpc.c's shapes, member names and fault
//! texts. See docs/modules/registrar.md.

use super::{now, Binding, Table, Usrloc, Q_UNSPECIFIED};
use crate::host::Server as State;
use serde_json::Map;
use sipvm_rpc::{Params, Registry, RpcError, Value};
use std::sync::Arc;

const NOT_SET: &str = "[not set]";

fn or_not_set(s: &str) -> Value {
    Value::from(if s.is_empty() { NOT_SET } else { s })
}

/// One `{"Contact": {...}}` item, members in Kamailio's order.
fn contact(b: &Binding, t: i64, synced: bool) -> Value {
    let mut c = Map::new();
    c.insert("Address".into(), Value::from(b.contact.as_str()));
    let expires = match b.expires {
        0 => Value::from("permanent"),
        e if t > e => Value::from("expired"),
        e => Value::from(e - t),
    };
    c.insert("Expires".into(), expires);
    let q = if b.q == Q_UNSPECIFIED {
        Value::from(-1)
    } else {
        Value::from(f64::from(b.q) / 1000.0)
    };
    c.insert("Q".into(), q);
    c.insert("Call-ID".into(), Value::from(b.callid.as_str()));
    c.insert("CSeq".into(), Value::from(b.cseq));
    c.insert("User-Agent".into(), or_not_set(&b.user_agent));
    c.insert("Received".into(), or_not_set(&b.received));
    c.insert("Path".into(), or_not_set(&b.path));
    let state = if synced { "CS_SYNC" } else { "CS_NEW" };
    c.insert("State".into(), Value::from(state));
    c.insert("Flags".into(), Value::from(b.flags));
    c.insert("CFlags".into(), Value::from(b.cflags));
    c.insert("Socket".into(), or_not_set(&b.socket));
    c.insert("Methods".into(), Value::from(b.methods));
    c.insert("Ruid".into(), or_not_set(&b.ruid));
    c.insert("Instance".into(), or_not_set(&b.instance));
    c.insert("Reg-Id".into(), Value::from(b.reg_id));
    c.insert("Server-Id".into(), Value::from(0));
    let tcp = b.socket.starts_with("tcp:") || b.socket.starts_with("tls:");
    c.insert("Tcpconn-Id".into(), Value::from(if tcp { 0 } else { -1 }));
    c.insert("Keepalive".into(), Value::from(0));
    c.insert("Last-Keepalive".into(), Value::from(b.last_modified));
    c.insert("KA-Roundtrip".into(), Value::from(0));
    c.insert("Last-Modified".into(), Value::from(b.last_modified));
    let mut item = Map::new();
    item.insert("Contact".into(), Value::Object(c));
    Value::Object(item)
}

fn one(name: &str, v: Value) -> Value {
    let mut m = Map::new();
    m.insert(name.into(), v);
    Value::Object(m)
}

/// `ul.dump [brief]`: every table with its AoRs (brief: names only) and slot statistics.
fn dump(state: &State, p: &Params) -> Result<Value, RpcError> {
    let brief = p.opt_str(0, "brief")?.is_some_and(|b| b == "brief");
    let ul = state.shared.state::<Usrloc>();
    let synced = ul.cfg.db.is_some();
    let t = now();
    let mut domains = Vec::new();
    for table in ul.tables() {
        let (recs, n, max) = table.snapshot(t);
        let aors: Vec<Value> = recs
            .iter()
            .map(|r| {
                if brief {
                    return one("AoR", Value::from(r.aor.as_str()));
                }
                let mut info = Map::new();
                info.insert("AoR".into(), Value::from(r.aor.as_str()));
                info.insert("HashID".into(), Value::from(r.hash));
                let contacts = r.bindings.iter().map(|b| contact(b, t, synced)).collect();
                info.insert("Contacts".into(), Value::Array(contacts));
                one("Info", Value::Object(info))
            })
            .collect();
        let mut d = Map::new();
        d.insert("Domain".into(), Value::from(table.name.as_str()));
        d.insert("Size".into(), Value::from(table.size()));
        d.insert("AoRs".into(), Value::Array(aors));
        let mut stats = Map::new();
        stats.insert("Records".into(), Value::from(n));
        stats.insert("Max-Slots".into(), Value::from(max));
        d.insert("Stats".into(), Value::Object(stats));
        domains.push(one("Domain", Value::Object(d)));
    }
    Ok(one("Domains", Value::Array(domains)))
}

/// The table and AoR parameters as ul_rpc.c reads them: the AoR lowercased, cut at `@`
/// without `use_domain`, and required to have one with it.
fn table_and_aor(state: &State, p: &Params) -> Result<(Arc<Table>, String), RpcError> {
    let short = || RpcError::new(500, "Not enough parameters (table and AOR to lookup)");
    let name = p.opt_str(0, "table")?.ok_or_else(short)?;
    let aor = p.opt_str(1, "AOR")?.ok_or_else(short)?;
    let ul = state.shared.state::<Usrloc>();
    let table = ul
        .find(&name)
        .ok_or_else(|| RpcError::new(500, "Domain table not found"))?;
    let aor = match (ul.cfg.use_domain, aor.find('@')) {
        (true, None) => return Err(RpcError::new(500, "Domain missing in AOR")),
        (false, Some(i)) => aor[..i].to_string(),
        _ => aor,
    };
    Ok((table, aor.to_ascii_lowercase()))
}

/// Registers a method on one AOR (`table AOR`): `f` gets the table and the AOR as stored.
fn on_aor(
    reg: &Registry,
    state: &State,
    name: &str,
    help: &str,
    f: fn(&State, &Table, String) -> Result<Value, RpcError>,
) {
    let st = state.clone();
    reg.method(name, help, move |p| {
        let (table, aor) = table_and_aor(&st, &p)?;
        f(&st, &table, aor)
    });
}

pub fn register(reg: &Registry, state: &State) {
    let st = state.clone();
    reg.method("ul.dump", "Dump user location tables", move |p| {
        dump(&st, &p)
    });

    on_aor(
        reg,
        state,
        "ul.lookup",
        "Lookup one AOR in the usrloc location table",
        |st, table, aor| {
            let t = now();
            let rec = table
                .snapshot_one(&aor)
                .ok_or_else(|| RpcError::new(500, "AOR not found in location table"))?;
            let synced = st.shared.state::<Usrloc>().cfg.db.is_some();
            let contacts: Vec<Value> = rec.valid(t).map(|b| contact(b, t, synced)).collect();
            if contacts.is_empty() {
                return Err(RpcError::new(500, "AOR has no contacts"));
            }
            let mut o = Map::new();
            o.insert("AoR".into(), Value::from(aor));
            o.insert("Contacts".into(), Value::Array(contacts));
            Ok(Value::Object(o))
        },
    );

    let st = state.clone();
    reg.method(
        "ul.rm_contact",
        "Delete a contact from an AOR record",
        move |p| {
            let short = || RpcError::new(500, "Not enough parameters (table, AOR and contact)");
            let contact = p.opt_str(2, "contact")?.ok_or_else(short)?;
            let (table, aor) = table_and_aor(&st, &p).map_err(|e| {
                if e.message.starts_with("Not enough") {
                    short()
                } else {
                    e
                }
            })?;
            let mut l = table.lock(&aor);
            let mut rec = l
                .get(&aor)
                .cloned()
                .ok_or_else(|| RpcError::new(404, "AOR not found"))?;
            let n = rec.bindings.len();
            rec.bindings.retain(|b| b.contact != contact);
            if rec.bindings.len() == n {
                return Err(RpcError::new(404, "Contact not found"));
            }
            l.put(rec);
            Ok(Value::Null)
        },
    );

    on_aor(
        reg,
        state,
        "ul.rm",
        "Delete an address of record including its contacts",
        |_, table, aor| {
            table.remove(&aor);
            Ok(Value::Null)
        },
    );
}
