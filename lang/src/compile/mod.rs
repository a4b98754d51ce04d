//! From preprocessed text to a `Program`: parse, check names and kinds against the registry,
//! generate register bytecode. Every error is collected, not only the first.

mod emit;
mod expr;
mod items;
mod locs;
mod natives;
mod pvs;
mod routes;
mod stmt;
mod syntax;

use crate::ast::{Item, Span};
use crate::diag::{Diagnostic, Loc, Sources};
use crate::pp::{self, FsLoader, Loader, PpOptions};
use crate::registry::Registry;
use locs::Locator;
use sipvm_vm::{Program, PvIdx, Value, VarInfo};
use std::collections::HashMap;
use std::sync::Arc;

/// Options for one compilation.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    pub pp: PpOptions,
}

/// A core parameter as set in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalSetting {
    pub name: String,
    pub value: Value,
    /// The value as written.
    pub raw: String,
    pub loc: Loc,
}

/// A custom parameter `group.name = value desc "text"`.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomParam {
    pub group: String,
    pub name: String,
    pub value: Value,
    pub desc: String,
}

/// A `modparam` line.
#[derive(Clone, Debug, PartialEq)]
pub struct ModParamSetting {
    pub module: String,
    pub param: String,
    pub value: Value,
}

/// A successfully compiled configuration.
#[derive(Debug)]
pub struct Compiled {
    pub program: Program,
    pub globals: Vec<GlobalSetting>,
    pub custom: Vec<CustomParam>,
    /// Loaded modules by name, in load order.
    pub modules: Vec<String>,
    pub modparams: Vec<ModParamSetting>,
    /// Warnings (errors make the compilation fail).
    pub warnings: Vec<Diagnostic>,
    pub sources: Sources,
}

impl Compiled {
    /// Every global setting of a name, in file order.
    pub fn global(&self, name: &str) -> impl Iterator<Item = &GlobalSetting> {
        let name = name.to_string();
        self.globals.iter().filter(move |g| g.name == name)
    }
}

/// A failed compilation: every diagnostic, and the sources to render them.
#[derive(Debug)]
pub struct Failed {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

impl Failed {
    pub fn render(&self) -> String {
        crate::diag::render_all(&self.diagnostics, &self.sources)
    }
}

/// Compiles the file at `path`.
pub fn compile_file(path: &str, opts: &CompileOptions, reg: &Registry) -> Result<Compiled, Failed> {
    compile_with(path, None, opts, reg, &FsLoader)
}

/// Compiles `text` as if read from `name`.
pub fn compile_str(
    name: &str,
    text: &str,
    opts: &CompileOptions,
    reg: &Registry,
) -> Result<Compiled, Failed> {
    compile_with(name, Some(text), opts, reg, &FsLoader)
}

/// Compiles with a custom include loader.
pub fn compile_with(
    name: &str,
    text: Option<&str>,
    opts: &CompileOptions,
    reg: &Registry,
    loader: &dyn Loader,
) -> Result<Compiled, Failed> {
    let mut sources = Sources::default();
    let (out, mut diags) = match text {
        Some(t) => pp::preprocess_str(name, t, &mut sources, &opts.pp, loader),
        None => pp::preprocess(name, &mut sources, &opts.pp, loader),
    };
    if diags.iter().any(Diagnostic::is_error) && out.lines.is_empty() {
        return Err(Failed {
            diagnostics: diags,
            sources,
        });
    }
    let loc = Locator::new(&out);
    let mut recovered = Vec::new();
    let parsed = crate::grammar::ConfigParser::new().parse(
        &out.text,
        &mut recovered,
        crate::lexer::lex(&out.text),
    );
    // Syntax diagnostics look at neighbouring tokens; lex again only when there are some.
    let toks = if recovered.is_empty() && parsed.is_ok() {
        Vec::new()
    } else {
        crate::lexer::lex(&out.text)
    };
    for (i, r) in recovered.iter().enumerate() {
        // A stray '}' right after a recovered error is that error's echo, not a new one.
        if i > 0 && syntax::is_cascade(&r.error) {
            continue;
        }
        diags.push(syntax::to_diag(&r.error, &loc, &toks));
    }
    let config = match parsed {
        Ok(c) => Some(c),
        Err(e) => {
            if recovered.is_empty() || !syntax::is_cascade(&e) {
                diags.push(syntax::to_diag(&e, &loc, &toks));
            }
            None
        }
    };
    let mut ctx = Ctx::new(reg, &loc, &sources);
    if let Some(config) = &config {
        ctx.compile(&config.items);
    }
    diags.append(&mut ctx.diags);
    dedup_sorted(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Failed {
            diagnostics: diags,
            sources,
        });
    }
    let Ctx {
        mut prog,
        globals,
        custom,
        modparams,
        loaded,
        var_names,
        var_init,
        ..
    } = ctx;
    prog.vars = var_names
        .into_iter()
        .zip(var_init)
        .map(|(name, init)| VarInfo {
            name: Arc::from(name.as_str()),
            init,
        })
        .collect();
    prog.files = sources.files.iter().map(|f| f.path.clone()).collect();
    Ok(Compiled {
        program: prog,
        globals,
        custom,
        modules: loaded
            .iter()
            .map(|&m| reg.module(m).name.to_string())
            .collect(),
        modparams,
        warnings: diags,
        sources,
    })
}

/// Keeps diagnostics in source order; drops exact repeats (one bad name used twice in a line).
fn dedup_sorted(d: &mut Vec<Diagnostic>) {
    d.sort_by_key(|x| x.loc.map(|l| (l.file, l.line, l.col)).unwrap_or((0, 0, 0)));
    d.dedup();
}

/// Compilation state shared by the passes.
pub(crate) struct Ctx<'a> {
    reg: &'a Registry,
    loc: &'a Locator<'a>,
    #[allow(dead_code)]
    sources: &'a Sources,
    diags: Vec<Diagnostic>,
    prog: Program,
    globals: Vec<GlobalSetting>,
    custom: Vec<CustomParam>,
    modparams: Vec<ModParamSetting>,
    /// Loaded module indexes (registry numbering), in load order.
    loaded: Vec<u16>,
    var_names: Vec<String>,
    var_init: Vec<Value>,
    pv_dedup: HashMap<String, PvIdx>,
    /// Compiled regexes by pattern.
    re_dedup: HashMap<String, sipvm_vm::RegexIdx>,
    /// `$sel(cfg_get.g.n)` uses, checked once every custom parameter is known.
    selects: Vec<(String, String, Span)>,
    routes: routes::RouteTable,
    em: emit::Emitter,
    /// The route being compiled.
    cur_route: Option<sipvm_vm::RouteIdx>,
}

impl<'a> Ctx<'a> {
    fn new(reg: &'a Registry, loc: &'a Locator<'a>, sources: &'a Sources) -> Self {
        Ctx {
            reg,
            loc,
            sources,
            diags: Vec::new(),
            prog: Program::default(),
            globals: Vec::new(),
            custom: Vec::new(),
            modparams: Vec::new(),
            loaded: Vec::new(),
            var_names: Vec::new(),
            var_init: Vec::new(),
            pv_dedup: HashMap::new(),
            re_dedup: HashMap::new(),
            selects: Vec::new(),
            routes: routes::RouteTable::default(),
            em: emit::Emitter::default(),
            cur_route: None,
        }
    }

    /// An error at the start of a span.
    fn err(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::error(Some(self.loc.loc(span.0)), msg)
    }

    fn var_slot(&mut self, name: &str) -> sipvm_vm::VarIdx {
        let i = match self.var_names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.var_names.push(name.to_string());
                self.var_init.push(Value::Null);
                self.var_names.len() - 1
            }
        };
        sipvm_vm::VarIdx(i as u16)
    }

    fn compile(&mut self, items: &[Item]) {
        // Modules first: Kamailio resolves names after the whole file is read, so a modparam
        // or call may come before its loadmodule line in the file only if... it may not:
        // like Kamailio, loadmodule must come before modparam, but functions are resolved
        // after every module is loaded.
        for it in items {
            match it {
                Item::Global {
                    name,
                    name_span,
                    value_span,
                } => self.global(name, *name_span, *value_span),
                Item::LoadModule { path, span } => self.loadmodule(path, *span),
                Item::ModParam {
                    module,
                    param,
                    value,
                    ..
                } => self.modparam(module, param, value),
                Item::LoadPath { .. } | Item::Route(_) => {}
            }
        }
        let blocks: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                Item::Route(b) => Some(b),
                _ => None,
            })
            .collect();
        self.declare_routes(&blocks);
        for (i, b) in blocks.iter().enumerate() {
            if let Some(idx) = self.routes.block_route[i] {
                self.route_block(idx, b);
            }
        }
        self.finish_routes();
        self.check_selects();
    }

    fn check_selects(&mut self) {
        for (g, n, span) in std::mem::take(&mut self.selects) {
            let known = self.custom.iter().any(|c| c.group == g && c.name == n)
                || g == "core"
                || self
                    .reg
                    .module_index(&g)
                    .is_some_and(|m| self.loaded.contains(&m));
            if !known {
                let d = self
                    .err(span, format!("unknown cfg parameter `{g}.{n}`"))
                    .with_len(self.loc.width(span))
                    .with_hint(format!("declare it: {g}.{n} = \"value\" desc \"...\""));
                self.diags.push(d);
            }
        }
    }
}
