//! What the parser reads out of the torture messages, field by field.

use std::path::PathBuf;

use bytes::Bytes;
use sipvm_proxy::sip::{
    Framing, HeaderError, HeaderName, HostKind, Method, Msg, ParseErrorKind, Scheme, Uri,
};

fn dat(file: &str) -> Msg {
    let mut p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testdata/rfc4475");
    if !p.is_dir() {
        p = PathBuf::from("/work/shared/testdata/rfc4475");
    }
    Msg::parse(Bytes::from(std::fs::read(p.join(file)).unwrap())).unwrap()
}

fn msg(s: &str) -> Msg {
    Msg::parse(Bytes::from(s.replace('\n', "\r\n"))).unwrap()
}

#[test]
fn wsinv() {
    let m = dat("wsinv.dat");
    assert_eq!(m.method(), Some(Method::Invite));
    let v = m.via().unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(
        (v[0].protocol(), v[0].version(), v[0].transport()),
        ("SIP", "2.0", "UDP")
    );
    assert_eq!(
        (v[0].host(), v[0].branch()),
        ("192.0.2.2", Some("390skdjuw"))
    );
    assert_eq!(
        (v[1].transport(), v[1].host(), v[1].branch()),
        ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8"))
    );
    assert_eq!(
        (v[2].host(), v[2].branch()),
        ("192.168.255.111", Some("z9hG4bK30239"))
    );
    let to = m.to().unwrap();
    assert_eq!(to.tag(), Some("1918181833n"));
    assert_eq!(to.uri().host(), "chair-dnrc.example.com");
    let from = m.from().unwrap();
    assert_eq!(from.display(), Some(r#""J Rosenberg \\\"""#));
    assert_eq!(from.display_unquoted().unwrap(), r#"J Rosenberg \""#);
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(m.max_forwards().unwrap(), Some(68));
    let cs = m.cseq().unwrap();
    assert_eq!((cs.seq, cs.method), (9, "INVITE"));
    assert_eq!(m.content_length(), Some(150));
    assert_eq!(m.body().len(), 150);
    let c = m.contacts().unwrap();
    assert_eq!(c.list.len(), 1);
    assert_eq!(c.list[0].q, Some(330));
    assert_eq!(
        c.list[0].addr.params().get("newparam"),
        Some(Some("newvalue"))
    );
    assert_eq!(c.list[0].addr.params().get("secondparam"), Some(None));
    assert_eq!(
        c.list[0].addr.display_unquoted().unwrap(),
        r#"Quoted string """#
    );
    assert_eq!(m.route().unwrap().len(), 1);
    assert!(m.route().unwrap()[0].uri().param("lr").is_some());
    assert_eq!(
        m.header_values(HeaderName::Subject).collect::<Vec<_>>(),
        vec![&b""[..]]
    );
    let nf: Vec<_> = m.header_values_by_name("newfangledheader").collect();
    assert_eq!(
        nf,
        vec![&b"newfangled value\r\n continued newfangled value"[..]]
    );
    assert_eq!(m.ruri().unwrap().param("unknownparam"), Some(None));
}

#[test]
fn intmeth_and_escapes() {
    let m = dat("intmeth.dat");
    assert_eq!(m.method(), Some(Method::Other));
    assert_eq!(
        m.method_str(),
        "!interesting-Method0123456789_*+`.%indeed'~"
    );
    let u = m.ruri().unwrap();
    assert_eq!(
        u.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        u.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(u.host(), "example.com");
    assert_eq!(m.cseq().unwrap().method, m.method_str());
    assert_eq!(
        m.from().unwrap().display(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(m.from().unwrap().tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        m.call_id().unwrap(),
        "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    );

    let m = dat("esc01.dat");
    let u = m.ruri().unwrap();
    assert_eq!(u.user(), Some("sips%3Auser%40example.com"));
    assert_eq!(&*u.user_unescaped().unwrap(), b"sips:user@example.com");
    assert_eq!(&*m.to().unwrap().uri().user_unescaped().unwrap(), b"user");
    let c = &m.contacts().unwrap().list[0];
    assert_eq!(c.addr.uri().param("%6C%72"), Some(None));

    let m = dat("escnull.dat");
    let c = m.contacts().unwrap();
    assert_eq!(c.list.len(), 2);
    assert_eq!(&*c.list[1].addr.uri().user_unescaped().unwrap(), b"\0\0");

    let m = dat("esc02.dat");
    assert_eq!(m.method_str(), "RE%47IST%45R");
    assert_eq!(
        m.contacts().unwrap().list.len(),
        2,
        "C%6Fntact is not Contact"
    );
    assert_eq!(m.header_values_by_name("C%6Fntact").count(), 1);
}

#[test]
fn name_addr_forms() {
    assert_eq!(dat("lwsdisp.dat").from().unwrap().display(), Some("caller"));
    let m = dat("semiuri.dat");
    let u = m.ruri().unwrap();
    assert_eq!(
        (u.user(), u.host(), u.params().is_empty()),
        (Some("user;par=u%40example.net"), "example.com", true)
    );
    let m = dat("unksm2.dat");
    assert_eq!(m.to().unwrap().uri().scheme(), Scheme::Other);
    assert_eq!(m.to().unwrap().uri().scheme_str(), "isbn");
    assert_eq!(m.from().unwrap().uri().as_str(), "http://www.example.com");
    assert_eq!(
        dat("unkscm.dat").ruri().unwrap().opaque(),
        "totallyopaquecontent"
    );
    let m = dat("cparam01.dat");
    let c = &m.contacts().unwrap().list[0];
    assert!(!c.addr.bracketed() && c.addr.uri().params().is_empty());
    assert_eq!(c.addr.params().get("unknownparam"), Some(None));
    let m = dat("cparam02.dat");
    let c = &m.contacts().unwrap().list[0];
    assert_eq!(c.addr.uri().param("unknownparam"), Some(None));
    assert!(c.addr.params().is_empty());
    let m = dat("regescrt.dat");
    assert_eq!(
        m.contacts().unwrap().list[0].addr.uri().headers(),
        Some("Route=%3Csip:sip.example.com%3E")
    );
}

#[test]
fn framing_and_first_line() {
    let m = dat("dblreq.dat");
    assert_eq!(m.method(), Some(Method::Register));
    assert!(m.as_bytes().ends_with(b"Content-Length: 0\r\n\r\n"));
    let m = dat("inv2543.dat");
    assert_eq!(m.content_length(), None);
    assert!(m.body().starts_with(b"v=0") && m.body().ends_with(b"RTP/AVP 0\r\n"));
    assert_eq!(m.max_forwards().unwrap(), None);
    let m = dat("noreason.dat");
    assert_eq!((m.status(), m.reason()), (Some(100), Some(&b""[..])));
    let m = dat("unreason.dat");
    assert!(std::str::from_utf8(m.reason().unwrap())
        .unwrap()
        .starts_with("= 2**3 * 5**2 но"));
    assert_eq!(dat("zeromf.dat").max_forwards().unwrap(), Some(0));
    assert!(!dat("badvers.dat").version_ok());
    assert_eq!(
        dat("insuf.dat").from().unwrap_err(),
        HeaderError::Missing(HeaderName::From)
    );
    let m = dat("mismatch01.dat");
    assert_eq!(
        (m.method(), m.cseq().unwrap().method),
        (Some(Method::Options), "INVITE")
    );
    assert_eq!(
        dat("multi01.dat").header_values(HeaderName::CallId).count(),
        2
    );
    assert_eq!(
        dat("escruri.dat").ruri().unwrap().headers(),
        Some("Route=%3Csip:example.com%3E")
    );
}

#[test]
fn other_headers() {
    let m = dat("mpart01.dat");
    let v = &m.via().unwrap()[0];
    assert_eq!((v.port(), v.rport()), (Some(5070), Some(None)));
    let ct = m.content_type().unwrap().unwrap();
    assert!(ct.is("multipart", "MIXED"));
    assert_eq!(ct.params.get("boundary"), Some(Some("7a9cbec02ceef655")));
    assert_eq!(m.date().unwrap().unwrap().unix, 1_129_351_496);
    let m = dat("bext01.dat");
    assert_eq!(
        m.require().unwrap(),
        ["nothingSupportsThis", "nothingSupportsThisEither"]
    );
    assert_eq!(
        m.proxy_require().unwrap(),
        ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]
    );
    assert!(m.supported().unwrap().is_empty());
    let m = dat("transports.dat");
    let t: Vec<_> = m.via().unwrap().iter().map(|v| v.transport()).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    let m = dat("scalar02.dat");
    assert!(m.cseq().is_err());
    // Kamailio reads Max-Forwards as an unsigned short; maxfwd then caps it at max_limit.
    assert_eq!(m.max_forwards().unwrap(), Some(300));
    assert_eq!(m.expires().unwrap(), Some(u32::MAX));
    assert_eq!(m.contacts().unwrap().list[0].expires, Some(u32::MAX));
    assert!(dat("regbadct.dat").contacts().is_err());
    assert!(dat("badaspec.dat").to().is_err());
    assert!(dat("quotbal.dat").to().is_err());
    assert!(dat("baddate.dat").date().is_err());
    assert_eq!(dat("longreq.dat").via().unwrap().len(), 34);
}

#[test]
fn ipv6() {
    let m = msg("REGISTER sip:[2001:db8::10:5070] SIP/2.0\nVia: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3\nVia: SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];rport=5061\n\n");
    let u = m.ruri().unwrap();
    assert_eq!(
        (u.host(), u.host_kind(), u.port()),
        ("[2001:db8::10:5070]", HostKind::Ipv6, None)
    );
    let v = m.via().unwrap();
    assert_eq!(
        (v[0].host(), v[0].received()),
        ("[2001:db8::9:1]", Some("2001:db8::9:255"))
    );
    assert_eq!(
        (v[1].port(), v[1].received(), v[1].rport()),
        (Some(6050), Some("[2001:db8::9:255]"), Some(Some("5061")))
    );
    let u = Uri::parse("sip:[2001:db8::10]:5070").unwrap();
    assert_eq!(
        (u.port(), u.hostport()),
        (Some(5070), "[2001:db8::10]:5070")
    );
    assert!(Uri::parse("sip:2001:db8::10").is_err());
    assert!(Uri::parse("sip:user@[2001:db8:::192.0.2.1]").is_ok());
    assert_eq!(
        Uri::parse("sip:[::ffff:192.0.2.2]").unwrap().host_kind(),
        HostKind::Ipv6
    );
}

#[test]
fn uris() {
    let u =
        Uri::parse("sips:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=x&priority=urgent")
            .unwrap();
    assert_eq!(u.scheme(), Scheme::Sips);
    assert_eq!(
        (u.user(), u.password(), u.host(), u.port()),
        (Some("alice"), Some("secret"), "atlanta.com", Some(5061))
    );
    assert_eq!(u.param("TRANSPORT"), Some(Some("tcp")));
    assert_eq!(u.param("lr"), Some(None));
    assert_eq!(u.headers(), Some("subject=x&priority=urgent"));
    assert_eq!(
        Uri::parse("sip:192.0.2.4").unwrap().host_kind(),
        HostKind::Ipv4
    );
    let t = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
    assert_eq!(
        (t.scheme(), t.user(), t.param("phone-context")),
        (
            Scheme::Tel,
            Some("+1-201-555-0123"),
            Some(Some("example.com"))
        )
    );
    for bad in [
        "sip:",
        "sip:@host",
        "sip:user@",
        "sip:host:99999",
        "sip:host:",
        "sip:us%zzer@host",
        "sip:host;;lr",
        "sip:host;=x",
        "sip:host?noeq",
        "<sip:host>",
        "sip:host name",
        "sip:999.1.1.1",
        "sip:[::1",
        "1sip:x",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad} should be rejected");
    }
}

#[test]
fn framing_errors() {
    let e = |s: &str| Msg::parse(Bytes::from(s.replace('\n', "\r\n"))).unwrap_err();
    assert_eq!(
        Msg::parse(Bytes::from_static(b"\r\n\r\n"))
            .unwrap_err()
            .kind(),
        ParseErrorKind::Empty
    );
    assert_eq!(
        e("OPTIONS sip:a SIP/2.0\nVia SIP/2.0/UDP h\n\n").kind(),
        ParseErrorKind::Framing
    );
    assert_eq!(
        e("OPTIONS sip:a SIP/2.0\n folded-first: x\n\n").kind(),
        ParseErrorKind::Framing
    );
    assert_eq!(
        e("OPTIONS sip:a SIP/2.0\nl: 1x\n\n").kind(),
        ParseErrorKind::Framing
    );
    assert_eq!(e("SIP/2.0 20 OK\n\n").kind(), ParseErrorKind::StartLine);
    assert_eq!(e("SIP/2.0 700 OK\n\n").kind(), ParseErrorKind::StartLine);
    assert_eq!(
        e("OPTIONS sip:a SIP/2\n\n").kind(),
        ParseErrorKind::StartLine
    );
    assert_eq!(
        e("OPTIONS  sip:a SIP/2.0\n\n").kind(),
        ParseErrorKind::StartLine
    );
    let big = vec![b'a'; sipvm_proxy::sip::MAX_MSG_LEN + 1];
    assert_eq!(
        Msg::parse(Bytes::from(big)).unwrap_err().kind(),
        ParseErrorKind::TooLarge
    );
    // More than 1000 headers: refused, but the first ones can still answer it.
    let mut many = String::from(
        "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\
         From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n",
    );
    for i in 0..1200 {
        many.push_str(&format!("X-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let err = Msg::parse(Bytes::from(many)).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::TooLarge);
    assert!(err.can_reply(), "the first headers are kept");
    // Leading CRLFs are skipped; bare LF line ends are tolerated.
    let m = Msg::parse(Bytes::from_static(
        b"\r\nOPTIONS sip:a SIP/2.0\nCall-ID: x\n\n",
    ))
    .unwrap();
    assert_eq!(m.call_id().unwrap(), "x");
    assert!(m.as_bytes().starts_with(b"OPTIONS"));
}

#[test]
fn stream_framing() {
    let one = "OPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc";
    let two = format!("{one}{one}");
    let m = Msg::parse_with(Bytes::from(two), Framing::Stream).unwrap();
    assert_eq!((m.len(), m.body()), (one.len(), &b"abc"[..]));
    let e = Msg::parse_with(Bytes::from(&one[..one.len() - 1]), Framing::Stream).unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Incomplete);
    let e = Msg::parse_with(Bytes::from(&one[..30]), Framing::Stream).unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Incomplete);
    let e = Msg::parse_with(
        Bytes::from_static(b"OPTIONS sip:a SIP/2.0\r\n\r\n"),
        Framing::Stream,
    )
    .unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Framing);
}

#[test]
fn contact_star_and_lists() {
    let m = msg("REGISTER sip:r SIP/2.0\nContact: *\nExpires: 0\n\n");
    assert!(m.contacts().unwrap().star);
    assert_eq!(m.expires().unwrap(), Some(0));
    let m = msg("REGISTER sip:r SIP/2.0\nContact: *, <sip:a@b>\n\n");
    assert!(m.contacts().is_err());
    let m = msg("REGISTER sip:r SIP/2.0\nm: <sip:a@b>;q=1.0;expires=60, \"B\" <sip:c@d>\nContact: sip:e@f;q=0.5\n\n");
    let c = m.contacts().unwrap();
    assert_eq!(c.list.len(), 3);
    assert_eq!((c.list[0].q, c.list[0].expires), (Some(1000), Some(60)));
    assert_eq!(c.list[1].addr.display(), Some("\"B\""));
    assert_eq!(c.list[2].q, Some(500));
    let m = msg("INVITE sip:r SIP/2.0\nRoute: <sip:p1;lr>, <sip:p2;lr>\nRoute: <sip:p3>\nRecord-Route: sip:bare\n\n");
    assert_eq!(m.route().unwrap().len(), 3);
    assert!(m.record_route().is_err(), "rec-route must be a name-addr");
    let m = msg("INVITE sip:r SIP/2.0\nContact: <sip:a@b>;q=1.5\nMax-Forwards: 65536\nCSeq: 2147483648 INVITE\n\n");
    assert!(m.contacts().is_err() && m.max_forwards().is_err() && m.cseq().is_err());
}

#[test]
fn sizes() {
    println!(
        "size_of Msg {} Uri {} NameAddr {} Via {}",
        std::mem::size_of::<Msg>(),
        std::mem::size_of::<Uri>(),
        std::mem::size_of::<sipvm_proxy::sip::NameAddr>(),
        std::mem::size_of::<sipvm_proxy::sip::Via>()
    );
}

#[test]
fn header_names() {
    let known = [
        ("Via", HeaderName::Via),
        ("v", HeaderName::Via),
        ("VIA", HeaderName::Via),
        ("f", HeaderName::From),
        ("from", HeaderName::From),
        ("T", HeaderName::To),
        ("to", HeaderName::To),
        ("i", HeaderName::CallId),
        ("call-id", HeaderName::CallId),
        ("CSEQ", HeaderName::CSeq),
        ("max-forwards", HeaderName::MaxForwards),
        ("m", HeaderName::Contact),
        ("Contact", HeaderName::Contact),
        ("route", HeaderName::Route),
        ("Record-Route", HeaderName::RecordRoute),
        ("l", HeaderName::ContentLength),
        ("Content-Length", HeaderName::ContentLength),
        ("c", HeaderName::ContentType),
        ("content-type", HeaderName::ContentType),
        ("e", HeaderName::ContentEncoding),
        ("require", HeaderName::Require),
        ("Proxy-Require", HeaderName::ProxyRequire),
        ("k", HeaderName::Supported),
        ("supported", HeaderName::Supported),
        ("expires", HeaderName::Expires),
        ("date", HeaderName::Date),
        ("s", HeaderName::Subject),
        ("r", HeaderName::ReferTo),
        ("o", HeaderName::Event),
        ("u", HeaderName::AllowEvents),
        ("x", HeaderName::SessionExpires),
        ("www-authenticate", HeaderName::WwwAuthenticate),
        ("P-Asserted-Identity", HeaderName::PAssertedIdentity),
        ("retry-after", HeaderName::RetryAfter),
    ];
    for (s, h) in known {
        assert_eq!(HeaderName::from_bytes(s.as_bytes()), h, "{s}");
        assert_eq!(HeaderName::from_bytes(h.as_str().as_bytes()), h);
    }
    for s in [
        "",
        "q",
        "Vias",
        "Contacts",
        "C%6Fntact",
        "X-Via",
        "Call_ID",
        "Tox",
        "Content-Lengtx",
    ] {
        assert_eq!(
            HeaderName::from_bytes(s.as_bytes()),
            HeaderName::Other,
            "{s}"
        );
    }
}

#[test]
fn msg_is_send() {
    fn send<T: Send>() {}
    send::<Msg>();
    send::<sipvm_proxy::sip::ParseError>();
}
