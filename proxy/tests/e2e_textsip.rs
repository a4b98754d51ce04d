//! siputils, textops, textopsx and sdpops on the real binary: a request is checked and
//! rewritten by the script (SDP codecs, headers, R-URI parameters) and forwarded to a peer,
//! which sees every edit; an OPTIONS to the server is answered by `options_reply()`.

mod common;
use common::*;

const CFG: &str = "listen=udp:127.0.0.1:5060\nchildren=1\n\
    loadmodule \"sl.so\"\nloadmodule \"textops.so\"\nloadmodule \"textopsx.so\"\n\
    loadmodule \"siputils.so\"\nloadmodule \"sdpops.so\"\n\
    modparam(\"siputils\", \"options_accept\", \"application/sdp\")\n\
    request_route {\n\
        if (is_method(\"OPTIONS\") && uri_param_any(\"probe\")) { options_reply(); exit; }\n\
        if (!has_body(\"application/sdp\") || !sdp_with_codecs_by_name(\"PCMA\")) {\n\
            sl_send_reply(\"488\", \"Not Acceptable Here\"); exit;\n\
        }\n\
        sdp_remove_codecs_by_name(\"PCMA\");\n\
        sdp_remove_line_by_prefix(\"a=x-\");\n\
        subst_hf(\"X-Tag\", \"/one/1/\", \"a\");\n\
        remove_hf_re(\"^X-Drop\");\n\
        if (hf_value_exists(\"Supported\", \"timer\")) { append_hf(\"X-Timer: yes\\r\\n\"); }\n\
        if (is_tel_number(\"$rU\") && !has_totag()) { add_uri_param(\"checked\"); }\n\
        forward(\"HOP\");\n\
    }\n";

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                   m=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
                   a=x-junk:1\r\n";

fn invite(p: &Peer, sdp: &str) -> Vec<u8> {
    format!(
        "INVITE sip:+15551234@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-ts1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.test>;tag=a1\r\n\
         To: <sip:+15551234@example.test>\r\n\
         Call-ID: ts1@client.test\r\n\
         CSeq: 1 INVITE\r\n\
         Supported: 100rel, timer\r\n\
         X-Tag: one, two\r\n\
         X-Drop-Me: 1\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{sdp}",
        port = p.port,
        len = sdp.len()
    )
    .into_bytes()
}

#[test]
fn the_script_rewrites_what_it_forwards() {
    let hop = Peer::new();
    let server = Sipvm::start(CFG, &[("HOP", format!("127.0.0.1:{}", hop.port))]);
    let phone = Peer::new();
    phone.send(server.addr, &invite(&phone, SDP));
    let fwd = expect_from(&hop, server.addr, "forwarded INVITE");
    let ft = text(&fwd);
    assert_eq!(
        start_line(&fwd),
        "INVITE sip:+15551234@127.0.0.1;checked SIP/2.0",
        "{ft}"
    );
    let want_sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                    m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    assert_eq!(body(&fwd), want_sdp.as_bytes(), "{ft}");
    assert_eq!(
        header(&fwd, "Content-Length"),
        [want_sdp.len().to_string()],
        "{ft}"
    );
    assert_eq!(header(&fwd, "X-Tag"), ["1, two"], "{ft}");
    assert!(header(&fwd, "X-Drop-Me").is_empty(), "{ft}");
    assert_eq!(header(&fwd, "X-Timer"), ["yes"], "{ft}");

    // Without PCMA: refused.
    let no_pcma = SDP.replace(" 0 8\r\n", " 0\r\n");
    phone.send(server.addr, &invite(&phone, &no_pcma));
    let (r, _) = phone
        .recv(std::time::Duration::from_secs(3))
        .expect("a reply");
    assert_eq!(status(&r), Some(488), "{}", text(&r));
}

#[test]
fn options_reply_answers_a_probe() {
    let server = Sipvm::start(CFG, &[("HOP", "127.0.0.1:9".into())]);
    let peer = Peer::new();
    let req = peer.request(
        "OPTIONS",
        &format!("sip:127.0.0.1:{};probe", server.port),
        "ts-o1",
        "",
    );
    peer.send(server.addr, &req);
    let (r, _) = peer
        .recv(std::time::Duration::from_secs(3))
        .expect("a reply");
    assert_eq!(status(&r), Some(200), "{}", text(&r));
    assert_eq!(header(&r, "Accept"), ["application/sdp"], "{}", text(&r));
    assert_eq!(header(&r, "Accept-Language"), ["en"], "{}", text(&r));
}

/// The replies of `textsip/replies.cfg` as `textsip/replies.py` normalises them: no Server
/// line, To-tag, Date value and the client's port replaced.
fn normalise(data: &[u8], port: u16) -> String {
    let to = regex::Regex::new(r"^(To: .*;tag=).*$").unwrap();
    let date =
        regex::Regex::new(r"^Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")
            .unwrap();
    String::from_utf8_lossy(data)
        .split("\r\n")
        .filter(|l| !l.starts_with("Server:"))
        .map(|l| {
            let l = to.replace(l, "${1}TAG");
            let l = date.replace(&l, "Date: DATE");
            l.replace(&format!(":{port};"), ":PORT;")
        })
        .collect::<Vec<_>>()
        .join("\\r\\n")
}

#[test]
fn reply_lumps_match_kamailio() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/textsip");
    let cfg = std::fs::read_to_string(dir.join("replies.cfg")).unwrap();
    let silent = Peer::new();
    let server = Sipvm::start(&cfg, &[("SILENT", format!("127.0.0.1:{}", silent.port))]);
    let phone = Peer::new();
    let mut got = vec![
        "# Kamailio 5.6.3's replies to replies.cfg (written by replies.py; do not edit)"
            .to_string(),
    ];
    for c in ["a", "b", "c", "d", "e", "f", "g"] {
        let req = format!(
            "MESSAGE sip:{c}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-rl{c}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:{c}@127.0.0.1>\r\n\
             Call-ID: rl-{c}\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n",
            p = phone.port
        );
        phone.send(server.addr, req.as_bytes());
        let r = phone.recv(std::time::Duration::from_secs(4));
        got.push(match r {
            Some((d, _)) => format!("{c}\t{}", normalise(&d, phone.port)),
            None => format!("{c}\t(no reply)"),
        });
    }
    let want = std::fs::read_to_string(dir.join("replies.txt")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got, want);
}
