//! `siptrace.status on|off|check`, as Kamailio 5.6 answers it (`siptrace_rpc_status`).

use super::SipTrace;
use crate::host::Server;
use sipvm_rpc::{Params, Registry, RpcError, Value};
use std::sync::atomic::Ordering;

/// Kamailio compares the parameter's start with `on`, `off` and `check`, ignoring case.
pub fn status(st: &SipTrace, p: &Params) -> Result<Value, RpcError> {
    let s = p
        .str(0, "status")
        .map_err(|_| RpcError::new(500, "Not enough parameters (on, off or check)"))?;
    let starts = |w: &str| s.len() >= w.len() && s[..w.len()].eq_ignore_ascii_case(w);
    if starts("on") {
        st.on.store(true, Ordering::Relaxed);
        return Ok(Value::from("Enabled"));
    }
    if starts("off") {
        st.on.store(false, Ordering::Relaxed);
        return Ok(Value::from("Disabled"));
    }
    if starts("check") {
        return Ok(Value::from(if st.is_on() { "Enabled" } else { "Disabled" }));
    }
    Err(RpcError::new(500, "Bad parameter (on, off or check)"))
}

pub fn register(reg: &Registry, server: &Server) {
    if server.shared.state::<SipTrace>().cfg.is_none() {
        return;
    }
    let shared = server.shared.clone();
    reg.method(
        "siptrace.status",
        "Get status or turn on/off siptrace. Parameters: on, off or check.",
        move |p| status(shared.state::<SipTrace>(), &p),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn status_turns_and_reports() {
        let st = SipTrace {
            cfg: None,
            on: AtomicBool::new(false),
        };
        let call = |v: &[&str]| {
            status(
                &st,
                &Params::new(v.iter().map(|s| Value::from(*s)).collect()),
            )
        };
        assert_eq!(call(&["check"]).unwrap(), Value::from("Disabled"));
        assert_eq!(call(&["ON"]).unwrap(), Value::from("Enabled"));
        assert!(st.is_on());
        assert_eq!(call(&["check"]).unwrap(), Value::from("Enabled"));
        assert_eq!(call(&["off"]).unwrap(), Value::from("Disabled"));
        assert_eq!(
            call(&["maybe"]).unwrap_err(),
            RpcError::new(500, "Bad parameter (on, off or check)")
        );
        assert_eq!(call(&[]).unwrap_err().code, 500);
    }
}
