//! registrar's `lookup()` and `registered()` over a table, by Kamailio 5.6's rules
//! (registrar lookup.c): the first valid contact in the record's order (highest q, older
//! first among equals) becomes the Request-URI, the other valid ones branches; `-1` when the
//! AoR has no valid contact, `-2` when its contacts do not accept the method
//! (`method_filtering`).

use super::store::{Binding, Table};

/// What a request needs of a binding to go there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub contact: String,
    pub path: String,
    pub received: String,
    /// The binding's cflags (branch flags at `save` time), back as branch flags.
    pub cflags: u32,
}

impl From<&Binding> for Target {
    fn from(b: &Binding) -> Self {
        Target {
            contact: b.contact.clone(),
            path: b.path.clone(),
            received: b.received.clone(),
            cflags: b.cflags,
        }
    }
}

/// The contacts a request goes to: the first rewrites the Request-URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    pub first: Target,
    pub rest: Vec<Target>,
}

/// The targets of `aor`. `method` is the request's method bit when contacts are filtered by
/// method, `None` otherwise; `branches` is registrar's `append_branches`.
pub fn lookup(
    table: &Table,
    aor: &str,
    method: Option<u32>,
    branches: bool,
    now: i64,
) -> Result<Targets, i64> {
    // Read under the shard lock: only the fields a request needs are copied.
    table
        .read(aor, |rec| {
            if rec.valid(now).next().is_none() {
                return Err(-1);
            }
            let allowed = |b: &&Binding| method.is_none_or(|m| b.methods & m != 0);
            let mut it = rec.valid(now).filter(allowed);
            let first = Target::from(it.next().ok_or(-2)?);
            let rest = if branches {
                it.map(Target::from).collect()
            } else {
                Vec::new()
            };
            Ok(Targets { first, rest })
        })
        .unwrap_or(Err(-1))
}

/// The next hop for a target: the first Path URI when it has a Path (the last proxy before
/// the UA handles NAT), else its `received`, else none.
pub fn next_hop(t: &Target) -> Option<String> {
    if !t.path.is_empty() {
        return first_path_uri(&t.path);
    }
    (!t.received.is_empty()).then(|| t.received.clone())
}

/// The URI of the first element of a Path vector (`<sip:p1;lr>,<sip:p2;lr>`).
pub fn first_path_uri(path: &str) -> Option<String> {
    let p = path.trim_start();
    let first = match p.strip_prefix('<') {
        Some(rest) => rest.split('>').next()?,
        // Name-addr with a display name, or a bare URI.
        None => match p.find('<') {
            Some(i) => p[i + 1..].split('>').next()?,
            None => p.split([',', ';']).next()?,
        },
    };
    let first = first.trim();
    (!first.is_empty()).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::usrloc::store::tests_support::binding;
    use crate::modules::usrloc::Record;

    #[test]
    fn first_path_uri_forms() {
        assert_eq!(
            first_path_uri("<sip:p1.example;lr>,<sip:p2;lr>").as_deref(),
            Some("sip:p1.example;lr")
        );
        assert_eq!(
            first_path_uri("\"x\" <sip:p1;lr>").as_deref(),
            Some("sip:p1;lr")
        );
        assert_eq!(first_path_uri("").as_deref(), None);
    }

    fn table() -> Table {
        Table::new("location", 4, None)
    }

    #[test]
    fn best_first_then_branches_and_codes() {
        let t = table();
        assert_eq!(lookup(&t, "alice", None, true, 0), Err(-1));
        let mut r = Record::new("alice");
        r.insert(binding("sip:low", 100, 1000));
        r.insert(binding("sip:high", 900, 1000));
        r.insert(binding("sip:high2", 900, 1000));
        r.insert(binding("sip:gone", 1000, 50));
        t.put(r);
        let got = lookup(&t, "alice", None, true, 100).unwrap();
        assert_eq!(got.first.contact, "sip:high");
        let rest: Vec<&str> = got.rest.iter().map(|b| b.contact.as_str()).collect();
        assert_eq!(rest, ["sip:high2", "sip:low"]);
        assert!(lookup(&t, "alice", None, false, 100)
            .unwrap()
            .rest
            .is_empty());
        // Method filtering: none accepts MESSAGE.
        let mut r = t.get("alice", 100).unwrap();
        for b in &mut r.bindings {
            b.methods = 1;
        }
        t.put(r);
        assert_eq!(lookup(&t, "alice", Some(256), true, 100), Err(-2));
        assert!(lookup(&t, "alice", Some(1), true, 100).is_ok());
        // Everything expired: not found.
        assert_eq!(lookup(&t, "alice", None, true, 1000), Err(-1));
    }

    #[test]
    fn next_hop_prefers_path() {
        let mut b = binding("sip:a@10.0.0.1", 0, 0);
        assert_eq!(next_hop(&Target::from(&b)), None);
        b.received = "sip:192.0.2.1:5070".into();
        assert_eq!(
            next_hop(&Target::from(&b)).as_deref(),
            Some("sip:192.0.2.1:5070")
        );
        b.path = "<sip:edge;lr>".into();
        assert_eq!(next_hop(&Target::from(&b)).as_deref(), Some("sip:edge;lr"));
    }
}
