//! uac on the real binary, on loopback: From/To replaced on an INVITE, restored in its replies
//! and in the BYEs of both directions, byte for byte as Kamailio 5.6.3 did it for the same
//! messages (tests/golden_uac); `uac_auth` answering a sipp callee's 401; `uac_req_send`
//! with `event_route[uac:reply]` and credentials; a remote registration to a sipp
//! registrar that challenges, checked over JSON-RPC.

mod common;
use common::*;
use sipvm_rpc::client;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(3);

fn golden(case: &str) -> serde_json::Value {
    let p = format!(
        "{}/tests/golden_uac/out_{case}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn golden_send() -> serde_json::Value {
    let p = format!("{}/tests/golden_uac/send.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The cfg of a golden run (golden_uac/uac.cfg, manual.cfg), on sipvm's test port.
fn golden_cfg(name: &str) -> String {
    let p = format!("{}/tests/golden_uac/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(p)
        .unwrap()
        .replace("127.0.0.1:25060", "127.0.0.1:5060")
        .replace("127.0.0.1:25063", "127.0.0.1:5060")
        .replace("debug=2\n", "")
}

fn hdr(m: &str, name: &str) -> String {
    m.split("\r\n")
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .map(|l| l.split_once(':').unwrap().1.trim().to_string())
        .unwrap_or_default()
}

fn lines_of<'a>(m: &'a str, name: &str) -> Vec<&'a str> {
    m.split("\r\n")
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .collect()
}

fn recv_text(p: &Peer, what: &str) -> (String, std::net::SocketAddr) {
    loop {
        let (m, a) = p.recv(WAIT).unwrap_or_else(|| panic!("no {what}"));
        let t = text(&m);
        // Provisional replies (100 Trying) are not part of the comparison.
        if t.starts_with("SIP/2.0 1") {
            continue;
        }
        return (t, a);
    }
}

fn reply_to(req: &str, code: &str, cseq: &str, extra: &[String], to_tag: Option<&str>) -> String {
    let mut l = vec![format!("SIP/2.0 {code}")];
    l.extend(lines_of(req, "Via").iter().map(|s| s.to_string()));
    l.extend(extra.iter().cloned());
    l.push(format!("From: {}", hdr(req, "From")));
    match to_tag {
        Some(t) => l.push(format!("To: {};tag={t}", hdr(req, "To"))),
        None => l.push(format!("To: {}", hdr(req, "To"))),
    }
    l.push(format!("Call-ID: {}", hdr(req, "Call-ID")));
    l.push(format!("CSeq: {cseq}"));
    l.push("Content-Length: 0".into());
    l.push(String::new());
    l.push(String::new());
    l.join("\r\n")
}

/// drive.py's flow against sipvm: what each side received.
fn drive(server: &Sipvm, case: &str) -> serde_json::Map<String, serde_json::Value> {
    let (from, to) = match case {
        "plain" => (
            "From: <sip:alice@atlanta.example.com>;tag=ft1",
            "To: <sip:callee@biloxi.example.com>",
        ),
        "display" => (
            "From: \"Alice A\" <sip:alice@atlanta.example.com>;tag=ft1",
            "To: Callee <sip:callee@biloxi.example.com>",
        ),
        _ => (
            "From: sip:alice@atlanta.example.com;tag=ft1",
            "To: sip:callee@biloxi.example.com",
        ),
    };
    let uac = Peer::new();
    let uas = Peer::new();
    let mut res = serde_json::Map::new();
    let inv = format!("INVITE sip:callee@127.0.0.1:{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKc1\r\nMax-Forwards: 70\r\n{from}\r\n{to}\r\nCall-ID: uac-golden-{case}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{}>\r\nX-Case: {case}\r\nContent-Length: 0\r\n\r\n", uas.port, uac.port, uac.port);
    uac.send(server.addr, inv.as_bytes());
    let (m, a) = recv_text(&uas, "INVITE");
    let rr: Vec<String> = lines_of(&m, "Record-Route")
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ok = reply_to(&m, "200 OK", "1 INVITE", &rr, Some("tt1"));
    uas.send(a, ok.as_bytes());
    res.insert("invite_out".into(), m.clone().into());
    let (r, _) = recv_text(&uac, "200 for the INVITE");
    res.insert("ok_in".into(), r.clone().into());
    let route: Vec<String> = lines_of(&r, "Record-Route")
        .iter()
        .map(|l| l.replacen("Record-Route:", "Route:", 1))
        .collect();
    let bye = format!("BYE sip:callee@127.0.0.1:{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKc2\r\n{}\r\nMax-Forwards: 70\r\n{from}\r\n{to};tag=tt1\r\nCall-ID: uac-golden-{case}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", uas.port, uac.port, route.join("\r\n"));
    uac.send(server.addr, bye.as_bytes());
    let (m2, a2) = recv_text(&uas, "BYE downstream");
    uas.send(a2, reply_to(&m2, "200 OK", "2 BYE", &[], None).as_bytes());
    res.insert("bye_down_out".into(), m2.into());
    let (r2, _) = recv_text(&uac, "200 for the BYE");
    res.insert("bye_down_reply".into(), r2.into());
    let route_in: Vec<String> = lines_of(&m, "Record-Route")
        .iter()
        .map(|l| l.replacen("Record-Route:", "Route:", 1))
        .collect();
    let bye2 = format!("BYE sip:alice@127.0.0.1:{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{};branch=z9hG4bKs3\r\n{}\r\nMax-Forwards: 70\r\nFrom: {};tag=tt1\r\nTo: {}\r\nCall-ID: uac-golden-{case}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", uac.port, uas.port, route_in.join("\r\n"), hdr(&m, "To"), hdr(&m, "From"));
    uas.send(server.addr, bye2.as_bytes());
    let (m3, a3) = recv_text(&uac, "BYE upstream");
    uac.send(a3, reply_to(&m3, "200 OK", "1 BYE", &[], None).as_bytes());
    res.insert("bye_up_out".into(), m3.into());
    let (r3, _) = recv_text(&uas, "200 for the upstream BYE");
    res.insert("bye_up_reply".into(), r3.into());
    res
}

#[test]
fn from_to_rewrite_and_restore_match_kamailio_byte_for_byte() {
    let auto = Sipvm::start(&golden_cfg("uac.cfg"), &[]);
    let manual = Sipvm::start(&golden_cfg("manual.cfg"), &[]);
    // manual: uac_restore_* in the script; the in-dialog replies are not restored.
    for (server, case, file) in [
        (&auto, "plain", "plain"),
        (&auto, "display", "display"),
        (&auto, "bare", "bare"),
        (&manual, "plain", "manual"),
    ] {
        let want = golden(file);
        let got = drive(server, case);
        for (k, v) in want.as_object().unwrap() {
            let (w, g) = (v.as_str().unwrap(), got[k].as_str().unwrap());
            assert_eq!(
                lines_of(g, "From"),
                lines_of(w, "From"),
                "{case} {k}\n{}",
                server.log_text()
            );
            assert_eq!(lines_of(g, "To"), lines_of(w, "To"), "{case} {k}");
            let params = |m: &str| -> Vec<String> {
                lines_of(m, "Record-Route")
                    .iter()
                    .map(|l| {
                        l.split_once(";lr")
                            .map(|x| x.1.to_string())
                            .unwrap_or_default()
                    })
                    .collect()
            };
            assert_eq!(params(g), params(w), "{case} {k}: Record-Route parameters");
        }
    }
}

fn sipp_uas(dir: &std::path::Path, scenario: &str, port: u16) -> Bounded {
    let sf = sipp_scenario(dir, scenario);
    let p = port.to_string();
    let b = Bounded::spawn(
        sipp_command(&["-sf", &sf, "-p", &p, "-m", "1"], "30s"),
        dir,
        scenario,
    );
    assert!(
        wait_udp_bound(port, Duration::from_secs(5)),
        "sipp did not bind {port}"
    );
    b
}

#[test]
fn uac_auth_answers_a_sipp_callee_challenge() {
    require_sipp();
    let dir = Scratch::new();
    let callee = free_port();
    let mut sipp = sipp_uas(dir.path(), "uac-auth-uas.xml", callee);
    let cfg = "listen=udp:127.0.0.1:5060\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"rr.so\"\nloadmodule \"uac.so\"\nloadmodule \"xlog.so\"\n\
        modparam(\"uac\", \"credential\", \"nobody:other.realm:x\")\n\
        modparam(\"uac\", \"credential\", \"alice:sipvm.test:secret\")\n\
        request_route {\n t_on_failure(\"AUTH\");\n t_relay();\n}\n\
        failure_route[AUTH] {\n if (t_check_status(\"401|407\")) {\n  if (uac_auth()) {\n   xlog(\"L_INFO\", \"uac_auth ok\\n\");\n   t_relay();\n  }\n }\n}\n";
    let server = Sipvm::start(cfg, &[]);
    let phone = Peer::new();
    let req = phone.request(
        "MESSAGE",
        &format!("sip:bob@127.0.0.1:{callee}"),
        "uac-auth-1",
        "",
    );
    phone.send(server.addr, &req);
    let (m, _) = phone.recv(Duration::from_secs(5)).expect("a final reply");
    assert_eq!(status(&m), Some(200), "{}\n{}", text(&m), server.log_text());
    let st = sipp.wait(Duration::from_secs(10)).expect("sipp ends");
    assert!(st.success(), "sipp: {st}\n{}", sipp.output());
    assert!(server.log_text().contains("uac_auth ok"));
}

/// The digest response RFC 2617 gives for Kamailio's fields, computed here independently.
fn digest(
    user: &str,
    realm: &str,
    pw: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    cnonce: &str,
) -> String {
    use md5::{Digest, Md5};
    let h = |s: String| {
        Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let ha1 = h(format!("{user}:{realm}:{pw}"));
    let ha2 = h(format!("{method}:{uri}"));
    h(format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"))
}

fn field<'a>(auth: &'a str, name: &str) -> &'a str {
    let k = format!("{name}=");
    let s = auth
        .split(", ")
        .find_map(|p| {
            p.strip_prefix(&k)
                .or_else(|| p.strip_prefix(&format!("Digest {k}")))
        })
        .unwrap_or("");
    s.trim_matches('"')
}

#[test]
fn uac_req_send_runs_the_event_route_and_answers_a_challenge() {
    let target = Peer::new();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"rr.so\"\nloadmodule \"uac.so\"\nloadmodule \"xlog.so\"\n\
        modparam(\"uac\", \"default_socket\", \"udp:127.0.0.1:5060\")\n\
        request_route {{\n\
         $uac_req(method) = \"OPTIONS\";\n\
         $uac_req(ruri) = \"sip:probe@127.0.0.1:{}\";\n\
         $uac_req(furi) = \"sip:sipvm@sipvm.test\";\n\
         $uac_req(hdrs) = \"X-Probe: 1\\r\\n\";\n\
         $uac_req(body) = \"hello\";\n\
         $uac_req(auser) = \"carol\";\n\
         $uac_req(apasswd) = \"pw\";\n\
         $uac_req(evroute) = 1;\n\
         $uac_req(evparam) = \"tag-1\";\n\
         if (uac_req_send()) {{ sl_send_reply(\"202\", \"Sent\"); }} else {{ sl_send_reply(\"500\", \"Not sent\"); }}\n\
        }}\n\
        event_route[uac:reply] {{\n\
         xlog(\"L_INFO\", \"UACREPLY code=$uac_req(evcode) type=$uac_req(evtype) param=$uac_req(evparam) rs=$rs\\n\");\n\
        }}\n",
        target.port
    );
    let server = Sipvm::start(&cfg, &[]);
    let phone = Peer::new();
    phone.send(
        server.addr,
        &phone.request("MESSAGE", "sip:x@127.0.0.1", "uac-send-1", ""),
    );
    let (m, _) = phone.recv(WAIT).expect("the script's reply");
    assert_eq!(status(&m), Some(202));
    let (req, a) = recv_text(&target, "uac_req_send's OPTIONS");
    assert!(req.starts_with(&format!(
        "OPTIONS sip:probe@127.0.0.1:{} SIP/2.0\r\n",
        target.port
    )));
    assert_eq!(hdr(&req, "X-Probe"), "1");
    // The layout of Kamailio's t_request for the same fields (golden_uac/send.cfg).
    let g = golden_send();
    let names = |m: &str| -> Vec<String> {
        m.split("\r\n")
            .take_while(|l| !l.is_empty())
            .map(|l| l.split([':', ' ']).next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(&req), names(g["first"].as_str().unwrap()));
    assert!(req.ends_with("\r\n\r\nhello"));
    assert!(hdr(&req, "From").starts_with("<sip:sipvm@sipvm.test>;tag="));
    let chal = vec![
        "WWW-Authenticate: Digest realm=\"sipvm.test\", nonce=\"abcdef\", qop=\"auth\"".to_string(),
    ];
    target.send(
        a,
        reply_to(
            &req,
            "401 Unauthorized",
            &hdr(&req, "CSeq"),
            &chal,
            Some("x"),
        )
        .as_bytes(),
    );
    let (req2, a2) = recv_text(&target, "the OPTIONS with credentials");
    assert_eq!(names(&req2), names(g["retry"].as_str().unwrap()));
    assert_eq!(hdr(&req2, "CSeq"), "11 OPTIONS");
    assert_eq!(hdr(&req2, "To"), hdr(&req, "To"), "no To tag, as Kamailio");
    assert_eq!(hdr(&req2, "From"), hdr(&req, "From"));
    let auth = hdr(&req2, "Authorization");
    let uri = format!("sip:probe@127.0.0.1:{}", target.port);
    assert_eq!(field(&auth, "username"), "carol");
    assert_eq!(field(&auth, "uri"), uri);
    let want = digest(
        "carol",
        "sipvm.test",
        "pw",
        "OPTIONS",
        &uri,
        "abcdef",
        field(&auth, "cnonce"),
    );
    assert_eq!(field(&auth, "response"), want, "{auth}");
    assert_eq!(hdr(&req2, "Call-ID"), hdr(&req, "Call-ID"));
    target.send(
        a2,
        reply_to(&req2, "200 OK", &hdr(&req2, "CSeq"), &[], Some("x")).as_bytes(),
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let log = server.log_text();
        if log.contains("UACREPLY code=200 type=1 param=tag-1 rs=200") {
            assert!(
                log.contains("UACREPLY code=401 type=1 param=tag-1 rs=401"),
                "{log}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no event route for the 200\n{log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn remote_registration_to_a_sipp_registrar_with_a_challenge() {
    require_sipp();
    let dir = Scratch::new();
    let registrar = free_port();
    let db = dir.path().join("db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(
        db.join("version"),
        "table_name(str) table_version(int)\nuacreg:5\n",
    )
    .unwrap();
    std::fs::write(db.join("uacreg"), format!("id(int,auto) l_uuid(string) l_username(string) l_domain(string) r_username(string) r_domain(string) realm(string,null) auth_username(string) auth_password(string,null) auth_ha1(string,null) auth_proxy(string,null) expires(int) flags(int) reg_delay(int) contact_addr(string,null) socket(string,null)\n1:u1:alice:local.test:bob:127.0.0.1\\:{registrar}:sipvm.test:bob:secret:::300:0:0::\n")).unwrap();
    let mut sipp = sipp_uas(dir.path(), "uac-registrar.xml", registrar);
    let rpc = free_port();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"rr.so\"\nloadmodule \"uac.so\"\n\
        modparam(\"uac\", \"reg_db_url\", \"text://{}\")\n\
        modparam(\"uac\", \"reg_contact_addr\", \"127.0.0.1:5060\")\n\
        modparam(\"uac\", \"reg_timer_interval\", 1)\n\
        request_route {{\n if (uac_reg_status(\"u1\") == 1) {{ sl_send_reply(\"200\", \"Registered\"); }} else {{ sl_send_reply(\"480\", \"Not yet\"); }}\n}}\n",
        db.display()
    );
    let server = Sipvm::start(&cfg, &[]);
    let st = sipp.wait(Duration::from_secs(15)).expect("sipp ends");
    assert!(
        st.success(),
        "sipp: {st}\n{}\n{}",
        sipp.output(),
        server.log_text()
    );
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let deadline = Instant::now() + WAIT;
    let info = loop {
        let v = client::call(&url, "uac.reg_info", vec!["l_uuid".into(), "u1".into()])
            .unwrap()
            .unwrap();
        if v["flags"].as_i64().unwrap_or(0) & 4 != 0 {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "not registered: {v}\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(info["r_domain"], format!("127.0.0.1:{registrar}"));
    assert_eq!(info["contact_addr"], format!("127.0.0.1:{}", server.port));
    assert!(info["diff_expires"].as_i64().unwrap() > 290, "{info}");
    let dump = client::call(&url, "uac.reg_dump", vec![]).unwrap().unwrap();
    assert_eq!(dump.as_array().map(Vec::len), Some(1));
    let phone = Peer::new();
    phone.send(
        server.addr,
        &phone.request("OPTIONS", "sip:x@127.0.0.1", "uac-reg-1", ""),
    );
    let (m, _) = phone.recv(WAIT).expect("a reply");
    assert_eq!(
        status(&m),
        Some(200),
        "uac_reg_status sees the registration"
    );
    let e = client::call(&url, "uac.reg_info", vec!["realm".into(), "x".into()]).unwrap();
    assert!(e.is_err(), "unsupported filter attribute");
    client::call(&url, "uac.reg_disable", vec!["l_uuid".into(), "u1".into()])
        .unwrap()
        .unwrap();
    let v = client::call(&url, "uac.reg_info", vec!["l_uuid".into(), "u1".into()])
        .unwrap()
        .unwrap();
    assert_eq!(v["flags"].as_i64().unwrap() & 1, 1);
    client::call(&url, "uac.reg_reload", vec![])
        .unwrap()
        .unwrap();
}

#[test]
fn registration_rpcs_active_423_and_unregister() {
    let dir = Scratch::new();
    let registrar = Peer::new();
    let db = dir.path().join("db");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(
        db.join("version"),
        "table_name(str) table_version(int)\nuacreg:5\n",
    )
    .unwrap();
    std::fs::write(db.join("uacreg"), format!("id(int,auto) l_uuid(string) l_username(string) l_domain(string) r_username(string) r_domain(string) realm(string,null) auth_username(string) auth_password(string,null) auth_ha1(string,null) auth_proxy(string,null) expires(int) flags(int) reg_delay(int) contact_addr(string,null) socket(string,null)\n1:u7:carol:local.test:carol:127.0.0.1\\:{}::carol:pw:::120:0:0:127.0.0.1\\:7777:\n", registrar.port)).unwrap();
    let rpc = free_port();
    let cfg = format!(
        "listen=udp:127.0.0.1:5060\nrpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"rr.so\"\nloadmodule \"uac.so\"\n\
        modparam(\"uac\", \"reg_db_url\", \"text://{}\")\n\
        modparam(\"uac\", \"reg_contact_addr\", \"127.0.0.1:5060\")\n\
        modparam(\"uac\", \"reg_timer_interval\", 1)\n\
        modparam(\"uac\", \"reg_active\", 0)\n\
        request_route {{ sl_send_reply(\"404\", \"No\"); }}\n",
        db.display()
    );
    let server = Sipvm::start(&cfg, &[]);
    let url = format!("http://127.0.0.1:{rpc}/RPC");
    let call = |m: &str, p: Vec<serde_json::Value>| client::call(&url, m, p).unwrap();
    registrar.expect_nothing(Duration::from_millis(1500), "a REGISTER while inactive");
    let v = call("uac.reg_active", vec![1.into()]).unwrap();
    assert_eq!(
        (v["omode"].as_i64(), v["nmode"].as_i64()),
        (Some(0), Some(1))
    );
    let (r, a) = recv_text(&registrar, "the first REGISTER");
    assert!(
        r.starts_with(&format!(
            "REGISTER sip:127.0.0.1:{} SIP/2.0\r\n",
            registrar.port
        )),
        "{r}"
    );
    assert_eq!(hdr(&r, "Contact"), "<sip:u7@127.0.0.1:7777>");
    assert_eq!(hdr(&r, "Expires"), "120");
    registrar.send(
        a,
        reply_to(
            &r,
            "423 Interval Too Brief",
            &hdr(&r, "CSeq"),
            &["Min-Expires: 600".into()],
            Some("r"),
        )
        .as_bytes(),
    );
    let (r2, a2) = recv_text(&registrar, "the REGISTER after 423");
    assert_eq!(hdr(&r2, "Expires"), "600");
    let ok = vec!["Contact: <sip:u7@127.0.0.1:7777>;expires=600".to_string()];
    registrar.send(
        a2,
        reply_to(&r2, "200 OK", &hdr(&r2, "CSeq"), &ok, Some("r")).as_bytes(),
    );
    let deadline = Instant::now() + WAIT;
    loop {
        let v = call("uac.reg_info", vec!["l_username".into(), "carol".into()]).unwrap();
        if v["flags"].as_i64().unwrap() & 4 != 0 {
            assert!(v["diff_expires"].as_i64().unwrap() > 590, "{v}");
            break;
        }
        assert!(Instant::now() < deadline, "not online: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }
    call("uac.reg_unregister", vec!["l_uuid".into(), "u7".into()]).unwrap();
    let (r3, a3) = recv_text(&registrar, "the un-REGISTER");
    assert_eq!(hdr(&r3, "Expires"), "0");
    registrar.send(
        a3,
        reply_to(&r3, "200 OK", &hdr(&r3, "CSeq"), &[], Some("r")).as_bytes(),
    );
    let add: Vec<serde_json::Value> = [
        "u8",
        "dave",
        "l",
        "dave",
        "127.0.0.1:9",
        "",
        "dave",
        "pw",
        ".",
        "",
    ]
    .iter()
    .map(|s| (*s).into())
    .chain([0.into(), 1.into(), 0.into(), "".into(), ".".into()])
    .collect();
    call("uac.reg_add", add.clone()).unwrap();
    let e = call("uac.reg_add", add).unwrap_err();
    assert!(e.message.contains("uuid already exists"), "{e:?}");
    let d = call("uac.reg_dump", vec![]).unwrap();
    assert_eq!(d.as_array().unwrap().len(), 2);
    let u8 = d
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["l_uuid"] == "u8")
        .unwrap()
        .clone();
    assert_eq!(u8["contact_addr"], format!("127.0.0.1:{}", server.port));
    assert_eq!(u8["auth_ha1"], "none");
    call("uac.reg_remove", vec!["u8".into()]).unwrap();
    assert!(call("uac.reg_remove", vec!["u8".into()]).is_err());
    assert_eq!(
        call("uac.reg_dump", vec![])
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
