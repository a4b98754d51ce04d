//! A table's file store: Kamailio's db_text layout of the htable table, so
//! `modparam("htable", "db_url", "text:///folder")` with `dbtable=NAME` reads `folder/NAME`
//! (as Kamailio does with db_text.so): a header line of `column(type)` words, then one row per
//! line, fields split by `:` (`\:`, `\\`, `\n`, `\r`, `\t` escaped).
//!
//! Columns by name: `key_name`, `key_type`, `value_type` (1 integer, else string), `key_value`,
//! `expires` (absolute Unix time, 0 never; used by tables with autoexpire).

use super::table::Table;
use sipvm_vm::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("No htable db_url")]
    NoStore,
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{file}:{line}: {why}")]
    Bad {
        file: String,
        line: usize,
        why: String,
    },
}

/// The folder of a `text://` URL (`text:///abs` or `text://relative`).
pub fn folder(url: &str) -> Option<PathBuf> {
    let p = url.trim().strip_prefix("text://")?;
    (!p.is_empty()).then(|| PathBuf::from(p))
}

fn unescape(f: &str) -> String {
    let mut out = String::with_capacity(f.len());
    let mut it = f.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ':' => out.push_str("\\:"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out
}

/// Splits a row at unescaped `:`.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut esc = false;
    for c in line.chars() {
        if esc {
            cur.push('\\');
            cur.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == ':' {
            out.push(unescape(&cur));
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if esc {
        cur.push('\\');
    }
    out.push(unescape(&cur));
    out
}

const HEADER: &str =
    "id(int,auto) key_name(string) key_type(int) value_type(int) key_value(string) expires(int) ";

/// The items of a file: (name, value, expire). Expired rows are left out; any malformed line
/// fails the whole load, naming the line.
pub fn load_file(path: &Path, now: i64) -> Result<Vec<(String, Value, i64)>, StoreError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::Io(file.clone(), e))?;
    let bad = |line: usize, why: String| StoreError::Bad {
        file: file.clone(),
        line,
        why,
    };
    let mut lines = text.lines().enumerate();
    let Some((_, head)) = lines.next() else {
        return Err(bad(1, "no header line".into()));
    };
    let cols: Vec<&str> = head
        .split_whitespace()
        .map(|w| w.split('(').next().unwrap_or(w))
        .collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(kn), Some(kv)) = (col("key_name"), col("key_value")) else {
        return Err(bad(
            1,
            "the header has no key_name or key_value column".into(),
        ));
    };
    let (vt, ex) = (col("value_type"), col("expires"));
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f = fields(line);
        if f.len() != cols.len() {
            return Err(bad(
                i + 1,
                format!("{} fields, the header has {}", f.len(), cols.len()),
            ));
        }
        let int_of = |ix: Option<usize>, what: &str| -> Result<i64, StoreError> {
            match ix.map(|x| f[x].trim()) {
                None | Some("") => Ok(0),
                Some(s) => s
                    .parse::<i64>()
                    .map_err(|_| bad(i + 1, format!("{what} \"{s}\" is not an integer"))),
            }
        };
        let vtype = int_of(vt, "value_type")?;
        let expire = int_of(ex, "expires")?;
        if expire > 0 && expire < now {
            continue;
        }
        let value = if vtype == 1 {
            let s = f[kv].trim();
            Value::Int(
                sipvm_vm::value::parse_int(s)
                    .ok_or_else(|| bad(i + 1, format!("key_value \"{s}\" is not an integer")))?,
            )
        } else {
            Value::str(&f[kv])
        };
        out.push((f[kn].clone(), value, expire.max(0)));
    }
    Ok(out)
}

/// Writes the live items of `t` to `path` (through a temporary file and a rename, so a reader
/// never sees half a file); how many.
pub fn save_file(path: &Path, t: &Table, now: i64) -> Result<usize, StoreError> {
    let file = path.display().to_string();
    let mut text = String::from(HEADER);
    text.push('\n');
    let mut id = 0;
    for (_, cells) in t.dump(now) {
        for c in cells {
            id += 1;
            let (vtype, v) = match &c.value {
                Value::Int(n) => (1, n.to_string()),
                v => (0, v.to_str().into_owned()),
            };
            text.push_str(&format!(
                "{id}:{}:0:{vtype}:{}:{}\n",
                escape(&c.name),
                escape(&v),
                c.expire
            ));
        }
    }
    let tmp = path.with_extension("sipvm-tmp");
    std::fs::write(&tmp, text).map_err(|e| StoreError::Io(file.clone(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| StoreError::Io(file, e))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::htable::TableDef;

    #[test]
    fn round_trip_and_errors() {
        let dir = std::env::temp_dir().join(format!("sipvm-htstore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("students");
        let t = Table::new(TableDef::parse("students=>autoexpire=100").unwrap());
        t.set("a:b", Value::str("x\\y:z"), 0, 1000);
        t.set("n", Value::Int(-4), 0, 1000);
        assert_eq!(save_file(&path, &t, 1000).unwrap(), 2);
        let mut got = load_file(&path, 1000).unwrap();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("a:b".to_string(), Value::str("x\\y:z"), 1100),
                ("n".to_string(), Value::Int(-4), 1100)
            ]
        );
        // Expired rows are not loaded.
        assert!(load_file(&path, 1200).unwrap().is_empty());
        std::fs::write(&path, format!("{HEADER}\n1:k:0:1:notanint:0\n")).unwrap();
        let e = load_file(&path, 0).unwrap_err().to_string();
        assert!(
            e.ends_with(":2: key_value \"notanint\" is not an integer"),
            "{e}"
        );
        std::fs::write(&path, format!("{HEADER}\n1:k:0\n")).unwrap();
        assert!(load_file(&path, 0).is_err());
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(folder("text:///etc/db"), Some(PathBuf::from("/etc/db")));
        assert_eq!(folder("mysql://x"), None);
    }
}
