//! Compile-time benchmarks: Kamailio's stock configuration and the generated 5,000-line one,
//! compiled from text in memory (preprocessor included) and through `compile_file`, plus the
//! front-end pieces alone (the preprocessor; the lexer on its output; building the regexes of
//! the `=~` operators) so the rest of a compilation (parser, checks, code generation) can be
//! read off by difference.
//!
//! `cargo bench -p sipvm-benches --bench compile`

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};
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
    // The regexes of the `=~` operators, built as the compiler builds them (one per use), and
    // once per distinct pattern: the cost a pattern cache would leave.
    let pats = match_patterns(&out.text);
    let mut distinct = pats.clone();
    distinct.sort();
    distinct.dedup();
    eprintln!(
        "{name}: {} `=~` patterns, {} distinct",
        pats.len(),
        distinct.len()
    );
    for (label, list) in [("regexes", &pats), ("regexes_distinct", &distinct)] {
        g.bench_function(label, |b| {
            b.iter(|| {
                for p in list.iter() {
                    let re = regex::RegexBuilder::new(black_box(p))
                        .case_insensitive(true)
                        .build()
                        .expect("valid");
                    black_box(re);
                }
            })
        });
    }
}

/// The string literals right of `=~` in `text` (no escapes in them in the benchmarked files).
fn match_patterns(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("=~") {
        rest = rest[i + 2..].trim_start();
        if let Some(r) = rest.strip_prefix('"') {
            if let Some(end) = r.find('"') {
                v.push(r[..end].to_string());
                rest = &r[end..];
            }
        }
    }
    v
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
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
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
    // Tens of milliseconds an iteration: flat sampling keeps the run short.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    phases(&mut g, &path_s, &text);
    file_variant(&mut g, &path_s);
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = stock, generated
}
criterion_main!(benches);
