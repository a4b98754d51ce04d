//! Kamailio's db_text files, read only: one file per table in a directory, a header line
//! `name(type[,flags]) ...`, then one row per line with `:` between values. In strings `\:`,
//! `\\`, `\n`, `\r`, `\t` and `\0` are escapes; an empty value is NULL (db_text's default),
//! allowed only in a column flagged `null` (an `auto` int column numbers it instead), else
//! the table does not load, as in Kamailio.

use std::path::Path;

/// A value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Str(String),
}

impl Val {
    pub fn str(&self) -> &str {
        match self {
            Val::Str(s) => s,
            _ => "",
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Val::Int(n) => *n,
            _ => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Int,
    Double,
    Str,
}

/// A table: column names and rows.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub cols: Vec<String>,
    pub rows: Vec<Vec<Val>>,
}

/// Tables bigger than this are refused (a table is read whole into memory).
pub const MAX_ROWS: usize = 100_000;

impl Table {
    /// The column's index.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.cols.iter().position(|c| c == name)
    }
}

/// A column's type and flags.
#[derive(Clone, Copy, Debug)]
struct Col {
    ty: Ty,
    null: bool,
    auto: bool,
}

fn parse_header(line: &str) -> Result<(Vec<String>, Vec<Col>), String> {
    let mut cols = Vec::new();
    let mut tys = Vec::new();
    for item in line.split_whitespace() {
        let (name, rest) = item
            .split_once('(')
            .ok_or_else(|| format!("bad column definition {item}"))?;
        let spec = rest
            .strip_suffix(')')
            .ok_or_else(|| format!("bad column definition {item}"))?;
        let mut parts = spec.split(',').map(str::trim);
        let ty = parts.next().unwrap_or("");
        let (mut null, mut auto) = (false, false);
        for f in parts {
            match f {
                "null" => null = true,
                "auto" => auto = true,
                other => return Err(format!("unknown column flag {other} of {name}")),
            }
        }
        let ty = match ty {
            "int" | "datetime" => Ty::Int,
            "double" => Ty::Double,
            "str" | "string" | "blob" => Ty::Str,
            other => return Err(format!("unknown column type {other} of {name}")),
        };
        cols.push(name.to_string());
        tys.push(Col {
            ty,
            null,
            auto: auto && ty == Ty::Int,
        });
    }
    if cols.is_empty() {
        return Err("no columns".into());
    }
    Ok((cols, tys))
}

/// Splits a row at unescaped `:` and unescapes strings.
fn split_row(line: &str) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut it = line.chars();
    while let Some(c) = it.next() {
        match c {
            ':' => out.push(String::new()),
            '\\' => {
                let e = match it.next() {
                    Some('n') => '\n',
                    Some('r') => '\r',
                    Some('t') => '\t',
                    Some('\\') => '\\',
                    Some('0') => '\0',
                    Some(':') => ':',
                    _ => return Err(format!("bad escape in row {line:?}")),
                };
                if let Some(l) = out.last_mut() {
                    l.push(e);
                }
            }
            c => {
                if let Some(l) = out.last_mut() {
                    l.push(c);
                }
            }
        }
    }
    Ok(out)
}

/// Parses a table file's text.
pub fn parse(text: &str) -> Result<Table, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty table file")?;
    let (cols, tys) = parse_header(header)?;
    let mut rows = Vec::new();
    let mut auto_val = 0i64;
    for (n, line) in lines.enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return Err(format!("more than {MAX_ROWS} rows"));
        }
        let vals = split_row(line)?;
        if vals.len() != cols.len() {
            return Err(format!(
                "row {}: {} values for {} columns",
                n + 2,
                vals.len(),
                cols.len()
            ));
        }
        let row = vals
            .into_iter()
            .zip(&tys)
            .enumerate()
            .map(|(i, (v, c))| match c.ty {
                _ if v.is_empty() && c.null => Ok(Val::Null),
                _ if v.is_empty() && c.auto => {
                    auto_val += 1;
                    Ok(Val::Int(auto_val))
                }
                _ if v.is_empty() => {
                    Err(format!("row {}: null value not allowed - field {i}", n + 2))
                }
                Ty::Int => v
                    .parse::<i64>()
                    .map(Val::Int)
                    .map_err(|_| format!("row {}: not an integer: {v}", n + 2)),
                Ty::Double => Ok(Val::Str(v)),
                Ty::Str => Ok(Val::Str(v)),
            })
            .collect::<Result<Vec<_>, String>>()?;
        for (v, c) in row.iter().zip(&tys) {
            if let (Val::Int(x), true) = (v, c.auto) {
                auto_val = auto_val.max(*x);
            }
        }
        rows.push(row);
    }
    Ok(Table { cols, rows })
}

/// Reads table `name` of the db_text directory `dir`.
pub fn load(dir: &Path, name: &str) -> Result<Table, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Kamailio's `db_check_table_version`: the `version` table must give `table` version `want`.
pub fn check_version(dir: &Path, table: &str, want: i64) -> Result<(), String> {
    let v = load(dir, "version")?;
    let (Some(tn), Some(tv)) = (v.col("table_name"), v.col("table_version")) else {
        return Err("version table without table_name/table_version".into());
    };
    let got = v
        .rows
        .iter()
        .find(|r| r[tn].str() == table)
        .map(|r| r[tv].int());
    match got {
        Some(g) if g == want => Ok(()),
        Some(g) => Err(format!(
            "invalid table version {g} for {table} (use kamdbctl reinit), expected {want}"
        )),
        None => Err(format!("no version row for table {table}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_escapes() {
        let t = parse(
            "id(int,auto) name(string,null) pw(string,null) n(int,null)\n1:a\\:b:x\\\\y:5\n:::\n\n",
        )
        .unwrap();
        assert_eq!(t.cols, ["id", "name", "pw", "n"]);
        assert_eq!(
            t.rows[0],
            [
                Val::Int(1),
                Val::Str("a:b".into()),
                Val::Str("x\\y".into()),
                Val::Int(5)
            ]
        );
        assert_eq!(t.rows[1], [Val::Int(2), Val::Null, Val::Null, Val::Null]);
        assert!(parse("a(int) b(str)\n1:\n")
            .unwrap_err()
            .contains("null value not allowed"));
        assert!(parse("a(int)\nx\n").is_err());
        assert!(parse("a(int) b(str)\n1\n").is_err());
        assert!(parse("a(weird)\n").is_err());
    }
}
