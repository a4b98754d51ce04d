//! topoh side by side with Kamailio 5.6: sipvm runs src/modules/topoh/testdata/kamailio.cfg
//! (the file Kamailio ran for the goldens, on another port) and gets the messages the golden
//! peers sent; what reaches each peer must carry the same encoded Contact, Call-ID and
//! Record-Route bytes Kamailio sent (testdata/NN-*.sip), the same decoded Vias, and come back
//! decoded the same. Only sipvm's own Via and Record-Route (its port, its branch) differ.
//! Fixed ports 27011/27012 (this module's range; the goldens name them).

mod common;
use common::*;
use sipvm_proxy::modules::topoh::mask::Mask;
use std::path::PathBuf;
use std::time::Duration;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/modules/topoh/testdata")
        .join(name)
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(testdata(&format!("{name}.sip"))).unwrap()
}

fn lines(m: &[u8], name: &str) -> Vec<String> {
    header(m, name).iter().map(|s| s.to_string()).collect()
}

/// The golden with every `name` header replaced by `values`, in place of the first one.
fn with_headers(m: &[u8], name: &str, values: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(m).into_owned();
    let mut out = Vec::new();
    let mut done = false;
    for l in text.split("\r\n") {
        if l.split_once(':').is_some_and(|(n, _)| n.trim() == name) {
            if !done {
                out.extend(values.iter().map(|v| format!("{name}: {v}")));
                done = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    out.join("\r\n").into_bytes()
}

#[test]
fn same_encodings_as_kamailio_on_the_wire() {
    let cfg = std::fs::read_to_string(testdata("kamailio.cfg"))
        .unwrap()
        .replace("127.0.0.1:27010", "127.0.0.1:5060");
    let server = Sipvm::start(&cfg, &[]);
    let (uas, uac) = (Peer::on(27011), Peer::on(27012));
    let wait = Duration::from_secs(2);

    // INVITE downstream: Kamailio's encodings of the caller's Contact, Call-ID, upstream
    // Record-Route and Via.
    uac.send(server.addr, &golden("01-uac-invite"));
    let (inv, _) = uas.recv(wait).expect("the INVITE");
    let k = golden("02-uas-got-invite");
    for h in ["Contact", "Call-ID", "From", "To", "CSeq"] {
        assert_eq!(lines(&inv, h), lines(&k, h), "{h}\n{}", text(&inv));
    }
    let (rr, krr) = (lines(&inv, "Record-Route"), lines(&k, "Record-Route"));
    assert_eq!(rr.len(), 2, "{}", text(&inv));
    assert_eq!(rr[1], krr[1], "the upstream Record-Route, encoded");
    let (via, kvia) = (lines(&inv, "Via"), lines(&k, "Via"));
    assert_eq!(via.len(), 2);
    assert!(via[1].starts_with("SIP/2.0/UDP 127.0.0.8;branch=z9hG4bKsr-"));
    assert!(!text(&inv).contains("27012;") && !text(&inv).contains("TH"));
    // Both decode to the caller's Via with the cookie after host:port; the cores differ only
    // in where `received` goes (Kamailio: before the other parameters, sipvm: at the end).
    let mask = Mask::new(b"sipvm-golden-key");
    let plain = |v: &str| {
        let enc = v.split("branch=").nth(1).unwrap();
        String::from_utf8(mask.decode(enc.as_bytes(), "z9hG4bKsr-".len()).unwrap()).unwrap()
    };
    let (ours, theirs) = (plain(&via[1]), plain(&kvia[1]));
    assert_eq!(
        theirs,
        "SIP/2.0/UDP 127.0.0.1:27012;received=127.0.0.1;TH=div;branch=z9hG4bK-uac-1;rport=27012"
    );
    assert!(
        ours.starts_with("SIP/2.0/UDP 127.0.0.1:27012;TH=div;branch=z9hG4bK-uac-1;rport"),
        "{ours}"
    );
    assert!(ours.contains("received=127.0.0.1"), "{ours}");

    // The 200 upstream: decoded back to what the caller's side had.
    let ok = with_headers(&golden("03-uas-200"), "Via", &via);
    let ok = with_headers(&ok, "Record-Route", &rr);
    uas.send(server.addr, &ok);
    let (got, _) = uac.recv(wait).expect("the 200");
    let k = golden("04-uac-got-200");
    for h in ["Contact", "Call-ID", "From", "To", "CSeq"] {
        assert_eq!(lines(&got, h), lines(&k, h), "{h}\n{}", text(&got));
    }
    let grr = lines(&got, "Record-Route");
    assert_eq!(grr[1], lines(&k, "Record-Route")[1], "decoded back");
    assert_eq!(grr[0], rr[0], "ours, untouched");
    assert_eq!(lines(&got, "Via").len(), 1);
    assert!(lines(&got, "Via")[0].contains("branch=z9hG4bK-uac-1"));

    // The callee hangs up towards the masked Contact through our Record-Route: the caller
    // gets its own Contact as Request-URI and its own Call-ID.
    let bye = String::from_utf8_lossy(&golden("05-uas-bye"))
        .replace(
            "Route: <sip:127.0.0.1:27010;lr;ftag=alice-tag>",
            &format!("Route: {}", rr[0]),
        )
        .into_bytes();
    uas.send(server.addr, &bye);
    let (got, _) = uac.recv(wait).expect("the BYE");
    let k = golden("06-uac-got-bye");
    assert_eq!(start_line(&got), start_line(&k));
    for h in ["Route", "Call-ID", "From", "To", "CSeq"] {
        assert_eq!(lines(&got, h), lines(&k, h), "{h}\n{}", text(&got));
    }
    let gv = lines(&got, "Via");
    assert!(gv[1].starts_with("SIP/2.0/UDP 127.0.0.8;branch=z9hG4bKsr-"));

    // Its 200 goes back with the callee's Via decoded and the Call-ID encoded again.
    let ok = with_headers(&golden("07-uac-bye-200"), "Via", &gv);
    uac.send(server.addr, &ok);
    let (got, _) = uas.recv(wait).expect("the BYE's 200");
    assert_eq!(got, golden("08-uas-got-bye-200"), "{}", text(&got));

    // A reply of our own: the cookie the Via carried in is gone, the Call-ID untouched.
    uac.send(server.addr, &golden("09-uac-invite-nobody"));
    let (got, _) = uac.recv(wait).expect("the 404");
    let k = golden("10-uac-got-404");
    assert_eq!(start_line(&got), start_line(&k));
    for h in ["Call-ID", "From", "CSeq"] {
        assert_eq!(lines(&got, h), lines(&k, h), "{h}\n{}", text(&got));
    }
    let v = &lines(&got, "Via")[0];
    assert!(
        v.starts_with("SIP/2.0/UDP 127.0.0.1:27012;branch=z9hG4bK-uac-3;rport=27012"),
        "{v}"
    );
    assert!(!text(&got).contains("TH"), "{}", text(&got));
}
