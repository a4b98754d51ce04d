//! dialog's natives through the table the VM uses: `dlg_manage` on an initial INVITE,
//! profiles, dialog flags, `is_known_dlg`, `dlg_bye`, `dlg_set_timeout`, with the module
//! parameters of a snapshot and the dialog table they act on.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::dialog::table::{ByeTo, State};
use sipvm_proxy::modules::dialog::Dlg;
use sipvm_vm::Value;

const INVITE: &str = "INVITE sip:bob@example.org SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: \"Alice\" <sip:alice@example.com>;tag=ftag1
To: <sip:bob@example.org>
Call-ID: d1@example.com
CSeq: 7 INVITE
Contact: <sip:alice@192.0.2.7:5070>
Content-Length: 0

";

fn env(text: &str) -> Env {
    Env::with_params(
        text,
        &[
            (
                "dialog",
                "profiles_with_value",
                Value::Str("caller ; dest".into()),
            ),
            ("dialog", "profiles_no_value", Value::Str("calls".into())),
            ("dialog", "default_timeout", Value::Int(120)),
        ],
    )
}

#[test]
fn dlg_manage_makes_the_dialog_of_an_initial_invite() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "is_known_dlg", &[]), -1);
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(
        call(&mut c, "dialog", "dlg_manage", &[]),
        1,
        "the same dialog again"
    );
    assert_eq!(call(&mut c, "dialog", "is_known_dlg", &[]), 1);
    drop(c);
    let t = &e.shared.state::<Dlg>().table;
    assert_eq!(t.len(), 1);
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    t.with(id, |d| {
        assert_eq!(d.state, State::Unconfirmed);
        assert_eq!(d.from_uri, "sip:alice@example.com");
        assert_eq!(d.to_uri, "sip:bob@example.org");
        assert_eq!(d.caller.contact, "sip:alice@192.0.2.7:5070");
        assert_eq!(d.caller.cseq, 7);
        assert_eq!(d.caller.socket, "udp:127.0.0.1:5060");
        assert_eq!(d.lifetime, 120);
        assert!(d.h_entry < 4096);
    });
}

#[test]
fn dlg_manage_refuses_what_cannot_start_a_dialog() {
    let mut e = env(&INVITE
        .replace("INVITE sip", "MESSAGE sip")
        .replace("7 INVITE", "7 MESSAGE"));
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), -1);
    let mut e = env(&INVITE.replace("<sip:bob@example.org>", "<sip:bob@example.org>;tag=x"));
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dialog", "dlg_manage", &[]),
        -1,
        "unknown in-dialog request"
    );
}

#[test]
fn profiles_are_set_tested_counted_and_unset() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dialog", "set_dlg_profile", &[s("calls")]),
        -1,
        "no dialog yet"
    );
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(call(&mut c, "dialog", "set_dlg_profile", &[s("calls")]), 1);
    assert_eq!(
        call(
            &mut c,
            "dialog",
            "set_dlg_profile",
            &[s("caller"), s("alice")]
        ),
        1
    );
    assert_eq!(call(&mut c, "dialog", "is_in_profile", &[s("calls")]), 1);
    assert_eq!(call(&mut c, "dialog", "is_in_profile", &[s("caller")]), 1);
    assert_eq!(
        call(
            &mut c,
            "dialog",
            "is_in_profile",
            &[s("caller"), s("alice")]
        ),
        1
    );
    assert_eq!(
        call(&mut c, "dialog", "is_in_profile", &[s("caller"), s("bob")]),
        -1
    );
    assert_eq!(call(&mut c, "dialog", "is_in_profile", &[s("dest")]), -1);
    let e1 = call_err(&mut c, "dialog", "set_dlg_profile", &[s("nope")]);
    assert!(e1.contains("profile <nope> not defined"), "{e1}");
    let e2 = call_err(&mut c, "dialog", "get_profile_size", &[s("calls"), s("")]);
    assert!(e2.contains("three-argument form"), "{e2}");
    assert_eq!(
        call(
            &mut c,
            "dialog",
            "unset_dlg_profile",
            &[s("caller"), s("bob")]
        ),
        -1
    );
    assert_eq!(
        call(
            &mut c,
            "dialog",
            "unset_dlg_profile",
            &[s("caller"), s("alice")]
        ),
        1
    );
    assert_eq!(call(&mut c, "dialog", "is_in_profile", &[s("caller")]), -1);
    drop(c);
    let t = &e.shared.state::<Dlg>().table;
    assert_eq!(t.profile_size("calls", None), 1);
    assert_eq!(t.profile_size("caller", None), 0);
}

#[test]
fn dialog_flags_before_and_after_the_dialog() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "dlg_setflag", &[i(3)]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_isflagset", &[i(3)]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(
        call(&mut c, "dialog", "dlg_isflagset", &[i(3)]),
        1,
        "the dialog starts with it"
    );
    assert_eq!(call(&mut c, "dialog", "dlg_setflag", &[i(5)]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_resetflag", &[i(3)]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_isflagset", &[i(3)]), -1);
    assert_eq!(call(&mut c, "dialog", "dlg_isflagset", &[i(5)]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_setflag", &[i(32)]), -1);
    drop(c);
    let t = &e.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    assert_eq!(t.with(id, |d| d.sflags), Some(1 << 5));
}

#[test]
fn dlg_bye_needs_a_confirmed_dialog_and_asks_the_tick_for_byes() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dialog", "dlg_bye", &[s("all")]),
        -1,
        "no dialog"
    );
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(
        call(&mut c, "dialog", "dlg_bye", &[s("callee")]),
        -1,
        "not confirmed"
    );
    let bad = call_err(&mut c, "dialog", "dlg_bye", &[s("everyone")]);
    assert!(bad.contains("invalid parameter"), "{bad}");
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    t.with(id, |d| d.state = State::Confirmed);
    assert_eq!(call(&mut c, "dialog", "dlg_bye", &[s("callee")]), 1);
    assert_eq!(t.due(0, false).0, vec![(id, ByeTo::Callee)]);
}

#[test]
fn dlg_set_timeout_sets_the_lifetime() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_timeout", &[i(30)]),
        -1,
        "no dialog"
    );
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_set_timeout", &[i(0)]), -1);
    assert_eq!(call(&mut c, "dialog", "dlg_set_timeout", &[i(30)]), 1);
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    assert_eq!(t.with(id, |d| d.lifetime), Some(30));
    let (he, hi) = t.with(id, |d| (d.h_entry, d.h_id)).unwrap();
    let args = [i(45), i(he.into()), i(hi.into())];
    assert_eq!(call(&mut c, "dialog", "dlg_set_timeout", &args), 1);
    assert_eq!(t.with(id, |d| d.lifetime), Some(45));
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_timeout", &[i(45), i(1), i(0)]),
        -1
    );
}

#[test]
fn bad_settings_stop_start_up() {
    for (p, v) in [
        ("default_timeout", Value::Int(0)),
        ("dlg_flag", Value::Int(70)),
    ] {
        let snap = snapshot(&[("dialog", p, v)]);
        assert!(sipvm_proxy::modules::shared(&snap).is_err(), "{p}");
    }
    let snap = snapshot(&[
        ("dialog", "profiles_with_value", Value::Str("a".into())),
        ("dialog", "profiles_no_value", Value::Str("a".into())),
    ]);
    assert!(sipvm_proxy::modules::shared(&snap).is_err());
}

#[test]
fn dlg_get_makes_a_dialog_the_message_s() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    t.with(id, |d| d.callee.tag = "ttag1".into());
    drop(c);
    // Another message (an OPTIONS out of the dialog) picks the dialog by its identifiers.
    let other = INVITE
        .replace("d1@example.com", "other")
        .replace("ftag1", "zz");
    let base = env(&other);
    let mut e2 = Env {
        msg: base.msg,
        locals: base.locals,
        out: base.out,
        snap: base.snap,
        shared: e.shared,
    };
    let mut c = e2.ctx();
    assert_eq!(call(&mut c, "dialog", "is_known_dlg", &[]), -1);
    let get = |c: &mut sipvm_proxy::host::Ctx<'_>, a: &str, b: &str, t: &str| {
        call(c, "dialog", "dlg_get", &[s(a), s(b), s(t)])
    };
    assert_eq!(get(&mut c, "d1@example.com", "ftag1", ""), -1);
    assert_eq!(get(&mut c, "d1@example.com", "ftag1", "bad"), -1);
    assert_eq!(
        get(&mut c, "d1@example.com", "ttag1", "ftag1"),
        1,
        "upstream"
    );
    assert_eq!(get(&mut c, "d1@example.com", "ftag1", "ttag1"), 1);
    assert_eq!(call(&mut c, "dialog", "is_known_dlg", &[]), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_set_timeout", &[i(77)]), 1);
    assert_eq!(t_lifetime(&c), 77);
}

fn t_lifetime(c: &sipvm_proxy::host::Ctx<'_>) -> u64 {
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    t.with(id, |d| d.lifetime).unwrap()
}

#[test]
fn dlg_set_timeout_by_profile_changes_the_dialogs_of_a_profile() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(call(&mut c, "dialog", "set_dlg_profile", &[s("calls")]), 1);
    let args = [s("caller"), s("alice")];
    assert_eq!(call(&mut c, "dialog", "set_dlg_profile", &args), 1);
    // Unconfirmed: untouched, as Kamailio.
    let r = call(
        &mut c,
        "dialog",
        "dlg_set_timeout_by_profile",
        &[s("calls"), s("60")],
    );
    assert_eq!(r, 1);
    assert_eq!(t_lifetime(&c), 120);
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    t.with(id, |d| d.state = State::Confirmed);
    let r = call(
        &mut c,
        "dialog",
        "dlg_set_timeout_by_profile",
        &[s("calls"), s("60")],
    );
    assert_eq!(r, 1);
    assert_eq!(t_lifetime(&c), 60);
    let args = [s("caller"), s("bob"), s("90")];
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_timeout_by_profile", &args),
        1
    );
    assert_eq!(t_lifetime(&c), 60, "another value");
    let args = [s("caller"), s("alice"), s("90")];
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_timeout_by_profile", &args),
        1
    );
    assert_eq!(t_lifetime(&c), 90);
    let args = [s("caller"), s(""), s("90")];
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_timeout_by_profile", &args),
        -1
    );
    let err = call_err(
        &mut c,
        "dialog",
        "dlg_set_timeout_by_profile",
        &[s("x"), s("9")],
    );
    assert!(err.contains("not defined"), "{err}");
}

#[test]
fn properties_and_dlg_set_ruri() {
    let mut e = env(INVITE);
    let mut c = e.ctx();
    assert_eq!(call(&mut c, "dialog", "dlg_set_ruri", &[]), -1, "no dialog");
    let p = [s("timeout-noreset")];
    assert_eq!(call(&mut c, "dialog", "dlg_set_property", &p), 1);
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    let t = &c.shared.state::<Dlg>().table;
    let (id, _) = t.find("d1@example.com", "ftag1", None).unwrap();
    assert_eq!(
        t.with(id, |d| d.iflags),
        Some(1 << 3),
        "moved into the dialog"
    );
    assert_eq!(call(&mut c, "dialog", "dlg_reset_property", &p), 1);
    assert_eq!(t.with(id, |d| d.iflags), Some(0));
    assert_eq!(call(&mut c, "dialog", "dlg_set_property", &[s("nope")]), -1);
    let ka = call_err(&mut c, "dialog", "dlg_set_property", &[s("ka-src")]);
    assert!(ka.contains("not implemented"), "{ka}");
    assert_eq!(
        call(&mut c, "dialog", "dlg_set_ruri", &[]),
        -1,
        "no callee contact"
    );
    t.with(id, |d| d.callee.contact = "sip:bob@192.0.2.9:5062".into());
    assert_eq!(call(&mut c, "dialog", "dlg_set_ruri", &[]), 1);
    assert_eq!(c.ruri.as_deref(), Some("sip:bob@192.0.2.9:5062"));
}

#[test]
fn timeout_avp_gives_the_lifetime() {
    let mut e = Env::with_params(
        INVITE,
        &[("dialog", "timeout_avp", Value::Str("$avp(dlg_to)".into()))],
    );
    let mut c = e.ctx();
    c.avps.push(("dlg_to".into(), Value::Int(33)));
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(t_lifetime(&c), 33);
    let mut e = Env::with_params(
        INVITE,
        &[("dialog", "timeout_avp", Value::Str("$avp(dlg_to)".into()))],
    );
    let mut c = e.ctx();
    c.avps.push(("dlg_to".into(), Value::Str("33".into())));
    assert_eq!(call(&mut c, "dialog", "dlg_manage", &[]), 1);
    assert_eq!(t_lifetime(&c), 43200, "a string AVP is not a timeout");
}

#[test]
fn honoured_parameters_are_checked() {
    let ok =
        |p: &str, v: Value| sipvm_proxy::modules::shared(&snapshot(&[("dialog", p, v)])).is_ok();
    assert!(ok("hash_size", Value::Int(1024)));
    assert!(!ok("hash_size", Value::Int(1000)));
    assert!(ok("detect_spirals", Value::Int(1)));
    assert!(!ok("detect_spirals", Value::Int(0)));
    assert!(ok("dlg_match_mode", Value::Int(2)));
    assert!(!ok("dlg_match_mode", Value::Int(0)));
    assert!(ok("timeout_noreset", Value::Int(1)));
    assert!(!ok("timeout_noreset", Value::Int(2)));
    assert!(!ok("early_timeout", Value::Int(-1)));
    assert!(!ok("timeout_avp", Value::Str("$var(x)".into())));
}
