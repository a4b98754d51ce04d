//! The dispatcher list file: one destination a line, `setid URI [flags [priority [attrs]]]`,
//! `#` comments and blank lines skipped (Kamailio 5.6's `ds_load_list` format). sipvm is
//! stricter than Kamailio, which skips a bad line with a warning: any malformed line makes the
//! whole file fail, with its `FILE:LINE`, so a reload never half-applies a file.

use crate::sip::Uri;
use std::fmt;
use std::path::{Path, PathBuf};

/// Destination attributes (`weight=50;duid=gw1;...`), Kamailio's `ds_attrs_t`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// The attribute text as written, without a trailing `;`.
    pub body: String,
    pub duid: Option<String>,
    pub maxload: i64,
    /// 1..100; 0 when absent or out of range (as Kamailio, which then ignores it).
    pub weight: u32,
    pub rweight: u32,
    pub socket: Option<String>,
    pub sockname: Option<String>,
    pub obproxy: Option<String>,
    pub ping_from: Option<String>,
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestSpec {
    pub set: i64,
    pub uri: String,
    /// The flags column (state bits: 1 inactive, 2 trying, 4 disabled, 8 probing, 16 no DNS).
    pub flags: u32,
    pub priority: i64,
    /// `None` when the line has no attributes (Kamailio then prints no `ATTRS`).
    pub attrs: Option<Attrs>,
    /// 1-based line number in the file.
    pub line: usize,
}

/// Why a list file cannot be used; nothing of it is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("cannot read {file}: {reason}")]
    Io { file: String, reason: String },
    #[error("{file}:{line}: {reason}")]
    Line {
        file: String,
        line: usize,
        reason: String,
    },
}

/// Where `list_file` is read from: a relative name is taken from the directory of the
/// configuration file (Kamailio opens it relative to its working directory, `/` unless `-w`
/// is given, so examples naming a file beside the config work only from that directory).
pub fn resolve(list_file: &str, cfg_file: &str) -> PathBuf {
    let p = Path::new(list_file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match Path::new(cfg_file).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// Reads and parses `path`.
pub fn load(path: &Path) -> Result<Vec<DestSpec>, ListError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ListError::Io {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    parse(&text, &file)
}

/// Parses a whole list; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<DestSpec>, ListError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let err = |reason: String| ListError::Line {
            file: file.to_string(),
            line,
            reason,
        };
        // A `#` starts a comment anywhere but inside the attributes, as in Kamailio.
        let mut fields: Vec<&str> = Vec::new();
        for tok in raw.split([' ', '\t', '\r']).filter(|t| !t.is_empty()) {
            if fields.len() < 4 {
                if let Some(p) = tok.find('#') {
                    if p > 0 {
                        fields.push(&tok[..p]);
                    }
                    break;
                }
            } else if tok.starts_with('#') {
                break;
            }
            fields.push(tok);
        }
        if fields.is_empty() {
            continue;
        }
        if fields.len() > 5 {
            return Err(err(format!(
                "unexpected text after the attributes: \"{}\"",
                fields[5]
            )));
        }
        let set = number(fields[0]).ok_or_else(|| err(format!("bad set id \"{}\"", fields[0])))?;
        let Some(uri) = fields.get(1) else {
            return Err(err("no destination URI after the set id".into()));
        };
        let uri = check_uri(uri).map_err(err)?;
        let flags = match fields.get(2) {
            Some(f) => number(f)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| err(format!("bad flags \"{f}\"")))?,
            None => 0,
        };
        let priority = match fields.get(3) {
            Some(p) => number(p).ok_or_else(|| err(format!("bad priority \"{p}\"")))?,
            None => 0,
        };
        let attrs = match fields.get(4) {
            Some(a) => Some(parse_attrs(a).map_err(err)?),
            None => None,
        };
        out.push(DestSpec {
            set,
            uri,
            flags,
            priority,
            attrs,
            line,
        });
    }
    Ok(out)
}

/// A non-negative decimal number (the list has no signs).
fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The URI as stored: Kamailio adds a missing `sip:` scheme.
fn check_uri(uri: &str) -> Result<String, String> {
    let ok = |u: &str| Uri::parse(u).is_ok_and(|p| !p.host().is_empty());
    if ok(uri) {
        return Ok(uri.to_string());
    }
    let fixed = format!("sip:{uri}");
    if !uri.starts_with("sip:") && !uri.starts_with("sips:") && ok(&fixed) {
        return Ok(fixed);
    }
    Err(format!("bad destination URI \"{uri}\""))
}

/// `name=value;...`; unknown names are kept in the body only (Kamailio ignores them too).
pub fn parse_attrs(text: &str) -> Result<Attrs, String> {
    let body = text.strip_suffix(';').unwrap_or(text);
    let mut a = Attrs {
        body: body.to_string(),
        ..Attrs::default()
    };
    for part in body.split(';') {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n.trim(), v.trim()),
            None => (part.trim(), ""),
        };
        if name.is_empty() {
            return Err(format!("empty attribute name in \"{text}\""));
        }
        let int = || {
            value
                .parse::<i64>()
                .map_err(|_| format!("attribute {name} is not a number: \"{value}\""))
        };
        let text = || Some(value.to_string());
        match name.to_ascii_lowercase().as_str() {
            "duid" => a.duid = text(),
            "maxload" => a.maxload = int()?,
            "weight" => a.weight = percent(name, int()?),
            "rweight" => a.rweight = percent(name, int()?),
            "socket" => a.socket = text(),
            "sockname" => a.sockname = text(),
            "obproxy" => a.obproxy = text(),
            "ping_from" => a.ping_from = text(),
            _ => {}
        }
    }
    Ok(a)
}

/// A weight outside 1..100 is ignored (0), with a warning, as Kamailio does.
fn percent(name: &str, n: i64) -> u32 {
    if (1..=100).contains(&n) {
        n as u32
    } else {
        tracing::warn!("dispatcher: {name} {n} not in 1-100 range - ignoring");
        0
    }
}

impl fmt::Display for DestSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.set, self.uri, self.flags, self.priority
        )?;
        if let Some(a) = &self.attrs {
            write!(f, " {}", a.body)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_example_list() {
        let text = "# setid destination flags priority attributes\n\
                    1 sip:127.0.0.1:5081 0 0 weight=50\n\
                    \n\
                    1 sip:127.0.0.1:5082 0 0 weight=50\n\
                    2 sip:127.0.0.1:5083;transport=udp\n";
        let l = parse(text, "d.list").unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].set, 1);
        assert_eq!(l[0].uri, "sip:127.0.0.1:5081");
        assert_eq!(l[0].line, 2);
        assert_eq!(l[0].attrs.as_ref().unwrap().weight, 50);
        assert_eq!(l[2].set, 2);
        assert_eq!(l[2].uri, "sip:127.0.0.1:5083;transport=udp");
        assert_eq!(l[2].attrs, None);
        assert_eq!(l[2].line, 5);
    }

    #[test]
    fn every_column_and_comments() {
        let text = "  7\tsip:10.0.0.1:5060  8 5 duid=gw1;weight=20;rweight=30;maxload=9;socket=udp:127.0.0.1:5060;obproxy=sip:p;ping_from=sip:me@x; # trailing\n\
                    3 127.0.0.2 # scheme added, comment\n\
                    4 sip:127.0.0.3 1#comment right after the flags\n";
        let l = parse(text, "f").unwrap();
        let a = l[0].attrs.as_ref().unwrap();
        assert_eq!((l[0].set, l[0].flags, l[0].priority), (7, 8, 5));
        assert_eq!(a.body, "duid=gw1;weight=20;rweight=30;maxload=9;socket=udp:127.0.0.1:5060;obproxy=sip:p;ping_from=sip:me@x");
        assert_eq!(a.duid.as_deref(), Some("gw1"));
        assert_eq!((a.weight, a.rweight, a.maxload), (20, 30, 9));
        assert_eq!(a.socket.as_deref(), Some("udp:127.0.0.1:5060"));
        assert_eq!(a.obproxy.as_deref(), Some("sip:p"));
        assert_eq!(a.ping_from.as_deref(), Some("sip:me@x"));
        assert_eq!(l[1].uri, "sip:127.0.0.2");
        assert_eq!((l[2].flags, l[2].priority), (1, 0));
    }

    #[test]
    fn weights_out_of_range_are_ignored() {
        let a = parse_attrs("weight=0;rweight=101").unwrap();
        assert_eq!((a.weight, a.rweight), (0, 0));
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases = [
            ("1 sip:127.0.0.1\nx sip:127.0.0.1\n", 2, "bad set id"),
            ("\n\n1\n", 3, "no destination URI"),
            ("1 sip:127.0.0.1 abc\n", 1, "bad flags"),
            ("1 sip:127.0.0.1 0 -1\n", 1, "bad priority"),
            ("1 sip:127.0.0.1 0 0 weight=x\n", 1, "not a number"),
            ("# c\n1 sip: 0\n", 2, "bad destination URI"),
            ("1 sip:127.0.0.1 0 0 a=1 extra\n", 1, "unexpected text"),
        ];
        for (text, line, what) in cases {
            let e = parse(text, "/etc/d.list").unwrap_err();
            let s = e.to_string();
            assert!(s.starts_with(&format!("/etc/d.list:{line}: ")), "{s}");
            assert!(s.contains(what), "{s}");
        }
    }

    #[test]
    fn relative_list_file_is_beside_the_config() {
        assert_eq!(
            resolve("dispatcher.list", "/work/cfg/k.cfg"),
            PathBuf::from("/work/cfg/dispatcher.list")
        );
        assert_eq!(
            resolve("/abs/d.list", "/work/k.cfg"),
            PathBuf::from("/abs/d.list")
        );
        assert_eq!(resolve("d.list", "k.cfg"), PathBuf::from("d.list"));
    }

    #[test]
    fn missing_file_is_an_error() {
        let e = load(Path::new("/nonexistent/sipvm/d.list")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read /nonexistent/sipvm/d.list"));
    }
}
