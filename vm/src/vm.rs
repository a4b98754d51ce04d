//! The per-worker interpreter: register windows, `$var` slots, `$rc`, the step budget.

mod access;
#[cfg(test)]
mod trace_tests;

use crate::host::Host;
use crate::op::*;
use crate::program::Program;
use crate::value::{Value, ValueError};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Instructions one message may execute before the VM gives up.
pub const DEFAULT_BUDGET: u64 = 1_000_000;
/// Nested `route()` calls allowed.
pub const MAX_DEPTH: usize = 100;
/// Nesting allowed when a pseudo-variable's name, index or transformation reads another one.
const MAX_PV_NESTING: u32 = 8;
/// Native arguments passed from the stack; longer lists use a heap vector.
const INLINE_ARGS: usize = 6;

/// How a script run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The entry route returned a non-zero code, or fell off its end (code 1).
    Return,
    /// `exit`.
    Exit,
    /// `drop`.
    Drop,
    /// A native, a sub-route or `return` gave 0, which ends the script like `exit` (N21).
    Stop,
}

/// The end of a run and the final `$rc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub end: End,
    pub rc: i64,
}

/// A run-time error; the script stops. Every variant carries the pc of the failing instruction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VmError {
    #[error("step budget of {budget} instructions exhausted (endless loop?)")]
    Budget { pc: Pc, budget: u64 },
    #[error("route calls nested deeper than {limit}")]
    Recursion { pc: Pc, limit: usize },
    #[error("{module}.{name}() is declared but not implemented by sipvm yet")]
    Unimplemented {
        pc: Pc,
        module: Arc<str>,
        name: Arc<str>,
    },
    #[error("{err}")]
    Value { pc: Pc, err: ValueError },
    #[error("malformed program: {what}")]
    BadProgram { pc: Pc, what: &'static str },
}

impl VmError {
    /// The instruction that failed.
    pub fn pc(&self) -> Pc {
        match self {
            VmError::Budget { pc, .. }
            | VmError::Recursion { pc, .. }
            | VmError::Unimplemented { pc, .. }
            | VmError::Value { pc, .. }
            | VmError::BadProgram { pc, .. } => *pc,
        }
    }

    /// `file:line:col` of the failing instruction, when the span table knows it.
    pub fn location(&self, prog: &Program) -> Option<String> {
        prog.span(self.pc())
            .map(|(f, s)| format!("{f}:{}:{}", s.line, s.col))
    }

    /// `file:line:col: message` (or `pc NNNN: message` without a span).
    pub fn render(&self, prog: &Program) -> String {
        match self.location(prog) {
            Some(l) => format!("{l}: {self}"),
            None => format!("pc {:04}: {self}", self.pc().0),
        }
    }
}

/// Operators `Value::int_binop` handles without allocation or failure.
#[inline(always)]
fn fast_int(op: BinOp) -> bool {
    !matches!(op, BinOp::Div | BinOp::Mod | BinOp::MatchDyn)
}

fn bad(pc: usize, what: &'static str) -> VmError {
    VmError::BadProgram {
        pc: Pc(pc as u32),
        what,
    }
}

/// The instructions that start a statement Kamailio's cfgtrace reports: calls, route calls,
/// assignments, `exit`/`drop`/`return`.
fn traced(op: &Op) -> bool {
    matches!(
        op,
        Op::Call { .. }
            | Op::CallRoute { .. }
            | Op::SetVar { .. }
            | Op::SetPv { .. }
            | Op::Exit
            | Op::Drop
            | Op::Return { .. }
    )
}

/// A suspended caller.
#[derive(Clone, Copy, Debug)]
struct Frame {
    base: usize,
    ret_pc: usize,
    dst: Reg,
}

/// One interpreter per worker. Reuse it for every message: `$var` slots persist on it.
#[derive(Debug)]
pub struct Vm {
    budget: u64,
    max_depth: usize,
    regs: Vec<Value>,
    frames: Vec<Frame>,
    /// `$var` values, in the slot order of `names`.
    vars: Vec<Value>,
    /// The slot names of the layout `vars` follows (clones of the program's `Arc`s).
    names: Vec<Arc<str>>,
    /// `$var`s the current program has no slot for, kept for a later program.
    parked: HashMap<Arc<str>, Value>,
    rc: i64,
    /// The last regex compiled at run time (`=~` with a dynamic right side).
    dyn_re: Option<(Arc<str>, Regex)>,
    buf: String,
    /// Call `Host::trace` before each traced statement (off: the loop tests one local).
    trace: bool,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

macro_rules! get {
    ($self:ident, $base:ident, $cur:ident, $r:expr) => {
        match $self.regs.get($base + $r.ix()) {
            Some(v) => v,
            None => return Err(bad($cur, "register outside the frame")),
        }
    };
}

macro_rules! set {
    ($self:ident, $base:ident, $cur:ident, $r:expr, $v:expr) => {
        match $self.regs.get_mut($base + $r.ix()) {
            Some(slot) => *slot = $v,
            None => return Err(bad($cur, "register outside the frame")),
        }
    };
}

impl Vm {
    pub fn new() -> Vm {
        Vm::with_budget(DEFAULT_BUDGET)
    }

    /// A VM that allows `budget` instructions per run.
    pub fn with_budget(budget: u64) -> Vm {
        Vm {
            budget,
            max_depth: MAX_DEPTH,
            regs: Vec::with_capacity(64),
            frames: Vec::with_capacity(8),
            vars: Vec::new(),
            names: Vec::new(),
            parked: HashMap::new(),
            rc: 1,
            dyn_re: None,
            buf: String::new(),
            trace: false,
        }
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
    }

    /// Change the route nesting limit (default `MAX_DEPTH`).
    pub fn set_max_depth(&mut self, depth: usize) {
        self.max_depth = depth;
    }

    /// Whether each statement is reported to the host first ([`Host::trace`]).
    pub fn set_trace(&mut self, on: bool) {
        self.trace = on;
    }

    pub fn tracing(&self) -> bool {
        self.trace
    }

    /// The last return code (`$rc`).
    pub fn rc(&self) -> i64 {
        self.rc
    }

    /// The value of `$var(name)` as the VM holds it now (slots of the last program run, then
    /// parked values); `None` when it was never set nor declared.
    pub fn var(&self, name: &str) -> Option<&Value> {
        match self.names.iter().position(|n| &**n == name) {
            Some(i) => self.vars.get(i),
            None => self.parked.get(name),
        }
    }

    /// Set `$var(name)` from outside a run (tests, RPC).
    pub fn set_var(&mut self, name: &str, v: Value) {
        match self.names.iter().position(|n| &**n == name) {
            Some(i) => self.vars[i] = v.for_var(),
            None => {
                self.parked.insert(Arc::from(name), v.for_var());
            }
        }
    }

    /// Forget every `$var`.
    pub fn clear_vars(&mut self) {
        self.vars.clear();
        self.names.clear();
        self.parked.clear();
    }

    /// Adopt `prog`'s `$var` layout. The check compares the slot names' `Arc` pointers with
    /// the clones held here, so it cannot be fooled by a reused address; on a change the
    /// values move by name and unknown names get the program's initial value.
    fn sync_vars(&mut self, prog: &Program) {
        if self.names.len() == prog.vars.len()
            && self
                .names
                .iter()
                .zip(&prog.vars)
                .all(|(a, b)| Arc::ptr_eq(a, &b.name))
        {
            return;
        }
        for (n, v) in self.names.drain(..).zip(self.vars.drain(..)) {
            self.parked.insert(n, v);
        }
        for vi in &prog.vars {
            let v = match self.parked.remove(&vi.name) {
                Some(v) => v,
                None => vi.init.clone().for_var(),
            };
            self.names.push(vi.name.clone());
            self.vars.push(v);
        }
    }

    /// Enters `route` from the instruction at `cur` (the caller's frame at `base`, going on
    /// at `pc` with the result in `dst`): the new frame's base and entry.
    #[inline(always)]
    fn enter(
        &mut self,
        prog: &Program,
        route: RouteIdx,
        base: usize,
        pc: usize,
        cur: usize,
        dst: Reg,
    ) -> Result<(usize, usize), VmError> {
        if self.frames.len() + 1 >= self.max_depth {
            return Err(VmError::Recursion {
                pc: Pc(cur as u32),
                limit: self.max_depth,
            });
        }
        let r = prog
            .routes
            .get(route.ix())
            .ok_or_else(|| bad(cur, "route"))?;
        if base + dst.ix() >= self.regs.len() {
            return Err(bad(cur, "register outside the frame"));
        }
        self.frames.push(Frame {
            base,
            ret_pc: pc,
            dst,
        });
        let base = self.regs.len();
        self.regs.resize(base + r.nregs as usize, Value::Null);
        Ok((base, r.entry.ix()))
    }

    /// Run `route` of `prog` for one message.
    pub fn run<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        route: RouteIdx,
        host: &mut H,
    ) -> Result<Outcome, VmError> {
        self.sync_vars(prog);
        self.regs.clear();
        self.frames.clear();
        let r = prog
            .routes
            .get(route.ix())
            .ok_or_else(|| bad(0, "no such route"))?;
        self.regs.resize(r.nregs as usize, Value::Null);
        let res = self.dispatch(prog, r.entry.ix(), route, host);
        self.regs.clear();
        self.frames.clear();
        res
    }

    fn dispatch<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        mut pc: usize,
        entry: RouteIdx,
        host: &mut H,
    ) -> Result<Outcome, VmError> {
        let code = &prog.code[..];
        let mut base = 0usize;
        let mut steps = self.budget;
        let tracing = self.trace;
        loop {
            let cur = pc;
            if steps == 0 {
                let pc = Pc(cur as u32);
                return Err(VmError::Budget {
                    pc,
                    budget: self.budget,
                });
            }
            steps -= 1;
            // Running past the end of the code is falling off the route: `return 1`.
            let op = match code.get(pc) {
                Some(op) => *op,
                None => Op::Return { src: Reg(u8::MAX) },
            };
            pc += 1;
            if tracing && traced(&op) {
                host.trace(prog, entry, Pc(cur as u32));
            }
            match op {
                Op::Nop => {}
                Op::Const { dst, k } => {
                    let v = prog
                        .consts
                        .get(k.ix())
                        .ok_or_else(|| bad(cur, "constant"))?;
                    set!(self, base, cur, dst, v.clone());
                }
                Op::Int { dst, v } => set!(self, base, cur, dst, Value::Int(v as i64)),
                Op::Null { dst } => set!(self, base, cur, dst, Value::Null),
                Op::Move { dst, src } => {
                    let v = get!(self, base, cur, src).clone();
                    set!(self, base, cur, dst, v);
                }
                Op::GetVar { dst, slot } => {
                    let v = self
                        .vars
                        .get(slot.ix())
                        .ok_or_else(|| bad(cur, "var slot"))?;
                    let v = v.clone();
                    set!(self, base, cur, dst, v);
                }
                Op::SetVar { slot, src } => {
                    let v = get!(self, base, cur, src).clone();
                    match self.vars.get_mut(slot.ix()) {
                        Some(s) => *s = v.for_var(),
                        None => return Err(bad(cur, "var slot")),
                    }
                }
                Op::GetPv { dst, pv } => {
                    let v = self.read_pv(prog, host, pv, cur, 0)?;
                    set!(self, base, cur, dst, v);
                }
                Op::SetPv { pv, src } => {
                    let v = get!(self, base, cur, src).clone();
                    self.write_pv(prog, host, pv, v, cur)?;
                }
                Op::GetRc { dst } => set!(self, base, cur, dst, Value::Int(self.rc)),
                Op::Format { dst, f } => {
                    let s = self.format(prog, host, f, cur, 0)?;
                    set!(self, base, cur, dst, Value::Str(s));
                }
                Op::Bin { op, dst, a, b } => {
                    let (x, y) = (get!(self, base, cur, a), get!(self, base, cur, b));
                    let v = match (op, x, y) {
                        (_, Value::Int(x), Value::Int(y)) if fast_int(op) => {
                            Value::int_binop(op, *x, *y)
                        }
                        (BinOp::MatchDyn, x, y) => {
                            let (x, y) = (x.clone(), y.clone());
                            Value::Int(self.match_dyn(&x, &y, cur)? as i64)
                        }
                        _ => Value::binop(op, x, y).map_err(|err| VmError::Value {
                            pc: Pc(cur as u32),
                            err,
                        })?,
                    };
                    set!(self, base, cur, dst, v);
                }
                Op::Un { op, dst, a } => {
                    let v = Value::unop(op, get!(self, base, cur, a));
                    set!(self, base, cur, dst, v);
                }
                Op::MatchRe { dst, a, re } => {
                    let re = prog.regexes.get(re.ix()).ok_or_else(|| bad(cur, "regex"))?;
                    let m = re.is_match(&get!(self, base, cur, a).to_str());
                    set!(self, base, cur, dst, Value::Int(m as i64));
                }
                Op::Trans { dst, a, t } => {
                    let v = get!(self, base, cur, a).clone();
                    let v = self.transform(prog, host, t, v, cur, 0)?;
                    set!(self, base, cur, dst, v);
                }
                Op::Myself { dst, a } => {
                    let m = host.is_myself(&get!(self, base, cur, a).to_str());
                    set!(self, base, cur, dst, Value::Int(m as i64));
                }
                Op::Jump { target } => pc = target.ix(),
                Op::JumpIf { cond, target } => {
                    if get!(self, base, cur, cond).truth() {
                        pc = target.ix();
                    }
                }
                Op::JumpIfNot { cond, target } => {
                    if !get!(self, base, cur, cond).truth() {
                        pc = target.ix();
                    }
                }
                Op::Call { dst, native, args } => {
                    let rc = self.call(prog, host, native, args, cur)?;
                    // A native that runs a route now: its result is the route's.
                    if let Some(route) = host.take_route_call() {
                        (base, pc) = self.enter(prog, route, base, pc, cur, dst)?;
                        continue;
                    }
                    self.rc = rc;
                    set!(self, base, cur, dst, Value::Int(rc));
                    if rc == 0 {
                        return Ok(Outcome { end: End::Stop, rc });
                    }
                }
                Op::CallRoute { dst, route } => {
                    (base, pc) = self.enter(prog, route, base, pc, cur, dst)?;
                }
                Op::Return { src } => {
                    // Falling off the end returns 1 (N19); a string return converts (N20).
                    let rc = if src.0 == u8::MAX && code.get(cur).is_none() {
                        1
                    } else {
                        get!(self, base, cur, src).to_int()
                    };
                    self.rc = rc;
                    if rc == 0 {
                        return Ok(Outcome { end: End::Stop, rc });
                    }
                    let Some(f) = self.frames.pop() else {
                        return Ok(Outcome {
                            end: End::Return,
                            rc,
                        });
                    };
                    self.regs.truncate(base);
                    base = f.base;
                    pc = f.ret_pc;
                    set!(self, base, cur, f.dst, Value::Int(rc));
                }
                Op::Exit => {
                    return Ok(Outcome {
                        end: End::Exit,
                        rc: self.rc,
                    })
                }
                Op::Drop => {
                    return Ok(Outcome {
                        end: End::Drop,
                        rc: self.rc,
                    })
                }
            }
        }
    }
}
