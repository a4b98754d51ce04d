//! The live configuration: one `ArcSwap<Routing>` (the current snapshot and an optional canary
//! candidate). Workers load it once per message and pick a snapshot by the Call-ID; a reload
//! compiles off the hot path and swaps with a single `store`. A reload that fails changes
//! nothing and reports why. Every change is serialised. See docs/reload.md.

use sipvm_lang::compile::{CustomParam, GlobalSetting, ModParamSetting};
use sipvm_lang::registry::Registry;
use sipvm_lang::{compile_file, CompileOptions};
use sipvm_vm::{Program, Value};
use std::sync::Arc;

pub mod canary;
pub mod counters;
mod custom;
mod live;

pub use counters::{Counters, Counts};
pub use custom::{CustomChange, CustomError};
pub use live::{
    Candidate, GenerationStatus, Live, Routing, Running, SnapshotCache, StateError, Status,
    KEPT_COUNTERS,
};

/// One compiled configuration with its parameters. Immutable; shared by every worker.
#[derive(Debug)]
pub struct Snapshot {
    /// 1 for the file loaded at start; each compiled reload or canary takes the next number
    /// (never reused). A rollback brings back a snapshot with its old number.
    pub generation: u64,
    /// The file it was compiled from.
    pub file: Arc<str>,
    pub program: Arc<Program>,
    pub globals: Arc<[GlobalSetting]>,
    pub custom: Arc<[CustomParam]>,
    pub modparams: Arc<[ModParamSetting]>,
    /// Loaded modules, in load order.
    pub modules: Arc<[String]>,
    /// The compiler's warnings, rendered (said once at start and with a reload).
    pub warnings: Arc<str>,
}

impl Snapshot {
    /// The value of a custom parameter `group.name`.
    pub fn custom(&self, group: &str, name: &str) -> Option<&CustomParam> {
        self.custom
            .iter()
            .find(|c| c.group == group && c.name == name)
    }

    /// Every value of a core parameter, in file order (`listen` may repeat).
    pub fn global(&self, name: &str) -> impl Iterator<Item = &GlobalSetting> + '_ {
        let name = name.to_string();
        self.globals.iter().filter(move |g| g.name == name)
    }

    /// The value of `modparam(module, param, ...)` (the last setting wins, as in Kamailio),
    /// if the script sets it.
    pub fn modparam(&self, module: &str, param: &str) -> Option<&Value> {
        self.modparams
            .iter()
            .rev()
            .find(|m| m.module == module && m.param == param)
            .map(|m| &m.value)
    }

    /// An integer `modparam`, or `default` when unset (a string is converted as Kamailio does).
    pub fn modparam_int(&self, module: &str, param: &str, default: i64) -> i64 {
        self.modparam(module, param)
            .and_then(Value::try_int)
            .unwrap_or(default)
    }
}

/// Why a load or reload failed. The running snapshot is untouched.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not compile; the rendered diagnostics (`FILE:LINE:COL: error: ...`).
    #[error("{file} does not compile:\n{diagnostics}")]
    Compile { file: String, diagnostics: String },
    /// The file changes parameters that only a restart can change.
    #[error("{file} changes parameters that need a restart: {}", params.join(", "))]
    NeedsRestart { file: String, params: Vec<String> },
    /// A canary share over 100%.
    #[error("a canary share must be 0..100 percent, not {0}")]
    Percent(u8),
}

fn compile(
    file: &str,
    options: &CompileOptions,
    registry: &Registry,
    generation: u64,
) -> Result<Snapshot, LoadError> {
    let c = compile_file(file, options, registry).map_err(|f| LoadError::Compile {
        file: file.to_string(),
        diagnostics: f.render(),
    })?;
    Ok(Snapshot {
        generation,
        file: Arc::from(file),
        program: Arc::new(c.program),
        globals: c.globals.into(),
        custom: c.custom.into(),
        modparams: c.modparams.into(),
        modules: c.modules.into(),
        warnings: sipvm_lang::diag::render_all(&c.warnings, &c.sources).into(),
    })
}

/// Names of restart-only parameters whose values differ between two snapshots.
fn restart_only_changes(reg: &Registry, old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let values = |s: &Snapshot, name: &str| -> Vec<String> {
        s.global(name).map(|g| g.raw.clone()).collect()
    };
    let mut names: Vec<&str> = old
        .globals
        .iter()
        .chain(new.globals.iter())
        .map(|g| g.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter(|n| reg.global(n).is_some_and(|d| d.restart_only))
        .filter(|n| values(old, n) != values(new, n))
        .map(str::to_string)
        .chain(module_changes(reg, old, new))
        .collect()
}

/// Loaded modules, and `modparam`s that modules read once at start, that differ: a module's
/// state is built from the first snapshot, so a reload cannot apply a change to them.
fn module_changes(reg: &Registry, old: &Snapshot, new: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for m in old.modules.iter().filter(|m| !new.modules.contains(m)) {
        out.push(format!("loadmodule \"{m}.so\" (removed)"));
    }
    for m in new.modules.iter().filter(|m| !old.modules.contains(m)) {
        out.push(format!("loadmodule \"{m}.so\" (added)"));
    }
    let key = |p: &ModParamSetting| (p.module.clone(), p.param.clone());
    let mut keys: Vec<(String, String)> = old
        .modparams
        .iter()
        .chain(new.modparams.iter())
        .map(key)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.retain(|(m, p)| reg.is_param_restart(m, p));
    for (m, p) in keys {
        let vals = |s: &Snapshot| -> Vec<Value> {
            s.modparams
                .iter()
                .filter(|x| x.module == m && x.param == p)
                .map(|x| x.value.clone())
                .collect()
        };
        if vals(old) != vals(new) {
            out.push(format!("modparam(\"{m}\", \"{p}\")"));
        }
    }
    out
}
