//! Diagnostics: a message, where it points, a hint; rendered as
//! `FILE:LINE:COL: error: message`, the source line, a caret and the hint.

use std::fmt::Write as _;
use std::sync::Arc;

/// A source file the compiler read (the main file and every include).
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as given or as resolved from the including file.
    pub path: Arc<str>,
    pub text: Arc<str>,
}

/// Index into `Sources::files`.
pub type FileId = u16;

/// All files of one compilation, so diagnostics can show source lines.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &str, text: &str) -> FileId {
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        (self.files.len() - 1) as FileId
    }

    /// Line `line` (1-based) of a file, without its line ending.
    pub fn line(&self, file: FileId, line: u32) -> Option<&str> {
        let f = self.files.get(file as usize)?;
        f.text
            .split('\n')
            .nth(line.checked_sub(1)? as usize)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// A position in an original source file; line and column are 1-based, columns count chars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Loc {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// What a "sipvm does not implement it yet" error names: `sipvm check --unimplemented`
/// lists these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// `function`, `pseudo-variable`, `modparam` or `global`.
    pub kind: &'static str,
    /// The Kamailio module that has it (`core` for the core).
    pub module: String,
    pub name: String,
}

/// One diagnostic. `len` is how many columns the caret underlines (at least 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub loc: Option<Loc>,
    pub len: u32,
    pub hint: Option<String>,
    /// Set on errors about something Kamailio has and sipvm does not implement.
    pub missing: Option<Missing>,
}

impl Diagnostic {
    pub fn error(loc: Option<Loc>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            loc,
            len: 1,
            hint: None,
            missing: None,
        }
    }

    pub fn warning(loc: Option<Loc>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(loc, message)
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Marks an error as naming something sipvm does not implement yet, with the hint
    /// every such error carries.
    pub fn missing(mut self, kind: &'static str, module: &str, name: &str) -> Self {
        self.hint = Some(format!(
            "Kamailio's module {module} has it; sipvm does not implement it yet"
        ));
        self.missing = Some(Missing {
            kind,
            module: module.to_string(),
            name: name.to_string(),
        });
        self
    }

    pub fn with_len(mut self, len: u32) -> Self {
        self.len = len.max(1);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic with its source line and caret.
    pub fn render(&self, sources: &Sources) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        match self.loc {
            Some(loc) => {
                let path = sources
                    .files
                    .get(loc.file as usize)
                    .map(|f| &*f.path)
                    .unwrap_or("?");
                let _ = writeln!(
                    out,
                    "{path}:{}:{}: {sev}: {}",
                    loc.line, loc.col, self.message
                );
                if let Some(src) = sources.line(loc.file, loc.line) {
                    let num = loc.line.to_string();
                    let pad = " ".repeat(num.len());
                    let _ = writeln!(out, " {num} | {}", src.replace('\t', " "));
                    let lead = " ".repeat(loc.col.saturating_sub(1) as usize);
                    let carets = "^".repeat(self.len.max(1) as usize);
                    let _ = writeln!(out, " {pad} | {lead}{carets}");
                    if let Some(h) = &self.hint {
                        let _ = writeln!(out, " {pad} = hint: {h}");
                    }
                    return out;
                }
            }
            None => {
                let _ = writeln!(out, "{sev}: {}", self.message);
            }
        }
        if let Some(h) = &self.hint {
            let _ = writeln!(out, "  = hint: {h}");
        }
        out
    }
}

/// Renders every diagnostic, in order.
pub fn render_all(diags: &[Diagnostic], sources: &Sources) -> String {
    diags.iter().map(|d| d.render(sources)).collect()
}

/// The closest candidate by edit distance, for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    let sorted = |s: &str| {
        let mut v: Vec<char> = s.chars().collect();
        v.sort_unstable();
        v
    };
    let w_sorted = sorted(&w);
    // Rank by distance, then prefer a candidate with the same letters (`$ur` → `$ru`).
    let mut best: Option<((usize, bool), &str)> = None;
    for c in candidates {
        let cl = c.to_ascii_lowercase();
        let d = edit_distance(&w, &cl);
        let limit = (word.len().max(c.len()) / 3).max(1);
        let rank = (d, sorted(&cl) != w_sorted);
        if d <= limit && best.is_none_or(|(br, _)| rank < br) {
            best = Some((rank, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Edit distance where swapping two adjacent characters counts as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, x) in d[0].iter_mut().enumerate() {
        *x = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}
