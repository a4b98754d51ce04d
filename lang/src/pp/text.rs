//! Small lexical helpers shared by the preprocessor modules.

pub(super) fn is_id_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

pub(super) fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length in bytes of the identifier at the start of `s` (0 if none).
pub(super) fn id_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first().is_none_or(|&c| !is_id_start(c)) {
        return 0;
    }
    b.iter().take_while(|&&c| is_id_char(c)).count()
}

pub(super) fn nchars(s: &str) -> u32 {
    s.chars().count() as u32
}

pub(super) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x08)
}

pub(super) fn trim_blank(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\u{8}'])
}

pub(super) fn trim_blank_start(s: &str) -> &str {
    s.trim_start_matches([' ', '\t', '\r', '\u{8}'])
}

/// True if `rest` holds only blanks or a trailing comment.
pub(super) fn only_comment(rest: &str) -> bool {
    let r = trim_blank(rest);
    r.is_empty() || r.starts_with('#') || r.starts_with("//")
}

/// Undoes Kamailio's double-quoted string escapes.
pub(super) fn unescape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\u{7}'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('\n') => {}
            Some('x') if it.peek().is_some_and(|c| c.is_ascii_hexdigit()) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('?'));
            }
            Some(d @ '0'..='7') if it.peek().is_some_and(|c| ('0'..='7').contains(c)) => {
                let mut v = d.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(x) => {
                            v = v * 8 + x;
                            it.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('?'));
            }
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Writes `s` as a double-quoted literal that Kamailio's lexer reads back as `s`.
pub(super) fn escape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Reads a quoted string token (`"..."` with escapes, or `'...'`) at the start of `s`.
/// Returns the value and the byte length consumed.
pub(super) fn quoted_arg(s: &str) -> Option<(String, usize)> {
    let q = *s.as_bytes().first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if q == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            let inner = &s[1..i];
            let v = if q == b'"' {
                unescape_dq(inner)
            } else {
                inner.to_string()
            };
            return Some((v, i + 1));
        }
        i += 1;
    }
    None
}

pub(super) fn only_blank(s: &str) -> bool {
    s.bytes().all(is_blank)
}

/// Whether `v` has a `#` or `//` comment outside string literals.
pub(super) fn has_line_comment(v: &str) -> bool {
    let b = v.as_bytes();
    let mut q = 0u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if q != 0 {
            if q == b'"' && c == b'\\' {
                i += 1;
            } else if c == q {
                q = 0;
            }
        } else if c == b'"' || c == b'\'' {
            q = c;
        } else if c == b'#' || (c == b'/' && b.get(i + 1) == Some(&b'/')) {
            return true;
        } else if c == b'$' && b.get(i + 1) == Some(&b'(') {
            // `$(...)` may hold anything; skip to the closing parenthesis.
            while i < b.len() && b[i] != b')' {
                i += 1;
            }
        }
        i += 1;
    }
    false
}
