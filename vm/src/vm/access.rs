//! Operand access for the interpreter: native arguments, formats, pseudo-variables and
//! transformations.

use super::{bad, Vm, VmError, INLINE_ARGS, MAX_PV_NESTING};

/// What a failed native gives the script: Kamailio's generic error code.
pub const NATIVE_FAILED: i64 = -1;
use crate::host::{ArgValue, Host, Index, PvKey};
use crate::op::*;
use crate::program::{
    Arg, FmtPart, Program, PvIndex, PvName, TransArg, PV_CLASS_NULL, PV_CLASS_RC, PV_CLASS_VAR,
};
use crate::value::{compile_regex, Value};
use std::sync::Arc;

impl Vm {
    /// `=~` with a run-time pattern; the last compiled pattern is cached.
    pub(super) fn match_dyn(
        &mut self,
        x: &Value,
        pat: &Value,
        cur: usize,
    ) -> Result<bool, VmError> {
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

    pub(super) fn call<H: Host + ?Sized>(
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
        if !n.implemented && !host.stands_in_for_natives() {
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
        host.calling_at(Pc(cur as u32));
        let r = if list.len() <= INLINE_ARGS {
            let mut vals: [ArgValue<'_>; INLINE_ARGS] =
                std::array::from_fn(|_| ArgValue::Val(Value::Null));
            for (slot, a) in vals.iter_mut().zip(list.iter()) {
                *slot = self.arg(prog, host, a, cur)?;
            }
            host.call(prog, native, &vals[..list.len()])
        } else {
            let mut vals = Vec::with_capacity(list.len());
            for a in list.iter() {
                vals.push(self.arg(prog, host, a, cur)?);
            }
            host.call(prog, native, &vals)
        };
        // The native's output pseudo-variables, written even when it failed.
        while let Some((pv, v)) = host.take_pv_write() {
            self.write_pv(prog, host, pv, v, cur)?;
        }
        // A native that fails gives -1, as Kamailio's functions do: the script goes on (an
        // `if` takes its false branch) and the host logs and counts the error.
        Ok(r.unwrap_or_else(|err| {
            host.failed(prog, Pc(cur as u32), &err);
            NATIVE_FAILED
        }))
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
            Arg::Pv(p) => {
                // What the host cannot read itself ($var, $rc, transformations, dynamic
                // names or indexes) it is handed, for natives that read their argument.
                let r = prog
                    .pvs
                    .get(p.ix())
                    .ok_or_else(|| bad(cur, "pseudo-variable"))?;
                let vm_only = r.class >= PV_CLASS_NULL
                    || r.trans.is_some()
                    || matches!(r.name, PvName::Dyn(_))
                    || matches!(r.index, PvIndex::Dyn(_));
                if vm_only {
                    let v = self.read_pv(prog, host, *p, cur, 0).unwrap_or(Value::Null);
                    host.pv_arg(*p, v);
                }
                ArgValue::Pv(*p)
            }
        })
    }

    /// Expands a format of the program outside a script (the `log_prefix` of a message).
    pub fn expand<H: Host + ?Sized>(
        &mut self,
        prog: &Program,
        host: &mut H,
        f: FmtIdx,
    ) -> Result<Arc<str>, VmError> {
        self.sync_vars(prog);
        self.format(prog, host, f, 0, 0)
    }

    /// Expand a format string; a null pseudo-variable prints as `<null>` (N16).
    pub(super) fn format<H: Host + ?Sized>(
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
                    // A pv with transformations that gives null prints nothing (T1, T2).
                    Ok(Value::Null) if prog.pvs.get(p.ix()).is_some_and(|r| r.trans.is_some()) => {}
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
            PvName::None | PvName::Pv(_) => None,
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
    pub(super) fn read_pv<H: Host + ?Sized>(
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
        // `$var`/`$rc`/`$null` as the compiler encodes them (PV_CLASS_*); a `$var` without a
        // slot (a hand-built program) goes by its name.
        let v = match (r.class, r.index) {
            (PV_CLASS_VAR, PvIndex::Int(slot)) => {
                let v = self.vars.get(slot as usize);
                v.ok_or_else(|| bad(cur, "var slot"))?.clone()
            }
            (PV_CLASS_RC, _) => Value::Int(self.rc),
            (PV_CLASS_NULL, _) => Value::Null,
            (PV_CLASS_VAR, _) => {
                let name = self.pv_name(prog, host, &r.name, cur, depth)?;
                let n = name.as_deref().unwrap_or("");
                self.var(n).cloned().unwrap_or(Value::Int(0))
            }
            _ => {
                let name = self.pv_name(prog, host, &r.name, cur, depth)?;
                let index = self.pv_index(prog, host, r.index, cur, depth)?;
                let key = PvKey {
                    pv,
                    name: name.as_deref(),
                    index,
                };
                // A failed read is `$null` (Kamailio prints `<null>`), logged by the host.
                match host.get_pv_at(prog, key, Pc(cur as u32)) {
                    Ok(v) => v,
                    Err(err) => {
                        host.failed(prog, Pc(cur as u32), &err);
                        Value::Null
                    }
                }
            }
        };
        match r.trans {
            Some(t) => self.transform(prog, host, t, v, cur, depth),
            None => Ok(v),
        }
    }

    pub(super) fn write_pv<H: Host + ?Sized>(
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
        match (r.class, r.index) {
            (PV_CLASS_VAR, PvIndex::Int(slot)) => {
                let s = self.vars.get_mut(slot as usize);
                *s.ok_or_else(|| bad(cur, "var slot"))? = v.for_var();
                Ok(())
            }
            (PV_CLASS_RC | PV_CLASS_NULL, _) => Err(bad(cur, "read-only pseudo-variable")),
            (PV_CLASS_VAR, _) => {
                let name = self.pv_name(prog, host, &r.name, cur, 0)?;
                self.set_var(name.as_deref().unwrap_or(""), v);
                Ok(())
            }
            _ => {
                let name = self.pv_name(prog, host, &r.name, cur, 0)?;
                let index = self.pv_index(prog, host, r.index, cur, 0)?;
                let key = PvKey {
                    pv,
                    name: name.as_deref(),
                    index,
                };
                // A failed assignment is logged and the script goes on, as in Kamailio.
                if let Err(err) = host.set_pv(prog, key, v) {
                    host.failed(prog, Pc(cur as u32), &err);
                }
                Ok(())
            }
        }
    }

    /// Apply a chain of transformations; a failing step makes the value null (T1).
    pub(super) fn transform<H: Host + ?Sized>(
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
            // Every transformation of a null value is null (T2).
            if v.is_null() {
                return Ok(Value::Null);
            }
            match (step.f)(&v, &args[..step.args.len()]) {
                Ok(x) => v = x,
                Err(_) => return Ok(Value::Null),
            }
        }
        Ok(v)
    }
}
