//! rr natives in process: the Record-Route bytes `forward()` writes, the route-parameter
//! functions (`loose_route()` itself is in `natives_rr_loose.rs`). Expected bytes are Kamailio 5.6.3's, captured on loopback with
//! `record_route(); forward();` (and the variants named in each test) and a UDP peer; the
//! Kamailio listened on udp+tcp 127.0.0.1:40724 and udp 127.0.0.1:5060. Here the sockets are
//! 127.0.0.1:5070 (and :5060 where the port must be left out), so only the port differs.

mod natives_common;
mod rr_common;
use natives_common::*;
use rr_common::*;
use sipvm_proxy::modules::rr::record::{self as rr, RrConfig, RrKind, RrRecord};
use sipvm_proxy::sip::Edits;
use sipvm_proxy::transport::{Advertise, Proto};
use sipvm_vm::ArgValue;

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
    assert!(sipvm_proxy::modules::rr::record::state(&c)
        .and_then(|s| s.record.as_ref())
        .is_none());
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
        rr::apply(&c, c.local, &mut ed);
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
