//! Pseudo-variables, formats, transformations and native arguments in the interpreter.

mod common;
use common::{r, s, B};
use sipvm_vm::*;
use std::sync::Arc;

#[test]
fn pvs_formats_and_transformations() {
    let mut b = B::new();
    let ru = b.pv("ru", None);
    let rm = b.pv("rm", None);
    let i = b.var("i", Value::Int(1));
    let var_i = b.pv("var", Some("i"));
    // $hdr(Via)[$var(i)]
    let via = b.pv_full(
        "hdr",
        PvName::Static(Arc::from("Via")),
        PvIndex::Dyn(var_i),
        None,
    );
    // $sht(t=>$rm)
    let nm = b.fmt(
        "t=>$rm",
        vec![FmtPart::Lit(Arc::from("t=>")), FmtPart::Pv(rm)],
    );
    let sht = b.pv_full("sht", PvName::Dyn(nm), PvIndex::None, None);
    // $(ru{uri.user}{s.toupper})
    let t = b.trans(&[("uri", "user", vec![]), ("s", "toupper", vec![])]);
    let ruser = b.pv_full("ru", PvName::None, PvIndex::None, Some(t));
    let nul = b.pv("null", None);
    let f = b.fmt(
        "u=$(ru{uri.user}) $null $var(i)",
        vec![
            FmtPart::Lit(Arc::from("u=")),
            FmtPart::Pv(ruser),
            FmtPart::Lit(Arc::from(" ")),
            FmtPart::Pv(nul),
            FmtPart::Lit(Arc::from(" ")),
            FmtPart::Pv(var_i),
        ],
    );
    let out = b.var("out", Value::Null);
    let v2 = b.var("via", Value::Null);
    let tl = b.trans(&[(
        "s",
        "substr",
        vec![TransArg::Val(Value::Int(0)), TransArg::Pv(var_i)],
    )]);
    let k = b.konst(s("sip:x@example.com"));
    b.route(
        RouteKind::Request,
        "",
        3,
        vec![
            Op::Format { dst: r(0), f },
            Op::SetVar {
                slot: out,
                src: r(0),
            },
            Op::GetPv { dst: r(1), pv: via },
            Op::SetVar {
                slot: v2,
                src: r(1),
            },
            Op::Trans {
                dst: r(2),
                a: r(1),
                t: tl,
            },
            Op::SetPv { pv: sht, src: r(2) },
            Op::GetVar { dst: r(0), slot: i },
            Op::Const { dst: r(2), k },
            Op::SetPv { pv: ru, src: r(2) },
            Op::Myself { dst: r(2), a: r(2) },
            Op::Return { src: r(2) },
        ],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.put_pv("ru", "", "sip:alice@example.com;transport=udp")
        .put_pv("rm", "", "INVITE")
        .put_pv("hdr", "Via", "SIP/2.0/UDP a")
        .add_myself("example.com");
    let mut vm = Vm::new();
    let o = vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert_eq!(o.rc, 1);
    assert_eq!(vm.var("out"), Some(&s("u=ALICE <null> 1")));
    assert_eq!(vm.var("via"), Some(&s("SIP/2.0/UDP a")));
    assert_eq!(h.pv("sht", "t=>INVITE"), Some(&s("S")));
    assert_eq!(h.pv("ru", ""), Some(&s("sip:x@example.com")));
}

#[test]
fn failed_transformation_reads_null() {
    let mut b = B::new();
    let t = b.trans(&[(
        "s",
        "substr",
        vec![TransArg::Val(Value::Int(20)), TransArg::Val(Value::Int(2))],
    )]);
    let k = b.konst(s("abc"));
    let x = b.var("x", Value::Null);
    b.route(
        RouteKind::Request,
        "",
        2,
        vec![
            Op::Const { dst: r(0), k },
            Op::Trans {
                dst: r(1),
                a: r(0),
                t,
            },
            Op::Un {
                op: UnOp::Defined,
                dst: r(1),
                a: r(1),
            },
            Op::SetVar { slot: x, src: r(1) },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut vm = Vm::new();
    vm.run(&p, RouteIdx(0), &mut TestHost::new()).unwrap();
    assert_eq!(vm.var("x"), Some(&Value::Int(0)));
}

#[test]
fn regex_match_and_branches() {
    let mut b = B::new();
    let re = b.regex("^sip:.*@EXAMPLE");
    let k = b.konst(s("sip:bob@example.com"));
    let pat = b.konst(s("B+O"));
    let x = b.var("x", Value::Null);
    b.route(
        RouteKind::Request,
        "",
        3,
        vec![
            Op::Const { dst: r(0), k },
            Op::MatchRe {
                dst: r(1),
                a: r(0),
                re,
            },
            Op::JumpIfNot {
                cond: r(1),
                target: Pc(6),
            },
            Op::Const { dst: r(2), k: pat },
            Op::Bin {
                op: BinOp::MatchDyn,
                dst: r(1),
                a: r(0),
                b: r(2),
            },
            Op::SetVar { slot: x, src: r(1) },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut vm = Vm::new();
    vm.run(&p, RouteIdx(0), &mut TestHost::new()).unwrap();
    assert_eq!(vm.var("x"), Some(&Value::Int(1)));
}

#[test]
fn native_arguments_reach_the_host() {
    let mut b = B::new();
    let si = b.pv("si", None);
    let f = b.fmt(
        "from $si",
        vec![FmtPart::Lit(Arc::from("from ")), FmtPart::Pv(si)],
    );
    let re = b.regex("^a+$");
    let fr = b.declare(RouteKind::Failure, "NEXT", 1);
    let au = b.pv("avp", Some("u"));
    let n = b.native("m", "f", true);
    let a = b.args(vec![
        Arg::Fmt(f),
        Arg::Regex(re),
        Arg::Route(fr),
        Arg::Pv(au),
        Arg::Val(Value::Int(3)),
    ]);
    let many = b.args((0..9).map(|i| Arg::Val(Value::Int(i))).collect());
    let main = b.declare(RouteKind::Request, "", 1);
    b.code(
        main,
        1,
        vec![
            Op::Call {
                dst: r(0),
                native: n,
                args: a,
            },
            Op::Call {
                dst: r(0),
                native: n,
                args: many,
            },
            Op::Exit,
        ],
    );
    b.code(fr, 9, vec![Op::Exit]);
    let p = b.build();
    let mut h = TestHost::new();
    h.put_pv("si", "", "10.0.0.1");
    Vm::new().run(&p, main, &mut h).unwrap();
    assert_eq!(
        h.call_log(),
        vec![
            r#"f("from 10.0.0.1", /^a+$/, failure_route[NEXT], $avp(u), 3)"#.to_string(),
            "f(0, 1, 2, 3, 4, 5, 6, 7, 8)".to_string(),
        ]
    );
}

/// `$var`/`$rc`/`$null` in formats as the compiler encodes them (`PV_CLASS_*`).
#[test]
fn compiler_encoded_var_rc_null_in_formats() {
    let mut b = B::new();
    let x = b.var("x", Value::Int(7));
    let mk = |b: &mut B, class: u16, name: &str, index: PvIndex, text: &str| {
        b.p.pvs.push(PvRef {
            class,
            class_name: Arc::from(name),
            name: PvName::None,
            index,
            trans: None,
            text: Arc::from(text),
        });
        PvIdx(b.p.pvs.len() as u32 - 1)
    };
    let pv_x = mk(
        &mut b,
        PV_CLASS_VAR,
        "var",
        PvIndex::Int(x.0 as i32),
        "$var(x)",
    );
    let pv_rc = mk(&mut b, PV_CLASS_RC, "rc", PvIndex::None, "$rc");
    let pv_null = mk(&mut b, PV_CLASS_NULL, "null", PvIndex::None, "$null");
    let f = b.fmt(
        "$var(x) $rc $null",
        vec![
            FmtPart::Pv(pv_x),
            FmtPart::Lit(Arc::from(" ")),
            FmtPart::Pv(pv_rc),
            FmtPart::Lit(Arc::from(" ")),
            FmtPart::Pv(pv_null),
        ],
    );
    let out = b.var("out", Value::Null);
    let n = b.native("m", "f", true);
    let a = b.args(vec![]);
    b.route(
        RouteKind::Request,
        "",
        2,
        vec![
            Op::Call {
                dst: r(0),
                native: n,
                args: a,
            },
            Op::Format { dst: r(1), f },
            Op::SetVar {
                slot: out,
                src: r(1),
            },
            Op::Int { dst: r(1), v: 9 },
            Op::SetPv {
                pv: pv_x,
                src: r(1),
            },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.set_return("f", -2);
    let mut vm = Vm::new();
    vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("out"), Some(&s("7 -2 <null>")));
    assert_eq!(vm.var("x"), Some(&Value::Int(9)));
}

/// A transformed pv that fails prints nothing in a format; a plain null pv prints `<null>`.
#[test]
fn failed_transformation_prints_empty_in_format() {
    let mut b = B::new();
    let t = b.trans(&[("s", "int", vec![])]);
    let tr = b.pv_full(
        "hdr",
        PvName::Static(Arc::from("X")),
        PvIndex::None,
        Some(t),
    );
    let plain = b.pv("hdr", Some("Y"));
    let f = b.fmt(
        "[$(hdr(X){s.int})][$hdr(Y)]",
        vec![
            FmtPart::Lit(Arc::from("[")),
            FmtPart::Pv(tr),
            FmtPart::Lit(Arc::from("][")),
            FmtPart::Pv(plain),
            FmtPart::Lit(Arc::from("]")),
        ],
    );
    let out = b.var("out", Value::Null);
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![
            Op::Format { dst: r(0), f },
            Op::SetVar {
                slot: out,
                src: r(0),
            },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.put_pv("hdr", "X", "12abc");
    let mut vm = Vm::new();
    vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("out"), Some(&s("[][<null>]")));
}
