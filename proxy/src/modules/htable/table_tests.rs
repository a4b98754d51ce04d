use super::*;

fn table(spec: &str) -> Table {
    Table::new(TableDef::parse(spec).unwrap())
}

fn re(p: &str) -> Regex {
    regex::RegexBuilder::new(p)
        .case_insensitive(true)
        .build()
        .unwrap()
}

#[test]
fn slots_are_kamailios() {
    // kamcmd htable.dump students (16 slots): bob in entry 3, alice in entry 13.
    let t = table("students=>size=4");
    assert_eq!(t.slot_of("bob"), 3);
    assert_eq!(t.slot_of("alice"), 13);
    assert_eq!(core_case_hash(b"Alice"), core_case_hash(b"alice"));
}

#[test]
fn set_get_delete() {
    let t = table("t=>");
    assert_eq!(t.get("a", 100), Value::Null);
    t.set("a", Value::Int(3), 0, 100);
    t.set("b", Value::str("x"), 0, 100);
    assert_eq!(t.get("a", 100), Value::Int(3));
    assert_eq!(t.get("b", 100), Value::str("x"));
    t.set("a", Value::str("now a string"), 0, 100);
    assert_eq!(t.get("a", 100), Value::str("now a string"));
    assert!(t.delete("a", 100));
    assert!(!t.delete("a", 100));
    assert_eq!(t.get_cell("b", 100), Some((Value::str("x"), 0)));
    // Kamailio's C int.
    t.set("big", Value::Int(3_000_000_000), 0, 100);
    assert_eq!(t.get("big", 100), Value::Int(-1_294_967_296));
}

#[test]
fn autoexpire_hides_and_purges() {
    let t = table("t=>size=2;autoexpire=10");
    t.set("k", Value::Int(1), 0, 1000);
    assert_eq!(t.get_cell("k", 1000), Some((Value::Int(1), 1010)));
    assert_eq!(t.expire_in("k", 1004), 6);
    assert_eq!(t.get("k", 1010), Value::Int(1));
    assert_eq!(t.get("k", 1011), Value::Null);
    assert_eq!(t.stats(1011), (0, 0, 0));
    // The sweep removes what no read met.
    t.set("a", Value::Int(1), 0, 2000);
    t.set("b", Value::Int(1), 0, 2005);
    assert_eq!(t.sweep(2012), 1);
    assert_eq!(t.stats(2012).0, 1);
    assert!(t.dump(2016).is_empty());
}

#[test]
fn updateexpire_semantics() {
    let upd = table("t=>autoexpire=10");
    upd.set("k", Value::Int(1), 0, 1000);
    upd.set("k", Value::Int(2), 0, 1008);
    assert_eq!(upd.get_cell("k", 1015), Some((Value::Int(2), 1018)));
    let keep = table("t=>autoexpire=10;updateexpire=0");
    keep.set("k", Value::Int(1), 0, 1000);
    keep.set("k", Value::Int(2), 0, 1008);
    assert_eq!(keep.add("k", 1, 1009), Some(3));
    assert_eq!(keep.get("k", 1011), Value::Null);
    // An explicit expiry wins over both.
    keep.set("x", Value::Int(1), 3, 1000);
    assert_eq!(keep.get_cell("x", 1000).unwrap().1, 1003);
}

#[test]
fn shtex_read_and_write() {
    let t = table("t=>autoexpire=100");
    t.set("k", Value::Int(1), 0, 1000);
    t.set_expire("k", 5, 1000);
    assert_eq!(t.expire_in("k", 1002), 3);
    t.set_expire("k", 0, 1000);
    assert_eq!(t.expire_in("k", 5000), 0);
    assert_eq!(t.get("k", 5000), Value::Int(1));
    // No autoexpire: ignored, always 0.
    let n = table("n=>");
    n.set("k", Value::Int(1), 0, 1000);
    n.set_expire("k", 5, 1000);
    assert_eq!(n.get("k", 9000), Value::Int(1));
    assert_eq!(n.expire_in("k", 1000), 0);
}

#[test]
fn inc_dec() {
    let none = table("t=>");
    assert_eq!(none.add("k", 1, 0), None);
    assert_eq!(none.get("k", 0), Value::Null);
    none.set("k", Value::Int(41), 0, 0);
    assert_eq!(none.add("k", 1, 0), Some(42));
    none.set("s", Value::str("x"), 0, 0);
    assert_eq!(none.add("s", 1, 0), None);

    let init = table("t=>initval=10;autoexpire=5");
    assert_eq!(init.get("k", 100), Value::Int(10));
    assert_eq!(init.add("k", 1, 100), Some(11));
    assert_eq!(init.add("k", -3, 100), Some(8));
    // Expired: starts again from initval.
    assert_eq!(init.add("k", 1, 200), Some(11));
}

#[test]
fn inc_is_atomic_across_threads() {
    let t = Arc::new(table("t=>initval=0"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let t = t.clone();
            std::thread::spawn(move || {
                for _ in 0..1000 {
                    t.add("n", 1, 0);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(t.get("n", 0), Value::Int(4000));
}

#[test]
fn regex_removal_and_counts() {
    let t = table("t=>size=3");
    for (k, v) in [("sip:alice@a", "x1"), ("sip:bob@a", "x2"), ("tel:123", "y")] {
        t.set(k, Value::str(v), 0, 0);
    }
    t.set("n", Value::Int(7), 0, 0);
    assert_eq!(t.count(By::Name, &CountOp::Re(re("^SIP:")), 0), 2);
    assert_eq!(t.count(By::Value, &CountOp::Re(re("^x")), 0), 2);
    assert_eq!(t.count(By::Name, &CountOp::StartsWith("tel"), 0), 1);
    assert_eq!(t.count(By::Name, &CountOp::EndsWith("@a"), 0), 2);
    assert_eq!(t.count(By::Value, &CountOp::Eq("y"), 0), 1);
    assert_eq!(t.count(By::Value, &CountOp::IntEq(7), 0), 1);
    assert_eq!(t.count(By::Name, &CountOp::All, 0), 4);
    assert!(t.any_matching(By::Name, &MatchOp::Eq("tel:123"), 0));
    assert!(!t.any_matching(By::Value, &MatchOp::Eq("7"), 0));
    assert_eq!(t.remove_matching(By::Value, &MatchOp::Re(re("^X")), 0), 2);
    assert_eq!(t.count(By::Name, &CountOp::All, 0), 2);
    assert_eq!(
        t.remove_matching(By::Name, &MatchOp::StartsWith("tel:"), 0),
        1
    );
    assert_eq!(t.dump(0).len(), 1);
    t.reset();
    assert_eq!(t.stats(0), (0, 0, 0));
}

#[test]
fn dump_order_is_by_slot_then_hash() {
    let t = table("students=>size=4");
    t.set("alice", Value::str("A+"), 0, 0);
    t.set("bob", Value::Int(42), 0, 0);
    let d = t.dump(0);
    let got: Vec<(usize, &str)> = d.iter().map(|(i, c)| (*i, &*c[0].name)).collect();
    assert_eq!(got, [(3, "bob"), (13, "alice")]);
    assert_eq!(t.stats(0), (2, 0, 1));
}

#[test]
fn slot_lock_excludes_other_threads_only() {
    let t = Arc::new(table("t=>size=1"));
    let slot = t.slot_of("k");
    t.lock_slot(slot);
    t.lock_slot(slot); // recursive, as Kamailio's
    t.set("k", Value::Int(1), 0, 0); // the owner passes through
    let t2 = t.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        t2.set("k", Value::Int(2), 0, 0);
        tx.send(()).unwrap();
    });
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(100))
        .is_err());
    assert!(t.unlock_slot(slot));
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(100))
        .is_err());
    assert!(t.unlock_slot(slot));
    rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    h.join().unwrap();
    assert_eq!(t.get("k", 0), Value::Int(2));
    assert!(!t.unlock_slot(slot));
}

#[test]
fn replace_swaps_content() {
    let t = table("t=>");
    t.set("old", Value::Int(1), 0, 0);
    t.replace(vec![
        ("a".into(), Value::Int(1), 0),
        ("b".into(), Value::str("x"), 0),
    ]);
    assert_eq!(t.get("old", 0), Value::Null);
    assert_eq!(t.get("b", 0), Value::str("x"));
    assert_eq!(t.stats(0).0, 2);
}
