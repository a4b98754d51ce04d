//! Instruction emission: registers, constants, jumps and their patching, the span side table.

use super::Ctx;
use crate::ast::Span;
use sipvm_vm::{ConstIdx, Op, Pc, Reg, Value};
use std::collections::HashMap;

#[derive(Default)]
pub(super) struct Emitter {
    next_reg: u16,
    pub max_reg: u16,
    span: sipvm_vm::Span,
    /// Pending `break` jumps of the enclosing `switch`/`while` blocks, innermost last.
    pub breaks: Vec<Vec<usize>>,
    consts: HashMap<ConstKey, ConstIdx>,
    pub reg_overflow: bool,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Int(i64),
    Str(String),
}

impl Ctx<'_> {
    /// Starts a route frame.
    pub(super) fn frame_start(&mut self) {
        self.em.next_reg = 0;
        self.em.max_reg = 0;
        self.em.breaks.clear();
    }

    /// Sets the source position for the instructions that follow.
    pub(super) fn at(&mut self, span: Span) {
        let l = self.loc.loc(span.0);
        self.em.span = sipvm_vm::Span {
            file: l.file,
            line: l.line,
            col: l.col,
        };
    }

    pub(super) fn emit(&mut self, op: Op) -> usize {
        self.prog.code.push(op);
        self.prog.spans.push(self.em.span);
        self.prog.code.len() - 1
    }

    pub(super) fn here(&self) -> Pc {
        Pc(self.prog.code.len() as u32)
    }

    /// Points the jump at `at` to `target`.
    pub(super) fn patch(&mut self, at: usize, target: Pc) {
        match &mut self.prog.code[at] {
            Op::Jump { target: t }
            | Op::JumpIf { target: t, .. }
            | Op::JumpIfNot { target: t, .. } => *t = target,
            other => unreachable!("patching a non-jump {other:?}"),
        }
    }

    pub(super) fn patch_here(&mut self, list: &[usize]) {
        let h = self.here();
        for &at in list {
            self.patch(at, h);
        }
    }

    pub(super) fn alloc(&mut self) -> Reg {
        let r = self.em.next_reg;
        if r > u8::MAX as u16 {
            self.em.reg_overflow = true;
            return Reg(u8::MAX);
        }
        self.em.next_reg += 1;
        self.em.max_reg = self.em.max_reg.max(self.em.next_reg);
        Reg(r as u8)
    }

    /// Registers in use; `release(mark)` frees everything allocated after it.
    pub(super) fn mark(&self) -> u16 {
        self.em.next_reg
    }

    pub(super) fn release(&mut self, mark: u16) {
        self.em.next_reg = mark;
    }

    pub(super) fn konst(&mut self, v: &Value) -> ConstIdx {
        let key = match v {
            Value::Int(i) => ConstKey::Int(*i),
            Value::Str(s) => ConstKey::Str(s.to_string()),
            Value::Null => ConstKey::Str("\0null".into()),
        };
        if let Some(k) = self.em.consts.get(&key) {
            return *k;
        }
        let k = ConstIdx(self.prog.consts.len() as u32);
        self.prog.consts.push(v.clone());
        self.em.consts.insert(key, k);
        k
    }

    /// `R[dst] := v`
    pub(super) fn load(&mut self, dst: Reg, v: &Value) {
        match v {
            Value::Null => self.emit(Op::Null { dst }),
            Value::Int(i) if i32::try_from(*i).is_ok() => self.emit(Op::Int { dst, v: *i as i32 }),
            _ => {
                let k = self.konst(v);
                self.emit(Op::Const { dst, k })
            }
        };
    }
}
