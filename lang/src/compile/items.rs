//! Top-level items: global and custom parameters, `loadmodule`, `modparam`.

use super::{Ctx, CustomParam, GlobalSetting, ModParamSetting};
use crate::ast::{Lit, Span};
use crate::diag::{did_you_mean, Diagnostic};
use crate::registry::{GlobalKind, GlobalSupport, ParamType};
use sipvm_vm::Value;
use std::sync::Arc;

impl Ctx<'_> {
    /// `name = value` at top level: a core parameter, or `group.name` a custom one.
    pub(super) fn global(&mut self, name: &str, name_span: Span, value_span: Span) {
        let raw = self.loc.text(value_span).trim().to_string();
        if let Some((group, pname)) = name.split_once('.') {
            return self.custom(group, pname, name_span, value_span, &raw);
        }
        let Some(decl) = self.reg.global(name) else {
            let mut d = self
                .err(name_span, format!("unknown global parameter `{name}`"))
                .with_len(self.loc.width(name_span));
            if let Some(m) = did_you_mean(name, self.reg.globals.iter().map(|g| g.name)) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            return self.diags.push(d);
        };
        if raw.is_empty() {
            let d = self.err(value_span, format!("`{name}` needs a value"));
            return self.diags.push(d);
        }
        if !decl.repeatable {
            if let Some(prev) = self.globals.iter().find(|g| g.name == name) {
                let _ = prev;
                // Kamailio lets a later line override; so do we, but say so.
                let d = Diagnostic::warning(
                    Some(self.loc.loc(name_span.0)),
                    format!("`{name}` set more than once; the last value wins"),
                );
                self.diags.push(d);
            }
        }
        let value = match check_global_value(decl.kind, &raw) {
            Ok(v) => v,
            Err(msg) => {
                let d = self
                    .err(value_span, format!("bad value for `{name}`: {msg}"))
                    .with_len(self.loc.width(value_span));
                return self.diags.push(d);
            }
        };
        match self.reg.global_support(name) {
            GlobalSupport::Honoured => {}
            GlobalSupport::NoEffect(why) => {
                let d = Diagnostic::warning(
                    Some(self.loc.loc(name_span.0)),
                    format!("`{name}` has no effect in sipvm: {why}"),
                );
                self.diags.push(d);
            }
            GlobalSupport::Only(values) => {
                let v = raw.trim_matches('"');
                if !values.iter().any(|a| a.eq_ignore_ascii_case(v)) {
                    let d = self
                        .err(value_span, format!("`{name}={v}` is not implemented"))
                        .with_len(self.loc.width(value_span))
                        .missing("global", "core", name)
                        .with_hint(format!(
                            "sipvm implements only {name}={}; Kamailio's core has the rest",
                            values.join(" / ")
                        ));
                    return self.diags.push(d);
                }
            }
            GlobalSupport::Missing => {
                let d = self
                    .err(
                        name_span,
                        format!("global parameter `{name}` is not implemented"),
                    )
                    .with_len(self.loc.width(name_span))
                    .missing("global", "core", name)
                    .with_hint("Kamailio's core has it; sipvm does not implement it yet");
                return self.diags.push(d);
            }
        }
        if name == "log_prefix" {
            // Expanded per message like an xlog format (Kamailio's log_prefix).
            let text = raw.trim().trim_matches('"').to_string();
            self.prog.log_prefix = self.fmt(&text, value_span);
        }
        let loc = self.loc.loc(name_span.0);
        self.globals.push(GlobalSetting {
            name: name.to_string(),
            value,
            raw,
            loc,
        });
    }

    fn custom(&mut self, group: &str, name: &str, name_span: Span, value_span: Span, raw: &str) {
        let (val_text, desc) = split_desc(raw);
        let value = match parse_scalar(val_text) {
            Some(v) => v,
            None => {
                let d = self
                    .err(
                        value_span,
                        format!("bad value for custom parameter `{group}.{name}`"),
                    )
                    .with_hint(
                        "a custom parameter is `group.name = \"text\"|number [desc \"text\"]`",
                    );
                return self.diags.push(d);
            }
        };
        if self
            .custom
            .iter()
            .any(|c| c.group == group && c.name == name)
        {
            let d = self
                .err(
                    name_span,
                    format!("custom parameter `{group}.{name}` declared twice"),
                )
                .with_len(self.loc.width(name_span));
            return self.diags.push(d);
        }
        self.custom.push(CustomParam {
            group: group.to_string(),
            name: name.to_string(),
            value,
            desc: desc.unwrap_or_default(),
        });
    }

    pub(super) fn loadmodule(&mut self, path: &str, span: Span) {
        let base = path.rsplit('/').next().unwrap_or(path);
        let name = base.strip_suffix(".so").unwrap_or(base);
        match self.reg.module_index(name) {
            Some(i) => {
                if !self.loaded.contains(&i) {
                    self.loaded.push(i);
                    if self.reg.is_module_missing(i) {
                        let d = Diagnostic::warning(
                            Some(self.loc.loc(span.0)),
                            format!(
                                "sipvm does not implement module `{name}` yet: loading it does \
                                 nothing (Kamailio's `{name}.so` would), and its functions and \
                                 parameters are refused"
                            ),
                        );
                        self.diags.push(d);
                    }
                }
            }
            None => {
                let mut names: Vec<&str> = self.reg.modules.iter().map(|m| m.name).collect();
                names.sort_unstable();
                let mut d = self
                    .err(span, format!("unknown module `{name}`"))
                    .with_len(self.loc.width(span));
                d = match did_you_mean(name, names.iter().copied()) {
                    Some(m) => d.with_hint(format!(
                        "did you mean `{m}`? sipvm has: {}",
                        names.join(", ")
                    )),
                    None => d.with_hint(format!("sipvm has: {}", names.join(", "))),
                };
                self.diags.push(d);
            }
        }
    }

    pub(super) fn modparam(
        &mut self,
        module: &(String, Span),
        param: &(String, Span),
        value: &(Lit, Span),
    ) {
        // Like Kamailio, a module name that is not a plain name is an extended,
        // case-insensitive regular expression matched against the loaded modules
        // (`modparam("nathelper|registrar", "received_avp", ...)`).
        if !module
            .0
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return self.modparam_regex(module, param, value);
        }
        let Some(mi) = self.reg.module_index(&module.0) else {
            let d = self
                .err(
                    module.1,
                    format!("modparam for unknown module `{}`", module.0),
                )
                .with_len(self.loc.width(module.1));
            return self.diags.push(d);
        };
        self.modparam_in(mi, module, param, value);
    }

    fn modparam_regex(
        &mut self,
        module: &(String, Span),
        param: &(String, Span),
        value: &(Lit, Span),
    ) {
        let re = match regex::RegexBuilder::new(&format!("^({})$", module.0))
            .case_insensitive(true)
            .build()
        {
            Ok(re) => re,
            Err(_) => {
                let d = self
                    .err(module.1, format!("modparam: `{}` is neither a module name nor a valid regular expression", module.0))
                    .with_len(self.loc.width(module.1));
                return self.diags.push(d);
            }
        };
        let matched: Vec<u16> = self
            .loaded
            .iter()
            .copied()
            .filter(|&m| re.is_match(self.reg.module(m).name))
            .collect();
        if matched.is_empty() {
            let d = self
                .err(module.1, format!("modparam: no loaded module matches `{}`", module.0))
                .with_len(self.loc.width(module.1))
                .with_hint("a module name with `|` or other regex characters is matched against the modules loaded before this line");
            return self.diags.push(d);
        }
        for mi in matched {
            let name = self.reg.module(mi).name.to_string();
            self.modparam_in(mi, &(name, module.1), param, value);
        }
    }

    /// A modparam for the module `mi`, named `module.0` in messages.
    fn modparam_in(
        &mut self,
        mi: u16,
        module: &(String, Span),
        param: &(String, Span),
        value: &(Lit, Span),
    ) {
        if !self.loaded.contains(&mi) {
            let d = self
                .err(
                    module.1,
                    format!("modparam for module `{}`, which is not loaded", module.0),
                )
                .with_len(self.loc.width(module.1))
                .with_hint(format!("add loadmodule \"{}.so\" before it", module.0));
            return self.diags.push(d);
        }
        let m = self.reg.module(mi);
        let Some(p) = m.params.iter().find(|p| p.name == param.0) else {
            let mut d = self
                .err(
                    param.1,
                    format!("module `{}` has no parameter `{}`", module.0, param.0),
                )
                .with_len(self.loc.width(param.1));
            if let Some(s) = did_you_mean(&param.0, m.params.iter().map(|p| p.name)) {
                d = d.with_hint(format!("did you mean `{s}`?"));
            }
            return self.diags.push(d);
        };
        let v = match (&value.0, p.ty) {
            (Lit::Word(w), _) => {
                let d = self
                    .err(
                        value.1,
                        format!("unexpected word `{w}` as a parameter value"),
                    )
                    .with_len(self.loc.width(value.1))
                    .with_hint("quote strings; is a #!define missing?");
                return self.diags.push(d);
            }
            (Lit::Str(s), ParamType::Int) => {
                let d = self
                    .err(
                        value.1,
                        format!(
                            "parameter `{}` of module `{}` takes an integer, not the string \"{}\"",
                            param.0, module.0, s
                        ),
                    )
                    .with_len(self.loc.width(value.1));
                return self.diags.push(d);
            }
            (Lit::Int(i), ParamType::Str) => {
                let d = self
                    .err(
                        value.1,
                        format!(
                            "parameter `{}` of module `{}` takes a string, not the integer {i}",
                            param.0, module.0
                        ),
                    )
                    .with_len(self.loc.width(value.1))
                    .with_hint("put the value in quotes");
                return self.diags.push(d);
            }
            (Lit::Int(i), _) => Value::Int(*i),
            (Lit::Str(s), _) => Value::Str(Arc::from(s.as_str())),
        };
        if !self.reg.is_param_implemented(mi, p.name) {
            let d = self
                .err(
                    param.1,
                    format!(
                        "parameter `{}` of module `{}` is not implemented",
                        param.0, m.name
                    ),
                )
                .with_len(self.loc.width(param.1))
                .missing("modparam", m.name, p.name);
            return self.diags.push(d);
        }
        if module.0 == "pv" && param.0 == "varset" {
            self.varset(&v, value.1);
        }
        self.modparams.push(ModParamSetting {
            module: module.0.clone(),
            param: param.0.clone(),
            value: v,
        });
    }

    /// `modparam("pv", "varset", "name=i:0")` gives a `$var` its initial value.
    fn varset(&mut self, v: &Value, span: Span) {
        let Value::Str(s) = v else { return };
        let parsed = s.split_once('=').and_then(|(n, rest)| {
            let (t, val) = rest.split_once(':')?;
            let val = match t.trim() {
                "i" => Value::Int(val.trim().parse().ok()?),
                "s" => Value::Str(Arc::from(val)),
                _ => return None,
            };
            Some((n.trim().to_string(), val))
        });
        match parsed {
            Some((n, val)) => {
                let slot = self.var_slot(&n);
                self.var_init[slot.ix()] = val;
            }
            None => {
                let d = self
                    .err(span, format!("bad varset value \"{s}\""))
                    .with_hint("the form is \"name=i:number\" or \"name=s:text\"");
                self.diags.push(d);
            }
        }
    }
}

fn split_desc(raw: &str) -> (&str, Option<String>) {
    // `value desc "text"`; the value may itself be quoted.
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut q = 0u8;
    while i < bytes.len() {
        let c = bytes[i];
        if q != 0 {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                q = 0;
            }
        } else if c == b'"' || c == b'\'' {
            q = c;
        } else if bytes[i..].starts_with(b"desc") && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            let d = raw[i + 4..].trim();
            return (raw[..i].trim(), Some(unquote(d).unwrap_or(d).to_string()));
        }
        i += 1;
    }
    (raw.trim(), None)
}

fn unquote(s: &str) -> Option<&str> {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return Some(&s[1..s.len() - 1]);
        }
    }
    None
}

/// A quoted string or an integer.
fn parse_scalar(s: &str) -> Option<Value> {
    if let Some(u) = unquote(s) {
        return Some(Value::Str(Arc::from(u)));
    }
    s.trim().parse::<i64>().ok().map(Value::Int)
}

const PROTOS: &[&str] = &["udp", "tcp", "tls", "sctp", "ws", "wss", "any"];

/// Checks a global parameter's raw value against its kind.
pub(super) fn check_global_value(kind: GlobalKind, raw: &str) -> Result<Value, String> {
    let raw = raw.trim().trim_end_matches(';').trim();
    match kind {
        GlobalKind::Any => Ok(parse_scalar(raw).unwrap_or_else(|| Value::Str(Arc::from(raw)))),
        GlobalKind::Int => raw
            .parse::<i64>()
            .map(Value::Int)
            .or_else(|_| bool_word(raw).map(Value::Int).ok_or(()))
            .map_err(|_| format!("expected an integer, found `{raw}`")),
        GlobalKind::Bool => bool_word(raw)
            .map(Value::Int)
            .ok_or_else(|| format!("expected yes or no, found `{raw}`")),
        GlobalKind::Str => Ok(Value::Str(Arc::from(unquote(raw).unwrap_or(raw)))),
        GlobalKind::Listen => {
            // Kamailio takes quoted parts too (`listen=udp:"10.0.0.1":5060`, typically from a
            // `#!define ADDR "10.0.0.1"`); the quotes only delimit, so drop them.
            let unquoted = |s: &str| s.replace(['"', '\''], "");
            let mut words = raw.split_whitespace();
            let sock = words.next().unwrap_or("");
            let clean_sock = unquoted(sock);
            check_socket(&clean_sock, true)?;
            let after_sock = raw.get(sock.len()..).unwrap_or("");
            while let Some(w) = words.next() {
                match w {
                    "advertise" | "ADVERTISE" => {
                        let a = words.next().ok_or("`advertise` needs host:port")?;
                        check_socket(&unquoted(a), false)?;
                    }
                    "name" | "NAME" => {
                        let n = words.next().ok_or("`name` needs a quoted name")?;
                        unquote(n).ok_or("the socket name must be quoted")?;
                    }
                    "virtual" | "VIRTUAL" => {}
                    other => return Err(format!("unexpected `{other}`")),
                }
            }
            Ok(Value::Str(Arc::from(format!("{clean_sock}{after_sock}"))))
        }
        GlobalKind::Alias => {
            let a = unquote(raw).unwrap_or(raw);
            check_socket(a, true)?;
            Ok(Value::Str(Arc::from(a)))
        }
    }
}

fn bool_word(s: &str) -> Option<i64> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "enable" | "1" => Some(1),
        "no" | "off" | "false" | "disable" | "0" => Some(0),
        _ => None,
    }
}

/// `[proto:]host[:port]`; host is an IPv4/IPv6 address (IPv6 in brackets), a name or `*`.
fn check_socket(s: &str, allow_proto: bool) -> Result<(), String> {
    let mut rest = s;
    if let Some((p, r)) = rest.split_once(':') {
        if PROTOS.contains(&p.to_ascii_lowercase().as_str()) {
            if !allow_proto {
                return Err(format!("no protocol allowed in `{s}`"));
            }
            rest = r;
        }
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r
            .split_once(']')
            .ok_or_else(|| format!("unclosed `[` in `{s}`"))?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{h}` is not an IPv6 address"));
        }
        match after {
            "" => (h, None),
            a => (
                h,
                Some(
                    a.strip_prefix(':')
                        .ok_or_else(|| format!("bad port in `{s}`"))?,
                ),
            ),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(format!("no address in `{s}`"));
    }
    let host_ok = host == "*"
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' || c == ':');
    if !host_ok {
        return Err(format!("`{host}` is not an address or host name"));
    }
    if let Some(p) = port {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Err(format!("`{p}` is not a port number")),
        }
    }
    Ok(())
}
