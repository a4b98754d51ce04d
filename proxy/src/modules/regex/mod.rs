//! `regex`: Kamailio 5.6's regex module: `pcre_match(string, pattern)` and
//! `pcre_match_group(string[, group])` against the groups of the `file` parameter, reloaded
//! by the `regex.reload` RPC. Patterns are PCRE syntax run by the `regex` crate; look-around
//! and back-references are refused (at load for the file, -4 for `pcre_match`).

mod groups;

pub use groups::Options;

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

const ROUTES: RouteMask = RouteMask::REQUEST
    .or(RouteMask::FAILURE)
    .or(RouteMask::ONREPLY)
    .or(RouteMask::BRANCH)
    .or(RouteMask::LOCAL);

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "regex",
    functions: &[
        FnDecl { name: "pcre_match", args: &[Fmt, Fmt], min_args: 2, routes: ROUTES },
        FnDecl { name: "pcre_match_group", args: &[Fmt, Fmt], min_args: 1, routes: ROUTES },
    ],
    params: &[
        ParamDecl { name: "file", ty: ParamType::Str },
        ParamDecl { name: "max_groups", ty: ParamType::Int },
        ParamDecl { name: "group_max_size", ty: ParamType::Int },
        ParamDecl { name: "pcre_caseless", ty: ParamType::Int },
        ParamDecl { name: "pcre_multiline", ty: ParamType::Int },
        ParamDecl { name: "pcre_dotall", ty: ParamType::Int },
        ParamDecl { name: "pcre_extended", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl, Module, Server};
use regex::bytes::Regex;
use sipvm_vm::{ArgValue, HostError, Value};
use std::cell::RefCell;
use std::sync::{Arc, RwLock};

/// The module's state: its settings and the groups of the file, swapped whole on reload.
pub struct RegexState {
    pub file: Option<String>,
    max_groups: i64,
    max_size: i64,
    /// Kamailio sets the PCRE options only when `file` is set; `pcre_match` uses them too.
    pub opts: Options,
    groups: RwLock<Arc<Vec<Regex>>>,
}

impl RegexState {
    pub fn new(
        file: Option<String>,
        max_groups: i64,
        max_size: i64,
        opts: Options,
    ) -> Result<RegexState, String> {
        let (opts, groups) = match &file {
            Some(f) => (opts, groups::load(f, max_groups, max_size, opts)?),
            None => (Options::default(), Vec::new()),
        };
        Ok(RegexState {
            file,
            max_groups,
            max_size,
            opts,
            groups: RwLock::new(Arc::new(groups)),
        })
    }

    /// Reads the file again; on an error the groups in use stay.
    pub fn reload(&self) -> Result<usize, String> {
        let f = self.file.as_deref().ok_or("group matching not enabled")?;
        let g = groups::load(f, self.max_groups, self.max_size, self.opts)?;
        let n = g.len();
        *self.groups.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(g);
        Ok(n)
    }

    pub fn groups(&self) -> Arc<Vec<Regex>> {
        self.groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn settings(
    get: impl Fn(&str) -> Option<Value>,
) -> Result<(Option<String>, i64, i64, Options), String> {
    let int = |n: &str, d: i64| -> Result<i64, String> {
        match get(n) {
            None => Ok(d),
            Some(v) => v.try_int().ok_or_else(|| format!("{n} must be an integer")),
        }
    };
    let file = get("file").map(|v| v.to_str().into_owned());
    let max_groups = int("max_groups", groups::MAX_GROUPS)?;
    let max_size = int("group_max_size", groups::GROUP_MAX_SIZE)?;
    if max_groups < 1 || max_size < 8 {
        return Err("max_groups and group_max_size must be positive".into());
    }
    let opts = Options {
        caseless: int("pcre_caseless", 0)? != 0,
        multiline: int("pcre_multiline", 0)? != 0,
        dotall: int("pcre_dotall", 0)? != 0,
        extended: int("pcre_extended", 0)? != 0,
    };
    Ok((file, max_groups, max_size, opts))
}

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    settings(|n| {
        m.iter()
            .rev()
            .find(|s| s.module == "regex" && s.param == n)
            .map(|s| s.value.clone())
    })
    .map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let (file, g, s, o) = settings(|n| snap.modparam("regex", n).cloned())?;
    // The file is read only when the configuration loads the module.
    let file = file.filter(|_| snap.modules.iter().any(|m| m == "regex"));
    Ok(Arc::new(RegexState::new(file, g, s, o)?))
}

thread_local! {
    /// Patterns `pcre_match` compiled lately on this worker (Kamailio compiles each call).
    static CACHE: RefCell<Vec<(String, Options, Regex)>> = const { RefCell::new(Vec::new()) };
}
const CACHE_SIZE: usize = 32;

fn cached(pattern: &str, o: Options) -> Result<Regex, String> {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(i) = c.iter().position(|(p, q, _)| p == pattern && *q == o) {
            let e = c.remove(i);
            let re = e.2.clone();
            c.push(e);
            return Ok(re);
        }
        let re = groups::compile(pattern, o)?;
        if c.len() >= CACHE_SIZE {
            c.remove(0);
        }
        c.push((pattern.to_string(), o, re.clone()));
        Ok(re)
    })
}

/// `pcre_match(string, pattern)`: 1 on a match, -1 on none, -4 when the pattern does not
/// compile.
fn pcre_match(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s, p) = (arg_str(args, 0), arg_str(args, 1));
    let o = ctx.state::<RegexState>().opts;
    match cached(&p, o) {
        Ok(re) => Ok(if re.is_match(s.as_bytes()) { 1 } else { -1 }),
        Err(e) => {
            tracing::error!("pcre_match: compilation of '{p}' failed: {e}");
            Ok(-4)
        }
    }
}

/// Kamailio's `str2int` as pcre_match_group uses it: the leading digits (`2x` is 2), 0 when
/// there are none.
fn group_index(s: &str) -> usize {
    let d: String = s.chars().take_while(char::is_ascii_digit).collect();
    if d.is_empty() {
        0
    } else {
        d.parse().unwrap_or(usize::MAX)
    }
}

/// `pcre_match_group(string[, group])`: 1 when group `group` (default 0) of the file
/// matches, -1 when not; -2 without a `file`, -4 for a group the file does not have.
fn pcre_match_group(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let st = ctx.state::<RegexState>();
    if st.file.is_none() {
        tracing::error!("group matching is disabled");
        return Ok(-2);
    }
    let g = if args.len() > 1 {
        group_index(&arg_str(args, 1))
    } else {
        0
    };
    let groups = st.groups();
    let Some(re) = groups.get(g) else {
        tracing::error!("invalid pcre index '{g}', there are {} pcres", groups.len());
        return Ok(-4);
    };
    Ok(if re.is_match(arg_str(args, 0).as_bytes()) {
        1
    } else {
        -1
    })
}

/// `regex.reload`: the file read anew; 500 when group matching is off or the file is bad.
fn rpc(reg: &sipvm_rpc::Registry, server: &Server) {
    let shared = server.shared.clone();
    reg.method("regex.reload", "Reload regex file", move |_| {
        let st = shared.state::<RegexState>();
        if st.file.is_none() {
            return Err(sipvm_rpc::RpcError::new(500, "Group matching not enabled"));
        }
        match st.reload() {
            Ok(n) => {
                tracing::info!("regex: reload success ({n} groups)");
                Ok(sipvm_rpc::Value::Null)
            }
            Err(e) => {
                tracing::error!("regex: failed to reload pcres: {e}");
                Err(sipvm_rpc::RpcError::new(500, "Failed to reload"))
            }
        }
    });
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "pcre_match",
        f: pcre_match,
    },
    Impl {
        name: "pcre_match_group",
        f: pcre_match_group,
    },
];

pub static MODULE: Module = Module {
    natives: IMPLS,
    params: &[
        "file",
        "max_groups",
        "group_max_size",
        "pcre_caseless",
        "pcre_multiline",
        "pcre_dotall",
        "pcre_extended",
    ],
    restart: &[
        "file",
        "max_groups",
        "group_max_size",
        "pcre_caseless",
        "pcre_multiline",
        "pcre_dotall",
        "pcre_extended",
    ],
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc),
    ..Module::decl(&DECL)
};
