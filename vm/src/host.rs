//! The boundary between the VM and the world: pseudo-variables and native functions.

use crate::op::{NativeIdx, Pc, PvIdx, RouteIdx};
use crate::program::Program;
use crate::value::Value;
use regex::Regex;

/// A pseudo-variable access after the VM resolved its dynamic parts.
#[derive(Clone, Copy, Debug)]
pub struct PvKey<'a> {
    pub pv: PvIdx,
    /// The inner name (`Via` in `$hdr(Via)`), expanded when dynamic.
    pub name: Option<&'a str>,
    /// The index, resolved: `Some(Index::At(n))`, `Some(Index::All)` or `None`.
    pub index: Option<Index>,
}

/// A resolved pseudo-variable index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    At(i64),
    All,
}

/// A native argument as the host receives it.
#[derive(Clone, Debug)]
pub enum ArgValue<'a> {
    /// A literal, or a format string already expanded.
    Val(Value),
    Regex(&'a Regex),
    Route(crate::op::RouteIdx),
    Pv(PvIdx),
}

/// An error raised by the host; the VM reports it through `Host::failed` and goes on.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{0}")]
pub struct HostError(pub String);

/// What the VM needs from its environment. Implemented by the SIP worker and by `TestHost`.
pub trait Host {
    /// Read a pseudo-variable the VM does not keep itself (all but `$var`, `$rc`, `$null`).
    fn get_pv(&mut self, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError>;
    /// Write a pseudo-variable; `Value::Null` deletes where that makes sense.
    fn set_pv(&mut self, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError>;
    /// `get_pv` from the instruction at `pc` (`$cfg(line)` needs the place).
    fn get_pv_at(&mut self, prog: &Program, key: PvKey<'_>, _pc: Pc) -> Result<Value, HostError> {
        self.get_pv(prog, key)
    }
    /// Run a native; its integer result is the return code (>0 true, <0 false, 0 ends the script).
    fn call(
        &mut self,
        prog: &Program,
        native: NativeIdx,
        args: &[ArgValue<'_>],
    ) -> Result<i64, HostError>;
    /// A route the native just called asked to run now, in its place (cfgutils'
    /// `route_if_exists`); the VM takes it after each call.
    fn take_route_call(&mut self) -> Option<crate::RouteIdx> {
        None
    }
    /// The native about to be called is the instruction at `pc` (for natives that print
    /// their place in the file, like xlog's `xlogl`).
    fn calling_at(&mut self, _pc: crate::Pc) {}
    /// `uri == myself`: whether the URI names this server (its listen addresses and aliases).
    fn is_myself(&mut self, uri: &str) -> bool;
    /// A native, a pseudo-variable read or an assignment failed at `pc`; the script goes on
    /// (the native gives -1, the read `$null`). The host logs it with its place and counts it.
    fn failed(&mut self, _prog: &Program, _pc: crate::Pc, _err: &HostError) {}
    /// A pseudo-variable a native asked to be assigned (its output argument: `$var(x)`
    /// included, which only the VM can write); the VM drains these after each call.
    fn take_pv_write(&mut self) -> Option<(PvIdx, Value)> {
        None
    }
    /// The value of a pseudo-variable argument the host cannot read itself (`$var`, `$rc`,
    /// one with transformations or a dynamic name), given before the native is called.
    fn pv_arg(&mut self, _pv: PvIdx, _v: Value) {}
    /// A statement is about to run (only on a VM with [`crate::Vm::set_trace`] on): the
    /// instruction at `pc`, in a run that started at route `entry` (Kamailio's cfgtrace).
    fn trace(&mut self, _prog: &Program, _entry: RouteIdx, _pc: Pc) {}
    /// Whether this host answers every native itself, implemented or not (a test double).
    /// The real host says no, so a declared-but-unimplemented native is a clear VM error.
    fn stands_in_for_natives(&self) -> bool {
        false
    }
}
