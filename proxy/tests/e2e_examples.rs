//! End to end, one test (or a few) per shared example that needs no transaction (01–07, 09,
//! 14): the real `sipvm run` on loopback, real SIP from UDP peers, and the replies and
//! forwarded requests checked, byte by byte where the proxy must not change anything.

mod common;
use common::*;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// 01-drop-everything.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex01_drops_requests_and_replies() {
    // The example has no listen line (Kamailio would take port 5060): give it a free port.
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\n{}",
        example_text("01-drop-everything.cfg")
    );
    let mut server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    let ruri = format!("sip:bob@127.0.0.1:{}", server.port);
    for (i, m) in ["INVITE", "OPTIONS", "REGISTER", "MESSAGE", "BYE"]
        .iter()
        .enumerate()
    {
        phone.send(
            server.addr,
            &phone.request(m, &ruri, &format!("e01-{i}"), ""),
        );
    }
    phone.expect_nothing(QUIET, "01 answers no request");

    // A reply whose top Via is sipvm's and whose next Via is the phone: without the
    // reply_route's `drop` the core would relay it to the phone (see ex02 below).
    let reply = format!(
        "SIP/2.0 200 OK\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{s};branch=z9hG4bKsv0123456789abcdef\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-e01;rport={p};received=127.0.0.1\r\n\
         From: <sip:alice@example.test>;tag=a\r\n\
         To: <sip:bob@example.test>;tag=b\r\n\
         Call-ID: e01-reply\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n",
        s = server.port,
        p = phone.port
    );
    let other = Peer::new();
    other.send(server.addr, reply.as_bytes());
    phone.expect_nothing(QUIET, "01 drops replies in reply_route");
    other.expect_nothing(Duration::from_millis(50), "01 sends nothing back either");
    assert!(server.alive(), "sipvm died:\n{}", server.log_text());
}

// ---------------------------------------------------------------------------------------
// 03-reply-always.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex03_answers_200_with_to_tag_and_copied_headers() {
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    for (i, m) in ["OPTIONS", "INVITE", "REGISTER", "FOO"].iter().enumerate() {
        let cid = format!("e03-{i}");
        // A second Via below the phone's (Peer::request puts Max-Forwards after its Via).
        let req = String::from_utf8(phone.request(m, &ruri, &cid, ""))
            .unwrap()
            .replacen(
                "Max-Forwards: 70\r\n",
                "Via: SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bK-second\r\nMax-Forwards: 70\r\n",
                1,
            )
            .into_bytes();
        let reply = ask(&server, &phone, &req);
        let rt = text(&reply);
        assert_eq!(start_line(&reply), "SIP/2.0 200 OK", "{rt}");
        let vias = header(&reply, "Via");
        assert_eq!(vias.len(), 2, "{rt}");
        assert_eq!(
            via_parts(vias[0]),
            (
                format!("SIP/2.0/UDP 127.0.0.1:{}", phone.port),
                vec![
                    format!("branch=z9hG4bK-{cid}"),
                    "received=127.0.0.1".to_string(),
                    format!("rport={}", phone.port)
                ]
            ),
            "{rt}"
        );
        assert_eq!(vias[1], "SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bK-second");
        for h in ["From", "Call-ID", "CSeq"] {
            assert_eq!(header(&reply, h), header(&req, h), "{h}: {rt}");
        }
        let to = header(&reply, "To");
        assert_eq!(to.len(), 1);
        let tag = to[0]
            .strip_prefix("<sip:bob@example.test>;tag=")
            .unwrap_or_else(|| panic!("To with a tag: {rt}"));
        assert!(!tag.is_empty());
        assert_eq!(header(&reply, "Content-Length"), ["0"], "{rt}");
        assert_eq!(body(&reply), b"");
        // A retransmission gets the same to-tag.
        let again = ask(&server, &phone, &req);
        assert_eq!(header(&again, "To"), to, "same to-tag for a retransmission");
    }
}

#[test]
fn ex03_replies_to_the_via_port_without_rport() {
    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let sender = Peer::new();
    let listener = Peer::new();
    // Via names the listener's port, without rport: the reply goes there (RFC 3261 §18.2.2).
    let req = String::from_utf8(sender.request("OPTIONS", "sip:x@127.0.0.1", "e03-norport", ""))
        .unwrap()
        .replace(
            &format!("127.0.0.1:{};branch=z9hG4bK-e03-norport;rport", sender.port),
            &format!("127.0.0.1:{};branch=z9hG4bK-e03-norport", listener.port),
        );
    sender.send(server.addr, req.as_bytes());
    let reply = expect_from(&listener, server.addr, "reply at the Via port");
    assert_eq!(status(&reply), Some(200));
    assert_eq!(
        header(&reply, "Via"),
        [format!(
            "SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bK-e03-norport",
            listener.port
        )
        .as_str()],
        "Via copied unchanged: {}",
        text(&reply)
    );
    sender.expect_nothing(Duration::from_millis(100), "nothing to the source port");
}

/// RFC 3261 §12.1.1, as Kamailio's sl does: 18x and 2xx replies copy the Record-Route
/// values in order; other replies do not.
#[test]
fn ex03_ex04_copy_record_route_into_2xx_only() {
    let rr = "Record-Route: <sip:p2.example.test;lr>\r\nRecord-Route: <sip:p1.example.test;lr;x=1>, <sip:p0.example.test;lr>\r\n";
    let with_rr = |p: &Peer, m: &str, cid: &str| p.request(m, "sip:bob@example.test", cid, rr);
    let want = [
        "<sip:p2.example.test;lr>",
        "<sip:p1.example.test;lr;x=1>, <sip:p0.example.test;lr>",
    ];

    let server = Sipvm::example("03-reply-always.cfg", &[]);
    let phone = Peer::new();
    let r = ask(&server, &phone, &with_rr(&phone, "INVITE", "e03-rr"));
    assert_eq!(status(&r), Some(200));
    assert_eq!(header(&r, "Record-Route"), want, "{}", text(&r));

    let server = Sipvm::example("04-reply-by-method.cfg", &[]);
    let r = ask(&server, &phone, &with_rr(&phone, "MESSAGE", "e04-rr-202"));
    assert_eq!(status(&r), Some(202));
    assert_eq!(header(&r, "Record-Route"), want, "{}", text(&r));
    let r = ask(&server, &phone, &with_rr(&phone, "SUBSCRIBE", "e04-rr-403"));
    assert_eq!(status(&r), Some(403));
    assert!(header(&r, "Record-Route").is_empty(), "{}", text(&r));
}

// ---------------------------------------------------------------------------------------
// 04-reply-by-method.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex04_answers_by_method() {
    let server = Sipvm::example("04-reply-by-method.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    let table = [
        ("INVITE", "200 OK"),
        ("BYE", "200 OK"),
        ("CANCEL", "200 OK"),
        ("MESSAGE", "202 Accepted"),
        ("OPTIONS", "200 OK"),
        ("INFO", "200 OK"),
        ("PUBLISH", "202 Accepted"),
        ("REGISTER", "403 Forbidden"),
        ("SUBSCRIBE", "403 Forbidden"),
        ("NOTIFY", "403 Forbidden"),
        ("UPDATE", "403 Forbidden"),
        ("REFER", "403 Forbidden"),
        ("PRACK", "403 Forbidden"),
        ("XYZZY", "403 Forbidden"),
        // Kamailio 5.6 matches method names without regard to case, both in is_method()
        // and in `method == "..."` (checked against the real Kamailio).
        ("invite", "200 OK"),
        ("Options", "200 OK"),
        ("message", "202 Accepted"),
        ("publish", "202 Accepted"),
    ];
    for (i, (m, want)) in table.iter().enumerate() {
        let req = phone.request(m, &ruri, &format!("e04-{i}"), "");
        let reply = ask(&server, &phone, &req);
        assert_eq!(
            start_line(&reply),
            format!("SIP/2.0 {want}"),
            "{m}: {}",
            text(&reply)
        );
        assert_eq!(header(&reply, "CSeq"), [format!("1 {m}").as_str()]);
    }
    // ACK is never answered.
    phone.send(server.addr, &phone.request("ACK", &ruri, "e04-ack", ""));
    phone.expect_nothing(QUIET, "no reply to ACK");
}

// ---------------------------------------------------------------------------------------
// 05-redirect-two-targets.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex05_redirects_to_two_contacts() {
    let server = Sipvm::example("05-redirect-two-targets.cfg", &[]);
    let phone = Peer::new();
    for (i, user) in ["carol", "+15551234"].iter().enumerate() {
        let req = phone.request(
            "INVITE",
            &format!("sip:{user}@example.test"),
            &format!("e05-{i}"),
            "",
        );
        let reply = ask(&server, &phone, &req);
        let rt = text(&reply);
        assert_eq!(start_line(&reply), "SIP/2.0 302 Moved Temporarily", "{rt}");
        // Kamailio 5.6 sends the destination set as the Request-URI (last rewritten: 5082)
        // first, then the appended branch (5081); whether as one comma-separated Contact
        // line or two lines is the same (RFC 3261 §7.3.1).
        assert_eq!(
            contacts(&reply),
            [
                format!("<sip:{user}@127.0.0.1:5082>"),
                format!("<sip:{user}@127.0.0.1:5081>")
            ],
            "{rt}"
        );
        assert!(header(&reply, "To")[0].contains(";tag="), "{rt}");
        assert_eq!(header(&reply, "Content-Length"), ["0"], "{rt}");
    }
    // A 3xx does not copy Record-Route.
    let req = phone.request(
        "INVITE",
        "sip:dave@example.test",
        "e05-rr",
        "Record-Route: <sip:p1.example.test;lr>\r\n",
    );
    let reply = ask(&server, &phone, &req);
    assert_eq!(status(&reply), Some(302));
    assert!(
        header(&reply, "Record-Route").is_empty(),
        "{}",
        text(&reply)
    );
}

// ---------------------------------------------------------------------------------------
// 06-round-robin-per-worker.cfg and 07-round-robin-shared.cfg
// ---------------------------------------------------------------------------------------

/// Two next hops standing for 127.0.0.1:5081 (`A`) and 127.0.0.1:5082 (`B`).
struct Hops {
    a: Peer,
    b: Peer,
}

impl Hops {
    fn new() -> Hops {
        Hops {
            a: Peer::new().big_buffer(),
            b: Peer::new().big_buffer(),
        }
    }

    fn subst(&self) -> Vec<(&'static str, String)> {
        vec![
            hop_subst("127.0.0.1:5081", &self.a),
            hop_subst("127.0.0.1:5082", &self.b),
        ]
    }

    /// Which hop the next forwarded request reached ('A' or 'B'), checking it is `call_id`
    /// with the R-URI rewritten to that hop.
    fn next(&self, server: &Sipvm, call_id: &str) -> char {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            for (name, p) in [('A', &self.a), ('B', &self.b)] {
                if let Some((m, from)) = p.recv(Duration::from_millis(5)) {
                    assert_eq!(from, server.addr);
                    assert_eq!(header(&m, "Call-ID"), [call_id], "{}", text(&m));
                    assert!(
                        start_line(&m)
                            .starts_with(&format!("INVITE sip:bob@127.0.0.1:{} ", p.port)),
                        "{}",
                        text(&m)
                    );
                    return name;
                }
            }
        }
        panic!("{call_id} was not forwarded:\n{}", server.log_text());
    }
}

fn alternating(seq: &[char], first: char) -> bool {
    seq.iter().enumerate().all(|(i, c)| {
        let want = if i % 2 == 0 {
            first
        } else if first == 'A' {
            'B'
        } else {
            'A'
        };
        *c == want
    })
}

#[test]
fn ex06_alternates_next_hops_per_worker() {
    let hops = Hops::new();
    let server = Sipvm::example("06-round-robin-per-worker.cfg", &hops.subst());
    assert!(
        server.log_text().contains("4 workers"),
        "{}",
        server.log_text()
    );
    let phones: Vec<Peer> = (0..6).map(|_| Peer::new()).collect();
    // Each phone sends a run of INVITEs, waiting for each to be forwarded. One source stays
    // on one worker (SO_REUSEPORT), whose private $var(i) alternates 5081, 5082, ... An even
    // run leaves every worker's counter as it found it, so every run starts at 5081.
    for (k, phone) in phones.iter().enumerate() {
        let mut seq = Vec::new();
        for n in 0..6 {
            let cid = format!("e06-{k}-{n}");
            phone.send(
                server.addr,
                &phone.request("INVITE", "sip:bob@example.test", &cid, ""),
            );
            seq.push(hops.next(&server, &cid));
        }
        assert!(alternating(&seq, 'A'), "phone {k}: {seq:?}");
    }
    // Other methods are refused.
    let phone = &phones[0];
    let reply = ask(
        &server,
        phone,
        &phone.request("OPTIONS", "sip:bob@example.test", "e06-options", ""),
    );
    assert_eq!(start_line(&reply), "SIP/2.0 404 Not Found");
    hops.a
        .expect_nothing(Duration::from_millis(50), "OPTIONS is not forwarded");
    hops.b
        .expect_nothing(Duration::from_millis(50), "OPTIONS is not forwarded");
}

#[test]
fn ex07_alternates_next_hops_instance_wide() {
    let hops = Hops::new();
    let server = Sipvm::example("07-round-robin-shared.cfg", &hops.subst());
    assert!(
        server.log_text().contains("4 workers"),
        "{}",
        server.log_text()
    );
    let phones: Vec<Peer> = (0..8).map(|_| Peer::new()).collect();
    let mut seq = Vec::new();
    // One source: strict alternation from 5081 ($shv(i) starts at 0).
    for n in 0..6 {
        let cid = format!("e07-single-{n}");
        let p = &phones[0];
        p.send(
            server.addr,
            &p.request("INVITE", "sip:bob@example.test", &cid, ""),
        );
        seq.push(hops.next(&server, &cid));
    }
    // Many sources taking turns (so on different workers): the shared counter keeps the
    // alternation across all of them, one request at a time.
    for n in 0..40 {
        let cid = format!("e07-many-{n}");
        let p = &phones[n % phones.len()];
        p.send(
            server.addr,
            &p.request("INVITE", "sip:bob@example.test", &cid, ""),
        );
        seq.push(hops.next(&server, &cid));
    }
    assert!(alternating(&seq, 'A'), "{seq:?}");

    // Concurrently from every phone at once: the counter is updated under the lock, so
    // every increment counts and the two hops get exactly half each.
    const EACH: usize = 25;
    let total = phones.len() * EACH;
    let readers: Vec<_> = [hops.a.try_clone(), hops.b.try_clone()]
        .into_iter()
        .map(|p| {
            std::thread::spawn(move || {
                let mut n = 0usize;
                while p.recv(Duration::from_millis(700)).is_some() {
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::scope(|s| {
        for (k, p) in phones.iter().enumerate() {
            let addr = server.addr;
            s.spawn(move || {
                for n in 0..EACH {
                    let cid = format!("e07-burst-{k}-{n}");
                    p.send(addr, &p.request("INVITE", "sip:bob@example.test", &cid, ""));
                }
            });
        }
    });
    let counts: Vec<usize> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(counts[0] + counts[1], total, "all forwarded: {counts:?}");
    assert_eq!(
        counts[0], counts[1],
        "5081 and 5082 share the load exactly: {counts:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 09-max-forwards.cfg
// ---------------------------------------------------------------------------------------

#[test]
fn ex09_max_forwards() {
    let server = Sipvm::example("09-max-forwards.cfg", &[]);
    let phone = Peer::new();
    let ruri = format!("sip:x@127.0.0.1:{}", server.port);
    const LINE: &str = "Max-Forwards was missing and has been added";

    let r = ask(
        &server,
        &phone,
        &phone.request("OPTIONS", &ruri, "e09-70", ""),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK", "{}", text(&r));
    for (i, v) in ["1", "32", "69", "255"].iter().enumerate() {
        let req = with_max_forwards(phone.request("OPTIONS", &ruri, &format!("e09-v{i}"), ""), v);
        let r = ask(&server, &phone, &req);
        assert_eq!(
            start_line(&r),
            "SIP/2.0 200 OK",
            "Max-Forwards {v}: {}",
            text(&r)
        );
    }

    let zero = with_max_forwards(phone.request("INVITE", &ruri, "e09-0", ""), "0");
    let r = ask(&server, &phone, &zero);
    assert_eq!(start_line(&r), "SIP/2.0 483 Too Many Hops", "{}", text(&r));
    assert_eq!(header(&r, "CSeq"), ["1 INVITE"]);
    assert!(header(&r, "To")[0].contains(";tag="));
    assert!(!server.log_text().contains(LINE), "logged too early");

    let missing = without_max_forwards(phone.request("OPTIONS", &ruri, "e09-missing", ""));
    let r = ask(&server, &phone, &missing);
    assert_eq!(start_line(&r), "SIP/2.0 200 OK", "{}", text(&r));
    // The xlog line reaches the log (written by a thread: give it a moment).
    let deadline = Instant::now() + WAIT;
    while !server.log_text().contains(LINE) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log_text();
    assert_eq!(log.matches(LINE).count(), 1, "the xlog line once:\n{log}");
}
