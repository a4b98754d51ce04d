//! Define expansion and subst application on code lines, with the column edits that let
//! the source map point back at the original text.

use super::engine::{Lex, Pp};
use super::text::{escape_dq, id_len, is_id_char, is_id_start, nchars, unescape_dq};
use super::ColEdit;
use crate::diag::FileId;

/// Nesting limit for a define whose value names another define.
const MAX_EXPAND_DEPTH: usize = 32;
/// Upper bound on the size of one expanded line, to stop exponential define blow-ups.
const MAX_LINE_EXPANSION: usize = 1 << 20;

/// Output built for one line.
pub(super) struct LineOut {
    pub(super) text: String,
    pub(super) edits: Vec<ColEdit>,
    /// Sum of (out_len - orig_len) over the edits so far.
    delta: i64,
}

impl LineOut {
    fn edit(&mut self, orig_col: u32, orig_len: u32, replacement: &str) {
        let out_len = nchars(replacement);
        let out_start = (orig_col as i64 + self.delta).max(0) as u32;
        self.edits.push(ColEdit {
            out_start,
            out_len,
            orig_col,
            orig_len,
        });
        self.delta += out_len as i64 - orig_len as i64;
        self.text.push_str(replacement);
    }
}

/// Tracks the char column of byte offsets in a line, moving forward only.
struct ColCounter<'s> {
    s: &'s str,
    byte: usize,
    col: u32,
}

impl ColCounter<'_> {
    fn at(&mut self, byte: usize) -> u32 {
        if byte < self.byte {
            self.byte = 0;
            self.col = 0;
        }
        self.col += nchars(&self.s[self.byte..byte]);
        self.byte = byte;
        self.col
    }
}

impl Pp<'_> {
    /// Expands defines outside strings and comments, applies subst rules inside strings.
    pub(super) fn expand_line(
        &mut self,
        file: FileId,
        no: u32,
        line: &str,
        lex: &mut Lex,
    ) -> LineOut {
        let mut lo = LineOut {
            text: String::with_capacity(line.len()),
            edits: Vec::new(),
            delta: 0,
        };
        let mut cc = ColCounter {
            s: line,
            byte: 0,
            col: 0,
        };
        let b = line.as_bytes();
        let mut i = 0;
        let mut copied = 0; // bytes of `line` already in lo.text
        let mut budget = MAX_LINE_EXPANSION;
        while i < b.len() {
            match *lex {
                Lex::Block(n) => {
                    if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        i += 2;
                        *lex = if n <= 1 { Lex::Code } else { Lex::Block(n - 1) };
                    } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        i += 2;
                        *lex = Lex::Block(n.saturating_add(1));
                    } else {
                        i += 1;
                    }
                }
                Lex::Dq | Lex::Sq => {
                    // Continuation of a string from an earlier line: no subst (see notes).
                    let q = if *lex == Lex::Dq { b'"' } else { b'\'' };
                    while i < b.len() {
                        if q == b'"' && b[i] == b'\\' {
                            i += 2;
                            continue;
                        }
                        if b[i] == q {
                            *lex = Lex::Code;
                            i += 1;
                            break;
                        }
                        i += 1;
                    }
                    i = i.min(b.len());
                }
                Lex::Code => {
                    let c = b[i];
                    if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
                        break;
                    }
                    if c == b'/' && b.get(i + 1) == Some(&b'*') {
                        self.open_at = (no, cc.at(i));
                        *lex = Lex::Block(1);
                        i += 2;
                    } else if c == b'"' || c == b'\'' {
                        let start = i;
                        let mut j = i + 1;
                        let mut closed = false;
                        while j < b.len() {
                            if c == b'"' && b[j] == b'\\' {
                                j += 2;
                                continue;
                            }
                            if b[j] == c {
                                closed = true;
                                break;
                            }
                            j += 1;
                        }
                        if !closed {
                            self.open_at = (no, cc.at(start));
                            *lex = if c == b'"' { Lex::Dq } else { Lex::Sq };
                            i = b.len();
                            continue;
                        }
                        let end = j + 1;
                        if !self.substs.is_empty() {
                            let inner = &line[start + 1..j];
                            let val: std::borrow::Cow<str> = if c == b'"' && inner.contains('\\') {
                                unescape_dq(inner).into()
                            } else {
                                inner.into()
                            };
                            let mut cur: Option<String> = None;
                            for r in &self.substs {
                                if let Some(n) = r.apply(cur.as_deref().unwrap_or(&val)) {
                                    cur = Some(n);
                                }
                            }
                            if let Some(cur) = cur.filter(|c| **c != *val) {
                                let lit = escape_dq(&cur);
                                lo.text.push_str(&line[copied..start]);
                                let col = cc.at(start);
                                let olen = nchars(&line[start..end]);
                                lo.edit(col, olen, &lit);
                                copied = end;
                            }
                        }
                        i = end;
                    } else if c == b'$' {
                        // A pseudo-variable: `$name`, `$name(...)`, `$(...)`; never expanded.
                        i = skip_pv(b, i);
                    } else if c == b'@' {
                        // A select (`@ruri.user`, `@hf_value["x"]`): names there are not expanded.
                        i += 1;
                        i += b[i..]
                            .iter()
                            .take_while(|&&x| is_id_char(x) || x == b'.' || x == b'[' || x == b']')
                            .count();
                    } else if c.is_ascii_digit() {
                        i += b[i..].iter().take_while(|&&x| is_id_char(x)).count();
                    } else if is_id_start(c) {
                        let n = id_len(&line[i..]);
                        let name = &line[i..i + n];
                        if self.defines.contains_key(name) {
                            let mut exp = String::new();
                            let mut stack = vec![name.to_string()];
                            if let Err(msg) =
                                self.expand_define(name, &mut exp, &mut stack, &mut budget)
                            {
                                let col = cc.at(i);
                                self.err(file, no, col, nchars(name), msg).hint =
                                    Some("a define whose value names itself, directly or through others, never ends".into());
                                i += n;
                                continue;
                            }
                            budget = budget.saturating_sub(exp.len());
                            lo.text.push_str(&line[copied..i]);
                            let col = cc.at(i);
                            lo.edit(col, nchars(name), &exp);
                            copied = i + n;
                        }
                        i += n;
                    } else {
                        i += 1;
                        while i < b.len() && !line.is_char_boundary(i) {
                            i += 1;
                        }
                    }
                }
            }
        }
        lo.text.push_str(&line[copied.min(line.len())..]);
        lo
    }

    /// Appends the expansion of define `name` to `out`, expanding defines in its value.
    fn expand_define(
        &self,
        name: &str,
        out: &mut String,
        stack: &mut Vec<String>,
        budget: &mut usize,
    ) -> Result<(), String> {
        let Some(Some(value)) = self.defines.get(name) else {
            return Ok(());
        };
        if stack.len() > MAX_EXPAND_DEPTH {
            return Err(format!(
                "define {} expands recursively (more than {MAX_EXPAND_DEPTH} levels)",
                stack[0]
            ));
        }
        let v = value.as_str();
        let b = v.as_bytes();
        let mut i = 0;
        let mut copied = 0;
        let mut lex = Lex::Code;
        while i < b.len() {
            let c = b[i];
            match lex {
                Lex::Code => {
                    if c == b'"' || c == b'\'' {
                        lex = if c == b'"' { Lex::Dq } else { Lex::Sq };
                        i += 1;
                    } else if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
                        break;
                    } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
                        lex = Lex::Block(1);
                        i += 2;
                    } else if c == b'$' {
                        i = skip_pv(b, i);
                    } else if c.is_ascii_digit() {
                        i += b[i..].iter().take_while(|&&x| is_id_char(x)).count();
                    } else if is_id_start(c) {
                        let n = id_len(&v[i..]);
                        let inner = &v[i..i + n];
                        if self.defines.contains_key(inner) {
                            out.push_str(&v[copied..i]);
                            stack.push(inner.to_string());
                            self.expand_define(inner, out, stack, budget)?;
                            stack.pop();
                            copied = i + n;
                        }
                        i += n;
                    } else {
                        i += 1;
                        while i < b.len() && !v.is_char_boundary(i) {
                            i += 1;
                        }
                    }
                }
                Lex::Dq | Lex::Sq => {
                    let q = if lex == Lex::Dq { b'"' } else { b'\'' };
                    if q == b'"' && c == b'\\' {
                        i += 2;
                    } else {
                        if c == q {
                            lex = Lex::Code;
                        }
                        i += 1;
                    }
                }
                Lex::Block(_) => {
                    if c == b'*' && b.get(i + 1) == Some(&b'/') {
                        lex = Lex::Code;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
        }
        let tail = &v[copied.min(v.len())..];
        if out.len() + tail.len() > *budget {
            return Err(format!(
                "define {} expands to more than {} bytes",
                stack[0], MAX_LINE_EXPANSION
            ));
        }
        out.push_str(tail);
        if out.len() > *budget {
            return Err(format!(
                "define {} expands to more than {} bytes",
                stack[0], MAX_LINE_EXPANSION
            ));
        }
        Ok(())
    }
}

/// End of the pseudo-variable whose `$` is at `i`: `$name`, then a balanced `(...)` if one
/// follows (`$var(x)`, `$(ru{uri.user})`). Defines are never expanded inside it.
fn skip_pv(b: &[u8], mut i: usize) -> usize {
    i += 1;
    if b.get(i).is_some_and(|&c| is_id_start(c)) {
        i += b[i..].iter().take_while(|&&c| is_id_char(c)).count();
    }
    if b.get(i) == Some(&b'(') {
        let mut nest = 0usize;
        while i < b.len() {
            match b[i] {
                b'(' => nest += 1,
                b')' => {
                    nest -= 1;
                    if nest == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    i
}
