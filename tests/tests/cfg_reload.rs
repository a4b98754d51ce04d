//! Loading and reloading snapshots from files.

use sipvm_cfg::{Live, LoadError};
use sipvm_lang::CompileOptions;
use std::path::PathBuf;

fn dir() -> tempdir::Dir {
    tempdir::Dir::new()
}

/// A scratch folder removed on drop (no extra crate needed).
mod tempdir {
    use std::path::{Path, PathBuf};
    pub struct Dir(PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = std::env::temp_dir().join(format!("sipvm-cfg-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const A: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"200\", \"OK\");\n}\n";
const B: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"202\", \"Accepted\");\n}\n";
const BROKEN: &str = "listen=udp:127.0.0.1:5060\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"202\", \"Accepted\")\n}\n";
const OTHER_PORT: &str = "listen=udp:127.0.0.1:5070\nloadmodule \"sl.so\"\nrequest_route {\n    sl_send_reply(\"200\", \"OK\");\n}\n";

fn write(d: &tempdir::Dir, name: &str, text: &str) -> String {
    let p: PathBuf = d.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn first_reply_code(live: &Live) -> String {
    let s = live.current();
    let listing = sipvm_vm::disasm::disassemble(&s.program);
    listing
        .lines()
        .find(|l| l.contains("sl_send_reply"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn reload_swaps_generations_and_refuses_bad_files() {
    let d = dir();
    let a = write(&d, "a.cfg", A);
    let b = write(&d, "b.cfg", B);
    let broken = write(&d, "broken.cfg", BROKEN);
    let live = Live::load(
        &a,
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap();
    assert_eq!(live.current().generation, 1);
    assert!(first_reply_code(&live).contains("200"));

    let s = live.reload(Some(&b)).unwrap();
    assert_eq!(s.generation, 2);
    assert!(first_reply_code(&live).contains("202"));

    match live.reload(Some(&broken)) {
        Err(LoadError::Compile { diagnostics, .. }) => {
            assert!(diagnostics.contains("broken.cfg:4:"), "{diagnostics}")
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
    assert_eq!(
        live.current().generation,
        2,
        "a failed reload changes nothing"
    );
    assert!(first_reply_code(&live).contains("202"));

    // Reload of the running file (b) again.
    assert_eq!(live.reload(None).unwrap().generation, 3);
}

#[test]
fn restart_only_parameters_are_refused() {
    let d = dir();
    let a = write(&d, "a.cfg", A);
    let moved = write(&d, "moved.cfg", OTHER_PORT);
    let live = Live::load(
        &a,
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap();
    match live.reload(Some(&moved)) {
        Err(LoadError::NeedsRestart { params, .. }) => assert_eq!(params, vec!["listen"]),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(live.current().generation, 1);
}

#[test]
fn a_worker_cache_sees_the_swap() {
    let d = dir();
    let a = write(&d, "a.cfg", A);
    let b = write(&d, "b.cfg", B);
    let live = Live::load(
        &a,
        CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap();
    let mut cache = live.cache();
    assert_eq!(cache.load().generation, 1);
    live.reload(Some(&b)).unwrap();
    assert_eq!(cache.load().generation, 2);
}
