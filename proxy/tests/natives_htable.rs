//! htable's pseudo-variables and natives in real scripts: compiled, run on the VM against the
//! proxy's `Ctx`, with keys built from message pseudo-variables (`$sht(t=>$si)`).

mod natives_common;
use natives_common::*;
use sipvm_lang::{compile_str, CompileOptions};
use sipvm_vm::{RouteKind, Value, Vm};

const OPTIONS: &str = "OPTIONS sip:carol@example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK-1
From: <sip:alice@example.com>;tag=a1
To: <sip:carol@example.com>
Call-ID: ht1@example.com
CSeq: 1 OPTIONS
Content-Length: 0

";

const HEAD: &str = "loadmodule \"pv.so\"\nloadmodule \"htable.so\"\nloadmodule \"xlog.so\"\n\
    modparam(\"htable\", \"htable\", \"t=>size=4;\")\n\
    modparam(\"htable\", \"htable\", \"c=>size=2;initval=10;autoexpire=60\")\n";

/// Compiles `HEAD` + `route`, runs request_route once and returns the environment.
fn run(body: &str) -> Env {
    let text = format!("{HEAD}request_route {{\n{body}\n}}\n");
    let c = match compile_str(
        "t.cfg",
        &text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c,
        Err(f) => panic!("does not compile:\n{}", f.render()),
    };
    let params: Vec<(&str, &str, Value)> = c
        .modparams
        .iter()
        .map(|m| (m.module.as_str(), m.param.as_str(), m.value.clone()))
        .collect();
    let mut env = Env::with_program(msg(OPTIONS), &params, c.program);
    let prog = env.snap.program.clone();
    let route = prog.route(RouteKind::Request, "").unwrap();
    {
        let mut ctx = env.ctx();
        let r = Vm::new().run(&prog, route, &mut ctx);
        ctx.finish();
        r.unwrap_or_else(|e| panic!("{}", e.render(&prog)));
    }
    env
}

fn get(env: &Env, table: &str, key: &str) -> Value {
    env.shared
        .state::<sipvm_proxy::modules::htable::Htables>()
        .get(table)
        .unwrap()
        .get(key, 0)
}

#[test]
fn sht_with_dynamic_keys() {
    let env = run("$sht(t=>$si) = 1;\n\
         $sht(t=>user:$rU) = \"x\" + $sht(t=>$si);\n\
         $sht(t=>gone) = 5; $sht(t=>gone) = $null;\n\
         if ($sht(t=>nobody) == $null) { $sht(t=>was_null) = 1; }\n\
         $sht(t=>init) = $sht(c=>missing);");
    assert_eq!(get(&env, "t", "192.0.2.7"), Value::Int(1));
    assert_eq!(get(&env, "t", "user:carol"), Value::str("x1"));
    assert_eq!(get(&env, "t", "gone"), Value::Null);
    assert_eq!(get(&env, "t", "was_null"), Value::Int(1));
    assert_eq!(get(&env, "t", "init"), Value::Int(10), "initval of c");
}

#[test]
fn inc_dec_count_and_expire() {
    let env = run(
        "$var(a) = $shtinc(c=>k); $var(b) = $shtinc(c=>k); $var(d) = $shtdec(c=>k);\n\
         $sht(t=>inc) = \"\" + $var(a) + \",\" + $var(b) + \",\" + $var(d);\n\
         $sht(t=>noinit) = $shtinc(t=>x);\n\
         $sht(t=>a1) = \"v1\"; $sht(t=>a2) = \"v2\"; $sht(t=>b1) = 7;\n\
         $sht(t=>ops) = \"\" + $shtcv(t=>eq7) + $shtcn(t=>~%1) + $shtcn(t=>%~a) + $shtcn(t=>eq7);\n\
         $sht(t=>cn) = $shtcn(t=>^a);\n\
         $sht(t=>cv) = $shtcv(t=>==v2);\n\
         $sht(t=>all) = $shtcn(t=>**);\n\
         $shtex(c=>k) = 5;\n\
         $sht(t=>ex) = $shtex(c=>k);",
    );
    assert_eq!(get(&env, "t", "inc"), Value::str("11,12,11"));
    assert_eq!(get(&env, "t", "noinit"), Value::Null, "no initval: $null");
    // As Kamailio 5.6.3 counts: eq7 by value 1, ends with 1: 2, starts with a: 2, eq by name 0.
    assert_eq!(get(&env, "t", "ops"), Value::str("1220"));
    assert_eq!(get(&env, "t", "cn"), Value::Int(2));
    assert_eq!(get(&env, "t", "cv"), Value::Int(1));
    assert_eq!(get(&env, "t", "all"), Value::Int(7));
    let ex = get(&env, "t", "ex").try_int().unwrap();
    assert!((4..=5).contains(&ex), "{ex}");
}

#[test]
fn removal_and_matching_natives() {
    let env = run(
        "$sht(t=>sip:a) = \"keep\"; $sht(t=>sip:b) = \"drop-me\"; $sht(t=>tel:1) = \"x\";\n\
         $sht(t=>n) = 1;\n\
         if (sht_has_name(\"t\", \"eq\", \"tel:1\")) { $sht(t=>has) = 1; }\n\
         if (!sht_match_name(\"t\", \"eq\", \"nope\")) { $sht(t=>hasnot) = 1; }\n\
         if (sht_match_str_value(\"t\", \"sw\", \"drop\")) { $sht(t=>hasval) = 1; }\n\
         sht_rm_value_re(\"t=>^drop\");\n\
         sht_rm_name(\"t\", \"sw\", \"tel:\");\n\
         sht_rm(\"t\", \"n\");\n\
         sht_lock(\"t=>sip:a\"); $sht(t=>sip:a) = \"locked\"; sht_unlock(\"t=>sip:a\");\n\
         sht_setxi(\"c\", \"x\", 3, 100);\n\
         $shtinc(c=>y); sht_rm_name_re(\"c=>^y\");",
    );
    assert_eq!(get(&env, "t", "sip:a"), Value::str("locked"));
    assert_eq!(get(&env, "t", "sip:b"), Value::Null);
    assert_eq!(get(&env, "t", "tel:1"), Value::Null);
    assert_eq!(get(&env, "t", "n"), Value::Null);
    for k in ["has", "hasnot", "hasval"] {
        assert_eq!(get(&env, "t", k), Value::Int(1), "{k}");
    }
    let c = env
        .shared
        .state::<sipvm_proxy::modules::htable::Htables>()
        .get("c")
        .unwrap();
    assert_eq!(c.get_cell("x", 0).map(|(v, _)| v), Some(Value::Int(3)));
    assert_eq!(c.get_cell("y", 0), None);
}

#[test]
fn sht_reset_empties_a_table() {
    let env = run("$sht(t=>a) = 1; $sht(t=>b) = \"x\"; $sht(c=>k) = 1;\n\
         if (sht_reset(\"t\") && $shtcn(t=>**) == 0) { $sht(c=>emptied) = 1; }");
    assert_eq!(get(&env, "c", "emptied"), Value::Int(1));
    assert_eq!(
        env.shared
            .state::<sipvm_proxy::modules::htable::Htables>()
            .get("t")
            .unwrap()
            .stats(0)
            .0,
        0
    );
    assert_eq!(get(&env, "c", "k"), Value::Int(1), "other tables untouched");
}

#[test]
fn a_lock_left_held_is_released_at_the_end() {
    let env = run("sht_lock(\"t=>k\");");
    let t = env
        .shared
        .state::<sipvm_proxy::modules::htable::Htables>()
        .get("t")
        .unwrap();
    // Another thread can take the slot: the script's lock went with the script.
    let t2 = t.clone();
    std::thread::spawn(move || t2.set("k", Value::Int(1), 0, 0))
        .join()
        .unwrap();
    assert_eq!(t.get("k", 0), Value::Int(1));
}

#[test]
fn unknown_table_reads_null_and_a_write_to_it_fails_alone() {
    // Kamailio logs the failed assignment and goes on with the script.
    let env = run("if ($sht(nosuch=>k) == $null) { $sht(t=>ok) = 1; }\n\
         $sht(nosuch=>k) = 1;\n\
         $sht(t=>after) = 1;");
    assert_eq!(get(&env, "t", "ok"), Value::Int(1));
    assert_eq!(get(&env, "t", "after"), Value::Int(1));
    assert!(env
        .shared
        .state::<sipvm_proxy::modules::htable::Htables>()
        .get("nosuch")
        .is_none());
}

#[test]
fn iterators_walk_every_item() {
    let env = run(
        "$sht(t=>a) = 1; $sht(t=>b) = 2; $sht(t=>c) = 3; $sht(t=>d) = \"s\";\n\
         $var(sum) = 0; $var(keys) = \"\";\n\
         sht_iterator_start(\"i\", \"t\");\n\
         while (sht_iterator_next(\"i\")) {\n\
             $var(keys) = $var(keys) + $shtitkey(i);\n\
             if ($shtitkey(i) == \"b\") { sht_iterator_seti(\"i\", 20); }\n\
             if ($shtitkey(i) == \"d\") { sht_iterator_sets(\"i\", \"t\"); }\n\
             $var(sum) = $var(sum) + $shtitval(i);\n\
         }\n\
         sht_iterator_end(\"i\");\n\
         $sht(c=>sum) = $var(sum); $sht(c=>keys) = $var(keys);\n\
         $sht(t=>after) = $shtitkey(i);",
    );
    // 1 + 20 + 3, "t" adds 0; every key once, in slot order.
    assert_eq!(get(&env, "c", "sum"), Value::Int(24));
    let Value::Str(keys) = get(&env, "c", "keys") else {
        panic!()
    };
    let mut k: Vec<char> = keys.chars().collect();
    k.sort();
    assert_eq!(k, ['a', 'b', 'c', 'd']);
    assert_eq!(get(&env, "t", "d"), Value::str("t"));
    assert_eq!(get(&env, "t", "after"), Value::Null, "ended: no key");
}

#[test]
fn iterator_rm_moves_to_the_next_item() {
    // Kamailio's rm advances the iterator: removing every item needs rm in a loop of its own.
    let env = run("$sht(t=>a) = 1; $sht(t=>b) = 2; $sht(t=>c) = 3;\n\
         sht_iterator_start(\"i\", \"t\");\n\
         if (sht_iterator_next(\"i\")) {\n\
             while (sht_iterator_rm(\"i\")) { $var(n) = $var(n) + 1; }\n\
         }\n\
         $sht(c=>left) = $shtcn(t=>**); $sht(c=>n) = $var(n);");
    assert_eq!(get(&env, "c", "left"), Value::Int(0));
    assert_eq!(get(&env, "c", "n"), Value::Int(2));
}
