//! The stock Debian `/etc/kamailio/kamailio.cfg` compiles, bare and with the `-D` combinations
//! that Kamailio 5.6.3 itself accepts (`kamailio -c -f ... -A NAME`).
//!
//! The file comes with the `kamailio` Debian package, which `.ci/run` installs. When it is
//! missing the test fails; set `SIPVM_SKIP_STOCK=1` to skip it on a machine without Kamailio.

use sipvm_lang::compile::{compile_file, CompileOptions, Compiled, Failed};
use sipvm_lang::diag::render_all;
use std::path::Path;

const STOCK: &str = "/etc/kamailio/kamailio.cfg";

/// Combinations Kamailio 5.6.3 accepts (checked with `kamailio -c -A ...`, with the
/// kamailio-mysql-modules and kamailio-tls-modules packages installed).
const ACCEPTED: &[&[&str]] = &[
    &[],
    &["WITH_DEBUG"],
    &["WITH_MYSQL"],
    &["WITH_MYSQL", "WITH_AUTH"],
    &["WITH_MYSQL", "WITH_AUTH", "WITH_USRLOCDB"],
    &["WITH_MYSQL", "WITH_AUTH", "WITH_IPAUTH"],
    &[
        "WITH_MYSQL",
        "WITH_AUTH",
        "WITH_USRLOCDB",
        "WITH_IPAUTH",
        "WITH_ALIASDB",
        "WITH_SPEEDDIAL",
        "WITH_MULTIDOMAIN",
    ],
    &["WITH_MYSQL", "WITH_ACCDB"],
    &["WITH_IPAUTH"],
    &["WITH_NAT"],
    &["WITH_NAT", "WITH_RTPENGINE"],
    &["WITH_NAT", "WITH_NATSIPPING"],
    &["WITH_RTPENGINE"],
    &["WITH_TLS"],
    &["WITH_ANTIFLOOD"],
    &["WITH_BLOCK3XX", "WITH_BLOCK401407"],
    &["WITH_VOICEMAIL"],
    &["WITH_PSTN"],
    &["WITH_JSONRPC"],
    &["WITH_MSGREBUILD"],
    &[
        "WITH_DEBUG",
        "WITH_MYSQL",
        "WITH_AUTH",
        "WITH_USRLOCDB",
        "WITH_IPAUTH",
        "WITH_ALIASDB",
        "WITH_SPEEDDIAL",
        "WITH_MULTIDOMAIN",
        "WITH_NAT",
        "WITH_NATSIPPING",
        "WITH_RTPENGINE",
        "WITH_TLS",
        "WITH_ANTIFLOOD",
        "WITH_BLOCK3XX",
        "WITH_BLOCK401407",
        "WITH_VOICEMAIL",
        "WITH_PSTN",
        "WITH_ACCDB",
        "WITH_JSONRPC",
        "WITH_MSGREBUILD",
    ],
];

/// Whether the stock file is there; panics (or skips, with `SIPVM_SKIP_STOCK=1`) if not.
fn stock_present() -> bool {
    if Path::new(STOCK).exists() {
        return true;
    }
    if std::env::var("SIPVM_SKIP_STOCK").is_ok_and(|v| v == "1") {
        eprintln!("skipping: {STOCK} is missing and SIPVM_SKIP_STOCK=1");
        return false;
    }
    panic!(
        "{STOCK} is missing: install the Debian package `kamailio` (.ci/run installs it), \
         or set SIPVM_SKIP_STOCK=1 to skip this test"
    );
}

fn compile(defines: &[&str]) -> Result<Compiled, Failed> {
    let mut o = CompileOptions::default();
    o.pp.defines = defines.iter().map(|d| (d.to_string(), None)).collect();
    compile_file(STOCK, &o, sipvm_proxy::modules::registry())
}

#[test]
fn stock_config_compiles_without_defines() {
    if !stock_present() {
        return;
    }
    for defs in NO_SERVICE {
        match compile(defs) {
            // The only warnings: memory-pool parameters that cannot apply, and the modules
            // sipvm only declares (ctl, cfg_rpc, counters), said to do nothing.
            Ok(c) => {
                let other: Vec<_> = c
                    .warnings
                    .iter()
                    .filter(|w| {
                        !w.message.contains("has no Kamailio memory pools")
                            && !w.message.starts_with("sipvm does not implement module `")
                    })
                    .cloned()
                    .collect();
                assert!(
                    other.is_empty(),
                    "-D {defs:?}: unexpected warnings:\n{}",
                    render_all(&other, &c.sources)
                );
            }
            Err(f) => panic!("{STOCK} -D {defs:?} does not compile:\n{}", f.render()),
        }
    }
}

/// The defines that need no external service (issue #12): the stock file runs under them.
const NO_SERVICE: &[&[&str]] = &[&[], &["WITH_DEBUG"], &["WITH_ANTIFLOOD"], &["WITH_PSTN"]];

/// Pseudo-variables the stock file reads under some define that sipvm does not implement
/// yet: a compile error naming them (issue #12 and after), never a run-time drop.
const NOT_YET: &[&str] = &["$hu"];

#[test]
fn stock_config_compiles_with_kamailio_accepted_defines() {
    if !stock_present() {
        return;
    }
    let mut failures = Vec::new();
    let mut missing = std::collections::BTreeSet::new();
    for defs in ACCEPTED {
        let Err(f) = compile(defs) else { continue };
        // The only refusals allowed are the "not implemented" ones, each naming its module.
        for d in f.diagnostics.iter().filter(|d| d.is_error()) {
            match &d.missing {
                Some(m) if m.kind == "pseudo-variable" => {
                    missing.insert(format!("${}", m.name));
                }
                Some(_) => {}
                None => failures.push(format!("-D {}:\n{}", defs.join(" -D "), f.render())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let expected: std::collections::BTreeSet<String> =
        NOT_YET.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        missing, expected,
        "update NOT_YET with what sipvm now implements"
    );
}

#[test]
fn stock_config_with_auth_but_no_mysql_fails_as_in_kamailio() {
    // WITH_AUTH needs WITH_MYSQL for DBURL; Kamailio rejects this combination too.
    if !stock_present() {
        return;
    }
    let f = compile(&["WITH_AUTH"]).expect_err("WITH_AUTH alone leaves DBURL undefined");
    let text = f.render();
    assert!(text.contains("`DBURL`"), "unexpected diagnostics:\n{text}");
}
