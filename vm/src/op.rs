//! The instruction set. One enum, typed operands, one `match` in the dispatch loop.
//! `R[x]` is register x of the current route frame, `K[k]` the constant pool.

use std::fmt;

macro_rules! idx {
    ($(#[$m:meta])* $name:ident($t:ty)) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $t);
        impl $name {
            #[inline]
            pub fn ix(self) -> usize {
                self.0 as usize
            }
        }
    };
}

idx!(/// A register of the current route frame.
    Reg(u8));
idx!(/// Index into `Program::consts`.
    ConstIdx(u32));
idx!(/// Index into `Program::vars` (a `$var` slot).
    VarIdx(u16));
idx!(/// Index into `Program::pvs`.
    PvIdx(u32));
idx!(/// Index into `Program::fmts`.
    FmtIdx(u32));
idx!(/// Index into `Program::regexes`.
    RegexIdx(u32));
idx!(/// Index into `Program::transforms`.
    TransIdx(u32));
idx!(/// Index into `Program::natives`.
    NativeIdx(u16));
idx!(/// Index into `Program::arglists`.
    ArgsIdx(u32));
idx!(/// Index into `Program::routes`.
    RouteIdx(u16));
idx!(/// An instruction address.
    Pc(u32));

/// Binary operators. Typing follows Kamailio: `+`, `==`, `!=` and the comparisons take the type
/// of the left operand (a null left side takes the right side's type); arithmetic and bit
/// operators work on integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// String equality ignoring ASCII case (legacy `method == "..."`).
    EqNoCase,
    /// `=~` with a regex computed at run time (compiled then, extended and case-insensitive).
    MatchDyn,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum UnOp {
    /// Logical not of the truth value.
    Not,
    /// Integer negation.
    Neg,
    /// Bitwise not.
    BitNot,
    /// Length of the string form.
    Strlen,
    /// 1 when not null, else 0.
    Defined,
    /// 1 when null or the empty string (`strempty`).
    StrEmpty,
    /// `(int)` cast.
    ToInt,
    /// `(str)` cast.
    ToStr,
}

/// One instruction. `size_of::<Op>()` is pinned to 8 bytes by a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// No operation.
    Nop,
    /// `R[dst] := K[k]`
    Const { dst: Reg, k: ConstIdx },
    /// `R[dst] := v` (integer)
    Int { dst: Reg, v: i32 },
    /// `R[dst] := null`
    Null { dst: Reg },
    /// `R[dst] := R[src]`
    Move { dst: Reg, src: Reg },
    /// `R[dst] := $var[slot]`
    GetVar { dst: Reg, slot: VarIdx },
    /// `$var[slot] := R[src]`
    SetVar { slot: VarIdx, src: Reg },
    /// `R[dst] := host.get(P[pv])`, dynamic name and index parts evaluated first.
    GetPv { dst: Reg, pv: PvIdx },
    /// `host.set(P[pv], R[src])`; a null value deletes where the variable allows it.
    SetPv { pv: PvIdx, src: Reg },
    /// `R[dst] := $rc` (the last return code).
    GetRc { dst: Reg },
    /// `R[dst] := F[f]` expanded to a string.
    Format { dst: Reg, f: FmtIdx },
    /// `R[dst] := R[a] op R[b]`
    Bin { op: BinOp, dst: Reg, a: Reg, b: Reg },
    /// `R[dst] := op R[a]`
    Un { op: UnOp, dst: Reg, a: Reg },
    /// `R[dst] := (R[a] =~ RE[re])` as 1/0.
    MatchRe { dst: Reg, a: Reg, re: RegexIdx },
    /// `R[dst] := T[t](R[a])` (a chain of transformations).
    Trans { dst: Reg, a: Reg, t: TransIdx },
    /// `R[dst] := host.is_myself(R[a])` as 1/0 (`uri == myself`).
    Myself { dst: Reg, a: Reg },
    /// `pc := target`
    Jump { target: Pc },
    /// `if truth(R[cond]) pc := target`
    JumpIf { cond: Reg, target: Pc },
    /// `if !truth(R[cond]) pc := target`
    JumpIfNot { cond: Reg, target: Pc },
    /// `R[dst] := N[native](A[args])`; `$rc := R[dst]`; a 0 result ends the script.
    Call {
        dst: Reg,
        native: NativeIdx,
        args: ArgsIdx,
    },
    /// `R[dst] := route(RT[route])`; `$rc := R[dst]`; a 0 result ends the script.
    CallRoute { dst: Reg, route: RouteIdx },
    /// Return `R[src]` from the current route; `$rc := R[src]`; 0 ends the script.
    Return { src: Reg },
    /// End the script (`exit`).
    Exit,
    /// End the script and drop the message or reply (`drop`).
    Drop,
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}
