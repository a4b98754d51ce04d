//! UDP transport: round trips, bursts, per-source ordering, sending from another socket,
//! prompt shutdown, and a throughput print (run with `--release -- --ignored --nocapture`).

use std::collections::{HashMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sipvm_proxy::transport::{
    parse_listen, Config, Handler, ListenSpec, Local, Outbox, Proto, Server,
};

/// Answers every message with itself, from the socket it came in on.
struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        out.reply(src, via, msg);
    }
}

/// Echo that also records which worker saw which source.
struct Tracking {
    worker: usize,
    seen: Arc<Mutex<HashMap<SocketAddr, HashSet<usize>>>>,
    count: Arc<Vec<AtomicU64>>,
}

impl Handler for Tracking {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        self.seen
            .lock()
            .unwrap()
            .entry(src)
            .or_default()
            .insert(self.worker);
        self.count[self.worker].fetch_add(1, Ordering::Relaxed);
        out.reply(src, via, msg);
    }
}

fn udp_spec(addr: &str) -> Vec<ListenSpec> {
    vec![parse_listen(&format!("udp:{addr}")).unwrap()]
}

fn client(server: SocketAddr) -> UdpSocket {
    let bind = if server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let s = UdpSocket::bind(bind).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.connect(server).unwrap();
    s
}

#[test]
fn round_trip_ipv4_and_ipv6() {
    let specs = vec![
        parse_listen("udp:127.0.0.1:0").unwrap(),
        parse_listen("udp:[::1]:0").unwrap(),
    ];
    let server = Server::start(&specs, 2, |_| Echo).unwrap();
    assert_eq!(server.locals().len(), 2);
    for local in server.locals() {
        assert_eq!(local.proto, Proto::Udp);
        assert_ne!(local.addr.port(), 0);
        let c = client(local.addr);
        c.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n").unwrap();
        let mut buf = [0u8; 2048];
        let (n, from) = c.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"OPTIONS sip:x SIP/2.0\r\n\r\n");
        // The reply leaves from the listen address itself.
        assert_eq!(from, local.addr);
    }
    server.shutdown();
}

#[test]
fn large_datagram_round_trip() {
    let server = Server::start(&udp_spec("127.0.0.1:0"), 1, |_| Echo).unwrap();
    let addr = server.locals()[0].addr;
    let c = client(addr);
    let big: Vec<u8> = (0..65507u32).map(|i| (i % 251) as u8).collect();
    c.send(&big).unwrap();
    let mut buf = vec![0u8; 70000];
    let n = c.recv(&mut buf).unwrap();
    assert_eq!(n, big.len());
    assert_eq!(&buf[..n], &big[..]);
    server.shutdown();
}

/// Sends `count` numbered datagrams with at most `window` unanswered; returns the answers
/// in arrival order.
fn numbered_exchange(c: &UdpSocket, tag: &str, count: usize, window: usize) -> Vec<String> {
    let mut got = Vec::with_capacity(count);
    let mut sent = 0;
    let mut buf = [0u8; 2048];
    while got.len() < count {
        while sent < count && sent - got.len() < window {
            c.send(format!("{tag} {sent}").as_bytes()).unwrap();
            sent += 1;
        }
        match c.recv(&mut buf) {
            Ok(n) => got.push(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(e) => panic!("{tag}: after {} answers: {e}", got.len()),
        }
    }
    got
}

#[test]
fn burst_of_10000_with_2_workers_all_answered() {
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let count = Arc::new((0..2).map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
    let server = Server::start(&udp_spec("127.0.0.1:0"), 2, |worker| Tracking {
        worker,
        seen: seen.clone(),
        count: count.clone(),
    })
    .unwrap();
    let addr = server.locals()[0].addr;
    // 16 sources so that, with overwhelming probability, both workers get some.
    let threads: Vec<_> = (0..16)
        .map(|t| {
            std::thread::spawn(move || {
                let c = client(addr);
                // 32 in flight per source: 512 in all, well inside the sockets' default
                // buffers, so a busy machine delays datagrams rather than dropping them.
                let got = numbered_exchange(&c, &format!("s{t}"), 625, 32);
                assert_eq!(got.len(), 625);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let per_worker: Vec<u64> = count.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    println!("messages per worker: {per_worker:?}");
    assert_eq!(per_worker.iter().sum::<u64>(), 10_000);
    assert!(per_worker.iter().all(|&n| n > 0), "{per_worker:?}");
    assert_eq!(server.stats().rx.load(Ordering::Relaxed), 10_000);
    // The counter is bumped after `sendmmsg` returns: the client may have the answer first.
    let t0 = Instant::now();
    while server.stats().tx.load(Ordering::Relaxed) < 10_000
        && t0.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.stats().tx.load(Ordering::Relaxed), 10_000);
    // Every source was handled by exactly one worker.
    for (src, workers) in seen.lock().unwrap().iter() {
        assert_eq!(workers.len(), 1, "{src} went to {workers:?}");
    }
    server.shutdown();
}

#[test]
fn per_source_order_is_kept_with_2_workers() {
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let count = Arc::new((0..2).map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
    let server = Server::start(&udp_spec("127.0.0.1:0"), 2, |worker| Tracking {
        worker,
        seen: seen.clone(),
        count: count.clone(),
    })
    .unwrap();
    let addr = server.locals()[0].addr;
    // Two sources at once, so both workers are busy.
    let threads: Vec<_> = (0..2)
        .map(|t| {
            std::thread::spawn(move || {
                let c = client(addr);
                let got = numbered_exchange(&c, "n", 1000, 100);
                let expected: Vec<String> = (0..1000).map(|i| format!("n {i}")).collect();
                assert!(got == expected, "source {t}: answers out of order");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for (src, workers) in seen.lock().unwrap().iter() {
        assert_eq!(workers.len(), 1, "{src} went to {workers:?}");
    }
    server.shutdown();
}

/// Forwards everything that arrives on socket 0 to a fixed destination over socket 1.
struct Forward {
    to: SocketAddr,
}

impl Handler for Forward {
    fn on_message(&mut self, msg: Bytes, _src: SocketAddr, via: &Local, out: &mut Outbox) {
        if via.index == 0 {
            out.send(self.to, Proto::Udp, msg, Some(1));
        }
    }
}

#[test]
fn send_to_another_destination_from_another_socket() {
    let target = UdpSocket::bind("127.0.0.1:0").unwrap();
    target
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let to = target.local_addr().unwrap();
    let specs = vec![
        parse_listen("udp:127.0.0.1:0").unwrap(),
        parse_listen("udp:127.0.0.1:0").unwrap(),
    ];
    let server = Server::start(&specs, 2, |_| Forward { to }).unwrap();
    let (a, b) = (server.locals()[0].addr, server.locals()[1].addr);
    let c = client(a);
    c.send(b"hello").unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = target.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(from, b, "sent from socket 1");
    server.shutdown();
}

#[test]
fn sender_works_outside_workers() {
    let server = Server::start(&udp_spec("127.0.0.1:0"), 1, |_| Echo).unwrap();
    let target = UdpSocket::bind("127.0.0.1:0").unwrap();
    target
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut out = Outbox::new();
    out.send(
        target.local_addr().unwrap(),
        Proto::Udp,
        Bytes::from_static(b"tick"),
        None,
    );
    // No socket of this family: dropped and counted, the rest still goes.
    out.send(
        "[::1]:9".parse().unwrap(),
        Proto::Udp,
        Bytes::from_static(b"x"),
        None,
    );
    server.sender().flush(&mut out);
    assert!(out.is_empty());
    let mut buf = [0u8; 16];
    let (n, from) = target.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"tick");
    assert_eq!(from, server.locals()[0].addr);
    assert_eq!(server.stats().tx_errors.load(Ordering::Relaxed), 1);
    server.shutdown();
}

#[test]
fn address_in_use_is_an_error() {
    let server = Server::start(&udp_spec("127.0.0.1:0"), 2, |_| Echo).unwrap();
    let taken = server.locals()[0].addr;
    let again = Server::start(&[ListenSpec::new(Some(Proto::Udp), taken)], 2, |_| Echo);
    assert!(
        again.is_err(),
        "a second server must not share the port silently"
    );
    server.shutdown();
}

#[test]
fn unsupported_protocol_is_refused_at_bind() {
    let spec = parse_listen("tls:127.0.0.1:0").unwrap();
    assert!(Server::start(&[spec], 1, |_| Echo).is_err());
}

/// Panics on `boom`, echoes everything else.
struct Fragile;

impl Handler for Fragile {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        assert!(&msg[..] != b"boom", "handler bug");
        out.reply(src, via, msg);
    }
}

#[test]
fn a_panicking_handler_does_not_kill_its_worker() {
    let server = Server::start(&udp_spec("127.0.0.1:0"), 1, |_| Fragile).unwrap();
    let c = client(server.locals()[0].addr);
    c.send(b"boom").unwrap();
    c.send(b"fine").unwrap();
    let mut buf = [0u8; 16];
    let n = c.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"fine");
    assert_eq!(server.stats().handler_panics.load(Ordering::Relaxed), 1);
    server.shutdown();
}

/// A handler that counts ticks.
struct Ticks(Arc<AtomicU64>);

impl Handler for Ticks {
    fn on_message(&mut self, _: Bytes, _: SocketAddr, _: &Local, _: &mut Outbox) {}
    fn on_tick(&mut self, _: &mut Outbox) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn shutdown_is_prompt_and_ticks_run() {
    let ticks = Arc::new(AtomicU64::new(0));
    let specs = vec![parse_listen("127.0.0.1:0").unwrap()]; // udp and tcp
    let server = Server::start(&specs, 4, |_| Ticks(ticks.clone())).unwrap();
    assert_eq!(server.locals().len(), 2);
    assert_eq!(
        server.locals()[0].addr,
        server.locals()[1].addr,
        "same port for both"
    );
    std::thread::sleep(Duration::from_millis(350));
    let t0 = Instant::now();
    server.shutdown();
    let took = t0.elapsed();
    println!("shutdown took {took:?}");
    assert!(took < Duration::from_millis(250), "shutdown took {took:?}");
    // 8 workers (4 UDP, 4 TCP readers) x ~3 ticks each.
    assert!(
        ticks.load(Ordering::Relaxed) >= 8,
        "ticks: {}",
        ticks.load(Ordering::Relaxed)
    );
}

/// Echo throughput: 4 client threads in this process, each with one socket sending windows of
/// 32 datagrams. Prints replies/s; asserts nothing. (For server-only CPU figures use
/// `echo_server_for_sipload` with `sipload --server-pid`.)
#[test]
#[ignore = "throughput print; run with --release -- --ignored --nocapture"]
fn echo_throughput() {
    let children: usize = std::env::var("SIPVM_CHILDREN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let secs: u64 = std::env::var("SIPVM_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let config = Config {
        children,
        ..Config::default()
    };
    let server = Server::start_with(&udp_spec("127.0.0.1:0"), config, |_| Echo).unwrap();
    let addr = server.locals()[0].addr;
    let msg: Vec<u8> = {
        let mut m = b"OPTIONS sip:bench@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-1\r\n".to_vec();
        m.extend_from_slice(b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x@y\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
        m
    };
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (stop, total, msg) = (stop.clone(), total.clone(), msg.clone());
            std::thread::spawn(move || {
                // Blocking client: send a window of 32, then collect the answers.
                let c = client(addr);
                c.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let mut buf = [0u8; 2048];
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..32 {
                        c.send(&msg).unwrap();
                    }
                    for _ in 0..32 {
                        if c.recv(&mut buf).is_err() {
                            break; // lost: start a new window
                        }
                        n += 1;
                    }
                }
                total.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let el = t0.elapsed().as_secs_f64();
    let cpu = process_cpu() - cpu0;
    let n = total.load(Ordering::Relaxed);
    println!(
        "udp echo, {children} workers: {n} replies in {el:.2}s = {:.0} replies/s (process CPU incl. client {cpu:.2}s); server rx {} tx {}",
        n as f64 / el,
        server.stats().rx.load(Ordering::Relaxed),
        server.stats().tx.load(Ordering::Relaxed)
    );
    server.shutdown();
}

/// User+system CPU seconds of this process.
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Answers each request with a `200 OK` made of its Via/From/To/Call-ID/CSeq lines: the same
/// "parses nothing" reply as `sipload --echo-server`, so the two can be compared.
struct Ok200 {
    arena: bytes::BytesMut,
}

impl Handler for Ok200 {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        if msg.starts_with(b"SIP/") || msg.starts_with(b"ACK ") || msg.is_empty() {
            return;
        }
        let a = &mut self.arena;
        a.reserve(msg.len() + 64);
        a.extend_from_slice(b"SIP/2.0 200 OK\r\n");
        for line in msg.split(|&b| b == b'\n').skip(1) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&c| c == b':') else {
                continue;
            };
            let name = line[..colon].trim_ascii();
            let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
            if is(b"via")
                || is(b"v")
                || is(b"from")
                || is(b"f")
                || is(b"call-id")
                || is(b"i")
                || is(b"cseq")
            {
                a.extend_from_slice(line);
                a.extend_from_slice(b"\r\n");
            } else if is(b"to") || is(b"t") {
                a.extend_from_slice(line);
                if !line.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag=")) {
                    a.extend_from_slice(b";tag=sipvm-echo");
                }
                a.extend_from_slice(b"\r\n");
            }
        }
        a.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        out.reply(src, via, a.split().freeze());
    }
}

/// A server for `sipload` (benches): `SIPVM_ECHO_ADDR` (default 127.0.0.1:5090),
/// `SIPVM_CHILDREN` (2), `SIPVM_SECS` (10). Prints its pid for `sipload --server-pid`.
#[test]
#[ignore = "benchmark server; run with --release -- --ignored --nocapture echo_server_for_sipload"]
fn echo_server_for_sipload() {
    let addr = std::env::var("SIPVM_ECHO_ADDR").unwrap_or_else(|_| "127.0.0.1:5090".into());
    let children: usize = std::env::var("SIPVM_CHILDREN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let secs: u64 = std::env::var("SIPVM_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let server = Server::start(&udp_spec(&addr), children, |_| Ok200 {
        arena: bytes::BytesMut::with_capacity(64 * 1024),
    })
    .unwrap();
    println!(
        "pid {} listening on {} with {children} workers",
        std::process::id(),
        server.locals()[0].addr
    );
    std::thread::sleep(Duration::from_secs(secs));
    let s = server.stats();
    println!(
        "rx {} tx {} tx_errors {}",
        s.rx.load(Ordering::Relaxed),
        s.tx.load(Ordering::Relaxed),
        s.tx_errors.load(Ordering::Relaxed)
    );
    server.shutdown();
}
