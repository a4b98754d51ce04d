//! dispatcher end to end, with the real binary on loopback: a stateless variant of
//! 11-dispatcher-failover.cfg (`ds_select_dst` + `forward()`) over UDP callees; round robin,
//! OPTIONS probing taking a stopped callee down and a restarted one up, `dispatcher.reload`
//! under load, malformed lists refused. RPC output against Kamailio's: e2e_dispatcher_rpc.rs;
//! with sipp: e2e_dispatcher_sipp.rs.

mod common;
mod dispatcher_common;
use common::*;
use dispatcher_common::*;
use sipvm_rpc::Value;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn round_robin_splits_evenly() {
    let (a, b, c) = (Callee::start(0), Callee::start(0), Callee::start(0));
    let s = start(&set1(&[&a, &b, &c]), "");
    let phone = Peer::new();
    send_requests(&phone, s.server.addr, "rr", 300);
    assert!(
        wait_for(Duration::from_secs(10), || total(&[&a, &b, &c]) == 300),
        "{} of 300 arrived\n{}",
        total(&[&a, &b, &c]),
        s.server.log_text()
    );
    // One counter per set, shared by both workers: an exact split.
    assert_eq!((a.count(), b.count(), c.count()), (100, 100, 100));
    phone.expect_nothing(Duration::from_millis(200), "no 503");
}

#[test]
fn no_active_destination_answers_503() {
    let a = Callee::start(0);
    let s = start(&set1(&[&a]), "");
    rpc(
        &s.url,
        "dispatcher.set_state",
        vec!["i".into(), 1.into(), a.uri().into()],
    )
    .unwrap();
    let phone = Peer::new();
    let reply = ask(
        &s.server,
        &phone,
        &phone.request("MESSAGE", "sip:bob@x", "none-1", ""),
    );
    assert_eq!(status(&reply), Some(503));
    rpc(
        &s.url,
        "dispatcher.set_state",
        vec!["a".into(), 1.into(), a.uri().into()],
    )
    .unwrap();
    send_requests(&phone, s.server.addr, "back", 5);
    assert!(wait_for(Duration::from_secs(5), || a.count() == 5));
}

#[test]
fn select_domain_mark_and_next_domain() {
    let (a, b) = (Callee::start(0), Callee::start(0));
    // Algorithm 8: the highest priority first (a), b to fail over to.
    let list = format!("1 {} 0 5\n1 {} 0 0\n", a.uri(), b.uri());
    let route = r#"request_route {
    force_rport();
    if (!ds_select_domain("1", "8")) {
        sl_send_reply("503", "No Destination Available");
        exit;
    }
    if ($rm == "INFO") {
        ds_mark_dst("i");
        if (!ds_next_domain()) {
            sl_send_reply("500", "No next");
            exit;
        }
    }
    forward();
}
"#;
    let s = start_with(&list, "", route);
    let phone = Peer::new();
    phone.send(
        s.server.addr,
        &phone.request("MESSAGE", "sip:bob@example.test", "d-1", ""),
    );
    assert!(wait_for(Duration::from_secs(5), || a.count() == 1));
    assert_eq!(
        a.lines.lock().unwrap()[0],
        format!("MESSAGE sip:bob@127.0.0.1:{} SIP/2.0", a.port)
    );
    // INFO: a is marked inactive and the request goes on to b.
    phone.send(
        s.server.addr,
        &phone.request("INFO", "sip:bob@example.test", "d-2", ""),
    );
    assert!(wait_for(Duration::from_secs(5), || b.count() == 1));
    assert_eq!(
        b.lines.lock().unwrap()[0],
        format!("INFO sip:bob@127.0.0.1:{} SIP/2.0", b.port)
    );
    assert_eq!(flags(&s.url, &a.uri()).as_deref(), Some("IX"));
    // a is skipped now.
    phone.send(
        s.server.addr,
        &phone.request("MESSAGE", "sip:bob@example.test", "d-3", ""),
    );
    assert!(wait_for(Duration::from_secs(5), || b.count() == 2));
    // With b the only one left, INFO has no next destination.
    let reply = ask(
        &s.server,
        &phone,
        &phone.request("INFO", "sip:bob@x", "d-4", ""),
    );
    assert_eq!(status(&reply), Some(500));
    assert_eq!(a.count(), 1);
}

#[test]
fn relative_list_file_is_read_beside_the_config() {
    let dir = Scratch::new();
    let conf = dir.path().join("conf");
    std::fs::create_dir(&conf).unwrap();
    let a = Callee::start(0);
    write_list(&conf.join("dispatcher.list"), &set1(&[&a]));
    let rpc_port = free_port();
    let port = free_port();
    let text = cfg(Path::new("dispatcher.list"), rpc_port, "")
        .replace("127.0.0.1:5060", &format!("127.0.0.1:{port}"));
    std::fs::write(conf.join("k.cfg"), text).unwrap();
    // Run from the scratch folder, where no dispatcher.list is.
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipvm"));
    c.args(["run", "-f", "conf/k.cfg"])
        .env("SIPVM_LOOPBACK_ONLY", "1");
    let mut run = Bounded::spawn(c, dir.path(), "run");
    let url = format!("http://127.0.0.1:{rpc_port}/RPC");
    assert!(
        wait_for(Duration::from_secs(10), || flags(&url, &a.uri()).is_some()),
        "{}",
        run.output()
    );
    let phone = Peer::new();
    send_requests(&phone, ([127, 0, 0, 1], port).into(), "rel", 3);
    assert!(wait_for(Duration::from_secs(5), || a.count() == 3));
    assert_eq!(run.wait(Duration::ZERO), None, "still running until killed");
}

#[test]
fn sets_and_state_survive_route_reload() {
    let (a, b) = (Callee::start(0), Callee::start(0));
    let s = start(&set1(&[&a, &b]), "");
    rpc(
        &s.url,
        "dispatcher.set_state",
        vec!["ip".into(), 1.into(), b.uri().into()],
    )
    .unwrap();
    let before = rpc(&s.url, "dispatcher.list", vec![]).unwrap();
    // A new script: algorithm 8 instead of round robin.
    let path = s.server.cfg_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("ds_select_dst(\"1\", \"4\")", "ds_select_dst(\"1\", \"8\")"),
    )
    .unwrap();
    let r = rpc(&s.url, "route.reload", vec![]).unwrap();
    assert_eq!(r["generation"], 2, "{r}");
    assert_eq!(rpc(&s.url, "dispatcher.list", vec![]).unwrap(), before);
    let phone = Peer::new();
    send_requests(&phone, s.server.addr, "rl", 10);
    assert!(wait_for(Duration::from_secs(5), || a.count() == 10));
    assert_eq!(b.count(), 0);
}

#[test]
fn probing_takes_a_stopped_callee_down_and_a_restarted_one_up() {
    let (a, b) = (Callee::start(0), Callee::start(0));
    let (ua, ub) = (a.uri(), b.uri());
    let began = Instant::now();
    let s = start(
        &set1(&[&a, &b]),
        "modparam(\"dispatcher\", \"ds_ping_interval\", 1)\n\
         modparam(\"dispatcher\", \"ds_probing_mode\", 1)\n\
         modparam(\"tm\", \"fr_timer\", 1000)\n",
    );
    let up = |u: &str| flags(&s.url, u).as_deref() == Some("AP");
    assert!(
        wait_for(Duration::from_secs(6), || up(&ua) && up(&ub)),
        "{:?} {:?}\n{}",
        flags(&s.url, &ua),
        flags(&s.url, &ub),
        s.server.log_text()
    );
    assert!(a.probes.load(Ordering::Relaxed) >= 1);
    let port_b = b.stop();
    assert!(
        wait_for(Duration::from_secs(8), || flags(&s.url, &ub).as_deref()
            == Some("IP")),
        "{:?}\n{}",
        flags(&s.url, &ub),
        s.server.log_text()
    );
    let phone = Peer::new();
    send_requests(&phone, s.server.addr, "down", 20);
    assert!(wait_for(Duration::from_secs(5), || a.count() == 20));
    let b = Callee::start(port_b);
    // A probe sent just before the restart times out up to fr_timer (1 s) later and takes
    // b down again (as in Kamailio): up, then still up after that.
    for _ in 0..2 {
        assert!(
            wait_for(Duration::from_secs(8), || up(&ub)),
            "{:?}\n{}",
            flags(&s.url, &ub),
            s.server.log_text()
        );
        std::thread::sleep(Duration::from_millis(1200));
    }
    send_requests(&phone, s.server.addr, "up", 20);
    assert!(
        wait_for(Duration::from_secs(5), || a.count() + b.count() == 40),
        "{} {}",
        a.count(),
        b.count()
    );
    assert_eq!(b.count(), 10, "round robin again over both");
    // One worker probes per interval (1 s), not each of the two.
    let probes = a.probes.load(Ordering::Relaxed) as u64;
    let secs = began.elapsed().as_secs();
    assert!(probes <= secs + 1, "{probes} probes in {secs} s");
}

#[test]
fn reload_under_load_loses_nothing() {
    let (a, b, c) = (Callee::start(0), Callee::start(0), Callee::start(0));
    let s = start(&set1(&[&a, &b]), "");
    let phone = Arc::new(Peer::new());
    let (p, to) = (phone.clone(), s.server.addr);
    let sent = Arc::new(AtomicUsize::new(0));
    let n = sent.clone();
    const N: usize = 3000;
    let load = std::thread::spawn(move || {
        for i in 0..N {
            p.send(
                to,
                &p.request("MESSAGE", "sip:bob@x", &format!("load-{i}"), ""),
            );
            n.store(i + 1, Ordering::Relaxed);
            if i % 10 == 9 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    });
    assert!(wait_for(Duration::from_secs(10), || sent
        .load(Ordering::Relaxed)
        > N / 3));
    write_list(&s.list, &set1(&[&b, &c]));
    let r = rpc(&s.url, "dispatcher.reload", vec![]);
    assert_eq!(r, Ok(Value::from("Ok. Dispatcher successfully reloaded.")));
    // Every request sent after the reload answered is routed with the new list.
    let sent_at_reload = sent.load(Ordering::Relaxed);
    assert!(sent_at_reload < N, "the reload came after the load");
    load.join().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || total(&[&a, &b, &c]) == N),
        "{} + {} + {} of {N} arrived",
        a.count(),
        b.count(),
        c.count()
    );
    assert!(c.count() > 0 && a.count() > 0);
    // Only what was sent before the swap went to the removed destination.
    let last_at_a = a
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|c| c.strip_prefix("load-")?.parse::<usize>().ok())
        .max()
        .unwrap();
    assert!(
        last_at_a <= sent_at_reload,
        "load-{last_at_a} after {sent_at_reload} sent"
    );
    let mut all: Vec<String> = [&a, &b, &c]
        .iter()
        .flat_map(|x| x.seen.lock().unwrap().clone())
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), N, "every request once");
    phone.expect_nothing(Duration::from_millis(200), "no 503 during the reload");
}

#[test]
fn malformed_list_is_refused_and_the_old_one_kept() {
    let (a, b) = (Callee::start(0), Callee::start(0));
    let s = start(&set1(&[&a, &b]), "");
    let before = rpc(&s.url, "dispatcher.list", vec![]).unwrap();
    write_list(
        &s.list,
        &format!("# new\n1 {} 0 0\nx sip:127.0.0.1:9 0 0\n", b.uri()),
    );
    let e = rpc(&s.url, "dispatcher.reload", vec![]).unwrap_err();
    assert_eq!(e.code, 500);
    let want = format!("Reload Failed ({}:3: bad set id \"x\")", s.list.display());
    assert_eq!(e.message, want);
    assert_eq!(rpc(&s.url, "dispatcher.list", vec![]).unwrap(), before);
    let phone = Peer::new();
    send_requests(&phone, s.server.addr, "kept", 10);
    assert!(wait_for(Duration::from_secs(5), || a.count() == 5 && b.count() == 5));
    // A file that cannot be read is refused as well.
    std::fs::remove_file(&s.list).unwrap();
    let e = rpc(&s.url, "dispatcher.reload", vec![]).unwrap_err();
    assert!(
        e.message.starts_with("Reload Failed (cannot read "),
        "{}",
        e.message
    );
    assert_eq!(rpc(&s.url, "dispatcher.list", vec![]).unwrap(), before);
}

#[test]
fn malformed_list_at_start_is_refused() {
    let dir = Scratch::new();
    let list = dir.path().join("d.list");
    write_list(&list, "1 sip:127.0.0.1:5090\n1 sip:127.0.0.1:5091 zz\n");
    let cfg_file = dir.path().join("k.cfg");
    std::fs::write(&cfg_file, cfg(&list, free_port(), "")).unwrap();
    let mut run = Bounded::spawn(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_sipvm"));
            c.args(["run", "-f"]).arg(&cfg_file);
            c
        },
        dir.path(),
        "run",
    );
    let st = run
        .wait(Duration::from_secs(10))
        .expect("sipvm should exit");
    assert!(!st.success());
    let want = format!("{}:2: bad flags \"zz\"", list.display());
    assert!(run.output().contains(&want), "{}", run.output());
}
