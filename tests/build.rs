//! Enables the generated-config test once `src/gen.rs` (written separately) exists.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_gen)");
    println!("cargo::rerun-if-changed=src");
    if std::path::Path::new("src/gen.rs").exists() {
        println!("cargo::rustc-cfg=has_gen");
    }
}
