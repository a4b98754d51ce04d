//! Byte-for-byte against Kamailio 5.6.3: `testdata/` holds one call through
//! `testdata/kamailio.cfg`, recorded by `testdata/capture.py` (see docs/modules/topoh.md).
//! Each test feeds what Kamailio received to `received`, makes the edits Kamailio's core and
//! script made in between (its Via, Record-Route, loose_route), and expects from `sent` what
//! Kamailio put on the wire.

use super::msg::Topoh;
use crate::sip::{Edits, HeaderPos, Msg};
use bytes::Bytes;

const KEY: &str = "sipvm-golden-key";

fn topoh() -> Topoh {
    Topoh::new(
        KEY,
        "127.0.0.8",
        "line",
        "sr-",
        "branch",
        "z9hG4bKsr-",
        "!!:",
        true,
        false,
    )
    .unwrap()
}

/// Kamailio listened on 127.0.0.1:27010.
fn is_self(h: &str, p: Option<u16>) -> bool {
    h == "127.0.0.1" && p == Some(27010)
}

fn golden(name: &str) -> Bytes {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/modules/topoh/testdata/");
    Bytes::from(std::fs::read(format!("{dir}{name}.sip")).unwrap())
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\n")
}

/// The first header line named `name` of a golden (for the edits Kamailio's core made).
fn line_of(msg: &Bytes, name: &str) -> String {
    show(msg)
        .lines()
        .find(|l| l.starts_with(&format!("{name}: ")))
        .unwrap()
        .to_string()
}

fn edit(data: &Bytes, f: impl FnOnce(&Msg, &mut Edits)) -> Bytes {
    let m = Msg::parse(data.clone()).unwrap();
    let mut ed = Edits::new();
    f(&m, &mut ed);
    let mut out = Vec::new();
    m.serialize(&ed, &mut out).unwrap();
    Bytes::from(out)
}

#[test]
fn kamailio_via_encoding_decodes_and_reencodes() {
    let t = topoh();
    let got = golden("02-uas-got-invite");
    let via2 = show(&got)
        .lines()
        .filter(|l| l.starts_with("Via: "))
        .nth(1)
        .unwrap()
        .to_string();
    let v = via2.split("branch=").nth(1).unwrap();
    let plain = t.mask.decode(v.as_bytes(), "z9hG4bKsr-".len()).unwrap();
    assert_eq!(
        show(&plain),
        "SIP/2.0/UDP 127.0.0.1:27012;received=127.0.0.1;TH=div;branch=z9hG4bK-uac-1;rport=27012"
    );
    let prefix = b"SIP/2.0/UDP 127.0.0.8;branch=z9hG4bKsr-";
    assert_eq!(show(&t.mask.encode(&plain, prefix)), &via2["Via: ".len()..]);
}

#[test]
fn invite_downstream_matches_kamailio() {
    let t = topoh();
    let want = golden("02-uas-got-invite");
    let r = t.received(&golden("01-uac-invite"), &is_self).unwrap();
    // Kamailio's core: received (after host:port) and the rport value on the caller's Via,
    // then record_route() and forward().
    let r = edit(&r, |m, ed| {
        let v = m.top_via().unwrap().as_str();
        let at = v.as_ptr() as usize - m.as_bytes().as_ptr() as usize;
        ed.insert_at(at + v.find(';').unwrap(), b";received=127.0.0.1");
        ed.insert_at(at + v.len(), b"=27012");
        ed.add_header_raw(
            HeaderPos::Top,
            format!("{}\r\n", line_of(&want, "Record-Route")).as_bytes(),
        );
        ed.add_header_raw(
            HeaderPos::Top,
            format!("{}\r\n", line_of(&want, "Via")).as_bytes(),
        );
    });
    assert!(show(&r).contains("TH: dih\n"), "{}", show(&r));
    let s = t.sent(&r, &is_self).unwrap();
    assert_eq!(show(&s), show(&want));
}

#[test]
fn reply_upstream_matches_kamailio() {
    let t = topoh();
    let r = t.received(&golden("03-uas-200"), &is_self).unwrap();
    let r = edit(&r, |_, ed| ed.remove_top_via());
    let s = t.sent(&r, &is_self).unwrap();
    assert_eq!(show(&s), show(&golden("04-uac-got-200")));
}

#[test]
fn bye_from_callee_matches_kamailio() {
    let t = topoh();
    let want = golden("06-uac-got-bye");
    let r = t.received(&golden("05-uas-bye"), &is_self).unwrap();
    assert!(show(&r).starts_with("BYE sip:alice@127.0.0.1:27012;transport=udp SIP/2.0\n"));
    assert!(show(&r).contains("Call-ID: golden-call-1@127.0.0.1\n"));
    assert!(show(&r).contains("TH: uch\n"));
    // loose_route() drops our Route; forward() adds our Via.
    let r = edit(&r, |m, ed| {
        let first = m.headers().find(|h| h.name_str == b"Route").unwrap();
        ed.remove_header(first.index);
        ed.add_header_raw(
            HeaderPos::Top,
            format!("{}\r\n", line_of(&want, "Via")).as_bytes(),
        );
    });
    let s = t.sent(&r, &is_self).unwrap();
    assert_eq!(show(&s), show(&want));
}

#[test]
fn bye_reply_matches_kamailio() {
    let t = topoh();
    let r = t.received(&golden("07-uac-bye-200"), &is_self).unwrap();
    let r = edit(&r, |_, ed| ed.remove_top_via());
    let s = t.sent(&r, &is_self).unwrap();
    assert_eq!(show(&s), show(&golden("08-uas-got-bye-200")));
}

#[test]
fn local_reply_drops_via_cookie_and_keeps_call_id() {
    let t = topoh();
    let r = t.received(&golden("01-uac-invite"), &is_self).unwrap();
    let m = Msg::parse(r).unwrap();
    let mut buf = Vec::new();
    crate::sip::build_reply(&m, 404, "Not Here", Some("x"), &[], &mut buf).unwrap();
    let s = t.sent(&Bytes::from(buf), &is_self).unwrap();
    let s = show(&s);
    assert!(
        s.contains("Via: SIP/2.0/UDP 127.0.0.1:27012;branch=z9hG4bK-uac-1;rport"),
        "{s}"
    );
    assert!(!s.contains("TH"), "{s}");
    assert!(
        s.contains("Call-ID: golden-call-1@127.0.0.1\r\n".trim_end()),
        "{s}"
    );
}

#[test]
fn register_and_junk_pass_untouched() {
    let t = topoh();
    let reg = Bytes::from_static(
        b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(t.received(&reg, &is_self).is_none());
    assert!(t.sent(&reg, &is_self).is_none());
    for junk in [&b""[..], b"garbage", b"SIP/2.0 200 OK\r\n\r\n"] {
        let j = Bytes::copy_from_slice(junk);
        assert!(t.received(&j, &is_self).is_none());
        assert!(t.sent(&j, &is_self).is_none());
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const ALL: [&str; 8] = [
        "01-uac-invite",
        "02-uas-got-invite",
        "03-uas-200",
        "04-uac-got-200",
        "05-uas-bye",
        "06-uac-got-bye",
        "07-uac-bye-200",
        "08-uas-got-bye-200",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Network input: the recorded messages with bytes overwritten, cut or inserted, in
        /// both passes (and the output of one fed to the other).
        #[test]
        fn mangled_messages(
            which in 0usize..8,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8),
        ) {
            let t = topoh();
            let mut b = golden(ALL[which]).to_vec();
            for (at, byte, op) in edits {
                if b.is_empty() {
                    break;
                }
                let i = at % b.len();
                match op {
                    0 => b[i] = byte,
                    1 => b.truncate(i),
                    _ => b.insert(i, byte),
                }
            }
            let b = Bytes::from(b);
            if let Some(r) = t.received(&b, &is_self) {
                let _ = t.sent(&r, &is_self);
            }
            if let Some(s) = t.sent(&b, &is_self) {
                let _ = t.received(&s, &is_self);
            }
        }
    }
}

#[test]
fn local_reply_matches_kamailio() {
    let t = topoh();
    let r = t
        .received(&golden("09-uac-invite-nobody"), &is_self)
        .unwrap();
    assert!(
        show(&r).contains("Via: SIP/2.0/UDP 127.0.0.1:27012;TH=div;branch=z9hG4bK-uac-3;rport\n")
    );
    // Kamailio's sl reply copies that Via (adding rport and received); topoh drops the cookie.
    let want = golden("10-uac-got-404");
    let with_cookie =
        show(&want).replace("127.0.0.1:27012;branch", "127.0.0.1:27012;TH=div;branch");
    let with_cookie = Bytes::from(with_cookie.replace('\n', "\r\n"));
    let s = t.sent(&with_cookie, &is_self).unwrap();
    assert_eq!(show(&s), show(&want));
}

#[test]
fn uri_prefix_checks_decode_only_what_carries_the_prefix() {
    let mut t = topoh();
    t.uri_prefix_checks = true;
    // The callee's BYE: masked Request-URI and second Route carry the prefix: decoded.
    let r = t.received(&golden("05-uas-bye"), &is_self).unwrap();
    assert!(show(&r).starts_with("BYE sip:alice@127.0.0.1:27012;transport=udp SIP/2.0\n"));
    assert!(show(&r).contains("Route: <sip:127.0.0.1:27012;lr;ftag=up>\n"));
    // A Request-URI with the parameter but another host is left alone with the checks on,
    // decoded without them (Kamailio looks only at the parameter then).
    let line = show(&golden("05-uas-bye"))
        .lines()
        .next()
        .unwrap()
        .to_string();
    let other = show(&golden("05-uas-bye"))
        .replacen(&line, &line.replace("127.0.0.8", "192.0.2.9"), 1)
        .replace('\n', "\r\n");
    let other = Bytes::from(other);
    let r = t.received(&other, &is_self).unwrap();
    assert!(
        show(&r).starts_with("BYE sip:192.0.2.9;line=sr-"),
        "{}",
        show(&r)
    );
    t.uri_prefix_checks = false;
    let r = t.received(&other, &is_self).unwrap();
    assert!(show(&r).starts_with("BYE sip:alice@127.0.0.1:27012;transport=udp SIP/2.0\n"));
}

#[test]
fn another_key_gives_other_bytes_and_cannot_decode_ours() {
    let ours = topoh();
    let theirs = Topoh::new(
        "another-key",
        "127.0.0.8",
        "line",
        "sr-",
        "branch",
        "z9hG4bKsr-",
        "!!:",
        true,
        false,
    )
    .unwrap();
    let plain = b"golden-call-1@127.0.0.1";
    let a = ours.mask.encode(plain, b"!!:");
    assert_ne!(a, theirs.mask.encode(plain, b"!!:"));
    assert_ne!(theirs.mask.decode(&a, 3).as_deref(), Some(&plain[..]));
    assert!(Topoh::new("", "127.0.0.8", "l", "p", "b", "v", "c", false, false).is_err());
    assert!(Topoh::new("k", "", "l", "p", "b", "v", "c", false, false).is_err());
}
