//! Route blocks and statements.

use super::pvs::PvUse;
use super::Ctx;
use crate::ast::{AssignOp, CaseLabel, Expr, RouteBlock, Span, Stmt, StmtKind};
use sipvm_vm::{BinOp, Op, Pc, Reg, RouteIdx, UnOp, Value};
use std::sync::Arc;

impl Ctx<'_> {
    pub(super) fn route_block(&mut self, idx: RouteIdx, b: &RouteBlock) {
        self.frame_start();
        self.cur_route = Some(idx);
        self.prog.routes[idx.ix()].entry = self.here();
        self.stmts(&b.body);
        // Falling off the end returns 1, as a bare `return;` does.
        self.at((b.span.0, b.span.0));
        let r = self.alloc();
        self.load(r, &Value::Int(1));
        self.emit(Op::Return { src: r });
        if self.em.reg_overflow {
            let d = self.err(
                b.span,
                "route needs more than 256 registers: split its expressions",
            );
            self.diags.push(d);
            self.em.reg_overflow = false;
        }
        self.prog.routes[idx.ix()].nregs = self.em.max_reg.max(1);
        self.cur_route = None;
    }

    fn stmts(&mut self, s: &[Stmt]) {
        for st in s {
            self.stmt(st);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        let mark = self.mark();
        self.at(s.span);
        match &s.kind {
            StmtKind::Expr(e) => {
                let r = self.alloc();
                self.expr(e, r);
            }
            StmtKind::Assign { target, op, value } => self.assign(&target.0, target.1, *op, value),
            StmtKind::If { cond, then, els } => {
                let mut f = Vec::new();
                self.cond_false(cond, &mut f);
                self.stmts(then);
                match els {
                    Some(els) => {
                        let j = self.emit(Op::Jump { target: Pc(0) });
                        self.patch_here(&f);
                        self.stmts(els);
                        self.patch_here(&[j]);
                    }
                    None => self.patch_here(&f),
                }
            }
            StmtKind::While { cond, body } => {
                let top = self.here();
                let mut f = Vec::new();
                self.cond_false(cond, &mut f);
                self.em.breaks.push(Vec::new());
                self.stmts(body);
                self.at(s.span);
                self.emit(Op::Jump { target: top });
                let brk = self.em.breaks.pop().unwrap_or_default();
                self.patch_here(&f);
                self.patch_here(&brk);
            }
            StmtKind::Switch { subject, cases } => self.switch(subject, cases),
            StmtKind::Return(e) => {
                let r = self.alloc();
                match e {
                    Some(e) => self.expr(e, r),
                    None => self.load(r, &Value::Int(1)),
                }
                self.at(s.span);
                self.emit(Op::Return { src: r });
            }
            StmtKind::Exit(_) => {
                self.emit(Op::Exit);
            }
            StmtKind::Drop => {
                self.emit(Op::Drop);
            }
            StmtKind::Break => match self.em.breaks.last_mut() {
                Some(_) => {
                    let j = self.emit(Op::Jump { target: Pc(0) });
                    if let Some(l) = self.em.breaks.last_mut() {
                        l.push(j);
                    }
                }
                None => {
                    let d = self
                        .err(s.span, "`break` outside of a switch or while")
                        .with_len(5);
                    self.diags.push(d);
                }
            },
            StmtKind::Block(b) => self.stmts(b),
            StmtKind::Empty | StmtKind::Error => {}
        }
        self.release(mark);
    }

    fn assign(&mut self, target: &str, span: Span, op: AssignOp, value: &Expr) {
        let Some(u) = self.pv_use(target, span) else {
            // Still check the right-hand side.
            let r = self.alloc();
            self.expr(value, r);
            return;
        };
        let r = self.alloc();
        match op {
            AssignOp::Set => self.expr(value, r),
            AssignOp::Add => {
                match u {
                    PvUse::Var(slot, _) => {
                        self.emit(Op::GetVar { dst: r, slot });
                    }
                    PvUse::Host(pv) => {
                        self.emit(Op::GetPv { dst: r, pv });
                    }
                    _ => {}
                }
                let t = self.expr_tmp(value);
                self.at(span);
                self.emit(Op::Bin {
                    op: BinOp::Add,
                    dst: r,
                    a: r,
                    b: t,
                });
            }
        }
        self.at(span);
        match u {
            PvUse::Var(slot, None) => {
                self.emit(Op::SetVar { slot, src: r });
            }
            PvUse::Host(pv) => {
                let class = self.prog.pvs[pv.ix()].class;
                let writable = self.reg.pv_class(class).is_some_and(|(_, d)| d.writable);
                let settable = self.reg.is_pv_settable(class);
                if !settable || self.prog.pvs[pv.ix()].trans.is_some() {
                    let why = if !writable {
                        "it is read-only; keep the value in a $var(...) instead"
                    } else if !settable {
                        "Kamailio can assign it; sipvm does not implement that yet"
                    } else {
                        "a value with a transformation is read-only"
                    };
                    let d = self
                        .err(span, format!("`{target}` cannot be assigned"))
                        .with_len(self.loc.width(span))
                        .with_hint(why);
                    self.diags.push(d);
                    return;
                }
                self.emit(Op::SetPv { pv, src: r });
            }
            _ => {
                let d = self
                    .err(span, format!("`{target}` cannot be assigned"))
                    .with_len(self.loc.width(span));
                self.diags.push(d);
            }
        }
    }

    fn switch(&mut self, subject: &Expr, cases: &[crate::ast::Case]) {
        // Int cases and string/regex cases may not be mixed (Kamailio refuses it too).
        let first_int = cases
            .iter()
            .find(|c| matches!(c.label, Some(CaseLabel::Int(_))));
        let first_str = cases
            .iter()
            .find(|c| matches!(c.label, Some(CaseLabel::Str(_) | CaseLabel::Regex(_))));
        if let (Some(a), Some(b)) = (first_int, first_str) {
            let (later, kind) = if a.span.0 > b.span.0 {
                (a, "an integer")
            } else {
                (b, "a string")
            };
            let d = self
                .err(
                    later.span,
                    format!("switch mixes integer and string cases: this is {kind} case"),
                )
                .with_len(self.loc.width(later.span))
                .with_hint("use only integer cases or only string/regex cases in one switch");
            self.diags.push(d);
            return;
        }
        let string_switch = first_str.is_some();
        let s = self.expr_tmp(subject);
        self.emit(Op::Un {
            op: if string_switch {
                UnOp::ToStr
            } else {
                UnOp::ToInt
            },
            dst: s,
            a: s,
        });
        let t = self.alloc();
        let mut seen: Vec<(&CaseLabel, Span)> = Vec::new();
        let mut tests: Vec<(usize, usize)> = Vec::new(); // (jump, case index)
        let mut default = None;
        for (ci, c) in cases.iter().enumerate() {
            self.at(c.span);
            let Some(label) = &c.label else {
                if default.is_some() {
                    let d = self
                        .err(c.span, "switch has two `default` cases")
                        .with_len(7);
                    self.diags.push(d);
                }
                default = Some(ci);
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(l, _)| *l == label) {
                let value = match label {
                    CaseLabel::Int(i) => i.to_string(),
                    CaseLabel::Str(s) => format!("\"{s}\""),
                    CaseLabel::Regex(s) => format!("/\"{s}\""),
                };
                let line = self.loc.loc(first.0).line;
                let d = self
                    .err(c.span, format!("duplicate case {value}"))
                    .with_len(self.loc.width(c.span))
                    .with_hint(format!(
                        "the case on line {line} already matches it; this one is never reached"
                    ));
                self.diags.push(d);
                continue;
            }
            seen.push((label, c.span));
            match label {
                CaseLabel::Int(i) => {
                    self.load(t, &Value::Int(*i));
                    self.emit(Op::Bin {
                        op: BinOp::Eq,
                        dst: t,
                        a: s,
                        b: t,
                    });
                }
                CaseLabel::Str(v) => {
                    self.load(t, &Value::Str(Arc::from(v.as_str())));
                    self.emit(Op::Bin {
                        op: BinOp::Eq,
                        dst: t,
                        a: s,
                        b: t,
                    });
                }
                CaseLabel::Regex(p) => {
                    let Some(re) = self.regex(p, c.span) else {
                        continue;
                    };
                    self.emit(Op::MatchRe { dst: t, a: s, re });
                }
            }
            tests.push((
                self.emit(Op::JumpIf {
                    cond: t,
                    target: Pc(0),
                }),
                ci,
            ));
        }
        let to_default = self.emit(Op::Jump { target: Pc(0) });
        self.em.breaks.push(Vec::new());
        let mut starts = vec![Pc(0); cases.len()];
        for (ci, c) in cases.iter().enumerate() {
            starts[ci] = self.here();
            self.stmts(&c.body);
        }
        let brk = self.em.breaks.pop().unwrap_or_default();
        for (j, ci) in tests {
            self.patch(j, starts[ci]);
        }
        match default {
            Some(ci) => self.patch(to_default, starts[ci]),
            None => self.patch_here(&[to_default]),
        }
        self.patch_here(&brk);
        let _: Reg = t;
    }
}
