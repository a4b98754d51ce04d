//! Keeps the module registry honest: everything the shipped examples and Kamailio's stock
//! configuration (every `#!ifdef` branch) load, call, set or read must be declared.
//!
//! The scans are deliberately rough (regular expressions over the text with comments and
//! string literals removed where it matters), not a parse: they must over-approximate what a
//! script uses, never under-approximate it.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use sipvm_lang::registry::{ArgKind, PvForm, Registry};
use sipvm_proxy::modules::core::globals::GLOBALS;
use sipvm_proxy::modules::{registry, RIGHT_ALIGNED};

const EXAMPLES_DIR: &str = "/work/shared/examples";
const STOCK_CFG: &str = "/etc/kamailio/kamailio.cfg";

/// Grammar words that look like calls: statements, route blocks, expression operators.
const NOT_FUNCTIONS: &[&str] = &[
    "if",
    "else",
    "while",
    "switch",
    "case",
    "default",
    "route",
    "return",
    "exit",
    "drop",
    "break",
    "strempty",
    "strlen",
    "defined",
    "request_route",
    "failure_route",
    "reply_route",
    "onreply_route",
    "branch_route",
    "onsend_route",
    "event_route",
    "int",
    "str",
    "not",
];

struct Cfg {
    name: String,
    text: String,
}

fn examples_dir() -> PathBuf {
    std::env::var_os("SIPVM_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(EXAMPLES_DIR))
}

/// The configuration files under test; the stock one is skipped, with a message, if absent.
fn configs() -> Vec<Cfg> {
    let mut out = Vec::new();
    let dir = examples_dir();
    match std::fs::read_dir(&dir) {
        Ok(rd) => {
            let mut paths: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
                .collect();
            paths.sort();
            for p in paths {
                out.push(load(&p));
            }
        }
        Err(e) => eprintln!("skipping examples: cannot read {}: {e}", dir.display()),
    }
    if Path::new(STOCK_CFG).exists() {
        out.push(load(Path::new(STOCK_CFG)));
    } else {
        eprintln!("skipping the stock configuration: {STOCK_CFG} is absent");
    }
    out
}

fn load(p: &Path) -> Cfg {
    Cfg {
        name: p.display().to_string(),
        text: std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    }
}

/// Removes comments (`# ...` but not `#!` directives, `// ...`, `/* ... */`), keeping string
/// literals intact and the line structure (for messages).
fn strip_comments(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            let q = c;
            let start = i;
            i += 1;
            while i < b.len() && b[i] != q && b[i] != b'\n' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            out.push_str(&src[start..i]);
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let end = src[i + 2..]
                .find("*/")
                .map(|e| i + 2 + e + 2)
                .unwrap_or(b.len());
            out.extend(src[i..end].chars().filter(|&c| c == '\n'));
            i = end;
            continue;
        }
        let is_hash_comment = c == b'#' && b.get(i + 1) != Some(&b'!');
        let is_slash_comment = c == b'/' && b.get(i + 1) == Some(&b'/');
        if is_hash_comment || is_slash_comment {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let ch = src[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Replaces the contents of string literals with spaces (so calls and keywords inside
/// messages are not seen).
fn blank_strings(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for ch in src.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                    out.push(' ');
                } else if ch == '\\' {
                    escaped = true;
                    out.push(' ');
                } else if ch == q || ch == '\n' {
                    quote = None;
                    out.push(ch);
                } else {
                    out.push(' ');
                }
            }
            None => {
                if ch == '"' || ch == '\'' {
                    quote = Some(ch);
                }
                out.push(ch);
            }
        }
    }
    out
}

/// The routing part of a script: from the first route block on (module loading, parameters
/// and free text in `#!ifdef` comment blocks come before it).
fn routing_part(src: &str) -> &str {
    const BLOCKS: &[&str] = &[
        "request_route",
        "route",
        "failure_route",
        "reply_route",
        "onreply_route",
        "branch_route",
        "onsend_route",
        "event_route",
    ];
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim_start();
        let word: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = t[word.len()..].trim_start();
        if BLOCKS.contains(&word.as_str()) && (rest.starts_with('[') || rest.starts_with('{')) {
            return &src[offset..];
        }
        offset += line.len();
    }
    ""
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `(offset, name)` of every `name(` not preceded by a character that makes it part of
/// something else (a pseudo-variable, a select, a dotted name).
fn calls(src: &str) -> Vec<(usize, &str)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0 || !(is_ident_char(b[i - 1]) || b"$.@:".contains(&b[i - 1])))
        {
            let start = i;
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if b.get(j) == Some(&b'(') {
                out.push((start, &src[start..i]));
            }
        } else if is_ident_char(b[i]) {
            while i < b.len() && is_ident_char(b[i]) {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The first `n` double-quoted strings after `from`, separated only by blanks and commas.
fn quoted_args(src: &str, n: usize) -> Option<Vec<&str>> {
    let mut rest = src;
    let mut out = Vec::new();
    while out.len() < n {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == '(');
        let body = rest.strip_prefix('"')?;
        let end = body.find('"')?;
        out.push(&body[..end]);
        rest = &body[end + 1..];
    }
    Some(out)
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset].matches('\n').count() + 1
}

fn declared_module(reg: &Registry, name: &str) -> bool {
    reg.module_index(name).is_some()
}

fn function_declared(reg: &Registry, name: &str) -> bool {
    reg.natives().any(|(_, _, f)| f.name == name)
}

#[test]
fn every_loadmodule_is_declared() {
    let reg = registry();
    let mut missing = Vec::new();
    let mut seen = 0;
    for cfg in configs() {
        let text = strip_comments(&cfg.text);
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("loadmodule") else {
                continue;
            };
            let Some(args) = quoted_args(rest, 1) else {
                continue;
            };
            seen += 1;
            let raw = args[0];
            let base = raw.rsplit('/').next().unwrap();
            let name = base.strip_suffix(".so").unwrap_or(base);
            if !declared_module(reg, name) {
                missing.push(format!("{}: loadmodule \"{raw}\"", cfg.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undeclared modules:\n{}",
        missing.join("\n")
    );
    eprintln!("{seen} loadmodule lines checked");
}

#[test]
fn every_called_function_is_declared() {
    let reg = registry();
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for cfg in configs() {
        let text = blank_strings(&strip_comments(&cfg.text));
        let routing = routing_part(&text);
        let base = text.len() - routing.len();
        for (at, name) in calls(routing) {
            if NOT_FUNCTIONS.contains(&name) {
                continue;
            }
            seen += 1;
            if !function_declared(reg, name) {
                missing.insert(format!(
                    "{}:{}: {name}()",
                    cfg.name,
                    line_of(&text, base + at)
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undeclared functions:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    eprintln!("{seen} calls checked");
}

#[test]
fn every_modparam_is_declared() {
    let reg = registry();
    let mut missing = Vec::new();
    let mut seen = 0;
    for cfg in configs() {
        let text = strip_comments(&cfg.text);
        for (at, _) in text.match_indices("modparam") {
            let Some(args) = quoted_args(&text[at + "modparam".len()..], 2) else {
                continue;
            };
            seen += 1;
            // Kamailio matches the module name as a regular expression: "nathelper|registrar".
            for module in args[0].split('|') {
                let param = args[1];
                match reg.module_index(module) {
                    None => missing.push(format!(
                        "{}: modparam(\"{module}\", ...): no such module",
                        cfg.name
                    )),
                    Some(i) => {
                        if !reg.module(i).params.iter().any(|p| p.name == param) {
                            missing
                                .push(format!("{}: modparam(\"{module}\", \"{param}\")", cfg.name));
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undeclared module parameters:\n{}",
        missing.join("\n")
    );
    eprintln!("{seen} modparam calls checked");
}

#[test]
fn every_global_is_declared() {
    let reg = registry();
    let mut missing = Vec::new();
    for cfg in configs() {
        let text = strip_comments(&cfg.text);
        // Globals come before the routing blocks.
        let head = &text[..text.len() - routing_part(&text).len()];
        for line in head.lines() {
            let t = line.trim_start();
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            if name.is_empty() || !t[name.len()..].trim_start().starts_with('=') {
                continue;
            }
            let name = name.as_str();
            // `group.name = value desc "..."` declares a custom runtime parameter.
            if name.contains('.') && !name.starts_with("kemi.") {
                continue;
            }
            if reg.global(name).is_none() {
                missing.push(format!("{}: {name}", cfg.name));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undeclared globals:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_pseudo_variable_is_declared() {
    let reg = registry();
    // `$name`, `$name(...)`, `$(name(...){tr})`; names may hold dots (`$err.class`).
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for cfg in configs() {
        let text = strip_comments(&cfg.text);
        let b = text.as_bytes();
        for (at, _) in text.match_indices('$') {
            let mut i = at + 1;
            if b.get(i) == Some(&b'(') {
                i += 1;
            }
            let start = i;
            if b.get(i) == Some(&b'?') {
                i += 1;
            } else {
                if !b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                {
                    continue;
                }
                while i < b.len() && (is_ident_char(b[i]) || b[i] == b'.') {
                    i += 1;
                }
            }
            let name = text[start..i].trim_end_matches('.');
            let named = b.get(start + name.len()) == Some(&b'(');
            let line = line_of(&text, at);
            seen += 1;
            match reg.pv_classes().find(|(_, _, p)| p.name == name) {
                None => {
                    missing.insert(format!("{}:{line}: ${name}", cfg.name));
                }
                Some((_, _, p)) => {
                    let ok = match p.form {
                        PvForm::Named | PvForm::OfMessage => named,
                        PvForm::Plain => !named,
                    };
                    if !ok {
                        missing.insert(format!(
                            "{}:{line}: ${name} used as {:?} form",
                            cfg.name,
                            if named { "named" } else { "plain" }
                        ));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "undeclared pseudo-variables:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    eprintln!("{seen} pseudo-variable uses checked");
}

#[test]
fn no_duplicates() {
    let reg = registry();
    let mut problems = Vec::new();
    let mut modules = HashSet::new();
    for m in std::iter::once(reg.core).chain(reg.modules.iter().copied()) {
        if !modules.insert(m.name) {
            problems.push(format!("module {} declared twice", m.name));
        }
        let mut fns = HashSet::new();
        for f in m.functions {
            if !fns.insert(f.name) {
                problems.push(format!("{}: function {} declared twice", m.name, f.name));
            }
            if usize::from(f.min_args) > f.args.len() {
                problems.push(format!(
                    "{}: {} has min_args {} > {} args",
                    m.name,
                    f.name,
                    f.min_args,
                    f.args.len()
                ));
            }
        }
        let mut params = HashSet::new();
        for p in m.params {
            if !params.insert(p.name) {
                problems.push(format!("{}: parameter {} declared twice", m.name, p.name));
            }
        }
        let mut pvs = HashSet::new();
        for p in m.pvs {
            if !pvs.insert(p.name) {
                problems.push(format!(
                    "{}: pseudo-variable {} declared twice",
                    m.name, p.name
                ));
            }
        }
    }
    let mut globals = HashSet::new();
    for g in GLOBALS {
        if !globals.insert(g.name) {
            problems.push(format!("global {} declared twice", g.name));
        }
    }
    // Module pseudo-variables must not shadow core ones. Two modules may share a class name
    // (`$rtpstat` in rtpproxy and rtpengine) as a script loads only one of them.
    let core_pvs: HashSet<&str> = reg.core.pvs.iter().map(|p| p.name).collect();
    for m in reg.modules.iter().copied() {
        for p in m.pvs {
            if core_pvs.contains(p.name) {
                problems.push(format!(
                    "{}: ${} is also a core pseudo-variable",
                    m.name, p.name
                ));
            }
        }
    }
    // Core functions must not be shadowed by a module's.
    let core: HashSet<&str> = reg.core.functions.iter().map(|f| f.name).collect();
    for m in reg.modules.iter().copied() {
        for f in m.functions {
            if core.contains(f.name) {
                problems.push(format!("{}: {} is also a core function", m.name, f.name));
            }
        }
    }
    for name in RIGHT_ALIGNED {
        if !function_declared(reg, name) {
            problems.push(format!("RIGHT_ALIGNED names undeclared {name}"));
        }
    }
    // The compiler matches a function's arguments from the right when it has optional
    // arguments and a `LogLevel` one: exactly the RIGHT_ALIGNED functions must look so.
    for (_, m, f) in reg.natives() {
        let looks_right_aligned =
            usize::from(f.min_args) < f.args.len() && f.args.contains(&ArgKind::LogLevel);
        if looks_right_aligned != RIGHT_ALIGNED.contains(&f.name) {
            problems.push(format!(
                "{}: {} has optional arguments and {} LogLevel one, but is {} RIGHT_ALIGNED",
                reg.module(m).name,
                f.name,
                if looks_right_aligned { "a" } else { "no" },
                if RIGHT_ALIGNED.contains(&f.name) {
                    "in"
                } else {
                    "not in"
                },
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn registry_basics() {
    let reg = registry();
    assert_eq!(reg.module(0).name, "core");
    assert!(reg.module_index("tm").is_some());
    assert!(reg.module_index("tmx").is_some());
    assert!(reg.module_index("nosuch").is_none());
    for name in ["listen", "alias", "children", "rpc_listen"] {
        let g = reg.global(name).unwrap_or_else(|| panic!("global {name}"));
        if name != "alias" {
            assert!(g.restart_only, "{name} is restart-only");
        }
    }
    assert!(reg.global("listen").unwrap().repeatable);
    assert!(reg.global("alias").unwrap().repeatable);
    // Native and pv ids round-trip.
    for (id, m, f) in reg.natives() {
        let (m2, f2) = reg.native(id).unwrap();
        assert_eq!(m, m2);
        assert_eq!(f.name, f2.name);
    }
    for (id, m, p) in reg.pv_classes() {
        let (m2, p2) = reg.pv_class(id).unwrap();
        assert_eq!(m, m2);
        assert_eq!(p.name, p2.name);
    }
    for (id, m, f) in reg.natives() {
        let has = crate::natives_table_has(reg.module(m).name, f.name);
        assert_eq!(
            reg.is_implemented(id),
            has,
            "{}.{}",
            reg.module(m).name,
            f.name
        );
    }
}

/// Whether the proxy provides an implementation of `module.name`.
fn natives_table_has(module: &str, name: &str) -> bool {
    sipvm_proxy::modules::find(module).is_some_and(|m| m.natives.iter().any(|i| i.name == name))
}
