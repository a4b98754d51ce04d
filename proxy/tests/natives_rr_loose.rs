//! `loose_route()` in process: return codes, the Request-URI, `$du` and the Route headers
//! left, as Kamailio 5.6.3 gave them for the same BYEs (case numbers are those of the
//! Kamailio run: udp+tcp 127.0.0.1:40724, here 127.0.0.1:5070).

mod natives_common;
mod rr_common;
use natives_common::*;
use rr_common::*;
use sipvm_vm::{ArgValue, Value};

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
    assert_eq!(c.force_socket, Some(0), "udp:127.0.0.1:5070");
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
fn odd_route_sets_never_panic() {
    let cases = [
        format!("Route: <sip:127.0.0.1:{P};r2=on;lr>\n"),
        format!("Route: <sip:127.0.0.1:{P};r2=on;lr>, <sip:127.0.0.1:{P};r2=on;lr>\n"),
        "Route: <tel:+1234>\n".to_string(),
        "Route: <sip:127.0.0.1:41002;maddr=>\n".to_string(),
        "Route: <sip:127.0.0.1:41002;lr>,,<sip:x>\n".to_string(),
        "Route: sip:127.0.0.1:41002;lr\n".to_string(),
        "Route: \"a, b\" <sip:127.0.0.1:41002;lr>;x=\"y,z\", <sip:127.0.0.1:41003>\n".to_string(),
        format!("Route: <sip:127.0.0.1:{P};lr>\nRoute:\n"),
    ];
    let mut ran = 0;
    for routes in &cases {
        for ruri in [RU, "sip:127.0.0.1:5070;lr"] {
            for to_tag in [";tag=b9", ""] {
                let text = bye(ruri, routes, to_tag, "");
                let wire = text.replace('\n', "\r\n");
                let Ok(m) = sipvm_proxy::sip::Msg::parse(bytes::Bytes::from(wire)) else {
                    continue;
                };
                let mut e = Env::from_msg(m, &[]);
                e.locals = env("OPTIONS sip:x SIP/2.0\n\n", &[]).locals;
                let mut c = e.ctx();
                let r = call(&mut c, "rr", "loose_route", &[]);
                assert!([1, -1, -3].contains(&r), "{routes}: {r}");
                let mut out = Vec::new();
                c.msg.serialize(&c.edits, &mut out).expect("edits apply");
                ran += 1;
            }
        }
    }
    // Headers parse lazily: every message frames, so every case ran.
    assert_eq!(ran, cases.len() * 4);
}
