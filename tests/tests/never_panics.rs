//! The compiler never panics, whatever it is given: arbitrary strings, and real example
//! configurations mangled by deleting, duplicating and inserting slices, tokens and bytes.
//! Errors are fine; a panic is a bug.

use proptest::prelude::*;
use sipvm_lang::compile::{compile_str, CompileOptions};
use sipvm_tests::golden::{cfg_files, golden_dir, shared_dir};
use std::sync::OnceLock;

fn compile(text: &str) {
    let _ = compile_str(
        "fuzz.cfg",
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    );
}

/// Seeds: the shared examples, the bad configs, and the stock Kamailio config when present.
fn examples() -> &'static [String] {
    static EX: OnceLock<Vec<String>> = OnceLock::new();
    EX.get_or_init(|| {
        let mut files = cfg_files(&shared_dir().join("examples"));
        files.extend(cfg_files(&golden_dir().join("bad")));
        files.push("/etc/kamailio/kamailio.cfg".into());
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    })
}

/// Fragments that steer mutations into the interesting corners of the grammar.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    "\"",
    "'",
    "$",
    "$(",
    "$var(",
    "{s.len}",
    "=>",
    "/*",
    "*/",
    "#",
    "#!",
    "#!ifdef X\n",
    "#!ifndef X\n",
    "#!else\n",
    "#!endif\n",
    "#!define X 1\n",
    "#!define X\n",
    "#!subst \"/a/b/\"\n",
    "#!substdef \"!a!b!g\"\n",
    "#!trydef Y\n",
    "include_file \"x.cfg\"\n",
    "import_file \"y.cfg\"\n",
    "route(",
    "route[",
    "if",
    "else",
    "switch",
    "case",
    "default:",
    "break;",
    "while",
    "return",
    "exit;",
    "drop;",
    "\\",
    "\n",
    "“",
    "”",
    "é",
    "\u{0}",
    "=",
    "==",
    "=~",
    "+=",
    "&&",
    "||",
    "!",
    "-",
    "0x",
    "99999999999999999999",
    "loadmodule \"tm.so\"\n",
    "modparam(\"tm\", \"fr_timer\", ",
    "a.b = 1 desc \"d\"\n",
    "$sel(cfg_get.",
    "@ruri",
    "(int)",
    "(str)",
    "event_route[",
    "onsend_route",
    "reply_route",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize, to: usize },
    InsertBytes { at: usize, bytes: Vec<u8> },
    InsertToken { at: usize, token: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 0usize..200, any::<usize>())
            .prop_map(|(at, len, to)| Mutation::Duplicate { at, len, to }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::InsertBytes { at, bytes }),
        (any::<usize>(), 0..TOKENS.len())
            .prop_map(|(at, token)| Mutation::InsertToken { at, token }),
    ]
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut b = text.as_bytes().to_vec();
    for m in muts {
        let n = b.len();
        match m {
            Mutation::Delete { at, len } => {
                let at = at % (n + 1);
                let end = (at + len).min(n);
                b.drain(at..end);
            }
            Mutation::Duplicate { at, len, to } => {
                let at = at % (n + 1);
                let end = (at + len).min(n);
                let slice = b[at..end].to_vec();
                let to = to % (n + 1);
                b.splice(to..to, slice);
            }
            Mutation::InsertBytes { at, bytes } => {
                let at = at % (n + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            Mutation::InsertToken { at, token } => {
                let at = at % (n + 1);
                b.splice(at..at, TOKENS[*token].bytes());
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// 256 cases per test keeps the suite fast; `SIPVM_FUZZ_CASES=N` runs a longer hunt.
fn config() -> ProptestConfig {
    let cases = std::env::var("SIPVM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        compile(&s);
    }

    #[test]
    fn token_soup_never_panics(toks in prop::collection::vec(0..TOKENS.len(), 0..60)) {
        let s: String = toks.iter().map(|&i| TOKENS[i]).collect::<Vec<_>>().join(" ");
        compile(&s);
    }

    #[test]
    fn mutated_examples_never_panic(
        which in any::<prop::sample::Index>(),
        muts in prop::collection::vec(mutation(), 1..8),
    ) {
        let ex = examples();
        let text = &ex[which.index(ex.len())];
        compile(&apply(text, &muts));
    }
}
