//! RFC 4475 and RFC 5118 torture messages, driven by each directory's EXPECTED.tsv: every
//! row is asserted, and every message file must have a row.

mod common;
use common::shared;

use bytes::Bytes;
use sipvm_proxy::sip::{build_error_reply, build_reply, Edits, Msg, ParseErrorKind};

/// The message bytes (RFC 5118's LF files converted; see `common::torture_message`).
fn load(dir: &str, file: &str) -> Vec<u8> {
    common::torture_message(dir, file)
}

/// Whether a 400 can be built for the framing/start-line failures (a judgement per file:
/// see docs/sip.md). Responses never get replies.
fn expected_can_reply(file: &str) -> bool {
    match file {
        // Requests whose top Via, From, To, Call-ID and CSeq are all readable.
        "clerr.dat" | "ncl.dat" | "mcl01.dat" | "ltgtruri.dat" | "lwsruri.dat" | "lwsstart.dat"
        | "trws.dat" | "ipv6-bad" => true,
        // No blank line, but every header line is complete and the five are present.
        "baddn.dat" => true,
        // A response.
        "bigcode.dat" => false,
        other => panic!("no can_reply expectation for {other}"),
    }
}

fn header_fails(m: &Msg, name: &str) -> bool {
    match name {
        "Via" => m.via().is_err(),
        "CSeq" => m.cseq().is_err(),
        "To" => m.to().is_err(),
        "From" => m.from().is_err(),
        "Date" => m.date().is_err(),
        "Contact" => m.contacts().is_err(),
        "Max-Forwards" => m.max_forwards().is_err(),
        other => panic!("no accessor mapped for header:{other}"),
    }
}

/// With no edits, serialization gives back the parsed message byte for byte.
fn assert_roundtrip(file: &str, m: &Msg) {
    let mut out = Vec::new();
    m.serialize(&Edits::new(), &mut out).unwrap();
    assert_eq!(
        out,
        m.as_bytes(),
        "{file}: serialize without edits changed the message"
    );
}

fn run(dir: &str) -> usize {
    let tsv =
        std::fs::read_to_string(shared().join("testdata").join(dir).join("EXPECTED.tsv")).unwrap();
    let mut rows = 0;
    let mut seen = Vec::new();
    for line in tsv
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, class) = (cols[0], cols[2]);
        seen.push(file.to_string());
        let input = load(dir, file);
        let parsed = Msg::parse(Bytes::from(input.clone()));
        match class {
            "valid" => {
                let m = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
                m.check_all().unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(m.version_ok(), "{file}");
                assert_roundtrip(file, &m);
                if file != "dblreq.dat" && m.content_length().is_some() {
                    assert_eq!(m.as_bytes(), &input[..], "{file}: message was cut");
                }
                if m.is_request() {
                    let mut out = Vec::new();
                    build_reply(&m, 200, "OK", Some("abc"), &[], &mut out)
                        .unwrap_or_else(|e| panic!("{file}: {e}"));
                    let r = Msg::parse(Bytes::from(out))
                        .unwrap_or_else(|e| panic!("{file}: reply: {e}"));
                    r.check_all()
                        .unwrap_or_else(|e| panic!("{file}: reply: {e}"));
                    assert_eq!(r.via().unwrap().len(), m.via().unwrap().len(), "{file}");
                    assert_eq!(r.call_id().unwrap(), m.call_id().unwrap(), "{file}");
                    assert!(r.to().unwrap().tag().is_some(), "{file}");
                } else {
                    assert!(m.status().is_some(), "{file}");
                }
            }
            "framing" | "startline" => {
                let e = match parsed {
                    Ok(_) => panic!("{file}: parsed, expected a {class} error"),
                    Err(e) => e,
                };
                let want = if class == "framing" {
                    ParseErrorKind::Framing
                } else {
                    ParseErrorKind::StartLine
                };
                assert_eq!(e.kind(), want, "{file}: {e}");
                assert_eq!(e.can_reply(), expected_can_reply(file), "{file}: can_reply");
                let mut out = Vec::new();
                let built = build_error_reply(&e, 400, "Bad Request", Some("t1"), &mut out);
                assert_eq!(built.is_ok(), e.can_reply(), "{file}");
                if built.is_ok() {
                    let r =
                        Msg::parse(Bytes::from(out)).unwrap_or_else(|e| panic!("{file}: 400: {e}"));
                    assert_eq!(r.status(), Some(400));
                    assert!(r.via().is_ok() && r.cseq().is_ok(), "{file}");
                }
            }
            c if c.starts_with("header:") => {
                let name = &c["header:".len()..];
                let m = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert!(
                    header_fails(&m, name),
                    "{file}: {name} parsed but should not"
                );
                assert_roundtrip(file, &m);
                // A 400 can be built when the five reply headers are readable.
                if m.can_reply() {
                    let mut out = Vec::new();
                    build_reply(&m, 400, "Bad Request", Some("t"), &[], &mut out).unwrap();
                    Msg::parse(Bytes::from(out)).unwrap_or_else(|e| panic!("{file}: 400: {e}"));
                }
            }
            "semantic" => {
                let m = parsed.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_roundtrip(file, &m);
            }
            "unreferenced" => {
                if let Ok(m) = parsed {
                    let _ = m.check_all();
                    assert_roundtrip(file, &m);
                }
            }
            other => panic!("{file}: unknown class {other}"),
        }
        rows += 1;
    }
    // Every message file in the directory has a row.
    for entry in std::fs::read_dir(shared().join("testdata").join(dir)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "EXPECTED.tsv" {
            assert!(seen.contains(&name), "{dir}/{name} has no EXPECTED.tsv row");
        }
    }
    rows
}

#[test]
fn rfc4475() {
    assert_eq!(run("rfc4475"), 50);
}

#[test]
fn rfc5118() {
    assert_eq!(run("rfc5118"), 12);
}
