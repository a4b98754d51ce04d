//! rtimer's timers: their definitions from the `timer`/`exec` modparams (read in file order,
//! as Kamailio reads them) and the schedule each worker's tick claims runs from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// One `timer` with the routes its `exec` lines name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    pub name: String,
    /// Microseconds between runs (`interval=N` is seconds, `interval=Nu` microseconds).
    pub interval_us: u64,
    /// Kamailio's `mode`: 0 runs in the main timer, N in N processes of their own, each
    /// running the routes every interval.
    pub mode: u32,
    /// Route names, the last `exec` first (Kamailio prepends them).
    pub routes: Vec<String>,
}

impl Def {
    /// How many times the routes run per interval: once per Kamailio timer process.
    pub fn runs(&self) -> i64 {
        i64::from(self.mode.max(1))
    }
}

/// `name=v;name=v` with an optional trailing `;`, names without case.
fn pairs(spec: &str) -> Vec<(String, String)> {
    let spec = spec.trim();
    let spec = spec.strip_suffix(';').unwrap_or(spec);
    spec.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect()
}

fn uint(v: &str, what: &str) -> Result<u64, String> {
    v.parse().map_err(|_| format!("invalid {what}: {v}"))
}

/// The timers the `modparam`s define, in file order.
pub fn defs(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<Vec<Def>, String> {
    let mut out: Vec<Def> = Vec::new();
    let mut default_interval = 120u64;
    for p in m.iter().filter(|p| p.module == "rtimer") {
        let text = p.value.to_str();
        match p.param.as_str() {
            "default_interval" => {
                let n = p.value.to_int();
                default_interval =
                    u64::try_from(n).map_err(|_| format!("invalid default_interval: {n}"))?;
            }
            "timer" => out.push(timer(&text, default_interval, &out)?),
            "exec" => {
                let (mut tname, mut route) = (None, None);
                for (k, v) in pairs(&text) {
                    match k.as_str() {
                        "timer" => tname = Some(v),
                        "route" => route = Some(v),
                        _ => return Err(format!("exec: unknown param {k}")),
                    }
                }
                let tname = tname.ok_or("exec: invalid timer name")?;
                let t = out
                    .iter_mut()
                    .find(|t| t.name.eq_ignore_ascii_case(&tname))
                    .ok_or_else(|| format!("timer not found - name: {tname}"))?;
                let route = route.filter(|r| !r.is_empty()).ok_or("exec: no route")?;
                t.routes.insert(0, route);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn timer(spec: &str, default_interval: u64, known: &[Def]) -> Result<Def, String> {
    let (mut name, mut mode, mut ivl, mut usec) = (None, None, 0u64, false);
    for (k, v) in pairs(spec) {
        match k.as_str() {
            "name" => name = Some(v),
            // The first `mode` counts (Kamailio keeps a non-zero one).
            "mode" => {
                let n =
                    u32::try_from(uint(&v, "mode")?).map_err(|_| format!("invalid mode: {v}"))?;
                if mode.unwrap_or(0) == 0 {
                    mode = Some(n);
                }
            }
            "interval" => {
                let v = match v.strip_suffix(['u', 'U']) {
                    Some(n) => {
                        usec = true;
                        n.to_string()
                    }
                    None => v,
                };
                ivl = uint(&v, "interval")?;
            }
            // Kamailio ignores other names; sipvm refuses them rather than run on a guess.
            _ => return Err(format!("timer: unknown param {k}")),
        }
    }
    let name = name.filter(|n| !n.is_empty()).ok_or("invalid timer name")?;
    if known.iter().any(|t| t.name.eq_ignore_ascii_case(&name)) {
        return Err(format!("duplicate timer with same name: {name}"));
    }
    let mut mode = mode.unwrap_or(0);
    // A microsecond timer runs in a process of its own.
    if usec && mode == 0 {
        mode = 1;
    }
    let interval_us = match (ivl, usec) {
        (0, _) => default_interval.saturating_mul(1_000_000),
        (n, true) => n,
        (n, false) => n.saturating_mul(1_000_000),
    };
    if interval_us == 0 {
        return Err(format!("timer {name}: interval 0"));
    }
    Ok(Def {
        name,
        interval_us,
        mode,
        routes: Vec::new(),
    })
}

/// A timer and its next due time.
pub struct Timer {
    pub def: Def,
    /// Microseconds on the schedule's clock.
    next: AtomicU64,
}

impl Timer {
    /// Whether a run is due at `now`; true for exactly one caller per due run. A run that
    /// fell behind by more than an interval is not repeated: the next comes an interval on.
    pub fn claim(&self, now: u64) -> bool {
        let ivl = self.def.interval_us;
        let mut due = self.next.load(Ordering::Acquire);
        loop {
            if now < due {
                return false;
            }
            let next = match due.saturating_add(ivl) {
                n if n > now => n,
                _ => now.saturating_add(ivl),
            };
            match self
                .next
                .compare_exchange(due, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(d) => due = d,
            }
        }
    }
}

/// Every timer that has routes; the first run of each is one interval after start.
pub struct Timers {
    list: Vec<Timer>,
    epoch: Instant,
}

impl Timers {
    pub fn new(defs: Vec<Def>) -> Timers {
        Timers {
            list: defs
                .into_iter()
                .filter(|d| !d.routes.is_empty())
                .map(|d| Timer {
                    next: AtomicU64::new(d.interval_us),
                    def: d,
                })
                .collect(),
            epoch: Instant::now(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn list(&self) -> &[Timer] {
        &self.list
    }

    pub fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipvm_lang::compile::ModParamSetting;
    use sipvm_vm::Value;

    fn mp(list: &[(&str, Value)]) -> Vec<ModParamSetting> {
        list.iter()
            .map(|(p, v)| ModParamSetting {
                module: "rtimer".into(),
                param: p.to_string(),
                value: v.clone(),
            })
            .collect()
    }

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn definitions_as_kamailio_reads_them() {
        let d = defs(&mp(&[
            ("timer", s("name=ta;interval=10;mode=1;")),
            ("timer", s("NAME=tb;interval=100000u")),
            ("default_interval", Value::Int(7)),
            ("timer", s("name=tc")),
            ("exec", s("timer=ta;route=A")),
            ("exec", s("timer=TA;route=B")),
            ("exec", s("timer=tb;route=C")),
        ]))
        .unwrap();
        assert_eq!(d[0].interval_us, 10_000_000);
        assert_eq!(
            (d[0].mode, d[0].routes.clone()),
            (1, vec!["B".into(), "A".into()])
        );
        assert_eq!((d[1].interval_us, d[1].mode), (100_000, 1));
        assert_eq!(
            (d[2].interval_us, d[2].mode, d[2].runs()),
            (7_000_000, 0, 1)
        );
    }

    #[test]
    fn refusals() {
        for bad in [
            vec![("timer", s("interval=10"))],
            vec![("timer", s("name=a;interval=x"))],
            vec![("timer", s("name=a;colour=red"))],
            vec![("timer", s("name=a")), ("timer", s("name=A"))],
            vec![("exec", s("timer=nope;route=X"))],
            vec![("timer", s("name=a")), ("exec", s("timer=a"))],
        ] {
            assert!(defs(&mp(&bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_due_run_is_claimed_once() {
        let t = Timers::new(vec![Def {
            name: "t".into(),
            interval_us: 100,
            mode: 0,
            routes: vec!["R".into()],
        }]);
        let t = &t.list()[0];
        assert!(!t.claim(99));
        assert!(t.claim(100));
        assert!(!t.claim(150), "claimed already");
        assert!(t.claim(205));
        // Far behind: one run, the next an interval on.
        assert!(t.claim(1000));
        assert!(!t.claim(1050));
        assert!(t.claim(1100));
    }
}
