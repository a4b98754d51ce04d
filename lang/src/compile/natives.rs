//! Native calls: resolution against the loaded modules, argument count and kinds, route-type
//! checks, and compile-time fixups (regexes, format strings, route names).

use super::expr::fold;
use super::routes::describe;
use super::Ctx;
use crate::ast::{Expr, ExprKind, Span};
use crate::diag::{did_you_mean, Diagnostic};
use crate::registry::{ArgKind, FnDecl, RouteMask, CORE_MODULE};
use sipvm_vm::{Arg, ArgsIdx, NativeIdx, NativeRef, Op, Reg, Value};
use std::sync::Arc;

const LEVELS: &[&str] = &[
    "L_ALERT", "L_BUG", "L_CRIT2", "L_CRIT", "L_ERR", "L_WARN", "L_NOTICE", "L_INFO", "L_DBG",
];

fn mask_name(bit: u32) -> &'static str {
    match bit {
        1 => "request_route",
        2 => "failure_route",
        4 => "onreply_route",
        8 => "branch_route",
        16 => "onsend_route",
        32 => "error_route",
        64 => "local_route",
        128 => "reply_route",
        256 => "branch_failure_route",
        _ => "this route",
    }
}

impl Ctx<'_> {
    fn find_native(&mut self, name: &str, span: Span) -> Option<(u16, u16, &'static FnDecl)> {
        let mut other_module = None;
        for (id, mi, f) in self.reg.natives() {
            if f.name == name {
                if mi == CORE_MODULE || self.loaded.contains(&mi) {
                    return Some((id, mi, f));
                }
                other_module.get_or_insert(mi);
            }
        }
        let mut d = self
            .err(span, format!("unknown function `{name}`"))
            .with_len(self.loc.width(span));
        d = match other_module {
            Some(mi) => d.with_hint(format!(
                "missing loadmodule? `{name}` is in module {0}: loadmodule \"{0}.so\"",
                self.reg.module(mi).name
            )),
            None => {
                let avail: Vec<&str> = self
                    .reg
                    .natives()
                    .filter(|(_, mi, _)| *mi == CORE_MODULE || self.loaded.contains(mi))
                    .map(|(_, _, f)| f.name)
                    .collect();
                match did_you_mean(name, avail) {
                    Some(m) => d.with_hint(format!("did you mean `{m}`? or a missing loadmodule?")),
                    None => d.with_hint("missing loadmodule? no module sipvm has declares it"),
                }
            }
        };
        self.diags.push(d);
        None
    }

    pub(super) fn call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[Expr],
        span: Span,
        dst: Reg,
    ) {
        let Some((id, mi, decl)) = self.find_native(name, name_span) else {
            // Check the arguments anyway, for their own errors.
            for a in args {
                let r = self.alloc();
                self.expr(a, r);
            }
            return;
        };
        let n = args.len();
        let max = decl.args.len();
        let min = decl.min_args as usize;
        if n < min || n > max {
            let want = match (min, max) {
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            };
            let d = self
                .err(name_span, format!("`{name}()` takes {want}, {n} given"))
                .with_len(self.loc.width(name_span));
            self.diags.push(d);
            return;
        }
        if self.reg.refuses_native(id) {
            let module = self.reg.module(mi).name;
            let d = self
                .err(name_span, format!("`{name}()` is not implemented"))
                .with_len(self.loc.width(name_span))
                .missing("function", module, name);
            self.diags.push(d);
            return;
        }
        self.check_route_type(name, decl, name_span);
        // xlog-style: omitted optional arguments are the leading ones (`xlog("text")`).
        let kinds: &[ArgKind] = if n < max && decl.args.contains(&ArgKind::LogLevel) {
            &decl.args[max - n..]
        } else {
            &decl.args[..n]
        };
        let mut fixed = Vec::with_capacity(n);
        let mut ok = true;
        for (i, (a, k)) in args.iter().zip(kinds).enumerate() {
            match self.fix_arg(name, i + 1, *k, a) {
                Some(v) => fixed.push(v),
                None => ok = false,
            }
        }
        if !ok {
            return;
        }
        let native = self.native_idx(id, mi, decl);
        self.prog.arglists.push(fixed.into());
        let args = ArgsIdx(self.prog.arglists.len() as u32 - 1);
        self.at(span);
        self.emit(Op::Call { dst, native, args });
    }

    fn native_idx(&mut self, id: u16, mi: u16, decl: &FnDecl) -> NativeIdx {
        if let Some(i) = self.prog.natives.iter().position(|n| n.id == id) {
            return NativeIdx(i as u16);
        }
        self.prog.natives.push(NativeRef {
            id,
            module: Arc::from(self.reg.module(mi).name),
            name: Arc::from(decl.name),
            implemented: self.reg.is_implemented(id),
        });
        NativeIdx(self.prog.natives.len() as u16 - 1)
    }

    fn check_route_type(&mut self, name: &str, decl: &FnDecl, span: Span) {
        let Some(cur) = self.cur_route else { return };
        let (mask, origin) = self.routes.reach[cur.ix()];
        let bad = mask.0 & !decl.routes.0;
        if bad == 0 {
            return;
        }
        let bit = 1u32 << bad.trailing_zeros();
        let here = &self.prog.routes[cur.ix()];
        let allowed: Vec<&str> = (0..9)
            .map(|b| 1u32 << b)
            .filter(|b| decl.routes.0 & b != 0)
            .map(mask_name)
            .collect();
        let allowed = format!("`{name}()` is allowed in: {}", allowed.join(", "));
        if here.kind != sipvm_vm::RouteKind::Sub {
            let d = self
                .err(
                    span,
                    format!("`{name}()` cannot be used in {}", mask_name(bit)),
                )
                .with_len(self.loc.width(span))
                .with_hint(allowed);
            return self.diags.push(d);
        }
        let sub = describe(here.kind, &here.name);
        let via = origin
            .filter(|o| RouteMask::of(self.prog.routes[o.ix()].kind).0 & bit != 0)
            .or_else(|| self.top_route_reaching(cur, bit))
            .map(|o| {
                describe(
                    self.prog.routes[o.ix()].kind,
                    &self.prog.routes[o.ix()].name,
                )
            })
            .unwrap_or_else(|| mask_name(bit).to_string());
        if mask.0 & decl.routes.0 == 0 {
            // Every route type that reaches the sub-route forbids the call: it can never work.
            let d = self
                .err(
                    span,
                    format!("`{name}()` cannot be used in {sub}, which runs from {via}"),
                )
                .with_len(self.loc.width(span))
                .with_hint(allowed);
            return self.diags.push(d);
        }
        // Reached from allowed and forbidden route types alike: the call is usually guarded
        // at run time (`if (is_request())`), as Kamailio's own configs do. Kamailio does not
        // check sub-routes at all; warn only.
        let d = Diagnostic::warning(
            Some(self.loc.loc(span.0)),
            format!("`{name}()` in {sub} may run from {via}, where it cannot be used"),
        )
        .with_len(self.loc.width(span))
        .with_hint(format!(
            "{allowed}; make sure a run-time check keeps it from {via}"
        ));
        self.diags.push(d);
    }

    /// A top-level route whose type has `bit` and that calls `target`, directly or not.
    fn top_route_reaching(
        &self,
        target: sipvm_vm::RouteIdx,
        bit: u32,
    ) -> Option<sipvm_vm::RouteIdx> {
        let n = self.prog.routes.len();
        (0..n).map(|i| sipvm_vm::RouteIdx(i as u16)).find(|&start| {
            let r = &self.prog.routes[start.ix()];
            if r.kind == sipvm_vm::RouteKind::Sub || RouteMask::of(r.kind).0 & bit == 0 {
                return false;
            }
            let mut seen = vec![false; n];
            let mut stack = vec![start];
            while let Some(x) = stack.pop() {
                if x == target {
                    return true;
                }
                if std::mem::replace(&mut seen[x.ix()], true) {
                    continue;
                }
                let next = self.routes.calls.iter().filter(|(f, _)| *f == x);
                stack.extend(next.map(|(_, t)| *t));
            }
            false
        })
    }

    fn arg_err(&mut self, f: &str, i: usize, a: &Expr, what: &str) -> Option<Arg> {
        let d = self
            .err(a.span, format!("argument {i} of `{f}()` must be {what}"))
            .with_len(self.loc.width(a.span));
        self.diags.push(d);
        None
    }

    /// A string argument that may hold pseudo-variables: a literal or a format.
    fn fmt_arg(&mut self, a: &Expr, s: &str) -> Option<Arg> {
        if Self::has_pv(s) {
            self.fmt(s, a.span).map(Arg::Fmt)
        } else {
            Some(Arg::Val(Value::Str(Arc::from(s))))
        }
    }

    fn fix_arg(&mut self, f: &str, i: usize, kind: ArgKind, a: &Expr) -> Option<Arg> {
        let c = fold(a);
        let pv_text = match &a.kind {
            ExprKind::Pv(p) => Some(p.clone()),
            _ => None,
        };
        let s = match &c {
            Some(Value::Str(s)) => Some(s.to_string()),
            Some(Value::Int(n)) => Some(n.to_string()),
            _ => None,
        };
        match kind {
            ArgKind::Str => match s {
                Some(s) => Some(Arg::Val(Value::Str(Arc::from(s.as_str())))),
                None => self.arg_err(f, i, a, "a string literal"),
            },
            ArgKind::Int | ArgKind::Flag => match (&c, s.as_deref().map(int_literal)) {
                (_, Some(Some(n))) => {
                    if kind == ArgKind::Flag && !(0..=63).contains(&n) {
                        return self.arg_err(f, i, a, "a flag number from 0 to 63");
                    }
                    Some(Arg::Val(Value::Int(n)))
                }
                _ if kind == ArgKind::Flag && pv_text.is_none() => {
                    self.arg_err(f, i, a, "a flag number")
                }
                _ => match pv_text {
                    Some(p) => self.fmt(&p, a.span).map(Arg::Fmt),
                    None => self.arg_err(f, i, a, "an integer"),
                },
            },
            ArgKind::Fmt
            | ArgKind::IntFmt
            | ArgKind::Methods
            | ArgKind::HostPort
            | ArgKind::Uri
            | ArgKind::Code
            | ArgKind::LogLevel => {
                let Some(s) = s.or(pv_text) else {
                    return self.arg_err(f, i, a, "a string or a pseudo-variable");
                };
                if !Self::has_pv(&s) {
                    if let Err(why) = check_literal(kind, &s) {
                        let d = self
                            .err(a.span, format!("argument {i} of `{f}()`: {why}"))
                            .with_len(self.loc.width(a.span));
                        self.diags.push(d);
                        return None;
                    }
                    if matches!(kind, ArgKind::IntFmt | ArgKind::Code) {
                        if let Some(n) = int_literal(&s) {
                            return Some(Arg::Val(Value::Int(n)));
                        }
                    }
                }
                self.fmt_arg(a, &s)
            }
            ArgKind::Regex => match s {
                Some(s) => self.regex(&s, a.span).map(Arg::Regex),
                None => self.arg_err(f, i, a, "a regular expression literal"),
            },
            ArgKind::Route(kind) => {
                let name = match (&a.kind, s) {
                    (ExprKind::Ident(n), _) => n.clone(),
                    (_, Some(s)) => s,
                    _ => return self.arg_err(f, i, a, "a route name"),
                };
                self.named_route(kind, &name, a.span).map(Arg::Route)
            }
            ArgKind::Pv => match pv_text {
                Some(p) => self.pv_ref(&p, a.span).map(Arg::Pv),
                None => match s {
                    Some(s) if s.starts_with('$') => self.pv_ref(&s, a.span).map(Arg::Pv),
                    _ => self.arg_err(f, i, a, "a pseudo-variable"),
                },
            },
        }
    }
}

/// An integer written in a string argument: decimal, or `0x` hex as Kamailio's
/// `str2int`-based fixups take it (`save("location", "0x04")`).
fn int_literal(s: &str) -> Option<i64> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Compile-time checks of literal arguments.
fn check_literal(kind: ArgKind, s: &str) -> Result<(), String> {
    match kind {
        ArgKind::IntFmt => int_literal(s)
            .map(|_| ())
            .ok_or(())
            .map_err(|_| format!("expected an integer, found \"{s}\"")),
        ArgKind::Code => match s.trim().parse::<i64>() {
            Ok(n) if (100..=699).contains(&n) => Ok(()),
            _ => Err(format!("\"{s}\" is not a SIP reply code (100-699)")),
        },
        ArgKind::LogLevel => {
            let lvl = s.rsplit('.').next().unwrap_or(s);
            if LEVELS.contains(&lvl) || lvl.parse::<i64>().is_ok() {
                Ok(())
            } else {
                Err(format!("unknown log level \"{s}\" (L_ALERT, L_BUG, L_CRIT, L_ERR, L_WARN, L_NOTICE, L_INFO, L_DBG)"))
            }
        }
        ArgKind::Methods => {
            for m in s.split('|') {
                if m.is_empty()
                    || !m
                        .bytes()
                        .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
                {
                    return Err(format!(
                        "\"{s}\" is not a list of methods like \"INVITE|BYE\""
                    ));
                }
            }
            Ok(())
        }
        ArgKind::HostPort => {
            let (h, p) = match s.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') && !p.contains(']') => (h, Some(p)),
                _ => (s, None),
            };
            if h.is_empty() {
                return Err(format!("\"{s}\" has no host"));
            }
            if let Some(p) = p {
                match p.parse::<u32>() {
                    Ok(n) if (1..=65535).contains(&n) => {}
                    _ => return Err(format!("\"{p}\" is not a port number")),
                }
            }
            Ok(())
        }
        ArgKind::Uri => {
            let l = s.to_ascii_lowercase();
            if l.starts_with("sip:") || l.starts_with("sips:") || l.starts_with("tel:") {
                Ok(())
            } else {
                Err(format!("\"{s}\" is not a SIP URI (sip:, sips: or tel:)"))
            }
        }
        _ => Ok(()),
    }
}
