//! `modparam("htable", "htable", "name=>size=N;autoexpire=S;...")`: one table definition, with
//! Kamailio 5.6's keys, defaults and limits.

/// Why a definition was refused (a configuration error at start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefError {
    #[error("htable definition \"{0}\": expected NAME=>key=value;...")]
    Syntax(String),
    #[error("htable definition \"{spec}\": unknown key \"{key}\"")]
    UnknownKey { spec: String, key: String },
    #[error("htable definition \"{spec}\": \"{key}\" needs an integer, not \"{value}\"")]
    NotInt {
        spec: String,
        key: String,
        value: String,
    },
    #[error("htable \"{0}\" is defined twice")]
    Duplicate(String),
    #[error("htable definition \"{spec}\": too many columns in cols (at most 8)")]
    Cols { spec: String },
}

/// One table's definition as Kamailio keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    /// The number of slots: `2^size`, 8 when `size <= 1`, 16384 when `size > 31` (Kamailio's
    /// rules); default `size=4`, 16 slots.
    pub slots: usize,
    /// `autoexpire` in seconds, 0 for none.
    pub autoexpire: u32,
    /// `initval`: the value of a missing item, and the start of `$shtinc`/`$shtdec`.
    pub initval: Option<i64>,
    /// `updateexpire` (default 1): an update restarts the item's expiry.
    pub updateexpire: bool,
    /// Accepted for `htable.listTables` and `htable.reload`; sipvm has no database access.
    pub dbtable: String,
    pub dbmode: u32,
    pub cols: String,
    pub dmqreplicate: u32,
}

/// Kamailio's `str2int`: unsigned decimal digits only.
fn uint(spec: &str, key: &str, v: &str) -> Result<u32, DefError> {
    v.trim().parse::<u32>().map_err(|_| DefError::NotInt {
        spec: spec.to_string(),
        key: key.to_string(),
        value: v.to_string(),
    })
}

/// Slots for a `size` exponent, as `ht_add_table` computes them.
pub fn slots_for(size: u32) -> usize {
    match size {
        0 | 1 => 8,
        s if s > 31 => 1 << 14,
        s => 1usize << s,
    }
}

impl TableDef {
    /// A table with Kamailio's defaults.
    pub fn named(name: &str) -> TableDef {
        TableDef {
            name: name.to_string(),
            slots: slots_for(4),
            autoexpire: 0,
            initval: None,
            updateexpire: true,
            dbtable: String::new(),
            dbmode: 0,
            cols: String::new(),
            dmqreplicate: 0,
        }
    }

    /// Parses `name=>key=value;key=value;...` (a trailing `;` is allowed).
    pub fn parse(spec: &str) -> Result<TableDef, DefError> {
        let syntax = || DefError::Syntax(spec.to_string());
        let (name, params) = split_arrow(spec).ok_or_else(syntax)?;
        let mut def = TableDef::named(name);
        let params = params.trim();
        let params = params.strip_suffix(';').unwrap_or(params);
        for p in params.split(';') {
            let p = p.trim();
            if p.is_empty() {
                if params.is_empty() {
                    continue;
                }
                return Err(syntax());
            }
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let (k, v) = (k.trim(), v.trim());
            match k {
                "size" => def.slots = slots_for(uint(spec, k, v)?),
                "autoexpire" => def.autoexpire = uint(spec, k, v)?,
                "initval" => {
                    let n = sipvm_vm::value::parse_int(v).ok_or_else(|| DefError::NotInt {
                        spec: spec.to_string(),
                        key: k.to_string(),
                        value: v.to_string(),
                    })?;
                    def.initval = Some(n);
                }
                "updateexpire" => def.updateexpire = uint(spec, k, v)? != 0,
                "dmqreplicate" => def.dmqreplicate = uint(spec, k, v)?,
                "dbmode" => def.dbmode = uint(spec, k, v)?,
                "dbtable" => def.dbtable = v.to_string(),
                "cols" => {
                    let v = v.trim_matches('\'').trim_matches('"');
                    if v.split(',').count() > 8 {
                        return Err(DefError::Cols {
                            spec: spec.to_string(),
                        });
                    }
                    def.cols = v.to_string();
                }
                _ => {
                    return Err(DefError::UnknownKey {
                        spec: spec.to_string(),
                        key: k.to_string(),
                    })
                }
            }
        }
        Ok(def)
    }

    /// The keys that need a database or DMQ, which sipvm accepts and ignores (`dbtable` is
    /// used when `db_url` names a file store).
    pub fn ignored_keys(&self, has_store: bool) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.dbtable.is_empty() && !has_store {
            out.push("dbtable");
        }
        if self.dbmode != 0 {
            out.push("dbmode");
        }
        if !self.cols.is_empty() {
            out.push("cols");
        }
        if self.dmqreplicate != 0 {
            out.push("dmqreplicate");
        }
        out
    }
}

/// `NAME=>REST` with Kamailio's whitespace rules: blanks before the name, the name ending at
/// `=` or a blank, blanks before `=>`. `None` without `=>` or a name.
pub fn split_arrow(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\r', '\n']);
    let end = s.find(['=', ' ', '\t', '\r', '\n'])?;
    let name = &s[..end];
    let rest = s[end..].trim_start_matches([' ', '\t', '\r', '\n']);
    let rest = rest.strip_prefix("=>")?;
    if name.is_empty() {
        return None;
    }
    Some((name, rest))
}

/// Every definition among a configuration's modparams, in file order; the first error stops
/// the parse.
pub fn definitions(
    modparams: &[sipvm_lang::compile::ModParamSetting],
) -> Result<Vec<TableDef>, DefError> {
    let mut out: Vec<TableDef> = Vec::new();
    for m in modparams {
        if m.module != "htable" || m.param != "htable" {
            continue;
        }
        let def = TableDef::parse(&m.value.to_str())?;
        if out.iter().any(|d| d.name == def.name) {
            return Err(DefError::Duplicate(def.name));
        }
        out.push(def);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let d = TableDef::parse(
            "ipban=>size=8;autoexpire=300;initval=-2;updateexpire=0;dbtable=htable;dbmode=1;cols='a,b';dmqreplicate=1;",
        )
        .unwrap();
        assert_eq!(d.name, "ipban");
        assert_eq!(d.slots, 256);
        assert_eq!(d.autoexpire, 300);
        assert_eq!(d.initval, Some(-2));
        assert!(!d.updateexpire);
        assert_eq!(d.dbtable, "htable");
        assert_eq!(d.cols, "a,b");
        assert_eq!(
            d.ignored_keys(false),
            ["dbtable", "dbmode", "cols", "dmqreplicate"]
        );
        assert_eq!(d.ignored_keys(true), ["dbmode", "cols", "dmqreplicate"]);
    }

    #[test]
    fn defaults_and_size_limits() {
        let d = TableDef::parse("t=>").unwrap();
        assert_eq!((d.slots, d.autoexpire, d.initval), (16, 0, None));
        assert!(d.updateexpire);
        assert_eq!(TableDef::parse("t=>size=1").unwrap().slots, 8);
        assert_eq!(TableDef::parse("t=>size=2").unwrap().slots, 4);
        assert_eq!(TableDef::parse("t=>size=40").unwrap().slots, 16384);
        assert_eq!(TableDef::parse(" t => size=3").unwrap().name, "t");
    }

    #[test]
    fn malformed_definitions_are_refused() {
        for bad in [
            "nameonly",
            "=>size=4",
            "t=>size=abc",
            "t=>autoexpire=-1",
            "t=>colour=red",
            "t=>size=4;;autoexpire=3",
            "t=>initval=x",
        ] {
            assert!(TableDef::parse(bad).is_err(), "{bad}");
        }
    }
}
