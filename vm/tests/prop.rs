//! Random instruction sequences never panic the VM (errors are fine).

mod common;
use common::{s, B};
use proptest::prelude::*;
use sipvm_vm::*;
use std::sync::Arc;

fn reg() -> impl Strategy<Value = Reg> {
    (0u8..6).prop_map(Reg)
}

fn small<T: std::fmt::Debug>(f: fn(u32) -> T) -> impl Strategy<Value = T> {
    (0u32..4).prop_map(f)
}

fn binop() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Mod,
        BinOp::BitAnd,
        BinOp::BitOr,
        BinOp::BitXor,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::EqNoCase,
        BinOp::MatchDyn,
    ])
}

fn unop() -> impl Strategy<Value = UnOp> {
    prop::sample::select(vec![
        UnOp::Not,
        UnOp::Neg,
        UnOp::BitNot,
        UnOp::Strlen,
        UnOp::Defined,
        UnOp::StrEmpty,
        UnOp::ToInt,
        UnOp::ToStr,
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Nop),
        (reg(), small(ConstIdx)).prop_map(|(dst, k)| Op::Const { dst, k }),
        (reg(), any::<i32>()).prop_map(|(dst, v)| Op::Int { dst, v }),
        reg().prop_map(|dst| Op::Null { dst }),
        (reg(), reg()).prop_map(|(dst, src)| Op::Move { dst, src }),
        (reg(), (0u16..3).prop_map(VarIdx)).prop_map(|(dst, slot)| Op::GetVar { dst, slot }),
        ((0u16..3).prop_map(VarIdx), reg()).prop_map(|(slot, src)| Op::SetVar { slot, src }),
        (reg(), small(PvIdx)).prop_map(|(dst, pv)| Op::GetPv { dst, pv }),
        (small(PvIdx), reg()).prop_map(|(pv, src)| Op::SetPv { pv, src }),
        reg().prop_map(|dst| Op::GetRc { dst }),
        (reg(), small(FmtIdx)).prop_map(|(dst, f)| Op::Format { dst, f }),
        (binop(), reg(), reg(), reg()).prop_map(|(op, dst, a, b)| Op::Bin { op, dst, a, b }),
        (unop(), reg(), reg()).prop_map(|(op, dst, a)| Op::Un { op, dst, a }),
        (reg(), reg(), small(RegexIdx)).prop_map(|(dst, a, re)| Op::MatchRe { dst, a, re }),
        (reg(), reg(), small(TransIdx)).prop_map(|(dst, a, t)| Op::Trans { dst, a, t }),
        (reg(), reg()).prop_map(|(dst, a)| Op::Myself { dst, a }),
        (0u32..40).prop_map(|t| Op::Jump { target: Pc(t) }),
        (reg(), 0u32..40).prop_map(|(cond, t)| Op::JumpIf {
            cond,
            target: Pc(t)
        }),
        (reg(), 0u32..40).prop_map(|(cond, t)| Op::JumpIfNot {
            cond,
            target: Pc(t)
        }),
        (reg(), (0u16..3).prop_map(NativeIdx), small(ArgsIdx))
            .prop_map(|(dst, native, args)| Op::Call { dst, native, args }),
        (reg(), (0u16..4).prop_map(RouteIdx)).prop_map(|(dst, route)| Op::CallRoute { dst, route }),
        reg().prop_map(|src| Op::Return { src }),
        Just(Op::Exit),
        Just(Op::Drop),
    ]
}

fn program(code: Vec<Op>, entries: [u32; 3], nregs: [u16; 3]) -> Program {
    let mut b = B::new();
    b.var("a", Value::Null);
    b.var("b", s("x"));
    for v in [s("abc"), Value::Int(0), s("(")] {
        b.konst(v);
    }
    let rm = b.pv("rm", None);
    let var_a = b.pv("var", Some("a"));
    let f0 = b.fmt(
        "$rm-$var(a)",
        vec![
            FmtPart::Pv(rm),
            FmtPart::Lit(Arc::from("-")),
            FmtPart::Pv(var_a),
        ],
    );
    // a pv whose dynamic name formats itself: must be caught, not overflow the stack
    let f1 = b.fmt("$x", vec![FmtPart::Pv(PvIdx(2))]);
    b.pv_full("sht", PvName::Dyn(f1), PvIndex::Dyn(var_a), None);
    let _ = f0;
    b.regex("^a");
    b.trans(&[(
        "s",
        "substr",
        vec![TransArg::Pv(var_a), TransArg::Val(Value::Int(1))],
    )]);
    b.trans(&[("uri", "user", vec![]), ("s", "len", vec![])]);
    b.native("m", "f", true);
    b.native("m", "g", false);
    b.args(vec![
        Arg::Fmt(FmtIdx(0)),
        Arg::Val(Value::Int(1)),
        Arg::Regex(RegexIdx(0)),
    ]);
    b.args(vec![]);
    b.p.code = code;
    for (i, (e, n)) in entries.iter().zip(nregs).enumerate() {
        b.p.routes.push(RouteInfo {
            kind: if i == 0 {
                RouteKind::Request
            } else {
                RouteKind::Sub
            },
            name: Arc::from(format!("R{i}")),
            entry: Pc(*e),
            nregs: n,
        });
    }
    b.build()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn random_programs_never_panic(
        code in prop::collection::vec(op(), 0..40),
        entries in prop::array::uniform3(0u32..45),
        nregs in prop::array::uniform3(0u16..8),
    ) {
        let p = program(code, entries, nregs);
        let mut h = TestHost::new();
        h.put_pv("rm", "", "INVITE").set_return("f", 0);
        let mut vm = Vm::with_budget(500);
        for r in 0..4u16 {
            let _ = vm.run(&p, RouteIdx(r), &mut h);
        }
        let _ = disassemble(&p);
    }
}
