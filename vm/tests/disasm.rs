//! The listing format, exactly.

mod common;
use common::{r, s, B};
use sipvm_vm::*;
use std::sync::Arc;

#[test]
fn small_program_listing() {
    let mut b = B::new();
    let main = b.declare(RouteKind::Request, "", 3);
    let relay = b.declare(RouteKind::Sub, "RELAY", 1);
    let fail = b.declare(RouteKind::Failure, "NEXT", 1);
    let n = b.var("n", Value::Int(0));
    let rm = b.pv("rm", None);
    let ru = b.pv("ru", None);
    let k = b.konst(s("INVITE"));
    let re = b.regex("^sip:");
    let t = b.trans(&[
        ("uri", "user", vec![]),
        (
            "s",
            "substr",
            vec![TransArg::Val(Value::Int(0)), TransArg::Val(Value::Int(2))],
        ),
    ]);
    let si = b.pv("si", None);
    let f = b.fmt(
        "from $si",
        vec![FmtPart::Lit(Arc::from("from ")), FmtPart::Pv(si)],
    );
    let sl = b.native("sl", "sl_send_reply", true);
    let a = b.args(vec![Arg::Val(Value::Int(404)), Arg::Fmt(f)]);
    let ton = b.native("tm", "t_on_failure", true);
    let a2 = b.args(vec![Arg::Route(fail)]);
    b.code(
        main,
        10,
        vec![
            Op::GetPv { dst: r(0), pv: rm },
            Op::Const { dst: r(1), k },
            Op::Bin {
                op: BinOp::Eq,
                dst: r(2),
                a: r(0),
                b: r(1),
            },
            Op::JumpIfNot {
                cond: r(2),
                target: Pc(6),
            },
            Op::Call {
                dst: r(2),
                native: sl,
                args: a,
            },
            Op::Exit,
            Op::GetVar { dst: r(0), slot: n },
            Op::GetPv { dst: r(1), pv: ru },
            Op::MatchRe {
                dst: r(2),
                a: r(1),
                re,
            },
            Op::Trans {
                dst: r(1),
                a: r(1),
                t,
            },
            Op::CallRoute {
                dst: r(2),
                route: relay,
            },
            Op::Return { src: r(2) },
        ],
    );
    b.code(
        relay,
        40,
        vec![
            Op::Call {
                dst: r(0),
                native: ton,
                args: a2,
            },
            Op::Int { dst: r(0), v: 1 },
            Op::Return { src: r(0) },
        ],
    );
    b.code(fail, 50, vec![Op::Drop]);
    // spans on the same line collapse into one comment
    b.p.spans[1].line = 10;
    b.p.spans[2].line = 10;
    let p = b.build();
    let want = "\
request_route:  ; regs=3
0000  getpv     r0, $rm                     ; t.cfg:10
0001  const     r1, \"INVITE\"
0002  eq        r2, r0, r1
0003  jumpifnot r2, 0006                    ; t.cfg:13
0004  call      r2, sl.sl_send_reply(404, \"from $si\") ; t.cfg:14
0005  exit                                  ; t.cfg:15
0006  getvar    r0, $var(n)                 ; t.cfg:16
0007  getpv     r1, $ru                     ; t.cfg:17
0008  match     r2, r1, /^sip:/             ; t.cfg:18
0009  trans     r1, r1, {uri.user}{s.substr,0,2} ; t.cfg:19
0010  route     r2, route[RELAY]            ; t.cfg:20
0011  ret       r2                          ; t.cfg:21

route[RELAY]:  ; regs=1
0012  call      r0, tm.t_on_failure(failure_route[NEXT]) ; t.cfg:40
0013  int       r0, 1                       ; t.cfg:41
0014  ret       r0                          ; t.cfg:42

failure_route[NEXT]:  ; regs=1
0015  drop                                  ; t.cfg:50

vars:
    0  $var(n) = 0
";
    let got = disassemble(&p);
    assert_eq!(got, want, "\n{got}");
}
