//! The live configuration: one `ArcSwap<Snapshot>`. Workers load the current snapshot once per
//! message; a reload compiles off the hot path and swaps with a single `store`. A reload that
//! fails changes nothing and reports why. Reloads are serialised.

use arc_swap::{ArcSwap, Cache};
use sipvm_lang::compile::{CustomParam, GlobalSetting, ModParamSetting};
use sipvm_lang::registry::Registry;
use sipvm_lang::{compile_file, CompileOptions};
use sipvm_vm::Program;
use std::sync::{Arc, Mutex};

/// One compiled configuration with its parameters. Immutable; shared by every worker.
#[derive(Debug)]
pub struct Snapshot {
    /// 1 for the file loaded at start, +1 for each successful reload.
    pub generation: u64,
    /// The file it was compiled from.
    pub file: Arc<str>,
    pub program: Arc<Program>,
    pub globals: Arc<[GlobalSetting]>,
    pub custom: Arc<[CustomParam]>,
    pub modparams: Arc<[ModParamSetting]>,
    /// Loaded modules, in load order.
    pub modules: Arc<[String]>,
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
}

/// What a worker keeps to load the current snapshot cheaply.
pub type SnapshotCache = Cache<Arc<ArcSwap<Snapshot>>, Arc<Snapshot>>;

/// Why a load or reload failed. The running snapshot is untouched.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not compile; the rendered diagnostics (`FILE:LINE:COL: error: ...`).
    #[error("{file} does not compile:\n{diagnostics}")]
    Compile { file: String, diagnostics: String },
    /// The file changes parameters that only a restart can change.
    #[error("{file} changes parameters that need a restart: {}", params.join(", "))]
    NeedsRestart { file: String, params: Vec<String> },
}

/// The handle workers and the control surface share.
pub struct Live {
    current: Arc<ArcSwap<Snapshot>>,
    reload_lock: Mutex<()>,
    registry: &'static Registry,
    options: CompileOptions,
}

impl Live {
    /// Compiles `file` as generation 1.
    pub fn load(
        file: &str,
        options: CompileOptions,
        registry: &'static Registry,
    ) -> Result<Live, LoadError> {
        let snap = compile(file, &options, registry, 1)?;
        Ok(Live {
            current: Arc::new(ArcSwap::from_pointee(snap)),
            reload_lock: Mutex::new(()),
            registry,
            options,
        })
    }

    /// The current snapshot. Workers should prefer a `cache()` per worker.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// A per-worker cache: loading it is a pointer comparison unless a reload happened.
    /// It owns a handle on the swap, so a worker thread can keep it.
    pub fn cache(&self) -> SnapshotCache {
        Cache::new(self.current.clone())
    }

    /// Recompiles the running file, or `file`, and swaps it in. Serialised with other reloads;
    /// returns the new snapshot only after the swap. A file that does not compile, or that
    /// changes a restart-only parameter, is refused and the current snapshot stays.
    pub fn reload(&self, file: Option<&str>) -> Result<Arc<Snapshot>, LoadError> {
        let _serial = self.reload_lock.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.current.load_full();
        let path = file
            .map(str::to_string)
            .unwrap_or_else(|| old.file.to_string());
        let next = compile(&path, &self.options, self.registry, old.generation + 1)?;
        let changed = restart_only_changes(self.registry, &old, &next);
        if !changed.is_empty() {
            return Err(LoadError::NeedsRestart {
                file: path,
                params: changed,
            });
        }
        let next = Arc::new(next);
        self.current.store(next.clone());
        Ok(next)
    }
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
        .collect()
}
