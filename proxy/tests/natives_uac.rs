//! uac's natives against what Kamailio 5.6.3 wrote for the same requests
//! (`tests/golden_uac/out_*.json`, made by `golden_uac/drive.py` against `golden_uac/uac.cfg`).

mod natives_common;

use natives_common::{call, i, s, serialized, Env};
use sipvm_proxy::modules::rr;
use sipvm_vm::Value;

fn golden(case: &str) -> serde_json::Value {
    let p = format!(
        "{}/tests/golden_uac/out_{case}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A header line of a captured message.
fn line<'a>(msg: &'a str, name: &str) -> &'a str {
    msg.split("\r\n")
        .find(|l| l.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
}

fn params() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("rr", "append_fromtag", Value::Int(1)),
        ("uac", "restore_passwd", Value::Str("s3cr3t".into())),
    ]
}

const INVITE: &str = "INVITE sip:callee@127.0.0.1:25070 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bKc1
Max-Forwards: 70
From: <sip:alice@atlanta.example.com>;tag=ft1
To: <sip:callee@biloxi.example.com>
Call-ID: uac-golden-plain
CSeq: 1 INVITE
Content-Length: 0

";

#[test]
fn replace_writes_the_headers_and_rr_params_kamailio_writes() {
    let g = golden("plain");
    let out = g["invite_out"].as_str().unwrap();
    let mut env = Env::with_params(INVITE, &params());
    let mut ctx = env.ctx();
    assert_eq!(call(&mut ctx, "rr", "record_route", &[]), 1);
    assert_eq!(
        call(
            &mut ctx,
            "uac",
            "uac_replace_from",
            &[s("sip:bob@example.net")]
        ),
        1
    );
    assert_eq!(
        call(
            &mut ctx,
            "uac",
            "uac_replace_to",
            &[s("sip:carol@example.org")]
        ),
        1
    );
    let m = serialized(&ctx);
    assert_eq!(line(&m, "From"), line(out, "From"));
    assert_eq!(line(&m, "To"), line(out, "To"));
    let rr = line(out, "Record-Route");
    let post = &rr::record::state(&ctx)
        .unwrap()
        .record
        .as_ref()
        .unwrap()
        .post;
    assert!(
        rr.contains(&format!(";lr;ftag=ft1{post}>")),
        "{rr} vs {post}"
    );
    // A second replace of the same header in request_route fails, as in Kamailio.
    assert_eq!(
        call(&mut ctx, "uac", "uac_replace_from", &[s("sip:x@y")]),
        -1
    );
}

#[test]
fn display_forms_match_kamailio() {
    for (case, from, to) in [
        (
            "display",
            "\"Alice A\" <sip:alice@atlanta.example.com>;tag=ft1",
            "Callee <sip:callee@biloxi.example.com>",
        ),
        (
            "bare",
            "sip:alice@atlanta.example.com;tag=ft1",
            "sip:callee@biloxi.example.com",
        ),
    ] {
        let g = golden(case);
        let out = g["invite_out"].as_str().unwrap();
        let text = INVITE
            .replace("<sip:alice@atlanta.example.com>;tag=ft1", from)
            .replace("To: <sip:callee@biloxi.example.com>", &format!("To: {to}"));
        let mut env = Env::with_params(&text, &params());
        let mut ctx = env.ctx();
        call(&mut ctx, "rr", "record_route", &[]);
        let (r1, r2) = if case == "display" {
            (
                call(
                    &mut ctx,
                    "uac",
                    "uac_replace_from",
                    &[s("\"New Name\""), s("sip:bob@example.net")],
                ),
                call(
                    &mut ctx,
                    "uac",
                    "uac_replace_to",
                    &[s(""), s("sip:carol@example.org;user=phone")],
                ),
            )
        } else {
            (
                call(
                    &mut ctx,
                    "uac",
                    "uac_replace_from",
                    &[s("Bob"), s("sip:b@e.net")],
                ),
                call(
                    &mut ctx,
                    "uac",
                    "uac_replace_to",
                    &[s("sip:a-much-longer-target-uri@example.org")],
                ),
            )
        };
        assert_eq!((r1, r2), (1, 1));
        let m = serialized(&ctx);
        assert_eq!(line(&m, "From"), line(out, "From"), "{case}");
        assert_eq!(line(&m, "To"), line(out, "To"), "{case}");
        let post = &rr::record::state(&ctx)
            .unwrap()
            .record
            .as_ref()
            .unwrap()
            .post;
        assert!(line(out, "Record-Route").contains(post.as_str()), "{case}");
    }
}

/// The in-dialog BYE of the golden run, From and To as the caller sends them.
fn bye(case: &str) -> String {
    let g = golden(case);
    let ok = g["ok_in"].as_str().unwrap();
    let route = line(ok, "Record-Route")
        .replace("Record-Route:", "Route:")
        .replace("25060", "5060");
    format!(
        "BYE sip:callee@127.0.0.1:25070 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:25080;branch=z9hG4bKc2\n{route}\nMax-Forwards: 70\nFrom: <sip:alice@atlanta.example.com>;tag=ft1\nTo: <sip:callee@biloxi.example.com>;tag=tt1\nCall-ID: uac-golden-{case}\nCSeq: 2 BYE\nContent-Length: 0\n\n"
    )
}

#[test]
fn restore_in_dialog_matches_kamailio() {
    let g = golden("plain");
    let out = g["bye_down_out"].as_str().unwrap();
    let mut env = Env::with_params(&bye("plain"), &params());
    let mut ctx = env.ctx();
    assert_eq!(call(&mut ctx, "rr", "loose_route", &[]), 1);
    assert_eq!(call(&mut ctx, "uac", "uac_restore_from", &[]), 1);
    assert_eq!(call(&mut ctx, "uac", "uac_restore_to", &[]), 1);
    let m = serialized(&ctx);
    assert_eq!(line(&m, "From"), line(out, "From"));
    assert_eq!(line(&m, "To"), line(out, "To"));
}

#[test]
fn restore_without_param_or_with_another_password_fails() {
    let text = INVITE.replace(
        "Max-Forwards: 70",
        "Route: <sip:127.0.0.1:5060;lr;ftag=ft1>\nMax-Forwards: 70",
    );
    let mut env = Env::with_params(&text, &params());
    let mut ctx = env.ctx();
    assert_eq!(call(&mut ctx, "uac", "uac_restore_from", &[]), -1);
    let mut p = params();
    p[1] = ("uac", "restore_passwd", Value::Str("other".into()));
    let mut env = Env::with_params(&bye("plain"), &p);
    let mut ctx = env.ctx();
    call(&mut ctx, "rr", "loose_route", &[]);
    let r = call(&mut ctx, "uac", "uac_restore_from", &[]);
    let m = serialized(&ctx);
    // With the wrong password the decoded bytes are not the URI Kamailio wrote.
    assert!(r == -1 || !line(&m, "From").contains("bob@example.net"));
}

#[test]
fn auto_mode_refuses_a_uri_change_in_dialog() {
    let mut env = Env::with_params(&bye("plain"), &params());
    let mut ctx = env.ctx();
    assert_eq!(
        call(&mut ctx, "uac", "uac_replace_from", &[s("sip:x@y")]),
        -1
    );
    let mut p = params();
    p.push(("uac", "restore_mode", Value::Str("none".into())));
    let mut env = Env::with_params(&bye("plain"), &p);
    let mut ctx = env.ctx();
    assert_eq!(
        call(&mut ctx, "uac", "uac_replace_from", &[s("sip:x@y")]),
        1
    );
    assert!(serialized(&ctx).contains("\r\nFrom: <sip:x@y>;tag=ft1\r\n"));
}

#[test]
fn restore_dlg_and_foreign_databases_are_refused() {
    let snap = natives_common::snapshot(&[("uac", "restore_dlg", Value::Int(1))]);
    assert!(sipvm_proxy::modules::shared(&snap).is_err());
    let snap = natives_common::snapshot(&[(
        "uac",
        "reg_db_url",
        Value::Str("mysql://kamailio:pw@localhost/kamailio".into()),
    )]);
    let e = sipvm_proxy::modules::shared(&snap).unwrap_err();
    assert!(e.contains("#14"), "{e}");
}

/// A db_text directory with a version table and `rows` in uacreg.
pub fn reg_dir(tag: &str, rows: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sipvm-uac-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("version"),
        "table_name(str) table_version(int)\nuacreg:5\n",
    )
    .unwrap();
    std::fs::write(d.join("uacreg"), format!("id(int,auto) l_uuid(string) l_username(string) l_domain(string) r_username(string) r_domain(string) realm(string,null) auth_username(string) auth_password(string,null) auth_ha1(string,null) auth_proxy(string,null) expires(int) flags(int) reg_delay(int) contact_addr(string,null) socket(string,null)\n{rows}")).unwrap();
    d
}

#[test]
fn registration_records_answer_the_script() {
    let d = reg_dir(
        "natives",
        "1:u1:alice:local.net:bob:127.0.0.1\\:25090:sipvm.test:bob:secret::sip\\:127.0.0.1\\:25091:300:0:0::\n",
    );
    let mut p = params();
    p.push((
        "uac",
        "reg_db_url",
        Value::Str(format!("text://{}", d.display()).into()),
    ));
    p.push((
        "uac",
        "reg_contact_addr",
        Value::Str("127.0.0.1:5060".into()),
    ));
    p.push(("uac", "auth_realm_avp", Value::Str("$avp(arealm)".into())));
    p.push(("uac", "auth_username_avp", Value::Str("$avp(auser)".into())));
    p.push(("uac", "auth_password_avp", Value::Str("$avp(apass)".into())));
    let mut env = Env::with_params(INVITE, &p);
    let mut ctx = env.ctx();
    assert_eq!(call(&mut ctx, "uac", "uac_reg_status", &[s("u1")]), -99);
    assert_eq!(call(&mut ctx, "uac", "uac_reg_status", &[s("nope")]), -1);
    assert_eq!(
        call(&mut ctx, "uac", "uac_reg_request_to", &[s("alice"), i(1)]),
        1
    );
    assert_eq!(ctx.ruri.as_deref(), Some("sip:bob@127.0.0.1:25090"));
    assert_eq!(ctx.dst_uri.as_deref(), Some("sip:127.0.0.1:25091"));
    let avp = |n: &str| {
        ctx.avps
            .iter()
            .find(|(a, _)| &**a == n)
            .map(|(_, v)| v.to_str().into_owned())
    };
    assert_eq!(avp("arealm").as_deref(), Some("sipvm.test"));
    assert_eq!(avp("apass").as_deref(), Some("secret"));
    assert_eq!(
        call(&mut ctx, "uac", "uac_reg_request_to", &[s("u1"), i(4)]),
        -1
    );
    assert_eq!(
        call(&mut ctx, "uac", "uac_reg_disable", &[s("l_uuid"), s("u1")]),
        1
    );
    assert_eq!(call(&mut ctx, "uac", "uac_reg_status", &[s("u1")]), -3);
    assert_eq!(
        call(
            &mut ctx,
            "uac",
            "uac_reg_enable",
            &[s("r_username"), s("bob")]
        ),
        1
    );
    assert_eq!(
        call(&mut ctx, "uac", "uac_reg_enable", &[s("realm"), s("x")]),
        -3
    );
    assert_eq!(
        call(&mut ctx, "uac", "uac_reg_enable", &[s("l_uuid"), s("x")]),
        -2
    );
    assert_eq!(call(&mut ctx, "uac", "uac_reg_refresh", &[s("u1")]), 1);
    assert_eq!(call(&mut ctx, "uac", "uac_reg_refresh", &[s("u9")]), -1);
    let _ = std::fs::remove_dir_all(d);
}

/// Compiles a request_route over uac and runs it once on `INVITE`.
fn run_script(head: &str, body: &str) {
    use sipvm_lang::{compile_str, CompileOptions};
    use sipvm_vm::{RouteKind, Vm};
    let text = format!(
        "loadmodule \"tm.so\"\nloadmodule \"rr.so\"\nloadmodule \"uac.so\"\n{head}request_route {{\n{body}\n}}\n"
    );
    let c = compile_str(
        "t.cfg",
        &text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_or_else(|f| panic!("does not compile:\n{}", f.render()));
    let params: Vec<(&str, &str, Value)> = c
        .modparams
        .iter()
        .map(|m| (m.module.as_str(), m.param.as_str(), m.value.clone()))
        .collect();
    let mut env = Env::with_program(natives_common::msg(INVITE), &params, c.program);
    let prog = env.snap.program.clone();
    let route = prog.route(RouteKind::Request, "").unwrap();
    let mut ctx = env.ctx();
    let r = Vm::new().run(&prog, route, &mut ctx);
    ctx.finish();
    r.unwrap_or_else(|e| panic!("{}", e.render(&prog)));
}

#[test]
fn lookups_and_uac_req_in_a_script() {
    let d = reg_dir(
        "script",
        "1:u1:alice:local.net:bob:127.0.0.1:sipvm.test:bob:secret:::300:0:0::\n2:u2:alice:other.net:bob2:127.0.0.1:sipvm.test:bob2:secret:::300:0:0::\n",
    );
    let head = format!(
        "modparam(\"uac\", \"reg_db_url\", \"text://{}\")\nmodparam(\"uac\", \"reg_contact_addr\", \"127.0.0.1:5060\")\nmodparam(\"uac\", \"reg_use_domain\", 1)\n",
        d.display()
    );
    run_script(
        &head,
        "$uac_req(all) = $null;\n\
         $uac_req(auser) = \"kept\";\n\
         uac_reg_lookup(\"u1\", \"$avp(x)\");\n\
         $uac_req(ruri) = $avp(x);\n\
         uac_reg_lookup_uri(\"sip:alice@other.net\", \"$avp(y)\");\n\
         $uac_req(turi) = $avp(y);\n\
         if (uac_reg_lookup(\"nobody\", \"$avp(z)\") == -1) { $uac_req(method) = \"MESSAGE\"; }\n\
         $uac_req(evroute) = 2;\n\
         $uac_req(callid) = \"c1\"; $uac_req(callid) = $null;\n\
         $uac_req(hdrs) = \"X: \" + $uac_req(evroute) + \"\\r\\n\";",
    );
    let r = sipvm_proxy::modules::uac::send::current();
    assert_eq!(r.ruri, "sip:alice@local.net");
    assert_eq!(r.turi, "u2", "reg_use_domain: user and domain");
    assert_eq!(r.method, "MESSAGE");
    assert_eq!(r.evroute, 2);
    assert_eq!(r.callid, "");
    assert_eq!(r.hdrs, "X: 2\r\n");
    run_script(&head, "$uac_req(all) = $null;");
    let r = sipvm_proxy::modules::uac::send::current();
    assert_eq!(
        (r.ruri.as_str(), r.auser.as_str()),
        ("", "kept"),
        "reset keeps auser"
    );
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn restore_avps_keep_the_values_before_the_change() {
    let mut p = params();
    p.push(("uac", "restore_from_avp", Value::Str("$avp(ofrom)".into())));
    p.push(("uac", "restore_to_avp", Value::Str("$avp(oto)".into())));
    let text = INVITE.replace(
        "From: <sip:alice@atlanta.example.com>;tag=ft1",
        "From: \"Alice A\" <sip:alice@atlanta.example.com>;tag=ft1",
    );
    let mut env = Env::with_params(&text, &p);
    let mut ctx = env.ctx();
    call(&mut ctx, "rr", "record_route", &[]);
    assert_eq!(
        call(
            &mut ctx,
            "uac",
            "uac_replace_from",
            &[s("sip:bob@example.net")]
        ),
        1
    );
    let avp = |ctx: &sipvm_proxy::host::Ctx<'_>, n: &str| {
        ctx.avps
            .iter()
            .find(|(a, _)| &**a == n)
            .map(|(_, v)| v.to_str().into_owned())
    };
    assert_eq!(
        avp(&ctx, "ofrom").as_deref(),
        Some("\"Alice A\" <sip:alice@atlanta.example.com>")
    );
    assert_eq!(avp(&ctx, "oto"), None);
    // In dialog, the restore keeps the header as received.
    let mut env = Env::with_params(&bye("plain"), &p);
    let mut ctx = env.ctx();
    call(&mut ctx, "rr", "loose_route", &[]);
    assert_eq!(call(&mut ctx, "uac", "uac_restore_to", &[]), 1);
    assert_eq!(
        avp(&ctx, "oto").as_deref(),
        Some("<sip:callee@biloxi.example.com>")
    );
}

#[test]
fn restoring_needs_rr_loaded_as_in_kamailio() {
    let mut snap = natives_common::snapshot(&[]);
    snap.modules = std::sync::Arc::from(vec!["tm".to_string(), "uac".to_string()]);
    let e = sipvm_proxy::modules::shared(&snap).unwrap_err();
    assert!(e.contains("RR API"), "{e}");
    let mut snap = natives_common::snapshot(&[("uac", "restore_mode", Value::Str("none".into()))]);
    snap.modules = std::sync::Arc::from(vec!["tm".to_string(), "uac".to_string()]);
    assert!(sipvm_proxy::modules::shared(&snap).is_ok());
    let mut snap = natives_common::snapshot(&[("rr", "append_fromtag", Value::Int(0))]);
    snap.modules = std::sync::Arc::from(vec!["rr".to_string(), "uac".to_string()]);
    let e = sipvm_proxy::modules::shared(&snap).unwrap_err();
    assert!(e.contains("append_fromtag"), "{e}");
}

#[test]
fn default_socket_must_be_local() {
    let mods = std::sync::Arc::from(vec!["rr".to_string(), "uac".to_string()]);
    let mut snap = natives_common::snapshot(&[(
        "uac",
        "default_socket",
        Value::Str("udp:127.0.0.1:5060".into()),
    )]);
    snap.modules = std::sync::Arc::clone(&mods);
    assert!(sipvm_proxy::modules::shared(&snap).is_ok());
    let mut snap = natives_common::snapshot(&[(
        "uac",
        "default_socket",
        Value::Str("udp:192.0.2.1:5060".into()),
    )]);
    snap.modules = mods;
    let e = sipvm_proxy::modules::shared(&snap).unwrap_err();
    assert!(e.contains("non-local socket"), "{e}");
}
