//! cfgutils' natives on a `Ctx`: global flags shared by every message of the server (and
//! their range checks), `core_hash`, `check_route_exists` on a compiled file, the memory
//! reports and `$RANDOM`. Side by side with Kamailio: `e2e_cfgutils.rs`.

mod natives_common;
use natives_common::*;
use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::{PvIdx, PvKey, Value};

const OPTIONS: &str = "OPTIONS sip:x@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:a@127.0.0.1>;tag=1
To: <sip:x@127.0.0.1>
Call-ID: cu-1
CSeq: 1 OPTIONS
Content-Length: 0

";

fn is(ctx: &mut sipvm_proxy::host::Ctx<'_>, f: i64) -> i64 {
    call(ctx, "cfgutils", "is_gflag", &[i(f)])
}

#[test]
fn gflags_start_from_initial_gflags_and_are_shared() {
    let mut env = Env::with_params(OPTIONS, &[("cfgutils", "initial_gflags", Value::Int(5))]);
    let mut ctx = env.ctx();
    assert_eq!(
        [is(&mut ctx, 0), is(&mut ctx, 1), is(&mut ctx, 2)],
        [1, -1, 1]
    );
    assert_eq!(call(&mut ctx, "cfgutils", "set_gflag", &[s("31")]), 1);
    assert_eq!(call(&mut ctx, "cfgutils", "reset_gflag", &[i(0)]), 1);
    drop(ctx);
    // The next message (another Ctx on the same shared state) sees them.
    let mut ctx = env.ctx();
    assert_eq!([is(&mut ctx, 0), is(&mut ctx, 31)], [-1, 1]);
    assert_eq!(
        call_err(&mut ctx, "cfgutils", "set_gflag", &[i(32)]),
        "flag <32> out of range [0..31]"
    );
    assert_eq!(
        call_err(&mut ctx, "cfgutils", "is_gflag", &[s("x")]),
        "bad number <x>"
    );
    assert_eq!(
        call_err(&mut ctx, "cfgutils", "reset_gflag", &[i(-1)]),
        "bad number <-1>"
    );
}

#[test]
fn core_hash_is_kamailios_plus_one() {
    let mut env = Env::new(OPTIONS);
    let mut ctx = env.ctx();
    let h = |ctx: &mut _, a: &str, b: &str, n: i64| {
        call(ctx, "cfgutils", "core_hash", &[s(a), s(b), i(n)])
    };
    // Kamailio 5.6.3's answers (e2e_cfgutils.rs).
    assert_eq!(h(&mut ctx, "abc", "", 4), 3);
    assert_eq!(h(&mut ctx, "alice", "example.org", 0), 2);
    assert_eq!(h(&mut ctx, "a longer string with bytes", "x", 16), 22418);
    assert_eq!(h(&mut ctx, "", "", 3), 1);
    assert_eq!(h(&mut ctx, "5", "", 5), 20);
    assert_eq!(h(&mut ctx, "été", "", 31), 991532794);
    // A negative size is Kamailio's 2 slots.
    assert!((1..=2).contains(&h(&mut ctx, "x", "y", -4)));
}

#[test]
fn routes_are_found_by_name() {
    let cfg = "loadmodule \"cfgutils.so\"\nrequest_route {\n check_route_exists(\"A\");\n}\nroute[A] {\n return 1;\n}\n";
    let c = compile_str(
        "t.cfg",
        cfg,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_or_else(|f| panic!("does not compile:\n{}", f.render()));
    let mut env = Env::with_program(msg(OPTIONS), &[], c.program);
    let mut ctx = env.ctx();
    assert_eq!(
        call(&mut ctx, "cfgutils", "check_route_exists", &[s("A")]),
        1
    );
    assert_eq!(
        call(&mut ctx, "cfgutils", "check_route_exists", &[s("B")]),
        -1
    );
    assert_eq!(
        call(&mut ctx, "cfgutils", "check_route_exists", &[s("")]),
        -1
    );
}

#[test]
fn memory_reports_and_random() {
    let mut env = Env::new(OPTIONS);
    let mut ctx = env.ctx();
    for f in ["pkg_status", "shm_status", "pkg_summary", "shm_summary"] {
        assert_eq!(call(&mut ctx, "cfgutils", f, &[]), 1, "{f}");
    }
    let report = sipvm_proxy::modules::cfgutils::misc::process_memory();
    assert!(report.starts_with("process memory: VmRSS="), "{report}");
    let get = sipvm_proxy::modules::find("cfgutils").unwrap().pvs[0].get;
    let key = || PvKey {
        pv: PvIdx(0),
        name: None,
        index: None,
    };
    let values: Vec<i64> = (0..20)
        .map(|_| match get(&mut ctx, key()).unwrap() {
            Value::Int(n) => n,
            v => panic!("{v:?}"),
        })
        .collect();
    assert!(values.iter().all(|n| (0..=i64::from(i32::MAX)).contains(n)));
    assert!(values.iter().any(|n| *n != values[0]), "{values:?}");
}
