//! uac's module parameters, read once from the first snapshot and checked as Kamailio's
//! mod_init checks them.

use sipvm_lang::compile::ModParamSetting;
use sipvm_vm::Value;

/// The parameters sipvm honours (the others are refused by the compiler).
pub const PARAMS: &[&str] = &[
    "rr_from_store_param",
    "rr_to_store_param",
    "restore_mode",
    "restore_dlg",
    "restore_passwd",
    "credential",
    "auth_username_avp",
    "auth_realm_avp",
    "auth_password_avp",
    "reg_db_url",
    "reg_db_table",
    "reg_contact_addr",
    "reg_timer_interval",
    "reg_retry_interval",
    "reg_keep_callid",
    "reg_random_delay",
    "reg_use_domain",
    "reg_active",
    "restore_from_avp",
    "restore_to_avp",
    "default_socket",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreMode {
    None,
    Manual,
    Auto,
}

/// One `credential` modparam: `user:realm:password`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub user: String,
    pub realm: String,
    pub passwd: String,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub restore_mode: RestoreMode,
    pub rr_from: String,
    pub rr_to: String,
    pub passwd: String,
    /// `restore_from_avp` / `restore_to_avp`: the AVPs keeping a header's value before uac
    /// changed it (what replies get back).
    pub restore_avps: (Option<String>, Option<String>),
    /// Newest first, as Kamailio's list (the last `credential` line wins a realm).
    pub credentials: Vec<Credential>,
    /// `auth_realm_avp`, `auth_username_avp`, `auth_password_avp`: the AVP names.
    pub auth_avps: Option<(String, String, String)>,
    /// The db_text directory of `reg_db_url`.
    pub reg_dir: Option<std::path::PathBuf>,
    pub reg_table: String,
    pub reg_contact: String,
    pub reg_timer_interval: u64,
    pub reg_retry_interval: u64,
    pub reg_keep_callid: bool,
    /// Records without a `reg_delay` wait a random 0..this many seconds before registering.
    pub reg_random_delay: u32,
    /// Lookups by user also compare the domain.
    pub reg_use_domain: bool,
    /// Registrations are sent from the start (else only after `uac.reg_active 1`).
    pub reg_active: bool,
    /// `default_socket` (`proto:addr:port`): where uac's own requests leave from when neither
    /// `$uac_req(sock)` nor the record's socket says.
    pub default_socket: Option<String>,
    /// rr's `append_fromtag` (auto restore needs it).
    pub append_fromtag: bool,
}

fn get<'m>(m: &'m [ModParamSetting], name: &str) -> Option<&'m Value> {
    m.iter()
        .rev()
        .find(|s| s.module == "uac" && s.param == name)
        .map(|s| &s.value)
}

fn text(m: &[ModParamSetting], name: &str, default: &str) -> String {
    get(m, name).map_or_else(|| default.to_string(), |v| v.to_str().into_owned())
}

fn int(m: &[ModParamSetting], name: &str, default: i64) -> Result<i64, String> {
    match get(m, name) {
        None => Ok(default),
        Some(v) => v
            .try_int()
            .ok_or_else(|| format!("{name}: not an integer: {}", v.to_str())),
    }
}

/// Kamailio's `add_credential`: `user:realm:passwd`, white space allowed around the parts.
pub fn parse_credential(s: &str) -> Result<Credential, String> {
    let bad = || format!("credential: parse error in <{s}>");
    let mut it = s.splitn(3, ':');
    let user = it.next().map(str::trim).filter(|x| !x.is_empty());
    let realm = it.next().map(str::trim).filter(|x| !x.is_empty());
    let passwd = it.next().map(str::trim).filter(|x| !x.is_empty());
    match (user, realm, passwd) {
        (Some(u), Some(r), Some(p))
            if !u.contains(char::is_whitespace)
                && !r.contains(char::is_whitespace)
                && !p.contains(char::is_whitespace) =>
        {
            Ok(Credential {
                user: u.into(),
                realm: r.into(),
                passwd: p.into(),
            })
        }
        _ => Err(bad()),
    }
}

/// `$avp(name)` as a modparam names it: the inner name.
fn avp_name(spec: &str) -> Result<String, String> {
    let s = spec.trim();
    s.strip_prefix("$avp(")
        .and_then(|r| r.strip_suffix(')'))
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("malformed or non AVP {spec} AVP definition"))
}

/// `text:///dir` (or `text://dir`): the db_text directory. Other databases are issue #14.
pub fn db_text_dir(url: &str) -> Result<std::path::PathBuf, String> {
    match url.strip_prefix("text://") {
        Some(dir) if !dir.is_empty() => Ok(dir.into()),
        _ => Err(format!(
            "reg_db_url {url}: only db_text (text:///dir) is supported by sipvm yet (#14)"
        )),
    }
}

impl Config {
    pub fn of(snap: &sipvm_cfg::Snapshot, enabled: bool) -> Result<Config, String> {
        let mut c = Config::from_modparams(&snap.modparams, enabled)?;
        c.append_fromtag = snap.modparam_int("rr", "append_fromtag", 1) != 0;
        // Kamailio's mod_init loads the rr API unless nothing is restored.
        if enabled && c.restore_mode != RestoreMode::None && !snap.modules.iter().any(|m| m == "rr")
        {
            return Err("can't load RR API: load rr.so or set restore_mode to none".into());
        }
        if enabled && c.restore_mode == RestoreMode::Auto && !c.append_fromtag {
            return Err(
                "'append_fromtag' RR param is not enabled! - required by AUTO restore mode".into(),
            );
        }
        if let Some(ds) = c.default_socket.clone().filter(|_| enabled) {
            c.default_socket = Some(local_socket(snap, &ds)?);
        }
        Ok(c)
    }

    pub fn from_modparams(m: &[ModParamSetting], enabled: bool) -> Result<Config, String> {
        let restore_mode = match text(m, "restore_mode", "auto")
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "auto" => RestoreMode::Auto,
            "none" => RestoreMode::None,
            "manual" => RestoreMode::Manual,
            other => return Err(format!("unsupported value '{other}' for restore_mode")),
        };
        let rr_from = text(m, "rr_from_store_param", "vsf");
        let rr_to = text(m, "rr_to_store_param", "vst");
        if (rr_from.is_empty() || rr_to.is_empty()) && restore_mode != RestoreMode::None {
            return Err("rr_store_param cannot be empty if FROM is restoreable".into());
        }
        if int(m, "restore_dlg", 0)? != 0 {
            return Err(
                "restore_dlg=1 (dialog-based restore) is not implemented by sipvm yet".into(),
            );
        }
        let mut credentials = Vec::new();
        for s in m
            .iter()
            .filter(|s| s.module == "uac" && s.param == "credential")
        {
            credentials.push(parse_credential(&s.value.to_str())?);
        }
        credentials.reverse();
        let avps = [
            get(m, "auth_realm_avp"),
            get(m, "auth_username_avp"),
            get(m, "auth_password_avp"),
        ];
        let auth_avps = match avps {
            [None, None, None] => None,
            [Some(r), Some(u), Some(p)] => Some((
                avp_name(&r.to_str())?,
                avp_name(&u.to_str())?,
                avp_name(&p.to_str())?,
            )),
            _ => return Err("partial definition of auth AVP!".into()),
        };
        let reg_dir = match get(m, "reg_db_url") {
            Some(v) => Some(db_text_dir(&v.to_str())?),
            None => None,
        };
        let reg_contact = text(m, "reg_contact_addr", "");
        if enabled && reg_dir.is_some() && reg_contact.is_empty() {
            return Err("contact address parameter not set".into());
        }
        let pos = |name: &str, d: i64| -> Result<u64, String> {
            let v = int(m, name, d)?;
            u64::try_from(v).map_err(|_| format!("{name}: must not be negative"))
        };
        let restore_avp = |name: &str| -> Result<Option<String>, String> {
            match get(m, name) {
                Some(v) if restore_mode != RestoreMode::None => Ok(Some(avp_name(&v.to_str())?)),
                _ => Ok(None),
            }
        };
        let restore_avps = (
            restore_avp("restore_from_avp")?,
            restore_avp("restore_to_avp")?,
        );
        Ok(Config {
            restore_avps,
            restore_mode,
            rr_from,
            rr_to,
            passwd: text(m, "restore_passwd", ""),
            credentials,
            auth_avps,
            reg_dir,
            reg_table: text(m, "reg_db_table", "uacreg"),
            reg_contact,
            reg_timer_interval: pos("reg_timer_interval", 90)?.max(1),
            reg_retry_interval: pos("reg_retry_interval", 0)?,
            reg_keep_callid: int(m, "reg_keep_callid", 0)? != 0,
            reg_random_delay: u32::try_from(pos("reg_random_delay", 0)?).unwrap_or(u32::MAX),
            reg_use_domain: int(m, "reg_use_domain", 0)? != 0,
            reg_active: int(m, "reg_active", 1)? != 0,
            default_socket: get(m, "default_socket")
                .map(|v| v.to_str().into_owned())
                .filter(|v| !v.is_empty()),
            append_fromtag: true,
        })
    }
}

/// `default_socket` must name a socket of the `listen` lines (Kamailio's `grep_sock_info`):
/// the socket as sipvm prints it (`udp:127.0.0.1:5060`).
fn local_socket(snap: &sipvm_cfg::Snapshot, want: &str) -> Result<String, String> {
    use crate::transport::listen;
    let mut specs: Vec<listen::ListenSpec> = snap
        .global("listen")
        .filter_map(|g| listen::parse_listen(&g.raw).ok())
        .collect();
    if specs.is_empty() {
        specs = listen::default_listen();
    }
    let w = want.trim().to_ascii_lowercase();
    for sp in &specs {
        for proto in sp.protos() {
            let mut s = format!("{}:", proto.as_str());
            crate::sip::numfmt::push_socket(&mut s, sp.addr);
            if s == w {
                return Ok(s);
            }
        }
    }
    Err(format!("non-local socket <{want}>"))
}

pub fn check(m: &[ModParamSetting]) -> Result<(), String> {
    let enabled = m.iter().any(|s| s.module == "uac");
    Config::from_modparams(m, enabled).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_as_kamailio() {
        let c = parse_credential(" alice : example.com : pw1 ").unwrap();
        assert_eq!(
            (c.user.as_str(), c.realm.as_str(), c.passwd.as_str()),
            ("alice", "example.com", "pw1")
        );
        assert!(parse_credential("alice:example.com").is_err());
        assert!(parse_credential("alice::pw").is_err());
        assert!(parse_credential("a b:r:p").is_err());
    }

    #[test]
    fn only_db_text_urls() {
        assert_eq!(
            db_text_dir("text:///tmp/x").unwrap(),
            std::path::PathBuf::from("/tmp/x")
        );
        assert!(db_text_dir("mysql://u:p@h/db").is_err());
    }
}
