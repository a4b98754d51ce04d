//! The preprocessor proper: a line-oriented pass over the main file and its includes.
//!
//! Every input line yields exactly one output line (directive lines and lines in false
//! conditionals become empty), so line numbers map 1:1 within a file. Define expansion and
//! `#!subst` rewriting record [`ColEdit`]s so columns map back too. See `docs/preprocessor.md`
//! for the Kamailio 5.6 behaviours this follows.
//!
//! This file is the driver and the shared state; directives, expansion, subst and includes
//! are further `impl Pp` blocks in the sibling modules.

use super::directives::{bang_directive, Pending};
use super::include::io_msg;
use super::subst::Subst;
use super::text::{id_len, nchars, trim_blank_start};
use super::{ColEdit, LineOrigin, Loader, PpOptions, PpOutput};
use crate::diag::{Diagnostic, FileId, Loc, Sources};
use std::collections::HashMap;
use std::path::Path;

pub(super) fn run_file(
    path: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    match loader.load(Path::new(path)) {
        Ok(t) => run_str(path, &t, sources, opts, loader),
        Err(e) => (
            PpOutput::default(),
            vec![Diagnostic::error(
                None,
                format!("cannot open config file \"{path}\": {}", io_msg(&e)),
            )],
        ),
    }
}

pub(super) fn run_str(
    name: &str,
    text: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    let file = sources.add(name, text);
    let mut pp = Pp {
        sources,
        opts,
        loader,
        defines: HashMap::new(),
        substs: Vec::new(),
        conds: Vec::new(),
        out: PpOutput::default(),
        diags: Vec::new(),
        open_at: (0, 0),
    };
    for (n, v) in &opts.defines {
        pp.defines.insert(n.clone(), v.clone());
    }
    pp.process(file, name, text, 0);
    for c in std::mem::take(&mut pp.conds) {
        pp.diags.push(
            Diagnostic::error(Some(c.loc), format!("#!{} without #!endif", c.word))
                .with_len(c.word.len() as u32 + 2)
                .with_hint("add a matching #!endif"),
        );
    }
    pp.out.defines = pp.defines.into_iter().collect();
    (pp.out, pp.diags)
}

/// One open `#!ifdef`/`#!ifndef`.
pub(super) struct Cond {
    /// Whether the enclosing text is active.
    pub(super) parent: bool,
    /// Whether the current branch is taken.
    pub(super) taking: bool,
    pub(super) elses: u32,
    pub(super) loc: Loc,
    pub(super) word: &'static str,
}

/// Lexical state carried from one line to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lex {
    Code,
    /// Inside `"..."`.
    Dq,
    /// Inside `'...'`.
    Sq,
    /// Inside `/* */`, with nesting depth (Kamailio nests block comments).
    Block(u32),
}

/// Preprocessor state for one run, shared by the main file and its includes.
pub(super) struct Pp<'a> {
    pub(super) sources: &'a mut Sources,
    pub(super) opts: &'a PpOptions,
    pub(super) loader: &'a dyn Loader,
    pub(super) defines: HashMap<String, Option<String>>,
    pub(super) substs: Vec<Subst>,
    pub(super) conds: Vec<Cond>,
    pub(super) out: PpOutput,
    pub(super) diags: Vec<Diagnostic>,
    /// Line and 0-based column where the last string or block comment opened.
    pub(super) open_at: (u32, u32),
}

impl Pp<'_> {
    pub(super) fn err(
        &mut self,
        file: FileId,
        line: u32,
        col: u32,
        len: u32,
        msg: String,
    ) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::error(
                Some(Loc {
                    file,
                    line,
                    col: col + 1,
                }),
                msg,
            )
            .with_len(len),
        );
        self.diags.last_mut().expect("just pushed")
    }

    pub(super) fn warn(
        &mut self,
        file: FileId,
        line: u32,
        col: u32,
        len: u32,
        msg: String,
    ) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::warning(
                Some(Loc {
                    file,
                    line,
                    col: col + 1,
                }),
                msg,
            )
            .with_len(len),
        );
        self.diags.last_mut().expect("just pushed")
    }

    pub(super) fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.parent && c.taking)
    }

    fn push_line(&mut self, file: FileId, line: u32, text: &str, edits: Vec<ColEdit>) {
        self.out.text.push_str(text);
        self.out.text.push('\n');
        self.out.lines.push(LineOrigin { file, line, edits });
    }

    pub(super) fn process(&mut self, file: FileId, path: &str, text: &str, depth: usize) {
        let mut lex = Lex::Code;
        // A `#!define` whose value continues on the next line: (name, value, kind).
        let mut cont: Option<Pending> = None;
        let mut lines = text.split('\n').peekable();
        let mut no = 0u32;
        while let Some(raw) = lines.next() {
            if lines.peek().is_none() && raw.is_empty() && no > 0 {
                break;
            }
            no += 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if let Some((name, mut value, kind, at)) = cont.take() {
                self.push_line(file, no, "", Vec::new());
                match line.strip_suffix('\\') {
                    Some(part) => {
                        value.push_str(part);
                        cont = Some((name, value, kind, at));
                    }
                    None => {
                        value.push_str(line);
                        self.finish_define(name, value, kind, at);
                    }
                }
                continue;
            }
            let trimmed = trim_blank_start(line);
            let lead = line.len() - trimmed.len();
            let is_dir = lex == Lex::Code
                && (trimmed.starts_with("#!")
                    || (trimmed.starts_with("!!") && bang_directive(&trimmed[2..])));
            if is_dir {
                self.push_line(file, no, "", Vec::new());
                let lead_col = nchars(&line[..lead]);
                if let Some(c) = self.directive(
                    file,
                    path,
                    no,
                    lead_col,
                    &trimmed[2..],
                    &trimmed[..2],
                    depth,
                ) {
                    cont = Some(c);
                }
                continue;
            }
            if !self.active() {
                self.push_line(file, no, "", Vec::new());
                continue;
            }
            if lex == Lex::Code {
                let word = id_len(trimmed);
                let kw = &trimmed[..word];
                if kw == "include_file" || kw == "import_file" {
                    self.push_line(file, no, "", Vec::new());
                    let col = nchars(&line[..lead]);
                    self.include(file, path, no, col, trimmed, depth);
                    continue;
                }
            }
            let at_start = lex;
            let lo = self.expand_line(file, no, line, &mut lex);
            if let Some(name) = loadmodule_name(&lo.text).filter(|_| at_start == Lex::Code) {
                let d = format!("MOD_{name}");
                self.defines.entry(d).or_insert(None);
            }
            self.push_line(file, no, &lo.text, lo.edits);
        }
        if let Some((name, value, kind, at)) = cont.take() {
            self.finish_define(name, value, kind, at);
        }
        // The main file's unclosed string or comment is the lexer's to report; an included
        // file's would silently swallow the includer's text, so report it here.
        if depth > 0 && lex != Lex::Code {
            let what = match lex {
                Lex::Block(_) => "block comment",
                _ => "string",
            };
            let (l, c) = self.open_at;
            self.err(
                file,
                l,
                c,
                2,
                format!("unterminated {what} at the end of an included file"),
            )
            .hint = Some(
                "Kamailio stops at the end of each included file too (\"unexpected EOF\")".into(),
            );
        }
    }
}

/// The module name of a `loadmodule "path/NAME.so"` line, if this line is one.
fn loadmodule_name(line: &str) -> Option<&str> {
    let t = trim_blank_start(line);
    let rest = t.strip_prefix("loadmodule")?;
    let rest = trim_blank_start(rest);
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let inner = &rest[1..];
    let end = inner.find(q)?;
    let p = &inner[..end];
    let p = p.strip_suffix(".so").unwrap_or(p);
    let name = p.rsplit('/').next().unwrap_or(p);
    (!name.is_empty() && id_len(name) == name.len()).then_some(name)
}
