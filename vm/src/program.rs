//! A compiled program: code plus the tables its operands index.

use crate::op::*;
use crate::value::Value;
use regex::Regex;
use std::sync::Arc;

/// Kinds of route blocks. Natives declare in which kinds they may be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// `request_route` / `route` / `route[0]`.
    Request,
    /// `route[NAME]`, callable from any route; its checks use the kinds of its callers.
    Sub,
    /// Core `reply_route`.
    Reply,
    /// `onreply_route[NAME]`.
    OnReply,
    /// `failure_route[NAME]`.
    Failure,
    /// `branch_route[NAME]`.
    Branch,
    /// `onsend_route`.
    OnSend,
    /// `event_route[a:b]`.
    Event,
}

impl RouteKind {
    /// The keyword that opens such a block.
    pub fn keyword(self) -> &'static str {
        match self {
            RouteKind::Request => "request_route",
            RouteKind::Sub => "route",
            RouteKind::Reply => "reply_route",
            RouteKind::OnReply => "onreply_route",
            RouteKind::Failure => "failure_route",
            RouteKind::Branch => "branch_route",
            RouteKind::OnSend => "onsend_route",
            RouteKind::Event => "event_route",
        }
    }
}

/// A route block in the route table.
#[derive(Clone, Debug)]
pub struct RouteInfo {
    pub kind: RouteKind,
    /// Name as written (`""` for unnamed request/reply/onsend routes).
    pub name: Arc<str>,
    /// First instruction.
    pub entry: Pc,
    /// Registers the block uses (its frame size).
    pub nregs: u16,
}

/// Source position of an instruction, kept in a side table indexed by pc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Index into `Program::files`.
    pub file: u16,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// A `$var` slot: its name (slots are matched by name across reloads) and initial value.
#[derive(Clone, Debug)]
pub struct VarInfo {
    pub name: Arc<str>,
    pub init: Value,
}

/// A part of a string with embedded pseudo-variables (`"from $si to $ru"`).
#[derive(Clone, Debug)]
pub enum FmtPart {
    Lit(Arc<str>),
    Pv(PvIdx),
}

/// A string with embedded pseudo-variables; `text` is the source form.
#[derive(Clone, Debug)]
pub struct Fmt {
    pub text: Arc<str>,
    pub parts: Box<[FmtPart]>,
}

/// The inner name of a pseudo-variable: `$hdr(Via)` has `Static("Via")`,
/// `$sht(ipban=>$si)` has a `Dyn` name expanded at run time.
#[derive(Clone, Debug)]
pub enum PvName {
    None,
    Static(Arc<str>),
    Dyn(FmtIdx),
    /// The inner name is itself a pseudo-variable, compiled: `$T_req($fu)` reads `$fu` of
    /// another message. The host evaluates it; the VM passes no name.
    Pv(PvIdx),
}

/// The index of a pseudo-variable: `$hdr(Via)[1]`, `[-1]`, `[*]`, `[$var(i)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PvIndex {
    None,
    Int(i32),
    All,
    Dyn(PvIdx),
}

/// A resolved pseudo-variable reference. `class` is the registry id of its class (`ru`, `hdr`,
/// `sht`, ...); `class_name` is kept for listings and test hosts, never matched at run time.
#[derive(Clone, Debug)]
pub struct PvRef {
    pub class: u16,
    pub class_name: Arc<str>,
    pub name: PvName,
    pub index: PvIndex,
    /// Transformations applied after reading (`$(ru{uri.user})`); empty when none.
    pub trans: Option<TransIdx>,
    /// Source text, for listings and errors.
    pub text: Arc<str>,
}

/// A transformation's implementation, resolved when the program is compiled (the VM knows no
/// transformation by name): the input, never null, and the evaluated arguments. An error makes
/// the pseudo-variable read as null (T1).
pub type TransFn = fn(&Value, &[Value]) -> Result<Value, String>;

/// One transformation step: `{class.op,arg1,arg2}`.
#[derive(Clone, Debug)]
pub struct TransStep {
    /// `s`, `uri`, `param`, `nameaddr`, `tobody`; kept for listings.
    pub class: Arc<str>,
    /// `len`, `substr`, `user`, `value`, ...; kept for listings.
    pub op: Arc<str>,
    pub f: TransFn,
    pub args: Box<[TransArg]>,
}

/// An argument of a transformation.
#[derive(Clone, Debug)]
pub enum TransArg {
    Val(Value),
    Pv(PvIdx),
}

/// A native function used by the program. `id` is its position in the registry the program
/// was compiled against, so hosts dispatch without a name lookup.
#[derive(Clone, Debug)]
pub struct NativeRef {
    pub id: u16,
    pub module: Arc<str>,
    pub name: Arc<str>,
    /// False for natives declared but not yet implemented by sipvm.
    pub implemented: bool,
}

/// A native argument after compile-time fixup.
#[derive(Clone, Debug)]
pub enum Arg {
    /// A literal string or integer.
    Val(Value),
    /// A string with pseudo-variables, expanded at each call.
    Fmt(FmtIdx),
    /// A regex compiled at compile time.
    Regex(RegexIdx),
    /// A route named by the call (`t_on_failure("X")`).
    Route(RouteIdx),
    /// A writable pseudo-variable named by the call.
    Pv(PvIdx),
}

/// A compiled program. Immutable once built; shared behind `Arc` by every worker.
#[derive(Debug, Default)]
pub struct Program {
    pub code: Vec<Op>,
    /// Source position of each instruction (same length as `code`).
    pub spans: Vec<Span>,
    /// Source file names, indexed by `Span::file`.
    pub files: Vec<Arc<str>>,
    pub consts: Vec<Value>,
    pub vars: Vec<VarInfo>,
    pub pvs: Vec<PvRef>,
    pub fmts: Vec<Fmt>,
    pub regexes: Vec<Regex>,
    pub transforms: Vec<Box<[TransStep]>>,
    pub natives: Vec<NativeRef>,
    pub arglists: Vec<Box<[Arg]>>,
    pub routes: Vec<RouteInfo>,
    /// The core parameter `log_prefix`, a format expanded per message for its log lines.
    pub log_prefix: Option<FmtIdx>,
}

impl Program {
    /// The route of a kind and name (`""` for unnamed blocks).
    pub fn route(&self, kind: RouteKind, name: &str) -> Option<RouteIdx> {
        self.routes
            .iter()
            .position(|r| r.kind == kind && &*r.name == name)
            .map(|i| RouteIdx(i as u16))
    }

    /// The source position of an instruction.
    pub fn span(&self, pc: Pc) -> Option<(&str, Span)> {
        let s = *self.spans.get(pc.ix())?;
        Some((
            self.files.get(s.file as usize).map(|f| &**f).unwrap_or("?"),
            s,
        ))
    }
}

/// `PvRef::class` of `$var(name)` inside a format string or index; `index` holds
/// `PvIndex::Int(slot)` with the `$var` slot (expressions use `GetVar` instead).
pub const PV_CLASS_VAR: u16 = u16::MAX;
/// `PvRef::class` of `$rc` / `$retcode` / `$?` inside a format string.
pub const PV_CLASS_RC: u16 = u16::MAX - 1;
/// `PvRef::class` of `$null` inside a format string.
pub const PV_CLASS_NULL: u16 = u16::MAX - 2;
