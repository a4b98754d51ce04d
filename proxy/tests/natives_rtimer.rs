//! rtimer's start-up checks: a timer's route must exist in the file (Kamailio would make an
//! empty one); the timers with routes are scheduled, the others are not.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::rtimer::Rtimer;
use sipvm_vm::Value;

fn str_v(x: &str) -> Value {
    Value::Str(x.into())
}

#[test]
fn a_missing_route_refuses_to_start() {
    let snap = snapshot(&[
        ("rtimer", "timer", str_v("name=t;interval=5")),
        ("rtimer", "exec", str_v("timer=t;route=NOPE")),
    ]);
    let err = sipvm_proxy::modules::shared(&snap).unwrap_err();
    assert!(err.contains("invalid route: NOPE"), "{err}");
}

#[test]
fn only_timers_with_routes_are_scheduled() {
    let snap = snapshot(&[("rtimer", "timer", str_v("name=t;interval=5"))]);
    let shared = sipvm_proxy::modules::shared(&snap).unwrap();
    assert!(shared.state::<Rtimer>().timers.is_empty());
    let bad = snapshot(&[("rtimer", "timer", str_v("name=t;intervl=5"))]);
    assert!(sipvm_proxy::modules::check(&bad.modparams).is_err());
}
