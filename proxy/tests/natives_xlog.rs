//! xlog's natives on a `Ctx`: return codes of `buf_size`, `xlogm`'s `methods_filter`
//! (requests by method, replies by their CSeq method), `$C`, and the parameters `sipvm check`
//! refuses. What the lines say, side by side with Kamailio: `e2e_xlog.rs`.

mod natives_common;
use natives_common::*;
use sipvm_lang::compile::ModParamSetting;
use sipvm_vm::{PvIdx, PvKey, Value};

const MESSAGE: &str = "MESSAGE sip:x@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:a@127.0.0.1>;tag=1
To: <sip:x@127.0.0.1>
Call-ID: x-1
CSeq: 1 MESSAGE
Content-Length: 0

";

const REPLY: &str = "SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:a@127.0.0.1>;tag=1
To: <sip:x@127.0.0.1>;tag=2
Call-ID: x-1
CSeq: 1 OPTIONS
Content-Length: 0

";

#[test]
fn buf_size_bounds_the_text() {
    // A line is formatted only when the filter lets it through (Kamailio's `is_printable`).
    sipvm_proxy::logging::init(&sipvm_proxy::logging::Sink::Stderr, "info");
    let mut env = Env::with_params(MESSAGE, &[("xlog", "buf_size", Value::Int(10))]);
    let mut ctx = env.ctx();
    assert_eq!(
        call(&mut ctx, "xlog", "xlog", &[s("L_ERR"), s("123456789")]),
        1
    );
    assert_eq!(
        call(&mut ctx, "xlog", "xlog", &[s("L_ERR"), s("1234567890")]),
        -1
    );
    assert_eq!(call(&mut ctx, "xlog", "xerr", &[s("12345678\n")]), 1);
    assert_eq!(call(&mut ctx, "xlog", "xlogl", &[s("1234567890")]), -1);
}

#[test]
fn xlogm_follows_methods_filter() {
    let m = |text: &str, filter: Option<i64>| {
        sipvm_proxy::logging::init(&sipvm_proxy::logging::Sink::Stderr, "info");
        let mut params: Vec<(&str, &str, Value)> = filter
            .map(|f| ("xlog", "methods_filter", Value::Int(f)))
            .into_iter()
            .collect();
        params.push(("xlog", "buf_size", Value::Int(2)));
        let mut env = Env::with_params(text, &params);
        let mut ctx = env.ctx();
        call(&mut ctx, "xlog", "xlogm", &[s("L_ERR"), s("xyz")])
    };
    // 1 whether or not it logged; a line that logs is formatted, so a text longer than
    // `buf_size` tells the two apart (-1: it was going to log).
    assert_eq!(m(MESSAGE, None), 1);
    assert_eq!(m(MESSAGE, Some(256)), 1);
    assert_eq!(m(REPLY, Some(512)), 1);
    assert_eq!(m(MESSAGE, Some(512)), -1);
    assert_eq!(m(REPLY, Some(256)), -1);
}

#[test]
fn colors_are_escapes_on_stderr() {
    let mut env = Env::new(MESSAGE);
    let mut ctx = env.ctx();
    let get = sipvm_proxy::modules::find("xlog").unwrap().pvs[0].get;
    let key = |name| PvKey {
        pv: PvIdx(0),
        name: Some(name),
        index: None,
    };
    // No subscriber set up: the server's default sink, stderr.
    assert_eq!(
        get(&mut ctx, key("Rb")).unwrap(),
        Value::str("\x1b[1;31;44m")
    );
    assert_eq!(
        get(&mut ctx, key("xx")).unwrap(),
        Value::str("\x1b[0;39;49m")
    );
    assert!(get(&mut ctx, key("zz")).is_err());
    assert!(get(&mut ctx, key("r")).is_err());
}

fn check(param: &str, value: Value) -> Result<(), String> {
    let m = sipvm_proxy::modules::find("xlog").unwrap();
    let set = [ModParamSetting {
        module: "xlog".into(),
        param: param.into(),
        value,
    }];
    (m.check.unwrap())(&set)
}

#[test]
fn settings_sipvm_cannot_honour_are_refused() {
    assert!(check("log_colors", Value::str("l_err=Rx"))
        .unwrap_err()
        .contains("log_colors"));
    assert!(check("buf_size", Value::Int(0)).is_err());
    assert!(check("log_facility", Value::str("LOG_NOPE")).is_err());
    assert!(check("log_facility", Value::str("LOG_LOCAL3")).is_ok());
    assert!(check("prefix", Value::str("[$ci] ")).is_ok());
    let m = sipvm_proxy::modules::find("xlog").unwrap();
    let both = [
        ModParamSetting {
            module: "xlog".into(),
            param: "prefix".into(),
            value: Value::str("[$ci] "),
        },
        ModParamSetting {
            module: "xlog".into(),
            param: "prefix_mode".into(),
            value: Value::Int(1),
        },
    ];
    assert!((m.check.unwrap())(&both)
        .unwrap_err()
        .contains("prefix_mode"));
}

#[test]
fn setdebug_and_resetdebug_answer_1() {
    let mut env = Env::new(MESSAGE);
    let mut ctx = env.ctx();
    assert_eq!(call(&mut ctx, "kex", "setdebug", &[i(3)]), 1);
    assert_eq!(call(&mut ctx, "kex", "resetdebug", &[]), 1);
    assert!(call_err(&mut ctx, "kex", "setdebug", &[s("x")]).contains("not an integer"));
}
