//! The per-worker interpreter: register windows, `$var` slots, `$rc`, the step budget.

use crate::host::{ArgValue, Host, HostError, Index, PvKey};
use crate::op::*;
use crate::program::{Arg, FmtPart, Program, PvIndex, PvName, TransArg};
use crate::trans;
use crate::value::{compile_regex, Value, ValueError};
use regex::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Instructions one message may execute before the VM gives up.
pub const DEFAULT_BUDGET: u64 = 1_000_000;
/// Nested `route()` calls allowed (Kamailio's `max_recursive_level` default).
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
    Host { pc: Pc, err: HostError },
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
            | VmError::Host { pc, .. }
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

fn bad(pc: usize, what: &'static str) -> VmError {
    VmError::BadProgram {
        pc: Pc(pc as u32),
        what,
    }
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
        let res = self.dispatch(prog, r.entry.ix(), host);
        self.regs.clear();
        self.frames.clear();
        res
    }

    fn dispatch<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        mut pc: usize,
        host: &mut H,
    ) -> Result<Outcome, VmError> {
        let code = &prog.code[..];
        let mut base = 0usize;
        let mut steps = self.budget;
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
                    self.rc = rc;
                    set!(self, base, cur, dst, Value::Int(rc));
                    if rc == 0 {
                        return Ok(Outcome { end: End::Stop, rc });
                    }
                }
                Op::CallRoute { dst, route } => {
                    if self.frames.len() + 1 >= self.max_depth {
                        let pc = Pc(cur as u32);
                        return Err(VmError::Recursion {
                            pc,
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
                    base = self.regs.len();
                    self.regs.resize(base + r.nregs as usize, Value::Null);
                    pc = r.entry.ix();
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

    /// `=~` with a run-time pattern; the last compiled pattern is cached.
    fn match_dyn(&mut self, x: &Value, pat: &Value, cur: usize) -> Result<bool, VmError> {
        let p = pat.to_str();
        let hit = matches!(&self.dyn_re, Some((q, _)) if **q == *p);
        if !hit {
            let re = compile_regex(&p).map_err(|err| VmError::Value {
                pc: Pc(cur as u32),
                err,
            })?;
            self.dyn_re = Some((Arc::from(&*p), re));
        }
        let re = &self.dyn_re.as_ref().expect("just set").1;
        Ok(re.is_match(&x.to_str()))
    }

    fn call<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        native: NativeIdx,
        args: ArgsIdx,
        cur: usize,
    ) -> Result<i64, VmError> {
        let n = prog
            .natives
            .get(native.ix())
            .ok_or_else(|| bad(cur, "native"))?;
        if !n.implemented {
            let (module, name) = (n.module.clone(), n.name.clone());
            return Err(VmError::Unimplemented {
                pc: Pc(cur as u32),
                module,
                name,
            });
        }
        let list = prog
            .arglists
            .get(args.ix())
            .ok_or_else(|| bad(cur, "argument list"))?;
        let host_err = |err| VmError::Host {
            pc: Pc(cur as u32),
            err,
        };
        if list.len() <= INLINE_ARGS {
            let mut vals: [ArgValue<'_>; INLINE_ARGS] =
                std::array::from_fn(|_| ArgValue::Val(Value::Null));
            for (slot, a) in vals.iter_mut().zip(list.iter()) {
                *slot = self.arg(prog, host, a, cur)?;
            }
            host.call(prog, native, &vals[..list.len()])
                .map_err(host_err)
        } else {
            let mut vals = Vec::with_capacity(list.len());
            for a in list.iter() {
                vals.push(self.arg(prog, host, a, cur)?);
            }
            host.call(prog, native, &vals).map_err(host_err)
        }
    }

    fn arg<'p, H: Host + ?Sized>(
        &mut self,
        prog: &'p Program,
        host: &mut H,
        a: &Arg,
        cur: usize,
    ) -> Result<ArgValue<'p>, VmError> {
        Ok(match a {
            Arg::Val(v) => ArgValue::Val(v.clone()),
            Arg::Fmt(f) => ArgValue::Val(Value::Str(self.format(prog, host, *f, cur, 0)?)),
            Arg::Regex(r) => {
                ArgValue::Regex(prog.regexes.get(r.ix()).ok_or_else(|| bad(cur, "regex"))?)
            }
            Arg::Route(r) => ArgValue::Route(*r),
            Arg::Pv(p) => ArgValue::Pv(*p),
        })
    }

    /// Expand a format string; a null pseudo-variable prints as `<null>` (N16).
    fn format<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        f: FmtIdx,
        cur: usize,
        depth: u32,
    ) -> Result<Arc<str>, VmError> {
        let fmt = prog.fmts.get(f.ix()).ok_or_else(|| bad(cur, "format"))?;
        if let [FmtPart::Lit(s)] = &fmt.parts[..] {
            return Ok(s.clone());
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        for part in fmt.parts.iter() {
            match part {
                FmtPart::Lit(s) => buf.push_str(s),
                FmtPart::Pv(p) => match self.read_pv(prog, host, *p, cur, depth + 1) {
                    Ok(v) => v.write_xlog(&mut buf),
                    Err(e) => {
                        self.buf = buf;
                        return Err(e);
                    }
                },
            }
        }
        let s = Arc::from(&*buf);
        self.buf = buf;
        Ok(s)
    }

    /// The inner name of a pseudo-variable, expanded when dynamic.
    fn pv_name<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        name: &PvName,
        cur: usize,
        depth: u32,
    ) -> Result<Option<Arc<str>>, VmError> {
        Ok(match name {
            PvName::None => None,
            PvName::Static(s) => Some(s.clone()),
            PvName::Dyn(f) => Some(self.format(prog, host, *f, cur, depth + 1)?),
        })
    }

    fn pv_index<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        index: PvIndex,
        cur: usize,
        depth: u32,
    ) -> Result<Option<Index>, VmError> {
        Ok(match index {
            PvIndex::None => None,
            PvIndex::Int(i) => Some(Index::At(i as i64)),
            PvIndex::All => Some(Index::All),
            PvIndex::Dyn(p) => Some(Index::At(
                self.read_pv(prog, host, p, cur, depth + 1)?.to_int(),
            )),
        })
    }

    /// Read a pseudo-variable: `$var`, `$rc`/`$retcode`/`$?` and `$null` here, the rest
    /// through the host; then its transformations.
    fn read_pv<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        pv: PvIdx,
        cur: usize,
        depth: u32,
    ) -> Result<Value, VmError> {
        if depth > MAX_PV_NESTING {
            return Err(bad(cur, "pseudo-variables nested too deep"));
        }
        let r = prog
            .pvs
            .get(pv.ix())
            .ok_or_else(|| bad(cur, "pseudo-variable"))?;
        let name = self.pv_name(prog, host, &r.name, cur, depth)?;
        let v = match &*r.class_name {
            "var" => {
                let n = name.as_deref().unwrap_or("");
                self.var(n).cloned().unwrap_or(Value::Int(0))
            }
            "rc" | "retcode" | "?" => Value::Int(self.rc),
            "null" => Value::Null,
            _ => {
                let index = self.pv_index(prog, host, r.index, cur, depth)?;
                let key = PvKey {
                    pv,
                    name: name.as_deref(),
                    index,
                };
                host.get_pv(prog, key).map_err(|err| VmError::Host {
                    pc: Pc(cur as u32),
                    err,
                })?
            }
        };
        match r.trans {
            Some(t) => self.transform(prog, host, t, v, cur, depth),
            None => Ok(v),
        }
    }

    fn write_pv<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        pv: PvIdx,
        v: Value,
        cur: usize,
    ) -> Result<(), VmError> {
        let r = prog
            .pvs
            .get(pv.ix())
            .ok_or_else(|| bad(cur, "pseudo-variable"))?;
        let name = self.pv_name(prog, host, &r.name, cur, 0)?;
        match &*r.class_name {
            "var" => {
                self.set_var(name.as_deref().unwrap_or(""), v);
                Ok(())
            }
            "rc" | "retcode" | "?" | "null" => Err(bad(cur, "read-only pseudo-variable")),
            _ => {
                let index = self.pv_index(prog, host, r.index, cur, 0)?;
                let key = PvKey {
                    pv,
                    name: name.as_deref(),
                    index,
                };
                host.set_pv(prog, key, v).map_err(|err| VmError::Host {
                    pc: Pc(cur as u32),
                    err,
                })
            }
        }
    }

    /// Apply a chain of transformations; a failing step makes the value null (T1).
    fn transform<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        t: TransIdx,
        mut v: Value,
        cur: usize,
        depth: u32,
    ) -> Result<Value, VmError> {
        let steps = prog
            .transforms
            .get(t.ix())
            .ok_or_else(|| bad(cur, "transformation"))?;
        for step in steps.iter() {
            let mut args: [Value; 4] = Default::default();
            if step.args.len() > args.len() {
                return Err(bad(cur, "too many transformation arguments"));
            }
            for (slot, a) in args.iter_mut().zip(step.args.iter()) {
                *slot = match a {
                    TransArg::Val(x) => x.clone(),
                    TransArg::Pv(p) => self.read_pv(prog, host, *p, cur, depth + 1)?,
                };
            }
            match trans::apply(step, &v, &args[..step.args.len()]) {
                Ok(x) => v = x,
                Err(_) => return Ok(Value::Null),
            }
        }
        Ok(v)
    }
}
