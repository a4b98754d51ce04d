//! Reports about a compilation for the command line.

use sipvm_lang::compile::Failed;
use std::fmt::Write as _;

/// What a file uses that Kamailio has and sipvm does not implement yet, one line per item
/// with every place it is used: `function  module.name  file:line, ...` (also for
/// `pseudo-variable`, `modparam`, `global`), in order of first use.
pub fn missing(failed: &Failed) -> String {
    let mut items: Vec<(&str, String, Vec<String>)> = Vec::new();
    for d in &failed.diagnostics {
        let Some(m) = &d.missing else { continue };
        let name = format!("{}.{}", m.module, m.name);
        let place = d.loc.map(|l| {
            let path = failed
                .sources
                .files
                .get(l.file as usize)
                .map_or("?", |f| &*f.path);
            format!("{path}:{}", l.line)
        });
        let i = match items
            .iter()
            .position(|(k, n, _)| *k == m.kind && *n == name)
        {
            Some(i) => i,
            None => {
                items.push((m.kind, name, Vec::new()));
                items.len() - 1
            }
        };
        items[i].2.extend(place);
    }
    let mut out = String::new();
    for (kind, name, places) in items {
        let _ = writeln!(out, "{kind}\t{name}\t{}", places.join(", "));
    }
    out
}
