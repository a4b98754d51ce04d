//! The proxy's layers (issue #11): reads the `crate::…`, `super::…` and `self::…` paths of
//! `proxy/src` and reports the import cycles between its units and the modules the core names.
//!
//! A unit is a top-level entry of `proxy/src` (`host/` → `host`, `worker.rs` → `worker`),
//! except that `modules/` is split: `modules/<name>.rs` or `modules/<name>/` is the unit
//! `modules/<name>`, `modules/mod.rs` (the module list) is `modules`. A file named by
//! `#[path = "…"]` belongs to the unit of the file that declares it. `lib.rs` and `main.rs` are
//! roots and make no edges. A name that `lib.rs` takes from another crate
//! (`pub use sipvm_sip as sip;`) is outside the graph. Comments (not nested ones) and literals
//! are skipped; bare relative paths (`sl::MODULE` after `pub mod sl;`) are not followed.

use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

/// Where an edge is made: a file (relative to `proxy/src`) and its 1-based line.
pub type Site = (String, usize);

/// Unit-to-unit edges, each with every site that makes it, in file order.
pub type Graph = BTreeMap<(String, String), Vec<Site>>;

/// Tokens with their lines: identifiers, `::`, one-character punctuation, and string
/// literals as `"` followed by their text.
type Toks = Vec<(String, usize)>;

const TOKEN: &str = concat!(
    r#"(?s)//[^\n]*|/\*.*?\*/|[bc]?r"(?<r0>.*?)"|[bc]?r\#"(?<r1>.*?)"\#|[bc]?r\#\#"(?<r2>.*?)"\#\#"#,
    r#"|[bc]?"(?<s>(?:\\.|[^\\"])*)"|b?'(?:\\.[^']*|[^\\'])'|(?<id>[_\pL]\w*)|\w+|(?<p>::|[^\s\w])"#,
);

fn lex(src: &str) -> Toks {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(TOKEN).expect("token regex"));
    let (mut out, mut line, mut last) = (Vec::new(), 1, 0);
    for c in re.captures_iter(src) {
        let m = c.get(0).expect("whole match");
        line += src[last..m.start()].matches('\n').count();
        last = m.start();
        if let Some(text) = ["r0", "r1", "r2", "s"].iter().find_map(|n| c.name(n)) {
            out.push((format!("\"{}", text.as_str()), line));
        } else if c.name("id").is_some() || c.name("p").is_some() {
            out.push((m.as_str().to_string(), line));
        }
    }
    out
}

fn at(t: &Toks, i: usize) -> &str {
    t.get(i).map_or("", |t| t.0.as_str())
}

fn ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// One path of a use-tree: its segments, the name it binds with `as`, its last segment's line.
type UsePath = (Vec<String>, Option<String>, usize);

/// Expands the use-tree (or plain path) at `t[i]`; returns its paths and the index after it.
fn tree(t: &Toks, mut i: usize) -> (Vec<UsePath>, usize) {
    let s = at(t, i);
    if s == "{" {
        let mut all = Vec::new();
        i += 1;
        while !matches!(at(t, i), "}" | "") {
            let (mut sub, j) = tree(t, i);
            all.append(&mut sub);
            i = j.max(i + 1); // steps over `,`
        }
        return (all, i + 1);
    }
    if !ident(s) {
        return (Vec::new(), i); // `*`, `<…>`: the path ends before it
    }
    if at(t, i + 1) == "::" {
        let (mut sub, j) = tree(t, i + 2);
        if sub.is_empty() {
            sub.push((Vec::new(), None, t[i].1));
        }
        sub.iter_mut().for_each(|p| p.0.insert(0, s.to_string()));
        return (sub, j);
    }
    let alias = (at(t, i + 1) == "as").then(|| at(t, i + 2).to_string());
    let next = if alias.is_some() { i + 3 } else { i + 1 };
    (vec![(vec![s.to_string()], alias, t[i].1)], next)
}

/// The absolute module path of `segs` written in module `here`.
fn resolve(here: &[String], segs: &[String]) -> Vec<String> {
    let mut abs = here.to_vec();
    for (k, s) in segs.iter().enumerate() {
        match s.as_str() {
            "crate" if k == 0 => abs.clear(),
            "super" => drop(abs.pop()),
            "self" => {}
            _ => abs.push(s.clone()),
        }
    }
    abs
}

/// Every `crate`/`super`/`self` path of a file whose module path is `base`, as an absolute
/// module path with its line. Inline `mod name { … }` blocks extend `base`.
fn paths_in(t: &Toks, base: &[String]) -> Vec<(Vec<String>, usize)> {
    let (mut out, mut depth, mut i) = (Vec::new(), 0usize, 0);
    let mut inline: Vec<(String, usize)> = Vec::new();
    while i < t.len() {
        // Unit tests may reach anywhere: a file's `#[cfg(test)] mod x {` ends its edges.
        let w: Vec<&str> = (i..i + 8).map(|k| at(t, k)).collect();
        if w[..7] == ["#", "[", "cfg", "(", "test", ")", "]"] && w[7] == "mod" {
            break;
        }
        match at(t, i) {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|m| m.1 == depth) {
                    inline.pop();
                }
            }
            "mod" if ident(at(t, i + 1)) && at(t, i + 2) == "{" => {
                inline.push((at(t, i + 1).to_string(), depth));
            }
            // `mod child;`: a parent depends on the child it declares (and reaches by name).
            "mod" if ident(at(t, i + 1)) && at(t, i + 2) == ";" => {
                let mut here = base.to_vec();
                here.extend(inline.iter().map(|m| m.0.clone()));
                here.push(at(t, i + 1).to_string());
                out.push((here, t[i].1));
            }
            "crate" | "super" | "self"
                if at(t, i + 1) == "::" && !matches!(at(t, i.wrapping_sub(1)), "$" | "::") =>
            {
                let mut here = base.to_vec();
                here.extend(inline.iter().map(|m| m.0.clone()));
                let (paths, j) = tree(t, i);
                out.extend(paths.into_iter().map(|p| (resolve(&here, &p.0), p.2)));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The `#[path = "file"] mod name;` declarations of a file, as (file, name).
fn path_attrs(t: &Toks) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..t.len() {
        let w: Vec<&str> = (i..i + 6).map(|k| at(t, k)).collect();
        let attr = w[..4] == ["#", "[", "path", "="] && w[5] == "]";
        let Some(file) = w[4].strip_prefix('"').filter(|_| attr) else {
            continue;
        };
        let rest = (i + 6..t.len())
            .map(|k| at(t, k))
            .take_while(|s| !matches!(*s, ";" | "{"));
        if let Some(name) = rest.skip_while(|s| *s != "mod").nth(1) {
            out.push((file.to_string(), name.to_string()));
        }
    }
    out
}

/// The names `lib.rs` takes from other crates (`pub use sipvm_sip as sip;`, `extern crate`).
fn external_names(lib: &Toks) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for i in 0..lib.len() {
        let start = match (at(lib, i), at(lib, i + 1)) {
            ("use", "::") => i + 2,
            ("use", _) => i + 1,
            ("extern", "crate") => i + 2,
            _ => continue,
        };
        for (segs, alias, _) in tree(lib, start).0 {
            if !matches!(segs[0].as_str(), "crate" | "self" | "super") {
                names.extend(alias.or_else(|| segs.last().cloned()));
            }
        }
    }
    names
}

/// The unit of a file path relative to `proxy/src` (`host/ctx.rs` → `host`,
/// `modules/htable.rs` → `modules/htable`, `modules/mod.rs` → `modules`, `run.rs` → `run`).
pub fn unit_of(path: &str) -> String {
    let strip = |s: &str| s.strip_suffix(".rs").unwrap_or(s).to_string();
    match path.split('/').collect::<Vec<_>>()[..] {
        ["modules", "mod.rs"] => "modules".into(),
        ["modules", name, ..] => format!("modules/{}", strip(name)),
        [first, ..] => strip(first),
        [] => String::new(),
    }
}

/// The module path of a file: `host/ctx.rs` → `host::ctx`, `tm/mod.rs` → `tm`, `lib.rs` → root.
fn mod_path(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path.split('/').map(|s| s.replace(".rs", "")).collect();
    if segs.last().is_some_and(|s| s == "mod") || matches!(path, "lib.rs" | "main.rs") {
        segs.pop();
    }
    segs
}

/// The unit graph of a tree given as (path relative to `proxy/src`, source) pairs.
pub fn graph(files: &[(String, String)]) -> Graph {
    let toks: BTreeMap<&str, Toks> = files.iter().map(|(p, s)| (p.as_str(), lex(s))).collect();
    let mut declared: HashMap<String, (String, String)> = HashMap::new();
    for (p, t) in &toks {
        for (file, name) in path_attrs(t) {
            let target = p
                .rsplit_once('/')
                .map_or(file.clone(), |(d, _)| format!("{d}/{file}"));
            declared.insert(target, (p.to_string(), name));
        }
    }
    // Each file's unit and module path; a `#[path]` file takes its declarer's.
    let place = |p: &str| {
        let (mut p, mut names) = (p.to_string(), Vec::new());
        while let Some((decl, name)) = declared.get(&p).filter(|_| names.len() < 8) {
            names.insert(0, name.clone());
            p = decl.clone();
        }
        (unit_of(&p), [mod_path(&p), names].concat())
    };
    let places: BTreeMap<&str, _> = toks.keys().map(|&p| (p, place(p))).collect();
    let units: BTreeSet<&str> = places.values().map(|v| v.0.as_str()).collect();
    let external = toks.get("lib.rs").map(external_names).unwrap_or_default();
    let mut g = Graph::new();
    for (&file, t) in &toks {
        let (from, base) = &places[&file];
        if from == "lib" || from == "main" {
            continue;
        }
        for (abs, line) in paths_in(t, base) {
            let Some(first) = abs.first().filter(|f| !external.contains(*f)) else {
                continue;
            };
            let module = abs.get(1).map(|n| format!("modules/{n}"));
            let to = match module {
                Some(m) if first == "modules" && units.contains(m.as_str()) => m,
                _ => first.clone(),
            };
            if units.contains(to.as_str()) && &to != from {
                let sites = g.entry((from.clone(), to)).or_default();
                if sites.last() != Some(&(file.to_string(), line)) {
                    sites.push((file.to_string(), line));
                }
            }
        }
    }
    g
}

/// The shortest chain of units from `from` to `to` inside `within`, both ends included.
fn shortest(g: &Graph, from: &str, to: &str, within: &BTreeSet<&str>) -> Option<Vec<String>> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(u) = queue.pop_front() {
        if u == to {
            let mut chain = vec![to.to_string()];
            while let Some(&p) = prev.get(chain.last().expect("not empty").as_str()) {
                chain.push(p.to_string());
            }
            chain.reverse();
            return Some(chain);
        }
        let next = g
            .range((u.to_string(), String::new())..)
            .take_while(|(e, _)| e.0 == u);
        for ((_, v), _) in next {
            if within.contains(v.as_str()) && v != from && !prev.contains_key(v.as_str()) {
                prev.insert(v, u);
                queue.push_back(v);
            }
        }
    }
    None
}

/// The strongly connected components of more than one unit.
pub fn components(g: &Graph) -> Vec<BTreeSet<&str>> {
    let nodes: BTreeSet<&str> = g
        .keys()
        .flat_map(|e| [e.0.as_str(), e.1.as_str()])
        .collect();
    let linked = |u, v| shortest(g, u, v, &nodes).is_some() && shortest(g, v, u, &nodes).is_some();
    let mut out: Vec<BTreeSet<&str>> = Vec::new();
    for &u in &nodes {
        if !out.iter().any(|c| c.contains(u)) {
            let comp: BTreeSet<_> = nodes
                .iter()
                .copied()
                .filter(|&v| v == u || linked(u, v))
                .collect();
            if comp.len() > 1 {
                out.push(comp);
            }
        }
    }
    out
}

/// The failure text for the import cycles of `g`, empty when there is none: each component of
/// more than one unit, then the shortest cycle through each of its edges as a chain of units,
/// each edge with the first `file:line` that makes it.
pub fn cycle_report(g: &Graph) -> String {
    let mut out = String::new();
    for comp in components(g) {
        let names = comp.iter().copied().collect::<Vec<_>>().join(", ");
        let _ = writeln!(out, "cycle among {} units: {names}", comp.len());
        let mut cycles = BTreeSet::new();
        for (a, b) in g
            .keys()
            .filter(|(a, b)| comp.contains(a.as_str()) && comp.contains(b.as_str()))
        {
            let mut c = shortest(g, b, a, &comp).expect("same component");
            let lowest = (0..c.len()).min_by_key(|&k| &c[k]).expect("not empty");
            c.rotate_left(lowest);
            cycles.insert(c);
        }
        for c in cycles {
            let _ = writeln!(out, "  {} -> {}", c.join(" -> "), c[0]);
            for (k, a) in c.iter().enumerate() {
                let b = &c[(k + 1) % c.len()];
                let (file, line) = &g[&(a.clone(), b.clone())][0];
                let _ = writeln!(out, "      {a} -> {b}  {file}:{line}");
            }
        }
    }
    out
}

/// Whether a unit is the core: not the module list, not a module, not `run`, `main` or `lib`.
pub fn is_core(unit: &str) -> bool {
    !(unit == "modules" || unit.starts_with("modules/") || matches!(unit, "run" | "main" | "lib"))
}

/// The failure text for the modules the core names, empty when there is none: each such edge
/// with every `file:line` that makes it.
pub fn core_module_report(g: &Graph) -> String {
    let mut out = String::new();
    for ((a, b), sites) in g
        .iter()
        .filter(|((a, b), _)| is_core(a) && b.starts_with("modules/"))
    {
        let sites: Vec<String> = sites.iter().map(|(f, l)| format!("{f}:{l}")).collect();
        let _ = writeln!(out, "{a} -> {b}  {}", sites.join(", "));
    }
    out
}

/// Every `.rs` file under `root` as (path relative to `root`, with `/`, source text), sorted.
pub fn read_tree(root: &Path) -> std::io::Result<Vec<(String, String)>> {
    let (mut out, mut dirs) = (Vec::new(), vec![root.to_path_buf()]);
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy();
                out.push((rel.replace('\\', "/"), std::fs::read_to_string(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}
