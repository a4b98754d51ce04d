//! Golden tests: every shared example disassembles as in `golden/examples/NAME.bc`; every
//! `golden/bad/NAME.cfg` fails to compile with exactly the diagnostics in `NAME.err`.
//! Regenerate with `SIPVM_BLESS=1 cargo test -p sipvm-tests`.

use sipvm_tests::golden::{cfg_files, check_bad, check_example, golden_dir, shared_dir, Goldens};

#[test]
fn examples_disassemble_as_golden() {
    let src = shared_dir().join("examples");
    let out = golden_dir().join("examples");
    let mut g = Goldens::default();
    for cfg in cfg_files(&src) {
        let stem = cfg
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        check_example(&mut g, &cfg, &out.join(format!("{stem}.bc")));
    }
    g.finish("examples");
}

#[test]
fn bad_configs_fail_as_golden() {
    let dir = golden_dir().join("bad");
    let mut g = Goldens::default();
    for cfg in cfg_files(&dir) {
        check_bad(&mut g, &cfg, &cfg.with_extension("err"));
    }
    g.finish("bad configs");
}

#[test]
fn every_golden_has_its_source() {
    // A stale golden (its .cfg renamed or removed) would otherwise linger unnoticed.
    let mut stale = Vec::new();
    let bad = golden_dir().join("bad");
    for e in std::fs::read_dir(&bad).expect("golden/bad") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "err") && !p.with_extension("cfg").exists() {
            stale.push(p);
        }
    }
    let ex = shared_dir().join("examples");
    for e in std::fs::read_dir(golden_dir().join("examples")).expect("golden/examples") {
        let p = e.expect("entry").path();
        let stem = p
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if p.extension().is_some_and(|x| x == "bc") && !ex.join(format!("{stem}.cfg")).exists() {
            stale.push(p);
        }
    }
    assert!(stale.is_empty(), "goldens without a source file: {stale:?}");
}

#[test]
fn diff_shows_both_sides_with_context() {
    let d = sipvm_tests::golden::diff("a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(d, "   a\n - b\n + x\n   c\n");
    let long: String = (0..20).map(|i| format!("{i}\n")).collect();
    let changed = long.replace("10\n", "ten\n");
    let d = sipvm_tests::golden::diff(&long, &changed);
    assert_eq!(
        d,
        "   ...\n   7\n   8\n   9\n - 10\n + ten\n   11\n   12\n   13\n   ...\n"
    );
}
