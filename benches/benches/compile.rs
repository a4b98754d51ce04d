//! Compile-time benchmarks: Kamailio's stock configuration and the generated 5,000-line one,
//! compiled from text in memory (preprocessor included) and through `compile_file`, plus the
//! front-end phases alone (preprocess; preprocess output lexed; lexed and parsed) so the rest
//! of a compilation (checks and code generation) can be read off by difference.
//!
//! `cargo bench -p sipvm-benches --bench compile`

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use sipvm_benches::{stock_config, GEN_LINES, STOCK_CFG};
use sipvm_lang::diag::Sources;
use sipvm_lang::pp::{self, FsLoader};
use sipvm_lang::{compile_file, compile_str, CompileOptions};
use std::hint::black_box;
use std::time::Duration;

fn phases(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, name: &str, text: &str) {
    let opts = CompileOptions::default();
    let reg = sipvm_proxy::modules::registry();
    g.bench_function("compile_str", |b| {
        b.iter(|| {
            let c = compile_str(name, black_box(text), &opts, reg).expect("compiles");
            black_box(c.program.code.len())
        })
    });
    g.bench_function("preprocess", |b| {
        b.iter(|| {
            let mut sources = Sources::default();
            let (out, _) =
                pp::preprocess_str(name, black_box(text), &mut sources, &opts.pp, &FsLoader);
            black_box(out.text.len())
        })
    });
    let mut sources = Sources::default();
    let (out, _) = pp::preprocess_str(name, text, &mut sources, &opts.pp, &FsLoader);
    g.bench_function("lex", |b| {
        b.iter(|| black_box(sipvm_lang::lexer::lex(black_box(&out.text)).len()))
    });
    g.bench_function("lex_parse", |b| {
        b.iter(|| {
            let (cfg, recovered, err) = sipvm_lang::parse_raw(black_box(&out.text));
            assert!(err.is_none() && recovered.is_empty());
            black_box(cfg.map(|c| c.items.len()))
        })
    });
}

fn file_variant(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, path: &str) {
    let opts = CompileOptions::default();
    let reg = sipvm_proxy::modules::registry();
    g.bench_function("compile_file", |b| {
        b.iter(|| {
            let c = compile_file(black_box(path), &opts, reg).expect("compiles");
            black_box(c.program.code.len())
        })
    });
}

fn stock(c: &mut Criterion) {
    let Some(text) = stock_config() else { return };
    let mut g = c.benchmark_group("stock_cfg");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    phases(&mut g, STOCK_CFG, &text);
    file_variant(&mut g, STOCK_CFG);
    g.finish();
}

fn generated(c: &mut Criterion) {
    let text = sipvm_tests::gen::generate(GEN_LINES);
    let path = std::env::temp_dir().join(format!(
        "sipvm-bench-gen{GEN_LINES}-{}.cfg",
        std::process::id()
    ));
    std::fs::write(&path, &text).expect("write the generated config");
    let path_s = path.to_string_lossy().into_owned();
    let mut g = c.benchmark_group(format!("gen{GEN_LINES}_cfg"));
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    phases(&mut g, &path_s, &text);
    file_variant(&mut g, &path_s);
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, stock, generated);
criterion_main!(benches);
