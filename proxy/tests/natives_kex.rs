//! Branch flags and NAT handling across modules, in a compiled script on the proxy's `Ctx`:
//! a REGISTER with `setbflag()` and nathelper's `fix_nated_register()` is saved; the INVITE's
//! `lookup()` gives the binding's cflags back as branch 0's flags and its received address
//! as `$du` (Kamailio's registrar does both).

mod natives_common;
use natives_common::*;
use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::{RouteKind, Value, Vm};

const CFG: &str = r#"
loadmodule "sl.so"
loadmodule "textops.so"
loadmodule "kex.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "nathelper.so"
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "received_avp", "$avp(RECEIVED)")
request_route {
    if (is_method("REGISTER")) {
        setbflag(6);
        setbflag(7);
        resetbflag(7);
        fix_nated_register();
        save("location");
        exit;
    }
    if (!lookup("location")) {
        sl_send_reply("404", "Not Found");
        exit;
    }
    if (!isbflagset(6)) {
        sl_send_reply("500", "no flag");
        exit;
    }
}
"#;

const REGISTER: &str = "REGISTER sip:127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1;rport
From: <sip:bob@127.0.0.1>;tag=r1
To: <sip:bob@127.0.0.1>
Call-ID: reg-1@10.0.0.5
CSeq: 1 REGISTER
Contact: <sip:bob@10.0.0.5:5060>
Expires: 600
Content-Length: 0

";

const INVITE: &str = "INVITE sip:bob@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-i1
From: <sip:alice@127.0.0.1>;tag=i1
To: <sip:bob@127.0.0.1>
Call-ID: inv-1@192.0.2.9
CSeq: 1 INVITE
Content-Length: 0

";

#[test]
fn cflags_and_received_come_back_with_lookup() {
    let c = compile_str(
        "t.cfg",
        CFG,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_or_else(|f| panic!("does not compile:\n{}", f.render()));
    let params: Vec<(&str, &str, Value)> = c
        .modparams
        .iter()
        .map(|m| (m.module.as_str(), m.param.as_str(), m.value.clone()))
        .collect();
    let mut env = Env::with_program(msg(REGISTER), &params, c.program);
    let prog = env.snap.program.clone();
    let route = prog.route(RouteKind::Request, "").unwrap();
    let mut vm = Vm::new();
    {
        let mut ctx = env.ctx();
        vm.run(&prog, route, &mut ctx)
            .unwrap_or_else(|e| panic!("{}", e.render(&prog)));
        ctx.finish();
    }
    let sent = env.sent();
    assert_eq!(code(&sent[0]), 200, "{sent:?}");
    env.out.clear();

    env.msg = msg(INVITE);
    let mut ctx = env.ctx();
    let r = vm
        .run(&prog, route, &mut ctx)
        .unwrap_or_else(|e| panic!("{}", e.render(&prog)));
    assert_eq!(r.rc, 1, "found, and branch flag 6 came back");
    assert_eq!(ctx.bflags, 1 << 6, "cflags of the binding: 6 set, 7 reset");
    assert_eq!(ctx.ruri.as_deref(), Some("sip:bob@10.0.0.5:5060"));
    // fix_nated_register() put the REGISTER's source in the received AVP; save() kept it.
    assert_eq!(ctx.dst_uri.as_deref(), Some(format!("sip:{SRC}").as_str()));
    drop(ctx);
    assert!(env.sent().is_empty(), "{:?}", env.sent());
}
