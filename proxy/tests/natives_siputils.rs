//! siputils functions that read or write pseudo-variables, in real scripts (compiled, run on
//! the VM against the proxy's `Ctx`); results land in an htable. Expected values as Kamailio
//! 5.6.3 gives them (the rest of siputils is in natives_textsip.rs, side by side).

mod natives_common;
use natives_common::*;
use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::{RouteKind, Value, Vm};

const INVITE: &str = "INVITE sip:+15551234567;isub=12@example.com;user=phone;transport=udp SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:+4915112345@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: su1@example.com
CSeq: 1 INVITE
Content-Length: 0

";

const HEAD: &str = "loadmodule \"pv.so\"\nloadmodule \"htable.so\"\nloadmodule \"siputils.so\"\n\
    modparam(\"htable\", \"htable\", \"t=>size=4;\")\n";

fn run(body: &str) -> Env {
    run_with(HEAD, body).0
}

/// Runs `body` after `head`; the environment and the message as it would leave.
fn run_with(head: &str, body: &str) -> (Env, String) {
    run_on(INVITE, head, body)
}

/// [`run_with`] on another message.
fn run_on(message: &str, head: &str, body: &str) -> (Env, String) {
    let text = format!("{head}request_route {{\n{body}\n}}\n");
    let c = match compile_str(
        "t.cfg",
        &text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c,
        Err(f) => panic!("does not compile:\n{}", f.render()),
    };
    let params: Vec<(&str, &str, Value)> = c
        .modparams
        .iter()
        .map(|m| (m.module.as_str(), m.param.as_str(), m.value.clone()))
        .collect();
    let mut env = Env::with_program(msg(message), &params, c.program);
    let prog = env.snap.program.clone();
    let route = prog.route(RouteKind::Request, "").unwrap();
    let out = {
        let mut ctx = env.ctx();
        let r = Vm::new().run(&prog, route, &mut ctx);
        r.unwrap_or_else(|e| panic!("{}", e.render(&prog)));
        serialized(&ctx)
    };
    (env, out)
}

fn get(env: &Env, key: &str) -> Value {
    env.shared
        .state::<sipvm_proxy::modules::htable::Htables>()
        .get("t")
        .unwrap()
        .get(key, 0)
}

#[test]
fn tel2sip_into_a_pv() {
    let env = run(
        "tel2sip(\"tel:+1-555-(123).4;Phone-Context=X-Y\", \"example.net\", \"$avp(s)\");\n\
         $sht(t=>rc) = $rc; $sht(t=>s) = $avp(s);\n\
         tel2sip(\"sip:bob@example.com\", \"example.net\", \"$avp(n)\"); $sht(t=>rc2) = $rc;",
    );
    assert_eq!(get(&env, "rc"), Value::Int(1));
    assert_eq!(
        get(&env, "s"),
        Value::str("sip:+15551234;phone-context=x-y@example.net;user=phone")
    );
    assert_eq!(get(&env, "rc2"), Value::Int(2), "not a tel URI");
}

#[test]
fn get_uri_param_reads_the_user_params_of_a_phone_uri() {
    // user=phone: Kamailio's parsed params are the user part's (`isub=12`).
    let env = run(
        "get_uri_param(\"isub\", \"$avp(v)\"); $sht(t=>rc) = $rc; $sht(t=>v) = $avp(v);\n\
         get_uri_param(\"transport\", \"$avp(w)\"); $sht(t=>rc2) = $rc;",
    );
    assert_eq!(get(&env, "rc"), Value::Int(1));
    assert_eq!(get(&env, "v"), Value::str("12"));
    assert_eq!(get(&env, "rc2"), Value::Int(-1));
}

#[test]
fn e164_checks_on_pvs() {
    let env = run(
        "$avp(a) = \"+4915112345\"; $avp(b) = \"+49a\"; $avp(c) = \"+1\";\n\
         is_e164(\"$avp(a)\"); $sht(t=>a) = $rc;\n\
         is_e164(\"$avp(b)\"); $sht(t=>b) = $rc;\n\
         is_e164(\"$avp(c)\"); $sht(t=>c) = $rc;\n\
         is_uri_user_e164(\"$fu\"); $sht(t=>fu) = $rc;\n\
         is_uri_user_e164(\"$tu\"); $sht(t=>tu) = $rc;",
    );
    assert_eq!(get(&env, "a"), Value::Int(1));
    assert_eq!(get(&env, "b"), Value::Int(-1));
    assert_eq!(get(&env, "c"), Value::Int(-1), "too short");
    assert_eq!(get(&env, "fu"), Value::Int(1));
    assert_eq!(get(&env, "tu"), Value::Int(-1));
}

#[test]
fn set_uri_user_and_host() {
    let env = run("$avp(u) = \"sip:alice@example.com;transport=tcp\";\n\
         set_uri_user(\"$avp(u)\", \"bob\"); $sht(t=>u1) = $avp(u);\n\
         set_uri_user(\"$avp(u)\", \"\"); $sht(t=>u2) = $avp(u);\n\
         set_uri_user(\"$avp(u)\", \"carol\"); $sht(t=>u3) = $avp(u);\n\
         set_uri_host(\"$avp(u)\", \"example.net:5080\"); $sht(t=>u4) = $avp(u);\n\
         set_uri_host(\"$avp(u)\", \"\"); $sht(t=>rc) = $rc;");
    assert_eq!(
        get(&env, "u1"),
        Value::str("sip:bob@example.com;transport=tcp")
    );
    assert_eq!(get(&env, "u2"), Value::str("sip:example.com;transport=tcp"));
    assert_eq!(
        get(&env, "u3"),
        Value::str("sip:carol@example.com;transport=tcp")
    );
    assert_eq!(
        get(&env, "u4"),
        Value::str("sip:carol@example.net:5080;transport=tcp")
    );
    assert_eq!(get(&env, "rc"), Value::Int(-1));
}

#[test]
fn options_reply_uses_the_parameters() {
    let opts = "OPTIONS sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-9
From: <sip:alice@example.com>;tag=a1
To: <sip:127.0.0.1>
Call-ID: o1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";
    let mut e = Env::with_params(
        opts,
        &[
            ("siputils", "options_accept", Value::str("application/sdp")),
            ("siputils", "options_support", Value::str("100rel")),
        ],
    );
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "siputils", "options_reply", &[]), 1);
    drop(c);
    let sent = e.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(code(&sent[0]), 200);
    for h in [
        "\r\nAccept: application/sdp\r\n",
        "\r\nAccept-Encoding: \r\n",
        "\r\nAccept-Language: en\r\n",
        "\r\nSupported: 100rel\r\n",
    ] {
        assert!(sent[0].contains(h), "{h:?} in {}", sent[0]);
    }
}

/// As Kamailio 5.6.3 answered the same script (recorded side by side).
#[test]
fn remote_party_id_from_the_avp() {
    let (env, out) = run_with(
        HEAD,
        "is_rpid_user_e164(); $sht(t=>none_e164) = $rc;\n\
         append_rpid_hf(); $sht(t=>none_append) = $rc;\n\
         $avp(s:rpid) = \"\\\"Alice\\\" <sip:+4915112345@example.com>\";\n\
         is_rpid_user_e164(); $sht(t=>e164) = $rc;\n\
         append_rpid_hf(); $sht(t=>append) = $rc;\n\
         append_rpid_hf(\"<\", \">;x=1\"); $sht(t=>append2) = $rc;",
    );
    assert_eq!(get(&env, "none_e164"), Value::Int(-1));
    assert_eq!(get(&env, "none_append"), Value::Int(-1));
    assert_eq!(get(&env, "e164"), Value::Int(1));
    assert_eq!(get(&env, "append"), Value::Int(1));
    assert_eq!(get(&env, "append2"), Value::Int(1));
    assert!(
        out.contains(
            "Content-Length: 0\r\n\
             Remote-Party-ID: \"Alice\" <sip:+4915112345@example.com>;party=calling;id-type=subscriber;screen=yes\r\n\
             Remote-Party-ID: <\"Alice\" <sip:+4915112345@example.com>>;x=1\r\n\r\n"
        ),
        "{out}"
    );
    let head = format!(
        "{HEAD}modparam(\"siputils\", \"rpid_avp\", \"$avp(r)\")\n\
         modparam(\"siputils\", \"rpid_prefix\", \"P\")\nmodparam(\"siputils\", \"rpid_suffix\", \"S\")\n"
    );
    let (env, out) = run_with(
        &head,
        "$avp(r) = \"sip:bob@example.com\"; is_rpid_user_e164(); $sht(t=>b) = $rc; append_rpid_hf();",
    );
    assert_eq!(get(&env, "b"), Value::Int(-1));
    assert!(
        out.contains("Remote-Party-ID: Psip:bob@example.comS\r\n"),
        "{out}"
    );
}

#[test]
fn p_charging_vector_generated_when_missing() {
    let (env, out) = run_with(
        HEAD,
        "sip_p_charging_vector(\"g\"); $sht(t=>rc) = $rc;\n\
         $sht(t=>v) = $pcv(value); $sht(t=>g) = $pcv(genaddr); $sht(t=>all) = $pcv(all);",
    );
    assert_eq!(get(&env, "rc"), Value::Int(1));
    let v = get(&env, "v").to_str().into_owned();
    assert!(
        regex::Regex::new("^495653[0-9A-F]{26}$")
            .unwrap()
            .is_match(&v),
        "{v}"
    );
    assert_eq!(get(&env, "g"), Value::str("127.0.0.1"));
    let line = format!("P-Charging-Vector: icid-value={v}; icid-generated-at=127.0.0.1\r\n");
    assert_eq!(get(&env, "all"), Value::str(&line));
    assert!(
        out.ends_with(&format!("Content-Length: 0\r\n{line}\r\n")),
        "{out}"
    );
}

#[test]
fn p_charging_vector_read_from_the_request() {
    let m = INVITE.replace(
        "CSeq: 1 INVITE\n",
        "CSeq: 1 INVITE\nP-Charging-Vector: icid-value=AB12; icid-generated-at=192.0.2.1;orig-ioi=h.net\n",
    );
    let (env, out) = run_on(
        &m,
        HEAD,
        "$sht(t=>v) = $pcv(value); $sht(t=>o) = $pcv(orig); $sht(t=>all) = $pcv(all);\n\
         sip_p_charging_vector(\"g\"); sip_p_charging_vector(\"r\");",
    );
    assert_eq!(get(&env, "v"), Value::str("AB12"));
    assert_eq!(get(&env, "o"), Value::str("h.net"));
    assert_eq!(
        get(&env, "all"),
        Value::str("icid-value=AB12; icid-generated-at=192.0.2.1;orig-ioi=h.net")
    );
    // Kamailio 5.6.3 neither adds a second vector nor removes this one.
    assert_eq!(out.matches("P-Charging-Vector").count(), 1, "{out}");
}

#[test]
fn is_user_needs_authorized_credentials() {
    let mut e = Env::new(INVITE);
    let mut ctx = e.ctx();
    assert_eq!(call(&mut ctx, "siputils", "is_user", &[s("alice")]), -1);
    ctx.slots
        .put(sipvm_proxy::modules::siputils::AuthorizedCred {
            username_user: "alice".into(),
        });
    assert_eq!(call(&mut ctx, "siputils", "is_user", &[s("alice")]), 1);
    assert_eq!(call(&mut ctx, "siputils", "is_user", &[s("Alice")]), -1);
}
