//! Helpers shared by the benchmarks: locating the inputs, compiling them, and hosts that give
//! a script run the answers a real INVITE would.

use sipvm_lang::{compile_str, CompileOptions, Compiled};
use sipvm_vm::{ArgValue, Host, HostError, NativeIdx, Program, PvKey, TestHost, Value};
use std::path::PathBuf;

/// Kamailio's stock configuration, as the Debian/Ubuntu package installs it.
pub const STOCK_CFG: &str = "/etc/kamailio/kamailio.cfg";

/// Lines of the generated configuration the benchmarks compile.
pub const GEN_LINES: usize = 5000;

/// The `shared/` folder: `$CARGO_MANIFEST_DIR/../../shared`, else `/work/shared`.
pub fn shared_dir() -> PathBuf {
    let near = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if near.is_dir() {
        near
    } else {
        PathBuf::from("/work/shared")
    }
}

/// The stock configuration's text, or `None` (with a message on stderr) when absent.
pub fn stock_config() -> Option<String> {
    match std::fs::read_to_string(STOCK_CFG) {
        Ok(t) => Some(t),
        Err(e) => {
            eprintln!("skipping the stock-config benchmarks: cannot read {STOCK_CFG}: {e}");
            None
        }
    }
}

/// Compiles `text` (named `name`) against sipvm's registry; panics with the rendered
/// diagnostics on failure.
pub fn compile(name: &str, text: &str) -> Compiled {
    match compile_str(
        name,
        text,
        &CompileOptions::default(),
        sipvm_proxy::modules::registry(),
    ) {
        Ok(c) => c,
        Err(f) => panic!("{name} does not compile:\n{}", f.render()),
    }
}

/// Compiles `text` for a run on a test host: every native is marked implemented, since the
/// host answers for it (the VM refuses natives that sipvm declares but does not implement).
pub fn host_program(name: &str, text: &str) -> Program {
    let mut p = compile(name, text).program;
    for n in &mut p.natives {
        n.implemented = true;
    }
    p
}

/// Presets the pseudo-variables of a sample initial INVITE on a `TestHost`.
pub fn preset_invite(h: &mut TestHost) {
    for (class, name, v) in [
        ("rm", "", "INVITE"),
        ("ru", "", "sip:bob@127.0.0.1:5060"),
        ("rU", "", "bob"),
        ("rd", "", "127.0.0.1"),
        ("fu", "", "sip:alice@example.com"),
        ("fU", "", "alice"),
        ("ft", "", "a73kszlfl"),
        ("tu", "", "sip:bob@example.com"),
        ("ci", "", "a84b4c76e66710@pc33.example.com"),
        ("si", "", "192.0.2.10"),
        ("ua", "", "Linphone/5.2"),
        (
            "hdr",
            "Via",
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds",
        ),
        ("hdr", "CSeq", "314159 INVITE"),
    ] {
        h.put_pv(class, name, v);
    }
    h.put_pv("sp", "", 5060i64);
    h.put_pv("shv", "i", 0i64);
}

/// `is_method` as Kamailio answers it: the request method against a `|`-separated list.
fn is_method(method: &str, list: &str) -> bool {
    list.split('|').any(|m| m.eq_ignore_ascii_case(method))
}

fn arg_str<'a>(args: &'a [ArgValue<'_>]) -> std::borrow::Cow<'a, str> {
    match args.first() {
        Some(ArgValue::Val(v)) => v.to_str(),
        _ => std::borrow::Cow::Borrowed(""),
    }
}

/// A `TestHost` that answers the message-dependent natives from its pseudo-variables:
/// `is_method` compares with `$rm`, `has_totag` looks at `$tt`. Every other native and every
/// pseudo-variable goes to the `TestHost`, which records them; call [`InviteHost::reset`]
/// between runs.
#[derive(Debug, Default)]
pub struct InviteHost {
    pub inner: TestHost,
}

impl InviteHost {
    /// A host holding a sample initial INVITE.
    pub fn new() -> InviteHost {
        let mut inner = TestHost::new();
        preset_invite(&mut inner);
        InviteHost { inner }
    }

    /// Forget the recorded calls and writes (the pseudo-variables stay).
    pub fn reset(&mut self) {
        self.inner.calls.clear();
        self.inner.writes.clear();
    }
}

impl Host for InviteHost {
    fn get_pv(&mut self, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError> {
        self.inner.get_pv(prog, key)
    }

    fn set_pv(&mut self, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
        self.inner.set_pv(prog, key, v)
    }

    fn call(
        &mut self,
        prog: &Program,
        native: NativeIdx,
        args: &[ArgValue<'_>],
    ) -> Result<i64, HostError> {
        let name = prog.natives.get(native.ix()).map(|n| &*n.name);
        match name {
            Some("is_method") => {
                let m = self
                    .inner
                    .pv("rm", "")
                    .map(Value::to_str)
                    .unwrap_or_default();
                Ok(if is_method(&m, &arg_str(args)) { 1 } else { -1 })
            }
            Some("has_totag") => Ok(if self.inner.pv("tt", "").is_some() {
                1
            } else {
                -1
            }),
            _ => self.inner.call(prog, native, args),
        }
    }

    fn is_myself(&mut self, uri: &str) -> bool {
        self.inner.is_myself(uri)
    }
}

/// A host with no bookkeeping, to show the interpreter's own share: `$rm` is `INVITE`, `$shv`
/// is one integer, `is_method` compares with `INVITE`, `has_totag` is false, other natives
/// return 1 and reads of other pseudo-variables give `$null`.
#[derive(Debug, Default)]
pub struct LeanHost {
    pub shv: i64,
    pub calls: u64,
}

impl Host for LeanHost {
    fn get_pv(&mut self, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError> {
        Ok(match prog.pvs.get(key.pv.ix()).map(|p| &*p.class_name) {
            Some("shv") => Value::Int(self.shv),
            Some("rm") => Value::from("INVITE"),
            _ => Value::Null,
        })
    }

    fn set_pv(&mut self, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
        if let (Some("shv"), Value::Int(i)) = (prog.pvs.get(key.pv.ix()).map(|p| &*p.class_name), v)
        {
            self.shv = i;
        }
        Ok(())
    }

    fn call(
        &mut self,
        prog: &Program,
        native: NativeIdx,
        args: &[ArgValue<'_>],
    ) -> Result<i64, HostError> {
        self.calls += 1;
        Ok(match prog.natives.get(native.ix()).map(|n| &*n.name) {
            Some("is_method") => {
                if is_method("INVITE", &arg_str(args)) {
                    1
                } else {
                    -1
                }
            }
            Some("has_totag") => -1,
            _ => 1,
        })
    }

    fn is_myself(&mut self, _uri: &str) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_lists() {
        assert!(is_method("INVITE", "INVITE|BYE"));
        assert!(is_method("bye", "INVITE|BYE"));
        assert!(!is_method("CANCEL", "INVITE|BYE"));
    }
}
