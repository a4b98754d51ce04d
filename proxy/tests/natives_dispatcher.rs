//! dispatcher natives on a `Ctx`: which header each hash algorithm reads, the failover order
//! of `ds_next_dst`, `ds_mark_dst` on the current candidate, `ds_is_from_list`'s match modes.

mod natives_common;
use natives_common::*;
use sipvm_proxy::modules::dispatcher::state::{Config, Dispatcher, INACTIVE};
use std::collections::HashSet;
use std::path::PathBuf;

const REQ: &str = "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1;rport
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: c1@example.com
CSeq: 1 INVITE
Max-Forwards: 70
Content-Length: 0

";

const FIVE: &str = "1 sip:127.0.0.1:5081\n1 sip:127.0.0.1:5082\n1 sip:127.0.0.1:5083\n\
                    1 sip:127.0.0.1:5084\n1 sip:127.0.0.1:5085\n";

/// A list file in the temp folder, removed on drop.
struct ListFile(PathBuf);

impl ListFile {
    fn new(name: &str, text: &str) -> ListFile {
        let p = std::env::temp_dir().join(format!("sipvm-nd-{}-{name}.list", std::process::id()));
        std::fs::write(&p, text).unwrap();
        ListFile(p)
    }
}

impl Drop for ListFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn config(list: &ListFile, flags: i64) -> Config {
    Config::with_list(list.0.clone(), flags)
}

fn env(msg_text: &str, list: &ListFile, flags: i64) -> Env {
    let mut e = Env::new(msg_text);
    e.shared
        .set_state(Dispatcher::with_config(config(list, flags)));
    assert!(e
        .shared
        .state::<sipvm_proxy::modules::dispatcher::Dispatcher>()
        .startup_error
        .is_none());
    e
}

/// `$du` after `ds_select_dst(1, alg)` on `msg_text`.
fn selected(msg_text: &str, list: &ListFile, alg: i64) -> String {
    let mut e = env(msg_text, list, 2);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(alg)]),
        1
    );
    c.dst_uri.clone().unwrap()
}

fn with(header: &str, value: &str) -> String {
    REQ.lines()
        .map(|l| {
            if l.starts_with(&format!("{header}:")) {
                format!("{header}: {value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n\n"
}

#[test]
fn each_hash_algorithm_reads_its_header() {
    let l = ListFile::new("hash", FIVE);
    // (algorithm, header it hashes, a header it ignores)
    let cases = [
        (0, "Call-ID", "From"),
        (1, "From", "Call-ID"),
        (2, "To", "From"),
    ];
    for (alg, used, ignored) in cases {
        let value = |n: usize| match used {
            "Call-ID" => format!("call-{n}@example.com"),
            h => format!(
                "<sip:user{n}@example.com>{}",
                if h == "From" { ";tag=x" } else { "" }
            ),
        };
        let mut seen = HashSet::new();
        for n in 0..100 {
            let m = with(used, &value(n));
            let du = selected(&m, &l, alg);
            assert_eq!(selected(&m, &l, alg), du, "alg {alg} is deterministic");
            let other = match ignored {
                "Call-ID" => format!("other-{n}@example.org"),
                _ => format!("<sip:carol-{n}@example.org>;tag=t{n}"),
            };
            let line = REQ.lines().find(|x| x.starts_with(ignored)).unwrap();
            let m2 = m.replace(line, &format!("{ignored}: {other}"));
            assert_ne!(m2, m);
            assert_eq!(selected(&m2, &l, alg), du, "alg {alg} ignores {ignored}");
            seen.insert(du);
        }
        assert!(seen.len() >= 4, "alg {alg} spreads: {seen:?}");
    }
    // Algorithm 3: the R-URI as rewritten.
    let mut seen = HashSet::new();
    for n in 0..100 {
        let mut e = env(REQ, &l, 2);
        let mut c = e.ctx();
        c.ruri = Some(format!("sip:user{n}@example.com"));
        assert_eq!(
            call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(3)]),
            1
        );
        let du = c.dst_uri.clone().unwrap();
        c.dst_uri = None;
        assert_eq!(
            call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(3)]),
            1
        );
        assert_eq!(c.dst_uri.clone().unwrap(), du);
        seen.insert(du);
    }
    assert!(seen.len() >= 4, "{seen:?}");
}

#[test]
fn next_dst_walks_the_candidates_and_mark_dst_marks_the_current() {
    let l = ListFile::new("next", "1 sip:low 0 1\n1 sip:high 0 9\n1 sip:mid 0 5\n");
    let mut e = env(REQ, &l, 2);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(8)]),
        1
    );
    assert_eq!(c.dst_uri.as_deref(), Some("sip:high"));
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), 1);
    assert_eq!(c.dst_uri.as_deref(), Some("sip:mid"));
    assert_eq!(call(&mut c, "dispatcher", "ds_mark_dst", &[s("ip")]), 1);
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), 1);
    assert_eq!(c.dst_uri.as_deref(), Some("sip:low"));
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), -1);
    drop(c);
    let ds = &e
        .shared
        .state::<sipvm_proxy::modules::dispatcher::Dispatcher>();
    assert_eq!(ds.state_of(1, "sip:mid"), Some(INACTIVE | 8));
    assert_eq!(ds.state_of(1, "sip:high"), Some(0));
    // mid is skipped now, also as a failover candidate; a limit of 2 keeps two.
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(8), i(2)]),
        1
    );
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), 1);
    assert_eq!(c.dst_uri.as_deref(), Some("sip:low"));
    // ds_mark_dst() without a state: inactive.
    assert_eq!(call(&mut c, "dispatcher", "ds_mark_dst", &[]), 1);
    // Past the last candidate nothing is current any more (Kamailio drops it too).
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), -1);
    assert_eq!(call(&mut c, "dispatcher", "ds_mark_dst", &[]), -1);
    drop(c);
    assert_eq!(
        e.shared
            .state::<sipvm_proxy::modules::dispatcher::Dispatcher>()
            .state_of(1, "sip:low"),
        Some(INACTIVE)
    );
}

#[test]
fn without_failover_flag_nothing_is_kept() {
    let l = ListFile::new("nofail", FIVE);
    let mut e = env(REQ, &l, 0);
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(4)]),
        1
    );
    assert!(c.avps.is_empty());
    assert_eq!(call(&mut c, "dispatcher", "ds_next_dst", &[]), -1);
    assert_eq!(call(&mut c, "dispatcher", "ds_mark_dst", &[]), -1);
}

#[test]
fn selection_errors() {
    let l = ListFile::new("err", FIVE);
    let mut e = env(REQ, &l, 2);
    let mut c = e.ctx();
    // A missing set is an error the VM turns into -1, logged and counted.
    let err = call_err(&mut c, "dispatcher", "ds_select_dst", &[i(9), i(4)]);
    assert!(err.contains("destination set [9] not found"), "{err}");
    for alg in [5, 7, 10, 12, 13, 99] {
        let err = call_err(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(alg)]);
        assert!(err.contains(&format!("algorithm {alg}")), "{err}");
        assert!(err.contains("not implemented"), "{err}");
    }
    // ds_select stores the candidates without touching $du.
    assert_eq!(call(&mut c, "dispatcher", "ds_select", &[i(1), i(4)]), 1);
    assert_eq!(c.dst_uri, None);
    assert_eq!(call(&mut c, "dispatcher", "ds_set_dst", &[]), 1);
    assert!(c.dst_uri.is_some());
    drop(c);
    // force_dst 0: an existing $du is kept and the selection fails.
    let mut cfg = config(&l, 2);
    cfg.force_dst = false;
    e.shared.set_state(Dispatcher::with_config(cfg));
    let mut c = e.ctx();
    c.dst_uri = Some("sip:elsewhere".into());
    assert_eq!(
        call(&mut c, "dispatcher", "ds_select_dst", &[i(1), i(4)]),
        -1
    );
    assert_eq!(c.dst_uri.as_deref(), Some("sip:elsewhere"));
}

#[test]
fn is_from_list_match_modes() {
    // The test message comes from 192.0.2.7:5070 over UDP.
    let l = ListFile::new(
        "from",
        "1 sip:127.0.0.1:5081\n2 sip:192.0.2.7:5070\n3 sip:192.0.2.7:5099;transport=udp\n\
         4 sip:192.0.2.7\n",
    );
    let mut e = env(REQ, &l, 2);
    let mut c = e.ctx();
    let is = |c: &mut sipvm_proxy::host::Ctx<'_>, a: &[sipvm_vm::ArgValue<'_>]| {
        call(c, "dispatcher", "ds_is_from_list", a)
    };
    assert_eq!(is(&mut c, &[]), 1);
    assert_eq!(is(&mut c, &[i(1)]), -1);
    assert_eq!(is(&mut c, &[i(2)]), 1);
    // Mode 0 compares the protocol: no transport parameter never matches UDP.
    assert_eq!(is(&mut c, &[i(2), i(0)]), -1);
    // Set 3 has the protocol but another port.
    assert_eq!(is(&mut c, &[i(3), i(0)]), -1);
    assert_eq!(is(&mut c, &[i(3), i(1)]), 1);
    // No port in the URI: any port.
    assert_eq!(is(&mut c, &[i(4)]), 1);
    // Mode 4: active destinations only.
    assert!(e
        .shared
        .state::<Dispatcher>()
        .set_state(2, "sip:192.0.2.7:5070", INACTIVE));
    let mut c = e.ctx();
    assert_eq!(
        call(&mut c, "dispatcher", "ds_is_from_list", &[i(2), i(6)]),
        -1
    );
    assert_eq!(
        call(&mut c, "dispatcher", "ds_is_from_list", &[i(2), i(2)]),
        1
    );
    // A URI instead of the source address.
    let uri = [i(1), i(2), s("sip:127.0.0.1:5081")];
    assert_eq!(call(&mut c, "dispatcher", "ds_is_from_list", &uri), 1);
    let uri = [i(1), i(2), s("sip:127.0.0.1:5082")];
    assert_eq!(call(&mut c, "dispatcher", "ds_is_from_list", &uri), -1);
    assert_eq!(call(&mut c, "dispatcher", "ds_list_exist", &[i(4)]), 1);
    assert_eq!(call(&mut c, "dispatcher", "ds_list_exist", &[i(5)]), -1);
    assert_eq!(call(&mut c, "dispatcher", "ds_is_active", &[i(2)]), -1);
    assert_eq!(call(&mut c, "dispatcher", "ds_is_active", &[i(1)]), 1);
}
