//! Expressions: constant folding, value codegen, and conditions compiled to jumps.

use super::pvs::PvUse;
use super::Ctx;
use crate::ast::{BinaryOp, Expr, ExprKind, Span, UnaryOp};
use sipvm_vm::{BinOp, Op, Reg, RegexIdx, UnOp, Value};
use std::sync::Arc;

/// Legacy names usable in expressions, and the pseudo-variable each stands for.
pub(super) fn legacy_pv(name: &str) -> Option<&'static str> {
    Some(match name {
        "method" => "$rm",
        "uri" => "$ru",
        "from_uri" => "$fu",
        "to_uri" => "$tu",
        "src_ip" => "$si",
        "dst_ip" => "$Ri",
        "src_port" => "$sp",
        "dst_port" => "$Rp",
        "status" => "$rs",
        "proto" => "$pr",
        "af" => "$af",
        "msg_len" => "$ml",
        _ => return None,
    })
}

fn is_legacy(e: &Expr, name: &str) -> bool {
    matches!(&e.kind, ExprKind::Ident(n) if n == name)
}

fn bin(op: BinaryOp) -> Option<BinOp> {
    Some(match op {
        BinaryOp::Add => BinOp::Add,
        BinaryOp::Sub => BinOp::Sub,
        BinaryOp::Mul => BinOp::Mul,
        BinaryOp::Div => BinOp::Div,
        BinaryOp::Mod => BinOp::Mod,
        BinaryOp::BitAnd => BinOp::BitAnd,
        BinaryOp::BitOr => BinOp::BitOr,
        BinaryOp::BitXor => BinOp::BitXor,
        BinaryOp::Shl => BinOp::Shl,
        BinaryOp::Shr => BinOp::Shr,
        BinaryOp::Eq => BinOp::Eq,
        BinaryOp::Ne => BinOp::Ne,
        BinaryOp::Lt => BinOp::Lt,
        BinaryOp::Le => BinOp::Le,
        BinaryOp::Gt => BinOp::Gt,
        BinaryOp::Ge => BinOp::Ge,
        BinaryOp::Match | BinaryOp::NotMatch | BinaryOp::And | BinaryOp::Or => return None,
    })
}

/// Folds integer and string constants where the result cannot depend on run-time
/// conversions (same-typed operands, or a string on the left of `+`).
pub(super) fn fold(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Int(i) => Some(Value::Int(*i)),
        ExprKind::Str(s) | ExprKind::Ip(s) => Some(Value::Str(Arc::from(s.as_str()))),
        ExprKind::Unary { op, e } => {
            let v = fold(e)?;
            match (op, v) {
                (UnaryOp::Neg, Value::Int(i)) => Some(Value::Int(i.wrapping_neg())),
                (UnaryOp::BitNot, Value::Int(i)) => Some(Value::Int(!i)),
                (UnaryOp::Not, Value::Int(i)) => Some(Value::Int((i == 0) as i64)),
                (UnaryOp::Strlen, Value::Str(s)) => Some(Value::Int(s.len() as i64)),
                (UnaryOp::StrEmpty, Value::Str(s)) => Some(Value::Int(s.is_empty() as i64)),
                (UnaryOp::IntCast, Value::Int(i)) => Some(Value::Int(i)),
                (UnaryOp::StrCast, Value::Int(i)) => Some(Value::Str(Arc::from(i.to_string()))),
                (UnaryOp::StrCast, v @ Value::Str(_)) => Some(v),
                _ => None,
            }
        }
        ExprKind::Binary { op, l, r } => {
            let (a, b) = (fold(l)?, fold(r)?);
            match (a, b) {
                (Value::Int(a), Value::Int(b)) => fold_int(*op, a, b).map(Value::Int),
                (Value::Str(a), Value::Str(b)) => fold_str(*op, &a, &b),
                (Value::Str(a), Value::Int(b)) if *op == BinaryOp::Add => {
                    Some(Value::Str(Arc::from(format!("{a}{b}"))))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn fold_int(op: BinaryOp, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        BinaryOp::Add => a.wrapping_add(b),
        BinaryOp::Sub => a.wrapping_sub(b),
        BinaryOp::Mul => a.wrapping_mul(b),
        BinaryOp::Div if b != 0 => a.wrapping_div(b),
        BinaryOp::Mod if b != 0 => a.wrapping_rem(b),
        BinaryOp::BitAnd => a & b,
        BinaryOp::BitOr => a | b,
        BinaryOp::BitXor => a ^ b,
        BinaryOp::Shl => a.wrapping_shl(b as u32),
        BinaryOp::Shr => a.wrapping_shr(b as u32),
        BinaryOp::Eq => (a == b) as i64,
        BinaryOp::Ne => (a != b) as i64,
        BinaryOp::Lt => (a < b) as i64,
        BinaryOp::Le => (a <= b) as i64,
        BinaryOp::Gt => (a > b) as i64,
        BinaryOp::Ge => (a >= b) as i64,
        BinaryOp::And => (a != 0 && b != 0) as i64,
        BinaryOp::Or => (a != 0 || b != 0) as i64,
        _ => return None,
    })
}

fn fold_str(op: BinaryOp, a: &str, b: &str) -> Option<Value> {
    let i = |x: bool| Some(Value::Int(x as i64));
    match op {
        BinaryOp::Add => Some(Value::Str(Arc::from(format!("{a}{b}")))),
        BinaryOp::Eq => i(a == b),
        BinaryOp::Ne => i(a != b),
        BinaryOp::Lt => i(a < b),
        BinaryOp::Le => i(a <= b),
        BinaryOp::Gt => i(a > b),
        BinaryOp::Ge => i(a >= b),
        _ => None,
    }
}

impl Ctx<'_> {
    /// Compiles `e` into a fresh register.
    pub(super) fn expr_tmp(&mut self, e: &Expr) -> Reg {
        let r = self.alloc();
        self.expr(e, r);
        r
    }

    /// Compiles `e` into `dst`.
    pub(super) fn expr(&mut self, e: &Expr, dst: Reg) {
        if let Some(v) = fold(e) {
            return self.load(dst, &v);
        }
        let mark = self.mark();
        match &e.kind {
            ExprKind::Int(_) | ExprKind::Str(_) | ExprKind::Ip(_) => unreachable!("folded"),
            ExprKind::Pv(p) => self.pv_get(p, e.span, dst),
            ExprKind::Select(s) => self.pv_get(&format!("$sel({})", &s[1..]), e.span, dst),
            ExprKind::Ident(name) => match legacy_pv(name) {
                Some(pv) => self.pv_get(pv, e.span, dst),
                None => self.unknown_ident(name, e.span),
            },
            ExprKind::Myself => {
                let d = self
                    .err(e.span, "`myself` can only be compared with == or !=")
                    .with_len(6);
                self.diags.push(d);
            }
            ExprKind::Call { name, name_span, args } => {
                self.at(e.span);
                self.call(name, *name_span, args, e.span, dst);
            }
            ExprKind::RouteCall { name, name_span } => {
                if let Some(route) = self.route_target(name, *name_span) {
                    self.at(e.span);
                    self.emit(Op::CallRoute { dst, route });
                }
            }
            ExprKind::Unary { op, e: inner } => self.unary(*op, inner, e.span, dst),
            ExprKind::Binary { op, l, r } => self.binary(*op, l, r, e.span, dst),
        }
        self.release(mark);
    }

    fn unknown_ident(&mut self, name: &str, span: Span) {
        let d = self
            .err(span, format!("unknown name `{name}`"))
            .with_len(self.loc.width(span))
            .with_hint("quote strings; a #!define that is not defined? a missing '$' before a pseudo-variable?");
        self.diags.push(d);
    }

    fn pv_get(&mut self, text: &str, span: Span, dst: Reg) {
        let Some(u) = self.pv_use(text, span) else { return };
        self.at(span);
        let t = match u {
            PvUse::Var(slot, t) => {
                self.emit(Op::GetVar { dst, slot });
                t
            }
            PvUse::Rc(t) => {
                self.emit(Op::GetRc { dst });
                t
            }
            PvUse::Null => {
                self.emit(Op::Null { dst });
                None
            }
            PvUse::Host(pv) => {
                self.emit(Op::GetPv { dst, pv });
                None
            }
        };
        if let Some(t) = t {
            self.emit(Op::Trans { dst, a: dst, t });
        }
    }

    fn unary(&mut self, op: UnaryOp, e: &Expr, span: Span, dst: Reg) {
        let uop = match op {
            UnaryOp::Not => UnOp::Not,
            UnaryOp::Neg => UnOp::Neg,
            UnaryOp::BitNot => UnOp::BitNot,
            UnaryOp::Strlen => UnOp::Strlen,
            UnaryOp::StrEmpty => UnOp::StrEmpty,
            UnaryOp::Defined => UnOp::Defined,
            UnaryOp::IntCast => UnOp::ToInt,
            UnaryOp::StrCast => UnOp::ToStr,
        };
        if op == UnaryOp::Defined && !matches!(e.kind, ExprKind::Pv(_) | ExprKind::Select(_)) {
            let d = self
                .err(e.span, "`defined` applies to a pseudo-variable")
                .with_len(self.loc.width(e.span));
            self.diags.push(d);
            return;
        }
        self.expr(e, dst);
        self.at(span);
        self.emit(Op::Un { op: uop, dst, a: dst });
    }

    fn binary(&mut self, op: BinaryOp, l: &Expr, r: &Expr, span: Span, dst: Reg) {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Value context: materialise 1/0.
                self.load(dst, &Value::Int(0));
                let mut f = Vec::new();
                let whole = Expr::new(
                    ExprKind::Binary { op, l: Box::new(l.clone()), r: Box::new(r.clone()) },
                    span,
                );
                self.cond_false(&whole, &mut f);
                self.load(dst, &Value::Int(1));
                self.patch_here(&f);
                return;
            }
            BinaryOp::Eq | BinaryOp::Ne if matches!(r.kind, ExprKind::Myself) || matches!(l.kind, ExprKind::Myself) => {
                let other = if matches!(r.kind, ExprKind::Myself) { l } else { r };
                self.expr(other, dst);
                self.at(span);
                self.emit(Op::Myself { dst, a: dst });
                if op == BinaryOp::Ne {
                    self.emit(Op::Un { op: UnOp::Not, dst, a: dst });
                }
                return;
            }
            BinaryOp::Match | BinaryOp::NotMatch => {
                self.expr(l, dst);
                match fold(r) {
                    Some(Value::Str(pat)) => {
                        if let Some(re) = self.regex(&pat, r.span) {
                            self.at(span);
                            self.emit(Op::MatchRe { dst, a: dst, re });
                        }
                    }
                    _ => {
                        let t = self.expr_tmp(r);
                        self.at(span);
                        self.emit(Op::Bin { op: BinOp::MatchDyn, dst, a: dst, b: t });
                    }
                }
                if op == BinaryOp::NotMatch {
                    self.emit(Op::Un { op: UnOp::Not, dst, a: dst });
                }
                return;
            }
            _ => {}
        }
        let Some(mut bop) = bin(op) else { return };
        if is_legacy(l, "method") && matches!(op, BinaryOp::Eq | BinaryOp::Ne) {
            bop = BinOp::EqNoCase;
        }
        self.expr(l, dst);
        // `proto == udp`, `af == inet`: legacy right-hand words are strings.
        let t = match &r.kind {
            ExprKind::Ident(w) if is_legacy(l, "proto") || is_legacy(l, "af") => {
                let t = self.alloc();
                self.load(t, &Value::Str(Arc::from(w.to_ascii_lowercase().as_str())));
                t
            }
            _ => self.expr_tmp(r),
        };
        self.at(span);
        self.emit(Op::Bin { op: bop, dst, a: dst, b: t });
        if bop == BinOp::EqNoCase && op == BinaryOp::Ne {
            self.emit(Op::Un { op: UnOp::Not, dst, a: dst });
        }
    }

    /// Compiles a regex (extended, case-insensitive) at compile time.
    pub(super) fn regex(&mut self, pat: &str, span: Span) -> Option<RegexIdx> {
        match regex::RegexBuilder::new(pat).case_insensitive(true).build() {
            Ok(re) => {
                self.prog.regexes.push(re);
                Some(RegexIdx(self.prog.regexes.len() as u32 - 1))
            }
            Err(e) => {
                let msg = e.to_string();
                let last = msg.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
                let d = self
                    .err(span, format!("invalid regular expression: {}", last.trim().trim_start_matches("error: ")))
                    .with_len(self.loc.width(span));
                self.diags.push(d);
                None
            }
        }
    }

    /// Emits jumps taken when `e` is false; their addresses go to `out`.
    pub(super) fn cond_false(&mut self, e: &Expr, out: &mut Vec<usize>) {
        match &e.kind {
            ExprKind::Unary { op: UnaryOp::Not, e: inner } => self.cond_true(inner, out),
            ExprKind::Binary { op: BinaryOp::And, l, r } => {
                self.cond_false(l, out);
                self.cond_false(r, out);
            }
            ExprKind::Binary { op: BinaryOp::Or, l, r } => {
                let mut t = Vec::new();
                self.cond_true(l, &mut t);
                self.cond_false(r, out);
                self.patch_here(&t);
            }
            _ => {
                if let Some(Value::Int(i)) = fold(e) {
                    if i == 0 {
                        self.at(e.span);
                        out.push(self.emit(Op::Jump { target: sipvm_vm::Pc(0) }));
                    }
                    return;
                }
                let mark = self.mark();
                let r = self.expr_tmp(e);
                self.at(e.span);
                out.push(self.emit(Op::JumpIfNot { cond: r, target: sipvm_vm::Pc(0) }));
                self.release(mark);
            }
        }
    }

    /// Emits jumps taken when `e` is true.
    pub(super) fn cond_true(&mut self, e: &Expr, out: &mut Vec<usize>) {
        match &e.kind {
            ExprKind::Unary { op: UnaryOp::Not, e: inner } => self.cond_false(inner, out),
            ExprKind::Binary { op: BinaryOp::Or, l, r } => {
                self.cond_true(l, out);
                self.cond_true(r, out);
            }
            ExprKind::Binary { op: BinaryOp::And, l, r } => {
                let mut f = Vec::new();
                self.cond_false(l, &mut f);
                self.cond_true(r, out);
                self.patch_here(&f);
            }
            _ => {
                if let Some(Value::Int(i)) = fold(e) {
                    if i != 0 {
                        self.at(e.span);
                        out.push(self.emit(Op::Jump { target: sipvm_vm::Pc(0) }));
                    }
                    return;
                }
                let mark = self.mark();
                let r = self.expr_tmp(e);
                self.at(e.span);
                out.push(self.emit(Op::JumpIf { cond: r, target: sipvm_vm::Pc(0) }));
                self.release(mark);
            }
        }
    }
}
