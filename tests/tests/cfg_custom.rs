//! Run-time changes of custom parameters: at once, staged, reset, and across reloads.

use sipvm_cfg::{CustomError, Live};
use sipvm_lang::CompileOptions;
use sipvm_vm::Value;
use std::sync::Arc;

struct Dir(std::path::PathBuf);
impl Dir {
    fn new() -> Dir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("sipvm-custom-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cfg(params: &str) -> String {
    format!(
        "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\n{params}\nrequest_route {{\n    sl_send_reply(\"200\", \"OK\");\n}}\n"
    )
}

const PARAMS: &str = "pstn.gw_ip = \"127.0.0.9\" desc \"PSTN GW Address\"\npstn.gw_port = 5090 desc \"port\"\npstn.enabled = 1 desc \"on\"\nother.x = 7";

fn load(d: &Dir, text: &str) -> Live {
    let f = d.write("a.cfg", text);
    Live::load(
        &f,
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap()
}

fn val(live: &Live, g: &str, n: &str) -> Value {
    live.current().custom(g, n).unwrap().value.clone()
}

#[test]
fn set_now_swaps_a_snapshot_sharing_the_program() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    let before = live.current();
    let after = live
        .set_custom("pstn", "gw_ip", Value::str("10.0.0.1"))
        .unwrap();
    assert!(Arc::ptr_eq(&before.program, &after.program));
    assert_eq!(after.generation, before.generation);
    assert_eq!(val(&live, "pstn", "gw_ip"), Value::str("10.0.0.1"));
    // the old snapshot is untouched (a worker holding it sees the old value)
    assert_eq!(
        before.custom("pstn", "gw_ip").unwrap().value,
        Value::str("127.0.0.9")
    );
    // conversions as Kamailio: int into a string param, numeric string into an int param
    live.set_custom("pstn", "gw_ip", Value::Int(5)).unwrap();
    assert_eq!(val(&live, "pstn", "gw_ip"), Value::str("5"));
    live.set_custom("pstn", "gw_port", Value::str("5099"))
        .unwrap();
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(5099));
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    let before = live.current();
    assert_eq!(
        live.set_custom("pstn", "nosuch", Value::Int(1)).err(),
        Some(CustomError::Unknown {
            group: "pstn".into(),
            name: "nosuch".into()
        })
    );
    assert!(matches!(
        live.set_custom("pstn", "gw_port", Value::str("abc")),
        Err(CustomError::NotInt { .. })
    ));
    // Issue #19: 32-bit integers as Kamailio keeps them, and no CR/LF/NUL in a string.
    for n in [i64::MAX, 2_147_483_648, -2_147_483_649] {
        assert!(matches!(
            live.set_custom("pstn", "gw_port", Value::Int(n)),
            Err(CustomError::OutOfRange { .. })
        ));
    }
    for s in ["a\r\nX-Injected: 1", "a\nb", "a\0b"] {
        assert!(matches!(
            live.set_custom("pstn", "gw_ip", Value::str(s)),
            Err(CustomError::ControlChars { .. })
        ));
    }
    assert!(live.stage_custom("nogroup", "x", Value::Int(1)).is_err());
    assert_eq!(
        live.reset_custom("nogroup").err(),
        Some(CustomError::UnknownGroup("nogroup".into()))
    );
    assert!(Arc::ptr_eq(&before, &live.current()));
    assert!(live.staged_custom().is_empty());
}

#[test]
fn delayed_changes_commit_together_or_roll_back() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    live.stage_custom("pstn", "gw_port", Value::Int(5099))
        .unwrap();
    live.stage_custom("pstn", "gw_ip", Value::str("10.0.0.1"))
        .unwrap();
    live.stage_custom("pstn", "gw_port", Value::Int(5098))
        .unwrap();
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(5090));
    let diff = live.staged_custom();
    assert_eq!(diff.len(), 2);
    assert_eq!(
        (diff[1].name.as_str(), &diff[1].old, &diff[1].new),
        ("gw_port", &Value::Int(5090), &Value::Int(5098))
    );
    let before = live.current();
    let s = live.commit_custom().unwrap();
    assert!(Arc::ptr_eq(&before.program, &s.program));
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(5098));
    assert_eq!(val(&live, "pstn", "gw_ip"), Value::str("10.0.0.1"));
    assert!(live.staged_custom().is_empty());

    live.stage_custom("pstn", "enabled", Value::Int(0)).unwrap();
    assert_eq!(live.discard_custom(), 1);
    let same = live.current();
    live.commit_custom().unwrap();
    assert!(
        Arc::ptr_eq(&same, &live.current()),
        "empty commit swaps nothing"
    );
    assert_eq!(val(&live, "pstn", "enabled"), Value::Int(1));
}

#[test]
fn reset_restores_the_declared_values_of_a_group() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    live.set_custom("pstn", "gw_port", Value::Int(1)).unwrap();
    live.set_custom("pstn", "enabled", Value::Int(0)).unwrap();
    live.set_custom("other", "x", Value::Int(8)).unwrap();
    live.reset_custom("pstn").unwrap();
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(5090));
    assert_eq!(val(&live, "pstn", "enabled"), Value::Int(1));
    assert_eq!(val(&live, "other", "x"), Value::Int(8));
    assert_eq!(
        live.declared_custom("other", "x").unwrap().value,
        Value::Int(7)
    );
}

#[test]
fn runtime_values_survive_a_reload_unless_the_declaration_changes() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    live.set_custom("pstn", "gw_ip", Value::str("10.0.0.1"))
        .unwrap();
    live.set_custom("pstn", "gw_port", Value::Int(5099))
        .unwrap();
    live.set_custom("pstn", "enabled", Value::Int(0)).unwrap();
    live.set_custom("other", "x", Value::Int(9)).unwrap();
    // gw_ip: same declaration → kept; gw_port: new declared value → file wins;
    // enabled: now a string → file wins; other.x: same → kept; new.y: new → file.
    let b = d.write(
        "b.cfg",
        &cfg("pstn.gw_ip = \"127.0.0.9\" desc \"changed text only\"\npstn.gw_port = 6000\npstn.enabled = \"yes\"\nother.x = 7\nnew.y = 1"),
    );
    let s = live.reload(Some(&b)).unwrap();
    assert_eq!(s.generation, 2);
    assert_eq!(val(&live, "pstn", "gw_ip"), Value::str("10.0.0.1"));
    assert_eq!(
        live.current().custom("pstn", "gw_ip").unwrap().desc,
        "changed text only"
    );
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(6000));
    assert_eq!(val(&live, "pstn", "enabled"), Value::str("yes"));
    assert_eq!(val(&live, "other", "x"), Value::Int(9));
    assert_eq!(val(&live, "new", "y"), Value::Int(1));
    // reset goes back to the new file's declaration
    live.reset_custom("other").unwrap();
    assert_eq!(val(&live, "other", "x"), Value::Int(7));
    // a reload of the same file keeps everything set since
    live.set_custom("pstn", "gw_port", Value::Int(6001))
        .unwrap();
    live.reload(None).unwrap();
    assert_eq!(val(&live, "pstn", "gw_port"), Value::Int(6001));
    assert_eq!(val(&live, "pstn", "gw_ip"), Value::str("10.0.0.1"));
}

#[test]
fn a_set_reaches_the_canary_candidate_too() {
    let d = Dir::new();
    let live = load(&d, &cfg(PARAMS));
    let c = d.write("c.cfg", &cfg(PARAMS));
    live.canary(&c, 50).unwrap();
    live.set_custom("pstn", "enabled", Value::Int(0)).unwrap();
    let r = live.routing();
    let cand = &r.candidate.as_ref().unwrap().running.snapshot;
    assert_eq!(cand.custom("pstn", "enabled").unwrap().value, Value::Int(0));
    assert_eq!(r.candidate.as_ref().unwrap().percent, 50);
}
