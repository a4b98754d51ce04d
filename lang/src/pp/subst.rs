//! `#!subst` / `#!substdef` / `#!substdefs`: parsing the rule and applying it to strings.

use super::engine::Pp;
use super::text::{nchars, only_comment, quoted_arg, trim_blank, trim_blank_start};
use crate::diag::FileId;

/// A `#!subst` rule.
pub(super) struct Subst {
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
    pub(super) fn apply(&self, s: &str) -> Option<String> {
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

impl Pp<'_> {
    pub(super) fn subst_directive(
        &mut self,
        file: FileId,
        no: u32,
        rest_col: u32,
        rest: &str,
        word: &str,
    ) {
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
}
