//! Interpreter benchmarks. One `Vm` is reused across iterations, as a worker reuses its VM
//! for every message.
//!
//! * `rr_stateful/*`: one `request_route` run of `shared/examples/08-round-robin-stateful.cfg`
//!   for a sample INVITE. `$shv(i)` lives in the host and flips on every run, so successive
//!   iterations take the two branches of the round robin in turn. `test_host` is the recording
//!   `TestHost` (plus `is_method`/`has_totag` answered from `$rm`/`$tt`); `lean_host` is a host
//!   with no bookkeeping, to show the interpreter's own share.
//! * `dispatch/*`: micro-benchmarks with no host work: a `while` loop of 1000 iterations, a
//!   100-arm if/else chain whose last arm matches, string concatenation.
//!
//! `cargo bench -p sipvm-benches --bench vm`

use criterion::{criterion_group, criterion_main, Criterion};
use sipvm_benches::{host_program, shared_dir, InviteHost, LeanHost};
use sipvm_vm::{Program, RouteIdx, RouteKind, TestHost, Value, Vm};
use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

fn request_route(p: &Program) -> RouteIdx {
    p.route(RouteKind::Request, "").expect("a request_route")
}

fn round_robin(c: &mut Criterion) {
    let path = shared_dir().join("examples/08-round-robin-stateful.cfg");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("skipping rr_stateful: cannot read {}: {e}", path.display());
            return;
        }
    };
    let prog = host_program(&path.to_string_lossy(), &text);
    let entry = request_route(&prog);

    // Both branches are taken: two runs send the INVITE to :5081 and :5082.
    let mut vm = Vm::new();
    let mut host = InviteHost::new();
    let mut targets = Vec::new();
    for _ in 0..2 {
        host.reset();
        vm.run(&prog, entry, &mut host).expect("runs");
        targets.extend(
            host.inner
                .call_log()
                .into_iter()
                .filter(|c| c.starts_with("rewritehostport")),
        );
    }
    assert_eq!(
        targets,
        [
            "rewritehostport(\"127.0.0.1:5081\")",
            "rewritehostport(\"127.0.0.1:5082\")"
        ],
        "the round robin alternates"
    );

    let mut g = c.benchmark_group("rr_stateful");
    g.sample_size(50)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    g.bench_function("test_host", |b| {
        b.iter(|| {
            host.reset();
            black_box(vm.run(&prog, entry, &mut host).expect("runs"))
        })
    });
    let mut lean = LeanHost::default();
    g.bench_function("lean_host", |b| {
        b.iter(|| black_box(vm.run(&prog, entry, &mut lean).expect("runs")))
    });
    g.finish();
}

/// A configuration with only a `request_route` holding `body`.
fn script(body: &str) -> Program {
    let text = format!("max_while_loops=100000\nrequest_route {{\n{body}}}\n");
    host_program("bench.cfg", &text)
}

fn dispatch(c: &mut Criterion) {
    let mut g = c.benchmark_group("dispatch");
    g.sample_size(50)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    let mut vm = Vm::new();
    let mut host = TestHost::new();

    // A tight loop: 1000 iterations of compare, add, store, jump.
    let p = script("\t$var(i) = 0;\n\twhile ($var(i) < 1000) {\n\t\t$var(i) = $var(i) + 1;\n\t}\n");
    let r = request_route(&p);
    vm.run(&p, r, &mut host).expect("runs");
    assert_eq!(vm.var("i"), Some(&Value::Int(1000)));
    g.bench_function("while_1000", |b| {
        b.iter(|| black_box(vm.run(&p, r, &mut host).expect("runs")))
    });

    // A 100-arm if/else-if chain on an integer; the last arm matches.
    let mut body = String::from("\t$var(x) = 99;\n");
    for i in 0..100 {
        let kw = if i == 0 { "\tif" } else { " else if" };
        write!(body, "{kw} ($var(x) == {i}) {{\n\t\t$var(hit) = {i};\n\t}}").unwrap();
    }
    body.push('\n');
    let p = script(&body);
    let r = request_route(&p);
    vm.run(&p, r, &mut host).expect("runs");
    assert_eq!(vm.var("hit"), Some(&Value::Int(99)));
    g.bench_function("if_chain_100", |b| {
        b.iter(|| black_box(vm.run(&p, r, &mut host).expect("runs")))
    });

    // String concatenation: 20 URIs built from 7 parts each (strings and an integer).
    let mut body = String::from(
        "\t$var(user) = \"alice\";\n\t$var(host) = \"example.com\";\n\t$var(port) = 5060;\n",
    );
    for i in 0..20 {
        writeln!(
            body,
            "\t$var(u{i}) = \"sip:\" + $var(user) + \"{i}@\" + $var(host) + \":\" + $var(port) + \";transport=udp\";"
        )
        .unwrap();
    }
    let p = script(&body);
    let r = request_route(&p);
    vm.run(&p, r, &mut host).expect("runs");
    assert_eq!(
        vm.var("u7"),
        Some(&Value::from("sip:alice7@example.com:5060;transport=udp"))
    );
    g.bench_function("concat_20x7", |b| {
        b.iter(|| black_box(vm.run(&p, r, &mut host).expect("runs")))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = round_robin, dispatch
}
criterion_main!(benches);
