//! Property tests: the preprocessor never panics, keeps one output line per input line
//! (within the main file when there are no includes), and its source map stays in range.

use proptest::prelude::*;
use sipvm_lang::diag::Sources;
use sipvm_lang::pp::{preprocess_str, Loader, PpOptions};
use std::path::Path;

/// Every include resolves to a small file that includes itself, to exercise the depth limit.
struct Loop;

impl Loader for Loop {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        match path.to_str() {
            Some(p) if p.ends_with("loop.cfg") => {
                Ok("x LOOP\ninclude_file \"loop.cfg\"\n#!ifdef A\n".into())
            }
            _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }
}

const FRAGMENTS: &[&str] = &[
    "#!define ",
    "#!trydef ",
    "#!redefine ",
    "#!undef ",
    "#!ifdef ",
    "#!ifndef ",
    "#!else",
    "#!endif",
    "#!subst ",
    "#!substdef ",
    "#!substdefs ",
    "#!defenv ",
    "!!define ",
    "#!KAMAILIO",
    "#!",
    "!!",
    "include_file ",
    "import_file ",
    "\"loop.cfg\"",
    "\"nope.cfg\"",
    "A",
    "B",
    "LOOP",
    "A B",
    "B A",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\\\n",
    "\\",
    "\"",
    "'",
    "/*",
    "*/",
    "//",
    "#",
    "$var(A)",
    "$(",
    ")",
    "\"/A/xyz/g\"",
    "\"!B!A!\"",
    "\"/(/x/\"",
    "\"/a/\\1/\"",
    "loadmodule \"sl.so\"",
    "MOD_sl",
    "é",
    "日本",
    "-",
    ";",
    "{",
    "}",
    "=",
];

fn check(text: &str, defines: Vec<(String, Option<String>)>) {
    let mut sources = Sources::default();
    let opts = PpOptions {
        defines,
        ..PpOptions::default()
    };
    let (out, diags) = preprocess_str("main.cfg", text, &mut sources, &opts, &Loop);
    assert_eq!(out.text.matches('\n').count(), out.lines.len());
    for (i, l) in out.text.split('\n').enumerate().take(out.lines.len()) {
        let origin = &out.lines[i];
        let src = sources.line(origin.file, origin.line);
        assert!(src.is_some(), "line {i} maps to a missing line");
        let mut last = 0;
        for e in &origin.edits {
            assert!(e.out_start >= last, "edits sorted");
            last = e.out_start + e.out_len;
            assert!(
                last as usize <= l.chars().count(),
                "edit inside the output line"
            );
        }
        for col in 0..=l.chars().count().min(64) {
            let loc = out.loc(i, col);
            assert!(loc.col >= 1);
        }
    }
    for d in &diags {
        if let Some(loc) = d.loc {
            assert!((loc.file as usize) < sources.files.len());
            assert!(sources.line(loc.file, loc.line).is_some(), "{d:?}");
        }
        let _ = d.render(&sources);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text, vec![]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        check(&text, vec![("A".into(), Some("B".into()))]);
    }

    #[test]
    fn directive_soup_never_panics(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..60)) {
        let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
        check(&text, vec![("B".into(), Some("A A".into()))]);
    }
}
