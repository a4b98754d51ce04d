//! The core send flags on the real binary over TCP: `set_forward_no_connect()` forwards only
//! on an open connection (none is opened), `set_forward_close()` closes the connection once
//! the request is written, `set_reply_close()` closes the caller's connection after the
//! reply; over UDP the flags change nothing.

mod common;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

fn cfg() -> String {
    "listen=udp:127.0.0.1:5060\nlisten=tcp:127.0.0.1:5060\nchildren=1\n\
     loadmodule \"sl.so\"\nloadmodule \"textops.so\"\n\
     request_route {\n\
       if ($hdr(X-T) == \"noconnect\") { set_forward_no_connect(); }\n\
       if ($hdr(X-T) == \"close\") { set_forward_close(); }\n\
       if ($hdr(X-T) == \"replyclose\") { set_reply_close(); }\n\
       if ($hdr(X-T) == \"replyclose\" || $hdr(X-T) == \"reply\") {\n\
         sl_send_reply(\"200\", \"OK\");\n\
         exit;\n\
       }\n\
       forward(\"127.0.0.1\", NEXT);\n\
     }\n"
    .to_string()
}

fn request(t: &str, proto: &str, port: u16) -> Vec<u8> {
    format!(
        "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/{proto} 127.0.0.1:{port};branch=z9hG4bK-{t}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\n\
         Call-ID: sf-{t}\r\nCSeq: 1 OPTIONS\r\nX-T: {t}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn tcp_to(server: &Sipvm) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

/// Reads until the peer closes (true) or the read times out (false); what came is returned.
fn read_until_closed(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// A TCP next hop: the connection sipvm opens to it within `wait`, if any.
fn accept_within(l: &TcpListener, wait: Duration) -> Option<TcpStream> {
    l.set_nonblocking(true).unwrap();
    let end = std::time::Instant::now() + wait;
    while std::time::Instant::now() < end {
        if let Ok((s, _)) = l.accept() {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(800)))
                .unwrap();
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn tcp_forward_and_reply_flags() {
    let next = TcpListener::bind("127.0.0.1:0").unwrap();
    let next_port = next.local_addr().unwrap().port();
    let server = Sipvm::start(&cfg(), &[("NEXT", next_port.to_string())]);

    // No connection to the next hop exists: with the flag none is opened.
    let mut c = tcp_to(&server);
    c.write_all(&request("noconnect", "TCP", 1)).unwrap();
    assert!(
        accept_within(&next, Duration::from_millis(800)).is_none(),
        "set_forward_no_connect() opened a connection"
    );

    // Without it, sipvm connects and the connection stays open.
    c.write_all(&request("connect", "TCP", 1)).unwrap();
    let mut hop = accept_within(&next, Duration::from_secs(2)).expect("sipvm connects");
    let (got, closed) = read_until_closed(&mut hop);
    assert!(String::from_utf8_lossy(&got).contains("X-T: connect"));
    assert!(!closed, "the forward connection stays open");

    // The open connection is reused with no_connect too.
    c.write_all(&request("noconnect", "TCP", 1)).unwrap();
    let (got, _) = read_until_closed(&mut hop);
    assert!(String::from_utf8_lossy(&got).contains("X-T: noconnect"));

    // set_forward_close(): written, then closed by sipvm.
    c.write_all(&request("close", "TCP", 1)).unwrap();
    let (got, closed) = read_until_closed(&mut hop);
    assert!(String::from_utf8_lossy(&got).contains("X-T: close"));
    assert!(closed, "set_forward_close() closes the connection");

    // A reply leaves the caller's connection open; set_reply_close() closes it after.
    c.write_all(&request("reply", "TCP", 1)).unwrap();
    let (got, closed) = read_until_closed(&mut c);
    assert!(String::from_utf8_lossy(&got).starts_with("SIP/2.0 200"));
    assert!(!closed);
    c.write_all(&request("replyclose", "TCP", 1)).unwrap();
    let (got, closed) = read_until_closed(&mut c);
    assert!(
        String::from_utf8_lossy(&got).starts_with("SIP/2.0 200"),
        "{got:?}"
    );
    assert!(closed, "set_reply_close() closes the caller's connection");
}

#[test]
fn udp_ignores_the_flags() {
    let next = Peer::new();
    let server = Sipvm::start(&cfg(), &[("NEXT", next.port.to_string())]);
    let phone = Peer::new();
    for t in ["noconnect", "close"] {
        phone.send(server.addr, &request(t, "UDP", phone.port));
        let (m, _) = next
            .recv(Duration::from_secs(2))
            .expect("forwarded over UDP");
        assert!(String::from_utf8_lossy(&m).contains(&format!("X-T: {t}")));
    }
    phone.send(server.addr, &request("replyclose", "UDP", phone.port));
    let (m, _) = phone.recv(Duration::from_secs(2)).expect("a reply");
    assert_eq!(status(&m), Some(200));
}
