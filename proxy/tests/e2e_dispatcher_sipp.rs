//! dispatcher with sipp callees: a stateless round robin over three sipp servers splitting
//! sipp's calls evenly, and (waiting for tm) 11-dispatcher-failover.cfg with one callee
//! stopped.

mod common;
mod dispatcher_common;
use common::*;
use dispatcher_common::{flags, write_list};

use std::process::Command;
use std::time::{Duration, Instant};

/// sipp on loopback for these tests (see `common::sipp_command`).
fn sipp(args: &[&str]) -> Command {
    sipp_command(args, "60s")
}

/// Three free callee ports, listed as set 1 in `dir`/dispatcher.list.
fn three_callees(dir: &Scratch) -> ([u16; 3], std::path::PathBuf) {
    let ports = [free_port(), free_port(), free_port()];
    let list = dir.path().join("dispatcher.list");
    let text: String = ports
        .iter()
        .map(|p| format!("1 sip:127.0.0.1:{p} 0 0\n"))
        .collect();
    write_list(&list, &text);
    (ports, list)
}

#[test]
fn round_robin_splits_sipp_calls_evenly() {
    require_sipp();
    const EACH: usize = 100;
    let dir = Scratch::new();
    let (ports, list) = three_callees(&dir);
    let cfg = format!(
        r#"listen=udp:127.0.0.1:5060
children=2
loadmodule "sl.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "{}")
modparam("dispatcher", "flags", 2)
request_route {{
    force_rport();
    if (!ds_select_dst("1", "4")) {{
        sl_send_reply("503", "No Destination Available");
        exit;
    }}
    forward();
}}
"#,
        list.display()
    );
    let server = Sipvm::start(&cfg, &[]);
    let uas_sf = sipp_scenario(dir.path(), "message-uas.xml");
    let uac_sf = sipp_scenario(dir.path(), "message-uac.xml");
    let each = EACH.to_string();
    let mut callees: Vec<Bounded> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let port = p.to_string();
            Bounded::spawn(
                sipp(&["-sf", &uas_sf, "-p", &port, "-m", &each]),
                dir.path(),
                &format!("uas{i}"),
            )
        })
        .collect();
    for p in ports {
        assert!(wait_udp_bound(p, Duration::from_secs(5)), "sipp uas on {p}");
    }
    let target = format!("127.0.0.1:{}", server.port);
    let uac_port = free_port().to_string();
    let total = (3 * EACH).to_string();
    let mut uac = Bounded::spawn(
        sipp(&[
            "-sf", &uac_sf, &target, "-p", &uac_port, "-m", &total, "-r", "100",
        ]),
        dir.path(),
        "uac",
    );
    let st = uac
        .wait(Duration::from_secs(75))
        .expect("sipp uac finished");
    let ev = || format!("{}\n{}", uac.output(), server.log_text());
    assert!(st.success(), "sipp uac: {st}\n{}", ev());
    assert_eq!(
        sipp_totals(&uac.output()),
        (Some(3 * EACH as u64), Some(0)),
        "{}",
        ev()
    );
    // Each callee stops after its share: all three end with exactly EACH calls.
    for (i, c) in callees.iter_mut().enumerate() {
        let st = c.wait(Duration::from_secs(10)).expect("sipp uas finished");
        assert!(st.success(), "uas{i}: {st}\n{}", c.output());
        assert_eq!(
            sipp_totals(&c.output()),
            (Some(EACH as u64), Some(0)),
            "uas{i}"
        );
    }
}

/// 11-dispatcher-failover.cfg as shipped: t_relay with failure_route over three sipp callees,
/// one of them stopped. Checks that every call succeeds (the stopped callee's calls fail over
/// within fr_timer to the next destination), that round robin spreads the calls over the two
/// running callees, and that `ds_mark_dst("ip")` shows the stopped one inactive.
#[test]
fn example_failover_with_tm_and_sipp() {
    require_sipp();
    let dir = Scratch::new();
    let (ports, list) = three_callees(&dir);
    let rpc_port = free_port();
    let server = Sipvm::example(
        "11-dispatcher-failover.cfg",
        &[
            ("\"dispatcher.list\"", format!("\"{}\"", list.display())),
            (
                "children=2",
                format!("children=2\nrpc_listen=\"127.0.0.1:{rpc_port}\""),
            ),
        ],
    );
    let url = format!("http://127.0.0.1:{rpc_port}/RPC");
    // Callees that mirror Record-Route and a caller that sends ACK and BYE along the route
    // set (11 answers in-dialog requests without a Route with 404). The third callee is never
    // started.
    for f in ["callee-rr.xml", "caller-rr.xml"] {
        sipp_scenario(dir.path(), f);
    }
    let (p0, p1) = (ports[0].to_string(), ports[1].to_string());
    let _uas0 = Bounded::spawn(
        sipp(&["-sf", "callee-rr.xml", "-p", &p0]),
        dir.path(),
        "uas0",
    );
    let _uas1 = Bounded::spawn(
        sipp(&["-sf", "callee-rr.xml", "-p", &p1]),
        dir.path(),
        "uas1",
    );
    assert!(wait_udp_bound(ports[0], Duration::from_secs(5)));
    assert!(wait_udp_bound(ports[1], Duration::from_secs(5)));
    let target = format!("127.0.0.1:{}", server.port);
    let uac_port = free_port().to_string();
    let started = Instant::now();
    let mut uac = Bounded::spawn(
        sipp(&[
            "-sf",
            "caller-rr.xml",
            &target,
            "-p",
            &uac_port,
            "-m",
            "30",
            "-r",
            "10",
        ]),
        dir.path(),
        "uac",
    );
    let st = uac.wait(Duration::from_secs(60)).expect("uac finished");
    assert!(st.success(), "{}\n{}", uac.output(), server.log_text());
    // 30 calls at 10/s, at most one 2 s fr_timer wait before the callee is marked inactive.
    assert!(started.elapsed() < Duration::from_secs(12));
    let stopped = format!("sip:127.0.0.1:{}", ports[2]);
    assert_eq!(flags(&url, &stopped).as_deref(), Some("IP"));
}
