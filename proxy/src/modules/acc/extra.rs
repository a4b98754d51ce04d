//! `log_extra`: `name=$pv;name=$pv` pairs, evaluated on the request of each record. The
//! pseudo-variables are compiled once, at start-up, into a small program of their own (one
//! `$var` assignment each) against the same registry and loaded modules as the script, so
//! every pseudo-variable the script may read works here with the same meaning, and an unknown
//! one stops start-up as Kamailio does.

use crate::host::Ctx;
use sipvm_vm::{Program, RouteIdx, RouteKind, Value, Vm};
use std::sync::Arc;

/// Kamailio's cap on extra attributes (`acc_extra_size`'s default).
pub const MAX_EXTRAS: usize = 64;

/// The parsed `log_extra`.
#[derive(Default)]
pub struct Extras {
    pub names: Vec<String>,
    prog: Option<(Arc<Program>, RouteIdx)>,
}

impl std::fmt::Debug for Extras {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extras")
            .field("names", &self.names)
            .finish()
    }
}

/// Splits `name=$pv;name=$pv` (blanks around each part ignored), at most `max` pairs
/// (`acc_extra_size`).
pub fn split(spec: &str, max: usize) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in spec.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, pv) = part
            .split_once('=')
            .ok_or_else(|| format!("log_extra: no '=' in {part:?}"))?;
        let (name, pv) = (name.trim(), pv.trim());
        if name.is_empty() || !pv.starts_with('$') {
            return Err(format!("log_extra: {part:?} is not name=$pv"));
        }
        out.push((name.to_string(), pv.to_string()));
    }
    if out.len() > max {
        return Err(format!(
            "log_extra: more than {max} attributes (acc_extra_size)"
        ));
    }
    Ok(out)
}

impl Extras {
    /// Compiles `spec` for a script that loads `modules`.
    pub fn compile(spec: &str, modules: &[String], max: usize) -> Result<Extras, String> {
        let pairs = split(spec, max)?;
        if pairs.is_empty() {
            return Ok(Extras::default());
        }
        let mut text = String::new();
        for m in modules {
            text.push_str(&format!(
                "loadmodule \"{}.so\"\n",
                m.trim_end_matches(".so")
            ));
        }
        text.push_str("route[ACC_EXTRA] {\n");
        for (i, (_, pv)) in pairs.iter().enumerate() {
            text.push_str(&format!("    $var(acc_extra_{i}) = {pv};\n"));
        }
        text.push_str("}\nrequest_route {\n    route(ACC_EXTRA);\n}\n");
        let c = sipvm_lang::compile_str(
            "acc log_extra",
            &text,
            &Default::default(),
            crate::host::shared::registry().ok_or("log_extra: no registry yet")?,
        )
        .map_err(|f| format!("log_extra: {}", f.render()))?;
        let route = c
            .program
            .route(RouteKind::Sub, "ACC_EXTRA")
            .ok_or("log_extra: internal route missing")?;
        Ok(Extras {
            names: pairs.into_iter().map(|(n, _)| n).collect(),
            prog: Some((Arc::new(c.program), route)),
        })
    }

    /// The values on the message of `ctx`: a pseudo-variable without a value gives "" (as
    /// Kamailio turns `<null>` into an empty value).
    pub fn values(&self, ctx: &mut Ctx<'_>) -> Vec<String> {
        let Some((prog, route)) = &self.prog else {
            return Vec::new();
        };
        let mut vm = Vm::new();
        if let Err(e) = vm.run(prog, *route, ctx) {
            tracing::error!("acc: log_extra: {}", e.render(prog));
        }
        (0..self.names.len())
            .map(|i| match vm.var(&format!("acc_extra_{i}")) {
                Some(Value::Int(n)) => n.to_string(),
                Some(Value::Str(s)) => s.to_string(),
                _ => String::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_stock_extras() {
        let p = split(
            "src_user=$fU;src_domain=$fd; src_ip=$si ;dst_ouser=$tU;",
            64,
        )
        .unwrap();
        let names: Vec<&str> = p.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["src_user", "src_domain", "src_ip", "dst_ouser"]);
        assert_eq!(p[2].1, "$si");
        assert!(split("src_user", 64).is_err());
        assert!(split("a=b", 64).is_err());
    }

    #[test]
    fn compiles_known_pseudo_variables_and_refuses_unknown_ones() {
        crate::host::shared::set_registry(crate::modules::registry());
        let x = Extras::compile("u=$fU;h=$hdr(X-Foo)", &[], 64).unwrap();
        assert_eq!(x.names, ["u", "h"]);
        assert!(Extras::compile("u=$nosuchpv", &[], 64).is_err());
    }
}
