//! sipp through a record-routing stateless proxy: tests/sipp/rr-caller.xml calls
//! tests/sipp/rr-callee.xml through `record_route(); forward();`, with ACK and BYE routed by
//! the learned route set (`has_totag()` + `loose_route()` + `forward()`). The callee checks
//! the Record-Route on the INVITE and that ACK and BYE arrive without the proxy's Route;
//! the caller that the 200 carries it. 1,000 calls, none failed. The same scenarios serve
//! the stateful 08-round-robin-stateful.cfg once transactions exist.

mod common;
use common::*;

const CFG: &str = r#"
listen=udp:127.0.0.1:5060
children=2
loadmodule "rr.so"
loadmodule "siputils.so"

request_route {
    if (has_totag()) {
        if (loose_route()) {
            forward();
        }
        exit;
    }
    record_route();
    forward();
}
"#;

#[test]
fn sipp_calls_route_ack_and_bye_by_the_recorded_route() {
    let server = Sipvm::start(CFG, &[]);
    sipp_calls_through(&server, "rr", 1000, 200);
}
