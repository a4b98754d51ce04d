//! Directive lines (`#!...`, and `!!...` when a known word follows): conditionals,
//! defines, `#!defenv*`, and dispatch to subst and include handling.

use super::engine::{Cond, Pp};
use super::text::{has_line_comment, id_len, nchars, only_blank, trim_blank, trim_blank_start};
use crate::diag::{FileId, Loc};

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

/// A `#!define` continued on the next line: name, value so far, kind, where the name is.
pub(super) type Pending = (String, String, DefKind, (FileId, u32, u32));

#[derive(Clone, Copy, Debug)]
pub(super) enum DefKind {
    Define,
    Try,
    Redef,
}

/// Whether `!!` is followed by a known directive word (otherwise it is code: two negations).
pub(super) fn bang_directive(body: &str) -> bool {
    let n = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    DIRECTIVES.contains(&&body[..n])
}

fn did_you_mean_dir(word: &str) -> Option<&'static str> {
    crate::diag::did_you_mean(word, DIRECTIVES.iter().copied())
}

impl Pp<'_> {
    /// Defines `name` the way `#!define` does: an error if already defined.
    pub(super) fn define_new(&mut self, name: &str, value: Option<String>, at: (FileId, u32, u32)) {
        if self.defines.contains_key(name) {
            let (f, l, c) = at;
            self.err(f, l, c, nchars(name), format!("{name} is already defined"))
                .hint = Some("use #!redefine to change it, or #!trydef to define it only if it is not defined yet".into());
            return;
        }
        self.defines.insert(name.to_string(), value);
    }

    pub(super) fn finish_define(
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
    pub(super) fn directive(
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
}
