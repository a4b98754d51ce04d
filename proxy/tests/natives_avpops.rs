//! avpops' natives through the table the VM uses, on the message's AVPs (`ctx.avps`, the
//! core's `$avp` storage): the cases the side-by-side file (`e2e_avpasync.rs`) does not
//! reach, and the parameters Kamailio refuses at start-up, which are host errors here.

mod natives_common;
use natives_common::*;
use sipvm_vm::Value;
use std::sync::Arc;

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: avpops1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

fn set(c: &mut sipvm_proxy::host::Ctx<'_>, name: &str, v: Value) {
    c.avps.push((Arc::from(name), v));
}

fn str_v(s: &str) -> Value {
    Value::Str(Arc::from(s))
}

/// The values of `name`, newest first.
fn vals(c: &sipvm_proxy::host::Ctx<'_>, name: &str) -> Vec<Value> {
    c.avps
        .iter()
        .rev()
        .filter(|(n, _)| &**n == name)
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn delete_by_name_type() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "i:1", Value::Int(1));
    set(&mut c, "i:2", Value::Int(2));
    set(&mut c, "name", str_v("v"));
    assert_eq!(call(&mut c, "avpops", "avp_delete", &[s("i")]), 1);
    assert_eq!(c.avps.len(), 1, "both integer-named AVPs went");
    assert_eq!(call(&mut c, "avpops", "avp_delete", &[s("i")]), -1);
    assert_eq!(call(&mut c, "avpops", "avp_delete", &[s("s")]), 1);
    assert!(c.avps.is_empty());
    // Script flags after the letter are read and, as in Kamailio, ignored.
    assert_eq!(call(&mut c, "avpops", "avp_delete", &[s("a12")]), -1);
}

#[test]
fn copy_keeps_or_reverses_the_order_and_deletes() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    for v in ["1", "2", "3"] {
        set(&mut c, "src", str_v(v));
    }
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_copy",
            &[s("$avp(src)"), s("$avp(dst)/gd")]
        ),
        1
    );
    assert!(vals(&c, "src").is_empty(), "d removed the copied values");
    // Copied newest first, each becoming the newest: the order is reversed.
    assert_eq!(vals(&c, "dst"), vec![str_v("1"), str_v("2"), str_v("3")]);
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_copy",
            &[s("$avp(dst)"), s("$avp(n)/n")]
        ),
        1
    );
    assert_eq!(vals(&c, "n"), vec![Value::Int(1)]);
    set(&mut c, "bad", str_v("x1"));
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_copy",
            &[s("$avp(bad)"), s("$avp(n)/n")]
        ),
        -1
    );
}

#[test]
fn pushto_branches_and_destination() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "b", str_v("sip:b1@example.net"));
    set(&mut c, "b", str_v("sip:b2@example.net"));
    assert_eq!(
        call(&mut c, "avpops", "avp_pushto", &[s("$br"), s("$avp(b)/g")]),
        1
    );
    assert_eq!(c.branches, vec!["sip:b2@example.net", "sip:b1@example.net"]);
    set(&mut c, "i", Value::Int(5));
    assert_eq!(
        call(&mut c, "avpops", "avp_pushto", &[s("$br"), s("$avp(i)")]),
        -1
    );
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_pushto",
            &[s("$ru/username"), s("$avp(i)")]
        ),
        1
    );
    assert_eq!(c.ruri_str(), "sip:5@example.com");
    assert_eq!(
        call(&mut c, "avpops", "avp_pushto", &[s("$ru/domain"), s("$fd")]),
        1
    );
    assert_eq!(c.ruri_str(), "sip:5@example.com");
    assert_eq!(
        call(&mut c, "avpops", "avp_pushto", &[s("$du"), s("$fu")]),
        1
    );
    assert_eq!(c.dst_uri.as_deref(), Some("sip:alice@example.com"));
}

#[test]
fn check_with_header_and_regex_values() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "who", str_v("sip:alice@example.com"));
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_check",
            &[s("$avp(who)"), s("eq/$fu")]
        ),
        1
    );
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_check",
            &[s("$avp(who)"), s("re/@EXAMPLE\\.com$")]
        ),
        1
    );
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_check",
            &[s("$hdr(Call-ID)"), s("fm/avpops*")]
        ),
        1
    );
    set(&mut c, "pat", str_v("^sip:bob"));
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_check",
            &[s("$avp(who)"), s("re/$avp(pat)")]
        ),
        -1
    );
}

#[test]
fn op_keeps_32_bits_and_skips_strings() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "n", Value::Int(i64::from(i32::MAX)));
    set(&mut c, "n", str_v("text"));
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_op",
            &[s("$avp(n)/$avp(r)"), s("add/i:1")]
        ),
        1
    );
    assert_eq!(vals(&c, "r"), vec![Value::Int(i64::from(i32::MIN))]);
    assert_eq!(
        call(
            &mut c,
            "avpops",
            "avp_op",
            &[s("$avp(n)"), s("xor/i:0xff/d")]
        ),
        1
    );
    assert_eq!(
        vals(&c, "n").len(),
        2,
        "the integer was replaced, the string kept"
    );
}

#[test]
fn subst_to_another_avp_and_is_avp_set_flags() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "u", str_v("sip:bob@old.example"));
    let r = call(
        &mut c,
        "avpops",
        "avp_subst",
        &[s("$avp(u)/$avp(v)"), s("/@(.*)$/@$rd/")],
    );
    assert_eq!(r, 1);
    assert_eq!(vals(&c, "v"), vec![str_v("sip:bob@example.com")]);
    assert_eq!(vals(&c, "u").len(), 1, "kept: a destination and no d");
    assert_eq!(call(&mut c, "avpops", "is_avp_set", &[s("$avp(v)/s")]), 1);
    assert_eq!(call(&mut c, "avpops", "is_avp_set", &[s("$avp(v)/n")]), -1);
    assert_eq!(
        call(&mut c, "avpops", "is_avp_set", &[s("$(avp(u)[1])")]),
        -1
    );
}

#[test]
fn parameters_kamailio_refuses_are_host_errors() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    set(&mut c, "a", str_v("x"));
    for (f, args) in [
        ("avp_delete", vec![s("$avp(a)/x")]),
        ("avp_delete", vec![s("q")]),
        ("avp_copy", vec![s("$fu"), s("$avp(b)")]),
        ("avp_copy", vec![s("$avp(a)"), s("$avp(b)/z")]),
        ("avp_pushto", vec![s("$fu"), s("$avp(a)")]),
        ("avp_pushto", vec![s("$ru/host"), s("$avp(a)")]),
        ("avp_check", vec![s("$avp(a)"), s("is/x")]),
        ("avp_check", vec![s("$avp(a)"), s("eq/x/q")]),
        ("avp_op", vec![s("$avp(a)"), s("add/s:x")]),
        ("avp_op", vec![s("$avp(a)"), s("pow/i:2")]),
        ("avp_subst", vec![s("$avp(a)"), s("/x/y/q")]),
        ("is_avp_set", vec![s("$avp(a)/ns")]),
        ("is_avp_set", vec![s("$fu")]),
    ] {
        let err = call_err(&mut c, "avpops", f, &args);
        assert!(err.starts_with(f), "{f}: {err}");
    }
    // $var is the VM's: a native cannot read it.
    let err = call_err(
        &mut c,
        "avpops",
        "avp_check",
        &[s("$avp(a)"), s("eq/$var(x)")],
    );
    assert!(err.contains("$var"), "{err}");
}

#[test]
fn dynamic_avp_names_and_xavps_are_refused_by_name() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    let err = call_err(&mut c, "avpops", "is_avp_set", &[s("$avp($var(n))")]);
    assert!(err.contains("not supported"), "{err}");
    let err = call_err(
        &mut c,
        "avpops",
        "avp_check",
        &[s("$xavp(a=>b)"), s("eq/i:1")],
    );
    assert!(err.contains("xavp"), "{err}");
}
