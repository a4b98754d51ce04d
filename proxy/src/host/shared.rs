//! State shared by every worker: each module's state, outliving messages and reloads (DESIGN.md,
//! "Live changes"), and the tables that turn a registry id into its implementation.

use super::module::{HookLists, Module, NativeFn, PvGetFn, PvSetFn};
use sipvm_lang::registry::Registry;
use std::any::Any;
use std::sync::{Arc, OnceLock};

static REGISTRY: OnceLock<&'static Registry> = OnceLock::new();

/// The registry the running program was compiled against, for a module's state builder that
/// compiles script text of its own (acc's `log_extra`); set by the first `Shared::new`.
pub fn registry() -> Option<&'static Registry> {
    REGISTRY.get().copied()
}

/// Sets that registry (done by `Shared::new`; unit tests that build a state call it).
pub fn set_registry(r: &'static Registry) {
    let _ = REGISTRY.set(r);
}

/// Everything workers share: the module list, each module's state (built once from the first
/// snapshot, outliving reloads), and the native and pseudo-variable tables by registry id, so
/// a call or a read is one index.
pub struct Shared {
    pub modules: &'static [&'static Module],
    /// The registry the ids below index.
    pub registry: &'static Registry,
    states: Vec<Arc<dyn Any + Send + Sync>>,
    natives: Vec<Option<NativeFn>>,
    pv_get: Vec<Option<PvGetFn>>,
    pv_set: Vec<Option<PvSetFn>>,
    /// The modules' hooks, each kind in list order.
    pub hooks: HookLists,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("modules", &self.modules.len())
            .field("states", &self.states.len())
            .finish()
    }
}

impl Shared {
    /// Builds every module's state from the first snapshot, and the dispatch tables for
    /// `registry`, which must be the registry made of the same `modules`.
    pub fn new(
        modules: &'static [&'static Module],
        registry: &'static Registry,
        snap: &sipvm_cfg::Snapshot,
    ) -> Result<Self, String> {
        set_registry(registry);
        let mut states = Vec::new();
        for m in modules {
            if let Some(f) = m.state {
                states.push(f(snap).map_err(|e| format!("{}: {e}", m.decl.name))?);
            }
        }
        let find = |module: &str| modules.iter().find(|m| m.decl.name == module);
        let natives = registry
            .natives()
            .map(|(_, mi, f)| {
                let m = find(registry.module(mi).name)?;
                m.natives.iter().find(|i| i.name == f.name).map(|i| i.f)
            })
            .collect();
        let pv_impl = |mi: u16, name: &str| {
            let m = find(registry.module(mi).name)?;
            m.pvs.iter().find(|p| p.name == name)
        };
        let pv_get = registry
            .pv_classes()
            .map(|(_, mi, p)| pv_impl(mi, p.name).map(|i| i.get))
            .collect();
        let pv_set = registry
            .pv_classes()
            .map(|(_, mi, p)| pv_impl(mi, p.name).and_then(|i| i.set))
            .collect();
        Ok(Shared {
            modules,
            registry,
            states,
            natives,
            pv_get,
            pv_set,
            hooks: HookLists::of(modules),
        })
    }

    /// The shared state of the module whose state type is `T`.
    pub fn try_state<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.states.iter().find_map(|s| s.downcast_ref::<T>())
    }

    /// The shared state of type `T`. Every module of the list has its state from start-up
    /// on, so a module asking for its own state always finds it.
    pub fn state<T: Any + Send + Sync>(&self) -> &T {
        self.try_state()
            .unwrap_or_else(|| panic!("no module state {}", std::any::type_name::<T>()))
    }

    /// The shared state of type `T` as its `Arc` (for threads that outlive a borrow).
    pub fn state_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.states
            .iter()
            .find(|s| s.is::<T>())
            .and_then(|s| s.clone().downcast::<T>().ok())
    }

    /// Replaces the state of type `T` (a test builds a module's state from its own config).
    pub fn set_state<T: Any + Send + Sync>(&mut self, v: T) {
        let v: Arc<dyn Any + Send + Sync> = Arc::new(v);
        match self.states.iter_mut().find(|s| s.is::<T>()) {
            Some(s) => *s = v,
            None => self.states.push(v),
        }
    }

    pub fn native(&self, id: u16) -> Option<NativeFn> {
        self.natives.get(id as usize).copied().flatten()
    }

    pub fn pv_get(&self, class: u16) -> Option<PvGetFn> {
        self.pv_get.get(class as usize).copied().flatten()
    }

    pub fn pv_set(&self, class: u16) -> Option<PvSetFn> {
        self.pv_set.get(class as usize).copied().flatten()
    }

    /// Runs every module's startup hook, in list order.
    pub fn startup(&self, snap: &sipvm_cfg::Snapshot) -> Result<(), String> {
        for (name, f) in &self.hooks.startup {
            f(self, snap).map_err(|e| format!("{name}: {e}"))?;
        }
        Ok(())
    }

    /// Whether a module wants the script's statements reported (`Hooks::trace`).
    pub fn tracing(&self) -> bool {
        self.hooks.trace.iter().any(|t| (t.on)(self))
    }

    /// Runs every module's shutdown hook.
    pub fn shutdown(&self) {
        for f in &self.hooks.shutdown {
            f(self);
        }
    }
}
