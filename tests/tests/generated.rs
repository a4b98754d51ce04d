//! A 5,000-line generated configuration (`sipvm_tests::gen::generate`) compiles.

#![cfg(has_gen)]

use sipvm_lang::compile::{compile_str, CompileOptions};

#[test]
fn generated_5000_line_config_compiles() {
    let text = sipvm_tests::gen::generate(5000);
    let lines = text.lines().count();
    assert!(lines >= 4500, "generate(5000) gave only {lines} lines");
    let start = std::time::Instant::now();
    let compiled = compile_str(
        "generated.cfg",
        &text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    );
    let took = start.elapsed();
    match compiled {
        Ok(c) => {
            assert!(!c.program.routes.is_empty(), "no routes compiled");
            eprintln!("compiled {lines} lines in {took:?}");
        }
        Err(f) => panic!("the generated config does not compile:\n{}", f.render()),
    }
}
