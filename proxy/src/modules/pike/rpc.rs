//! pike's RPC methods, with Kamailio 5.6's names, parameter and result shape (`pike_rpc.c`):
//! `pike.top [ALL|HOT|WARM]` and its alias `pike.list`.

use super::{Pike, Status};
use crate::host::Server;
use sipvm_rpc::{Params, Registry, RpcError, Value};

/// Which rows: Kamailio looks for `ALL`, then `HOT`, then `WARM` anywhere in the parameter,
/// ignoring case; no parameter is `HOT`.
fn filter(p: &Params) -> Result<(Status, bool), RpcError> {
    let Some(opt) = p.opt_str(0, "filter")? else {
        return Ok((Status::Hot, true));
    };
    let opt = opt.to_ascii_uppercase();
    if opt.contains("ALL") {
        Ok((Status::Ok, false))
    } else if opt.contains("HOT") {
        Ok((Status::Hot, true))
    } else if opt.contains("WARM") {
        Ok((Status::Warm, true))
    } else {
        Err(RpcError::internal("Bad argument. Select: ALL, HOT or WARM"))
    }
}

/// `{max_hits, list: [{ip_addr, leaf_hits_prev, leaf_hits_curr, expires, status}],
/// number_of_rows}`.
pub fn top(pike: &Pike, p: &Params) -> Result<Value, RpcError> {
    let (min, exact) = filter(p)?;
    let rows = pike.table.top(min, exact, pike.now_ms());
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "ip_addr": r.ip.to_string(),
                "leaf_hits_prev": r.leaf_hits_prev,
                "leaf_hits_curr": r.leaf_hits_curr,
                "expires": r.expires,
                "status": r.status.name(),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "max_hits": pike.table.cfg.density,
        "list": list,
        "number_of_rows": rows.len(),
    }))
}

pub fn register(reg: &Registry, server: &Server) {
    if !server.shared.state::<Pike>().enabled {
        return;
    }
    for name in ["pike.top", "pike.list"] {
        let shared = server.shared.clone();
        reg.method(name, "pike.top Dump parts of the pike table", move |p| {
            top(shared.state::<Pike>(), &p)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::pike::Config;

    fn params(v: &[Value]) -> Params {
        Params::new(v.to_vec())
    }

    #[test]
    fn top_shape_and_filters() {
        let pike = Pike::new(
            Config {
                density: 4,
                ..Config::default()
            },
            true,
        );
        for _ in 0..5 {
            pike.check("192.0.2.1".parse().unwrap());
        }
        pike.check("192.0.2.2".parse().unwrap());
        let v = top(&pike, &params(&[])).unwrap();
        assert_eq!(v["max_hits"], 4);
        assert_eq!(v["number_of_rows"], 1);
        let row = &v["list"][0];
        assert_eq!(row["ip_addr"], "192.0.2.1");
        assert_eq!(row["leaf_hits_prev"], 0);
        assert_eq!(row["leaf_hits_curr"], 5);
        assert_eq!(row["status"], "HOT");
        assert!(row["expires"].as_u64().unwrap() >= 118, "{row}");
        let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "ip_addr",
                "leaf_hits_prev",
                "leaf_hits_curr",
                "expires",
                "status"
            ]
        );
        let all = top(&pike, &params(&["all".into()])).unwrap();
        assert_eq!(all["number_of_rows"], 2);
        assert_eq!(all["list"][1]["status"], "WARM", "1 >= 4 >> 2");
        let warm = top(&pike, &params(&["WARM".into()])).unwrap();
        assert_eq!(warm["list"][0]["ip_addr"], "192.0.2.2");
        let hot = top(&pike, &params(&["xHOTx".into()])).unwrap();
        assert_eq!(hot["number_of_rows"], 1);
        let e = top(&pike, &params(&["cold".into()])).unwrap_err();
        assert_eq!(e.message, "Bad argument. Select: ALL, HOT or WARM");
        assert_eq!(e.code, 500);
    }
}
