//! sipp through a topology-hiding proxy: tests/sipp/topoh-caller.xml calls
//! tests/sipp/topoh-callee.xml through sipvm with topoh (`mask_callid` on), statefully. Each
//! side checks it sees only the proxy's address and the mask address (Contact, second Via,
//! Call-ID encoded; no peer branch, no cookie), that the ACK and the callee's BYE reach their
//! targets decoded, and the caller's sipp matches the BYE by its own Call-ID. 200 calls.

mod common;
use common::*;

const CFG: &str = r#"
listen=udp:127.0.0.1:5060
children=2
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "siputils.so"
loadmodule "topoh.so"
modparam("topoh", "mask_key", "e2e-key")
modparam("topoh", "mask_callid", 1)

request_route {
    if (has_totag()) {
        if (loose_route()) {
            t_relay();
        }
        exit;
    }
    record_route();
    t_relay();
}
"#;

#[test]
fn sipp_calls_through_topoh_see_only_the_proxy() {
    let server = Sipvm::start(CFG, &[]);
    sipp_calls_through(&server, "topoh", 200, 100);
}
