//! The golden-file harness: `.cfg` → `.bc` listings and `.err` diagnostics.
//!
//! Goldens hold no machine-dependent paths: every file is compiled under its bare file name,
//! and a [`DirLoader`] resolves relative include paths against the directory it really lives
//! in. `SIPVM_BLESS=1 cargo test -p sipvm-tests` rewrites every golden from the current output.

use sipvm_lang::compile::{compile_with, CompileOptions, Compiled, Failed};
use sipvm_lang::pp::Loader;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that regenerates goldens.
pub const BLESS_VAR: &str = "SIPVM_BLESS";

/// Whether this run rewrites goldens instead of comparing.
pub fn blessing() -> bool {
    std::env::var_os(BLESS_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// This crate's folder (`tests/` of the workspace).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub fn workspace_dir() -> PathBuf {
    crate_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(crate_dir)
}

/// `shared/` beside the repository (as CI clones it), else `/work/shared`.
pub fn shared_dir() -> PathBuf {
    let beside = crate_dir().join("../../shared");
    if beside.join("examples").is_dir() {
        return beside.canonicalize().unwrap_or(beside);
    }
    PathBuf::from("/work/shared")
}

/// `tests/golden`.
pub fn golden_dir() -> PathBuf {
    crate_dir().join("golden")
}

/// Reads includes, resolving relative paths against `base` rather than the process's current
/// directory, so that a file compiled under its bare name finds its includes.
pub struct DirLoader {
    pub base: PathBuf,
}

impl Loader for DirLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        if path.is_absolute() {
            std::fs::read_to_string(path)
        } else {
            std::fs::read_to_string(self.base.join(path))
        }
    }
}

/// Compiles `path` under its bare file name, with includes resolved beside it.
pub fn compile_named(path: &Path, opts: &CompileOptions) -> Result<Compiled, Failed> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    compile_with(
        &name,
        Some(&text),
        opts,
        sipvm_proxy::modules::registry(),
        &DirLoader { base },
    )
}

/// The `.cfg` files of a folder, sorted by name.
pub fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    v.sort();
    v
}

/// A readable line diff of `expected` against `actual`: `-` expected, `+` actual, with three
/// lines of context around each change and `...` where unchanged lines are left out.
pub fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table; goldens are small.
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (tag, line): ' ' same, '-' only expected, '+' only actual.
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let near = |k: usize| {
        changed
            .iter()
            .any(|&c| k + CONTEXT >= c && k <= c + CONTEXT)
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (tag, line)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("   ...\n");
                skipped = false;
            }
            let _ = writeln!(out, " {tag} {line}");
        } else {
            skipped = true;
        }
    }
    if skipped {
        out.push_str("   ...\n");
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        let _ = writeln!(out, " (the final newline differs)");
    }
    out
}

/// Collects golden mismatches so that one run reports all of them.
#[derive(Default)]
pub struct Goldens {
    failures: Vec<String>,
    checked: usize,
    blessed: usize,
}

impl Goldens {
    /// Compares `actual` with the golden file at `golden` (or rewrites it when blessing).
    pub fn check(&mut self, source: &Path, golden: &Path, actual: &str) {
        self.checked += 1;
        let expected = std::fs::read_to_string(golden).ok();
        if expected.as_deref() == Some(actual) {
            return;
        }
        if blessing() {
            std::fs::write(golden, actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", golden.display()));
            self.blessed += 1;
            return;
        }
        let msg = match expected {
            None => format!(
                "{}: golden {} is missing; actual output:\n{actual}",
                source.display(),
                golden.display()
            ),
            Some(exp) => format!(
                "{}: output differs from {} (- expected, + actual):\n{}",
                source.display(),
                golden.display(),
                diff(&exp, actual)
            ),
        };
        self.failures.push(msg);
    }

    /// Records a failure that is not a text mismatch.
    pub fn fail(&mut self, msg: String) {
        self.checked += 1;
        self.failures.push(msg);
    }

    /// Panics once with every mismatch, if there were any.
    pub fn finish(self, what: &str) {
        if self.blessed > 0 {
            eprintln!("{what}: rewrote {} golden file(s)", self.blessed);
        }
        assert!(self.checked > 0, "{what}: no golden inputs found");
        if !self.failures.is_empty() {
            panic!(
                "{what}: {} of {} golden(s) failed (run with {BLESS_VAR}=1 to accept the new output):\n\n{}",
                self.failures.len(),
                self.checked,
                self.failures.join("\n")
            );
        }
    }
}

/// The golden comparison for one example: its disassembly, or a failure when it does not
/// compile.
pub fn check_example(g: &mut Goldens, cfg: &Path, golden: &Path) {
    match compile_named(cfg, &CompileOptions::default()) {
        Ok(c) => g.check(cfg, golden, &sipvm_vm::disasm::disassemble(&c.program)),
        Err(f) => g.fail(format!(
            "{}: expected to compile, but:\n{}",
            cfg.display(),
            f.render()
        )),
    }
}

/// The golden comparison for one bad config: its rendered diagnostics.
pub fn check_bad(g: &mut Goldens, cfg: &Path, golden: &Path) {
    match compile_named(cfg, &CompileOptions::default()) {
        Ok(_) => g.fail(format!(
            "{}: expected errors, but it compiled",
            cfg.display()
        )),
        Err(f) => g.check(cfg, golden, &f.render()),
    }
}
