//! rr natives in process: the Record-Route bytes `forward()` writes and what `loose_route()`
//! does to a request. Expected bytes are Kamailio 5.6.3's, captured on loopback with
//! `record_route(); forward();` (and the variants named in each test) and a UDP peer; the
//! Kamailio listened on udp+tcp 127.0.0.1:40724 and udp 127.0.0.1:5060. Here the sockets are
//! 127.0.0.1:5070 (and :5060 where the port must be left out), so only the port differs.

mod natives_common;
use natives_common::*;
use sipvm_proxy::host::rr::{self, RrConfig, RrKind, RrRecord};
use sipvm_proxy::host::Ctx;
use sipvm_proxy::sip::Edits;
use sipvm_proxy::transport::{Advertise, Local, Proto};
use sipvm_vm::{ArgValue, Value};

const INVITE: &str = "INVITE sip:bob@127.0.0.1:41001 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:41000;branch=z9hG4bK-1;rport
From: \"Alice\" <sip:alice@example.com>;tag=a1b2
To: <sip:bob@example.com>
Call-ID: c1@example.com
CSeq: 1 INVITE
Max-Forwards: 70
Contact: <sip:alice@127.0.0.1:41000>
Content-Length: 0

";

fn local(index: usize, proto: Proto, addr: &str) -> Local {
    Local {
        index,
        proto,
        addr: addr.parse().unwrap(),
        advertise: None,
        name: None,
    }
}

/// An environment receiving on udp:127.0.0.1:5070, with tcp:127.0.0.1:5070 too.
fn env(text: &str, params: &[(&str, &str, Value)]) -> Env {
    let mut e = Env::with_params(text, params);
    e.locals = vec![
        local(0, Proto::Udp, "127.0.0.1:5070"),
        local(1, Proto::Tcp, "127.0.0.1:5070"),
    ];
    e
}

/// Runs `f` on a fresh ctx, then `forward()`; the message sent (and its protocol).
fn forwarded(e: &mut Env, f: impl FnOnce(&mut Ctx<'_>)) -> (String, Proto) {
    let mut c = e.ctx();
    f(&mut c);
    assert_eq!(call(&mut c, "core", "forward", &[]), 1, "forward() sends");
    drop(c);
    let item = e.out.items().last().expect("something sent").clone();
    (String::from_utf8_lossy(&item.data).into_owned(), item.proto)
}

fn rr_lines(m: &str) -> Vec<&str> {
    m.lines()
        .filter(|l| l.starts_with("Record-Route:"))
        .collect()
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

#[test]
fn record_route_writes_kamailios_header_above_the_via() {
    let mut e = env(INVITE, &[]);
    let (m, proto) = forwarded(&mut e, |c| {
        assert_eq!(call(c, "rr", "record_route", &[]), 1);
    });
    assert_eq!(proto, Proto::Udp);
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines[0], "INVITE sip:bob@127.0.0.1:41001 SIP/2.0");
    assert_eq!(lines[1], "Record-Route: <sip:127.0.0.1:5070;lr;ftag=a1b2>");
    assert!(lines[2].starts_with("Via: SIP/2.0/UDP 127.0.0.1:5070;branch="));
}

#[test]
fn port_5060_is_left_out_on_the_receiving_side() {
    // Kamailio run: the same INVITE sent to udp 127.0.0.1:5060.
    let mut e = Env::new(INVITE);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(rr_lines(&m), ["Record-Route: <sip:127.0.0.1;lr;ftag=a1b2>"]);
}

#[test]
fn params_before_and_after_record_route() {
    // add_rr_param(";a=1"); record_route(";p=2"); add_rr_param(";b=3");
    let mut e = env(INVITE, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        assert_eq!(call(c, "rr", "add_rr_param", &[s(";a=1")]), 1);
        assert_eq!(call(c, "rr", "record_route", &[s(";p=2")]), 1);
        assert_eq!(call(c, "rr", "add_rr_param", &[s(";b=3")]), 1);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:127.0.0.1:5070;lr;ftag=a1b2;p=2;a=1;b=3>"]
    );
    // record_route(";p=2"); add_rr_param(";b=3"); add_rr_param(";c=4");
    let mut e = env(INVITE, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[s(";p=2")]);
        call(c, "rr", "add_rr_param", &[s(";b=3")]);
        call(c, "rr", "add_rr_param", &[s(";c=4")]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:127.0.0.1:5070;lr;ftag=a1b2;p=2;b=3;c=4>"]
    );
}

#[test]
fn no_from_tag_no_ftag_and_module_parameters() {
    let no_tag = INVITE.replace(";tag=a1b2", "");
    let mut e = env(&no_tag, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(rr_lines(&m), ["Record-Route: <sip:127.0.0.1:5070;lr>"]);

    let mut e = env(
        INVITE,
        &[
            ("rr", "append_fromtag", int(0)),
            ("rr", "enable_full_lr", int(1)),
        ],
    );
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(rr_lines(&m), ["Record-Route: <sip:127.0.0.1:5070;lr=on>"]);

    let mut e = env(INVITE, &[("rr", "add_username", int(1))]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:bob@127.0.0.1:5070;lr;ftag=a1b2>"]
    );
}

#[test]
fn a_second_record_route_fails() {
    // Kamailio: "Double attempt to record-route", -1; one header.
    let mut e = env(INVITE, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        assert_eq!(call(c, "rr", "record_route", &[]), 1);
        assert_eq!(call(c, "rr", "record_route", &[]), -1);
        assert_eq!(call(c, "rr", "record_route_preset", &[s("1.2.3.4")]), -1);
    });
    assert_eq!(rr_lines(&m).len(), 1);
    // remove_record_route() drops it, and the flag stays.
    let mut e = env(INVITE, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
        assert_eq!(call(c, "rr", "remove_record_route", &[]), 1);
        assert_eq!(call(c, "rr", "record_route", &[]), -1);
    });
    assert!(rr_lines(&m).is_empty());
}

#[test]
fn preset_addresses_and_their_params() {
    let cases: &[(&[&str], bool, &[&str])] = &[
        (
            &["1.2.3.4:5090;x=y"],
            false,
            &["Record-Route: <sip:1.2.3.4:5090;x=y;ftag=a1b2;lr>"],
        ),
        (
            &["1.2.3.4:5090", "5.6.7.8;transport=tcp"],
            false,
            &[
                "Record-Route: <sip:1.2.3.4:5090;ftag=a1b2;lr>",
                "Record-Route: <sip:5.6.7.8;transport=tcp;ftag=a1b2;lr>",
            ],
        ),
        // add_rr_param(";a=1"); record_route_preset(...); add_rr_param(";b=3");
        (
            &["1.2.3.4:5090;x=y"],
            true,
            &["Record-Route: <sip:1.2.3.4:5090;x=y;ftag=a1b2;a=1;lr;b=3>"],
        ),
        (
            &["1.2.3.4:5090", "5.6.7.8"],
            true,
            &[
                "Record-Route: <sip:1.2.3.4:5090;ftag=a1b2;a=1;lr;b=3>",
                "Record-Route: <sip:5.6.7.8;ftag=a1b2;a=1;lr;b=3>",
            ],
        ),
    ];
    for (addrs, params, want) in cases {
        let mut e = env(INVITE, &[]);
        let (m, _) = forwarded(&mut e, |c| {
            if *params {
                call(c, "rr", "add_rr_param", &[s(";a=1")]);
            }
            let args: Vec<ArgValue<'_>> = addrs.iter().map(|a| s(a)).collect();
            assert_eq!(call(c, "rr", "record_route_preset", &args), 1);
            if *params {
                call(c, "rr", "add_rr_param", &[s(";b=3")]);
            }
        });
        assert_eq!(rr_lines(&m), *want, "{addrs:?}");
    }
    // Two addresses need enable_double_rr.
    let mut e = env(INVITE, &[("rr", "enable_double_rr", int(0))]);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "rr", "record_route_preset", &[s("a"), s("b")]),
        -1
    );
    assert!(c.rr.record.is_none());
}

#[test]
fn advertised_address_single_and_double() {
    // add_rr_param(";a=1"); record_route_advertised_address("9.9.9.9:7777"); add_rr_param(";b=3");
    let run = |ruri: &str| {
        let mut e = env(&INVITE.replace("sip:bob@127.0.0.1:41001", ruri), &[]);
        forwarded(&mut e, |c| {
            call(c, "rr", "add_rr_param", &[s(";a=1")]);
            let r = call(
                c,
                "rr",
                "record_route_advertised_address",
                &[s("9.9.9.9:7777")],
            );
            assert_eq!(r, 1);
            call(c, "rr", "add_rr_param", &[s(";b=3")]);
        })
    };
    let (m, _) = run("sip:bob@127.0.0.1:41001");
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:9.9.9.9:7777;ftag=a1b2;lr;a=1;b=3>"]
    );
    let (m, proto) = run("sip:bob@127.0.0.1:41001;transport=tcp");
    assert_eq!(proto, Proto::Tcp);
    assert_eq!(
        rr_lines(&m),
        [
            "Record-Route: <sip:9.9.9.9:7777;transport=tcp;r2=on;ftag=a1b2;lr;a=1;b=3>",
            "Record-Route: <sip:9.9.9.9:7777;transport=udp;r2=on;ftag=a1b2;lr;a=1;b=3>",
        ]
    );
}

#[test]
fn udp_in_tcp_out_writes_two_record_routes() {
    // Kamailio run: R-URI ...;transport=tcp, UDP in, TCP out.
    let tcp = INVITE.replace("127.0.0.1:41001 SIP", "127.0.0.1:41001;transport=tcp SIP");
    let mut e = env(&tcp, &[]);
    let (m, proto) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[s(";p=2")]);
        call(c, "rr", "add_rr_param", &[s(";b=3")]);
    });
    assert_eq!(proto, Proto::Tcp);
    assert_eq!(e.out.items()[0].via_socket, Some(1));
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(
        &lines[1..3],
        [
            "Record-Route: <sip:127.0.0.1:5070;transport=tcp;r2=on;lr;ftag=a1b2;p=2;b=3>",
            "Record-Route: <sip:127.0.0.1:5070;r2=on;lr;ftag=a1b2;p=2;b=3>",
        ]
    );
    assert!(lines[3].starts_with("Via: SIP/2.0/TCP 127.0.0.1:5070;branch="));

    // enable_double_rr=0: one, for the receiving socket.
    let mut e = env(&tcp, &[("rr", "enable_double_rr", int(0))]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:127.0.0.1:5070;lr;ftag=a1b2>"]
    );
    // enable_double_rr=2: always two, even over the same socket.
    let mut e = env(INVITE, &[("rr", "enable_double_rr", int(2))]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        [
            "Record-Route: <sip:127.0.0.1:5070;r2=on;lr;ftag=a1b2>",
            "Record-Route: <sip:127.0.0.1:5070;r2=on;lr;ftag=a1b2>",
        ]
    );
}

#[test]
fn an_address_family_change_writes_two_record_routes() {
    let v6 = INVITE.replace("sip:bob@127.0.0.1:41001", "sip:bob@[::1]:41001");
    let mut e = env(&v6, &[]);
    e.locals.push(local(2, Proto::Udp, "[::1]:5070"));
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(e.out.items()[0].via_socket, Some(2));
    assert_eq!(
        rr_lines(&m),
        [
            "Record-Route: <sip:[::1]:5070;r2=on;lr;ftag=a1b2>",
            "Record-Route: <sip:127.0.0.1:5070;r2=on;lr;ftag=a1b2>",
        ]
    );
}

#[test]
fn advertised_socket_and_sips() {
    let mut e = env(INVITE, &[]);
    e.locals[0].advertise = Some(Advertise {
        host: "203.0.113.5".into(),
        port: Some(5080),
    });
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:203.0.113.5:5080;lr;ftag=a1b2>"]
    );
    // A sips: Request-URI gives a sips: Record-Route (unless ignore_sips).
    let sips = INVITE.replace("sip:bob@127.0.0.1:41001", "sips:bob@127.0.0.1:41001");
    for (ignore, want) in [
        (0, "Record-Route: <sips:127.0.0.1:5070;lr;ftag=a1b2>\r\n"),
        (1, "Record-Route: <sip:127.0.0.1:5070;lr;ftag=a1b2>\r\n"),
    ] {
        let mut e = env(&sips, &[("rr", "ignore_sips", int(ignore))]);
        let mut c = e.ctx();
        call(&mut c, "rr", "record_route", &[]);
        let mut ed = Edits::new();
        rr::apply(&c, c.local, "127.0.0.1:41001".parse().unwrap(), &mut ed);
        let mut out = Vec::new();
        c.msg.serialize(&ed, &mut out).unwrap();
        assert!(String::from_utf8_lossy(&out).contains(want), "{want}");
    }
}

#[test]
fn header_lines_for_each_kind() {
    let udp = local(0, Proto::Udp, "127.0.0.1:5060");
    let tls = local(1, Proto::Tls, "127.0.0.1:5061");
    let rec = |kind| RrRecord {
        kind,
        user: None,
        tag: Some("t".into()),
        sips: false,
        pre: String::new(),
        post: String::new(),
    };
    let cfg = RrConfig::of(&snapshot(&[]));
    let auto = rec(RrKind::Auto {
        params: String::new(),
    });
    assert_eq!(
        rr::header_lines(&auto, &cfg, &udp, &tls),
        [
            "Record-Route: <sip:127.0.0.1:5061;transport=tls;r2=on;lr;ftag=t>\r\n",
            "Record-Route: <sip:127.0.0.1;r2=on;lr;ftag=t>\r\n",
        ]
    );
    assert_eq!(
        rr::header_lines(&auto, &cfg, &udp, &udp),
        ["Record-Route: <sip:127.0.0.1;lr;ftag=t>\r\n"]
    );
}

// ---- loose_route ----

const P: u16 = 5070;

/// An in-dialog BYE as in the Kamailio loose_route runs.
fn bye(ruri: &str, routes: &str, to_tag: &str, extra: &str) -> String {
    format!(
        "BYE {ruri} SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:41000;branch=z9hG4bK-2;rport
{routes}From: <sip:alice@example.com>;tag=a1b2
To: <sip:bob@example.com>{to_tag}
Call-ID: c1@example.com
CSeq: 2 BYE
Max-Forwards: 70
X-N: 1
{extra}Content-Length: 0

"
    )
}

struct Routed {
    ret: i64,
    ruri: String,
    du: Option<String>,
    routes: Vec<String>,
    last_header: String,
    down: i64,
    crp: i64,
}

fn routed(text: &str, params: &[(&str, &str, Value)]) -> Routed {
    let mut e = env(text, params);
    let mut c = e.ctx();
    let ret = call(&mut c, "rr", "loose_route", &[]);
    let down = call(&mut c, "rr", "is_direction", &[s("downstream")]);
    let up = call(&mut c, "rr", "is_direction", &[s("upstream")]);
    assert_eq!(down, -up, "one direction");
    let r = re("foo=bar");
    let crp = call(&mut c, "rr", "check_route_param", &[ArgValue::Regex(&r)]);
    let out = serialized(&c);
    let routes = out
        .lines()
        .filter(|l| l.starts_with("Route:"))
        .map(str::to_string)
        .collect();
    let heads: Vec<&str> = out.split("\r\n\r\n").next().unwrap().lines().collect();
    Routed {
        ret,
        ruri: c.ruri_str().to_string(),
        du: c.dst_uri.clone(),
        routes,
        last_header: heads.last().unwrap().to_string(),
        down,
        crp,
    }
}

const RU: &str = "sip:lr@127.0.0.1:41001";

#[test]
fn loose_route_our_route_only() {
    // Kamailio case 1: LR ret=1, R-URI kept, no $du, DIR down, CRP yes; Route gone.
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P};lr;ftag=a1b2;foo=bar>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!((r.ret, r.ruri.as_str(), r.du), (1, RU, None));
    assert!(r.routes.is_empty());
    assert_eq!((r.down, r.crp), (1, 1));
}

#[test]
fn loose_route_next_loose_router() {
    // Case 2: same header; case 2b: the next ones in another header.
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P};lr;ftag=a1b2>, <sip:127.0.0.1:41002;lr>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.ret, 1);
    assert_eq!(r.ruri, RU);
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(r.routes, ["Route: <sip:127.0.0.1:41002;lr>"]);
    assert_eq!(r.crp, -1);

    let r = routed(
        &bye(
            RU,
            &format!(
                "Route: <sip:127.0.0.1:{P};lr;ftag=a1b2>\nRoute: <sip:127.0.0.1:41002;lr>,<sip:127.0.0.1:41003;lr>\n"
            ),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(
        r.routes,
        ["Route: <sip:127.0.0.1:41002;lr>,<sip:127.0.0.1:41003;lr>"]
    );
}

#[test]
fn loose_route_next_strict_router() {
    // Case 3: the strict router becomes the R-URI; the old R-URI goes last (after X-N).
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P};lr>, <sip:127.0.0.1:41002>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.ret, 1);
    assert_eq!(r.ruri, "sip:127.0.0.1:41002");
    assert_eq!(r.du, None);
    assert_eq!(r.routes, ["Route: <sip:lr@127.0.0.1:41001>"]);
    assert_eq!(r.last_header, "Route: <sip:lr@127.0.0.1:41001>");
    // Case 3b: a loose router after the strict one stays in front.
    let r = routed(
        &bye(
            RU,
            &format!(
                "Route: <sip:127.0.0.1:{P};lr>, <sip:127.0.0.1:41002>, <sip:127.0.0.1:41003;lr>\n"
            ),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.ruri, "sip:127.0.0.1:41002");
    assert_eq!(
        r.routes,
        [
            "Route: <sip:127.0.0.1:41003;lr>",
            "Route: <sip:lr@127.0.0.1:41001>"
        ]
    );
}

#[test]
fn loose_route_after_a_strict_router() {
    // Case 4: the R-URI is our Record-Route; the last Route is the target.
    let r = routed(
        &bye(
            &format!("sip:127.0.0.1:{P};lr;ftag=zz"),
            "Route: <sip:127.0.0.1:41002;lr>, <sip:lr@127.0.0.1:41001>\n",
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.ret, 1);
    assert_eq!(r.ruri, RU);
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(r.routes, ["Route: <sip:127.0.0.1:41002;lr>"]);
    // The R-URI's ftag differs from the From tag: upstream.
    assert_eq!(r.down, -1);
    // Case 4b: the next hop is strict too: it becomes the R-URI.
    let r = routed(
        &bye(
            &format!("sip:127.0.0.1:{P};lr"),
            "Route: <sip:lr@127.0.0.1:41002>\nRoute: <sip:lr@127.0.0.1:41001>\n",
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.ruri, "sip:lr@127.0.0.1:41002");
    assert_eq!(r.du, None);
    assert_eq!(r.routes, ["Route: <sip:lr@127.0.0.1:41001>"]);
    // loose_route_mode(1): no strict-router recovery; the top Route is not ours.
    let mut e = env(
        &bye(
            &format!("sip:127.0.0.1:{P};lr"),
            "Route: <sip:127.0.0.1:41002;lr>, <sip:lr@127.0.0.1:41001>\n",
            ";tag=b9",
            "",
        ),
        &[],
    );
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "rr", "loose_route_mode", &[i(1)]), 1);
    assert_eq!(c.ruri, None);
    assert_eq!(c.dst_uri.as_deref(), Some("sip:127.0.0.1:41002;lr"));
}

#[test]
fn loose_route_codes_without_our_route() {
    // Case 5: not ours: $du is the Route, which stays.
    let r = routed(
        &bye(RU, "Route: <sip:127.0.0.1:41002;lr>\n", ";tag=b9", ""),
        &[],
    );
    assert_eq!(r.ret, 1);
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(r.routes, ["Route: <sip:127.0.0.1:41002;lr>"]);
    assert_eq!((r.down, r.crp), (1, -1));
    // Case 6: no Route at all.
    let r = routed(&bye(RU, "", ";tag=b9", ""), &[]);
    assert_eq!((r.ret, r.du), (-1, None));
}

#[test]
fn loose_route_preloaded_sets() {
    // Case 7: no To tag, only our Route: -3, and loose_route_preloaded() is true.
    let text = bye(RU, &format!("Route: <sip:127.0.0.1:{P};lr>\n"), "", "");
    let r = routed(&text, &[]);
    assert_eq!(r.ret, -3);
    assert!(r.routes.is_empty());
    let mut e = env(&text, &[]);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "rr", "loose_route_preloaded", &[]), 1);
    // Case 11: more Routes follow in a later header: routed by them.
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P};lr>\n"),
            "",
            "Route: <sip:127.0.0.1:41002;lr>\n",
        ),
        &[],
    );
    assert_eq!(r.ret, 1);
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(r.routes, ["Route: <sip:127.0.0.1:41002;lr>"]);
    let mut e = env(&text.replace("Route: <sip:127.0.0.1:5070;lr>\n", ""), &[]);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "rr", "loose_route_preloaded", &[]), -1);
}

#[test]
fn loose_route_double_record_route_pair() {
    // Case 8: both of our r2 Routes are consumed; the send socket is the second one's.
    let text = bye(
        RU,
        &format!(
            "Route: <sip:127.0.0.1:{P};transport=tcp;r2=on;lr;ftag=a1b2>, <sip:127.0.0.1:{P};r2=on;lr;ftag=a1b2>\n"
        ),
        ";tag=b9",
        "",
    );
    let r = routed(&text, &[]);
    assert_eq!((r.ret, r.ruri.as_str(), r.du), (1, RU, None));
    assert!(r.routes.is_empty());
    let mut e = env(&text, &[]);
    let mut c = e.ctx();
    call(&mut c, "rr", "loose_route", &[]);
    assert_eq!(c.rr.force_socket, Some(0), "udp:127.0.0.1:5070");
    assert_eq!(call(&mut c, "rr", "rr_next_hop_route", &[]), -1);
}

#[test]
fn loose_route_direction_maddr_and_no_lr() {
    // Case 9: ftag differs from the From tag: upstream.
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P};lr;ftag=zzz>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!((r.ret, r.down), (1, -1));
    // Case 10: maddr makes $du sip:maddr:port; the Route stays as written.
    let r = routed(
        &bye(
            RU,
            &format!(
                "Route: <sip:127.0.0.1:{P};lr;ftag=a1b2>, <sip:127.0.0.1:41002;lr;maddr=127.0.0.1>\n"
            ),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002"));
    assert_eq!(
        r.routes,
        ["Route: <sip:127.0.0.1:41002;lr;maddr=127.0.0.1>"]
    );
    // Case 12: our Route without ;lr is still ours.
    let r = routed(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P}>, <sip:127.0.0.1:41002;lr>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    assert_eq!(r.du.as_deref(), Some("sip:127.0.0.1:41002;lr"));
    assert_eq!(r.routes, ["Route: <sip:127.0.0.1:41002;lr>"]);
    let mut e = env(
        &bye(
            RU,
            &format!("Route: <sip:127.0.0.1:{P}>, <sip:127.0.0.1:41002;lr>\n"),
            ";tag=b9",
            "",
        ),
        &[],
    );
    let mut c = e.ctx();
    call(&mut c, "rr", "loose_route", &[]);
    assert_eq!(call(&mut c, "rr", "rr_next_hop_route", &[]), 1);
}

#[test]
fn check_route_param_and_direction_without_loose_route() {
    let text = bye(
        RU,
        &format!("Route: <sip:127.0.0.1:{P};lr;ftag=other;foo=bar>\n"),
        ";tag=b9",
        "",
    );
    let mut e = env(&text, &[]);
    let mut c = e.ctx();
    // The regex sees ";lr;ftag=other;foo=bar".
    for (pat, want) in [("^;lr;", 1), ("foo=bar$", 1), ("FOO=BAR", 1), ("x=y", -1)] {
        let r = re(pat);
        assert_eq!(
            call(&mut c, "rr", "check_route_param", &[ArgValue::Regex(&r)]),
            want,
            "{pat}"
        );
    }
    assert_eq!(call(&mut c, "rr", "is_direction", &[s("upstream")]), 1);
    assert_eq!(call(&mut c, "rr", "is_direction", &[s("UPSTREAM")]), 1);
    assert!(call_err(&mut c, "rr", "is_direction", &[s("sideways")]).contains("sideways"));
    // record_route() on an upstream request puts the To tag in ftag.
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:127.0.0.1:5070;lr;ftag=b9>"]
    );
    // is_direction needs append_fromtag.
    let mut e = env(&text, &[("rr", "append_fromtag", int(0))]);
    let mut c = e.ctx();
    assert!(call_err(&mut c, "rr", "is_direction", &[s("upstream")]).contains("append_fromtag"));
}

#[test]
fn tcp_in_udp_out_from_an_advertised_socket() {
    // Kamailio run: listen udp:P2 advertise 198.51.100.1:5060 and tcp:P; an INVITE over TCP
    // to a R-URI without transport leaves over UDP. The sending side keeps the advertised
    // port 5060, the receiving side leaves 5060 out.
    let mut e = Env::new(INVITE);
    e.locals = vec![local(0, Proto::Tcp, "127.0.0.1:5070"), {
        let mut l = local(1, Proto::Udp, "127.0.0.1:5071");
        l.advertise = Some(Advertise {
            host: "198.51.100.1".into(),
            port: Some(5060),
        });
        l
    }];
    let (m, proto) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(proto, Proto::Udp);
    assert_eq!(
        rr_lines(&m),
        [
            "Record-Route: <sip:198.51.100.1:5060;r2=on;lr;ftag=a1b2>",
            "Record-Route: <sip:127.0.0.1:5070;transport=tcp;r2=on;lr;ftag=a1b2>",
        ]
    );
    // Received on the advertised socket: `<sip:198.51.100.1;lr;ftag=a1b2>`.
    e.locals.swap(0, 1);
    e.locals[0].index = 0;
    e.locals[1].index = 1;
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(
        rr_lines(&m),
        ["Record-Route: <sip:198.51.100.1;lr;ftag=a1b2>"]
    );
}

#[test]
fn preloaded_upstream_request_gets_the_to_tag() {
    // Kamailio run: an INVITE without To tag whose Route is ours with ftag=zz: upstream, so
    // the (empty) To tag is used and no ftag is written.
    let text = INVITE.replace(
        "Max-Forwards",
        "Route: <sip:127.0.0.1:5070;lr;ftag=zz>\nMax-Forwards",
    );
    let mut e = env(&text, &[]);
    let (m, _) = forwarded(&mut e, |c| {
        call(c, "rr", "record_route", &[]);
    });
    assert_eq!(rr_lines(&m), ["Record-Route: <sip:127.0.0.1:5070;lr>"]);
}
