//! The proxy's layers (issue #11): no import cycle between the units of `proxy/src`, and the
//! core names no module. The checker lives in `sipvm_tests::layers`; the synthetic trees here
//! show that it finds what it must and passes what it must.

use sipvm_tests::layers::{
    core_module_report, cycle_report, graph, is_core, read_tree, unit_of, Graph,
};
use std::path::Path;

fn proxy_src() -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proxy/src");
    graph(&read_tree(&root).expect("read proxy/src"))
}

#[test]
fn proxy_src_has_no_import_cycle() {
    let report = cycle_report(&proxy_src());
    assert!(
        report.is_empty(),
        "import cycles between the units of proxy/src:\n{report}"
    );
}

#[test]
fn proxy_core_names_no_module() {
    let report = core_module_report(&proxy_src());
    assert!(
        report.is_empty(),
        "the core names modules (DESIGN.md: \"the core names no module\"):\n{report}"
    );
}

#[test]
fn proxy_src_is_read() {
    let g = proxy_src();
    assert!(
        g.keys().any(|(a, _)| a.starts_with("modules/")),
        "no edge found in proxy/src: {g:?}"
    );
}

fn tree(files: &[(&str, &str)]) -> Graph {
    graph(
        &files
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect::<Vec<_>>(),
    )
}

/// Each edge with its first site.
fn edges(g: &Graph) -> Vec<String> {
    g.iter()
        .map(|((a, b), s)| format!("{a} -> {b} {}:{}", s[0].0, s[0].1))
        .collect()
}

#[test]
fn a_cycle_is_reported_with_its_sites() {
    let g = tree(&[
        ("lib.rs", "pub mod host; pub mod tm; pub mod usrloc;"),
        ("host/ctx.rs", "use crate::tm::Txn;\n"),
        ("tm/mod.rs", "pub mod flow;\n"),
        ("tm/flow.rs", "fn f() {\n    crate::usrloc::save(1);\n}\n"),
        ("usrloc/mod.rs", "\nuse crate::{host::ctx::Ctx, tm};\n"),
    ]);
    let report = cycle_report(&g);
    let expected = "cycle among 3 units: host, tm, usrloc
  host -> tm -> usrloc -> host
      host -> tm  host/ctx.rs:1
      tm -> usrloc  tm/flow.rs:2
      usrloc -> host  usrloc/mod.rs:2
  tm -> usrloc -> tm
      tm -> usrloc  tm/flow.rs:2
      usrloc -> tm  usrloc/mod.rs:2
";
    assert_eq!(report, expected);
}

#[test]
fn a_tree_without_a_cycle_passes() {
    let g = tree(&[
        (
            "lib.rs",
            "pub mod host; pub mod tm; pub use sipvm_sip as sip;",
        ),
        ("main.rs", "use crate::worker::run; use crate::host::X;"),
        ("host/mod.rs", "use crate::tm::Txn; use crate::sip::Msg;"),
        ("tm/mod.rs", "use crate::sip::Msg; // crate::host::Ctx\n"),
        ("worker.rs", "use crate::{host, tm::{self, Txn}};"),
    ]);
    let e = [
        "host -> tm host/mod.rs:1",
        "worker -> host worker.rs:1",
        "worker -> tm worker.rs:1",
    ];
    assert_eq!(edges(&g), e);
    assert_eq!(cycle_report(&g), "");
}

#[test]
fn comments_strings_and_macros_make_no_edge() {
    let src = r###"// crate::a::X
/* crate::a::Y */ const S: &str = "crate::a::W \" crate::a::V";
const R: &str = r##"crate::a::U "# crate::a::T"##;
const C: char = '"'; const D: u8 = b'\''; macro_rules! m { () => { $crate::a::S } }
fn f<'a>(x: &'a str) { crate::b::g(x) }
"###;
    let g = tree(&[("a/mod.rs", ""), ("b.rs", ""), ("c.rs", src)]);
    assert_eq!(edges(&g), ["c -> b c.rs:5"]);
}

#[test]
fn super_paths_resolve_relative_to_the_file_and_inline_modules() {
    let y = "use super::super::super::tm::A;
use super::super::tm::B;
use super::z;
use super::super::MODULES;
mod inner {
    use super::super::super::super::tm::C;
}
#[cfg(test)]
mod tests {
    use crate::worker::W;
}
";
    let g = tree(&[
        ("tm/mod.rs", ""),
        ("worker.rs", ""),
        ("modules/mod.rs", "pub mod x; pub mod tm;"),
        ("modules/tm.rs", ""),
        ("modules/x/mod.rs", "pub mod y;"),
        ("modules/x/y.rs", y),
    ]);
    let e = [
        "modules -> modules/tm modules/mod.rs:1",
        "modules -> modules/x modules/mod.rs:1",
        "modules/x -> modules modules/x/y.rs:4",
        "modules/x -> modules/tm modules/x/y.rs:2",
        "modules/x -> tm modules/x/y.rs:1",
    ];
    assert_eq!(
        edges(&g),
        e,
        "unit tests may reach anywhere (no edge to worker)"
    );
    let sites = &g[&("modules/x".into(), "tm".into())];
    assert_eq!(
        sites[1],
        ("modules/x/y.rs".into(), 6),
        "the inline `mod inner` is one level deeper"
    );
}

#[test]
fn modules_paths_name_a_module_unit_or_the_list() {
    let g = tree(&[
        (
            "modules/mod.rs",
            "pub mod htable; pub static MODULES: &[u8] = &[];",
        ),
        (
            "modules/htable.rs",
            "#[path = \"htable_impl.rs\"]\n#[cfg(unix)]\npub(crate) mod imp;\n",
        ),
        (
            "modules/htable_impl.rs",
            "use super::Table;\nuse crate::worker::W;\n",
        ),
        (
            "worker.rs",
            "use crate::modules::{MODULES, htable::Table};\nfn f() { crate::modules::nope::g() }\n",
        ),
        ("run.rs", "use crate::modules::htable::Table;"),
    ]);
    let e = [
        "modules -> modules/htable modules/mod.rs:1",
        "modules/htable -> worker modules/htable_impl.rs:2",
        "run -> modules/htable run.rs:1",
        "worker -> modules worker.rs:1",
        "worker -> modules/htable worker.rs:1",
    ];
    assert_eq!(edges(&g), e);
    assert_eq!(g[&("worker".into(), "modules".into())].len(), 2);
    assert_eq!(
        core_module_report(&g),
        "worker -> modules/htable  worker.rs:1\n"
    );
    assert!(cycle_report(&g).contains("  modules/htable -> worker -> modules/htable\n"));
}

#[test]
fn units_and_the_core() {
    let paths = [
        "host/ctx.rs",
        "worker.rs",
        "modules/mod.rs",
        "modules/sl.rs",
        "modules/dispatcher/algo.rs",
    ];
    let units: Vec<String> = paths.map(unit_of).into();
    assert_eq!(
        units,
        [
            "host",
            "worker",
            "modules",
            "modules/sl",
            "modules/dispatcher"
        ]
    );
    assert!(is_core("host") && is_core("worker") && is_core("tm"));
    assert!(!is_core("run") && !is_core("main") && !is_core("modules") && !is_core("modules/tm"));
}
