//! The lexer (logos) plus a small layer that groups top-level `name = value` lines into one
//! token, since Kamailio's global parameter values are free-form (`udp:1.2.3.4:5060`).

use logos::Logos;

/// A lexing error; the parser reports it at the token's span.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LexError {
    #[default]
    Invalid,
    UnterminatedString,
    UnterminatedComment,
    BadPv,
    BadNumber,
}

// Clippy takes logos' two `skip(..., allow_greedy = true)` attributes for duplicates.
#[allow(clippy::duplicated_attributes)]
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Tok {
    #[token("/*", block_comment)]
    Comment,

    #[token("request_route")]
    RequestRoute,
    #[token("route")]
    Route,
    #[token("reply_route")]
    ReplyRoute,
    #[token("onreply_route")]
    OnReplyRoute,
    #[token("failure_route")]
    FailureRoute,
    #[token("branch_route")]
    BranchRoute,
    #[token("onsend_route")]
    OnSendRoute,
    #[token("event_route")]
    EventRoute,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("switch")]
    Switch,
    #[token("case")]
    Case,
    #[token("default")]
    Default,
    #[token("break")]
    Break,
    #[token("while")]
    While,
    #[token("return")]
    Return,
    #[token("exit")]
    Exit,
    #[token("drop")]
    Drop,
    #[token("loadmodule")]
    LoadModule,
    #[token("loadpath")]
    #[token("mpath_add")]
    LoadPath,
    #[token("modparam")]
    ModParam,
    #[token("mod")]
    ModKw,
    #[token("strlen")]
    Strlen,
    #[token("strempty")]
    StrEmpty,
    #[token("defined")]
    Defined,
    #[token("myself")]
    Myself,
    #[regex(r"\([ \t]*int[ \t]*\)")]
    IntCast,
    #[regex(r"\([ \t]*str[ \t]*\)")]
    StrCast,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |l| l.slice().to_string())]
    Ident(String),
    #[regex(r"[0-9]+", |l| l.slice().parse::<i64>().map_err(|_| LexError::BadNumber))]
    #[regex(r"0[xX][0-9a-fA-F]+", |l| i64::from_str_radix(&l.slice()[2..], 16).map_err(|_| LexError::BadNumber))]
    Int(i64),
    #[regex(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", |l| l.slice().to_string())]
    Ipv4(String),
    #[token("\"", |l| string(l, b'"'))]
    #[token("'", |l| string(l, b'\''))]
    Str(String),
    #[token("$", pv)]
    Pv(String),
    #[regex(r"@[A-Za-z_][A-Za-z0-9_.]*", |l| l.slice().to_string())]
    Select(String),
    #[token("“")]
    #[token("”")]
    #[token("‘")]
    #[token("’")]
    Typo,

    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(";")]
    Semi,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("=")]
    Assign,
    #[token("+=")]
    PlusAssign,
    #[token("==")]
    Eq,
    #[token("!=")]
    Ne,
    #[token("=~")]
    Match,
    #[token("!~")]
    NotMatch,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("|")]
    BitOr,
    #[token("&")]
    BitAnd,
    #[token("^")]
    BitXor,
    #[token("~")]
    BitNot,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("!")]
    Not,
    #[token("&&")]
    And,
    #[token("||")]
    Or,

    /// A whole top-level `name = value` line (made by `Lexer`, not by logos):
    /// the name (`children`, `pstn.gw_ip`) and the raw value span.
    Global(GlobalLine),
}

/// A top-level parameter line: `name` and the byte span of the raw value text.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalLine {
    pub name: String,
    pub name_span: (usize, usize),
    pub value_span: (usize, usize),
}

fn block_comment(l: &mut logos::Lexer<Tok>) -> logos::FilterResult<(), LexError> {
    match l.remainder().find("*/") {
        Some(i) => {
            l.bump(i + 2);
            logos::FilterResult::Skip
        }
        None => {
            l.bump(l.remainder().len());
            logos::FilterResult::Error(LexError::UnterminatedComment)
        }
    }
}

fn string(l: &mut logos::Lexer<Tok>, quote: u8) -> Result<String, LexError> {
    let rest = l.remainder().as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        let c = rest[i];
        if c == quote {
            l.bump(i + 1);
            return String::from_utf8(out).map_err(|_| LexError::Invalid);
        }
        if c == b'\\' && i + 1 < rest.len() {
            let n = rest[i + 1];
            match n {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'"' => out.push(b'"'),
                b'\'' => out.push(b'\''),
                b'\n' => {}
                // Kamailio keeps unknown escapes as written (`\+` in regexes).
                _ => {
                    out.push(b'\\');
                    out.push(n);
                }
            }
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    // Point at the opening quote only.
    Err(LexError::UnterminatedString)
}

/// Scans a pseudo-variable after `$`: `$name`, `$name(inner)`, `$name(inner)[idx]`, `$(...)`.
fn pv(l: &mut logos::Lexer<Tok>) -> Result<String, LexError> {
    let rest = l.remainder().as_bytes();
    let mut i = 0;
    let name_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.';
    if rest.first() == Some(&b'?') {
        l.bump(1);
        return Ok("$?".into());
    }
    if rest.first() == Some(&b'(') {
        i = balanced(rest, 0).ok_or(LexError::BadPv)?;
    } else {
        while i < rest.len() && name_char(rest[i]) {
            i += 1;
        }
        // A name may not end in '.', which belongs to what follows.
        while i > 0 && rest[i - 1] == b'.' {
            i -= 1;
        }
        if i == 0 {
            return Err(LexError::BadPv);
        }
        if rest.get(i) == Some(&b'(') {
            i = balanced(rest, i).ok_or(LexError::BadPv)?;
        }
    }
    if rest.get(i) == Some(&b'[') {
        if let Some(j) = rest[i..].iter().position(|&c| c == b']') {
            i += j + 1;
        }
    }
    let s = std::str::from_utf8(&rest[..i]).map_err(|_| LexError::BadPv)?;
    let out = format!("${s}");
    l.bump(i);
    Ok(out)
}

/// End (exclusive) of the balanced parenthesised group starting at `start`, which also
/// balances `{}` and skips quoted text (for transformations).
fn balanced(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = start;
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == b'\\' {
                i += 1;
            } else if c == quote {
                quote = 0;
            }
        } else {
            match c {
                b'(' | b'{' => depth += 1,
                b')' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b'"' => quote = c,
                b'\n' => return None,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// A lexing error with its byte span.
#[derive(Clone, Debug, PartialEq)]
pub struct LexErr {
    pub kind: LexError,
    pub start: usize,
    pub end: usize,
}

/// Tokens with byte spans, as the parser takes them.
pub type Spanned = Result<(usize, Tok, usize), LexErr>;

/// Lexes the whole text, grouping top-level parameter lines.
pub fn lex(src: &str) -> Vec<Spanned> {
    let raw: Vec<Spanned> = Tok::lexer(src)
        .spanned()
        .map(|(r, s)| match r {
            Ok(t) => Ok((s.start, t, s.end)),
            Err(kind) => Err(LexErr {
                kind,
                start: s.start,
                end: s.end,
            }),
        })
        .collect();
    group_globals(src, raw)
}

fn line_of(src: &str, pos: usize) -> usize {
    src.as_bytes()[..pos.min(src.len())]
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
}

/// At brace depth 0, `IDENT [. IDENT] = tokens-on-the-same-line [;]` becomes one `Global`.
fn group_globals(src: &str, raw: Vec<Spanned>) -> Vec<Spanned> {
    let mut out = Vec::with_capacity(raw.len());
    let mut depth = 0i32;
    let mut i = 0;
    let tok = |j: usize| raw.get(j).and_then(|r| r.as_ref().ok());
    while i < raw.len() {
        if depth == 0 {
            if let Some((s, Tok::Ident(name), e)) = tok(i) {
                let (mut name, mut name_end, mut j) = (name.clone(), *e, i + 1);
                if let (Some((_, Tok::Dot, _)), Some((_, Tok::Ident(n2), e2))) =
                    (tok(j), tok(j + 1))
                {
                    name = format!("{name}.{n2}");
                    name_end = *e2;
                    j += 2;
                }
                if let Some((_, Tok::Assign, ae)) = tok(j) {
                    let line = line_of(src, *ae);
                    let vstart = *ae;
                    let mut vend = *ae;
                    let mut k = j + 1;
                    while let Some(r) = raw.get(k) {
                        let (ts, te, is_semi) = match r {
                            Ok((a, t, b)) => (*a, *b, *t == Tok::Semi),
                            Err(e) => (e.start, e.end, false),
                        };
                        if line_of(src, ts) != line {
                            break;
                        }
                        k += 1;
                        if is_semi {
                            break;
                        }
                        vend = te;
                    }
                    let value_start = src[vstart..vend]
                        .find(|c: char| !c.is_whitespace())
                        .map(|o| vstart + o)
                        .unwrap_or(vend);
                    out.push(Ok((
                        *s,
                        Tok::Global(GlobalLine {
                            name,
                            name_span: (*s, name_end),
                            value_span: (value_start, vend),
                        }),
                        vend.max(*ae),
                    )));
                    i = k;
                    continue;
                }
            }
        }
        match &raw[i] {
            Ok((_, Tok::LBrace, _)) => depth += 1,
            Ok((_, Tok::RBrace, _)) => depth = (depth - 1).max(0),
            _ => {}
        }
        out.push(raw[i].clone());
        i += 1;
    }
    out
}
