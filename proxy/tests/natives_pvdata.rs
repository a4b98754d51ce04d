//! pv's xavp functions, jansson, regex and ipops through the table the VM uses: return codes,
//! output pseudo-variables (handed to the VM in `ctx.pv_out`), values read from `$var`
//! (handed in `ctx.pv_in`), and regex's group file reloads. Behaviour against Kamailio is in
//! `e2e_pvdata.rs`.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::regex::{Options, RegexState};
use sipvm_vm::{ArgValue, PvIdx, Value};
use std::sync::Arc;

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: pvdata1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

fn out(n: u32) -> ArgValue<'static> {
    ArgValue::Pv(PvIdx(n))
}

fn text(v: &str) -> Value {
    Value::Str(Arc::from(v))
}

#[test]
fn xavp_explode_then_implode_into_an_output_pv() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "pv", "xavp_params_explode", &[s("a=1;b"), s("p")]),
        1
    );
    assert_eq!(
        call(&mut c, "pv", "xavp_params_implode", &[s("p"), out(0)]),
        1
    );
    assert_eq!(c.pv_out, vec![(PvIdx(0), text("a=1;b;"))]);
    assert_eq!(
        call(&mut c, "pv", "xavp_params_implode", &[s("q"), out(0)]),
        -1
    );
    assert_eq!(call(&mut c, "pv", "xavp_rm", &[s("p")]), 1);
    assert_eq!(call(&mut c, "pv", "xavp_rm", &[s("p")]), 1);
    assert_eq!(
        call(&mut c, "pv", "xavp_params_implode", &[s("p"), out(0)]),
        -1
    );
}

#[test]
fn jansson_reads_the_current_document_from_the_vm() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "jansson",
            "jansson_get",
            &[s("a[1]"), s("{\"a\":[1,true]}"), out(0)]
        ),
        1
    );
    assert_eq!(c.pv_out.pop(), Some((PvIdx(0), Value::Int(1))));
    // The document so far is in $var(j): the VM hands it in.
    c.pv_in.push((PvIdx(1), text("{\"x\":1}")));
    assert_eq!(
        call(
            &mut c,
            "jansson",
            "jansson_set",
            &[s("str"), s("y"), s("z"), out(1)]
        ),
        1
    );
    assert_eq!(
        c.pv_out.pop(),
        Some((PvIdx(1), text("{\"x\":1,\"y\":\"z\"}")))
    );
    c.pv_in.clear();
    // Not a string: the document starts as {}.
    c.pv_in.push((PvIdx(1), Value::Int(0)));
    assert_eq!(
        call(
            &mut c,
            "jansson",
            "jansson_set",
            &[s("int"), s("n"), s("5"), out(1)]
        ),
        1
    );
    assert_eq!(c.pv_out.pop(), Some((PvIdx(1), text("{\"n\":5}"))));
    assert_eq!(
        call(
            &mut c,
            "jansson",
            "jansson_set",
            &[s("int"), s("n"), s("5x"), out(1)]
        ),
        -1
    );
    assert!(c.pv_out.is_empty());
}

#[test]
fn ipops_outputs_and_codes() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(
        call(
            &mut c,
            "ipops",
            "detailed_ip_type",
            &[s("10.0.0.1"), out(0)]
        ),
        1
    );
    assert_eq!(c.pv_out.pop(), Some((PvIdx(0), text("PRIVATE"))));
    assert_eq!(
        call(&mut c, "ipops", "detailed_ipv4_type", &[s("::1"), out(0)]),
        -1
    );
    assert_eq!(call(&mut c, "ipops", "ip_type", &[s("[::1]")]), 3);
    assert_eq!(
        call(
            &mut c,
            "ipops",
            "is_in_subnet",
            &[s("192.0.2.7"), s("192.0.2.0/24")]
        ),
        1
    );
    assert_eq!(
        call(
            &mut c,
            "ipops",
            "dns_query",
            &[s("no-such-host.invalid"), s("d")]
        ),
        -4
    );
    assert_eq!(
        call(
            &mut c,
            "ipops",
            "dns_sys_match_ip",
            &[s("127.0.0.1"), s("127.0.0.1")]
        ),
        1
    );
}

#[test]
fn regex_without_a_file_and_refused_patterns() {
    let mut e = Env::new(OPTIONS);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "regex", "pcre_match_group", &[s("x")]), -2);
    assert_eq!(
        call(&mut c, "regex", "pcre_match", &[s("abc"), s("^ab")]),
        1
    );
    // The regex crate runs in linear time: no look-around, no back-references.
    assert_eq!(
        call(&mut c, "regex", "pcre_match", &[s("aa"), s("(a)\\1")]),
        -4
    );
    assert_eq!(
        call(&mut c, "regex", "pcre_match", &[s("ab"), s("a(?=b)")]),
        -4
    );
}

#[test]
fn regex_groups_reload_and_a_bad_file_keeps_the_old_ones() {
    let dir = std::env::temp_dir().join(format!("sipvm-regex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("groups");
    std::fs::write(&file, "[0]\n^alice\n").unwrap();
    let st = RegexState::new(
        Some(file.display().to_string()),
        20,
        8192,
        Options {
            caseless: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(st.groups()[0].is_match(b"ALICE"));
    std::fs::write(&file, "[0]\n^bob\n[1]\n^carol\n").unwrap();
    assert_eq!(st.reload(), Ok(2));
    assert!(!st.groups()[0].is_match(b"alice"));
    assert!(st.groups()[1].is_match(b"Carol"));
    std::fs::write(&file, "[0]\n(a)\\1\n").unwrap();
    assert!(st.reload().is_err());
    assert_eq!(st.groups().len(), 2);
    std::fs::write(&file, "^no group\n").unwrap();
    assert!(RegexState::new(
        Some(file.display().to_string()),
        20,
        8192,
        Options::default()
    )
    .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
