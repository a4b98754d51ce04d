//! The preprocessor proper: a line-oriented pass over the main file and its includes.
//!
//! Every input line yields exactly one output line (directive lines and lines in false
//! conditionals become empty), so line numbers map 1:1 within a file. Define expansion and
//! `#!subst` rewriting record [`ColEdit`]s so columns map back too. See `docs/_pp-notes.md`
//! for the Kamailio 5.6 behaviours this follows.

use super::*;
use std::collections::HashMap;
use std::path::PathBuf;

/// Nesting limit for a define whose value names another define.
const MAX_EXPAND_DEPTH: usize = 32;
/// Upper bound on the size of one expanded line, to stop exponential define blow-ups.
const MAX_LINE_EXPANSION: usize = 1 << 20;
/// Upper bound on `#!if*` nesting (Kamailio's MAX_IFDEFS).
const MAX_IFDEFS: usize = 512;

/// Directive words accepted after `#!` / `!!`, for "did you mean" hints.
const DIRECTIVES: &[&str] = &[
    "KAMAILIO",
    "SER",
    "OPENSER",
    "ALL",
    "MAXCOMPAT",
    "define",
    "def",
    "trydef",
    "trydefine",
    "redefine",
    "redef",
    "undef",
    "ifdef",
    "ifndef",
    "else",
    "endif",
    "subst",
    "substdef",
    "substdefs",
    "defenv",
    "defenvs",
    "trydefenv",
    "trydefenvs",
    "include_file",
    "import_file",
];

pub(super) fn run_file(
    path: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    match loader.load(Path::new(path)) {
        Ok(t) => run_str(path, &t, sources, opts, loader),
        Err(e) => (
            PpOutput::default(),
            vec![Diagnostic::error(
                None,
                format!("cannot open config file \"{path}\": {}", io_msg(&e)),
            )],
        ),
    }
}

pub(super) fn run_str(
    name: &str,
    text: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    let file = sources.add(name, text);
    let mut pp = Pp {
        sources,
        opts,
        loader,
        defines: HashMap::new(),
        substs: Vec::new(),
        conds: Vec::new(),
        out: PpOutput::default(),
        diags: Vec::new(),
        open_at: (0, 0),
    };
    for (n, v) in &opts.defines {
        pp.defines.insert(n.clone(), v.clone());
    }
    pp.process(file, name, text, 0);
    for c in std::mem::take(&mut pp.conds) {
        pp.diags.push(
            Diagnostic::error(Some(c.loc), format!("#!{} without #!endif", c.word))
                .with_len(c.word.len() as u32 + 2)
                .with_hint("add a matching #!endif"),
        );
    }
    pp.out.defines = pp.defines.into_iter().collect();
    (pp.out, pp.diags)
}

/// The io error text without the "(os error N)" suffix.
fn io_msg(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return "No such file or directory".into();
    }
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// One open `#!ifdef`/`#!ifndef`.
struct Cond {
    /// Whether the enclosing text is active.
    parent: bool,
    /// Whether the current branch is taken.
    taking: bool,
    elses: u32,
    loc: Loc,
    word: &'static str,
}

/// Lexical state carried from one line to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lex {
    Code,
    /// Inside `"..."`.
    Dq,
    /// Inside `'...'`.
    Sq,
    /// Inside `/* */`, with nesting depth (Kamailio nests block comments).
    Block(u32),
}

/// A `#!subst` rule.
struct Subst {
    re: regex::Regex,
    repl: Vec<ReplPart>,
    global: bool,
    /// Whether the replacement uses `\1`..`\9` (needs capture groups).
    groups: bool,
}

enum ReplPart {
    Lit(String),
    Group(usize),
}

impl Subst {
    /// Applies the rule; `None` if it did not match.
    fn apply(&self, s: &str) -> Option<String> {
        // Fast rejection without capture groups: most strings match no rule.
        self.re.find(s)?;
        let mut out = String::with_capacity(s.len() + 16);
        let mut last = 0;
        if !self.groups {
            for x in self.re.find_iter(s) {
                out.push_str(&s[last..x.start()]);
                for p in &self.repl {
                    match p {
                        ReplPart::Lit(t) => out.push_str(t),
                        ReplPart::Group(_) => out.push_str(x.as_str()),
                    }
                }
                last = x.end();
                if !self.global {
                    break;
                }
            }
            out.push_str(&s[last..]);
            return Some(out);
        }
        for caps in self.re.captures_iter(s) {
            let m = caps.get(0)?;
            out.push_str(&s[last..m.start()]);
            for p in &self.repl {
                match p {
                    ReplPart::Lit(t) => out.push_str(t),
                    ReplPart::Group(g) => {
                        if let Some(x) = caps.get(*g) {
                            out.push_str(x.as_str());
                        }
                    }
                }
            }
            last = m.end();
            if !self.global {
                break;
            }
        }
        out.push_str(&s[last..]);
        Some(out)
    }
}

struct Pp<'a> {
    sources: &'a mut Sources,
    opts: &'a PpOptions,
    loader: &'a dyn Loader,
    defines: HashMap<String, Option<String>>,
    substs: Vec<Subst>,
    conds: Vec<Cond>,
    out: PpOutput,
    diags: Vec<Diagnostic>,
    /// Line and 0-based column where the last string or block comment opened.
    open_at: (u32, u32),
}

fn is_id_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length in bytes of the identifier at the start of `s` (0 if none).
fn id_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first().is_none_or(|&c| !is_id_start(c)) {
        return 0;
    }
    b.iter().take_while(|&&c| is_id_char(c)).count()
}

fn nchars(s: &str) -> u32 {
    s.chars().count() as u32
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x08)
}

fn trim_blank(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\u{8}'])
}

fn trim_blank_start(s: &str) -> &str {
    s.trim_start_matches([' ', '\t', '\r', '\u{8}'])
}

/// True if `rest` holds only blanks or a trailing comment.
fn only_comment(rest: &str) -> bool {
    let r = trim_blank(rest);
    r.is_empty() || r.starts_with('#') || r.starts_with("//")
}

/// Undoes Kamailio's double-quoted string escapes.
fn unescape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('\n') => {}
            Some('x') if it.peek().is_some_and(|c| c.is_ascii_hexdigit()) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('?'));
            }
            Some(d @ '0'..='7') if it.peek().is_some_and(|c| ('0'..='7').contains(c)) => {
                let mut v = d.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(x) => {
                            v = v * 8 + x;
                            it.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('?'));
            }
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Writes `s` as a double-quoted literal that Kamailio's lexer reads back as `s`.
fn escape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits `s` at the first unescaped `sep` (Kamailio: a separator not preceded by `\`).
fn split_unescaped(s: &str, sep: char) -> Option<(&str, &str)> {
    let mut prev = None;
    for (i, c) in s.char_indices() {
        if c == sep && prev != Some('\\') {
            return Some((&s[..i], &s[i + c.len_utf8()..]));
        }
        prev = Some(c);
    }
    None
}

/// Parses `<sep>re<sep>repl<sep>flags` into a rule, plus the raw regex and replacement text.
fn parse_subst(expr: &str) -> Result<(Subst, String, String), String> {
    let mut chars = expr.chars();
    let sep = chars.next().ok_or("empty subst expression")?;
    if sep == '\\' {
        return Err("invalid separator \\ in subst expression".into());
    }
    let rest = chars.as_str();
    let (re_raw, rest) = split_unescaped(rest, sep)
        .ok_or_else(|| format!("no separator {sep} after the regular expression"))?;
    // Replacement: parsed like Kamailio's parse_repl.
    let mut repl = Vec::new();
    let mut lit = String::new();
    let mut it = rest.char_indices();
    let mut end = None;
    while let Some((i, c)) = it.next() {
        if c == '\\' {
            let Some((_, e)) = it.next() else {
                return Err(format!("no separator {sep} after the replacement"));
            };
            match e {
                'n' => lit.push('\n'),
                'r' => lit.push('\r'),
                't' => lit.push('\t'),
                '0'..='9' => {
                    if !lit.is_empty() {
                        repl.push(ReplPart::Lit(std::mem::take(&mut lit)));
                    }
                    repl.push(ReplPart::Group(e as usize - '0' as usize));
                }
                'u' => {
                    return Err("\\u (request URI) in a preprocessor subst is not supported".into())
                }
                o => lit.push(o),
            }
        } else if c == '$' {
            return Err(
                "pseudo-variables in a preprocessor subst replacement are not supported".into(),
            );
        } else if c == sep {
            end = Some(i);
            break;
        } else {
            lit.push(c);
        }
    }
    let Some(end) = end else {
        return Err(format!("no separator {sep} after the replacement"));
    };
    if !lit.is_empty() {
        repl.push(ReplPart::Lit(lit));
    }
    let repl_raw = rest[..end].to_string();
    let flags = &rest[end + sep.len_utf8()..];
    let (mut icase, mut dotnl, mut global) = (false, false, false);
    for f in flags.chars() {
        match f {
            'i' => icase = true,
            's' => dotnl = true,
            'g' => global = true,
            o => return Err(format!("unknown subst flag '{o}'")),
        }
    }
    // `\<sep>` in the regex stands for the separator itself.
    let mut re_src = String::with_capacity(re_raw.len());
    let mut rit = re_raw.chars().peekable();
    while let Some(c) = rit.next() {
        if c == '\\' && rit.peek() == Some(&sep) {
            rit.next();
            re_src.push_str(&regex::escape(&sep.to_string()));
        } else {
            re_src.push(c);
        }
    }
    let re = regex::RegexBuilder::new(&re_src)
        .case_insensitive(icase)
        .multi_line(!dotnl)
        .dot_matches_new_line(dotnl)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let first = e.to_string();
            let last = first
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            format!(
                "bad regular expression \"{re_raw}\": {}",
                last.trim_start_matches("error: ")
            )
        })?;
    let groups = repl
        .iter()
        .any(|p| matches!(p, ReplPart::Group(g) if *g > 0));
    Ok((
        Subst {
            re,
            repl,
            global,
            groups,
        },
        re_raw.to_string(),
        repl_raw,
    ))
}

/// Reads a quoted string token (`"..."` with escapes, or `'...'`) at the start of `s`.
/// Returns the value and the byte length consumed.
fn quoted_arg(s: &str) -> Option<(String, usize)> {
    let q = *s.as_bytes().first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if q == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            let inner = &s[1..i];
            let v = if q == b'"' {
                unescape_dq(inner)
            } else {
                inner.to_string()
            };
            return Some((v, i + 1));
        }
        i += 1;
    }
    None
}

/// Output built for one line.
struct LineOut {
    text: String,
    edits: Vec<ColEdit>,
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
    fn err(&mut self, file: FileId, line: u32, col: u32, len: u32, msg: String) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::error(
                Some(Loc {
                    file,
                    line,
                    col: col + 1,
                }),
                msg,
            )
            .with_len(len),
        );
        self.diags.last_mut().expect("just pushed")
    }

    fn warn(
        &mut self,
        file: FileId,
        line: u32,
        col: u32,
        len: u32,
        msg: String,
    ) -> &mut Diagnostic {
        self.diags.push(
            Diagnostic::warning(
                Some(Loc {
                    file,
                    line,
                    col: col + 1,
                }),
                msg,
            )
            .with_len(len),
        );
        self.diags.last_mut().expect("just pushed")
    }

    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.parent && c.taking)
    }

    fn push_line(&mut self, file: FileId, line: u32, text: &str, edits: Vec<ColEdit>) {
        self.out.text.push_str(text);
        self.out.text.push('\n');
        self.out.lines.push(LineOrigin { file, line, edits });
    }

    /// Defines `name` the way `#!define` does: an error if already defined.
    fn define_new(&mut self, name: &str, value: Option<String>, at: (FileId, u32, u32)) {
        if self.defines.contains_key(name) {
            let (f, l, c) = at;
            self.err(f, l, c, nchars(name), format!("{name} is already defined"))
                .hint = Some("use #!redefine to change it, or #!trydef to define it only if it is not defined yet".into());
            return;
        }
        self.defines.insert(name.to_string(), value);
    }

    fn process(&mut self, file: FileId, path: &str, text: &str, depth: usize) {
        let mut lex = Lex::Code;
        // A `#!define` whose value continues on the next line: (name, value, kind).
        let mut cont: Option<Pending> = None;
        let mut lines = text.split('\n').peekable();
        let mut no = 0u32;
        while let Some(raw) = lines.next() {
            if lines.peek().is_none() && raw.is_empty() && no > 0 {
                break;
            }
            no += 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if let Some((name, mut value, kind, at)) = cont.take() {
                self.push_line(file, no, "", Vec::new());
                match line.strip_suffix('\\') {
                    Some(part) => {
                        value.push_str(part);
                        cont = Some((name, value, kind, at));
                    }
                    None => {
                        value.push_str(line);
                        self.finish_define(name, value, kind, at);
                    }
                }
                continue;
            }
            let trimmed = trim_blank_start(line);
            let lead = line.len() - trimmed.len();
            let is_dir = lex == Lex::Code
                && (trimmed.starts_with("#!")
                    || (trimmed.starts_with("!!") && bang_directive(&trimmed[2..])));
            if is_dir {
                self.push_line(file, no, "", Vec::new());
                let lead_col = nchars(&line[..lead]);
                if let Some(c) = self.directive(
                    file,
                    path,
                    no,
                    lead_col,
                    &trimmed[2..],
                    &trimmed[..2],
                    depth,
                ) {
                    cont = Some(c);
                }
                continue;
            }
            if !self.active() {
                self.push_line(file, no, "", Vec::new());
                continue;
            }
            if lex == Lex::Code {
                let word = id_len(trimmed);
                let kw = &trimmed[..word];
                if kw == "include_file" || kw == "import_file" {
                    self.push_line(file, no, "", Vec::new());
                    let col = nchars(&line[..lead]);
                    self.include(file, path, no, col, trimmed, depth);
                    continue;
                }
            }
            let at_start = lex;
            let lo = self.expand_line(file, no, line, &mut lex);
            if let Some(name) = loadmodule_name(&lo.text).filter(|_| at_start == Lex::Code) {
                let d = format!("MOD_{name}");
                self.defines.entry(d).or_insert(None);
            }
            self.push_line(file, no, &lo.text, lo.edits);
        }
        if let Some((name, value, kind, at)) = cont.take() {
            self.finish_define(name, value, kind, at);
        }
        // The main file's unclosed string or comment is the lexer's to report; an included
        // file's would silently swallow the includer's text, so report it here.
        if depth > 0 && lex != Lex::Code {
            let what = match lex {
                Lex::Block(_) => "block comment",
                _ => "string",
            };
            let (l, c) = self.open_at;
            self.err(
                file,
                l,
                c,
                2,
                format!("unterminated {what} at the end of an included file"),
            )
            .hint = Some(
                "Kamailio stops at the end of each included file too (\"unexpected EOF\")".into(),
            );
        }
    }

    fn finish_define(
        &mut self,
        name: String,
        value: String,
        kind: DefKind,
        at: (FileId, u32, u32),
    ) {
        let v = trim_blank(&value);
        if has_line_comment(v) {
            let (f, l, c) = at;
            self.warn(f, l, c, nchars(&name), format!("the value of {name} ends with a comment"))
                .hint = Some(format!(
                "as in Kamailio, the comment is part of the value: wherever {name} is used, it hides the rest of that line; put the comment on its own line"
            ));
        }
        let v = (!v.is_empty()).then(|| v.to_string());
        match kind {
            DefKind::Define => self.define_new(&name, v, at),
            DefKind::Try => {
                self.defines.entry(name).or_insert(v);
            }
            DefKind::Redef => {
                self.defines.insert(name, v);
            }
        }
    }

    /// Handles a directive line; `body` is the text after `#!`/`!!`. Returns a pending
    /// continued `#!define`.
    #[allow(clippy::too_many_arguments)]
    fn directive(
        &mut self,
        file: FileId,
        path: &str,
        no: u32,
        lead: u32,
        body: &str,
        prefix: &str,
        depth: usize,
    ) -> Option<Pending> {
        let wl = body
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let word = &body[..wl];
        let rest = &body[wl..];
        let word_col = lead + 2;
        let rest_col = word_col + wl as u32;
        let active = self.active();
        // Conditionals are seen even in false branches.
        match word {
            "ifdef" | "ifndef" => {
                let word: &'static str = if word == "ifdef" { "ifdef" } else { "ifndef" };
                let loc = Loc {
                    file,
                    line: no,
                    col: lead + 1,
                };
                let name = self.directive_name(file, no, rest_col, rest, word, true);
                let taking = match &name {
                    Some(n) => self.defines.contains_key(n) == (word == "ifdef"),
                    None => false,
                };
                if self.conds.len() >= MAX_IFDEFS {
                    self.err(
                        file,
                        no,
                        lead,
                        2 + wl as u32,
                        "too many nested #!ifdef/#!ifndef".into(),
                    );
                }
                self.conds.push(Cond {
                    parent: active,
                    taking,
                    elses: 0,
                    loc,
                    word,
                });
                return None;
            }
            "else" | "endif" => {
                if !only_blank(rest) {
                    let off = rest.len() - trim_blank_start(rest).len();
                    let extra = trim_blank(rest);
                    self.err(
                        file,
                        no,
                        rest_col + nchars(&rest[..off]),
                        nchars(extra),
                        format!("unexpected text after #!{word}"),
                    )
                    .hint = Some(format!(
                        "nothing may follow #!{word} on its line, not even a comment (Kamailio would ignore the whole line)"
                    ));
                }
                if word == "else" {
                    match self.conds.last_mut() {
                        Some(c) => {
                            c.taking = !c.taking;
                            c.elses += 1;
                            if c.elses > 1 {
                                self.warn(
                                    file,
                                    no,
                                    lead,
                                    6,
                                    "second #!else in the same block".into(),
                                )
                                .hint = Some(
                                    "Kamailio flips the condition again at each #!else".into(),
                                );
                            }
                        }
                        None => {
                            self.err(file, no, lead, 6, "unbalanced #!else".into()).hint =
                                Some("there is no open #!ifdef or #!ifndef".into());
                        }
                    }
                } else if self.conds.pop().is_none() {
                    self.err(file, no, lead, 7, "unbalanced #!endif".into())
                        .hint = Some("there is no open #!ifdef or #!ifndef".into());
                }
                return None;
            }
            _ => {}
        }
        if !active {
            return None;
        }
        match word {
            "KAMAILIO" | "SER" | "OPENSER" | "ALL" | "MAXCOMPAT" => None,
            "define" | "def" | "trydef" | "trydefine" | "redefine" | "redef" => {
                let kind = match word {
                    "define" | "def" => DefKind::Define,
                    "trydef" | "trydefine" => DefKind::Try,
                    _ => DefKind::Redef,
                };
                let name = self.directive_name(file, no, rest_col, rest, word, false)?;
                let after = trim_blank_start(rest);
                let name_col = rest_col + nchars(&rest[..rest.len() - after.len()]);
                let value = trim_blank_start(&after[name.len()..]);
                let at = (file, no, name_col);
                if let Some(v) = value.strip_suffix('\\') {
                    return Some((name, v.to_string(), kind, at));
                }
                self.finish_define(name, value.to_string(), kind, at);
                None
            }
            "undef" => {
                if let Some(name) = self.directive_name(file, no, rest_col, rest, word, true) {
                    self.defines.remove(&name);
                }
                None
            }
            "subst" | "substdef" | "substdefs" => {
                self.subst_directive(file, no, rest_col, rest, word);
                None
            }
            "defenv" | "defenvs" | "trydefenv" | "trydefenvs" => {
                let arg = trim_blank(rest);
                let arg_col = rest_col + nchars(&rest[..rest.len() - trim_blank_start(rest).len()]);
                if arg.is_empty() || !rest.starts_with([' ', '\t']) {
                    self.err(
                        file,
                        no,
                        lead,
                        2 + wl as u32,
                        format!("#!{word} needs NAME or NAME=ENVVAR"),
                    )
                    .hint = Some(format!("write #!{word} NAME=ENVVAR"));
                    return None;
                }
                let (name, var) = match arg.split_once('=') {
                    Some((n, v)) => (n, v),
                    None => (arg, arg),
                };
                if id_len(name) != name.len() || var.is_empty() {
                    self.err(
                        file,
                        no,
                        arg_col,
                        nchars(arg),
                        format!("invalid #!{word} argument \"{arg}\""),
                    )
                    .hint = Some(format!("write #!{word} NAME=ENVVAR"));
                    return None;
                }
                let try_ = word.starts_with("try");
                match std::env::var(var) {
                    Ok(v) => {
                        let v = if word.ends_with('s') {
                            format!("\"{v}\"")
                        } else {
                            v
                        };
                        let v = (!v.is_empty()).then_some(v);
                        self.define_new(name, v, (file, no, arg_col));
                    }
                    Err(_) if try_ => {}
                    Err(_) => {
                        self.err(
                            file,
                            no,
                            arg_col,
                            nchars(arg),
                            format!("environment variable {var} is not set"),
                        )
                        .hint = Some(format!("use #!try{word} to skip unset variables"));
                    }
                }
                None
            }
            "include_file" | "import_file" => {
                self.include(file, path, no, word_col, body, depth);
                None
            }
            _ => {
                if prefix == "#!" && !word.is_empty() {
                    let hint = did_you_mean_dir(word);
                    let d = self.warn(
                        file,
                        no,
                        lead,
                        2 + wl as u32,
                        format!("unknown preprocessor directive #!{word}"),
                    );
                    d.hint = Some(match hint {
                        Some(h) => {
                            format!("did you mean #!{h}? (the line is ignored as a comment)")
                        }
                        None => "the line is ignored as a comment".into(),
                    });
                }
                None
            }
        }
    }

    /// Reads the NAME after a directive word. `exact` forbids text after the name.
    fn directive_name(
        &mut self,
        file: FileId,
        no: u32,
        rest_col: u32,
        rest: &str,
        word: &str,
        exact: bool,
    ) -> Option<String> {
        let after = trim_blank_start(rest);
        let ws = rest.len() - after.len();
        let col = rest_col + nchars(&rest[..ws]);
        let n = id_len(after);
        if n == 0 || ws == 0 {
            let msg = if after.is_empty() {
                format!("#!{word} without a name")
            } else {
                format!(
                    "#!{word} needs a name, found \"{}\"",
                    after.chars().take(20).collect::<String>()
                )
            };
            let len = if after.is_empty() {
                1
            } else {
                nchars(trim_blank(after)).min(40)
            };
            self.err(
                file,
                no,
                col.saturating_sub(u32::from(after.is_empty())),
                len,
                msg,
            )
            .hint = Some(format!("write #!{word} NAME"));
            return None;
        }
        let name = &after[..n];
        let tail = &after[n..];
        if tail.starts_with('-') {
            self.err(
                file,
                no,
                col,
                n as u32 + 1,
                format!("'-' not allowed in the name {name}-"),
            );
            return None;
        }
        if exact && !only_blank(tail) {
            let t = trim_blank(tail);
            let tcol = col + n as u32 + nchars(&tail[..tail.len() - trim_blank_start(tail).len()]);
            self.err(
                file,
                no,
                tcol,
                nchars(t),
                format!("unexpected text after #!{word} {name}"),
            )
            .hint = Some(format!("#!{word} takes exactly one name"));
        }
        Some(name.to_string())
    }

    fn subst_directive(&mut self, file: FileId, no: u32, rest_col: u32, rest: &str, word: &str) {
        let after = trim_blank_start(rest);
        let col = rest_col + nchars(&rest[..rest.len() - after.len()]);
        let Some((expr, used)) = quoted_arg(after) else {
            self.err(
                file,
                no,
                col,
                nchars(trim_blank(after)).max(1),
                format!("#!{word} needs a quoted expression"),
            )
            .hint = Some(format!("write #!{word} \"/regex/replacement/flags\""));
            return;
        };
        let len = nchars(&after[..used]);
        if !only_comment(&after[used..]) {
            self.err(
                file,
                no,
                col + len,
                1,
                format!("unexpected text after #!{word} expression"),
            );
        }
        let (rule, re_raw, repl_raw) = match parse_subst(&expr) {
            Ok(r) => r,
            Err(e) => {
                self.err(file, no, col, len, format!("invalid #!{word}: {e}"))
                    .hint = Some(
                    "the form is \"<sep>regex<sep>replacement<sep>flags\", flags among g, i, s"
                        .into(),
                );
                return;
            }
        };
        if word != "subst" {
            if re_raw.is_empty() {
                self.err(
                    file,
                    no,
                    col,
                    len,
                    format!("#!{word} needs a name as its regular expression"),
                );
                return;
            }
            let v = if word == "substdefs" {
                format!("\"{repl_raw}\"")
            } else {
                repl_raw
            };
            let v = (!v.is_empty()).then_some(v);
            self.define_new(&re_raw, v, (file, no, col));
        }
        self.substs.push(rule);
    }

    fn include(&mut self, file: FileId, path: &str, no: u32, col: u32, stmt: &str, depth: usize) {
        let import = stmt.starts_with("import_file");
        let kw_len = if import { 11 } else { 12 };
        let rest = &stmt[kw_len..];
        let after = trim_blank_start(rest);
        let acol = col + kw_len as u32 + nchars(&rest[..rest.len() - after.len()]);
        let kw = &stmt[..kw_len];
        let Some((name, used)) = quoted_arg(after).filter(|_| after.starts_with('"')) else {
            self.err(
                file,
                no,
                acol,
                nchars(trim_blank(after)).max(1),
                format!("{kw} needs a file name between double quotes"),
            )
            .hint = Some(format!("write {kw} \"file.cfg\""));
            return;
        };
        let plen = nchars(&after[..used]);
        let tail = &after[used..];
        let tail_t = trim_blank_start(tail);
        if let Some(t) = tail_t.strip_prefix(';') {
            self.warn(file, no, acol + plen, 1, format!("';' after {kw} \"...\""))
                .hint = Some(
                "Kamailio 5.6 rejects this line (the name must end with the quote); remove the ';'"
                    .into(),
            );
            if !only_comment(t) {
                self.err(
                    file,
                    no,
                    acol + plen,
                    1,
                    format!("unexpected text after {kw}"),
                );
            }
        } else if !only_comment(tail) {
            self.err(
                file,
                no,
                acol + plen,
                nchars(trim_blank(tail)),
                format!("unexpected text after {kw}"),
            );
        }
        if name.is_empty() {
            self.err(file, no, acol, plen, format!("empty file name in {kw}"));
            return;
        }
        if depth >= self.opts.max_include_depth {
            self.err(
                file,
                no,
                acol,
                plen,
                format!(
                    "too many nested includes (more than {})",
                    self.opts.max_include_depth
                ),
            )
            .hint = Some("an include cycle? a file includes itself directly or indirectly".into());
            return;
        }
        // Kamailio tries the name as given (relative to the current directory) first, then
        // relative to the including file's folder.
        let mut tried: Vec<PathBuf> = vec![PathBuf::from(&name)];
        if !name.starts_with('/') {
            if let Some(i) = path.rfind('/') {
                tried.push(PathBuf::from(format!("{}/{}", &path[..i], name)));
            }
        }
        let mut last_err = None;
        for p in &tried {
            match self.loader.load(p) {
                Ok(text) => {
                    let ps = p.to_string_lossy().into_owned();
                    if self.sources.files.len() >= FileId::MAX as usize {
                        self.err(file, no, acol, plen, "too many included files".into());
                        return;
                    }
                    let id = self.sources.add(&ps, &text);
                    self.process(id, &ps, &text, depth + 1);
                    return;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if import {
            return;
        }
        let why = last_err.map(|e| io_msg(&e)).unwrap_or_default();
        let d = self.err(
            file,
            no,
            acol,
            plen,
            format!("cannot open included file \"{name}\": {why}"),
        );
        if tried.len() > 1 {
            d.hint = Some(format!("also tried \"{}\"", tried[1].display()));
        }
    }

    /// Expands defines outside strings and comments, applies subst rules inside strings.
    fn expand_line(&mut self, file: FileId, no: u32, line: &str, lex: &mut Lex) -> LineOut {
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
                        i += 1;
                        i += id_len(&line[i..]);
                        if b.get(i) == Some(&b'(') {
                            let mut nest = 0usize;
                            while i < b.len() {
                                match b[i] {
                                    b'(' => nest += 1,
                                    b')' => {
                                        nest -= 1;
                                        if nest == 0 {
                                            i += 1;
                                            break;
                                        }
                                    }
                                    _ => {}
                                }
                                i += 1;
                            }
                        }
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
                        i += 1;
                        i += id_len(&v[i..]);
                        if b.get(i) == Some(&b'(') {
                            let mut nest = 0usize;
                            while i < b.len() {
                                match b[i] {
                                    b'(' => nest += 1,
                                    b')' => {
                                        nest -= 1;
                                        if nest == 0 {
                                            i += 1;
                                            break;
                                        }
                                    }
                                    _ => {}
                                }
                                i += 1;
                            }
                        }
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

/// A `#!define` continued on the next line: name, value so far, kind, where the name is.
type Pending = (String, String, DefKind, (FileId, u32, u32));

#[derive(Clone, Copy, Debug)]
enum DefKind {
    Define,
    Try,
    Redef,
}

/// Whether `!!` is followed by a known directive word (otherwise it is code: two negations).
fn bang_directive(body: &str) -> bool {
    let n = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    DIRECTIVES.contains(&&body[..n])
}

fn only_blank(s: &str) -> bool {
    s.bytes().all(is_blank)
}

/// Whether `v` has a `#` or `//` comment outside string literals.
fn has_line_comment(v: &str) -> bool {
    let b = v.as_bytes();
    let mut q = 0u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if q != 0 {
            if q == b'"' && c == b'\\' {
                i += 1;
            } else if c == q {
                q = 0;
            }
        } else if c == b'"' || c == b'\'' {
            q = c;
        } else if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
            return true;
        } else if c == b'$' && b.get(i + 1) == Some(&b'(') {
            // `$(...)` may hold anything; skip to the closing parenthesis.
            while i < b.len() && b[i] != b')' {
                i += 1;
            }
        }
        i += 1;
    }
    false
}

fn did_you_mean_dir(word: &str) -> Option<&'static str> {
    crate::diag::did_you_mean(word, DIRECTIVES.iter().copied())
}

/// The module name of a `loadmodule "path/NAME.so"` line, if this line is one.
fn loadmodule_name(line: &str) -> Option<&str> {
    let t = trim_blank_start(line);
    let rest = t.strip_prefix("loadmodule")?;
    let rest = trim_blank_start(rest);
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let inner = &rest[1..];
    let end = inner.find(q)?;
    let p = &inner[..end];
    let p = p.strip_suffix(".so").unwrap_or(p);
    let name = p.rsplit('/').next().unwrap_or(p);
    (!name.is_empty() && id_len(name) == name.len()).then_some(name)
}
