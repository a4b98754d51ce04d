//! The regex module's group file, read as Kamailio 5.6 reads it: `[n]` starts a group, each
//! following line is one alternative, comments (`#`) and lines starting with white space are
//! skipped; a group becomes `((line1)|(line2)...)`, an empty one `^$`. Patterns are PCRE
//! syntax compiled by the `regex` crate, which refuses what it cannot run in linear time
//! (look-around, back-references): such a file is refused at load, not at match time.

use regex::bytes::{Regex, RegexBuilder};

/// Kamailio's defaults for `max_groups` and `group_max_size`.
pub const MAX_GROUPS: i64 = 20;
pub const GROUP_MAX_SIZE: i64 = 8192;
/// Kamailio reads lines with a 500-byte buffer; a longer line is refused here.
const MAX_LINE: usize = 495;
/// A compiled program may not grow past this (the regex crate's own guard, made explicit).
const SIZE_LIMIT: usize = 1 << 22;

/// The PCRE options of the module's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub caseless: bool,
    pub multiline: bool,
    pub dotall: bool,
    pub extended: bool,
}

/// Compiles one pattern with the options, on bytes as PCRE without UTF-8 does.
pub fn compile(pattern: &str, o: Options) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(o.caseless)
        .multi_line(o.multiline)
        .dot_matches_new_line(o.dotall)
        .ignore_whitespace(o.extended)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// The group patterns of a file's text.
pub fn patterns(text: &str, max_groups: i64, max_size: i64) -> Result<Vec<String>, String> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    let mut sizes: Vec<usize> = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let first = line.as_bytes().first().copied().unwrap_or(b' ');
        if first.is_ascii_whitespace() || first == b'#' {
            continue;
        }
        if line.len() > MAX_LINE {
            return Err(format!("line {} is longer than {MAX_LINE} bytes", n + 1));
        }
        if first == b'[' {
            if groups.len() as i64 >= max_groups {
                return Err("max patterns exceeded".into());
            }
            groups.push(Vec::new());
            sizes.push(1);
            continue;
        }
        let (Some(g), Some(size)) = (groups.last_mut(), sizes.last_mut()) else {
            return Err(
                "first group must be initialized with [0] before any regular expression".into(),
            );
        };
        let body = line.strip_suffix('\n').unwrap_or(line);
        // Kamailio's own, approximate, size check: the text so far plus this line.
        if (*size + line.len()) as i64 >= max_size - 4 {
            return Err("pattern max file exceeded".into());
        }
        *size += body.len() + 3;
        g.push(body);
    }
    if groups.is_empty() {
        return Err("no expressions in the file".into());
    }
    Ok(groups
        .iter()
        .map(|g| {
            if g.is_empty() {
                "^$".to_string()
            } else {
                let alts: Vec<String> = g.iter().map(|l| format!("({l})")).collect();
                format!("({})", alts.join("|"))
            }
        })
        .collect())
}

/// Reads and compiles a group file.
pub fn load(path: &str, max_groups: i64, max_size: i64, o: Options) -> Result<Vec<Regex>, String> {
    let text = std::fs::read(path).map_err(|e| format!("could not open file '{path}': {e}"))?;
    let text = String::from_utf8_lossy(&text);
    let pats = patterns(&text, max_groups, max_size)?;
    for (i, p) in pats.iter().enumerate() {
        tracing::info!("<group[{i}]>{p}</group[{i}]> (size = {})", p.len());
    }
    pats.iter()
        .map(|p| compile(p, o).map_err(|e| format!("compilation of '{p}' failed: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_as_kamailio_builds_them() {
        let text = "# comment\n[0]\n^a\nb$\n\n[1]\n[2]\n  indented\nc\n";
        let p = patterns(text, MAX_GROUPS, GROUP_MAX_SIZE).unwrap();
        assert_eq!(p, vec!["((^a)|(b$))", "^$", "((c))"]);
        assert!(patterns("a\n[0]\n", 20, 8192).is_err());
        assert!(patterns("# none\n", 20, 8192).is_err());
        assert!(patterns("[0]\n[1]\n[2]\n", 2, 8192).is_err());
        assert!(patterns(&format!("[0]\n{}\n", "x".repeat(100)), 20, 50).is_err());
    }

    #[test]
    fn options_and_refusals() {
        let o = Options::default();
        assert!(compile("^ab", o).unwrap().is_match(b"abc"));
        assert!(!compile("^AB", o).unwrap().is_match(b"abc"));
        let ci = Options {
            caseless: true,
            ..o
        };
        assert!(compile("^AB", ci).unwrap().is_match(b"abc"));
        let x = Options {
            extended: true,
            ..o
        };
        assert!(compile("a b # c", x).unwrap().is_match(b"ab"));
        assert!(compile("(?=a)", o).is_err());
        assert!(compile("(a)\\1", o).is_err());
        assert!(compile("a.b", o).unwrap().is_match(b"a\xffb"));
    }
}
