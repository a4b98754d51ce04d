//! The interpreter on hand-built programs.

mod common;
use common::{r, s, B};
use sipvm_vm::*;
use std::sync::Arc;

fn run(p: &Program, host: &mut TestHost) -> Result<Outcome, VmError> {
    let route = p.route(RouteKind::Request, "").unwrap();
    Vm::new().run(p, route, host)
}

#[test]
fn op_is_eight_bytes() {
    assert_eq!(std::mem::size_of::<Op>(), 8);
}

#[test]
fn arithmetic_and_vars() {
    let mut b = B::new();
    let x = b.var("x", Value::Null);
    let k = b.konst(s("abc"));
    b.route(
        RouteKind::Request,
        "",
        3,
        vec![
            Op::Const { dst: r(0), k },
            Op::Int { dst: r(1), v: 1 },
            Op::Bin {
                op: BinOp::Add,
                dst: r(2),
                a: r(0),
                b: r(1),
            },
            Op::SetVar { slot: x, src: r(2) },
            Op::Return { src: r(1) },
        ],
    );
    let p = b.build();
    let mut vm = Vm::new();
    let out = vm.run(&p, RouteIdx(0), &mut TestHost::new()).unwrap();
    assert_eq!(
        out,
        Outcome {
            end: End::Return,
            rc: 1
        }
    );
    assert_eq!(vm.var("x"), Some(&s("abc1")));
}

/// `$var` keeps its value across messages; unset and null-assigned vars read 0 (N6).
#[test]
fn var_persists_across_runs() {
    let mut b = B::new();
    let n = b.var("n", Value::Null);
    b.route(
        RouteKind::Request,
        "",
        2,
        vec![
            Op::GetVar { dst: r(0), slot: n },
            Op::Int { dst: r(1), v: 1 },
            Op::Bin {
                op: BinOp::Add,
                dst: r(0),
                a: r(0),
                b: r(1),
            },
            Op::SetVar { slot: n, src: r(0) },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut vm = Vm::new();
    let mut h = TestHost::new();
    for _ in 0..3 {
        vm.run(&p, RouteIdx(0), &mut h).unwrap();
    }
    assert_eq!(vm.var("n"), Some(&Value::Int(3)));
}

#[test]
fn var_remapped_by_name_on_new_program() {
    let mk = |names: &[&str], init: i64| {
        let mut b = B::new();
        let slots: Vec<VarIdx> = names.iter().map(|n| b.var(n, Value::Int(init))).collect();
        let mut code = vec![];
        for (i, sl) in slots.iter().enumerate() {
            code.push(Op::GetVar {
                dst: r(0),
                slot: *sl,
            });
            code.push(Op::Int {
                dst: r(1),
                v: (i as i32 + 1) * 10,
            });
            code.push(Op::Bin {
                op: BinOp::Add,
                dst: r(0),
                a: r(0),
                b: r(1),
            });
            code.push(Op::SetVar {
                slot: *sl,
                src: r(0),
            });
        }
        code.push(Op::Exit);
        b.route(RouteKind::Request, "", 2, code);
        Arc::new(b.build())
    };
    let p1 = mk(&["a", "b"], 0);
    let p2 = mk(&["c", "b", "a"], 100);
    let mut vm = Vm::new();
    let mut h = TestHost::new();
    vm.run(&p1, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("a"), Some(&Value::Int(10)));
    assert_eq!(vm.var("b"), Some(&Value::Int(20)));
    // p2: c is new (init 100, +10), b is slot 1 (+20), a is slot 2 (+30)
    vm.run(&p2, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("c"), Some(&Value::Int(110)));
    assert_eq!(vm.var("b"), Some(&Value::Int(40)));
    assert_eq!(vm.var("a"), Some(&Value::Int(40)));
    // back to a program without c: c is parked, not lost
    let p3 = mk(&["a"], 0);
    vm.run(&p3, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("a"), Some(&Value::Int(50)));
    vm.run(&p2, RouteIdx(0), &mut h).unwrap();
    assert_eq!(vm.var("c"), Some(&Value::Int(120)));
    assert_eq!(vm.var("a"), Some(&Value::Int(80)));
}

#[test]
fn rc_after_call_and_assignments() {
    let mut b = B::new();
    let f = b.native("textops", "is_method", true);
    let k = b.konst(s("INVITE"));
    let a = b.args(vec![Arg::Val(s("INVITE"))]);
    let x = b.var("x", Value::Null);
    let _ = k;
    b.route(
        RouteKind::Request,
        "",
        3,
        vec![
            Op::Call {
                dst: r(0),
                native: f,
                args: a,
            },
            Op::Int { dst: r(1), v: 3 },
            Op::SetVar { slot: x, src: r(1) }, // assignments leave $rc alone (N18)
            Op::GetRc { dst: r(2) },
            Op::Return { src: r(2) },
        ],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.set_return("is_method", -1);
    let mut vm = Vm::new();
    let out = vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert_eq!(
        out,
        Outcome {
            end: End::Return,
            rc: -1
        }
    );
    assert_eq!(vm.rc(), -1);
    assert_eq!(h.call_log(), vec![r#"is_method("INVITE")"#]);
}

/// A native returning 0 ends the script (N21).
#[test]
fn zero_from_native_stops() {
    let mut b = B::new();
    let f = b.native("sl", "sl_send_reply", true);
    let g = b.native("xlog", "xlog", true);
    let a = b.args(vec![Arg::Val(Value::Int(404)), Arg::Val(s("Not here"))]);
    let a2 = b.args(vec![Arg::Val(s("after"))]);
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![
            Op::Call {
                dst: r(0),
                native: f,
                args: a,
            },
            Op::Call {
                dst: r(0),
                native: g,
                args: a2,
            },
            Op::Exit,
        ],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.set_return("sl.sl_send_reply", 0);
    let out = run(&p, &mut h).unwrap();
    assert_eq!(
        out,
        Outcome {
            end: End::Stop,
            rc: 0
        }
    );
    assert_eq!(h.call_log(), vec![r#"sl_send_reply(404, "Not here")"#]);
}

/// Sub-routes: return value into the caller and `$rc`; `return 0` ends everything (N19-N22).
#[test]
fn sub_routes() {
    let mut b = B::new();
    let main = b.declare(RouteKind::Request, "", 2);
    let pos = b.declare(RouteKind::Sub, "POS", 1);
    let fall = b.declare(RouteKind::Sub, "FALL", 1);
    let zero = b.declare(RouteKind::Sub, "ZERO", 1);
    let x = b.var("x", Value::Null);
    b.code(
        main,
        1,
        vec![
            Op::CallRoute {
                dst: r(0),
                route: pos,
            },
            Op::SetVar { slot: x, src: r(0) },
            Op::CallRoute {
                dst: r(1),
                route: fall,
            },
            Op::GetRc { dst: r(1) },
            Op::Bin {
                op: BinOp::Add,
                dst: r(0),
                a: r(0),
                b: r(1),
            },
            Op::SetVar { slot: x, src: r(0) },
            Op::CallRoute {
                dst: r(0),
                route: zero,
            },
            Op::Int { dst: r(0), v: 99 },
            Op::SetVar { slot: x, src: r(0) },
            Op::Exit,
        ],
    );
    b.code(
        pos,
        20,
        vec![Op::Int { dst: r(0), v: 7 }, Op::Return { src: r(0) }],
    );
    b.code(
        fall,
        30,
        vec![
            Op::Nop,
            Op::Int { dst: r(0), v: 1 },
            Op::Return { src: r(0) },
        ],
    );
    b.code(
        zero,
        40,
        vec![Op::Int { dst: r(0), v: 0 }, Op::Return { src: r(0) }],
    );
    let p = b.build();
    let mut vm = Vm::new();
    let out = vm.run(&p, main, &mut TestHost::new()).unwrap();
    assert_eq!(
        out,
        Outcome {
            end: End::Stop,
            rc: 0
        }
    );
    assert_eq!(vm.var("x"), Some(&Value::Int(8)));
}

/// Running past the end of the code is `return 1`.
#[test]
fn falling_off_the_end() {
    let mut b = B::new();
    b.route(RouteKind::Request, "", 1, vec![Op::Nop]);
    let p = b.build();
    let out = run(&p, &mut TestHost::new()).unwrap();
    assert_eq!(
        out,
        Outcome {
            end: End::Return,
            rc: 1
        }
    );
}

#[test]
fn exit_and_drop() {
    for (op, end) in [(Op::Exit, End::Exit), (Op::Drop, End::Drop)] {
        let mut b = B::new();
        b.route(RouteKind::Request, "", 1, vec![op]);
        let p = b.build();
        assert_eq!(run(&p, &mut TestHost::new()).unwrap().end, end);
    }
}

#[test]
fn step_budget_stops_endless_loop() {
    let mut b = B::new();
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![Op::Nop, Op::Jump { target: Pc(0) }],
    );
    let p = b.build();
    let mut vm = Vm::with_budget(1000);
    let e = vm.run(&p, RouteIdx(0), &mut TestHost::new()).unwrap_err();
    assert!(matches!(e, VmError::Budget { budget: 1000, .. }), "{e:?}");
    assert_eq!(
        e.render(&p),
        "t.cfg:1:3: step budget of 1000 instructions exhausted (endless loop?)"
    );
    // exactly the budget is fine
    let mut b = B::new();
    b.route(RouteKind::Request, "", 1, vec![Op::Nop, Op::Nop, Op::Exit]);
    let p = b.build();
    assert!(Vm::with_budget(3)
        .run(&p, RouteIdx(0), &mut TestHost::new())
        .is_ok());
    assert!(Vm::with_budget(2)
        .run(&p, RouteIdx(0), &mut TestHost::new())
        .is_err());
}

#[test]
fn recursion_limit() {
    let mut b = B::new();
    let rt = b.declare(RouteKind::Request, "", 1);
    b.code(
        rt,
        1,
        vec![Op::CallRoute {
            dst: r(0),
            route: rt,
        }],
    );
    let p = b.build();
    let e = Vm::new().run(&p, rt, &mut TestHost::new()).unwrap_err();
    assert_eq!(
        e,
        VmError::Recursion {
            pc: Pc(0),
            limit: MAX_DEPTH
        }
    );
}

#[test]
fn unimplemented_native() {
    let mut b = B::new();
    let f = b.native("dispatcher", "ds_select_dst", false);
    let a = b.args(vec![Arg::Val(Value::Int(1)), Arg::Val(Value::Int(4))]);
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![
            Op::Nop,
            Op::Call {
                dst: r(0),
                native: f,
                args: a,
            },
        ],
    );
    let p = b.build();
    // A strict TestHost behaves like the real host; by default it stands in for every native.
    let mut h = TestHost::new();
    h.strict();
    let e = run(&p, &mut h).unwrap_err();
    assert_eq!(
        e.render(&p),
        "t.cfg:2:3: dispatcher.ds_select_dst() is declared but not implemented by sipvm yet"
    );
    assert!(h.calls.is_empty());
}

#[test]
fn host_error_goes_on_and_div_by_zero_has_a_position() {
    let mut b = B::new();
    let f = b.native("m", "boom", true);
    let a = b.args(vec![]);
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![Op::Call {
            dst: r(0),
            native: f,
            args: a,
        }],
    );
    let p = b.build();
    let mut h = TestHost::new();
    h.set_failing("boom", "it broke");
    // A failing native gives -1 and the script goes on; the host hears where it failed.
    assert!(run(&p, &mut h).is_ok());
    assert_eq!(h.failures, vec![(sipvm_vm::Pc(0), "it broke".to_string())]);
    let (file, span) = p.span(sipvm_vm::Pc(0)).expect("span");
    assert_eq!(format!("{file}:{}:{}", span.line, span.col), "t.cfg:1:3");

    let mut b = B::new();
    b.route(
        RouteKind::Request,
        "",
        2,
        vec![
            Op::Int { dst: r(0), v: 5 },
            Op::Int { dst: r(1), v: 0 },
            Op::Bin {
                op: BinOp::Div,
                dst: r(0),
                a: r(0),
                b: r(1),
            },
        ],
    );
    let p = b.build();
    assert_eq!(
        run(&p, &mut TestHost::new()).unwrap_err().render(&p),
        "t.cfg:3:3: division by zero"
    );
}

#[test]
fn bad_register_is_an_error_not_a_panic() {
    let mut b = B::new();
    b.route(
        RouteKind::Request,
        "",
        1,
        vec![Op::Move {
            dst: r(0),
            src: r(5),
        }],
    );
    let p = b.build();
    assert!(matches!(
        run(&p, &mut TestHost::new()),
        Err(VmError::BadProgram { .. })
    ));
}
