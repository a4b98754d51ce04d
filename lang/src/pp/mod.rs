//! The preprocessor: `#!define` and friends, conditionals, `#!subst*`, `include_file` and
//! `import_file`. Its output is one text plus a source map from every output position back to
//! the original file, line and column, so diagnostics point into the files the user wrote.

use crate::diag::{Diagnostic, FileId, Loc, Sources};
use std::collections::BTreeMap;
use std::path::Path;

/// Options given on the command line.
#[derive(Clone, Debug)]
pub struct PpOptions {
    /// `-D NAME[=VALUE]`, in order.
    pub defines: Vec<(String, Option<String>)>,
    /// Maximum include nesting (Kamailio's is 10).
    pub max_include_depth: usize,
}

impl Default for PpOptions {
    fn default() -> Self {
        PpOptions {
            defines: Vec::new(),
            max_include_depth: 10,
        }
    }
}

/// Reads included files; tests substitute an in-memory loader.
pub trait Loader {
    fn load(&self, path: &Path) -> std::io::Result<String>;
}

/// Reads from the file system.
pub struct FsLoader;

impl Loader for FsLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// A replaced stretch of an output line: output chars `[out_start, out_start+out_len)` came
/// from original chars `[orig_col, orig_col+orig_len)` (0-based char columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColEdit {
    pub out_start: u32,
    pub out_len: u32,
    pub orig_col: u32,
    pub orig_len: u32,
}

/// Where one output line came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineOrigin {
    pub file: FileId,
    /// 1-based line in that file.
    pub line: u32,
    /// Replacements on this line, sorted by `out_start`.
    pub edits: Vec<ColEdit>,
}

/// Preprocessed text and its source map.
#[derive(Clone, Debug, Default)]
pub struct PpOutput {
    /// The text the lexer reads; lines end with `\n`.
    pub text: String,
    /// One entry per output line.
    pub lines: Vec<LineOrigin>,
    /// Defines in force at the end, with their values.
    pub defines: BTreeMap<String, Option<String>>,
}

impl PpOutput {
    /// Maps a 0-based output line and 0-based char column to an original location (1-based).
    pub fn loc(&self, out_line: usize, out_col: usize) -> Loc {
        let Some(o) = self.lines.get(out_line).or(self.lines.last()) else {
            return Loc {
                file: 0,
                line: 1,
                col: 1,
            };
        };
        let mut col = out_col as i64;
        let mut shift: i64 = 0;
        for e in &o.edits {
            let (s, l) = (e.out_start as i64, e.out_len as i64);
            if col < s {
                break;
            }
            if col < s + l {
                // Inside a replacement: point at the start of what was replaced.
                return Loc {
                    file: o.file,
                    line: o.line,
                    col: e.orig_col + 1,
                };
            }
            shift = (e.orig_col as i64 + e.orig_len as i64) - (s + l);
        }
        col += shift;
        Loc {
            file: o.file,
            line: o.line,
            col: (col.max(0) + 1) as u32,
        }
    }
}

mod directives;
mod engine;
mod expand;
mod include;
mod subst;
mod text;

/// Preprocesses the file at `path`, registering it and every include in `sources`.
pub fn preprocess(
    path: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    engine::run_file(path, sources, opts, loader)
}

/// Preprocesses `text` as if read from `name` (includes resolve relative to `name`'s folder).
pub fn preprocess_str(
    name: &str,
    text: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    engine::run_str(name, text, sources, opts, loader)
}
