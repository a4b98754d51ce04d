//! End to end, rr with stateless `forward()`: Record-Route on the initial INVITE (UDP, and
//! UDP in / TCP out with two Record-Routes), then in-dialog requests routed by
//! `loose_route()`: loose and strict next hops, a previous strict router, the double
//! Record-Route pair consumed. Expected bytes are Kamailio 5.6.3's for the same config
//! (`record_route(";e2e=1"); forward();`), captured on loopback with a UDP/TCP peer.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const CFG: &str = r#"
listen=udp:127.0.0.1:5060
listen=tcp:127.0.0.1:5060
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "textops.so"

request_route {
    if (has_totag()) {
        $var(lr) = loose_route();
        append_hf("X-LR: $var(lr) $rdir(name)\r\n");
        append_hf("X-PV: $rdir(id) $fti $tti $route_uri\r\n");
        forward();
        exit;
    }
    if (is_method("INVITE")) {
        record_route(";e2e=1");
    }
    forward();
}
"#;

fn invite(phone: &Peer, ruri: &str) -> Vec<u8> {
    format!(
        "INVITE {ruri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-rr1;rport\r\n\
         From: \"Alice\" <sip:alice@example.com>;tag=a1b2\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: rr1@example.com\r\n\
         CSeq: 1 INVITE\r\n\
         Max-Forwards: 70\r\n\
         Contact: <sip:alice@127.0.0.1:{p}>\r\n\
         Content-Length: 0\r\n\r\n",
        p = phone.port
    )
    .into_bytes()
}

/// An in-dialog request with a To tag; `from_tag` tells the direction.
fn in_dialog(
    method: &str,
    ruri: &str,
    via: &str,
    routes: &str,
    from_tag: &str,
    to_tag: &str,
) -> Vec<u8> {
    format!(
        "{method} {ruri} SIP/2.0\r\n\
         Via: {via};branch=z9hG4bK-{method}-{from_tag}\r\n\
         {routes}From: <sip:x@example.com>;tag={from_tag}\r\n\
         To: <sip:y@example.com>;tag={to_tag}\r\n\
         Call-ID: rr1@example.com\r\n\
         CSeq: 2 {method}\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn record_routes(m: &[u8]) -> Vec<String> {
    header(m, "Record-Route")
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn routes(m: &[u8]) -> Vec<String> {
    header(m, "Route").into_iter().map(str::to_string).collect()
}

#[test]
fn udp_record_route_then_bye_both_ways() {
    let callee = Peer::new();
    let phone = Peer::new();
    let sv = Sipvm::start(CFG, &[]);
    let p = sv.port;

    phone.send(
        sv.addr,
        &invite(&phone, &format!("sip:bob@127.0.0.1:{}", callee.port)),
    );
    let inv = expect_from(&callee, sv.addr, "INVITE at the callee");
    let lines = head_lines(&inv);
    // Kamailio: right after the request line, above its own Via.
    assert_eq!(
        lines[0],
        format!("Record-Route: <sip:127.0.0.1:{p};lr;ftag=a1b2;e2e=1>"),
        "{}",
        text(&inv)
    );
    assert!(lines[1].starts_with(&format!("Via: SIP/2.0/UDP 127.0.0.1:{p};branch=")));
    let rr = record_routes(&inv)[0].clone();

    // The callee hangs up: upstream, to the caller's Contact, our Route consumed.
    let bye = in_dialog(
        "BYE",
        &format!("sip:alice@127.0.0.1:{}", phone.port),
        &format!("SIP/2.0/UDP 127.0.0.1:{}", callee.port),
        &format!("Route: {rr}\r\n"),
        "b-tag",
        "a1b2",
    );
    callee.send(sv.addr, &bye);
    let got = expect_from(&phone, sv.addr, "BYE at the caller");
    assert_eq!(
        start_line(&got),
        format!("BYE sip:alice@127.0.0.1:{} SIP/2.0", phone.port)
    );
    assert!(routes(&got).is_empty(), "{}", text(&got));
    assert_eq!(header(&got, "X-LR"), ["1 upstream"]);
    // Kamailio: `$rdir(id)` 2 upstream; `$fti`/`$tti` the tags of the initial INVITE;
    // `$route_uri` the topmost Route as received.
    let rr_uri = rr.trim_start_matches('<').trim_end_matches('>');
    assert_eq!(header(&got, "X-PV"), [format!("2 a1b2 b-tag {rr_uri}")]);

    // The caller hangs up with one more (loose) hop after us: sent to it, its Route kept.
    let hop = Peer::new();
    let bye = in_dialog(
        "BYE",
        &format!("sip:bob@127.0.0.1:{}", callee.port),
        &format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
        &format!("Route: {rr}, <sip:127.0.0.1:{};lr>\r\n", hop.port),
        "a1b2",
        "b-tag",
    );
    phone.send(sv.addr, &bye);
    let got = expect_from(&hop, sv.addr, "BYE at the next loose router");
    assert_eq!(
        start_line(&got),
        format!("BYE sip:bob@127.0.0.1:{} SIP/2.0", callee.port)
    );
    assert_eq!(routes(&got), [format!("<sip:127.0.0.1:{};lr>", hop.port)]);
    assert_eq!(header(&got, "X-LR"), ["1 downstream"]);
    assert_eq!(header(&got, "X-PV"), [format!("1 a1b2 b-tag {rr_uri}")]);
    callee.expect_nothing(QUIET, "nothing straight to the callee");

    // No Route at all: loose_route() is -1 and forward() follows the R-URI.
    let bye = in_dialog(
        "BYE",
        &format!("sip:bob@127.0.0.1:{}", callee.port),
        &format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
        "",
        "a1b2",
        "b-tag",
    );
    phone.send(sv.addr, &bye);
    let got = expect_from(&callee, sv.addr, "BYE without Route");
    assert_eq!(header(&got, "X-LR"), ["-1 downstream"]);
}

#[test]
fn strict_routers_before_and_after_us() {
    let hop = Peer::new();
    let callee = Peer::new();
    let phone = Peer::new();
    let sv = Sipvm::start(CFG, &[]);
    let p = sv.port;
    let via = format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port);

    // Next hop strict (no ;lr): it becomes the R-URI, the R-URI goes last (RFC 3261
    // §16.12.1.2; Kamailio appends it after the last header).
    let ruri = format!("sip:bob@127.0.0.1:{}", callee.port);
    let bye = in_dialog(
        "BYE",
        &ruri,
        &via,
        &format!(
            "Route: <sip:127.0.0.1:{p};lr;ftag=a1b2>, <sip:127.0.0.1:{}>\r\n",
            hop.port
        ),
        "a1b2",
        "b-tag",
    );
    phone.send(sv.addr, &bye);
    let got = expect_from(&hop, sv.addr, "BYE at the strict router");
    assert_eq!(
        start_line(&got),
        format!("BYE sip:127.0.0.1:{} SIP/2.0", hop.port)
    );
    // The saved R-URI follows every header of the request (X-LR, added later, after it).
    let lines = head_lines(&got);
    let at = |l: &str| lines.iter().position(|x| *x == l).unwrap();
    assert!(at(&format!("Route: <{ruri}>")) > at("Content-Length: 0"));
    assert_eq!(routes(&got), [format!("<{ruri}>")]);

    // The previous hop was a strict router: the R-URI is our Record-Route, the target is the
    // last Route, the loose hop in front of it is the next hop.
    let bye = in_dialog(
        "BYE",
        &format!("sip:127.0.0.1:{p};lr;ftag=a1b2"),
        &via,
        &format!("Route: <sip:127.0.0.1:{};lr>, <{ruri}>\r\n", hop.port),
        "a1b2",
        "b-tag",
    );
    phone.send(sv.addr, &bye);
    let got = expect_from(&hop, sv.addr, "BYE at the loose hop after a strict router");
    assert_eq!(start_line(&got), format!("BYE {ruri} SIP/2.0"));
    assert_eq!(routes(&got), [format!("<sip:127.0.0.1:{};lr>", hop.port)]);
    assert_eq!(header(&got, "X-LR"), ["1 downstream"]);
}

/// Reads one SIP message (headers, no body) from a stream.
fn read_msg(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).expect("read from sipvm");
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&b[..n]);
    }
    buf
}

#[test]
fn udp_in_tcp_out_double_record_route_and_the_bye_back() {
    let callee = TcpListener::bind("127.0.0.1:0").unwrap();
    let cport = callee.local_addr().unwrap().port();
    let phone = Peer::new();
    let sv = Sipvm::start(CFG, &[]);
    let p = sv.port;

    phone.send(
        sv.addr,
        &invite(&phone, &format!("sip:bob@127.0.0.1:{cport};transport=tcp")),
    );
    callee.set_nonblocking(false).unwrap();
    let (mut conn, _) = callee.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let inv = read_msg(&mut conn);
    let lines = head_lines(&inv);
    // Kamailio: the sending (TCP) side on top, both marked r2=on.
    assert_eq!(
        &lines[0..2],
        [
            format!("Record-Route: <sip:127.0.0.1:{p};transport=tcp;r2=on;lr;ftag=a1b2;e2e=1>"),
            format!("Record-Route: <sip:127.0.0.1:{p};r2=on;lr;ftag=a1b2;e2e=1>"),
        ],
        "{}",
        text(&inv)
    );
    assert!(lines[2].starts_with(&format!("Via: SIP/2.0/TCP 127.0.0.1:{p};branch=")));

    // Its 200 goes back to the caller over UDP (by the caller's Via), not over TCP.
    conn.write_all(&answer_200(&inv)).unwrap();
    let ok = expect_from(&phone, sv.addr, "200 at the caller over UDP");
    assert_eq!(status(&ok), Some(200));
    assert_eq!(header(&ok, "Via").len(), 1, "{}", text(&ok));

    // The callee's BYE on the same connection carries both; both are ours and consumed, and
    // it goes to the caller over UDP.
    let rrs = record_routes(&inv);
    let bye = in_dialog(
        "BYE",
        &format!("sip:alice@127.0.0.1:{}", phone.port),
        &format!("SIP/2.0/TCP 127.0.0.1:{cport}"),
        &format!("Route: {}, {}\r\n", rrs[0], rrs[1]),
        "b-tag",
        "a1b2",
    );
    conn.write_all(&bye).unwrap();
    let got = expect_from(&phone, sv.addr, "BYE at the caller over UDP");
    assert!(routes(&got).is_empty(), "{}", text(&got));
    assert_eq!(header(&got, "X-LR"), ["1 upstream"]);
    assert!(head_lines(&got)[0].starts_with(&format!("Via: SIP/2.0/UDP 127.0.0.1:{p};")));

    // The caller's BYE uses the route set reversed: the UDP one of our pair first, the TCP
    // one (which names the socket facing the callee) second; it goes out on the connection.
    let bye = in_dialog(
        "BYE",
        &format!("sip:bob@127.0.0.1:{cport};transport=tcp"),
        &format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
        &format!("Route: {}, {}\r\n", rrs[1], rrs[0]),
        "a1b2",
        "b-tag",
    );
    phone.send(sv.addr, &bye);
    let got = read_msg(&mut conn);
    assert_eq!(
        start_line(&got),
        format!("BYE sip:bob@127.0.0.1:{cport};transport=tcp SIP/2.0")
    );
    assert!(routes(&got).is_empty(), "{}", text(&got));
    assert_eq!(header(&got, "X-LR"), ["1 downstream"]);
    assert!(head_lines(&got)[0].starts_with(&format!("Via: SIP/2.0/TCP 127.0.0.1:{p};")));
}

/// `t_relay()` record-routes every branch the way `forward()` does (both call
/// `rr::record::apply` per branch): each of two forked branches carries one Record-Route above
/// the Via, with the same bytes as the stateless case.
#[test]
fn t_relay_record_routes_every_branch() {
    const TM_CFG: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "corex.so"

request_route {
    record_route();
    append_branch("sip:carol@127.0.0.1:5082");
    t_relay();
}
"#;
    let callee = Peer::new();
    let carol = Peer::new();
    let phone = Peer::new();
    let sv = Sipvm::start(TM_CFG, &[hop_subst("127.0.0.1:5082", &carol)]);
    let p = sv.port;
    phone.send(
        sv.addr,
        &invite(&phone, &format!("sip:bob@127.0.0.1:{}", callee.port)),
    );
    for (peer, who) in [(&callee, "bob"), (&carol, "carol")] {
        let inv = expect_from(peer, sv.addr, who);
        let lines = head_lines(&inv);
        assert_eq!(
            lines[0],
            format!("Record-Route: <sip:127.0.0.1:{p};lr;ftag=a1b2>"),
            "{who}"
        );
        assert!(lines[1].starts_with("Via: "));
        assert_eq!(record_routes(&inv).len(), 1);
    }
}

#[test]
fn an_address_family_change_writes_two_record_routes() {
    // A free IPv6 loopback port for sipvm's second socket.
    let p6 = std::net::UdpSocket::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = CFG.replace(
        "listen=tcp:127.0.0.1:5060",
        &format!("listen=tcp:127.0.0.1:5060\nlisten=udp:[::1]:{p6}"),
    );
    let callee = std::net::UdpSocket::bind("[::1]:0").unwrap();
    callee
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let cport = callee.local_addr().unwrap().port();
    let phone = Peer::new();
    let sv = Sipvm::start(&cfg, &[]);
    let p = sv.port;

    phone.send(sv.addr, &invite(&phone, &format!("sip:bob@[::1]:{cport}")));
    let mut buf = vec![0u8; 65535];
    let (n, from) = callee.recv_from(&mut buf).expect("INVITE over IPv6");
    buf.truncate(n);
    assert_eq!(from, format!("[::1]:{p6}").parse().unwrap());
    let lines = head_lines(&buf);
    assert_eq!(
        &lines[0..2],
        [
            format!("Record-Route: <sip:[::1]:{p6};r2=on;lr;ftag=a1b2;e2e=1>"),
            format!("Record-Route: <sip:127.0.0.1:{p};r2=on;lr;ftag=a1b2;e2e=1>"),
        ],
        "{}",
        text(&buf)
    );
    assert!(lines[2].starts_with(&format!("Via: SIP/2.0/UDP [::1]:{p6};branch=")));

    // The BYE back over IPv6 consumes both and reaches the caller over IPv4.
    let rrs = record_routes(&buf);
    let bye = in_dialog(
        "BYE",
        &format!("sip:alice@127.0.0.1:{}", phone.port),
        &format!("SIP/2.0/UDP [::1]:{cport}"),
        &format!("Route: {}, {}\r\n", rrs[0], rrs[1]),
        "b-tag",
        "a1b2",
    );
    callee
        .send_to(
            &bye,
            format!("[::1]:{p6}")
                .parse::<std::net::SocketAddr>()
                .unwrap(),
        )
        .unwrap();
    let got = expect_from(&phone, sv.addr, "BYE at the caller over IPv4");
    assert!(routes(&got).is_empty(), "{}", text(&got));
    assert_eq!(header(&got, "X-LR"), ["1 upstream"]);
}

#[test]
fn tcp_in_udp_out_and_the_200_back_on_the_connection() {
    // Kamailio run: an INVITE over TCP to a R-URI without transport leaves over UDP with two
    // Record-Routes, the UDP side on top.
    let callee = Peer::new();
    let sv = Sipvm::start(CFG, &[]);
    let p = sv.port;
    let mut conn = TcpStream::connect(sv.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let cport = conn.local_addr().unwrap().port();
    let inv = format!(
        "INVITE sip:bob@127.0.0.1:{} SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:{cport};branch=z9hG4bK-tcp1\r\n\
         From: <sip:alice@example.com>;tag=a1b2\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: tcp1@example.com\r\n\
         CSeq: 1 INVITE\r\n\
         Max-Forwards: 70\r\n\
         Contact: <sip:alice@127.0.0.1:{cport};transport=tcp>\r\n\
         Content-Length: 0\r\n\r\n",
        callee.port
    );
    conn.write_all(inv.as_bytes()).unwrap();
    let got = expect_from(&callee, sv.addr, "INVITE over UDP");
    assert_eq!(
        &head_lines(&got)[0..2],
        [
            format!("Record-Route: <sip:127.0.0.1:{p};r2=on;lr;ftag=a1b2;e2e=1>"),
            format!("Record-Route: <sip:127.0.0.1:{p};transport=tcp;r2=on;lr;ftag=a1b2;e2e=1>"),
        ],
        "{}",
        text(&got)
    );
    // The 200 goes back over the caller's TCP connection (its Via says TCP).
    callee.send(sv.addr, &answer_200(&got));
    let ok = read_msg(&mut conn);
    assert_eq!(status(&ok), Some(200), "{}", text(&ok));
    assert_eq!(header(&ok, "Via").len(), 1);
}
