//! Run-time changes of custom parameters (`group.name = value desc "..."`), as Kamailio's
//! `cfg_rpc` makes them: a change builds a new snapshot that shares the program, globals and
//! counters of the one it replaces and differs only in `custom`, and stores it with the same
//! single `ArcSwap` as a reload. `set_custom` swaps at once; `stage_custom` stages and
//! `commit_custom` swaps every staged change together. See docs/rpc.md.
//!
//! Survive-reload rule: a reload (or canary) keeps a parameter's run-time value when the new
//! file declares the parameter with the same value (and so the same type) as the file it
//! replaces; otherwise, or when the new file does not declare it, the new file's value wins.

use crate::live::{Candidate, Routing, Running};
use crate::{Live, Snapshot};
use sipvm_lang::compile::CustomParam;
use sipvm_vm::value::parse_int;
use sipvm_vm::Value;
use std::sync::Arc;

/// A staged (not yet committed) change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Staged {
    group: String,
    name: String,
    value: Value,
}

/// One change, as `cfg.diff` lists it: the value in force and the staged one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomChange {
    pub group: String,
    pub name: String,
    pub old: Value,
    pub new: Value,
}

/// Why a custom-parameter change was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomError {
    #[error("no custom parameter `{group}.{name}`")]
    Unknown { group: String, name: String },
    #[error("no custom parameter in group `{0}`")]
    UnknownGroup(String),
    /// The parameter is an integer and the value is not one.
    #[error("`{group}.{name}` is an integer, not {value:?}")]
    NotInt {
        group: String,
        name: String,
        value: String,
    },
    /// Kamailio keeps a custom integer in 32 bits.
    #[error("`{group}.{name}`: {value} does not fit a 32-bit integer")]
    OutOfRange {
        group: String,
        name: String,
        value: i64,
    },
    /// A string with CR, LF or NUL could end up splitting a header or a log line.
    #[error("`{group}.{name}`: the value holds a CR, LF or NUL")]
    ControlChars { group: String, name: String },
}

/// The custom parameters for a freshly compiled snapshot whose file declares `declared`, given
/// the running one it replaces (the survive-reload rule, see the module doc).
pub(crate) fn carry_runtime_values(cur: &Running, declared: &[CustomParam]) -> Arc<[CustomParam]> {
    declared
        .iter()
        .map(|p| {
            let same_decl = cur
                .declared
                .iter()
                .any(|d| d.group == p.group && d.name == p.name && d.value == p.value);
            match cur.snapshot.custom(&p.group, &p.name) {
                Some(now) if same_decl => CustomParam {
                    value: now.value.clone(),
                    ..p.clone()
                },
                _ => p.clone(),
            }
        })
        .collect()
}

/// `value` converted to the declared parameter's type, as Kamailio converts: an integer into a
/// string parameter becomes its decimal text, a string into an integer parameter must be one.
fn coerce(p: &CustomParam, value: &Value) -> Result<Value, CustomError> {
    let v = coerce_type(p, value)?;
    match &v {
        Value::Int(n) if i32::try_from(*n).is_err() => Err(CustomError::OutOfRange {
            group: p.group.clone(),
            name: p.name.clone(),
            value: *n,
        }),
        Value::Str(s) if s.as_bytes().iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) => {
            Err(CustomError::ControlChars {
                group: p.group.clone(),
                name: p.name.clone(),
            })
        }
        _ => Ok(v),
    }
}

fn coerce_type(p: &CustomParam, value: &Value) -> Result<Value, CustomError> {
    match (&p.value, value) {
        (Value::Int(_), Value::Int(n)) => Ok(Value::Int(*n)),
        (Value::Int(_), Value::Str(s)) => {
            parse_int(s.trim())
                .map(Value::Int)
                .ok_or_else(|| CustomError::NotInt {
                    group: p.group.clone(),
                    name: p.name.clone(),
                    value: s.to_string(),
                })
        }
        (Value::Str(_), Value::Int(n)) => Ok(Value::str(&n.to_string())),
        (_, v) => Ok(v.clone()),
    }
}

/// A copy of `custom` with each `(group, name, value)` of `changes` applied (all known).
fn with_values(custom: &[CustomParam], changes: &[(String, String, Value)]) -> Arc<[CustomParam]> {
    custom
        .iter()
        .map(|p| {
            match changes
                .iter()
                .rev()
                .find(|(g, n, _)| *g == p.group && *n == p.name)
            {
                Some((_, _, v)) => CustomParam {
                    value: v.clone(),
                    ..p.clone()
                },
                None => p.clone(),
            }
        })
        .collect()
}

/// `r` with its snapshot's custom values changed (same program, generation and counters);
/// changes to parameters `r` does not declare, or of another type, are skipped.
fn apply(r: &Running, changes: &[(String, String, Value)]) -> Running {
    let mine: Vec<(String, String, Value)> = changes
        .iter()
        .filter_map(|(g, n, v)| {
            let p = r.snapshot.custom(g, n)?;
            coerce(p, v).ok().map(|v| (g.clone(), n.clone(), v))
        })
        .collect();
    if mine.is_empty() {
        return r.clone();
    }
    let s = &r.snapshot;
    Running {
        snapshot: Arc::new(Snapshot {
            generation: s.generation,
            file: s.file.clone(),
            program: s.program.clone(),
            globals: s.globals.clone(),
            custom: with_values(&s.custom, &mine),
            modparams: s.modparams.clone(),
            modules: s.modules.clone(),
            warnings: s.warnings.clone(),
        }),
        counters: r.counters.clone(),
        declared: r.declared.clone(),
    }
}

impl Live {
    /// Checks `(group, name, value)` against the current snapshot: the parameter must be
    /// declared there and the value must fit its type. Returns the converted value.
    fn check_custom(&self, group: &str, name: &str, value: &Value) -> Result<Value, CustomError> {
        let routing = self.routing.load();
        let p = routing
            .current
            .snapshot
            .custom(group, name)
            .ok_or_else(|| CustomError::Unknown {
                group: group.to_string(),
                name: name.to_string(),
            })?;
        coerce(p, value)
    }

    /// Stores the routing state with `changes` applied to the current snapshot and to the
    /// candidate (where it declares the parameter). The caller holds the state lock and has
    /// checked the changes.
    fn swap_custom(&self, changes: &[(String, String, Value)]) -> Arc<Snapshot> {
        let old = self.routing.load_full();
        let current = apply(&old.current, changes);
        let snap = current.snapshot.clone();
        self.routing.store(Arc::new(Routing {
            current,
            candidate: old.candidate.as_ref().map(|c| Candidate {
                running: apply(&c.running, changes),
                percent: c.percent,
            }),
        }));
        snap
    }

    /// `cfg.set_now_*`: sets a custom parameter at once (one atomic swap). Returns the new
    /// current snapshot; refused, with nothing changed, for an unknown parameter or a value
    /// of the wrong type.
    pub fn set_custom(
        &self,
        group: &str,
        name: &str,
        value: Value,
    ) -> Result<Arc<Snapshot>, CustomError> {
        let _state = self.lock();
        let v = self.check_custom(group, name, &value)?;
        Ok(self.swap_custom(&[(group.to_string(), name.to_string(), v)]))
    }

    /// `cfg.set_delayed_*`: stages a change (checked now, like `set_custom`); a second change
    /// of the same parameter replaces the first. Nothing is visible until `commit_custom`.
    pub fn stage_custom(&self, group: &str, name: &str, value: Value) -> Result<(), CustomError> {
        let mut state = self.lock();
        let v = self.check_custom(group, name, &value)?;
        state
            .staged
            .retain(|s| !(s.group == group && s.name == name));
        state.staged.push(Staged {
            group: group.to_string(),
            name: name.to_string(),
            value: v,
        });
        Ok(())
    }

    /// `cfg.diff`: the staged changes, in the order staged, with the values now in force.
    pub fn staged_custom(&self) -> Vec<CustomChange> {
        let state = self.lock();
        let cur = self.current();
        state
            .staged
            .iter()
            .map(|s| CustomChange {
                group: s.group.clone(),
                name: s.name.clone(),
                old: cur
                    .custom(&s.group, &s.name)
                    .map_or(Value::Null, |p| p.value.clone()),
                new: s.value.clone(),
            })
            .collect()
    }

    /// `cfg.commit`: applies every staged change in one swap and clears them. If one no longer
    /// fits (a reload dropped or retyped its parameter) nothing is applied and the staged
    /// changes stay. Returns the current snapshot (unchanged when nothing was staged).
    pub fn commit_custom(&self) -> Result<Arc<Snapshot>, CustomError> {
        let mut state = self.lock();
        if state.staged.is_empty() {
            return Ok(self.current());
        }
        let mut changes = Vec::with_capacity(state.staged.len());
        for s in &state.staged {
            let v = self.check_custom(&s.group, &s.name, &s.value)?;
            changes.push((s.group.clone(), s.name.clone(), v));
        }
        let snap = self.swap_custom(&changes);
        state.staged.clear();
        Ok(snap)
    }

    /// `cfg.rollback`: drops the staged changes; returns how many there were.
    pub fn discard_custom(&self) -> usize {
        let mut state = self.lock();
        std::mem::take(&mut state.staged).len()
    }

    /// `cfg.reset`: every parameter of `group` back to the value its file declares, at once.
    pub fn reset_custom(&self, group: &str) -> Result<Arc<Snapshot>, CustomError> {
        let _state = self.lock();
        let routing = self.routing.load_full();
        let changes: Vec<(String, String, Value)> = routing
            .current
            .declared
            .iter()
            .filter(|p| p.group == group)
            .map(|p| (p.group.clone(), p.name.clone(), p.value.clone()))
            .collect();
        if changes.is_empty() {
            return Err(CustomError::UnknownGroup(group.to_string()));
        }
        Ok(self.swap_custom(&changes))
    }

    /// A custom parameter as the current file declares it (`cfg.reset`'s value).
    pub fn declared_custom(&self, group: &str, name: &str) -> Option<CustomParam> {
        self.routing
            .load()
            .current
            .declared
            .iter()
            .find(|p| p.group == group && p.name == name)
            .cloned()
    }
}
