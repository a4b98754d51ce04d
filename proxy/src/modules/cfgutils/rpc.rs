//! cfgutils' RPC methods with Kamailio 5.6's names and answers: the global flags (by bit
//! mask, as Kamailio's take them), the probability and the `hash_file` digest.

use super::lock::Cfgutils;
use super::misc::md5_file;
use crate::host::{Server, Shared};
use sipvm_rpc::{Params, Registry, RpcError, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The one integer parameter; Kamailio answers a missing one with this fault.
fn mask(p: &Params) -> Result<u32, RpcError> {
    match p.opt_int(0, "flag") {
        Ok(Some(n)) => Ok(n as u32),
        _ => Err(RpcError::internal("Invalid Parameters")),
    }
}

fn method(
    reg: &Registry,
    server: &Server,
    name: &str,
    help: &str,
    f: fn(&Cfgutils, &Params) -> Result<Value, RpcError>,
) {
    let shared: Arc<Shared> = server.shared.clone();
    reg.method(name, help, move |p| f(shared.state::<Cfgutils>(), &p));
}

pub fn register(reg: &Registry, server: &Server) {
    method(reg, server, "cfgutils.set_gflag", "Set gflag.", |c, p| {
        c.gflags.fetch_or(mask(p)?, Ordering::SeqCst);
        Ok(Value::Null)
    });
    method(
        reg,
        server,
        "cfgutils.reset_gflag",
        "Reset gflag.",
        |c, p| {
            c.gflags.fetch_and(!mask(p)?, Ordering::SeqCst);
            Ok(Value::Null)
        },
    );
    method(
        reg,
        server,
        "cfgutils.is_gflag",
        "Checks if gflag is set.",
        |c, p| {
            let m = mask(p)?;
            let set = c.gflags.load(Ordering::SeqCst) & m == m;
            Ok(Value::from(if set { "TRUE" } else { "FALSE" }))
        },
    );
    method(
        reg,
        server,
        "cfgutils.get_gflags",
        "Return gflags.",
        |c, _| {
            let g = c.gflags.load(Ordering::SeqCst);
            Ok(Value::from(format!("0x{g:X} ({g})")))
        },
    );
    method(
        reg,
        server,
        "cfgutils.rand_set_prob",
        "Set probability.",
        |c, p| {
            let n = mask(p)?;
            if n > 100 {
                return Err(RpcError::internal("Invalid Percent"));
            }
            c.rand_prob.store(i64::from(n), Ordering::Relaxed);
            Ok(Value::Null)
        },
    );
    let (shared, live) = (server.shared.clone(), server.live.clone());
    reg.method(
        "cfgutils.rand_reset_prob",
        "Reset probability.",
        move |_| {
            let p = live
                .current()
                .modparam_int("cfgutils", "initial_probability", 10)
                .clamp(0, 100);
            shared
                .state::<Cfgutils>()
                .rand_prob
                .store(p, Ordering::Relaxed);
            Ok(Value::Null)
        },
    );
    method(
        reg,
        server,
        "cfgutils.rand_get_prob",
        "Get probability.",
        |c, _| {
            let n = c.rand_prob.load(Ordering::Relaxed);
            Ok(Value::from(format!("actual probability: {n} percent")))
        },
    );
    method(
        reg,
        server,
        "cfgutils.get_config_hash",
        "Get config file hash.",
        |c, _| Ok(Value::from(c.hash.as_ref().map_or("", |h| h.1.as_str()))),
    );
    method(
        reg,
        server,
        "cfgutils.check_config_hash",
        "Check config file hash.",
        |c, _| {
            let Some((file, at_start)) = &c.hash else {
                return Err(RpcError::internal("No hash file"));
            };
            let now = md5_file(file).map_err(|e| {
                tracing::error!(target: "cfgutils", "could not hash the config file {file}: {e}");
                RpcError::internal("Failed to hash the file")
            })?;
            Ok(Value::from(if &now == at_start {
                "Identical hash"
            } else {
                "Different hash"
            }))
        },
    );
}
