//! A `Host` for tests: records native calls, serves preset pseudo-variables.

use crate::disasm::render_arg;
use crate::host::{ArgValue, Host, HostError, PvKey};
use crate::op::NativeIdx;
use crate::program::Program;
use crate::value::Value;
use std::collections::HashMap;

/// One recorded native call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeCall {
    pub module: String,
    pub name: String,
    /// Arguments rendered as the disassembler renders them (`"text"`, `5`, `/re/`).
    pub args: Vec<String>,
}

impl NativeCall {
    /// `name(arg, arg)`.
    pub fn render(&self) -> String {
        format!("{}({})", self.name, self.args.join(", "))
    }
}

/// A scriptable host: natives return 1 unless told otherwise; pseudo-variables live in a map
/// keyed by (class name, inner name), `""` for plain ones (`("ru", "")`, `("hdr", "Via")`).
#[derive(Clone, Debug, Default)]
pub struct TestHost {
    pub calls: Vec<NativeCall>,
    /// Return codes by native name (`"sl_send_reply"`) or `module.name`.
    pub returns: HashMap<String, i64>,
    /// Natives that fail with a host error, by name.
    pub failing: HashMap<String, String>,
    pub pvs: HashMap<(String, String), Value>,
    /// Every pseudo-variable write, in order: (class, name, value).
    pub writes: Vec<(String, String, Value)>,
    /// Hosts that `uri == myself` accepts.
    pub myself: Vec<String>,
    /// When set, natives sipvm does not implement yet fail as on the real host.
    pub strict: bool,
    /// Every run-time failure the VM reported (`Host::failed`): where, and the message.
    pub failures: Vec<(crate::Pc, String)>,
}

impl TestHost {
    pub fn new() -> TestHost {
        TestHost::default()
    }

    /// A host that, like the real one, refuses natives sipvm does not implement yet.
    pub fn strict(&mut self) -> &mut Self {
        self.strict = true;
        self
    }

    /// Make native `name` (or `module.name`) return `rc`.
    pub fn set_return(&mut self, name: &str, rc: i64) -> &mut Self {
        self.returns.insert(name.to_string(), rc);
        self
    }

    /// Make native `name` fail with a host error.
    pub fn set_failing(&mut self, name: &str, msg: &str) -> &mut Self {
        self.failing.insert(name.to_string(), msg.to_string());
        self
    }

    /// Preset a pseudo-variable: `put_pv("rm", "", "INVITE")`, `put_pv("hdr", "Via", ...)`.
    pub fn put_pv(&mut self, class: &str, name: &str, v: impl Into<Value>) -> &mut Self {
        self.pvs
            .insert((class.to_string(), name.to_string()), v.into());
        self
    }

    /// The current value of a pseudo-variable.
    pub fn pv(&self, class: &str, name: &str) -> Option<&Value> {
        self.pvs.get(&(class.to_string(), name.to_string()))
    }

    /// Accept `host` in `uri == myself`.
    pub fn add_myself(&mut self, host: &str) -> &mut Self {
        self.myself.push(host.to_string());
        self
    }

    /// The calls as `name(args)` strings.
    pub fn call_log(&self) -> Vec<String> {
        self.calls.iter().map(NativeCall::render).collect()
    }

    fn key(prog: &Program, key: &PvKey<'_>) -> Result<(String, String), HostError> {
        let r = prog
            .pvs
            .get(key.pv.ix())
            .ok_or_else(|| HostError(format!("no pseudo-variable #{}", key.pv.0)))?;
        Ok((r.class_name.to_string(), key.name.unwrap_or("").to_string()))
    }
}

impl Host for TestHost {
    fn failed(&mut self, _prog: &Program, pc: crate::Pc, err: &HostError) {
        self.failures.push((pc, err.0.clone()));
    }

    fn get_pv(&mut self, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError> {
        let k = Self::key(prog, &key)?;
        Ok(self.pvs.get(&k).cloned().unwrap_or(Value::Null))
    }

    fn set_pv(&mut self, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
        let k = Self::key(prog, &key)?;
        self.writes.push((k.0.clone(), k.1.clone(), v.clone()));
        if v.is_null() {
            self.pvs.remove(&k);
        } else {
            self.pvs.insert(k, v);
        }
        Ok(())
    }

    fn call(
        &mut self,
        prog: &Program,
        native: NativeIdx,
        args: &[ArgValue<'_>],
    ) -> Result<i64, HostError> {
        let n = prog
            .natives
            .get(native.ix())
            .ok_or_else(|| HostError(format!("no native #{}", native.0)))?;
        let full = format!("{}.{}", n.module, n.name);
        self.calls.push(NativeCall {
            module: n.module.to_string(),
            name: n.name.to_string(),
            args: args.iter().map(|a| render_arg_value(prog, a)).collect(),
        });
        if let Some(msg) = self
            .failing
            .get(&*n.name)
            .or_else(|| self.failing.get(&full))
        {
            return Err(HostError(msg.clone()));
        }
        Ok(*self
            .returns
            .get(&*n.name)
            .or_else(|| self.returns.get(&full))
            .unwrap_or(&1))
    }

    fn stands_in_for_natives(&self) -> bool {
        !self.strict
    }

    fn is_myself(&mut self, uri: &str) -> bool {
        // A stand-in, not a URI parser (the VM has none): a listed host matches right after
        // the last `@`, or the scheme's `:`, when the end, a port, `;`, `?` or `>` follows.
        let start = uri
            .rfind('@')
            .or_else(|| uri.find(':'))
            .map_or(0, |i| i + 1);
        let rest = uri[start..].trim_start_matches('[');
        self.myself.iter().any(|m| {
            let m = m.trim_start_matches('[').trim_end_matches(']');
            rest.get(..m.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(m))
                && matches!(
                    rest.as_bytes().get(m.len()),
                    None | Some(b']' | b':' | b';' | b'?' | b'>')
                )
        })
    }
}

/// Render an argument as the host received it.
pub fn render_arg_value(prog: &Program, a: &ArgValue<'_>) -> String {
    use crate::program::Arg;
    match a {
        ArgValue::Val(v) => render_arg(prog, &Arg::Val(v.clone())),
        ArgValue::Regex(r) => format!("/{}/", r.as_str()),
        ArgValue::Route(r) => render_arg(prog, &Arg::Route(*r)),
        ArgValue::Pv(p) => render_arg(prog, &Arg::Pv(*p)),
    }
}
