//! acc's `acc_log_request` through the table the VM uses: the record's text (Kamailio's
//! `ACC: request accounted:` line), the comment's code, the stock `log_extra` evaluated on
//! the message, and the return code.

mod natives_common;
use natives_common::*;
use sipvm_vm::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};

const OPTIONS: &str = "OPTIONS sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=ftag1
To: <sip:bob@example.org>
Call-ID: c1
CSeq: 1 OPTIONS
Content-Length: 0

";

const EXTRA: &str =
    "src_user=$fU;src_domain=$fd;src_ip=$si;dst_ouser=$tU;dst_user=$rU;dst_domain=$rd";

/// An environment whose snapshot loads acc.so with the stock settings.
fn env(text: &str) -> Env {
    env_with(text, &[])
}

/// The stock settings and `more`.
fn env_with(text: &str, more: &[(&str, &str, Value)]) -> Env {
    let mut params = vec![
        ("acc", "log_flag", Value::Int(1)),
        ("acc", "log_extra", Value::Str(EXTRA.into())),
    ];
    params.extend(more.iter().cloned());
    let mut snap = snapshot(&params);
    snap.modules = Arc::from(vec!["acc".to_string()]);
    let shared = sipvm_proxy::modules::shared(&snap).expect("acc state");
    let base = Env::new(text);
    Env {
        msg: msg(text),
        locals: base.locals,
        out: base.out,
        snap,
        shared,
    }
}

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `f` logs, as text.
fn logged(f: impl FnOnce()) -> String {
    let buf = Buf::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::with_default(sub, f);
    let out = buf.0.lock().unwrap().clone();
    String::from_utf8(out).unwrap()
}

fn record(log: &str) -> String {
    let l = log.lines().find(|l| l.contains("ACC: ")).expect("a record");
    let r = &l[l.find("ACC: ").unwrap()..];
    regex::Regex::new(r"timestamp=\d+")
        .unwrap()
        .replace(r, "timestamp=T")
        .into_owned()
}

#[test]
fn a_comment_without_code_is_the_reason() {
    let mut e = env(OPTIONS);
    let log = logged(|| {
        let mut c = e.ctx();
        assert_eq!(
            call(&mut c, "acc", "acc_log_request", &[s("options comment")]),
            1
        );
    });
    // Kamailio 5.6.3's line for the same request (tests/golden/acc_records.txt), but $si.
    assert_eq!(
        record(&log),
        "ACC: request accounted: timestamp=T;method=OPTIONS;from_tag=ftag1;to_tag=;call_id=c1;\
         code=;reason=options comment;src_user=alice;src_domain=example.com;src_ip=192.0.2.7;\
         dst_ouser=bob;dst_user=bob;dst_domain=127.0.0.1"
    );
    assert!(log.contains(" INFO acc:"), "L_NOTICE is info: {log}");
}

#[test]
fn three_digits_start_the_code_and_the_current_ruri_is_used() {
    let mut e = env(OPTIONS);
    let log = logged(|| {
        let mut c = e.ctx();
        c.ruri = Some("sip:carol@192.0.2.9".into());
        assert_eq!(
            call(&mut c, "acc", "acc_log_request", &[s("404  Not here")]),
            1
        );
    });
    let r = record(&log);
    assert!(r.contains(";code=404;reason=Not here;"), "{r}");
    assert!(r.ends_with("dst_user=carol;dst_domain=192.0.2.9"), "{r}");
}

#[test]
fn the_level_follows_log_level() {
    let mut snap = snapshot(&[("acc", "log_level", Value::Int(-1))]);
    snap.modules = Arc::from(vec!["acc".to_string()]);
    let shared = sipvm_proxy::modules::shared(&snap).expect("acc state");
    let base = Env::new(OPTIONS);
    let mut e = Env {
        msg: msg(OPTIONS),
        locals: base.locals,
        out: base.out,
        snap,
        shared,
    };
    let log = logged(|| {
        let mut c = e.ctx();
        assert_eq!(call(&mut c, "acc", "acc_log_request", &[s("x")]), 1);
    });
    assert!(log.contains("ERROR acc: ACC: request accounted:"), "{log}");
    // No log_extra: the fixed attributes only.
    assert!(record(&log).ends_with(";code=;reason=x"), "{log}");
}

#[test]
fn acc_request_logs_the_request_and_checks_its_comment() {
    let mut e = env(OPTIONS);
    let log = logged(|| {
        let mut c = e.ctx();
        let args = [s("202 Accepted here"), s("acc")];
        assert_eq!(call(&mut c, "acc", "acc_request", &args), 1);
        assert_eq!(call(&mut c, "acc", "acc_request", &[s(""), s("acc")]), -1);
        assert_eq!(
            call(&mut c, "acc", "acc_request", &[s("a $x"), s("acc")]),
            -1
        );
    });
    assert_eq!(log.matches("ACC: ").count(), 1, "{log}");
    assert_eq!(
        record(&log),
        "ACC: request accounted: timestamp=T;method=OPTIONS;from_tag=ftag1;to_tag=;call_id=c1;\
         code=202;reason=Accepted here;src_user=alice;src_domain=example.com;src_ip=192.0.2.7;\
         dst_ouser=bob;dst_user=bob;dst_domain=127.0.0.1"
    );
    assert!(log.contains("cfg variable detected"), "{log}");
}

#[test]
fn time_mode_adds_kamailios_time_attribute() {
    let cases: [(i64, &str); 4] = [
        (1, r"timestamp=\d+;te=\d+;method="),
        (2, r"timestamp=(\d+);ta=(\d+)\.\d{3};method="),
        (3, r"timestamp=\d+;ta=\d{4}/\d{2};method="),
        (4, r"timestamp=\d+;ta=\d{4}/\d{2};method="),
    ];
    for (mode, re) in cases {
        let mut e = env_with(
            OPTIONS,
            &[
                ("acc", "time_mode", Value::Int(mode)),
                ("acc", "time_attr", Value::Str("ta".into())),
                ("acc", "time_exten", Value::Str("te".into())),
                ("acc", "time_format", Value::Str("%Y/%m".into())),
            ],
        );
        let log = logged(|| {
            let mut c = e.ctx();
            assert_eq!(call(&mut c, "acc", "acc_log_request", &[s("x")]), 1);
        });
        let line = log.lines().find(|l| l.contains("ACC: ")).unwrap();
        let m = regex::Regex::new(re).unwrap().captures(line);
        assert!(m.is_some(), "time_mode {mode}: {line}");
        if mode == 2 {
            let m = m.unwrap();
            assert_eq!(&m[1], &m[2], "the same second: {line}");
        }
    }
}

#[test]
fn acc_extra_size_caps_log_extra() {
    let snap = |n| {
        let mut s = snapshot(&[
            ("acc", "log_extra", Value::Str(EXTRA.into())),
            ("acc", "acc_extra_size", Value::Int(n)),
        ]);
        s.modules = Arc::from(vec!["acc".to_string()]);
        s
    };
    assert!(sipvm_proxy::modules::shared(&snap(5)).is_err(), "6 extras");
    assert!(sipvm_proxy::modules::shared(&snap(6)).is_ok());
}

#[test]
fn bad_settings_stop_start_up() {
    for (p, v) in [
        ("log_facility", Value::Str("LOG_NOPE".into())),
        ("failed_filter", Value::Str("200".into())),
        ("log_flag", Value::Int(99)),
        ("report_ack", Value::Int(1)),
    ] {
        let snap = snapshot(&[("acc", p, v)]);
        assert!(sipvm_proxy::modules::shared(&snap).is_err(), "{p}");
    }
    assert!(
        sipvm_proxy::modules::shared(&snapshot(&[("acc", "report_ack", Value::Int(0))])).is_ok()
    );
    let mut snap = snapshot(&[("acc", "log_extra", Value::Str("u=$nosuchpv".into()))]);
    snap.modules = Arc::from(vec!["acc".to_string()]);
    assert!(sipvm_proxy::modules::shared(&snap).is_err());
}
