//! A small builder for hand-made programs.
#![allow(dead_code)]

use regex::Regex;
use sipvm_vm::*;
use std::sync::Arc;

#[derive(Default)]
pub struct B {
    pub p: Program,
}

pub fn s(x: &str) -> Value {
    Value::str(x)
}

impl B {
    pub fn new() -> B {
        let mut b = B::default();
        b.p.files.push(Arc::from("t.cfg"));
        b
    }

    pub fn konst(&mut self, v: Value) -> ConstIdx {
        self.p.consts.push(v);
        ConstIdx(self.p.consts.len() as u32 - 1)
    }

    pub fn var(&mut self, name: &str, init: Value) -> VarIdx {
        self.p.vars.push(VarInfo {
            name: Arc::from(name),
            init,
        });
        VarIdx(self.p.vars.len() as u16 - 1)
    }

    pub fn pv_full(
        &mut self,
        class: &str,
        name: PvName,
        index: PvIndex,
        trans: Option<TransIdx>,
    ) -> PvIdx {
        let text = match &name {
            PvName::None => format!("${class}"),
            PvName::Static(n) => format!("${class}({n})"),
            PvName::Dyn(f) => format!("${class}({})", self.p.fmts[f.ix()].text),
            PvName::Pv(p) => format!("${class}({})", self.p.pvs[p.ix()].text),
        };
        self.p.pvs.push(PvRef {
            class: match class {
                "var" => sipvm_vm::PV_CLASS_VAR,
                _ => self.p.pvs.len() as u16,
            },
            class_name: Arc::from(class),
            name,
            index,
            trans,
            text: Arc::from(text),
        });
        PvIdx(self.p.pvs.len() as u32 - 1)
    }

    pub fn pv(&mut self, class: &str, name: Option<&str>) -> PvIdx {
        let n = match name {
            Some(n) => PvName::Static(Arc::from(n)),
            None => PvName::None,
        };
        self.pv_full(class, n, PvIndex::None, None)
    }

    pub fn fmt(&mut self, text: &str, parts: Vec<FmtPart>) -> FmtIdx {
        self.p.fmts.push(Fmt {
            text: Arc::from(text),
            parts: parts.into(),
        });
        FmtIdx(self.p.fmts.len() as u32 - 1)
    }

    pub fn regex(&mut self, re: &str) -> RegexIdx {
        self.p.regexes.push(value::compile_regex(re).unwrap());
        RegexIdx(self.p.regexes.len() as u32 - 1)
    }

    pub fn raw_regex(&mut self, re: Regex) -> RegexIdx {
        self.p.regexes.push(re);
        RegexIdx(self.p.regexes.len() as u32 - 1)
    }

    pub fn trans(&mut self, steps: &[(&str, &str, Vec<TransArg>)]) -> TransIdx {
        let steps: Vec<TransStep> = steps
            .iter()
            .map(|(c, o, a)| TransStep {
                class: Arc::from(*c),
                op: Arc::from(*o),
                f: stand_in(c, o),
                args: a.clone().into(),
            })
            .collect();
        self.p.transforms.push(steps.into());
        TransIdx(self.p.transforms.len() as u32 - 1)
    }

    pub fn native(&mut self, module: &str, name: &str, implemented: bool) -> NativeIdx {
        self.p.natives.push(NativeRef {
            id: self.p.natives.len() as u16,
            module: Arc::from(module),
            name: Arc::from(name),
            implemented,
        });
        NativeIdx(self.p.natives.len() as u16 - 1)
    }

    pub fn args(&mut self, a: Vec<Arg>) -> ArgsIdx {
        self.p.arglists.push(a.into());
        ArgsIdx(self.p.arglists.len() as u32 - 1)
    }

    /// Declare a route; its code is added later with `code`.
    pub fn declare(&mut self, kind: RouteKind, name: &str, nregs: u16) -> RouteIdx {
        self.p.routes.push(RouteInfo {
            kind,
            name: Arc::from(name),
            entry: Pc(u32::MAX),
            nregs,
        });
        RouteIdx(self.p.routes.len() as u16 - 1)
    }

    /// Append the code of route `r`; jump targets are relative to its first instruction.
    /// Instruction i of the route gets source line `first_line + i`.
    pub fn code(&mut self, r: RouteIdx, first_line: u32, ops: Vec<Op>) {
        let entry = self.p.code.len() as u32;
        self.p.routes[r.ix()].entry = Pc(entry);
        for (i, op) in ops.into_iter().enumerate() {
            let op = match op {
                Op::Jump { target } => Op::Jump {
                    target: Pc(target.0 + entry),
                },
                Op::JumpIf { cond, target } => Op::JumpIf {
                    cond,
                    target: Pc(target.0 + entry),
                },
                Op::JumpIfNot { cond, target } => Op::JumpIfNot {
                    cond,
                    target: Pc(target.0 + entry),
                },
                op => op,
            };
            self.p.code.push(op);
            self.p.spans.push(Span {
                file: 0,
                line: first_line + i as u32,
                col: 3,
            });
        }
    }

    pub fn route(&mut self, kind: RouteKind, name: &str, nregs: u16, ops: Vec<Op>) -> RouteIdx {
        let r = self.declare(kind, name, nregs);
        let line = self.p.code.len() as u32 + 1;
        self.code(r, line, ops);
        r
    }

    pub fn build(self) -> Program {
        self.p
    }
}

pub fn r(x: u8) -> Reg {
    Reg(x)
}

/// Stand-ins for the few transformations these tests name; the real ones live in the proxy's
/// pv module. Enough to see the VM pass values and arguments through and handle failures.
fn stand_in(class: &str, op: &str) -> TransFn {
    match (class, op) {
        ("uri", "user") => |v, _| {
            let x = v.to_str();
            let rest = x.split_once(':').ok_or("no scheme")?.1;
            Ok(Value::str(rest.split_once('@').ok_or("no user")?.0))
        },
        ("s", "toupper") => |v, _| Ok(Value::str(&v.to_str().to_ascii_uppercase())),
        ("s", "len") => |v, _| Ok(Value::Int(v.to_str().len() as i64)),
        ("s", "int") => |v, _| {
            v.try_int()
                .map(Value::Int)
                .ok_or_else(|| "not an int".into())
        },
        // `{s.substr,start,len}`, len 0 meaning to the end; a start past the end fails.
        ("s", "substr") => |v, a| {
            let x = v.to_str();
            let n = |i: usize| a.get(i).and_then(Value::try_int).ok_or("bad argument");
            let (i, j) = (n(0)? as usize, n(1)? as usize);
            if i >= x.len() {
                return Err("out of range".into());
            }
            let end = if j == 0 {
                x.len()
            } else {
                (i + j).min(x.len())
            };
            Ok(Value::str(&x[i..end]))
        },
        _ => panic!("no stand-in for {{{class}.{op}}}"),
    }
}
