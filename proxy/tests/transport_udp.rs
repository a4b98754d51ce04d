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
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
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
                let got = numbered_exchange(&c, &format!("s{t}"), 625, 200);
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

/// Echo throughput: several client threads, each with a few sockets and a window of
/// outstanding datagrams. Prints replies/s; asserts nothing about speed.
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
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (stop, total, msg) = (stop.clone(), total.clone(), msg.clone());
            std::thread::spawn(move || {
                let socks: Vec<UdpSocket> = (0..4)
                    .map(|_| {
                        let s = client(addr);
                        s.set_nonblocking(true).unwrap();
                        s
                    })
                    .collect();
                let mut outstanding = vec![0usize; socks.len()];
                let mut buf = [0u8; 2048];
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    for (s, o) in socks.iter().zip(outstanding.iter_mut()) {
                        while *o < 32 {
                            if s.send(&msg).is_err() {
                                break;
                            }
                            *o += 1;
                        }
                        while let Ok(_) = s.recv(&mut buf) {
                            *o -= 1;
                            n += 1;
                        }
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
