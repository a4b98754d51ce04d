//! The syntax tree. Spans are byte ranges in the preprocessed text.

/// A byte range in the preprocessed text.
pub type Span = (usize, usize);

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `name = value` or `group.name = value [desc "..."]`; the value is checked later.
    Global {
        name: String,
        name_span: Span,
        value_span: Span,
    },
    LoadModule {
        path: String,
        span: Span,
    },
    LoadPath {
        span: Span,
    },
    ModParam {
        module: (String, Span),
        param: (String, Span),
        value: (Lit, Span),
        span: Span,
    },
    Route(RouteBlock),
}

/// A literal argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Int(i64),
    Str(String),
    /// A bare word that is not a number keyword (an undefined `#!define`?).
    Word(String),
}

impl Lit {
    /// Kamailio's lexer reads `yes/on/true/enable` as 1 and `no/off/false/disable` as 0.
    pub fn word(w: String) -> Lit {
        match w.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" | "enable" => Lit::Int(1),
            "no" | "off" | "false" | "disable" => Lit::Int(0),
            _ => Lit::Word(w),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Request,
    Route,
    Reply,
    OnReply,
    Failure,
    Branch,
    OnSend,
    Event,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RouteBlock {
    pub kind: BlockKind,
    /// The name inside `[...]`, with its span; `None` for `request_route {`.
    pub name: Option<(String, Span)>,
    /// The keyword's span.
    pub span: Span,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    Assign {
        target: (String, Span),
        op: AssignOp,
        value: Expr,
    },
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Option<Vec<Stmt>>,
    },
    Switch {
        subject: Expr,
        cases: Vec<Case>,
    },
    While {
        cond: Expr,
        body: Vec<Stmt>,
    },
    Return(Option<Expr>),
    Exit(Option<Expr>),
    Drop,
    Break,
    Block(Vec<Stmt>),
    Empty,
    /// A statement the parser skipped after a syntax error.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `None` for `default:`.
    pub label: Option<CaseLabel>,
    pub span: Span,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CaseLabel {
    Int(i64),
    Str(String),
    /// `case /"re":`
    Regex(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    BitOr,
    BitAnd,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Match,
    NotMatch,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    BitNot,
    Strlen,
    StrEmpty,
    Defined,
    IntCast,
    StrCast,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    /// A string literal (adjacent literals already joined).
    Str(String),
    /// An IPv4 literal (`src_ip == 10.0.0.1`).
    Ip(String),
    /// A pseudo-variable as written (`$hdr(Via)[0]`, `$(ru{uri.user})`).
    Pv(String),
    /// `@cfg_get.group.name`
    Select(String),
    /// A bare identifier: a legacy name (`method`, `uri`, `src_ip`...) or an undefined name.
    Ident(String),
    Myself,
    Call {
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    RouteCall {
        name: String,
        name_span: Span,
    },
    Binary {
        op: BinaryOp,
        l: Box<Expr>,
        r: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        e: Box<Expr>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }
}
