//! `sipvm check` (the real binary) prints exactly what `Failed::render()` gives, plus its
//! summary line, and exits 1 for a bad config; it exits 0 for a good one.
//!
//! The binary is not built by `cargo test -p sipvm-tests`; the test looks for it under
//! `$CARGO_TARGET_DIR/debug/sipvm` (when set) or `<workspace>/target/debug/sipvm`, and skips
//! with a message when it is missing or older than the compiler's sources
//! (`cargo build -p sipvm-proxy` first).

use sipvm_lang::compile::CompileOptions;
use sipvm_tests::golden::{cfg_files, compile_named, golden_dir, shared_dir, workspace_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn target_dir() -> PathBuf {
    let ws = workspace_dir();
    let from_env = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    match from_env {
        Some(d) if d.is_absolute() => d,
        Some(d) => ws.join(d),
        None => ws.join("target"),
    }
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_mtime(&p)
        } else {
            e.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The `sipvm` binary, if it exists and is not older than the sources it is built from.
fn binary() -> Option<PathBuf> {
    let bin = target_dir().join("debug").join("sipvm");
    let Ok(built) = std::fs::metadata(&bin).and_then(|m| m.modified()) else {
        eprintln!(
            "skipping: {} not found (run `cargo build -p sipvm-proxy`)",
            bin.display()
        );
        return None;
    };
    let ws = workspace_dir();
    let sources = ["lang/src", "proxy/src", "vm/src", "cfg/src"]
        .iter()
        .filter_map(|d| newest_mtime(&ws.join(d)))
        .max();
    if sources.is_some_and(|s| s > built) {
        eprintln!(
            "skipping: {} is older than the sources (run `cargo build -p sipvm-proxy`)",
            bin.display()
        );
        return None;
    }
    Some(bin)
}

fn check(bin: &Path, dir: &Path, name: &str) -> (i32, String) {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["check", "-f", name])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_prints_rendered_diagnostics_and_exits_1() {
    let Some(bin) = binary() else { return };
    let dir = golden_dir().join("bad");
    let mut problems = Vec::new();
    for cfg in cfg_files(&dir) {
        let name = cfg
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let failed = compile_named(&cfg, &CompileOptions::default())
            .expect_err("a bad config compiles in the library");
        let n = failed.diagnostics.iter().filter(|d| d.is_error()).count();
        let want = format!(
            "{}{n} error{} in {name}\n",
            failed.render(),
            if n == 1 { "" } else { "s" }
        );
        let (code, stderr) = check(&bin, &dir, &name);
        if code != 1 {
            problems.push(format!("{name}: exit code {code}, expected 1"));
        }
        if stderr != want {
            problems.push(format!(
                "{name}: stderr differs (- library, + binary):\n{}",
                sipvm_tests::golden::diff(&want, &stderr)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn check_exits_0_for_good_configs() {
    let Some(bin) = binary() else { return };
    let dir = shared_dir().join("examples");
    let mut problems = Vec::new();
    for cfg in cfg_files(&dir) {
        let name = cfg
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (code, stderr) = check(&bin, &dir, &name);
        if code != 0 {
            problems.push(format!(
                "{name}: exit code {code}, expected 0; stderr:\n{stderr}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
