//! The bytecode listing (`sipvm disasm`). Deterministic: golden files depend on it.

use crate::op::*;
use crate::program::{Arg, Program, RouteKind, TransArg};
use crate::value::Value;
use std::fmt::Write;

/// Column at which the `; file:line` comment starts.
const COMMENT_COL: usize = 44;

/// A constant as written in the listing: `"text"` (escaped), `5`, `$null`.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "$null".into(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => format!("{:?}", &**s),
    }
}

/// A route as written in a script: `request_route`, `route[RELAY]`, `failure_route[X]`.
pub fn route_label(prog: &Program, r: RouteIdx) -> String {
    match prog.routes.get(r.ix()) {
        None => format!("route#{}", r.0),
        Some(ri) if ri.name.is_empty() => ri.kind.keyword().to_string(),
        Some(ri) if ri.kind == RouteKind::Event => format!("event_route[{}]", ri.name),
        Some(ri) => format!("{}[{}]", ri.kind.keyword(), ri.name),
    }
}

fn pv_text(prog: &Program, p: PvIdx) -> String {
    prog.pvs
        .get(p.ix())
        .map(|r| r.text.to_string())
        .unwrap_or_else(|| format!("pv#{}", p.0))
}

fn var_text(prog: &Program, s: VarIdx) -> String {
    prog.vars
        .get(s.ix())
        .map(|v| format!("$var({})", v.name))
        .unwrap_or_else(|| format!("var#{}", s.0))
}

fn fmt_text(prog: &Program, f: FmtIdx) -> String {
    prog.fmts
        .get(f.ix())
        .map(|f| format!("{:?}", &*f.text))
        .unwrap_or_else(|| format!("fmt#{}", f.0))
}

fn regex_text(prog: &Program, r: RegexIdx) -> String {
    prog.regexes
        .get(r.ix())
        .map(|r| format!("/{}/", r.as_str()))
        .unwrap_or_else(|| format!("regex#{}", r.0))
}

/// A native argument: constants quoted, formats as their source text, regexes in slashes.
pub fn render_arg(prog: &Program, a: &Arg) -> String {
    match a {
        Arg::Val(v) => render_value(v),
        Arg::Fmt(f) => fmt_text(prog, *f),
        Arg::Regex(r) => regex_text(prog, *r),
        Arg::Route(r) => route_label(prog, *r),
        Arg::Pv(p) => pv_text(prog, *p),
    }
}

/// A transformation chain: `{s.substr,1,$var(n)}{uri.user}`.
pub fn trans_text(prog: &Program, t: TransIdx) -> String {
    let Some(steps) = prog.transforms.get(t.ix()) else {
        return format!("trans#{}", t.0);
    };
    let mut out = String::new();
    for s in steps.iter() {
        let _ = write!(out, "{{{}.{}", s.class, s.op);
        for a in s.args.iter() {
            out.push(',');
            match a {
                TransArg::Val(Value::Str(x)) => out.push_str(x),
                TransArg::Val(v) => out.push_str(&render_value(v)),
                TransArg::Pv(p) => out.push_str(&pv_text(prog, *p)),
            }
        }
        out.push('}');
    }
    out
}

/// The mnemonic of a binary operator.
pub fn binop_name(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "sub",
        BinOp::Mul => "mul",
        BinOp::Div => "div",
        BinOp::Mod => "mod",
        BinOp::BitAnd => "band",
        BinOp::BitOr => "bor",
        BinOp::BitXor => "bxor",
        BinOp::Shl => "shl",
        BinOp::Shr => "shr",
        BinOp::Eq => "eq",
        BinOp::Ne => "ne",
        BinOp::Lt => "lt",
        BinOp::Le => "le",
        BinOp::Gt => "gt",
        BinOp::Ge => "ge",
        BinOp::EqNoCase => "eqi",
        BinOp::MatchDyn => "matchdyn",
    }
}

/// The mnemonic of a unary operator.
pub fn unop_name(op: UnOp) -> &'static str {
    match op {
        UnOp::Not => "not",
        UnOp::Neg => "neg",
        UnOp::BitNot => "bnot",
        UnOp::Strlen => "strlen",
        UnOp::Defined => "defined",
        UnOp::StrEmpty => "strempty",
        UnOp::ToInt => "toint",
        UnOp::ToStr => "tostr",
    }
}

/// One instruction: mnemonic and operands (no address, no comment).
pub fn render_op(prog: &Program, op: &Op) -> String {
    let (m, args): (&str, String) = match *op {
        Op::Nop => ("nop", String::new()),
        Op::Const { dst, k } => {
            let k = prog
                .consts
                .get(k.ix())
                .map(render_value)
                .unwrap_or_else(|| format!("const#{}", k.0));
            ("const", format!("{dst}, {k}"))
        }
        Op::Int { dst, v } => ("int", format!("{dst}, {v}")),
        Op::Null { dst } => ("null", format!("{dst}")),
        Op::Move { dst, src } => ("move", format!("{dst}, {src}")),
        Op::GetVar { dst, slot } => ("getvar", format!("{dst}, {}", var_text(prog, slot))),
        Op::SetVar { slot, src } => ("setvar", format!("{}, {src}", var_text(prog, slot))),
        Op::GetPv { dst, pv } => ("getpv", format!("{dst}, {}", pv_text(prog, pv))),
        Op::SetPv { pv, src } => ("setpv", format!("{}, {src}", pv_text(prog, pv))),
        Op::GetRc { dst } => ("getrc", format!("{dst}")),
        Op::Format { dst, f } => ("format", format!("{dst}, {}", fmt_text(prog, f))),
        Op::Bin { op, dst, a, b } => (binop_name(op), format!("{dst}, {a}, {b}")),
        Op::Un { op, dst, a } => (unop_name(op), format!("{dst}, {a}")),
        Op::MatchRe { dst, a, re } => ("match", format!("{dst}, {a}, {}", regex_text(prog, re))),
        Op::Trans { dst, a, t } => ("trans", format!("{dst}, {a}, {}", trans_text(prog, t))),
        Op::Myself { dst, a } => ("myself", format!("{dst}, {a}")),
        Op::Jump { target } => ("jump", format!("{:04}", target.0)),
        Op::JumpIf { cond, target } => ("jumpif", format!("{cond}, {:04}", target.0)),
        Op::JumpIfNot { cond, target } => ("jumpifnot", format!("{cond}, {:04}", target.0)),
        Op::Call { dst, native, args } => {
            let name = prog
                .natives
                .get(native.ix())
                .map(|n| format!("{}.{}", n.module, n.name))
                .unwrap_or_else(|| format!("native#{}", native.0));
            let rendered = prog
                .arglists
                .get(args.ix())
                .map(|l| {
                    l.iter()
                        .map(|a| render_arg(prog, a))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| format!("args#{}", args.0));
            ("call", format!("{dst}, {name}({rendered})"))
        }
        Op::CallRoute { dst, route } => ("route", format!("{dst}, {}", route_label(prog, route))),
        Op::Return { src } => ("ret", format!("{src}")),
        Op::Exit => ("exit", String::new()),
        Op::Drop => ("drop", String::new()),
    };
    if args.is_empty() {
        m.to_string()
    } else {
        format!("{m:<10}{args}")
    }
}

/// The whole listing: each route in route-table order, its instructions with addresses and
/// `; file:line` comments where the line changes, then the `$var` table.
pub fn disassemble(prog: &Program) -> String {
    let mut entries: Vec<usize> = prog.routes.iter().map(|r| r.entry.ix()).collect();
    entries.sort_unstable();
    entries.dedup();
    let mut out = String::new();
    for (i, r) in prog.routes.iter().enumerate() {
        let start = r.entry.ix().min(prog.code.len());
        let end = entries
            .iter()
            .copied()
            .find(|&e| e > start)
            .unwrap_or(prog.code.len())
            .min(prog.code.len());
        let _ = writeln!(
            out,
            "{}:  ; regs={}",
            route_label(prog, RouteIdx(i as u16)),
            r.nregs
        );
        let mut last = None;
        for pc in start..end {
            let mut line = format!("{pc:04}  {}", render_op(prog, &prog.code[pc]));
            if let Some((file, s)) = prog.span(Pc(pc as u32)) {
                if last != Some((s.file, s.line)) {
                    last = Some((s.file, s.line));
                    let pad = COMMENT_COL.saturating_sub(line.len()).max(1);
                    let _ = write!(line, "{:pad$}; {file}:{}", "", s.line);
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    if !prog.vars.is_empty() {
        out.push_str("vars:\n");
        for (i, v) in prog.vars.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {i:>3}  $var({}) = {}",
                v.name,
                render_value(&v.init)
            );
        }
    }
    out
}
