//! pike's natives through the table the VM uses: `pike_check_req()` on the message's source,
//! `pike_check_ip(ip)` on any address, with the module parameters of a snapshot, and the
//! shared state both count in.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::pike::{Pike, Status};
use sipvm_vm::{RouteKind, Value, Vm};

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: pike1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

fn env(density: i64) -> Env {
    Env::with_params(
        OPTIONS,
        &[
            ("pike", "reqs_density_per_unit", Value::Int(density)),
            ("pike", "sampling_time_unit", Value::Int(60)),
        ],
    )
}

#[test]
fn check_req_counts_the_source_address() {
    let mut e = env(3);
    let mut c = e.ctx();
    let codes: Vec<i64> = (0..5)
        .map(|_| call(&mut c, "pike", "pike_check_req", &[]))
        .collect();
    assert_eq!(codes, [1, 1, -2, -1, -1]);
    drop(c);
    let pike = e.shared.state::<Pike>();
    let rows = pike.table.top(Status::Hot, true, pike.now_ms());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].ip.to_string(), "192.0.2.7", "SRC of the ctx");
    assert_eq!(rows[0].leaf_hits_curr, 5);
    assert_eq!(pike.table.cfg.density, 3);
}

#[test]
fn check_ip_takes_any_address_and_shares_the_count() {
    let mut e = env(3);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "pike", "pike_check_ip", &[s("192.0.2.7")]), 1);
    assert_eq!(call(&mut c, "pike", "pike_check_req", &[]), 1);
    // The same address as the source: the third hit blocks.
    assert_eq!(
        call(&mut c, "pike", "pike_check_ip", &[s(" 192.0.2.7 ")]),
        -2
    );
    // IPv6, bracketed or not, and IPv4-mapped IPv6 (the same as its IPv4 address).
    assert_eq!(
        call(&mut c, "pike", "pike_check_ip", &[s("[2001:db8::1]")]),
        1
    );
    assert_eq!(
        call(&mut c, "pike", "pike_check_ip", &[s("2001:db8::1")]),
        1
    );
    assert_eq!(
        call(&mut c, "pike", "pike_check_ip", &[s("::ffff:192.0.2.7")]),
        -1
    );
}

#[test]
fn check_ip_refuses_what_is_not_an_address() {
    let mut e = env(3);
    let mut c = e.ctx();
    for bad in ["", "example.com", "1.2.3", "1.2.3.4:5060", "::g", "\u{0}"] {
        assert_eq!(
            call(&mut c, "pike", "pike_check_ip", &[s(bad)]),
            -1,
            "{bad:?}"
        );
    }
    assert_eq!(call(&mut c, "pike", "pike_check_ip", &[i(42)]), -1);
    drop(c);
    assert!(e.shared.state::<Pike>().table.is_empty());
}

#[test]
fn defaults_are_kamailios() {
    let e = Env::new(OPTIONS);
    let cfg = &e.shared.state::<Pike>().table.cfg;
    assert_eq!(
        (cfg.unit_ms, cfg.density, cfg.latency_ms, cfg.log_level),
        (2000, 30, 120_000, 0)
    );
}

#[test]
fn bad_parameters_are_refused_before_start() {
    use sipvm_lang::compile::ModParamSetting;
    let set = |p: &str, v: i64| ModParamSetting {
        module: "pike".into(),
        param: p.into(),
        value: Value::Int(v),
    };
    assert!(sipvm_proxy::modules::check(&[set("reqs_density_per_unit", 10)]).is_ok());
    let e = sipvm_proxy::modules::check(&[set("sampling_time_unit", 0)]).unwrap_err();
    assert!(e.starts_with("modparam pike: sampling_time_unit"), "{e}");
}

/// The stock kamailio.cfg's REQINIT shape, compiled and run on the VM: the request that
/// reaches the density is refused and the source banned in an htable.
#[test]
fn reqinit_antiflood_script() {
    let text = "loadmodule \"pv.so\"\nloadmodule \"htable.so\"\nloadmodule \"pike.so\"\n\
        modparam(\"htable\", \"htable\", \"ipban=>size=8;autoexpire=300;\")\n\
        modparam(\"pike\", \"sampling_time_unit\", 60)\n\
        modparam(\"pike\", \"reqs_density_per_unit\", 4)\n\
        modparam(\"pike\", \"remove_latency\", 4)\n\
        request_route {\n\
            if ($sht(ipban=>$si) != $null) { return 2; }\n\
            if (!pike_check_req()) { $sht(ipban=>$si) = 1; return 3; }\n\
            return 1;\n\
        }\n";
    let c = match sipvm_lang::compile_str(
        "t.cfg",
        text,
        &sipvm_lang::CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c,
        Err(f) => panic!("does not compile:\n{}", f.render()),
    };
    let params: Vec<(&str, &str, Value)> = c
        .modparams
        .iter()
        .map(|m| (m.module.as_str(), m.param.as_str(), m.value.clone()))
        .collect();
    let mut env = Env::with_program(msg(OPTIONS), &params, c.program);
    let prog = env.snap.program.clone();
    let route = prog.route(RouteKind::Request, "").unwrap();
    let mut rcs = Vec::new();
    for _ in 0..6 {
        let mut ctx = env.ctx();
        let r = Vm::new().run(&prog, route, &mut ctx);
        ctx.finish();
        rcs.push(r.unwrap_or_else(|e| panic!("{}", e.render(&prog))).rc);
    }
    assert_eq!(rcs, [1, 1, 1, 3, 2, 2]);
}
