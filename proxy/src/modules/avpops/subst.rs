//! Kamailio's sed-like `/re/replacement/flags` as avp_subst takes it: any separator but `\`;
//! flags `g` (every match), `i` (ignore case), `s` (`.` matches a newline); in the
//! replacement `\0`..`\9` are groups, `\n \r \t \\` characters, `\c` is `c`, and
//! pseudo-variables (`$rd`, `$avp(x)`) are read when the substitution runs.

use super::spec::{self, Operand};
use crate::host::Ctx;
use regex::{Regex, RegexBuilder};
use std::cell::RefCell;
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Group(usize),
    Pv(Operand),
}

#[derive(Debug)]
pub struct Subst {
    re: Regex,
    repl: Vec<Piece>,
    global: bool,
}

pub fn parse(expr: &str) -> Result<Subst, String> {
    let bad = |why: &str| format!("subst: {why} in \"{expr}\"");
    let mut chars = expr.char_indices();
    let sep = match chars.next() {
        Some((_, '\\')) | None => return Err(bad("invalid separator")),
        Some((_, c)) => c,
    };
    // The regex: up to the first separator not escaped.
    let body = &expr[sep.len_utf8()..];
    let mut end = None;
    let mut esc = false;
    for (i, c) in body.char_indices() {
        if esc {
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == sep {
            end = Some(i);
            break;
        }
    }
    let end = end.ok_or_else(|| bad("no separator after the regex"))?;
    let sep_s = sep.to_string();
    let re_text = body[..end].replace(&format!("\\{sep_s}"), &regex::escape(&sep_s));
    let rest = &body[end + sep.len_utf8()..];
    let mut repl = Vec::new();
    let mut lit = String::new();
    let mut it = rest.char_indices().peekable();
    let mut flags_at = None;
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => match it.next() {
                Some((_, d @ '0'..='9')) => {
                    if !lit.is_empty() {
                        repl.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    repl.push(Piece::Group(d as usize - '0' as usize));
                }
                Some((_, 'n')) => lit.push('\n'),
                Some((_, 'r')) => lit.push('\r'),
                Some((_, 't')) => lit.push('\t'),
                Some((_, o)) => lit.push(o),
                None => lit.push('\\'),
            },
            '$' => {
                let (op, after) = spec::operand(&rest[i..])?;
                if !lit.is_empty() {
                    repl.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                repl.push(Piece::Pv(op));
                let skip = rest.len() - after.len();
                while it.peek().is_some_and(|(j, _)| *j < skip) {
                    it.next();
                }
            }
            c if c == sep => {
                flags_at = Some(i + c.len_utf8());
                break;
            }
            c => lit.push(c),
        }
    }
    let flags_at = flags_at.ok_or_else(|| bad("missing separator after the replacement"))?;
    if !lit.is_empty() {
        repl.push(Piece::Lit(lit));
    }
    let (mut icase, mut newline, mut global) = (false, true, false);
    for f in rest[flags_at..].chars() {
        match f {
            'i' | 'I' => icase = true,
            's' | 'S' => newline = false,
            'g' | 'G' => global = true,
            o => return Err(bad(&format!("unknown flag {o:?}"))),
        }
    }
    let re = RegexBuilder::new(&re_text)
        .case_insensitive(icase)
        .multi_line(newline)
        .dot_matches_new_line(!newline)
        .build()
        .map_err(|e| bad(&format!("bad regular expression: {e}")))?;
    Ok(Subst { re, repl, global })
}

/// The expression, parsed once per worker (scripts repeat a few).
pub fn cached(expr: &str) -> Result<Arc<Subst>, String> {
    thread_local! {
        static CACHE: RefCell<Vec<(String, Arc<Subst>)>> = const { RefCell::new(Vec::new()) };
    }
    if let Some(s) = CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|(e, _)| e == expr)
            .map(|(_, s)| s.clone())
    }) {
        return Ok(s);
    }
    let s = Arc::new(parse(expr)?);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 64 {
            c.remove(0);
        }
        c.push((expr.to_string(), s.clone()));
    });
    Ok(s)
}

impl Subst {
    /// The text with the substitution applied, `None` when nothing matched.
    pub fn apply(&self, ctx: &mut Ctx<'_>, text: &str) -> Result<Option<String>, String> {
        let mut out = String::new();
        let mut last = 0;
        let mut any = false;
        for caps in self.re.captures_iter(text) {
            let m = caps.get(0).expect("group 0 always matches");
            any = true;
            out.push_str(&text[last..m.start()]);
            for p in &self.repl {
                match p {
                    Piece::Lit(l) => out.push_str(l),
                    Piece::Group(n) => {
                        if let Some(g) = caps.get(*n) {
                            out.push_str(g.as_str());
                        }
                    }
                    Piece::Pv(op) => out.push_str(&spec::read(ctx, op)?.to_str()),
                }
            }
            last = m.end();
            if !self.global {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        out.push_str(&text[last..]);
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let s = parse(r"/(.*)@(.*)/\1@$rd/").unwrap();
        assert_eq!(s.repl.len(), 3);
        assert!(!s.global);
        assert!(parse("/e/j/gi").unwrap().global);
        assert!(parse("/a/b").is_err());
        assert!(parse("/a/b/q").is_err());
        assert!(parse(r"\a\b\").is_err());
        assert!(parse("#x#y#").is_ok());
    }
}
