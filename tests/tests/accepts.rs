//! Configurations Kamailio 5.6 accepts (checked with `kamailio -c`) that sipvm once rejected:
//! each must compile, with the warnings listed and no others.

use sipvm_lang::compile::{compile_str, CompileOptions};

/// Compiles `text`; panics with the diagnostics on failure; returns the warning messages.
fn warnings_of(text: &str) -> Vec<String> {
    match compile_str(
        "accepts.cfg",
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c.warnings.iter().map(|d| d.message.clone()).collect(),
        Err(f) => panic!("should compile:\n{}", f.render()),
    }
}

#[test]
fn listen_host_from_a_quoted_define() {
    // Kamailio's own examples do this (examples/mixed/kamailio-minimal-anycast.cfg).
    let w = warnings_of(
        "#!define ADDR \"127.0.0.1\"\n\
         listen=udp:ADDR:5060\n\
         listen=tcp:ADDR:5060 advertise \"10.0.0.1\":5060\n\
         request_route {\n    forward();\n}\n",
    );
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn modparam_module_regex_sets_every_matching_module() {
    // The stock kamailio.cfg with WITH_NAT.
    let text = "loadmodule \"tm.so\"\n\
                loadmodule \"registrar.so\"\n\
                loadmodule \"nathelper.so\"\n\
                modparam(\"nathelper|registrar\", \"received_avp\", \"$avp(RECEIVED)\")\n\
                request_route {\n    t_relay();\n}\n";
    let c = compile_str(
        "accepts.cfg",
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    )
    .unwrap_or_else(|f| panic!("{}", f.render()));
    let mut set: Vec<&str> = c
        .modparams
        .iter()
        .filter(|m| m.param == "received_avp")
        .map(|m| m.module.as_str())
        .collect();
    set.sort_unstable();
    assert_eq!(set, ["nathelper", "registrar"]);
}

#[test]
fn guarded_call_in_a_sub_route_shared_by_route_types_is_a_warning() {
    // route[RELAY] runs from request_route and failure_route; sl_reply_error() is
    // request_route only. Kamailio does not check sub-routes; sipvm warns.
    let w = warnings_of(
        "loadmodule \"tm.so\"\n\
         loadmodule \"sl.so\"\n\
         request_route {\n    t_on_failure(\"RETRY\");\n    route(RELAY);\n}\n\
         failure_route[RETRY] {\n    route(RELAY);\n}\n\
         route[RELAY] {\n    if (!t_relay()) {\n        sl_reply_error();\n    }\n    exit;\n}\n",
    );
    assert_eq!(
        w,
        ["`sl_reply_error()` in route[RELAY] may run from failure_route[RETRY], where it cannot be used"]
    );
}

#[test]
fn hex_integer_in_a_string_argument() {
    // registrar's save() flags, as Kamailio's documentation writes them.
    let cfg = "loadmodule \"tm.so\"\nloadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\nrequest_route {\n    save(\"location\", \"0x04\");\n}\n";
    assert_eq!(warnings_of(cfg), Vec::<String>::new());
}
