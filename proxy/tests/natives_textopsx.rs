//! textopsx's iterators and sdpops' functions that write AVPs, in real scripts (compiled, run
//! on the VM against the proxy's `Ctx`); results land in an htable and in the message's
//! edits. The single-call functions of both modules are in natives_textsip.rs, side by side
//! with Kamailio 5.6.3.

mod natives_common;
use natives_common::*;
use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::{RouteKind, Value, Vm};

const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: tx1@example.com
CSeq: 1 INVITE
X-Foo: one
Content-Type: application/sdp
Content-Length: 111

v=0
o=- 7 9 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 4000 RTP/AVP 0
a=x-junk:1
a=sendrecv
";

const HEAD: &str = "loadmodule \"pv.so\"\nloadmodule \"htable.so\"\nloadmodule \"textopsx.so\"\n\
    loadmodule \"sdpops.so\"\nloadmodule \"textops.so\"\n\
    modparam(\"htable\", \"htable\", \"t=>size=4;\")\n";

/// Runs `body` as request_route; the environment and the message as it would leave.
fn run(body: &str) -> (Env, String) {
    run_on(INVITE, body)
}

fn run_on(message: &str, body: &str) -> (Env, String) {
    let text = format!("{HEAD}request_route {{\n{body}\n}}\n");
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
    let m = msg(message);
    let mut env = Env::with_program(m, &params, c.program);
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
fn header_iterator_walks_removes_and_adds() {
    let (env, out) = run("$var(n) = \"\";\n\
         hf_iterator_start(\"i\");\n\
         while (hf_iterator_next(\"i\")) {\n\
             $var(n) = $var(n) + $hfitname(i) + \"=\" + $hfitbody(i) + \";\";\n\
             if ($hfitname(i) == \"X-Foo\") { hf_iterator_rm(\"i\"); }\n\
             if ($hfitname(i) == \"CSeq\") { hf_iterator_append(\"i\", \"X-After: 1\\r\\n\"); }\n\
             if ($hfitname(i) == \"From\") { hf_iterator_insert(\"i\", \"X-Before: 1\\r\\n\"); }\n\
         }\n\
         $sht(t=>names) = $var(n);\n\
         hf_iterator_next(\"i\"); $sht(t=>past) = $rc;\n\
         hf_iterator_end(\"i\"); hf_iterator_next(\"i\"); $sht(t=>ended) = $hfitname(i);\n\
         hf_iterator_next(\"i\"); hf_iterator_prev(\"i\"); $sht(t=>back) = $hfitname(i);\n\
         hf_iterator_prev(\"i\"); $sht(t=>restart) = $rc; hf_iterator_next(\"i\"); $sht(t=>again) = $hfitname(i);\n\
         hf_iterator_end(\"nope\"); $sht(t=>unknown) = $rc;\n\
         hf_iterator_start(\"a\"); hf_iterator_start(\"b\"); hf_iterator_start(\"c\");\n\
         hf_iterator_start(\"d\"); hf_iterator_start(\"e\"); $sht(t=>fifth) = $rc;");
    assert_eq!(
        get(&env, "names"),
        Value::str(
            "Via=SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1;From=<sip:alice@example.com>;tag=a1;\
             To=<sip:bob@example.com>;Call-ID=tx1@example.com;CSeq=1 INVITE;X-Foo=one;\
             Content-Type=application/sdp;Content-Length=111;"
        )
    );
    assert_eq!(get(&env, "past"), Value::Int(-1));
    assert_eq!(
        get(&env, "ended"),
        Value::str("Via"),
        "after end, next starts over"
    );
    assert_eq!(get(&env, "back"), Value::str("Via"));
    assert_eq!(
        get(&env, "restart"),
        Value::Int(1),
        "prev on the first starts over"
    );
    assert_eq!(get(&env, "again"), Value::str("Via"));
    assert_eq!(get(&env, "unknown"), Value::Int(-1));
    assert_eq!(get(&env, "fifth"), Value::Int(-1), "at most 4 iterators");
    assert!(!out.contains("X-Foo"), "{out}");
    assert!(out.contains("CSeq: 1 INVITE\r\nX-After: 1\r\n"), "{out}");
    assert!(out.contains("X-Before: 1\r\nFrom: "), "{out}");
}

#[test]
fn body_line_iterator_and_its_edits() {
    let (env, out) = run("$var(c) = 0;\n\
         bl_iterator_start(\"b\");\n\
         while (bl_iterator_next(\"b\")) {\n\
             $var(c) = $var(c) + 1;\n\
             if ($blitval(b) =~ \"^a=x-\") { bl_iterator_rm(\"b\"); }\n\
             if ($blitval(b) =~ \"^s=\") { $sht(t=>s) = $blitval(b); bl_iterator_append(\"b\", \"i=info\\r\\n\"); }\n\
         }\n\
         $sht(t=>lines) = $var(c);");
    assert_eq!(get(&env, "lines"), Value::Int(8));
    assert_eq!(
        get(&env, "s"),
        Value::str("s=-\r\n"),
        "the line end is part of it"
    );
    assert!(!out.contains("a=x-junk"), "{out}");
    assert!(out.contains("s=-\r\ni=info\r\nc=IN"), "{out}");
    assert!(out.contains("Content-Length: 107\r\n"), "{out}");
}

#[test]
fn sdpops_into_avps_and_sdp_pv() {
    let (env, _) = run("sdp_get(\"$avp(sdp)\"); $sht(t=>rc) = $rc; $sht(t=>sdp) = $avp(sdp);\n\
         sdp_transport(\"$avp(tr)\"); $sht(t=>tr) = $avp(tr);\n\
         sdp_get_line_startswith(\"$avp(o)\", \"o=\"); $sht(t=>o) = $avp(o);\n\
         sdp_get_line_startswith(\"$avp(z)\", \"z=\"); $sht(t=>zrc) = $rc;\n\
         $sht(t=>ver) = $sdp(sess_version);\n\
         $sht(t=>same) = 0; if ($sdp(body) == $avp(sdp)) { $sht(t=>same) = 1; }\n\
         regex_substring(\"ab12cd345\", \"([0-9]+)[a-z]+([0-9]+)\", 2, 3, \"$avp(re)\"); $sht(t=>re) = $avp(re);\n\
         regex_substring(\"abc\", \"[0-9]\", 0, 1, \"$avp(re2)\"); $sht(t=>rerc) = $rc;");
    assert_eq!(get(&env, "rc"), Value::Int(1));
    assert!(get(&env, "sdp").to_str().starts_with("v=0\r\no=- 7 9"));
    assert_eq!(get(&env, "tr"), Value::str("RTP/AVP"));
    assert_eq!(get(&env, "o"), Value::str("o=- 7 9 IN IP4 127.0.0.1"));
    assert_eq!(get(&env, "zrc"), Value::Int(-1));
    assert_eq!(get(&env, "ver"), Value::Int(9));
    assert_eq!(get(&env, "same"), Value::Int(1));
    assert_eq!(get(&env, "re"), Value::str("345"));
    assert_eq!(get(&env, "rerc"), Value::Int(-2), "no match");
}

const MULTI: &str = "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-2
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: tx2@example.com
CSeq: 1 INVITE
Content-Type: multipart/mixed;boundary=\"b1\"
Content-Length: 93

--b1
Content-Type: application/sdp

v=0
--b1
Content-Type: text/plain

hello
--b1--
";

#[test]
fn body_parts_of_a_multipart_body() {
    assert_eq!(msg(MULTI).body().len(), 93, "the test body's length");
    let (env, _) = run_on(
        MULTI,
        "get_body_part(\"application/sdp\", \"$avp(p)\"); $sht(t=>rc) = $rc; $sht(t=>p) = $avp(p);\n\
         get_body_part_raw(\"text/plain\", \"$avp(r)\"); $sht(t=>r) = $avp(r);\n\
         get_body_part(\"image/png\", \"$avp(n)\"); $sht(t=>none) = $rc;",
    );
    assert_eq!(get(&env, "rc"), Value::Int(1));
    // From after the Content-Type line to the boundary, as Kamailio cuts it.
    assert_eq!(get(&env, "p"), Value::str("\r\nv=0\r\n"));
    assert_eq!(
        get(&env, "r"),
        Value::str("Content-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n")
    );
    assert_eq!(get(&env, "none"), Value::Int(-1));
    let (env, _) = run("get_body_part(\"application/sdp\", \"$avp(w)\"); $sht(t=>w) = $avp(w);");
    assert!(
        get(&env, "w").to_str().starts_with("v=0\r\n"),
        "no boundary: the whole body"
    );
}

#[test]
fn whole_header_values() {
    let text =
        "INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1\r\n\
        From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: v2\r\n\
        CSeq: 1 INVITE\r\nSupported: timer, path\r\nSupported: gruu\r\nContent-Length: 0\r\n\r\n";
    let mut e = natives_common::Env::new(text);
    let mut ctx = e.ctx();
    assert_eq!(
        call(&mut ctx, "textopsx", "remove_hf_value2", &[s("supported")]),
        1
    );
    assert_eq!(
        call(
            &mut ctx,
            "textopsx",
            "assign_hf_value2",
            &[s("To"), s("<sip:c@example.com>")]
        ),
        1
    );
    assert_eq!(
        call(&mut ctx, "textopsx", "remove_hf_value2", &[s("X-No")]),
        -1
    );
    let out = serialized(&ctx);
    assert!(out.contains("To: <sip:c@example.com>\r\nCall-ID"), "{out}");
    assert!(
        !out.contains("timer") && out.contains("Supported: gruu\r\n"),
        "{out}"
    );
}
