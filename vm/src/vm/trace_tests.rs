//! `Vm::set_trace`: the host hears of each statement-starting instruction, only when on.

use super::*;
use crate::host::{HostError, PvKey};
use crate::op::{NativeIdx, VarIdx};
use crate::program::{RouteInfo, RouteKind, VarInfo};

#[derive(Default)]
struct Tracer(Vec<(u16, u32)>);

impl Host for Tracer {
    fn get_pv(&mut self, _: &Program, _: PvKey<'_>) -> Result<Value, HostError> {
        Ok(Value::Null)
    }
    fn set_pv(&mut self, _: &Program, _: PvKey<'_>, _: Value) -> Result<(), HostError> {
        Ok(())
    }
    fn call(
        &mut self,
        _: &Program,
        _: NativeIdx,
        _: &[crate::host::ArgValue<'_>],
    ) -> Result<i64, HostError> {
        Ok(1)
    }
    fn is_myself(&mut self, _: &str) -> bool {
        false
    }
    fn trace(&mut self, _: &Program, entry: RouteIdx, pc: Pc) {
        self.0.push((entry.0, pc.0));
    }
}

/// route 0: r0 := 1; $var(x) := r0; route(1); exit. route 1: return 1.
fn program() -> Program {
    let mut p = Program::default();
    p.code = vec![
        Op::Int { dst: Reg(0), v: 1 },
        Op::SetVar {
            slot: VarIdx(0),
            src: Reg(0),
        },
        Op::CallRoute {
            dst: Reg(0),
            route: RouteIdx(1),
        },
        Op::Exit,
        Op::Int { dst: Reg(0), v: 1 },
        Op::Return { src: Reg(0) },
    ];
    p.spans = vec![Default::default(); p.code.len()];
    p.vars = vec![VarInfo {
        name: Arc::from("x"),
        init: Value::Null,
    }];
    p.routes = vec![
        RouteInfo {
            kind: RouteKind::Request,
            name: Arc::from(""),
            entry: Pc(0),
            nregs: 1,
        },
        RouteInfo {
            kind: RouteKind::Sub,
            name: Arc::from("A"),
            entry: Pc(4),
            nregs: 1,
        },
    ];
    p
}

#[test]
fn statements_are_traced_only_when_asked() {
    let p = program();
    let mut vm = Vm::new();
    let mut h = Tracer::default();
    vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert!(h.0.is_empty());
    vm.set_trace(true);
    assert!(vm.tracing());
    let o = vm.run(&p, RouteIdx(0), &mut h).unwrap();
    assert_eq!(o.end, End::Exit);
    // setvar, route, the sub-route's return, exit: all reported with the entry route.
    assert_eq!(h.0, vec![(0, 1), (0, 2), (0, 5), (0, 3)]);
}
