//! What the language can call: native functions, module parameters, pseudo-variables,
//! transformations and global parameters, as declared by sipvm's built-in modules (in `sipvm-proxy`).
//! `lang` checks every call and name against it at compile time.

use sipvm_vm::RouteKind;
pub use sipvm_vm::TransFn;

/// Route types a native may run in. Bit values are Kamailio's (`route_struct.h`), so module
/// exports can be transcribed as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteMask(pub u32);

impl RouteMask {
    pub const REQUEST: RouteMask = RouteMask(1);
    pub const FAILURE: RouteMask = RouteMask(2);
    pub const TM_ONREPLY: RouteMask = RouteMask(4);
    pub const BRANCH: RouteMask = RouteMask(8);
    pub const ONSEND: RouteMask = RouteMask(16);
    pub const ERROR: RouteMask = RouteMask(32);
    pub const LOCAL: RouteMask = RouteMask(64);
    pub const CORE_ONREPLY: RouteMask = RouteMask(128);
    pub const BRANCH_FAILURE: RouteMask = RouteMask(256);
    pub const ONREPLY: RouteMask = RouteMask(4 | 128);
    /// Kamailio's `ONEVENT_ROUTE` bit (`EVENT_ROUTE` is `REQUEST_ROUTE|ONEVENT_ROUTE`), kept
    /// so module masks stay Kamailio's.
    pub const ONEVENT: RouteMask = RouteMask(1 << 9);
    /// Kamailio runs most event routes as request routes.
    pub const EVENT: RouteMask = RouteMask(1);
    pub const ANY: RouteMask = RouteMask(u32::MAX);

    pub const fn or(self, o: RouteMask) -> RouteMask {
        RouteMask(self.0 | o.0)
    }

    pub const fn contains(self, o: RouteMask) -> bool {
        self.0 & o.0 == o.0
    }

    /// The bit of a route kind (`Sub` has none: it is checked with its callers' kinds).
    pub fn of(kind: RouteKind) -> RouteMask {
        match kind {
            RouteKind::Request | RouteKind::Event => Self::REQUEST,
            RouteKind::Sub => RouteMask(0),
            RouteKind::Reply => Self::CORE_ONREPLY,
            RouteKind::OnReply => Self::TM_ONREPLY,
            RouteKind::Failure => Self::FAILURE,
            RouteKind::Branch => Self::BRANCH,
            RouteKind::OnSend => Self::ONSEND,
        }
    }
}

/// What a native argument must be; checked, and fixed up, at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A literal string, used as written (no pseudo-variables).
    Str,
    /// An integer literal (or a string literal holding one).
    Int,
    /// A string in which pseudo-variables are expanded at each call.
    Fmt,
    /// An integer, or a string with pseudo-variables that must give one at run time.
    IntFmt,
    /// A regular expression, compiled at compile time (extended, case-insensitive).
    Regex,
    /// The name of a route of this kind, which must exist.
    Route(RouteKind),
    /// A writable pseudo-variable.
    Pv,
    /// A log level: `L_ALERT`, `L_BUG`, `L_CRIT`, `L_ERR`, `L_WARN`, `L_NOTICE`, `L_INFO`, `L_DBG`
    /// or an integer, possibly with a facility prefix as Kamailio's xlog takes it.
    LogLevel,
    /// `host[:port]`, checked at compile time unless it holds pseudo-variables.
    HostPort,
    /// A SIP URI, checked at compile time unless it holds pseudo-variables.
    Uri,
    /// A `|`-separated list of SIP method names.
    Methods,
    /// A flag number 0..=31 or a flag name.
    Flag,
    /// A SIP reply code 100..=699 (or pseudo-variables giving one).
    Code,
}

/// A native function as a module declares it.
#[derive(Clone, Copy, Debug)]
pub struct FnDecl {
    pub name: &'static str,
    /// Kinds of every parameter it can take; the first `min_args` are required.
    pub args: &'static [ArgKind],
    pub min_args: u8,
    /// Where it may be called.
    pub routes: RouteMask,
}

/// Types of module and global parameter values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Int,
    Str,
    /// Either an integer or a string.
    Any,
}

/// A module parameter (`modparam("mod", "name", value)`).
#[derive(Clone, Copy, Debug)]
pub struct ParamDecl {
    pub name: &'static str,
    pub ty: ParamType,
}

/// How a pseudo-variable class is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PvForm {
    /// `$ru`
    Plain,
    /// `$hdr(Name)`: the inner name is required.
    Named,
    /// `$T_req($fu)`: the inner part is a pseudo-variable of another message, compiled.
    OfMessage,
}

/// A pseudo-variable class (`ru`, `hdr`, `sht`, `T_reply_code`...).
#[derive(Clone, Copy, Debug)]
pub struct PvDecl {
    pub name: &'static str,
    pub form: PvForm,
    /// Whether the script may assign it.
    pub writable: bool,
}

/// A transformation (`$(pv{class.op,args})`) and its implementation, which the compiler
/// stores in the program so that the VM calls it without a name lookup.
#[derive(Clone, Copy, Debug)]
pub struct TransDecl {
    pub class: &'static str,
    pub op: &'static str,
    pub min_args: u8,
    pub max_args: u8,
    pub f: TransFn,
}

/// A built-in module: `loadmodule "NAME.so"` makes its functions, parameters,
/// pseudo-variables and transformations available.
#[derive(Clone, Copy, Debug)]
pub struct ModuleDecl {
    pub name: &'static str,
    pub functions: &'static [FnDecl],
    pub params: &'static [ParamDecl],
    pub pvs: &'static [PvDecl],
    pub transforms: &'static [TransDecl],
}

/// What a global parameter's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    Int,
    Str,
    /// `yes`/`no`/`on`/`off`/`true`/`false`/`1`/`0`.
    Bool,
    /// `[proto:]addr[:port] [advertise host:port] [name "n"]`.
    Listen,
    /// A host name or address, optionally `proto:` and `:port` (`alias`).
    Alias,
    /// Anything: accepted as written.
    Any,
}

/// A core parameter (`children=4`).
#[derive(Clone, Copy, Debug)]
pub struct GlobalDecl {
    pub name: &'static str,
    pub kind: GlobalKind,
    /// May be given several times (`listen`, `alias`).
    pub repeatable: bool,
    /// Changing it needs a restart (a reload that changes it is refused).
    pub restart_only: bool,
}

/// The whole registry: the core plus every built-in module.
#[derive(Debug)]
pub struct Registry {
    /// The core "module": functions, pseudo-variables always present.
    pub core: &'static ModuleDecl,
    pub modules: Vec<&'static ModuleDecl>,
    pub globals: &'static [GlobalDecl],
    /// Modules sipvm accepts but serves itself (xhttp, jsonrpcs, ctl, ...): they declare
    /// parameters and functions like the others.
    natives: Vec<(u16, &'static FnDecl)>,
    pvs: Vec<(u16, &'static PvDecl)>,
    /// By native id: whether sipvm has an implementation (set by whoever provides them).
    implemented: Vec<bool>,
    /// By pseudo-variable class id: a getter, and a setter, exist. All true until
    /// `with_pvs_implemented` says otherwise (a registry made for tests implements all).
    pv_get: Vec<bool>,
    pv_set: Vec<bool>,
    /// Set by `with_implemented`: a declared native without an implementation is then a
    /// compile error (a registry made for tests leaves it unset).
    strict: bool,
    /// Declared modparams sipvm does not honour, refused by the compiler.
    params_missing: Vec<(u16, &'static str)>,
    /// How sipvm treats each core parameter.
    global_support: fn(&str) -> GlobalSupport,
    /// Modules only declared (loading one gives nothing: a warning says so).
    modules_missing: Vec<u16>,
    /// Modparams read once at start: `(module name, param)`.
    params_restart: Vec<(&'static str, &'static str)>,
}

/// What sipvm does with a core parameter it declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalSupport {
    /// Read and acted on.
    Honoured,
    /// Accepted, with a warning saying why it has no effect (`mpath`: modules are built in).
    NoEffect(&'static str),
    /// Only these values (as written, case-insensitive) are accepted: what sipvm does anyway
    /// (`enable_sctp=no`); any other value is refused.
    Only(&'static [&'static str]),
    /// Refused: Kamailio has it, sipvm does not implement it yet.
    Missing,
}

/// Module index 0 is the core.
pub const CORE_MODULE: u16 = 0;

impl Registry {
    pub fn new(
        core: &'static ModuleDecl,
        modules: Vec<&'static ModuleDecl>,
        globals: &'static [GlobalDecl],
    ) -> Self {
        let mut natives = Vec::new();
        let mut pvs = Vec::new();
        for (mi, m) in std::iter::once(core)
            .chain(modules.iter().copied())
            .enumerate()
        {
            for f in m.functions {
                natives.push((mi as u16, f));
            }
            for p in m.pvs {
                pvs.push((mi as u16, p));
            }
        }
        let implemented = vec![false; natives.len()];
        let (pv_get, pv_set) = (vec![true; pvs.len()], vec![true; pvs.len()]);
        Registry {
            core,
            modules,
            globals,
            natives,
            pvs,
            implemented,
            pv_get,
            pv_set,
            strict: false,
            params_missing: Vec::new(),
            global_support: |_| GlobalSupport::Honoured,
            modules_missing: Vec::new(),
            params_restart: Vec::new(),
        }
    }

    /// Marks which natives have an implementation: `has(module, function)`. A call of a
    /// declared native without one is then a compile error.
    pub fn with_implemented(mut self, has: impl Fn(&str, &str) -> bool) -> Self {
        for (i, (m, f)) in self.natives.iter().enumerate() {
            self.implemented[i] = has(self.module(*m).name, f.name);
        }
        self.strict = true;
        self
    }

    /// Marks which declared modparams sipvm honours: `has(module, param)`. Setting any other
    /// is a compile error.
    pub fn with_params_implemented(mut self, has: impl Fn(&str, &str) -> bool) -> Self {
        let mut missing = Vec::new();
        for (mi, m) in self.modules.iter().enumerate() {
            for p in m.params {
                if !has(m.name, p.name) {
                    missing.push(((mi + 1) as u16, p.name));
                }
            }
        }
        self.params_missing = missing;
        self
    }

    /// Marks the modules sipvm implements: `has(module)`; the others are declarations only.
    pub fn with_modules_implemented(mut self, has: impl Fn(&str) -> bool) -> Self {
        self.modules_missing = (0..self.modules.len())
            .filter(|&i| !has(self.modules[i].name))
            .map(|i| (i + 1) as u16)
            .collect();
        self
    }

    /// Whether module `mi` is only declared.
    pub fn is_module_missing(&self, mi: u16) -> bool {
        self.modules_missing.contains(&mi)
    }

    /// Says how sipvm treats each core parameter (all honoured until this is called).
    pub fn with_global_support(mut self, support: fn(&str) -> GlobalSupport) -> Self {
        self.global_support = support;
        self
    }

    /// Whether a call of this native must be refused: it has no implementation, in a
    /// registry that knows its implementations.
    pub fn refuses_native(&self, id: u16) -> bool {
        self.strict && !self.is_implemented(id)
    }

    /// Marks the modparams read once at start: `restart(module, param)`; a reload that
    /// changes one is refused.
    pub fn with_params_restart(mut self, restart: impl Fn(&str, &str) -> bool) -> Self {
        let mut v = Vec::new();
        for m in &self.modules {
            for p in m.params {
                if restart(m.name, p.name) {
                    v.push((m.name, p.name));
                }
            }
        }
        self.params_restart = v;
        self
    }

    /// Whether a reload may not change modparam `param` of module `module`.
    pub fn is_param_restart(&self, module: &str, param: &str) -> bool {
        self.params_restart
            .iter()
            .any(|(m, p)| *m == module && *p == param)
    }

    /// Whether sipvm honours modparam `name` of module `mi`.
    pub fn is_param_implemented(&self, mi: u16, name: &str) -> bool {
        !self
            .params_missing
            .iter()
            .any(|(m, p)| *m == mi && *p == name)
    }

    /// How sipvm treats the core parameter `name`.
    pub fn global_support(&self, name: &str) -> GlobalSupport {
        (self.global_support)(name)
    }

    /// Marks which pseudo-variable classes can be read and written:
    /// `has(module, class) -> (get, set)`. An unimplemented one is a compile error.
    pub fn with_pvs_implemented(mut self, has: impl Fn(&str, &str) -> (bool, bool)) -> Self {
        for (i, (m, p)) in self.pvs.iter().enumerate() {
            let (g, s) = has(self.module(*m).name, p.name);
            self.pv_get[i] = g;
            self.pv_set[i] = s && p.writable;
        }
        self
    }

    /// Whether the pseudo-variable class with this id can be read.
    pub fn is_pv_implemented(&self, id: u16) -> bool {
        self.pv_get.get(id as usize).copied().unwrap_or(false)
    }

    /// Whether the pseudo-variable class with this id can be assigned.
    pub fn is_pv_settable(&self, id: u16) -> bool {
        self.pv_set.get(id as usize).copied().unwrap_or(false)
    }

    /// Whether the native with this id has an implementation.
    pub fn is_implemented(&self, id: u16) -> bool {
        self.implemented.get(id as usize).copied().unwrap_or(false)
    }

    /// Module by its name (`"tm"` for `tm.so`); 0 is the core.
    pub fn module_index(&self, name: &str) -> Option<u16> {
        self.modules
            .iter()
            .position(|m| m.name == name)
            .map(|i| (i + 1) as u16)
    }

    pub fn module(&self, index: u16) -> &'static ModuleDecl {
        if index == CORE_MODULE {
            self.core
        } else {
            self.modules[index as usize - 1]
        }
    }

    /// Every native: `(id, module index, declaration)`; `id` is what `NativeRef::id` holds.
    pub fn natives(&self) -> impl Iterator<Item = (u16, u16, &'static FnDecl)> + '_ {
        self.natives
            .iter()
            .enumerate()
            .map(|(i, (m, f))| (i as u16, *m, *f))
    }

    pub fn native(&self, id: u16) -> Option<(u16, &'static FnDecl)> {
        self.natives.get(id as usize).copied()
    }

    /// Every pseudo-variable class: `(id, module index, declaration)`; `id` is `PvRef::class`.
    pub fn pv_classes(&self) -> impl Iterator<Item = (u16, u16, &'static PvDecl)> + '_ {
        self.pvs
            .iter()
            .enumerate()
            .map(|(i, (m, p))| (i as u16, *m, *p))
    }

    pub fn pv_class(&self, id: u16) -> Option<(u16, &'static PvDecl)> {
        self.pvs.get(id as usize).copied()
    }

    /// Every module declaring `{class.op}`: `(module index, declaration)`.
    pub fn transforms<'s>(
        &'s self,
        class: &'s str,
        op: &'s str,
    ) -> impl Iterator<Item = (u16, &'static TransDecl)> + 's {
        std::iter::once(self.core)
            .chain(self.modules.iter().copied())
            .enumerate()
            .flat_map(|(mi, m)| m.transforms.iter().map(move |t| (mi as u16, t)))
            .filter(move |(_, t)| t.class == class && t.op == op)
    }

    pub fn global(&self, name: &str) -> Option<&'static GlobalDecl> {
        self.globals.iter().find(|g| g.name == name)
    }
}
