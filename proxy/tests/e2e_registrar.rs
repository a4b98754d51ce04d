//! usrloc + registrar against the real binary running shared/examples/12-registrar.cfg (and
//! variants): REGISTER replies as Kamailio 5.6.3 writes them, `ul.*` RPCs, removal by
//! `Expires: 0`, expiry on time, the SQLite store across a restart, `lookup` reaching the
//! contact. sipp registering 10,000 users is in e2e_registrar_sipp.rs (alone, for timing).

mod common;
use common::*;
use sipvm_rpc::{client, Value};
use std::time::{Duration, Instant};

/// 12-registrar.cfg with JSON-RPC on a free port, `extra` modparams after max_expires.
fn start(extra: &str) -> (Sipvm, String) {
    let rpc = free_port();
    let s = Sipvm::example(
        "12-registrar.cfg",
        &[
            (
                "loadmodule \"tm.so\"",
                format!("rpc_listen=\"127.0.0.1:{rpc}\"\nloadmodule \"tm.so\""),
            ),
            (
                "modparam(\"registrar\", \"max_expires\", 3600)",
                format!("modparam(\"registrar\", \"max_expires\", 3600)\n{extra}"),
            ),
        ],
    );
    (s, format!("http://127.0.0.1:{rpc}/RPC"))
}

fn call(url: &str, method: &str, params: &[&str]) -> Result<Value, (i64, String)> {
    let params = params.iter().map(|p| Value::from(*p)).collect();
    client::call(url, method, params)
        .unwrap()
        .map_err(|e| (e.code, e.message))
}

/// A REGISTER for `user` with `contacts` (each a whole Contact value) and extra headers.
fn register(
    peer: &Peer,
    user: &str,
    call_id: &str,
    cseq: u32,
    contacts: &[&str],
    extra: &str,
) -> Vec<u8> {
    let port = peer.port;
    let mut m = format!(
        "REGISTER sip:sip.example.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id}-{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@sip.example.test>;tag=f{cseq}\r\n\
         To: <sip:{user}@sip.example.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n"
    );
    for c in contacts {
        m.push_str(&format!("Contact: {c}\r\n"));
    }
    m.push_str(extra);
    m.push_str("Content-Length: 0\r\n\r\n");
    m.into_bytes()
}

fn reply_to(server: &Sipvm, peer: &Peer, req: Vec<u8>) -> Vec<u8> {
    peer.send(server.addr, &req);
    expect_from(peer, server.addr, "reply to REGISTER")
}

/// What `sipvm cmd` prints for a method and its arguments.
fn cmd(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipvm"))
        .args(["cmd", "-s", url])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn dump_aors(url: &str) -> Vec<String> {
    let d = call(url, "ul.dump", &["brief"]).unwrap();
    let aors = &d["Domains"][0]["Domain"]["AoRs"];
    aors.as_array()
        .unwrap()
        .iter()
        .map(|a| a["AoR"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn register_replies_as_kamailio() {
    let (server, url) = start("");
    let ua = Peer::new();
    let c0 = format!("<sip:alice@127.0.0.1:{}>", ua.port);
    let r = reply_to(&server, &ua, register(&ua, "alice", "c1", 1, &[&c0], ""));
    assert_eq!(start_line(&r), "SIP/2.0 200 OK");
    assert_eq!(
        header(&r, "Contact"),
        [format!("{c0};expires=3600").as_str()]
    );
    // Several contacts with q; Expires header for the one without a parameter; the reply
    // lists every binding, highest q first, in one header (Kamailio 5.6.3's bytes).
    let r = reply_to(
        &server,
        &ua,
        register(
            &ua,
            "alice",
            "c2",
            1,
            &[
                "<sip:alice@127.0.0.1:5071>;q=0.5",
                "<sip:alice@127.0.0.1:5072>;expires=120;q=0.9",
            ],
            "Expires: 300\r\n",
        ),
    );
    let got = header(&r, "Contact")[0].to_string();
    let want = format!(
        "<sip:alice@127.0.0.1:5072>;q=0.9;expires=120, <sip:alice@127.0.0.1:5071>;q=0.5;expires=300, {c0};expires="
    );
    assert!(got.starts_with(&want), "{got}");
    // Same Call-ID, lower CSeq: 400 with the reason in P-Registrar-Error, bindings listed.
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "alice", "c2", 0, &["<sip:alice@127.0.0.1:5071>"], ""),
    );
    assert_eq!(start_line(&r), "SIP/2.0 400 Bad Request");
    assert_eq!(header(&r, "P-Registrar-Error"), ["Invalid CSeq number"]);
    assert_eq!(header(&r, "Contact").len(), 1);
    // The script then calls sl_reply_error(): a second reply, as Kamailio sends.
    let _ = ua.recv(Duration::from_millis(500));
    // `Contact: *` needs Expires: 0.
    let r = reply_to(&server, &ua, register(&ua, "alice", "c9", 1, &["*"], ""));
    assert_eq!(
        header(&r, "P-Registrar-Error"),
        ["* used in contact and expires is not zero"]
    );
    let _ = ua.recv(Duration::from_millis(500));
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "alice", "c9", 2, &["*"], "Expires: 0\r\n"),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK");
    assert!(header(&r, "Contact").is_empty());
    assert_eq!(
        call(&url, "ul.lookup", &["location", "alice"]),
        Err((500, "AOR not found in location table".into()))
    );
}

#[test]
fn bindings_survive_route_reload() {
    let (server, url) = start("");
    let ua = Peer::new();
    reply_to(
        &server,
        &ua,
        register(&ua, "kay", "k1", 1, &["<sip:kay@127.0.0.1:7040>"], ""),
    );
    let g = call(&url, "route.reload", &[]).unwrap();
    assert_eq!(g["generation"], 2);
    let l = call(&url, "ul.lookup", &["location", "kay"]).unwrap();
    assert_eq!(
        l["Contacts"][0]["Contact"]["Address"],
        "sip:kay@127.0.0.1:7040"
    );
    // The reloaded program sees the same store: a refresh is an update of that binding.
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "kay", "k1", 2, &["<sip:kay@127.0.0.1:7040>"], ""),
    );
    assert_eq!(
        header(&r, "Contact"),
        ["<sip:kay@127.0.0.1:7040>;expires=3600"]
    );
    assert_eq!(dump_aors(&url), ["kay"]);
}

#[test]
fn min_expires_mode_answers_423() {
    let (server, _url) = start("modparam(\"registrar\", \"min_expires_mode\", 1)");
    let ua = Peer::new();
    let r = reply_to(
        &server,
        &ua,
        register(
            &ua,
            "bob",
            "c1",
            1,
            &["<sip:bob@127.0.0.1:5070>"],
            "Expires: 10\r\n",
        ),
    );
    assert_eq!(start_line(&r), "SIP/2.0 423 Interval Too Brief");
    assert_eq!(header(&r, "Min-Expires"), ["60"]);
    assert_eq!(header(&r, "P-Registrar-Error"), ["Interval too brief"]);
}

#[test]
fn ul_rpcs_shapes_and_errors() {
    let (server, url) = start("");
    let ua = Peer::new();
    let c = "<sip:carol@127.0.0.1:5099>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\";reg-id=1";
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "Carol", "cid-1", 7, &[c], "User-Agent: phone/1.0\r\n"),
    );
    assert_eq!(
        header(&r, "Contact"),
        ["<sip:carol@127.0.0.1:5099>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\";reg-id=1"]
    );
    let d = call(&url, "ul.dump", &[]).unwrap();
    let dom = &d["Domains"][0]["Domain"];
    assert_eq!(dom["Domain"], "location");
    assert_eq!(dom["Size"], 1024);
    assert_eq!(dom["Stats"]["Records"], 1);
    let info = &dom["AoRs"][0]["Info"];
    assert_eq!(info["AoR"], "carol");
    assert!(info["HashID"].as_u64().is_some());
    let contact = &info["Contacts"][0]["Contact"];
    let keys: Vec<&String> = contact.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Address",
            "Expires",
            "Q",
            "Call-ID",
            "CSeq",
            "User-Agent",
            "Received",
            "Path",
            "State",
            "Flags",
            "CFlags",
            "Socket",
            "Methods",
            "Ruid",
            "Instance",
            "Reg-Id",
            "Server-Id",
            "Tcpconn-Id",
            "Keepalive",
            "Last-Keepalive",
            "KA-Roundtrip",
            "Last-Modified"
        ]
    );
    assert_eq!(contact["Address"], "sip:carol@127.0.0.1:5099");
    assert_eq!(contact["Q"], -1);
    assert_eq!(contact["CSeq"], 7);
    assert_eq!(contact["User-Agent"], "phone/1.0");
    assert_eq!(contact["Received"], "[not set]");
    assert_eq!(contact["Socket"], format!("udp:127.0.0.1:{}", server.port));
    assert_eq!(
        contact["Instance"],
        "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    );
    assert_eq!(contact["Reg-Id"], 1);
    let e = contact["Expires"].as_i64().unwrap();
    assert!((3590..=3600).contains(&e), "{e}");
    // ul.lookup: the AoR cut at '@' and lowercased, as without use_domain.
    let l = call(&url, "ul.lookup", &["location", "CAROL@sip.example.test"]).unwrap();
    assert_eq!(l["AoR"], "carol");
    assert_eq!(
        l["Contacts"][0]["Contact"]["Address"],
        "sip:carol@127.0.0.1:5099"
    );
    assert_eq!(
        call(&url, "ul.lookup", &["nowhere", "carol"]),
        Err((500, "Domain table not found".into()))
    );
    assert_eq!(
        call(&url, "ul.lookup", &["location"]),
        Err((
            500,
            "Not enough parameters (table and AOR to lookup)".into()
        ))
    );
    // kamcmd's printing through `sipvm cmd`.
    let text = cmd(&url, &["ul.lookup", "location", "carol"]);
    assert!(
        text.starts_with("{\n\tAoR: carol\n\tContacts: {\n\t\tContact: {\n\t\t\tAddress: sip:carol@127.0.0.1:5099\n"),
        "{text}"
    );
    // `ul.dump brief` prints as kamcmd printed it for Kamailio 5.6.3 (one AoR).
    let brief = cmd(&url, &["ul.dump", "brief"]);
    assert_eq!(
        brief,
        "{\n\tDomains: {\n\t\tDomain: {\n\t\t\tDomain: location\n\t\t\tSize: 1024\n\
         \t\t\tAoRs: {\n\t\t\t\tAoR: carol\n\t\t\t}\n\t\t\tStats: {\n\t\t\t\tRecords: 1\n\
         \t\t\t\tMax-Slots: 1\n\t\t\t}\n\t\t}\n\t}\n}\n"
    );
    // A q prints as kamcmd prints binrpc doubles.
    reply_to(
        &server,
        &ua,
        register(
            &ua,
            "carol",
            "cid-2",
            1,
            &["<sip:carol@127.0.0.1:5098>;q=0.5"],
            "",
        ),
    );
    let text = cmd(&url, &["ul.lookup", "location", "carol"]);
    assert!(text.contains("\t\t\tQ: 0.500000\n"), "{text}");
    assert!(text.contains("\t\t\tQ: -1\n"), "{text}");
    // ul.rm_contact removes one binding by its URI.
    assert_eq!(
        call(
            &url,
            "ul.rm_contact",
            &["location", "carol", "sip:nobody@127.0.0.1"]
        ),
        Err((404, "Contact not found".into()))
    );
    assert_eq!(
        call(
            &url,
            "ul.rm_contact",
            &["location", "zed", "sip:carol@127.0.0.1:5098"]
        ),
        Err((404, "AOR not found".into()))
    );
    assert_eq!(
        call(&url, "ul.rm_contact", &["location", "carol"]),
        Err((500, "Not enough parameters (table, AOR and contact)".into()))
    );
    assert_eq!(
        call(
            &url,
            "ul.rm_contact",
            &["location", "carol", "sip:carol@127.0.0.1:5098"]
        ),
        Ok(Value::Null)
    );
    let l = call(&url, "ul.lookup", &["location", "carol"]).unwrap();
    assert_eq!(l["Contacts"].as_array().unwrap().len(), 1);
    // ul.rm removes the AoR; nothing is left to find.
    assert_eq!(call(&url, "ul.rm", &["location", "carol"]), Ok(Value::Null));
    assert_eq!(
        call(&url, "ul.lookup", &["location", "carol"]),
        Err((500, "AOR not found in location table".into()))
    );
    assert!(dump_aors(&url).is_empty());
}

#[test]
fn expires_zero_removes_and_short_expiry_removes_on_time() {
    let (server, url) = start(
        "modparam(\"registrar\", \"min_expires\", 1)\nmodparam(\"usrloc\", \"timer_interval\", 1)",
    );
    let ua = Peer::new();
    let c = "<sip:dave@127.0.0.1:5070>";
    reply_to(&server, &ua, register(&ua, "dave", "d1", 1, &[c], ""));
    assert!(call(&url, "ul.lookup", &["location", "dave"]).is_ok());
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "dave", "d1", 2, &[c], "Expires: 0\r\n"),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK");
    assert!(header(&r, "Contact").is_empty());
    assert!(call(&url, "ul.lookup", &["location", "dave"]).is_err());

    // A 2 s registration is listed, then gone within a second of its expiry.
    let t0 = Instant::now();
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "erin", "e1", 1, &[c], "Expires: 2\r\n"),
    );
    assert_eq!(
        header(&r, "Contact"),
        ["<sip:dave@127.0.0.1:5070>;expires=2"]
    );
    assert_eq!(dump_aors(&url), ["erin"]);
    let mut gone = None;
    while t0.elapsed() < Duration::from_secs(5) {
        if call(&url, "ul.lookup", &["location", "erin"]).is_err() {
            gone = Some(t0.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let gone = gone.expect("erin still registered after 5 s");
    assert!(
        gone >= Duration::from_millis(1000),
        "gone too early: {gone:?}"
    );
    assert!(gone <= Duration::from_millis(3200), "gone late: {gone:?}");
    // The timer (timer_interval 1 s) removes the record itself, not only hides it.
    std::thread::sleep(Duration::from_millis(1200));
    let d = call(&url, "ul.dump", &[]).unwrap();
    assert_eq!(d["Domains"][0]["Domain"]["Stats"]["Records"], 0);
}

/// 12-registrar.cfg without tm: REGISTER saved, other requests looked up and forwarded
/// statelessly.
const STATELESS: &str = r#"listen=udp:127.0.0.1:5060
children=2
alias="sip.example.test"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "corex.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
request_route {
    if (is_method("REGISTER")) {
        if (!save("location")) {
            sl_reply_error();
        }
        exit;
    }
    if (is_method("PUBLISH")) {
        if (registered("location")) {
            send_reply("200", "Registered");
        } else {
            send_reply("404", "Not Registered");
        }
        exit;
    }
    if (is_method("INFO")) {
        # Two AoRs: the Request-URI's and a branch's, each replaced by its contacts.
        append_branch("sip:lee@sip.example.test");
        lookup_branches("location");
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }
    if (is_method("NOTIFY")) {
        unregister("location", "$ru");
        send_reply("200", "Unregistered");
        exit;
    }
    lookup("location");
    switch ($rc) {
        case -1:
        case -3:
            send_reply("404", "Not Found");
            exit;
        case -2:
            send_reply("405", "Method Not Allowed");
            exit;
    }
    if (is_method("OPTIONS")) {
        # The destination set lookup() built: R-URI then branches, as a 302's Contact.
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }
    force_rport();
    forward();
}
"#;

#[test]
fn lookup_forwards_to_the_registered_contact() {
    let server = Sipvm::start(STATELESS, &[]);
    let callee = Peer::new();
    let caller = Peer::new();
    let port = callee.port;
    let low = format!("<sip:frank@127.0.0.1:{}>;q=0.1", free_port());
    let best = format!("<sip:frank@127.0.0.1:{port}>;q=0.8");
    let r = reply_to(
        &server,
        &callee,
        register(&callee, "frank", "f1", 1, &[&low, &best], ""),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK");
    let invite = caller.request("INVITE", "sip:frank@sip.example.test", "call-1", "");
    caller.send(server.addr, &invite);
    let got = expect_from(
        &callee,
        server.addr,
        "INVITE forwarded to frank's best contact",
    );
    assert_eq!(
        start_line(&got),
        format!("INVITE sip:frank@127.0.0.1:{port} SIP/2.0")
    );
    // Nobody registered: 404.
    let invite = caller.request("INVITE", "sip:nobody@sip.example.test", "call-2", "");
    caller.send(server.addr, &invite);
    let r = expect_from(&caller, server.addr, "404 for an unknown user");
    assert_eq!(status(&r), Some(404));
}

#[test]
fn lookup_builds_the_destination_set_in_q_order() {
    let server = Sipvm::start(STATELESS, &[]);
    let ua = Peer::new();
    let contacts = [
        "<sip:h@127.0.0.1:7001>;q=0.2",
        "<sip:h@127.0.0.1:7002>",
        "<sip:h@127.0.0.1:7003>;q=0.9",
        "<sip:h@127.0.0.1:7004>;q=0.9",
    ];
    reply_to(&server, &ua, register(&ua, "hank", "h1", 1, &contacts, ""));
    let q = ua.request("OPTIONS", "sip:hank@sip.example.test", "opt-1", "");
    ua.send(server.addr, &q);
    let r = expect_from(&ua, server.addr, "302 listing hank's contacts");
    assert_eq!(status(&r), Some(302));
    // Highest q first, the older first among equal q, no q last (Kamailio's order).
    assert_eq!(
        header(&r, "Contact"),
        ["<sip:h@127.0.0.1:7003>, <sip:h@127.0.0.1:7004>, <sip:h@127.0.0.1:7001>, <sip:h@127.0.0.1:7002>"]
    );
}

#[test]
fn registered_and_unregister() {
    let server = Sipvm::start(STATELESS, &[]);
    let ua = Peer::new();
    let ask = |method: &str, id: &str| {
        ua.send(
            server.addr,
            &ua.request(method, "sip:jo@sip.example.test", id, ""),
        );
        let r = expect_from(&ua, server.addr, method);
        (status(&r), start_line(&r).to_string())
    };
    assert_eq!(ask("PUBLISH", "p1").0, Some(404));
    reply_to(
        &server,
        &ua,
        register(&ua, "jo", "j1", 1, &["<sip:jo@127.0.0.1:7010>"], ""),
    );
    assert_eq!(ask("PUBLISH", "p2").0, Some(200));
    assert_eq!(ask("NOTIFY", "n1").0, Some(200));
    assert_eq!(ask("PUBLISH", "p3").0, Some(404));
}

#[test]
fn lookup_branches_replaces_every_branch() {
    let server = Sipvm::start(STATELESS, &[]);
    let ua = Peer::new();
    let two = ["<sip:kim@127.0.0.1:7021>;q=0.5", "<sip:kim@127.0.0.1:7022>"];
    reply_to(&server, &ua, register(&ua, "kim", "k1", 1, &two, ""));
    reply_to(
        &server,
        &ua,
        register(&ua, "lee", "l1", 1, &["<sip:lee@127.0.0.1:7031>"], ""),
    );
    ua.send(
        server.addr,
        &ua.request("INFO", "sip:kim@sip.example.test", "info-1", ""),
    );
    let r = expect_from(&ua, server.addr, "302 with both AoRs' contacts");
    assert_eq!(
        header(&r, "Contact"),
        ["<sip:kim@127.0.0.1:7021>, <sip:lee@127.0.0.1:7031>, <sip:kim@127.0.0.1:7022>"]
    );
}

#[test]
fn lookup_sends_through_the_path() {
    let server = Sipvm::start(
        STATELESS,
        &[(
            "loadmodule \"registrar.so\"",
            "loadmodule \"registrar.so\"\nmodparam(\"registrar\", \"use_path\", 1)".into(),
        )],
    );
    let ua = Peer::new();
    let edge = Peer::new();
    let path = format!("<sip:127.0.0.1:{};lr>", edge.port);
    let extra = format!("Path: {path}\r\nSupported: path\r\n");
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "pam", "p1", 1, &["<sip:pam@10.0.0.9:5070>"], &extra),
    );
    assert_eq!(header(&r, "Path"), [path.as_str()]);
    let caller = Peer::new();
    caller.send(
        server.addr,
        &caller.request("MESSAGE", "sip:pam@sip.example.test", "msg-p", ""),
    );
    // Sent to the first Path hop, the Path as its Route, the contact as Request-URI.
    let got = expect_from(&edge, server.addr, "MESSAGE sent through the Path");
    assert_eq!(start_line(&got), "MESSAGE sip:pam@10.0.0.9:5070 SIP/2.0");
    assert_eq!(header(&got, "Route"), [path.as_str()]);
}

#[test]
fn lookup_sends_to_the_received_address() {
    let server = Sipvm::start(STATELESS, &[]);
    let ua = Peer::new();
    let nat = Peer::new();
    let c = format!(
        "<sip:ivy@10.0.0.9:5070>;received=\"sip:127.0.0.1:{}\"",
        nat.port
    );
    let r = reply_to(&server, &ua, register(&ua, "ivy", "i1", 1, &[&c], ""));
    assert_eq!(
        header(&r, "Contact"),
        [format!(
            "<sip:ivy@10.0.0.9:5070>;expires=3600;received=\"sip:127.0.0.1:{}\"",
            nat.port
        )
        .as_str()]
    );
    let caller = Peer::new();
    caller.send(
        server.addr,
        &caller.request("MESSAGE", "sip:ivy@sip.example.test", "msg-1", ""),
    );
    let got = expect_from(&nat, server.addr, "MESSAGE sent to the received address");
    assert_eq!(start_line(&got), "MESSAGE sip:ivy@10.0.0.9:5070 SIP/2.0");
}

#[test]
fn path_is_stored_and_echoed() {
    let (server, url) = start("modparam(\"registrar\", \"use_path\", 1)");
    let ua = Peer::new();
    let c = "<sip:pat@10.0.0.9:5070>";
    let path = "Path: <sip:edge.example.test;lr>\r\n";
    let r = reply_to(
        &server,
        &ua,
        register(
            &ua,
            "pat",
            "p1",
            1,
            &[c],
            &format!("{path}Supported: path\r\n"),
        ),
    );
    assert_eq!(start_line(&r), "SIP/2.0 200 OK");
    assert_eq!(header(&r, "Path"), ["<sip:edge.example.test;lr>"]);
    // Without `Supported: path`, path_mode 2 (strict) answers 420 but keeps the binding.
    let r = reply_to(
        &server,
        &ua,
        register(&ua, "pat", "p2", 1, &["<sip:pat@10.0.0.9:5071>"], path),
    );
    assert_eq!(start_line(&r), "SIP/2.0 420 Bad Extension");
    assert_eq!(header(&r, "Unsupported"), ["path"]);
    assert_eq!(
        header(&r, "P-Registrar-Error"),
        ["No support for found Path indicated"]
    );
    let l = call(&url, "ul.lookup", &["location", "pat"]).unwrap();
    assert_eq!(
        l["Contacts"][0]["Contact"]["Path"],
        "<sip:edge.example.test;lr>"
    );
    assert_eq!(l["Contacts"].as_array().unwrap().len(), 2);
    // The first Path URI must be a loose router.
    let _ = ua.recv_all(Duration::from_millis(300));
    let r = reply_to(
        &server,
        &ua,
        register(
            &ua,
            "pat",
            "p3",
            1,
            &[c],
            "Path: <sip:edge.example.test>\r\n",
        ),
    );
    assert_eq!(header(&r, "P-Registrar-Error"), ["Path parse error"]);
}

#[test]
fn invite_reaches_registered_contact_through_t_relay() {
    // 12-registrar.cfg as shipped: lookup() then t_relay() forwards the INVITE statefully to
    // the registered contact (and forks to every contact).
    let (server, _url) = start("");
    let callee = Peer::new();
    let caller = Peer::new();
    let port = callee.port;
    let c = format!("<sip:gina@127.0.0.1:{port}>");
    reply_to(
        &server,
        &callee,
        register(&callee, "gina", "g1", 1, &[&c], ""),
    );
    let invite = caller.request("INVITE", "sip:gina@sip.example.test", "call-3", "");
    caller.send(server.addr, &invite);
    let got = expect_from(&callee, server.addr, "INVITE relayed to gina");
    assert_eq!(
        start_line(&got),
        format!("INVITE sip:gina@127.0.0.1:{port} SIP/2.0")
    );
}

#[test]
fn sqlite_store_keeps_bindings_across_a_restart() {
    let db = Scratch::new();
    let url_db = format!("sqlite://{}", db.path().join("location.db").display());
    let params = format!(
        "loadmodule \"db_sqlite.so\"\nmodparam(\"usrloc\", \"db_url\", \"{url_db}\")\nmodparam(\"usrloc\", \"db_mode\", 1)"
    );
    let ua = Peer::new();
    {
        let (mut server, url) = start(&params);
        for i in 0..50 {
            let user = format!("u{i:03}");
            let c = format!("<sip:{user}@127.0.0.1:{}>", 6000 + i);
            let r = reply_to(
                &server,
                &ua,
                register(&ua, &user, &format!("cid{i}"), 1, &[&c], ""),
            );
            assert_eq!(start_line(&r), "SIP/2.0 200 OK");
        }
        // One removed again before the restart.
        reply_to(
            &server,
            &ua,
            register(&ua, "u007", "cid7", 2, &["*"], "Expires: 0\r\n"),
        );
        assert_eq!(dump_aors(&url).len(), 49);
        assert!(server.stop());
    }
    let (_server, url) = start(&params);
    let aors = dump_aors(&url);
    assert_eq!(aors.len(), 49, "{aors:?}");
    assert!(!aors.contains(&"u007".to_string()));
    let l = call(&url, "ul.lookup", &["location", "u042"]).unwrap();
    let c = &l["Contacts"][0]["Contact"];
    assert_eq!(c["Address"], "sip:u042@127.0.0.1:6042");
    assert_eq!(c["Call-ID"], "cid42");
    assert_eq!(c["State"], "CS_SYNC");
}
