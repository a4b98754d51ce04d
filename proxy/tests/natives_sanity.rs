//! sanity natives: Kamailio 5.6's default checks and return codes, the replies they send, and
//! the RFC 4475 / RFC 5118 torture messages with the codes their EXPECTED.tsv rows ask for.

mod natives_common;
use bytes::Bytes;
use natives_common::*;
use sipvm_proxy::sip::Msg;
use sipvm_vm::Value;

const OPTIONS: &str = "OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-2
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: c2@example.com
CSeq: 2 OPTIONS
Content-Length: 0

";

/// Runs `sanity_check()` with default parameters: (return code, status codes sent).
fn check(text: &str) -> (i64, Vec<u16>) {
    check_with(text, &[], &[])
}

fn check_with(
    text: &str,
    params: &[(&str, &str, Value)],
    args: &[sipvm_vm::ArgValue<'_>],
) -> (i64, Vec<u16>) {
    let mut e = Env::with_params(text, params);
    let rc = {
        let mut c = e.ctx();
        call(&mut c, "sanity", "sanity_check", args)
    };
    (rc, e.sent().iter().map(|r| code(r)).collect())
}

#[test]
fn a_good_request_passes() {
    assert_eq!(check(OPTIONS), (1, vec![]));
}

#[test]
fn failures_reply_and_stop_the_script_by_default() {
    let bad = OPTIONS.replace("CSeq: 2 OPTIONS", "CSeq: 2 INVITE");
    let mut e = Env::new(&bad);
    let mut c = e.ctx();
    // autodrop (default 1): 0, the script stops.
    assert_eq!(call(&mut c, "sanity", "sanity_check", &[]), 0);
    let sent = e.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].starts_with("SIP/2.0 400 CSeq method does not match request method\r\n"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains("\r\nCall-ID: c2@example.com\r\n"));
    // autodrop 0: -1.
    let (rc, codes) = check_with(&bad, &[("sanity", "autodrop", Value::Int(0))], &[]);
    assert_eq!((rc, codes), (-1, vec![400]));
}

#[test]
fn explicit_checks_and_their_range() {
    let bad = OPTIONS.replace("CSeq: 2 OPTIONS", "CSeq: 2 INVITE");
    // Only the R-URI checks: passes.
    assert_eq!(check_with(&bad, &[], &[i(3)]), (1, vec![]));
    // Out of range: -1, nothing sent.
    assert_eq!(check_with(&bad, &[], &[i(0)]), (-1, vec![]));
    assert_eq!(check_with(&bad, &[], &[i(1 << 17)]), (-1, vec![]));
    assert_eq!(check_with(&bad, &[], &[i(3), i(16)]), (-1, vec![]));
    // default_checks from modparam.
    assert_eq!(
        check_with(&bad, &[("sanity", "default_checks", Value::Int(1))], &[]),
        (1, vec![])
    );
}

#[test]
fn noreply_keeps_the_reply_for_sanity_reply() {
    let bad = OPTIONS.replace("CSeq: 2 OPTIONS", "CSeq: 99999999999 OPTIONS");
    let params = [("sanity", "noreply", Value::Int(1))];
    let mut e = Env::with_params(&bad, &params);
    {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "sanity", "sanity_check", &[]), 0);
        // Kept, not sent: sanity_reply() sends it.
        assert!(c.out.items().is_empty());
        assert_eq!(call(&mut c, "sanity", "sanity_reply", &[]), 1);
    }
    let sent = e.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("SIP/2.0 400 CSeq number is illegal\r\n"));
    // Nothing kept: 500.
    let mut e = Env::with_params(OPTIONS, &params);
    {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "sanity", "sanity_reply", &[]), 1);
    }
    assert!(e.sent()[0].starts_with("SIP/2.0 500 Server Sanity Failure\r\n"));
    // noreply off: sanity_reply does nothing.
    let mut e = Env::new(OPTIONS);
    {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "sanity", "sanity_reply", &[]), 1);
    }
    assert!(e.sent().is_empty());
}

#[test]
fn version_scheme_and_uri() {
    let v = OPTIONS.replace(" SIP/2.0\nVia", " SIP/3.0\nVia");
    let mut e = Env::new(&v);
    {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "sanity", "sanity_check", &[]), 0);
    }
    assert!(e.sent()[0].starts_with("SIP/2.0 505 Version Not Supported (R-URI)\r\n"));
    let u = OPTIONS.replace("sip:bob@example.com SIP", "http://example.com/ SIP");
    assert_eq!(check(&u), (0, vec![416]));
    let u = OPTIONS.replace(
        "sip:bob@example.com SIP",
        "sip:bob@example.com?Subject=x SIP",
    );
    assert_eq!(check(&u), (0, vec![400]));
    // A rewritten R-URI is the one checked.
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    c.ruri = Some("foo:bar".into());
    assert_eq!(call(&mut c, "sanity", "sanity_check", &[]), 0);
}

#[test]
fn cseq_expires_and_required_headers() {
    let m = OPTIONS.replace("CSeq: 2 OPTIONS", "CSeq: 2147483648 OPTIONS");
    assert_eq!(check(&m), (0, vec![400]));
    let m = OPTIONS.replace("CSeq: 2 OPTIONS", "CSeq: 2147483647 OPTIONS");
    assert_eq!(check(&m), (1, vec![]));
    for exp in ["abc", "", "99999999999", "4294967296"] {
        let m = OPTIONS.replace("Content-Length", &format!("Expires: {exp}\nContent-Length"));
        assert_eq!(check(&m), (0, vec![400]), "Expires: {exp}");
    }
    let m = OPTIONS.replace("Content-Length", "Expires: 3600\nContent-Length");
    assert_eq!(check(&m), (1, vec![]));
    let m = OPTIONS.replace("Call-ID: c2@example.com\n", "");
    assert_eq!(check(&m), (0, vec![400]));
    let m = OPTIONS.replace(
        "To: <sip:bob@example.com>\n",
        "To: <sip:bob@example.com>\nt: <sip:x@y>\n",
    );
    assert_eq!(check(&m), (0, vec![400]));
    // No Via at all: nowhere to answer.
    let m = OPTIONS.replace("Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-2\n", "");
    assert_eq!(check(&m), (0, vec![]));
}

#[test]
fn proxy_require_gets_420_with_unsupported() {
    let m = OPTIONS.replace("Content-Length", "Proxy-Require: foo, bar\nContent-Length");
    let mut e = Env::new(&m);
    {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "sanity", "sanity_check", &[]), 0);
    }
    let r = &e.sent()[0];
    assert!(
        r.starts_with("SIP/2.0 420 Bad Proxy Require Extension\r\n"),
        "{r}"
    );
    assert!(r.contains("\r\nUnsupported: foo, bar\r\n"), "{r}");
    let params = [("sanity", "proxy_require", Value::Str("foo,bar".into()))];
    assert_eq!(check_with(&m, &params, &[]), (1, vec![]));
}

#[test]
fn digest_credentials() {
    let with = |auth: &str| OPTIONS.replace("Content-Length", &format!("{auth}\nContent-Length"));
    let good = r#"Authorization: Digest username="alice", realm="example.com", nonce="abc", uri="sip:bob@example.com", response="0123456789abcdef0123456789abcdef""#;
    assert_eq!(check(&with(good)), (1, vec![]));
    let empty_user = good.replace(r#"username="alice""#, r#"username="""#);
    assert_eq!(check(&with(&empty_user)), (0, vec![400]));
    let no_nonce = good.replace(r#"nonce="abc", "#, "");
    assert_eq!(check(&with(&no_nonce)), (0, vec![400]));
    let qop = good.replace("response=", "qop=auth, response=");
    assert_eq!(check(&with(&qop)), (0, vec![400]));
    // Not Digest: passes (Kamailio's CHECK_DIGEST drops it silently; RFC 4475 §3.3.7).
    assert_eq!(
        check(&with("Authorization: Basic YWxpY2U6c2VjcmV0")),
        (1, vec![])
    );
    assert_eq!(
        check_with(
            &with("Authorization: Basic YWxpY2U6c2VjcmV0"),
            &[],
            &[i(1 << 13)]
        ),
        (1, vec![])
    );
}

#[test]
fn parse_uris_and_duptags() {
    let m = OPTIONS.replace(
        "From: <sip:alice@example.com>;tag=a1",
        "From: <sip:alice@example.com>;tag=a1;tag=a2",
    );
    assert_eq!(check(&m), (1, vec![]));
    assert_eq!(check_with(&m, &[], &[i(1 << 12)]), (0, vec![400]));
    let m = OPTIONS.replace(
        "Content-Length",
        "Contact: <sip:alice@[bad>\nContent-Length",
    );
    assert_eq!(check_with(&m, &[], &[i(1 << 10), i(8)]), (0, vec![400]));
    assert_eq!(check_with(&m, &[], &[i(1 << 10), i(7)]), (1, vec![]));
}

#[test]
fn acks_and_replies_get_no_reply() {
    let ack = OPTIONS
        .replace("OPTIONS sip", "ACK sip")
        .replace("CSeq: 2 OPTIONS", "CSeq: 2 INVITE");
    assert_eq!(check(&ack), (0, vec![]));
    let reply = "SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-2
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b1
Call-ID: c2@example.com
CSeq: 2 OPTIONS
Content-Length: 0

";
    assert_eq!(check(reply), (1, vec![]));
    let bad = reply.replace("CSeq: 2 OPTIONS", "CSeq: x OPTIONS");
    assert_eq!(check(&bad), (0, vec![]));
}

/// The codes a torture row allows from `sanity_check()` alone (`None`: it passes).
fn allowed(class: &str, note: &str) -> Vec<Option<u16>> {
    let lead: String = note.chars().take_while(char::is_ascii_digit).collect();
    let lead = (lead.len() == 3).then(|| lead.parse::<u16>().unwrap());
    match class {
        "valid" if note.contains("416") => vec![None, Some(416)],
        "valid" => match lead {
            Some(420) => vec![Some(420)],
            _ => vec![None],
        },
        "semantic" => vec![lead],
        c if c.starts_with("header:") => {
            if note.contains(" if ") || note.contains(" when ") || note.contains("route") {
                vec![lead, None]
            } else {
                vec![lead]
            }
        }
        _ => vec![],
    }
}

#[test]
fn torture_messages_get_their_expected_codes() {
    let base = std::path::Path::new("/work/shared/testdata");
    let mut failures = Vec::new();
    let mut n = 0;
    for dir in ["rfc4475", "rfc5118"] {
        let Ok(tsv) = std::fs::read_to_string(base.join(dir).join("EXPECTED.tsv")) else {
            eprintln!("skipping {dir}: no EXPECTED.tsv");
            continue;
        };
        for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (file, class, note) = (cols[0], cols[2], cols[3]);
            let path = [
                file.to_string(),
                format!("{file}.dat"),
                format!("{file}.sip"),
            ]
            .into_iter()
            .map(|f| base.join(dir).join(f))
            .find(|p| p.is_file());
            let Some(path) = path else {
                failures.push(format!("{dir}/{file}: no message file"));
                continue;
            };
            let data = std::fs::read(&path).unwrap();
            let Ok(msg) = Msg::parse(Bytes::from(data)) else {
                continue; // framing / start line: never reaches the script
            };
            if !msg.is_request() || msg.method_str() == "ACK" {
                continue;
            }
            let want = allowed(class, note);
            if want.is_empty() {
                continue;
            }
            n += 1;
            let mut e = Env::from_msg(msg, &[]);
            let rc = {
                let mut c = e.ctx();
                call(&mut c, "sanity", "sanity_check", &[])
            };
            let sent: Vec<u16> = e.sent().iter().map(|r| code(r)).collect();
            let got = match (rc, sent.as_slice()) {
                (1, []) => Some(None),
                (0, [c]) => Some(Some(*c)),
                _ => None,
            };
            if !got.is_some_and(|g| want.contains(&g)) {
                failures.push(format!(
                    "{dir}/{file} ({class}, {note}): rc {rc}, sent {sent:?}, want {want:?}"
                ));
            }
        }
    }
    assert!(n > 20, "only {n} torture requests checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
