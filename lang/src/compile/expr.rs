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

fn is_call(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Call { .. } | ExprKind::RouteCall { .. })
}

fn is_logic(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Binary {
            op: BinaryOp::And | BinaryOp::Or,
            ..
        }
    )
}

/// Expressions whose value is already 0 or 1.
fn is_boolean(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Binary { op, .. } => !matches!(
            op,
            BinaryOp::Add
                | BinaryOp::Sub
                | BinaryOp::Mul
                | BinaryOp::Div
                | BinaryOp::Mod
                | BinaryOp::BitAnd
                | BinaryOp::BitOr
                | BinaryOp::BitXor
                | BinaryOp::Shl
                | BinaryOp::Shr
        ),
        ExprKind::Unary { op, .. } => {
            matches!(op, UnaryOp::Not | UnaryOp::StrEmpty | UnaryOp::Defined)
        }
        _ => false,
    }
}

/// Kamailio reads `!uri == myself` and `!method == "X"` as `!(uri == myself)`: its grammar
/// negates the whole legacy comparison. Rewrites such a tree, or gives `None`.
fn legacy_not(e: &Expr) -> Option<Expr> {
    let ExprKind::Binary { op, l, r } = &e.kind else {
        return None;
    };
    if !matches!(
        op,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Match | BinaryOp::NotMatch
    ) {
        return None;
    }
    let ExprKind::Unary {
        op: UnaryOp::Not,
        e: inner,
    } = &l.kind
    else {
        return None;
    };
    let legacy = matches!(&inner.kind, ExprKind::Ident(n) if legacy_pv(n).is_some());
    if !legacy && !matches!(r.kind, ExprKind::Myself) {
        return None;
    }
    let cmp = Expr::new(
        ExprKind::Binary {
            op: *op,
            l: inner.clone(),
            r: r.clone(),
        },
        (inner.span.0, e.span.1),
    );
    Some(Expr::new(
        ExprKind::Unary {
            op: UnaryOp::Not,
            e: Box::new(cmp),
        },
        e.span,
    ))
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

/// Folds constant operands through the VM's own operators, so a folded result is exactly
/// what the VM would compute (32-bit wrapping, Kamailio's typing). Errors (division by zero)
/// are left for run time, where they carry a position.
pub(super) fn fold(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Int(i) => Some(Value::Int(*i)),
        ExprKind::Str(s) | ExprKind::Ip(s) => Some(Value::Str(Arc::from(s.as_str()))),
        ExprKind::Unary { op, e } => {
            let v = fold(e)?;
            let op = match op {
                UnaryOp::Not => UnOp::Not,
                UnaryOp::Neg => UnOp::Neg,
                UnaryOp::BitNot => UnOp::BitNot,
                UnaryOp::Strlen => UnOp::Strlen,
                UnaryOp::StrEmpty => UnOp::StrEmpty,
                UnaryOp::IntCast => UnOp::ToInt,
                UnaryOp::StrCast => UnOp::ToStr,
                UnaryOp::Defined => return None,
            };
            Some(Value::unop(op, &v))
        }
        ExprKind::Binary { op, l, r } => {
            let (a, b) = (fold(l)?, fold(r)?);
            match op {
                BinaryOp::And | BinaryOp::Or => {
                    let (x, y) = (a.try_int()?, b.try_int()?);
                    let v = if *op == BinaryOp::And {
                        x != 0 && y != 0
                    } else {
                        x != 0 || y != 0
                    };
                    Some(Value::Int(v as i64))
                }
                _ => Value::binop(bin(*op)?, &a, &b).ok(),
            }
        }
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
        if let Some(n) = legacy_not(e) {
            return self.expr(&n, dst);
        }
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
            ExprKind::Call {
                name,
                name_span,
                args,
            } => {
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
        let Some(u) = self.pv_use(text, span) else {
            return;
        };
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
        self.emit(Op::Un {
            op: uop,
            dst,
            a: dst,
        });
    }

    fn binary(&mut self, op: BinaryOp, l: &Expr, r: &Expr, span: Span, dst: Reg) {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Value context: materialise 1/0.
                self.load(dst, &Value::Int(0));
                let mut f = Vec::new();
                let whole = Expr::new(
                    ExprKind::Binary {
                        op,
                        l: Box::new(l.clone()),
                        r: Box::new(r.clone()),
                    },
                    span,
                );
                self.cond_false(&whole, &mut f);
                self.load(dst, &Value::Int(1));
                self.patch_here(&f);
                return;
            }
            BinaryOp::Eq | BinaryOp::Ne
                if matches!(r.kind, ExprKind::Myself) || matches!(l.kind, ExprKind::Myself) =>
            {
                let other = if matches!(r.kind, ExprKind::Myself) {
                    l
                } else {
                    r
                };
                self.expr(other, dst);
                self.at(span);
                self.emit(Op::Myself { dst, a: dst });
                if op == BinaryOp::Ne {
                    self.emit(Op::Un {
                        op: UnOp::Not,
                        dst,
                        a: dst,
                    });
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
                        self.emit(Op::Bin {
                            op: BinOp::MatchDyn,
                            dst,
                            a: dst,
                            b: t,
                        });
                    }
                }
                if op == BinaryOp::NotMatch {
                    self.emit(Op::Un {
                        op: UnOp::Not,
                        dst,
                        a: dst,
                    });
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
        self.emit(Op::Bin {
            op: bop,
            dst,
            a: dst,
            b: t,
        });
        if bop == BinOp::EqNoCase && op == BinaryOp::Ne {
            self.emit(Op::Un {
                op: UnOp::Not,
                dst,
                a: dst,
            });
        }
    }

    /// Compiles a regex (extended, case-insensitive) at compile time.
    /// Compiles each distinct pattern once: building a regex (with its DFA) is the most
    /// expensive step of compiling, and configs repeat patterns.
    pub(super) fn regex(&mut self, pat: &str, span: Span) -> Option<RegexIdx> {
        if let Some(i) = self.re_dedup.get(pat) {
            return Some(*i);
        }
        match regex::RegexBuilder::new(pat).case_insensitive(true).build() {
            Ok(re) => {
                self.prog.regexes.push(re);
                let i = RegexIdx(self.prog.regexes.len() as u32 - 1);
                self.re_dedup.insert(pat.to_string(), i);
                Some(i)
            }
            Err(e) => {
                let msg = e.to_string();
                let last = msg
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                let d = self
                    .err(
                        span,
                        format!(
                            "invalid regular expression: {}",
                            last.trim().trim_start_matches("error: ")
                        ),
                    )
                    .with_len(self.loc.width(span));
                self.diags.push(d);
                None
            }
        }
    }

    /// Emits jumps taken when `e` is false; their addresses go to `out`.
    pub(super) fn cond_false(&mut self, e: &Expr, out: &mut Vec<usize>) {
        self.cond(e, false, false, out)
    }

    /// Emits jumps taken when the truth of `e` equals `when`. Kamailio's truth depends on
    /// context (docs/semantics.md N2, N23): a lone value is true when > 0, a call when it
    /// returns > 0 (also under `!`), but a plain value inside `||`/`&&` is true when non-zero,
    /// and `!` over a plain value is C's `!`.
    fn cond(&mut self, e: &Expr, when: bool, in_logic: bool, out: &mut Vec<usize>) {
        if let Some(n) = legacy_not(e) {
            return self.cond(&n, when, in_logic, out);
        }
        match &e.kind {
            ExprKind::Unary {
                op: UnaryOp::Not,
                e: inner,
            } if is_call(inner) || is_logic(inner) => self.cond(inner, !when, in_logic, out),
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                l,
                r,
            } => {
                // `a && b` jumps on false when either is false; on true only when both are.
                let short = (*op == BinaryOp::And) != when;
                if short {
                    self.cond(l, when, true, out);
                    self.cond(r, when, true, out);
                } else {
                    let mut skip = Vec::new();
                    self.cond(l, !when, true, &mut skip);
                    self.cond(r, when, true, out);
                    self.patch_here(&skip);
                }
            }
            _ => {
                if let Some(Value::Int(i)) = fold(e) {
                    let truth = if in_logic { i != 0 } else { i > 0 };
                    if truth == when {
                        self.at(e.span);
                        out.push(self.emit(Op::Jump {
                            target: sipvm_vm::Pc(0),
                        }));
                    }
                    return;
                }
                let mark = self.mark();
                let r = self.expr_tmp(e);
                self.at(e.span);
                let target = sipvm_vm::Pc(0);
                if in_logic && !is_call(e) && !is_boolean(e) {
                    // Non-zero truth: test `!x`, which is 1 exactly when x == 0.
                    self.emit(Op::Un {
                        op: UnOp::Not,
                        dst: r,
                        a: r,
                    });
                    out.push(if when {
                        self.emit(Op::JumpIfNot { cond: r, target })
                    } else {
                        self.emit(Op::JumpIf { cond: r, target })
                    });
                } else {
                    out.push(if when {
                        self.emit(Op::JumpIf { cond: r, target })
                    } else {
                        self.emit(Op::JumpIfNot { cond: r, target })
                    });
                }
                self.release(mark);
            }
        }
    }
}
