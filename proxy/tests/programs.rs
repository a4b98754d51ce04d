//! Real configurations, compiled and run on the VM through a scripted host: which natives run,
//! with which arguments, for sample messages.

use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::test_host::TestHost;
use sipvm_vm::{
    ArgValue, End, Host, HostError, NativeIdx, Outcome, Program, PvKey, RouteKind, Value, Vm,
    VmError,
};
use std::path::PathBuf;

fn shared() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.exists() {
        p
    } else {
        PathBuf::from("/work/shared")
    }
}

fn compile(text: &str) -> Program {
    match compile_str(
        "test.cfg",
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c.program,
        Err(f) => panic!("does not compile:\n{}", f.render()),
    }
}

fn example(name: &str) -> Program {
    let text = std::fs::read_to_string(shared().join("examples").join(name)).unwrap();
    compile(&text)
}

/// A `TestHost` that also answers `is_method` from `$rm`, like the real one will.
struct MsgHost(TestHost);

impl MsgHost {
    fn new(method: &str) -> Self {
        let mut h = TestHost::new();
        h.put_pv("rm", "", method)
            .put_pv("si", "", "127.0.0.1")
            .put_pv("ru", "", "sip:alice@example.test");
        MsgHost(h)
    }
}

impl Host for MsgHost {
    fn get_pv(&mut self, p: &Program, k: PvKey<'_>) -> Result<Value, HostError> {
        self.0.get_pv(p, k)
    }
    fn set_pv(&mut self, p: &Program, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
        self.0.set_pv(p, k, v)
    }
    fn call(&mut self, p: &Program, n: NativeIdx, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
        let rc = self.0.call(p, n, args)?;
        if &*p.natives[n.ix()].name == "is_method" {
            let Some(Value::Str(m)) = self.0.pv("rm", "").cloned() else {
                return Ok(-1);
            };
            let ArgValue::Val(Value::Str(list)) = &args[0] else {
                return Ok(-1);
            };
            return Ok(if list.split('|').any(|x| x.eq_ignore_ascii_case(&m)) {
                1
            } else {
                -1
            });
        }
        Ok(rc)
    }
    fn is_myself(&mut self, uri: &str) -> bool {
        self.0.is_myself(uri)
    }
    fn stands_in_for_natives(&self) -> bool {
        true
    }
}

fn run(prog: &Program, vm: &mut Vm, host: &mut MsgHost) -> Result<Outcome, VmError> {
    let r = prog.route(RouteKind::Request, "").expect("request_route");
    vm.run(prog, r, host)
}

/// Calls other than `is_method`, as `name(args)`.
fn calls(h: &MsgHost) -> Vec<String> {
    h.0.call_log()
        .into_iter()
        .filter(|c| !c.starts_with("is_method"))
        .collect()
}

#[test]
fn reply_by_method() {
    let prog = example("04-reply-by-method.cfg");
    let cases = [
        ("INVITE", r#"sl_send_reply(200, "OK")"#),
        ("BYE", r#"sl_send_reply(200, "OK")"#),
        ("MESSAGE", r#"sl_send_reply(202, "Accepted")"#),
        ("OPTIONS", r#"sl_send_reply(200, "OK")"#),
        ("info", r#"sl_send_reply(200, "OK")"#),
        ("PUBLISH", r#"sl_send_reply(202, "Accepted")"#),
        ("REGISTER", r#"sl_send_reply(403, "Forbidden")"#),
    ];
    for (m, want) in cases {
        let mut h = MsgHost::new(m);
        run(&prog, &mut Vm::new(), &mut h).unwrap();
        assert_eq!(calls(&h), vec![want.to_string()], "method {m}");
    }
}

#[test]
fn var_persists_across_messages_on_one_vm() {
    let prog = example("06-round-robin-per-worker.cfg");
    let mut vm = Vm::new();
    let mut hops = Vec::new();
    for _ in 0..4 {
        let mut h = MsgHost::new("INVITE");
        run(&prog, &mut vm, &mut h).unwrap();
        hops.push(calls(&h)[0].clone());
    }
    let a = r#"rewritehostport("127.0.0.1:5081")"#;
    let b = r#"rewritehostport("127.0.0.1:5082")"#;
    assert_eq!(hops, vec![a, b, a, b]);
    // A second VM (another worker) starts from the modparam's initial value.
    let mut h = MsgHost::new("INVITE");
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(calls(&h)[0], a);
}

#[test]
fn retcode_after_native() {
    let prog = example("09-max-forwards.cfg");
    let mut h = MsgHost::new("INVITE");
    h.0.set_return("maxfwd_process", -1);
    let out = run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(
        calls(&h),
        vec![
            r#"maxfwd_process(10)"#,
            r#"sl_send_reply(483, "Too Many Hops")"#
        ]
    );
    assert_eq!(out.end, End::Exit);

    let mut h = MsgHost::new("INVITE");
    h.0.set_return("maxfwd_process", 2);
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    let c = calls(&h);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(c[1].starts_with("xlog("), "{c:?}");
    assert_eq!(c[2], r#"sl_send_reply(200, "OK")"#);

    let mut h = MsgHost::new("INVITE");
    h.0.set_return("maxfwd_process", 1);
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(
        calls(&h),
        vec![r#"maxfwd_process(10)"#, r#"sl_send_reply(200, "OK")"#]
    );
}

#[test]
fn switch_falls_through_and_uses_rc() {
    let prog = example("12-registrar.cfg");
    let outcome = |lookup_rc: i64| {
        let mut h = MsgHost::new("INVITE");
        h.0.add_myself("example.test")
            .set_return("has_totag", -1)
            .set_return("lookup", lookup_rc);
        run(&prog, &mut Vm::new(), &mut h).unwrap();
        calls(&h)
    };
    let tail = |c: Vec<String>| c.last().cloned().unwrap();
    assert_eq!(tail(outcome(-1)), r#"send_reply(404, "Not Found")"#);
    assert_eq!(tail(outcome(-3)), r#"send_reply(404, "Not Found")"#);
    assert_eq!(
        tail(outcome(-2)),
        r#"send_reply(405, "Method Not Allowed")"#
    );
    assert_eq!(tail(outcome(1)), "t_relay()");
    // Not for us: relaying is refused before lookup.
    let mut h = MsgHost::new("INVITE");
    h.0.set_return("has_totag", -1);
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(
        tail(calls(&h)),
        r#"sl_send_reply(403, "Relaying Forbidden")"#
    );
}

#[test]
fn returning_zero_from_a_native_stops_the_script() {
    let prog = example("12-registrar.cfg");
    let mut h = MsgHost::new("INVITE");
    h.0.set_return("mf_process_maxfwd_header", 0);
    let out = run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(out.end, End::Stop);
    assert_eq!(calls(&h), vec![r#"mf_process_maxfwd_header(10)"#]);
}

#[test]
fn htable_ban_with_dynamic_names() {
    let prog = example("10-ipban-htable.cfg");
    let mut vm = Vm::new();
    let mut h = MsgHost::new("OPTIONS");
    let mut replies = Vec::new();
    for _ in 0..22 {
        h.0.calls.clear();
        run(&prog, &mut vm, &mut h).unwrap();
        replies.push(calls(&h).last().cloned().unwrap_or_default());
    }
    assert!(
        replies[..20]
            .iter()
            .all(|r| r == r#"sl_send_reply(200, "OK")"#),
        "{replies:?}"
    );
    assert_eq!(replies[20], r#"sl_send_reply(403, "Banned")"#);
    assert!(replies[21].starts_with("xlog("), "{replies:?}");
    assert_eq!(h.0.pv("sht", "ipban=>127.0.0.1"), Some(&Value::Int(1)));
    assert_eq!(h.0.pv("sht", "hits=>127.0.0.1"), Some(&Value::Int(21)));
}

#[test]
fn custom_params_build_the_request_uri() {
    let prog = example("13-custom-params.cfg");
    let mut h = MsgHost::new("INVITE");
    h.0.put_pv("rU", "", "+4930123")
        .put_pv("sel", "cfg_get.pstn.enabled", 1)
        .put_pv("sel", "cfg_get.pstn.gw_ip", "127.0.0.1")
        .put_pv("sel", "cfg_get.pstn.gw_port", 5090);
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(
        h.0.pv("ru", ""),
        Some(&Value::Str("sip:+4930123@127.0.0.1:5090".into()))
    );
    assert_eq!(calls(&h), vec!["t_relay()"]);

    let mut h = MsgHost::new("INVITE");
    h.0.put_pv("rU", "", "alice")
        .put_pv("sel", "cfg_get.pstn.enabled", 1);
    run(&prog, &mut Vm::new(), &mut h).unwrap();
    assert_eq!(calls(&h), vec![r#"sl_send_reply(404, "Not Found")"#]);
}

#[test]
fn runaway_while_hits_the_step_budget() {
    let prog = compile(
        "loadmodule \"sl.so\"\nrequest_route {\n  $var(i) = 0;\n  while (1) {\n    $var(i) = $var(i) + 1;\n  }\n  sl_send_reply(\"200\", \"OK\");\n}\n",
    );
    let mut vm = Vm::with_budget(10_000);
    let mut h = MsgHost::new("INVITE");
    let err = run(&prog, &mut vm, &mut h).unwrap_err();
    assert!(matches!(err, VmError::Budget { .. }), "{err:?}");
    assert!(
        err.render(&prog).contains("test.cfg:5"),
        "{}",
        err.render(&prog)
    );
    assert!(calls(&h).is_empty());
    // The same VM serves the next message normally.
    let ok = compile(
        "request_route {\n  $var(n) = 3;\n  while ($var(n) > 0) { $var(n) = $var(n) - 1; }\n}\n",
    );
    run(&ok, &mut vm, &mut h).unwrap();
    assert_eq!(vm.var("n"), Some(&Value::Int(0)));
}

#[test]
fn declared_but_unimplemented_native_is_refused_at_compile_time() {
    // t_replicate() is declared (Kamailio exports it) but sipvm does not have it.
    let text =
        "loadmodule \"tm.so\"\nrequest_route {\n    t_replicate(\"sip:127.0.0.1:5090\");\n}\n";
    let failed = compile_str(
        "test.cfg",
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_err();
    let out = failed.render();
    assert!(
        out.contains("test.cfg:3:5: error: `t_replicate()` is not implemented"),
        "{out}"
    );
    assert!(
        out.contains("Kamailio's module tm has it; sipvm does not implement it yet"),
        "{out}"
    );
}

/// Kamailio 5.6's typing and truth rules, through the compiler and the VM together
/// (each expectation is an observation from docs/semantics.md).
#[test]
fn coercions_and_truth_as_kamailio() {
    let prog = compile(
        r#"loadmodule "textops.so"
request_route {
    $var(one) = 1; $var(abc) = "abc"; $var(s5) = "5"; $var(s05) = "05"; $var(m3) = -3;
    $var(big) = 2147483647;
    $var(concat) = "abc" + 1;
    $var(strnum) = "12" + 1;
    $var(intstr) = 1 + "12";
    $var(badint) = $var(one) + $var(abc);
    $var(nullplus) = $null + 1;
    $var(unset) = $var(never) + 1;
    $var(eq1) = $var(s5) == 5;
    $var(eq2) = 5 == $var(s05);
    $var(eq3) = $var(s05) == 5;
    $var(lt) = $var(abc) < "abd";
    $var(cast) = (int)"12x";
    $var(wrap) = $var(big) + 1;
    $var(folded) = 2147483647 + 1;
    $var(mod) = -7 mod 3;
    $var(len) = strlen($var(abc));
    $var(t1) = 0; $var(t2) = 0; $var(t3) = 0; $var(t4) = 0; $var(t5) = 0;
    if ($var(m3)) { $var(t1) = 1; }
    if ($var(m3) || is_method("NOPE")) { $var(t2) = 1; }
    if (!$var(m3)) { $var(t3) = 1; }
    if (!is_method("NOPE")) { $var(t4) = 1; }
    if ($var(abc)) { $var(t5) = 1; }
}
"#,
    );
    let mut vm = Vm::new();
    run(&prog, &mut vm, &mut MsgHost::new("INVITE")).unwrap();
    let s = |x: &str| Value::Str(x.into());
    let expect: &[(&str, Value)] = &[
        ("concat", s("abc1")),
        ("strnum", s("121")),
        ("intstr", Value::Int(13)),
        ("badint", Value::Int(1)),
        ("nullplus", Value::Int(1)),
        ("unset", Value::Int(1)),
        ("eq1", Value::Int(1)),
        ("eq2", Value::Int(1)),
        ("eq3", Value::Int(0)),
        ("lt", Value::Int(0)),
        ("cast", Value::Int(0)),
        ("wrap", Value::Int(-2147483648)),
        ("folded", Value::Int(-2147483648)),
        ("mod", Value::Int(-1)),
        ("len", Value::Int(3)),
        ("t1", Value::Int(0)),
        ("t2", Value::Int(1)),
        ("t3", Value::Int(0)),
        ("t4", Value::Int(1)),
        ("t5", Value::Int(0)),
    ];
    let mut wrong = Vec::new();
    for (name, want) in expect {
        let got = vm.var(name).cloned();
        if got.as_ref() != Some(want) {
            wrong.push(format!("$var({name}): want {want:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
