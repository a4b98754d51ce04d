//! Pseudo-variables: parsing `$name(inner)[idx]` and `$(pv{trans}...)`, resolving the class
//! against the registry, and format strings with embedded pseudo-variables.

use super::Ctx;
use crate::ast::Span;
use crate::diag::{did_you_mean, Diagnostic};
use crate::registry::PvForm;
use sipvm_vm::{
    Fmt, FmtIdx, FmtPart, PvIdx, PvIndex, PvName, PvRef, TransArg, TransIdx, TransStep, Value,
    VarIdx, PV_CLASS_NULL, PV_CLASS_RC, PV_CLASS_VAR,
};
use std::sync::Arc;

/// What a pseudo-variable in an expression compiles to.
#[derive(Clone, Copy, Debug)]
pub(super) enum PvUse {
    Var(VarIdx, Option<TransIdx>),
    Rc(Option<TransIdx>),
    Null,
    Host(PvIdx),
}

/// The parts of `name(inner)[index]`.
struct Parts<'a> {
    name: &'a str,
    inner: Option<&'a str>,
    index: Option<&'a str>,
    trans: Vec<&'a str>,
}

fn split_parts(text: &str) -> Option<Parts<'_>> {
    let body = text.strip_prefix('$')?;
    if body == "?" {
        return Some(Parts {
            name: "?",
            inner: None,
            index: None,
            trans: vec![],
        });
    }
    if let Some(b) = body.strip_prefix('(') {
        // $(name(inner)[idx]{t1}{t2})
        let b = b.strip_suffix(')')?;
        let tstart = top_level_find(b, b'{').unwrap_or(b.len());
        let mut p = split_plain(&b[..tstart])?;
        let mut rest = &b[tstart..];
        while let Some(r) = rest.strip_prefix('{') {
            let end = matching(r, b'{', b'}')?;
            p.trans.push(&r[..end]);
            rest = &r[end + 1..];
        }
        if !rest.trim().is_empty() {
            return None;
        }
        return Some(p);
    }
    split_plain(body)
}

fn split_plain(b: &str) -> Option<Parts<'_>> {
    let name_end = b
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(b.len());
    let name = &b[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &b[name_end..];
    let mut inner = None;
    if let Some(r) = rest.strip_prefix('(') {
        let end = matching(r, b'(', b')')?;
        inner = Some(&r[..end]);
        rest = &r[end + 1..];
    }
    let mut index = None;
    if let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']')?;
        index = Some(&r[..end]);
        rest = &r[end + 1..];
    }
    if !rest.is_empty() {
        return None;
    }
    Some(Parts {
        name,
        inner,
        index,
        trans: vec![],
    })
}

/// Index of the closer matching an already-consumed opener, honouring nesting.
fn matching(s: &str, open: u8, close: u8) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s.bytes().enumerate() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn top_level_find(s: &str, want: u8) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            c if c == want && depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Splits transformation text on commas outside nested pseudo-variables.
fn split_args(s: &str) -> Vec<&str> {
    let mut out = vec![];
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

impl Ctx<'_> {
    /// Resolves a pseudo-variable used as a value.
    pub(super) fn pv_use(&mut self, text: &str, span: Span) -> Option<PvUse> {
        let Some(p) = split_parts(text) else {
            self.diags.push(self.bad_pv(text, span));
            return None;
        };
        let trans = self.trans(&p.trans, span)?;
        match p.name {
            "var" => {
                let inner = self.need_inner(&p, text, span)?;
                Some(PvUse::Var(self.var_slot(inner), trans))
            }
            "rc" | "retcode" | "?" => Some(PvUse::Rc(trans)),
            "null" if p.inner.is_none() => Some(PvUse::Null),
            _ => self.host_pv(&p, text, span, trans).map(PvUse::Host),
        }
    }

    /// Resolves a pseudo-variable into the pv table (also `$var`/`$rc`, for formats).
    pub(super) fn pv_ref(&mut self, text: &str, span: Span) -> Option<PvIdx> {
        let use_ = self.pv_use(text, span)?;
        let (class, name, index, trans) = match use_ {
            PvUse::Host(i) => return Some(i),
            PvUse::Var(slot, t) => (PV_CLASS_VAR, "var", PvIndex::Int(slot.0 as i32), t),
            PvUse::Rc(t) => (PV_CLASS_RC, "rc", PvIndex::None, t),
            PvUse::Null => (PV_CLASS_NULL, "null", PvIndex::None, None),
        };
        Some(self.push_pv(PvRef {
            class,
            class_name: Arc::from(name),
            name: PvName::None,
            index,
            trans,
            text: Arc::from(text),
        }))
    }

    fn push_pv(&mut self, r: PvRef) -> PvIdx {
        if let Some(i) = self.pv_dedup.get(&*r.text) {
            return *i;
        }
        let i = PvIdx(self.prog.pvs.len() as u32);
        self.pv_dedup.insert(r.text.to_string(), i);
        self.prog.pvs.push(r);
        i
    }

    fn need_inner<'p>(&mut self, p: &Parts<'p>, text: &str, span: Span) -> Option<&'p str> {
        match p.inner {
            Some(i) if !i.is_empty() => Some(i),
            _ => {
                let d = self
                    .err(
                        span,
                        format!("`$${}` needs a name: `$${}(name)`", p.name, p.name),
                    )
                    .with_len(self.loc.width(span));
                let _ = text;
                self.diags.push(d);
                None
            }
        }
    }

    fn host_pv(
        &mut self,
        p: &Parts<'_>,
        text: &str,
        span: Span,
        trans: Option<TransIdx>,
    ) -> Option<PvIdx> {
        let mut found = None;
        let mut elsewhere = None;
        for (id, mi, decl) in self.reg.pv_classes() {
            if decl.name == p.name {
                if mi == 0 || self.loaded.contains(&mi) {
                    found = Some((id, decl));
                    break;
                }
                elsewhere.get_or_insert(mi);
            }
        }
        let Some((class, decl)) = found else {
            let mut d = self
                .err(span, format!("unknown pseudo-variable `${}`", p.name))
                .with_len(self.loc.width(span));
            if let Some(mi) = elsewhere {
                let m = self.reg.module(mi).name;
                d = d.with_hint(format!("missing loadmodule \"{m}.so\"?"));
            } else {
                let names: Vec<&str> = self
                    .reg
                    .pv_classes()
                    .filter(|(_, mi, _)| *mi == 0 || self.loaded.contains(mi))
                    .map(|(_, _, d)| d.name)
                    .collect();
                if let Some(m) = did_you_mean(p.name, names) {
                    d = d.with_hint(format!("did you mean `${m}`?"));
                }
            }
            self.diags.push(d);
            return None;
        };
        if !self.reg.is_pv_implemented(class) {
            let m = self
                .reg
                .module(self.reg.pv_class(class).map_or(0, |(m, _)| m))
                .name;
            let d = self
                .err(
                    span,
                    format!("pseudo-variable `${}` is not implemented", p.name),
                )
                .with_len(self.loc.width(span))
                .missing("pseudo-variable", m, p.name);
            self.diags.push(d);
            return None;
        }
        if decl.form != PvForm::Plain && p.inner.is_none_or(str::is_empty) {
            self.need_inner(p, text, span)?;
        }
        if decl.form == PvForm::Plain && p.inner.is_some() {
            let d = self
                .err(span, format!("`${}` takes no name in parentheses", p.name))
                .with_len(self.loc.width(span));
            self.diags.push(d);
            return None;
        }
        let name = match p.inner {
            None => PvName::None,
            Some(i) if decl.form == PvForm::OfMessage => {
                PvName::Pv(self.message_pv(p.name, i.trim(), span)?)
            }
            Some(i) if i.contains('$') => PvName::Dyn(self.fmt(i, span)?),
            Some(i) => PvName::Static(Arc::from(i)),
        };
        if p.name == "sel" {
            self.check_select(p.inner.unwrap_or(""), span);
        }
        let index = match p.index.map(str::trim) {
            None => PvIndex::None,
            Some("*") => PvIndex::All,
            Some(s) if s.starts_with('$') => PvIndex::Dyn(self.pv_ref(s, span)?),
            Some(s) => match s.parse::<i32>() {
                Ok(n) => PvIndex::Int(n),
                Err(_) => {
                    self.diags.push(self.bad_pv(text, span));
                    return None;
                }
            },
        };
        Some(self.push_pv(PvRef {
            class,
            class_name: Arc::from(decl.name),
            name,
            index,
            trans,
            text: Arc::from(text),
        }))
    }

    /// `$sel(cfg_get.group.name)`: the group and name must be declared.
    /// The inner pseudo-variable of `$T_req(pv)`-like classes, which read it from another
    /// message: one of the message's own, without a transformation (apply that outside).
    fn message_pv(&mut self, class: &str, inner: &str, span: Span) -> Option<PvIdx> {
        match self.pv_use(inner, span)? {
            PvUse::Host(i) if self.prog.pvs[i.ix()].trans.is_none() => Some(i),
            _ => {
                let d = self
                    .err(span, format!("`${class}(...)` takes a pseudo-variable of the message"))
                    .with_len(self.loc.width(span))
                    .with_hint(format!(
                        "`{inner}` is not one; a transformation goes outside: `$({class}($fu){{uri.user}})`"
                    ));
                self.diags.push(d);
                None
            }
        }
    }

    pub(super) fn check_select(&mut self, inner: &str, span: Span) {
        let Some(rest) = inner.strip_prefix("cfg_get.") else {
            let d = self
                .err(span, format!("unsupported select `{inner}`"))
                .with_len(self.loc.width(span))
                .with_hint("sipvm supports $sel(cfg_get.GROUP.NAME)");
            return self.diags.push(d);
        };
        let Some((g, n)) = rest.split_once('.') else {
            let d = self.err(
                span,
                format!("bad select `{inner}`: expected cfg_get.GROUP.NAME"),
            );
            return self.diags.push(d);
        };
        self.selects.push((g.to_string(), n.to_string(), span));
    }

    fn trans(&mut self, steps: &[&str], span: Span) -> Option<Option<TransIdx>> {
        if steps.is_empty() {
            return Some(None);
        }
        let mut out = Vec::new();
        for s in steps {
            let args = split_args(s);
            let head = args[0].trim();
            let Some((class, op)) = head.split_once('.') else {
                let d = self.err(span, format!("bad transformation `{{{s}}}`"));
                self.diags.push(d);
                return None;
            };
            let nargs = args.len() - 1;
            let mut decl = None;
            let mut elsewhere = None;
            for (mi, t) in self.reg.transforms(class, op) {
                if mi == 0 || self.loaded.contains(&mi) {
                    decl = Some(t);
                    break;
                }
                elsewhere.get_or_insert(mi);
            }
            let f = match decl {
                Some(t) if (t.min_args as usize..=t.max_args as usize).contains(&nargs) => t.f,
                Some(t) => {
                    let (lo, hi) = (t.min_args, t.max_args);
                    let want = match (lo, hi) {
                        (0, 0) => "no arguments".to_string(),
                        (a, b) if a == b => {
                            format!("{a} argument{}", if a == 1 { "" } else { "s" })
                        }
                        (a, b) => format!("{a} to {b} arguments"),
                    };
                    let d = self
                        .err(
                            span,
                            format!(
                                "transformation `{{{class}.{op}}}` takes {want}, {nargs} given"
                            ),
                        )
                        .with_len(self.loc.width(span));
                    self.diags.push(d);
                    return None;
                }
                None => {
                    let mut d = self
                        .err(span, format!("unknown transformation `{{{class}.{op}}}`"))
                        .with_len(self.loc.width(span));
                    if let Some(mi) = elsewhere {
                        let m = self.reg.module(mi).name;
                        d = d.with_hint(format!("missing loadmodule \"{m}.so\"?"));
                    }
                    self.diags.push(d);
                    return None;
                }
            };
            let mut targs = Vec::new();
            for a in &args[1..] {
                // Not trimmed: `{s.select,0, }` uses a space as its separator.
                targs.push(if a.trim_start().starts_with('$') {
                    TransArg::Pv(self.pv_ref(a.trim(), span)?)
                } else if let Ok(n) = a.trim().parse::<i64>() {
                    TransArg::Val(Value::Int(n))
                } else {
                    TransArg::Val(Value::Str(Arc::from(*a)))
                });
            }
            out.push(TransStep {
                class: Arc::from(class),
                op: Arc::from(op),
                f,
                args: targs.into(),
            });
        }
        self.prog.transforms.push(out.into());
        Some(Some(TransIdx(self.prog.transforms.len() as u32 - 1)))
    }

    fn bad_pv(&self, text: &str, span: Span) -> Diagnostic {
        self.err(span, format!("malformed pseudo-variable `{text}`"))
            .with_len(self.loc.width(span))
    }

    /// A string with embedded pseudo-variables; `None` after reporting an error.
    pub(super) fn fmt(&mut self, s: &str, span: Span) -> Option<FmtIdx> {
        let parts = self.fmt_parts(s, span)?;
        self.prog.fmts.push(Fmt {
            text: Arc::from(s),
            parts: parts.into(),
        });
        Some(FmtIdx(self.prog.fmts.len() as u32 - 1))
    }

    /// Whether a string holds pseudo-variables (and so needs a format).
    pub(super) fn has_pv(s: &str) -> bool {
        s.as_bytes().windows(2).any(|w| {
            w[0] == b'$'
                && (w[1].is_ascii_alphabetic() || w[1] == b'(' || w[1] == b'?' || w[1] == b'_')
        })
    }

    fn fmt_parts(&mut self, s: &str, span: Span) -> Option<Vec<FmtPart>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let b = s.as_bytes();
        let mut i = 0;
        let mut ok = true;
        // Where in the source text of `span` the search for the next pseudo-variable starts,
        // so that a diagnostic points at the pseudo-variable inside a string literal.
        let src = self.loc.text(span);
        let mut cursor = 0;
        while i < b.len() {
            if b[i] == b'$' && i + 1 < b.len() {
                if let Some(end) = pv_extent(s, i) {
                    let text = &s[i..end];
                    if !lit.is_empty() {
                        parts.push(FmtPart::Lit(Arc::from(std::mem::take(&mut lit).as_str())));
                    }
                    let at = match src.get(cursor..).and_then(|r| r.find(text)) {
                        Some(o) => {
                            cursor += o + text.len();
                            (span.0 + cursor - text.len(), span.0 + cursor)
                        }
                        None => span,
                    };
                    match self.pv_ref(text, at) {
                        Some(p) => parts.push(FmtPart::Pv(p)),
                        None => ok = false,
                    }
                    i = end;
                    continue;
                }
            }
            let ch_len = s[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            lit.push_str(&s[i..i + ch_len]);
            i += ch_len;
        }
        if !lit.is_empty() {
            parts.push(FmtPart::Lit(Arc::from(lit.as_str())));
        }
        ok.then_some(parts)
    }
}

/// End of the pseudo-variable starting at `s[i] == '$'` inside a format string.
fn pv_extent(s: &str, i: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut j = i + 1;
    if b.get(j) == Some(&b'?') {
        return Some(j + 1);
    }
    if b.get(j) == Some(&b'(') {
        return matching(&s[j + 1..], b'(', b')').map(|e| j + 1 + e + 1);
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
        j += 1;
    }
    while j > i + 1 && b[j - 1] == b'.' {
        j -= 1;
    }
    if j == i + 1 {
        return None;
    }
    if b.get(j) == Some(&b'(') {
        j = j + 1 + matching(&s[j + 1..], b'(', b')')? + 1;
    }
    if b.get(j) == Some(&b'[') {
        if let Some(e) = s[j..].find(']') {
            j += e + 1;
        }
    }
    Some(j)
}
