//! `Live`: the routing state behind one `ArcSwap` (current program, optional canary
//! candidate), the previous generation kept for rollback, and per-generation counters.

use crate::canary::to_candidate;
use crate::counters::{Counters, Counts};
use crate::custom::{carry_runtime_values, Staged};
use crate::{compile, restart_only_changes, LoadError, Snapshot};
use arc_swap::{ArcSwap, Cache};
use sipvm_lang::compile::CustomParam;
use sipvm_lang::registry::Registry;
use sipvm_lang::CompileOptions;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How many generations' counters `Live::status` reports besides the live ones.
pub const KEPT_COUNTERS: usize = 8;

/// A compiled snapshot with the counters of the messages it handled.
#[derive(Debug, Clone)]
pub struct Running {
    pub snapshot: Arc<Snapshot>,
    pub counters: Arc<Counters>,
    /// The custom parameters as the file declares them (`snapshot.custom` holds the values in
    /// force, run-time changes included); what `cfg.reset` goes back to.
    pub declared: Arc<[CustomParam]>,
}

impl Running {
    pub fn new(snapshot: Snapshot) -> Running {
        Running {
            declared: snapshot.custom.clone(),
            snapshot: Arc::new(snapshot),
            counters: Arc::new(Counters::default()),
        }
    }

    pub fn generation(&self) -> u64 {
        self.snapshot.generation
    }
}

/// A canary: a second program and the share of dialogs it takes.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub running: Running,
    /// 0..=100.
    pub percent: u8,
}

/// What the single `ArcSwap` holds. A worker loads one `Arc<Routing>` per message, so the
/// current program and the candidate it sees always belong together.
#[derive(Debug, Clone)]
pub struct Routing {
    pub current: Running,
    pub candidate: Option<Candidate>,
}

impl Routing {
    /// The program for a message: the candidate when the Call-ID's stable bucket is below its
    /// percent, else the current one. A message without a Call-ID (`None`) gets the current.
    pub fn select(&self, call_id: Option<&[u8]>) -> &Running {
        match (&self.candidate, call_id) {
            (Some(c), Some(id)) if to_candidate(id, c.percent) => &c.running,
            _ => &self.current,
        }
    }
}

/// What a worker keeps to load the routing state cheaply: a pointer comparison unless a
/// reload, canary, promote, abort or rollback happened.
pub struct SnapshotCache {
    inner: Cache<Arc<ArcSwap<Routing>>, Arc<Routing>>,
}

impl SnapshotCache {
    /// The current snapshot (ignoring any candidate).
    pub fn load(&mut self) -> &Arc<Snapshot> {
        &self.inner.load().current.snapshot
    }

    /// The whole routing state, one consistent view.
    pub fn routing(&mut self) -> &Arc<Routing> {
        self.inner.load()
    }

    /// The program for a message with this Call-ID (see [`Routing::select`]).
    pub fn select(&mut self, call_id: Option<&[u8]>) -> &Running {
        self.inner.load().select(call_id)
    }
}

/// Why promote, abort or rollback could not be done. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("no canary candidate is running")]
    NoCandidate,
    #[error("no previous generation to roll back to")]
    NoPrevious,
}

/// Counters and identity of one generation, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationStatus {
    pub generation: u64,
    pub file: String,
    /// `current`, `candidate`, `previous` or `retired`.
    pub role: &'static str,
    pub counts: Counts,
}

/// `Live::status`: which generations are live, and their counters (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub current: u64,
    pub candidate: Option<u64>,
    /// The candidate's share of new dialogs (0 without a candidate).
    pub percent: u8,
    pub previous: Option<u64>,
    /// The live generations plus the last [`KEPT_COUNTERS`] made, newest first.
    pub generations: Vec<GenerationStatus>,
}

pub(crate) struct State {
    previous: Option<Running>,
    /// Custom-parameter changes staged by `stage_custom`, applied together by `commit_custom`.
    pub(crate) staged: Vec<Staged>,
    /// The highest generation number ever given; numbers are never reused.
    last_generation: u64,
    /// The most recently made generations (newest last), for their counters.
    made: VecDeque<(u64, Arc<str>, Arc<Counters>)>,
}

impl State {
    fn next_generation(&mut self) -> u64 {
        self.last_generation += 1;
        self.last_generation
    }

    fn remember(&mut self, r: &Running) {
        self.made
            .push_back((r.generation(), r.snapshot.file.clone(), r.counters.clone()));
        while self.made.len() > KEPT_COUNTERS {
            self.made.pop_front();
        }
    }
}

/// The handle workers and the control surface share.
pub struct Live {
    pub(crate) routing: Arc<ArcSwap<Routing>>,
    /// Serialises every change (reload, canary, promote, abort, rollback).
    state: Mutex<State>,
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
        let first = Running::new(compile(file, &options, registry, 1)?);
        let mut state = State {
            previous: None,
            staged: Vec::new(),
            last_generation: 1,
            made: VecDeque::new(),
        };
        state.remember(&first);
        Ok(Live {
            routing: Arc::new(ArcSwap::from_pointee(Routing {
                current: first,
                candidate: None,
            })),
            state: Mutex::new(state),
            registry,
            options,
        })
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current snapshot. Workers should prefer a `cache()` per worker.
    pub fn current(&self) -> Arc<Snapshot> {
        self.routing.load().current.snapshot.clone()
    }

    /// The whole routing state (current and candidate), one consistent view.
    pub fn routing(&self) -> Arc<Routing> {
        self.routing.load_full()
    }

    /// The snapshot for a message with this Call-ID (see [`Routing::select`]).
    pub fn select(&self, call_id: &[u8]) -> Arc<Snapshot> {
        self.routing.load().select(Some(call_id)).snapshot.clone()
    }

    /// A per-worker cache: loading it is a pointer comparison unless the routing changed.
    /// It owns a handle on the swap, so a worker thread can keep it.
    pub fn cache(&self) -> SnapshotCache {
        SnapshotCache {
            inner: Cache::new(self.routing.clone()),
        }
    }

    /// Compiles `file` (default: the current one's) as the next generation and checks it
    /// against the current snapshot. The caller holds the state lock.
    fn build(&self, state: &mut State, file: Option<&str>) -> Result<Running, LoadError> {
        let cur = self.routing.load_full().current.snapshot.clone();
        let path = file
            .map(str::to_string)
            .unwrap_or_else(|| cur.file.to_string());
        let mut next = compile(
            &path,
            &self.options,
            self.registry,
            state.last_generation + 1,
        )?;
        let changed = restart_only_changes(self.registry, &cur, &next);
        if !changed.is_empty() {
            return Err(LoadError::NeedsRestart {
                file: path,
                params: changed,
            });
        }
        state.next_generation();
        let declared = next.custom.clone();
        next.custom = carry_runtime_values(&self.routing.load().current, &declared);
        let r = Running {
            snapshot: Arc::new(next),
            counters: Arc::new(Counters::default()),
            declared,
        };
        state.remember(&r);
        Ok(r)
    }

    /// Recompiles the running file, or `file`, and makes it current; the replaced one is kept
    /// for `rollback`. A running canary stays. Serialised with every other change; returns
    /// the new snapshot only after the swap. A file that does not compile, or that changes a
    /// restart-only parameter, is refused and nothing changes.
    pub fn reload(&self, file: Option<&str>) -> Result<Arc<Snapshot>, LoadError> {
        let mut state = self.lock();
        let next = self.build(&mut state, file)?;
        let old = self.routing.load_full();
        self.routing.store(Arc::new(Routing {
            current: next.clone(),
            candidate: old.candidate.clone(),
        }));
        state.previous = Some(old.current.clone());
        Ok(next.snapshot)
    }

    /// Compiles `file` as a candidate that takes `percent`% of new dialogs (by Call-ID
    /// bucket). Refused like a reload (and for a percent over 100); replaces an earlier
    /// candidate. Returns the candidate after the swap.
    pub fn canary(&self, file: &str, percent: u8) -> Result<Arc<Snapshot>, LoadError> {
        if percent > 100 {
            return Err(LoadError::Percent(percent));
        }
        let mut state = self.lock();
        let next = self.build(&mut state, Some(file))?;
        let old = self.routing.load_full();
        self.routing.store(Arc::new(Routing {
            current: old.current.clone(),
            candidate: Some(Candidate {
                running: next.clone(),
                percent,
            }),
        }));
        Ok(next.snapshot)
    }

    /// The candidate becomes current (for every message); the replaced current is kept for
    /// `rollback`.
    pub fn promote(&self) -> Result<Arc<Snapshot>, StateError> {
        let mut state = self.lock();
        let old = self.routing.load_full();
        let Some(c) = &old.candidate else {
            return Err(StateError::NoCandidate);
        };
        self.routing.store(Arc::new(Routing {
            current: c.running.clone(),
            candidate: None,
        }));
        state.previous = Some(old.current.clone());
        Ok(c.running.snapshot.clone())
    }

    /// Drops the candidate; every message goes to the current program again. Returns the
    /// dropped candidate.
    pub fn abort(&self) -> Result<Arc<Snapshot>, StateError> {
        let _state = self.lock();
        let old = self.routing.load_full();
        let Some(c) = &old.candidate else {
            return Err(StateError::NoCandidate);
        };
        self.routing.store(Arc::new(Routing {
            current: old.current.clone(),
            candidate: None,
        }));
        Ok(c.running.snapshot.clone())
    }

    /// The previous generation becomes current again: the same snapshot, with its generation
    /// number and counters (no recompilation, no new number). The one it replaces becomes
    /// the previous one, so a second rollback undoes the first. A canary stays.
    pub fn rollback(&self) -> Result<Arc<Snapshot>, StateError> {
        let mut state = self.lock();
        let Some(prev) = state.previous.take() else {
            return Err(StateError::NoPrevious);
        };
        let old = self.routing.load_full();
        self.routing.store(Arc::new(Routing {
            current: prev.clone(),
            candidate: old.candidate.clone(),
        }));
        state.previous = Some(old.current.clone());
        Ok(prev.snapshot)
    }

    /// The previous generation (what `rollback` would make current), if any.
    pub fn previous(&self) -> Option<Arc<Snapshot>> {
        self.lock().previous.as_ref().map(|r| r.snapshot.clone())
    }

    /// Generations, the candidate's share and counters.
    pub fn status(&self) -> Status {
        let state = self.lock();
        let routing = self.routing.load_full();
        let mut gens: Vec<GenerationStatus> = Vec::new();
        let mut add = |generation: u64, file: &str, role: &'static str, c: &Counters| {
            if gens.iter().all(|g| g.generation != generation) {
                gens.push(GenerationStatus {
                    generation,
                    file: file.to_string(),
                    role,
                    counts: c.get(),
                });
            }
        };
        let live = |r: &Running| (r.generation(), r.snapshot.file.clone(), r.counters.clone());
        let cur = live(&routing.current);
        add(cur.0, &cur.1, "current", &cur.2);
        if let Some(c) = &routing.candidate {
            let c = live(&c.running);
            add(c.0, &c.1, "candidate", &c.2);
        }
        if let Some(p) = &state.previous {
            let p = live(p);
            add(p.0, &p.1, "previous", &p.2);
        }
        for (g, f, c) in state.made.iter().rev() {
            add(*g, f, "retired", c);
        }
        gens.sort_by_key(|g| std::cmp::Reverse(g.generation));
        Status {
            current: routing.current.generation(),
            candidate: routing.candidate.as_ref().map(|c| c.running.generation()),
            percent: routing.candidate.as_ref().map_or(0, |c| c.percent),
            previous: state.previous.as_ref().map(Running::generation),
            generations: gens,
        }
    }
}
