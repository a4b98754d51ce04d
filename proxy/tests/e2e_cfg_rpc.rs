//! cfg_rpc and pv/stats methods against the real binary running shared/examples/13: custom
//! parameters changed over JSON-RPC are seen by the next message; bad calls change nothing.

mod common;
use common::*;
use sipvm_rpc::client;
use sipvm_rpc::Value;
use std::time::Duration;

fn start() -> (Sipvm, String) {
    let rpc = free_port();
    let s = Sipvm::example(
        "13-custom-params.cfg",
        &[(
            "loadmodule \"sl.so\"",
            format!("rpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"sl.so\""),
        )],
    );
    (s, format!("http://127.0.0.1:{rpc}/RPC"))
}

fn call(url: &str, method: &str, params: Vec<Value>) -> Result<Value, (i64, String)> {
    client::call(url, method, params)
        .unwrap()
        .map_err(|e| (e.code, e.message))
}

fn v(s: &str) -> Value {
    Value::from(s)
}

/// Sends a MESSAGE to a number; the status of what comes back within a second, if anything.
fn message(server: &Sipvm, phone: &Peer, id: &str) -> Option<u16> {
    phone.send(
        server.addr,
        &phone.request("MESSAGE", "sip:+4930123@example.test", id, ""),
    );
    phone
        .recv(Duration::from_secs(1))
        .and_then(|(m, _)| status(&m))
}

#[test]
fn custom_params_change_live_and_traffic_sees_them() {
    let (server, url) = start();
    let phone = Peer::new();
    let gw = Peer::new();

    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_ip")]),
        Ok(v("127.0.0.1"))
    );
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_port")]),
        Ok(Value::from(5090))
    );
    let group = call(&url, "cfg.get", vec![v("pstn")]).unwrap();
    let keys: Vec<&String> = group.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["gw_ip", "gw_port", "enabled"]);
    assert_eq!(
        call(&url, "cfg.list", vec![]),
        Ok(serde_json::json!([
            "pstn: gw_ip",
            "pstn: gw_port",
            "pstn: enabled"
        ]))
    );
    assert_eq!(
        call(&url, "cfg.help", vec![v("pstn"), v("gw_ip")]),
        Ok(serde_json::json!([
            "PSTN gateway address",
            "(parameter type is string)"
        ]))
    );

    // Move the gateway to the test peer: gw_port staged, gw_ip at once.
    assert_eq!(
        call(
            &url,
            "cfg.sets",
            vec![v("pstn"), v("gw_ip"), v("127.0.0.1")]
        ),
        Ok(Value::Null)
    );
    assert_eq!(
        call(
            &url,
            "cfg.set_delayed_int",
            vec![v("pstn"), v("gw_port"), Value::from(gw.port)]
        ),
        Ok(Value::Null)
    );
    assert_eq!(
        call(&url, "cfg.diff", vec![]),
        Ok(
            serde_json::json!({"group name": "pstn", "variable name": "gw_port",
            "old value": 5090, "new value": gw.port})
        )
    );
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_port")]),
        Ok(Value::from(5090)),
        "staged, not yet visible"
    );
    assert_eq!(call(&url, "cfg.commit", vec![]), Ok(Value::Null));
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_port")]),
        Ok(Value::from(gw.port))
    );
    assert_eq!(call(&url, "cfg.diff", vec![]), Ok(Value::Null));
    // With the gateway on, the MESSAGE takes the t_relay() branch (not the 404 one; sipvm
    // has no t_relay() yet, so nothing comes back).
    assert_ne!(message(&server, &phone, "cfg-rpc-1"), Some(404));

    // Switch the gateway off: the next MESSAGE to a number is 404.
    assert_eq!(
        call(
            &url,
            "cfg.seti",
            vec![v("pstn"), v("enabled"), Value::from(0)]
        ),
        Ok(Value::Null)
    );
    assert_eq!(message(&server, &phone, "cfg-rpc-2"), Some(404));
    // ... and on again at once
    call(
        &url,
        "cfg.set",
        vec![v("pstn"), v("enabled"), Value::from(1)],
    )
    .unwrap();
    assert_ne!(message(&server, &phone, "cfg-rpc-3"), Some(404));

    // reset: back to the file's values
    assert_eq!(call(&url, "cfg.reset", vec![v("pstn")]), Ok(Value::Null));
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("enabled")]),
        Ok(Value::from(1))
    );
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_port")]),
        Ok(Value::from(5090))
    );

    // staged then rolled back: nothing changes
    call(
        &url,
        "cfg.set_delayed_string",
        vec![v("pstn"), v("gw_ip"), v("10.0.0.1")],
    )
    .unwrap();
    assert_eq!(call(&url, "cfg.rollback", vec![]), Ok(Value::Null));
    assert_eq!(call(&url, "cfg.commit", vec![]), Ok(Value::Null));
    assert_eq!(
        call(&url, "cfg.get", vec![v("pstn"), v("gw_ip")]),
        Ok(v("127.0.0.1"))
    );
}

#[test]
fn bad_or_missing_params_name_the_param_and_change_nothing() {
    let (_server, url) = start();
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "cfg.seti",
            vec![v("pstn"), v("enabled"), v("abc")],
            "'value'",
        ),
        ("cfg.seti", vec![v("pstn"), v("enabled")], "'value'"),
        ("cfg.seti", vec![v("pstn")], "'name'"),
        ("cfg.sets", vec![], "'group'"),
        ("cfg.set", vec![v("pstn"), v("gw_port"), v("x")], "'value'"),
        (
            "cfg.set_now_int",
            vec![v("pstn"), v("nosuch"), Value::from(1)],
            "pstn.nosuch",
        ),
        (
            "cfg.set_delayed_int",
            vec![v("pstn"), v("enabled"), v("1.5")],
            "'value'",
        ),
        ("cfg.get", vec![v("pstn"), v("nosuch")], "pstn.nosuch"),
        ("cfg.help", vec![v("pstn")], "'name'"),
        ("cfg.reset", vec![v("nogroup")], "nogroup"),
        ("pv.shvSet", vec![v("n"), v("int"), v("abc")], "'value'"),
        ("pv.shvSet", vec![v("n"), v("float"), v("1")], "'type'"),
        ("pv.shvSet", vec![v("n")], "'type'"),
        ("stats.get_statistics", vec![], "'statistic'"),
        ("stats.get_statistics", vec![v("sl:nosuch")], "sl:nosuch"),
    ];
    for (m, p, want) in cases {
        let (code, msg) = call(&url, m, p.clone()).unwrap_err();
        assert!(code == 400 || code == 500, "{m} {p:?}: {code}");
        assert!(msg.contains(want), "{m} {p:?}: {msg:?} should name {want}");
    }
    let group = call(&url, "cfg.get", vec![v("pstn")]).unwrap();
    assert_eq!(
        group,
        serde_json::json!({"gw_ip": "127.0.0.1", "gw_port": 5090, "enabled": 1})
    );
    assert_eq!(call(&url, "cfg.diff", vec![]), Ok(Value::Null));
    assert_eq!(
        call(&url, "pv.shvGet", vec![v("n")]),
        Err((404, "Variable not found".to_string()))
    );
}

#[test]
fn shv_ps_info_and_stats() {
    let (server, url) = start();
    assert_eq!(
        call(&url, "pv.shvSet", vec![v("n"), v("int"), Value::from(42)]),
        Ok(v("Ok. Variable set to new value."))
    );
    assert_eq!(
        call(&url, "pv.shvGet", vec![v("n")]),
        Ok(serde_json::json!({"name": "n", "type": "int", "value": 42}))
    );
    call(&url, "pv.shvSet", vec![v("s"), v("str"), v("x y")]).unwrap();
    assert_eq!(
        call(&url, "pv.shvGet", vec![v("s")]),
        Ok(serde_json::json!({"name": "s", "type": "string", "value": "x y"}))
    );
    // Without a name: every variable, as Kamailio lists them.
    assert_eq!(
        call(&url, "pv.shvGet", vec![]),
        Ok(serde_json::json!([
            {"name": "n", "type": "int", "value": 42},
            {"name": "s", "type": "string", "value": "x y"}
        ]))
    );

    let ps = call(&url, "core.ps", vec![]).unwrap();
    let ps = ps.as_array().unwrap();
    assert!(ps.len() >= 2 && ps.len().is_multiple_of(2));
    assert_eq!(ps[0], Value::from(server.pid().unwrap()));
    assert!(ps[1].is_string());
    let psx = call(&url, "core.psx", vec![]).unwrap();
    let first = psx.as_array().map_or(&psx, |a| &a[0]);
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["IDX", "PID", "DSC"]);
    let info = call(&url, "core.info", vec![]).unwrap();
    assert!(info["version"].as_str().unwrap().starts_with("sipvm "));

    // one 404 sent (a MESSAGE to a name, not a number)
    let phone = Peer::new();
    phone.send(
        server.addr,
        &phone.request("MESSAGE", "sip:bob@example.test", "stats-1", ""),
    );
    let (m, _) = phone.recv(Duration::from_secs(2)).unwrap();
    assert_eq!(status(&m), Some(404));
    let sl = call(&url, "sl.stats", vec![]).unwrap();
    let keys: Vec<&String> = sl.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["2xx", "3xx", "4xx", "5xx", "6xx"]);
    assert_eq!(sl["4xx"], Value::from(1));
    assert_eq!(
        call(&url, "stats.get_statistics", vec![v("sl:4xx_replies")]),
        Ok(serde_json::json!(["sl:4xx_replies = 1"]))
    );
    let all = call(&url, "stats.get_statistics", vec![v("sl:")]).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 7);
    assert_eq!(
        call(&url, "stats.fetch", vec![v("core:rcv_requests")]),
        Ok(serde_json::json!({"core.rcv_requests": "1"}))
    );
}
