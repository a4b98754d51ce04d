//! The route table: declarations, duplicates, the call graph, and which route types reach
//! each `route[NAME]` (so a native is checked against every type it may run in).

use super::Ctx;
use crate::ast::{BlockKind, Expr, ExprKind, RouteBlock, Span, Stmt, StmtKind};
use crate::registry::RouteMask;
use sipvm_vm::{Pc, RouteIdx, RouteInfo, RouteKind};
use std::sync::Arc;

#[derive(Default)]
pub(super) struct RouteTable {
    /// For each route: where it is declared.
    pub decl: Vec<Span>,
    /// For each route: the route types it runs in, and one top-level route that reaches it.
    pub reach: Vec<(RouteMask, Option<RouteIdx>)>,
    /// Calls `route(X)`: (caller, callee).
    pub calls: Vec<(RouteIdx, RouteIdx)>,
    /// Index of a route block in the AST order → its route index (None for duplicates).
    pub block_route: Vec<Option<RouteIdx>>,
}

pub(super) fn kind_of(b: &RouteBlock) -> (RouteKind, String) {
    let name = b.name.as_ref().map(|n| n.0.clone()).unwrap_or_default();
    match b.kind {
        BlockKind::Request => (RouteKind::Request, String::new()),
        BlockKind::Route if name.is_empty() || name == "0" || name == "DEFAULT_ROUTE" => {
            (RouteKind::Request, String::new())
        }
        BlockKind::Route => (RouteKind::Sub, name),
        BlockKind::Reply => (RouteKind::Reply, String::new()),
        BlockKind::OnReply if name.is_empty() || name == "0" => (RouteKind::Reply, String::new()),
        BlockKind::OnReply => (RouteKind::OnReply, name),
        BlockKind::Failure => (RouteKind::Failure, name),
        BlockKind::Branch => (RouteKind::Branch, name),
        BlockKind::OnSend => (RouteKind::OnSend, String::new()),
        BlockKind::Event => (RouteKind::Event, name),
    }
}

/// How a route is written, for messages: `route[RELAY]`, `request_route`.
pub(super) fn describe(kind: RouteKind, name: &str) -> String {
    if name.is_empty() {
        kind.keyword().to_string()
    } else {
        format!("{}[{}]", kind.keyword(), name)
    }
}

fn collect_calls(stmts: &[Stmt], out: &mut Vec<(String, Span)>) {
    for s in stmts {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) | StmtKind::Exit(Some(e)) => {
                expr_calls(e, out)
            }
            StmtKind::Assign { value, .. } => expr_calls(value, out),
            StmtKind::If { cond, then, els } => {
                expr_calls(cond, out);
                collect_calls(then, out);
                if let Some(e) = els {
                    collect_calls(e, out);
                }
            }
            StmtKind::Switch { subject, cases } => {
                expr_calls(subject, out);
                for c in cases {
                    collect_calls(&c.body, out);
                }
            }
            StmtKind::While { cond, body } => {
                expr_calls(cond, out);
                collect_calls(body, out);
            }
            StmtKind::Block(b) => collect_calls(b, out),
            _ => {}
        }
    }
}

fn expr_calls(e: &Expr, out: &mut Vec<(String, Span)>) {
    match &e.kind {
        ExprKind::RouteCall { name, name_span } => out.push((name.clone(), *name_span)),
        ExprKind::Binary { l, r, .. } => {
            expr_calls(l, out);
            expr_calls(r, out);
        }
        ExprKind::Unary { e, .. } => expr_calls(e, out),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| expr_calls(a, out)),
        _ => {}
    }
}

impl Ctx<'_> {
    pub(super) fn declare_routes(&mut self, blocks: &[&RouteBlock]) {
        for b in blocks {
            let (kind, name) = kind_of(b);
            let span = b.name.as_ref().map(|n| n.1).unwrap_or(b.span);
            if let Some(prev) = self.prog.route(kind, &name) {
                let first = self.loc.loc(self.routes.decl[prev.ix()].0);
                let file = self
                    .sources
                    .files
                    .get(first.file as usize)
                    .map(|f| &*f.path)
                    .unwrap_or("?");
                let d = self
                    .err(span, format!("duplicate {}", describe(kind, &name)))
                    .with_len(self.loc.width(span))
                    .with_hint(format!("first defined at {file}:{}", first.line));
                self.diags.push(d);
                self.routes.block_route.push(None);
                continue;
            }
            let idx = RouteIdx(self.prog.routes.len() as u16);
            self.prog.routes.push(RouteInfo {
                kind,
                name: Arc::from(name.as_str()),
                entry: Pc(0),
                nregs: 0,
            });
            self.routes.decl.push(b.span);
            self.routes.block_route.push(Some(idx));
        }
        // The call graph; undefined targets are reported where codegen meets them.
        for (bi, b) in blocks.iter().enumerate() {
            let Some(from) = self.routes.block_route[bi] else {
                continue;
            };
            let mut calls = Vec::new();
            collect_calls(&b.body, &mut calls);
            for (name, _) in calls {
                if let Some(to) = self.prog.route(RouteKind::Sub, &name) {
                    self.routes.calls.push((from, to));
                }
            }
        }
        let n = self.prog.routes.len();
        let mut reach: Vec<(RouteMask, Option<RouteIdx>)> = self
            .prog
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    RouteMask::of(r.kind),
                    (r.kind != RouteKind::Sub).then_some(RouteIdx(i as u16)),
                )
            })
            .collect();
        // Propagate to a fixpoint: at most n rounds over the edges.
        for _ in 0..n {
            let mut changed = false;
            for &(from, to) in &self.routes.calls {
                let (fm, fo) = reach[from.ix()];
                let (tm, to_origin) = reach[to.ix()];
                let merged = tm.or(fm);
                if merged != tm {
                    reach[to.ix()] = (merged, to_origin.or(fo));
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        self.routes.reach = reach;
    }

    /// Checks `route(NAME)`: the route must exist.
    pub(super) fn route_target(&mut self, name: &str, span: Span) -> Option<RouteIdx> {
        let r = self.prog.route(RouteKind::Sub, name);
        if r.is_none() {
            let names: Vec<&str> = self
                .prog
                .routes
                .iter()
                .filter(|r| r.kind == RouteKind::Sub)
                .map(|r| &*r.name)
                .collect();
            let mut d = self
                .err(span, format!("route `{name}` is not defined"))
                .with_len(self.loc.width(span));
            if let Some(m) = crate::diag::did_you_mean(name, names) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            self.diags.push(d);
        }
        r
    }

    /// Checks a route named by a native argument (`t_on_failure("X")`).
    pub(super) fn named_route(
        &mut self,
        kind: RouteKind,
        name: &str,
        span: Span,
    ) -> Option<RouteIdx> {
        let r = self.prog.route(kind, name);
        if r.is_none() {
            let mut d = self
                .err(span, format!("{} is not defined", describe(kind, name)))
                .with_len(self.loc.width(span));
            let names = self
                .prog
                .routes
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| &*r.name);
            if let Some(m) = crate::diag::did_you_mean(name, names) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            self.diags.push(d);
        }
        r
    }

    pub(super) fn finish_routes(&mut self) {}
}
