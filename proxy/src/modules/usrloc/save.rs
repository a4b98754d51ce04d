//! registrar's `save()`: a REGISTER's contacts applied to one AoR's record, by Kamailio 5.6's
//! rules (registrar save.c/sip_msg.c, usrloc's contact matching): expires from the contact's
//! parameter, else the Expires header, else `default_expires`, then `min_expires` /
//! `max_expires`; `Contact: *` with `Expires: 0`; RFC 3261 §10.3 Call-ID/CSeq ordering;
//! `+sip.instance`/`reg-id` matching; the replace-all flag. Pure over a locked record so it
//! can be tested with an injected clock.

use super::store::{Binding, Locked, Record, Usrloc, Q_UNSPECIFIED};

/// registrar's error states (`rerrno`), with the reply each gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rerr {
    InvCseq,
    AorLen,
    AorParse,
    InvQ,
    Parse,
    ToMiss,
    CidMiss,
    CsMiss,
    ParseExp,
    ParseCont,
    StarExp,
    StarCont,
    Unescape,
    TooMany,
    ContactLen,
    CallidLen,
    ParsePath,
    PathUnsup,
    InvRegid,
    LowExp,
}

impl Rerr {
    /// Status code, reason phrase and the `P-Registrar-Error` text, as Kamailio's reply.c.
    pub fn reply(self) -> (u16, &'static str, &'static str) {
        use Rerr::*;
        let (code, info) = match self {
            InvCseq => (400, "Invalid CSeq number"),
            AorLen => (500, "Address Of Record too long"),
            AorParse => (400, "Error while parsing AOR"),
            InvQ => (400, "Invalid q param in contact"),
            Parse => (400, "Message parse error"),
            ToMiss => (400, "To header not found"),
            CidMiss => (400, "Call-ID header not found"),
            CsMiss => (400, "CSeq header not found"),
            ParseExp => (400, "Expires parse error"),
            ParseCont => (400, "Contact parse error"),
            StarExp => (400, "* used in contact and expires is not zero"),
            StarCont => (400, "* used in contact and more than 1 contact"),
            Unescape => (400, "Error while unescaping username"),
            TooMany => (503, "Too many registered contacts"),
            ContactLen => (400, "Contact/received too long"),
            CallidLen => (400, "Callid too long"),
            ParsePath => (400, "Path parse error"),
            PathUnsup => (420, "No support for found Path indicated"),
            InvRegid => (400, "Invalid Reg-Id number"),
            LowExp => (423, "Interval too brief"),
        };
        let reason = match code {
            400 => "Bad Request",
            420 => "Bad Extension",
            423 => "Interval Too Brief",
            503 => "Service Unavailable",
            _ => "Server Internal Error",
        };
        (code, reason, info)
    }
}

/// `save()` flags (Kamailio's `REG_SAVE_*_FL`).
pub const FL_MEM: u32 = 1;
pub const FL_NORPL: u32 = 2;
pub const FL_REPL: u32 = 4;

/// registrar's settings that `save` and `lookup` use, from the modparams.
#[derive(Clone, Debug)]
pub struct RegCfg {
    pub default_expires: i64,
    pub min_expires: i64,
    pub max_expires: i64,
    /// `min_expires_mode` 1: a too short expires is refused with 423, not raised.
    pub min_expires_mode: bool,
    pub max_contacts: usize,
    pub default_q: i32,
    pub use_path: bool,
    /// 0 off, 1 lazy, 2 strict.
    pub path_mode: i64,
    pub case_sensitive: bool,
    pub append_branches: bool,
    pub method_filtering: bool,
    pub retry_after: i64,
    pub realm_prefix: String,
    pub received_param: String,
    pub received_avp: Option<String>,
    pub contact_max_size: usize,
    pub use_domain: bool,
}

impl RegCfg {
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Self {
        let int = |p: &str, d: i64| snap.modparam_int("registrar", p, d);
        let text = |p: &str| {
            snap.modparam("registrar", p)
                .map(|v| v.to_str().into_owned())
        };
        RegCfg {
            default_expires: int("default_expires", 3600),
            min_expires: int("min_expires", 60),
            max_expires: int("max_expires", 0),
            min_expires_mode: int("min_expires_mode", 0) != 0,
            max_contacts: int("max_contacts", 0).max(0) as usize,
            default_q: int("default_q", Q_UNSPECIFIED as i64).clamp(-1, 1000) as i32,
            use_path: int("use_path", 0) != 0,
            path_mode: int("path_mode", 2),
            case_sensitive: int("case_sensitive", 0) != 0,
            append_branches: int("append_branches", 1) != 0,
            method_filtering: int("method_filtering", 0) != 0,
            retry_after: int("retry_after", 0),
            realm_prefix: text("realm_prefix").unwrap_or_default(),
            received_param: text("received_param").unwrap_or_else(|| "received".into()),
            received_avp: text("received_avp").filter(|s| !s.is_empty()),
            contact_max_size: int("contact_max_size", 512).max(0) as usize,
            use_domain: snap.modparam_int("usrloc", "use_domain", 0) != 0,
        }
    }

    /// Kamailio's `calc_contact_expires`, relative: 0 removes the contact.
    pub fn expires(&self, param: Option<u32>, header: Option<u32>) -> Result<i64, Rerr> {
        let mut e = match param.or(header) {
            Some(v) => i64::from(v),
            None => self.default_expires,
        };
        if e != 0 {
            if e < self.min_expires {
                if self.min_expires_mode {
                    return Err(Rerr::LowExp);
                }
                e = self.min_expires;
            }
            if self.max_expires > 0 && e > self.max_expires {
                e = self.max_expires;
            }
        }
        Ok(e)
    }
}

/// One Contact of the REGISTER, read.
#[derive(Clone, Debug, Default)]
pub struct NewContact {
    pub uri: String,
    pub expires: Option<u32>,
    pub q: Option<u16>,
    /// `+sip.instance` without its quotes, empty when absent.
    pub instance: String,
    /// `reg-id` when present with an instance (0 is invalid).
    pub reg_id: Option<Result<u32, ()>>,
    /// Kamailio's received: the contact's `received` parameter, else the received AVP.
    pub received: String,
    pub methods: Option<u32>,
}

/// A REGISTER as `save` needs it.
#[derive(Clone, Debug, Default)]
pub struct Register {
    pub callid: String,
    pub cseq: u32,
    pub expires_hdr: Option<u32>,
    pub star: bool,
    pub contacts: Vec<NewContact>,
    pub path: String,
    pub user_agent: String,
    pub socket: String,
    /// The source address of the REGISTER (`sip:ip:port`).
    pub source: String,
    /// Methods of the Allow header (all when absent).
    pub allow: u32,
    pub flags: u32,
    /// Branch 0's flags when `save` ran: stored as the bindings' cflags.
    pub cflags: u32,
}

/// What `save` did: its return code, the error state (none: 200), and whether the record's
/// contacts go into the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub ret: i64,
    pub err: Option<Rerr>,
    /// The reply's Contact value: the AoR's valid bindings after the change (`None`: none).
    pub contact: Option<String>,
}

/// Kamailio's usrloc `cseq_delay`: the same CSeq again within this many seconds is a
/// retransmission, not an error.
const CSEQ_DELAY: i64 = 20;

enum Found {
    At(usize),
    None,
    /// Same Call-ID, lower (or stale equal) CSeq.
    BadCseq,
    /// Same Call-ID and CSeq shortly after: a retransmission, skipped.
    Skip,
}

fn strip_angle(s: &str) -> &str {
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s)
}

/// usrloc's `get_ucontact_by_instance` with `matching_mode` 0 (contact URI only).
fn find(rec: &Record, c: &NewContact, reg_id: u32, callid: &str, cseq: u32, now: i64) -> Found {
    if !c.instance.is_empty() {
        let want = strip_angle(&c.instance);
        return match rec.bindings.iter().position(|b| {
            !b.instance.is_empty() && b.reg_id == reg_id && strip_angle(&b.instance) == want
        }) {
            Some(i) => Found::At(i),
            None => Found::None,
        };
    }
    let Some(i) = rec.bindings.iter().position(|b| b.contact == c.uri) else {
        return Found::None;
    };
    let b = &rec.bindings[i];
    if b.callid == callid {
        if cseq < b.cseq {
            return Found::BadCseq;
        }
        if cseq == b.cseq {
            return if b.last_modified + CSEQ_DELAY > now {
                Found::Skip
            } else {
                Found::BadCseq
            };
        }
    }
    Found::At(i)
}

fn pack(
    ul: &Usrloc,
    reg: &Register,
    c: &NewContact,
    reg_id: u32,
    abs: i64,
    cfg: &RegCfg,
    now: i64,
) -> Binding {
    Binding {
        contact: c.uri.clone(),
        expires: abs,
        q: c.q.map(i32::from).unwrap_or(cfg.default_q),
        callid: reg.callid.clone(),
        cseq: reg.cseq,
        received: c.received.clone(),
        path: reg.path.clone(),
        instance: c.instance.clone(),
        reg_id,
        user_agent: reg.user_agent.clone(),
        socket: reg.socket.clone(),
        source: reg.source.clone(),
        last_modified: now,
        flags: reg.flags & FL_MEM,
        cflags: reg.cflags,
        methods: c.methods.unwrap_or(reg.allow),
        ruid: ul.next_ruid(),
    }
}

fn reg_id_of(c: &NewContact) -> Result<u32, Rerr> {
    match c.reg_id {
        Some(Ok(n)) if n > 0 => Ok(n),
        Some(_) => Err(Rerr::InvRegid),
        None => Ok(0),
    }
}

/// A new record from the contacts (Kamailio's `insert_contacts`); on error nothing is kept.
fn insert_contacts(
    ul: &Usrloc,
    aor: &str,
    reg: &Register,
    cfg: &RegCfg,
    now: i64,
) -> Result<Record, Rerr> {
    let mut rec = Record::new(aor);
    let mut num = 0;
    for c in &reg.contacts {
        let e = cfg.expires(c.expires, reg.expires_hdr)?;
        if e == 0 {
            continue;
        }
        if cfg.max_contacts > 0 && num >= cfg.max_contacts {
            return Err(Rerr::TooMany);
        }
        num += 1;
        let reg_id = reg_id_of(c)?;
        let b = pack(ul, reg, c, reg_id, now + e, cfg, now);
        // A contact repeated in one REGISTER updates the first (Kamailio bumps the CSeq to
        // get past its own ordering check).
        match find(&rec, c, reg_id, &reg.callid, reg.cseq.wrapping_add(1), now) {
            Found::At(i) => rec.update(i, b),
            _ => {
                rec.insert(b);
            }
        }
    }
    Ok(rec)
}

/// Kamailio's `test_max_contacts`: the count once this REGISTER is applied.
fn check_max(rec: &Record, reg: &Register, cfg: &RegCfg, now: i64) -> Result<(), Rerr> {
    let mut num = rec.valid(now).count() as i64;
    for c in &reg.contacts {
        let e = cfg.expires(c.expires, reg.expires_hdr).unwrap_or(0);
        let reg_id = reg_id_of(c).unwrap_or(0);
        match find(rec, c, reg_id, &reg.callid, reg.cseq, now) {
            Found::BadCseq => return Err(Rerr::InvCseq),
            Found::Skip => {}
            Found::None if e != 0 => num += 1,
            Found::At(_) if e == 0 => num -= 1,
            _ => {}
        }
    }
    if num > cfg.max_contacts as i64 {
        return Err(Rerr::TooMany);
    }
    Ok(())
}

/// The contacts applied to an existing record (Kamailio's `update_contacts`): its return
/// code, 1 inserted, 2 updated, 3 deleted, 0 nothing. Changes made before an error stay, as
/// in Kamailio.
fn update_contacts(
    ul: &Usrloc,
    rec: &mut Record,
    reg: &Register,
    cfg: &RegCfg,
    now: i64,
) -> Result<i64, Rerr> {
    let replace = reg.flags & FL_REPL != 0;
    if !replace && cfg.max_contacts > 0 {
        check_max(rec, reg, cfg, now)?;
    }
    let mut rc = 0;
    for c in &reg.contacts {
        let e = cfg.expires(c.expires, reg.expires_hdr)?;
        let reg_id = reg_id_of(c)?;
        let mut updated = false;
        match find(rec, c, reg_id, &reg.callid, reg.cseq, now) {
            Found::BadCseq => return Err(Rerr::InvCseq),
            Found::Skip => {
                if e != 0 && replace {
                    break;
                }
                continue;
            }
            Found::None => {
                if e == 0 {
                    continue;
                }
                let b = pack(ul, reg, c, reg_id, now + e, cfg, now);
                rec.insert(b.clone());
                rc = 1;
                if replace {
                    rec.bindings.retain(|x| x.ruid == b.ruid);
                    updated = true;
                }
            }
            Found::At(i) if e == 0 => {
                rec.bindings.remove(i);
                rc = 3;
            }
            Found::At(i) => {
                let old_ruid = rec.bindings[i].ruid.clone();
                let mut b = pack(ul, reg, c, reg_id, now + e, cfg, now);
                b.ruid = old_ruid.clone();
                if replace {
                    rec.bindings.retain(|x| x.ruid == old_ruid);
                    updated = true;
                }
                let at = |rec: &Record| {
                    rec.bindings
                        .iter()
                        .position(|x| x.ruid == old_ruid)
                        .unwrap_or(0)
                };
                let i = at(rec);
                // A new Call-ID from the same instance: its other bindings are stale.
                if !c.instance.is_empty() && rec.bindings[i].callid != reg.callid {
                    let inst = rec.bindings[i].instance.clone();
                    rec.bindings
                        .retain(|x| x.ruid == old_ruid || x.instance != inst);
                    updated = true;
                }
                let i = at(rec);
                rec.update(i, b);
                rc = 2;
            }
        }
        if updated {
            break;
        }
    }
    Ok(rc)
}

/// `save()` on a locked shard: the REGISTER applied to `aor` at time `now`.
pub fn save(
    ul: &Usrloc,
    locked: &mut Locked<'_>,
    aor: &str,
    reg: &Register,
    cfg: &RegCfg,
    now: i64,
) -> Saved {
    // The record is worked on where it is stored (no copy, no re-insert per REGISTER); with a
    // database its earlier state is kept to see whether anything changed.
    let original = if locked.persists() {
        locked.get(aor).cloned()
    } else {
        None
    };
    // Expired bindings take no part (the timer may not have run yet).
    let existing = locked.get_mut(aor).map(|r| {
        r.purge(now);
        !r.bindings.is_empty()
    });
    let contact = |locked: &Locked<'_>| {
        locked
            .get(aor)
            .and_then(|r| contact_header(&r.bindings, cfg, now))
    };
    let unchanged = |locked: &mut Locked<'_>, ret: i64| {
        let contact = contact(locked);
        locked.settle(aor, original.as_ref());
        Saved {
            ret,
            err: None,
            contact,
        }
    };
    // Kamailio checks the first contact's reg-id before anything else and, when it is bad,
    // fails without an error state: a 200 listing the bindings as they were, and -1.
    if reg.contacts.first().is_some_and(|c| reg_id_of(c).is_err()) {
        return unchanged(locked, -1);
    }
    if reg.contacts.is_empty() {
        if reg.star {
            locked.remove(aor);
            return Saved {
                ret: 3,
                err: None,
                contact: None,
            };
        }
        return unchanged(locked, 4);
    }
    if existing == Some(true) {
        let r = match locked.get_mut(aor) {
            Some(rec) => update_contacts(ul, rec, reg, cfg, now),
            None => Ok(0),
        };
        let contact = contact(locked);
        locked.settle(aor, original.as_ref());
        return match r {
            Ok(rc) => Saved {
                ret: if rc == 0 { 1 } else { rc },
                err: None,
                contact,
            },
            Err(e) => Saved {
                ret: if e == Rerr::TooMany { -2 } else { -1 },
                err: Some(e),
                contact,
            },
        };
    }
    match insert_contacts(ul, aor, reg, cfg, now) {
        Ok(rec) => {
            let contact = contact_header(&rec.bindings, cfg, now);
            locked.put(rec);
            Saved {
                ret: 1,
                err: None,
                contact,
            }
        }
        Err(e) => {
            // An expired leftover is dropped as Kamailio's failed insert drops the record.
            locked.remove(aor);
            Saved {
                ret: if e == Rerr::TooMany { -2 } else { -1 },
                err: Some(e),
                contact: None,
            }
        }
    }
}

/// The `Contact` header value of the reply: `<uri>;q=0.5;expires=N`, comma separated, with
/// `received`, `+sip.instance` and `reg-id` as Kamailio's `build_contact` writes them.
pub fn contact_header(bindings: &[Binding], cfg: &RegCfg, now: i64) -> Option<String> {
    use crate::sip::numfmt::push_int;
    let mut out = String::new();
    for b in bindings.iter().filter(|b| b.valid(now)) {
        out.push_str(if out.is_empty() { "<" } else { ", <" });
        out.push_str(&b.contact);
        out.push('>');
        if b.q != Q_UNSPECIFIED {
            out.push_str(";q=");
            out.push_str(&q_str(b.q));
        }
        out.push_str(";expires=");
        push_int(&mut out, b.expires - now);
        if !cfg.received_param.is_empty() && !b.received.is_empty() {
            out.push(';');
            out.push_str(&cfg.received_param);
            out.push_str("=\"");
            out.push_str(&b.received);
            out.push('"');
        }
        if !b.instance.is_empty() {
            out.push_str(";+sip.instance=\"");
            out.push_str(&b.instance);
            out.push('"');
        }
        if b.reg_id > 0 {
            out.push_str(";reg-id=");
            push_int(&mut out, b.reg_id);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A q in thousandths as Kamailio's `q2str` writes it: `0`, `0.5`, `0.25`, `1`.
pub fn q_str(q: i32) -> String {
    match q {
        q if q >= 1000 => "1".into(),
        q if q <= 0 => "0".into(),
        q => {
            let s = format!("0.{q:03}");
            s.trim_end_matches('0').to_string()
        }
    }
}

/// Kamailio's defaults with `max_expires` 3600 (12-registrar.cfg), for tests.
#[cfg(test)]
pub(crate) fn tests_cfg() -> RegCfg {
    RegCfg {
        default_expires: 3600,
        min_expires: 60,
        max_expires: 3600,
        min_expires_mode: false,
        max_contacts: 0,
        default_q: Q_UNSPECIFIED,
        use_path: false,
        path_mode: 2,
        case_sensitive: false,
        append_branches: true,
        method_filtering: false,
        retry_after: 0,
        realm_prefix: String::new(),
        received_param: "received".into(),
        received_avp: None,
        contact_max_size: 512,
        use_domain: false,
    }
}

#[cfg(test)]
#[path = "save_tests.rs"]
mod tests;
