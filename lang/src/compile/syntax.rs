//! Parse errors → diagnostics.

use super::locs::Locator;
use crate::diag::Diagnostic;
use crate::lexer::{LexErr, LexError, Spanned, Tok};
use lalrpop_util::ParseError;

type PErr = ParseError<usize, Tok, LexErr>;

pub fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("identifier `{s}`"),
        Tok::Int(i) => format!("number `{i}`"),
        Tok::Ipv4(s) => format!("address `{s}`"),
        Tok::Str(s) => format!("string \"{}\"", s.escape_default()),
        Tok::Pv(s) => format!("pseudo-variable `{s}`"),
        Tok::Select(s) => format!("select `{s}`"),
        Tok::Global(g) => format!("parameter line `{} = ...`", g.name),
        Tok::Typo => "typographic quote".into(),
        other => {
            let s = format!("{other:?}");
            match keyword(other) {
                Some(k) => format!("`{k}`"),
                None => s,
            }
        }
    }
}

fn keyword(t: &Tok) -> Option<&'static str> {
    Some(match t {
        Tok::RequestRoute => "request_route",
        Tok::Route => "route",
        Tok::ReplyRoute => "reply_route",
        Tok::OnReplyRoute => "onreply_route",
        Tok::FailureRoute => "failure_route",
        Tok::BranchRoute => "branch_route",
        Tok::OnSendRoute => "onsend_route",
        Tok::EventRoute => "event_route",
        Tok::If => "if",
        Tok::Else => "else",
        Tok::Switch => "switch",
        Tok::Case => "case",
        Tok::Default => "default",
        Tok::Break => "break",
        Tok::While => "while",
        Tok::Return => "return",
        Tok::Exit => "exit",
        Tok::Drop => "drop",
        Tok::LoadModule => "loadmodule",
        Tok::LoadPath => "loadpath",
        Tok::ModParam => "modparam",
        Tok::ModKw => "mod",
        Tok::Strlen => "strlen",
        Tok::StrEmpty => "strempty",
        Tok::Defined => "defined",
        Tok::Myself => "myself",
        Tok::IntCast => "(int)",
        Tok::StrCast => "(str)",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::Semi => ";",
        Tok::Comma => ",",
        Tok::Colon => ":",
        Tok::Dot => ".",
        Tok::Assign => "=",
        Tok::PlusAssign => "+=",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::Match => "=~",
        Tok::NotMatch => "!~",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::BitOr => "|",
        Tok::BitAnd => "&",
        Tok::BitXor => "^",
        Tok::BitNot => "~",
        Tok::Shl => "<<",
        Tok::Shr => ">>",
        Tok::Not => "!",
        Tok::And => "&&",
        Tok::Or => "||",
        _ => return None,
    })
}

/// Turns one parse error into a diagnostic. `toks` is the token stream the parser read.
pub fn to_diag(e: &PErr, loc: &Locator, toks: &[Spanned]) -> Diagnostic {
    match e {
        ParseError::User { error } => lex_diag(error, loc),
        ParseError::InvalidToken { location } => {
            Diagnostic::error(Some(loc.loc(*location)), "invalid character")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let mut d = Diagnostic::error(Some(loc.loc(*location)), "unexpected end of file");
            if expected.iter().any(|x| x == "\"}\"") {
                d = d.with_hint("a block is not closed: missing '}'?");
            }
            d
        }
        ParseError::UnrecognizedToken {
            token: (s, t, e),
            expected,
        } => {
            if *t == Tok::Typo {
                return Diagnostic::error(Some(loc.loc(*s)), "typographic quote")
                    .with_hint("use plain ASCII double quotes (\") around strings");
            }
            let has = |w: &str| expected.iter().any(|x| x == w);
            let prev = prev_token(toks, *s);
            // `name = value` inside a route: only pseudo-variables can be assigned.
            if matches!(t, Tok::Assign | Tok::PlusAssign) {
                if let Some((ps, Tok::Ident(name), pe)) = prev {
                    return Diagnostic::error(
                        Some(loc.loc(ps)),
                        format!("cannot assign to `{name}`: only pseudo-variables can be assigned"),
                    )
                    .with_len(loc.width((ps, pe)))
                    .with_hint(format!("a script variable is written `$var({name})`"));
                }
            }
            if *t == Tok::Else {
                return Diagnostic::error(Some(loc.loc(*s)), "`else` without a matching `if`")
                    .with_len(4)
                    .with_hint("`else` must directly follow the statement or block of an `if`; is there a stray ';' or '}' before it?");
            }
            // `route[NAME] {` where a statement is expected: the block before it is not closed.
            if *t == Tok::LBracket {
                if let Some((ps, pt, pe)) = prev {
                    if is_route_keyword(pt) && !has("\"if\"") {
                        return Diagnostic::error(
                            Some(loc.loc(ps)),
                            format!("`{}` block inside another block", describe_kw(pt)),
                        )
                        .with_len(loc.width((ps, pe)))
                        .with_hint("a '}' is missing before it");
                    }
                }
            }
            // A missing ';' is best shown right after the previous token. When a statement
            // could start here, the previous one is complete and ';' is not what is missing.
            let wants_semi =
                has("\";\"") && !has("\"if\"") && !matches!(prev, Some((_, Tok::Semi, _)));
            if wants_semi && *t != Tok::Semi {
                if let Some(prev_end) = prev_token_end(toks, *s) {
                    return Diagnostic::error(
                        Some(loc.loc(prev_end)),
                        format!("expected ';' before {}", describe(t)),
                    )
                    .with_hint("statements end with ';'");
                }
            }
            let mut d = Diagnostic::error(Some(loc.loc(*s)), format!("unexpected {}", describe(t)))
                .with_len(loc.width((*s, *e)));
            let top_level = has("\"request_route\"");
            if let (true, Some((ps, Tok::RBrace, _))) = (top_level, prev) {
                let line = loc.loc(ps).line;
                d = d.with_hint(format!(
                    "the '}}' on line {line} closes the route block: one '}}' too many?"
                ));
            } else if has("\")\"") && matches!(t, Tok::LBrace | Tok::Semi) {
                d = d.with_hint("missing ')'?");
            } else if let Some(h) = expected_hint(expected) {
                d = d.with_hint(h);
            }
            d
        }
        ParseError::ExtraToken { token: (s, t, e) } => {
            Diagnostic::error(Some(loc.loc(*s)), format!("unexpected {}", describe(t)))
                .with_len(loc.width((*s, *e)))
        }
    }
}

/// Whether a token starts a route block.
fn is_route_keyword(t: &Tok) -> bool {
    matches!(
        t,
        Tok::RequestRoute
            | Tok::Route
            | Tok::ReplyRoute
            | Tok::OnReplyRoute
            | Tok::FailureRoute
            | Tok::BranchRoute
            | Tok::OnSendRoute
            | Tok::EventRoute
    )
}

fn describe_kw(t: &Tok) -> &'static str {
    keyword(t).unwrap_or("route")
}

/// The token before the one starting at `start`, if it lexed cleanly.
fn prev_token(toks: &[Spanned], start: usize) -> Option<(usize, &Tok, usize)> {
    let i = toks.partition_point(|t| match t {
        Ok((s, _, _)) => *s < start,
        Err(e) => e.start < start,
    });
    match toks.get(i.checked_sub(1)?)? {
        Ok((s, t, e)) => Some((*s, t, *e)),
        Err(_) => None,
    }
}

/// Whether a parse error is most likely a consequence of an earlier one: a '}' at top level
/// after a recovered error is the end of the block the recovery already closed.
pub fn is_cascade(e: &PErr) -> bool {
    matches!(e, ParseError::UnrecognizedToken { token: (_, Tok::RBrace, _), expected }
        if expected.iter().any(|x| x == "\"request_route\""))
}

fn prev_token_end(toks: &[Spanned], start: usize) -> Option<usize> {
    let i = toks.partition_point(|t| match t {
        Ok((s, _, _)) => *s < start,
        Err(e) => e.start < start,
    });
    let t = toks.get(i.checked_sub(1)?)?;
    Some(match t {
        Ok((_, _, e)) => *e,
        Err(e) => e.end,
    })
}

fn expected_hint(expected: &[String]) -> Option<String> {
    let names: Vec<String> = expected
        .iter()
        .map(|x| {
            let x = x.trim_matches('"').replace("\\\"", "");
            match x.as_str() {
                "Ident" => "a name".to_string(),
                "Int" => "a number".to_string(),
                "Str" => "a string".to_string(),
                "Pv" => "a pseudo-variable".to_string(),
                "Global" => "a parameter".to_string(),
                "Ipv4" | "Select" => String::new(),
                other => format!("'{other}'"),
            }
        })
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return None;
    }
    if names.len() > 6 {
        if expected.iter().any(|x| x == "\"request_route\"") {
            return Some("expected a parameter, loadmodule, modparam or a route block".to_string());
        }
        if expected.iter().any(|x| x == "Pv") && expected.iter().any(|x| x == "\"(\"") {
            return Some("expected an expression".to_string());
        }
        return None;
    }
    Some(format!("expected {}", names.join(", ")))
}

pub fn lex_diag(e: &LexErr, loc: &Locator) -> Diagnostic {
    let at = Some(loc.loc(e.start));
    match e.kind {
        LexError::UnterminatedString => {
            Diagnostic::error(at, "unterminated string").with_hint("add the closing quote")
        }
        LexError::UnterminatedComment => Diagnostic::error(at, "unterminated comment")
            .with_len(2)
            .with_hint("close it with */"),
        LexError::BadPv => Diagnostic::error(at, "malformed pseudo-variable")
            .with_hint("a pseudo-variable is $name, $name(inner) or $(name{transformation})"),
        LexError::BadNumber => Diagnostic::error(at, "number out of range"),
        LexError::Invalid => {
            let c = loc.text((e.start, e.end));
            Diagnostic::error(at, format!("invalid character `{c}`"))
        }
    }
}
