//! TCP transport: stream framing, keep-alives, limits, outgoing connections, shutdown.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sipvm_proxy::transport::{parse_listen, Config, Handler, Local, Outbox, Proto, Server};

/// Answers every framed message with itself, on the same connection.
struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        out.reply(src, via, msg);
    }
}

fn start(config: Config) -> (Server, SocketAddr) {
    let specs = vec![parse_listen("tcp:127.0.0.1:0").unwrap()];
    let server = Server::start_with(&specs, config, |_| Echo).unwrap();
    let addr = server.local(Proto::Tcp).unwrap().addr;
    (server, addr)
}

fn small() -> Config {
    Config {
        children: 2,
        ..Config::default()
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn read_exact_len(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

/// True when the server closed the connection (EOF or reset) within the read timeout.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn msg(body: &str) -> String {
    format!(
        "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn two_messages_in_one_write() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    let (a, b) = (msg("first"), msg("second!"));
    c.write_all(format!("{a}{b}").as_bytes()).unwrap();
    let got = read_exact_len(&mut c, a.len() + b.len());
    assert_eq!(got, format!("{a}{b}").as_bytes());
    assert_eq!(server.stats().rx.load(Ordering::Relaxed), 2);
    server.shutdown();
}

#[test]
fn one_message_over_many_writes() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    let m = msg("a body split byte by byte");
    for chunk in m.as_bytes().chunks(3) {
        c.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let got = read_exact_len(&mut c, m.len());
    assert_eq!(got, m.as_bytes());
    assert_eq!(server.stats().rx.load(Ordering::Relaxed), 1);
    server.shutdown();
}

#[test]
fn keepalive_ping_gets_pong() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    c.write_all(b"\r\n\r\n").unwrap();
    assert_eq!(read_exact_len(&mut c, 2), b"\r\n");
    // A pong from the peer (lone CRLF) before a message is skipped.
    let m = msg("after");
    c.write_all(format!("\r\n{m}").as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, m.len()), m.as_bytes());
    assert_eq!(server.stats().tcp_pings.load(Ordering::Relaxed), 1);
    server.shutdown();
}

#[test]
fn missing_content_length_means_no_body() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    let a = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1\r\n\r\n";
    let b = msg("x");
    c.write_all(format!("{a}{b}").as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, a.len()), a.as_bytes());
    assert_eq!(read_exact_len(&mut c, b.len()), b.as_bytes());
    server.shutdown();
}

#[test]
fn compact_content_length() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    let a = "MESSAGE sip:a@b SIP/2.0\r\nl: 4\r\n\r\nbody";
    c.write_all(a.as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, a.len()), a.as_bytes());
    server.shutdown();
}

#[test]
fn oversized_message_drops_the_connection() {
    let (server, addr) = start(small());
    // Announced too large.
    let mut c = connect(addr);
    c.write_all(b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n")
        .unwrap();
    assert!(closed_by_server(&mut c));
    // Headers that never end within the limit.
    let mut c = connect(addr);
    let junk = vec![b'a'; 70_000];
    let _ = c.write_all(&junk);
    assert!(closed_by_server(&mut c));
    assert_eq!(server.stats().tcp_framing_errors.load(Ordering::Relaxed), 2);
    // The server still serves others.
    let mut c = connect(addr);
    let m = msg("still here");
    c.write_all(m.as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, m.len()), m.as_bytes());
    server.shutdown();
}

#[test]
fn malformed_content_length_drops_the_connection() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    c.write_all(b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: ten\r\n\r\n")
        .unwrap();
    assert!(closed_by_server(&mut c));
    server.shutdown();
}

#[test]
fn large_message_within_the_limit() {
    let (server, addr) = start(small());
    let mut c = connect(addr);
    let m = msg(&"z".repeat(60_000));
    c.write_all(m.as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, m.len()), m.as_bytes());
    server.shutdown();
}

#[test]
fn connections_are_counted_and_released() {
    let (server, addr) = start(small());
    let clients: Vec<TcpStream> = (0..5).map(|_| connect(addr)).collect();
    wait_until(|| server.tcp_connections() == 5);
    for c in &clients {
        c.shutdown(Shutdown::Both).unwrap();
    }
    drop(clients);
    wait_until(|| server.tcp_connections() == 0);
    assert_eq!(server.stats().tcp_accepted.load(Ordering::Relaxed), 5);
    server.shutdown();
}

#[test]
fn idle_connections_are_closed() {
    let config = Config {
        tcp_lifetime: Duration::from_millis(200),
        ..small()
    };
    let (server, addr) = start(config);
    let mut c = connect(addr);
    c.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    assert!(closed_by_server(&mut c));
    server.shutdown();
}

#[test]
fn connection_limit() {
    let config = Config {
        tcp_max_connections: 2,
        ..small()
    };
    let (server, addr) = start(config);
    let _a = connect(addr);
    let _b = connect(addr);
    wait_until(|| server.tcp_connections() == 2);
    let mut c = connect(addr);
    assert!(closed_by_server(&mut c));
    assert_eq!(server.stats().tcp_refused.load(Ordering::Relaxed), 1);
    server.shutdown();
}

/// Sends every message from UDP to a TCP destination (connecting), and echoes what comes
/// back over TCP to that same destination.
struct Bridge {
    to: SocketAddr,
}

impl Handler for Bridge {
    fn on_message(&mut self, msg: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        match via.proto {
            Proto::Udp => out.send(self.to, Proto::Tcp, msg, None),
            _ => out.reply(src, via, msg),
        }
    }
}

#[test]
fn outgoing_connection_is_made_and_read() {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let to = target.local_addr().unwrap();
    let specs = vec![parse_listen("127.0.0.1:0").unwrap()]; // udp + tcp
    let server = Server::start(&specs, 2, |_| Bridge { to }).unwrap();
    let udp_addr = server.local(Proto::Udp).unwrap().addr;
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let m = msg("over tcp");
    u.send_to(m.as_bytes(), udp_addr).unwrap();
    let (mut conn, _) = target.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(read_exact_len(&mut conn, m.len()), m.as_bytes());
    // The same connection is reused, and what comes back on it is read.
    u.send_to(m.as_bytes(), udp_addr).unwrap();
    assert_eq!(read_exact_len(&mut conn, m.len()), m.as_bytes());
    let back = msg("back");
    conn.write_all(back.as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut conn, back.len()), back.as_bytes());
    assert_eq!(server.tcp_connections(), 1);
    server.shutdown();
}

#[test]
fn reply_to_a_closed_connection_does_not_connect() {
    let (server, _addr) = start(small());
    let gone: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let local = server.local(Proto::Tcp).unwrap().clone();
    let mut out = Outbox::new();
    out.reply(gone, &local, Bytes::from_static(b"x"));
    server.sender().flush(&mut out);
    assert_eq!(server.stats().tx_errors.load(Ordering::Relaxed), 1);
    assert_eq!(server.tcp_connections(), 0);
    server.shutdown();
}

#[test]
fn shutdown_with_open_connections_is_prompt() {
    let (server, addr) = start(small());
    let _clients: Vec<TcpStream> = (0..4).map(|_| connect(addr)).collect();
    wait_until(|| server.tcp_connections() == 4);
    let t0 = Instant::now();
    server.shutdown();
    let took = t0.elapsed();
    assert!(took < Duration::from_millis(250), "shutdown took {took:?}");
}

#[test]
fn many_messages_on_many_connections() {
    let (server, addr) = start(small());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = connect(addr);
                let mut all = String::new();
                for i in 0..500 {
                    all.push_str(&msg(&format!("conn {t} message {i}")));
                }
                let reader = {
                    let mut r = c.try_clone().unwrap();
                    let n = all.len();
                    std::thread::spawn(move || read_exact_len(&mut r, n))
                };
                for chunk in all.as_bytes().chunks(1000) {
                    c.write_all(chunk).unwrap();
                }
                assert!(reader.join().unwrap() == all.as_bytes());
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(server.stats().rx.load(Ordering::Relaxed), 2000);
    server.shutdown();
}

fn wait_until(cond: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "condition not met in time"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ipv6_round_trip_and_local_fields() {
    let specs =
        vec![parse_listen(r#"tcp:[::1]:0 advertise sip.example.com:5080 name "v6""#).unwrap()];
    let server = Server::start(&specs, 1, |_| Echo).unwrap();
    let local = server.locals()[0].clone();
    assert_eq!(local.proto, Proto::Tcp);
    assert!(local.addr.is_ipv6());
    assert_eq!(local.name.as_deref(), Some("v6"));
    assert_eq!(local.advertise.as_ref().unwrap().host, "sip.example.com");
    assert_eq!(
        local.socket_str(),
        format!("tcp:[::1]:{}", local.addr.port())
    );
    let mut c = connect(local.addr);
    let m = msg("v6");
    c.write_all(m.as_bytes()).unwrap();
    assert_eq!(read_exact_len(&mut c, m.len()), m.as_bytes());
    server.shutdown();
}
