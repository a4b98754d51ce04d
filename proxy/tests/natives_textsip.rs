//! siputils, textops, textopsx and sdpops side by side with Kamailio 5.6.3: every case of
//! `textsip/cases.txt` (a message and one call) runs here, and its return code, rewritten
//! Request-URI and rewritten message are compared with what Kamailio answered on the same
//! input (`textsip/kamailio.txt`, recorded once with `textsip/kamailio.py`) and with
//! sipvm's own golden (`textsip/sipvm.txt`, rewritten with `SIPVM_BLESS=1`). A case whose
//! line carries `# differs: why` is a known, documented difference: only sipvm's golden
//! holds for it.

mod natives_common;
use natives_common::*;
use sipvm_lang::registry::ArgKind;
use sipvm_vm::ArgValue;
use std::collections::HashMap;
use std::path::PathBuf;

struct Case {
    n: usize,
    msg: String,
    module: String,
    func: String,
    args: Vec<String>,
    call: String,
    differs: bool,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/textsip")
}

fn load() -> (HashMap<String, Vec<String>>, Vec<Case>) {
    let text = std::fs::read_to_string(dir().join("cases.txt")).unwrap();
    let (mut msgs, mut cases) = (HashMap::new(), Vec::new());
    let mut cur: Option<(String, Vec<String>)> = None;
    for line in text.split('\n') {
        if let Some((name, lines)) = &mut cur {
            if line == "@end" {
                msgs.insert(name.clone(), std::mem::take(lines));
                cur = None;
            } else {
                lines.push(line.to_string());
            }
            continue;
        }
        if let Some(name) = line.strip_prefix("@msg ") {
            cur = Some((name.trim().to_string(), Vec::new()));
            continue;
        }
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (t, comment) = split_comment(line);
        let t = t.trim();
        let (m, call) = t.split_once(char::is_whitespace).unwrap();
        let call = call.trim();
        let (module, rest) = call.split_once('.').unwrap();
        let (func, args) = rest.split_once('(').unwrap();
        let args = parse_args(args.strip_suffix(')').unwrap());
        cases.push(Case {
            n: cases.len() + 1,
            msg: m.to_string(),
            module: module.to_string(),
            func: func.to_string(),
            args,
            call: call.to_string(),
            differs: comment.contains("differs:"),
        });
    }
    (msgs, cases)
}

/// A `#` outside quotes starts the comment.
fn split_comment(line: &str) -> (&str, &str) {
    let mut q = None;
    for (i, c) in line.char_indices() {
        match (q, c) {
            (None, '"' | '\'') => q = Some(c),
            (Some(o), c) if c == o => q = None,
            (None, '#') => return (&line[..i], &line[i..]),
            _ => {}
        }
    }
    (line, "")
}

/// The arguments as the cfg lexer reads them: quoted strings (with `\n \r \t \\ \"`) and
/// bare integers.
fn parse_args(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut q, mut esc, mut any) =
        (Vec::new(), String::new(), None, false, false);
    for c in s.chars() {
        if let Some(o) = q {
            if esc {
                // The cfg lexer's escapes; any other backslash stays (`\1` in a subst).
                match c {
                    'n' => cur.push('\n'),
                    'r' => cur.push('\r'),
                    't' => cur.push('\t'),
                    '\\' | '"' => cur.push(c),
                    other => {
                        cur.push('\\');
                        cur.push(other);
                    }
                }
                esc = false;
            } else if c == '\\' && o == '"' {
                esc = true;
            } else if c == o {
                q = None;
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' => {
                q = Some(c);
                any = true;
            }
            ',' => {
                out.push(std::mem::take(&mut cur));
                any = false;
            }
            c if c.is_whitespace() => {}
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !out.is_empty() {
        out.push(cur);
    }
    out
}

fn build(lines: &[String], n: usize) -> String {
    let text = lines.join("\r\n").replace("@CASE@", &format!("case-{n}"));
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or((text.trim_end_matches("\r\n"), ""));
    format!("{head}\r\n\r\n{body}").replace("@CL@", &body.len().to_string())
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}

/// What sipvm answers to one case, in kamailio.txt's format.
fn run(c: &Case, text: &str) -> String {
    let m = sipvm_proxy::modules::find(&c.module).expect("module");
    let decl = m
        .decl
        .functions
        .iter()
        .find(|f| f.name == c.func)
        .expect("declared");
    let res: Vec<Option<regex::Regex>> = c
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| matches!(decl.args.get(i), Some(ArgKind::Regex)).then(|| re(a)))
        .collect();
    let args: Vec<ArgValue<'_>> = c
        .args
        .iter()
        .enumerate()
        .map(|(i, a)| match decl.args.get(i) {
            Some(ArgKind::Regex) => ArgValue::Regex(res[i].as_ref().unwrap()),
            Some(ArgKind::Int | ArgKind::IntFmt | ArgKind::Code) if a.parse::<i64>().is_ok() => {
                natives_common::i(a.parse().unwrap())
            }
            _ => s(a),
        })
        .collect();
    let msg = sipvm_proxy::sip::Msg::parse(bytes::Bytes::from(text.to_string())).expect("parses");
    let mut e = Env::from_msg(
        msg,
        &[("siputils", "options_accept", "application/sdp".into())],
    );
    let mut ctx = e.ctx();
    let f = m
        .natives
        .iter()
        .find(|i| i.name == c.func)
        .unwrap_or_else(|| panic!("{} implemented", c.call))
        .f;
    let rc = f(&mut ctx, &args).unwrap_or(-1);
    let mut line = format!("{}\t{}\trc={rc}\n", c.n, c.call);
    if rc != 0 {
        if let Some(ru) = &ctx.ruri {
            if ru != ctx.msg.ruri_str() {
                line += &format!("\tru={ru}\n");
            }
        }
        let mut edits = ctx.edits.clone();
        if let Some(ru) = &ctx.ruri {
            edits.set_ruri(ru);
        }
        let mut out = Vec::new();
        ctx.msg.serialize(&edits, &mut out).expect("edits apply");
        let out = String::from_utf8_lossy(&out).into_owned();
        if out != text {
            line += &format!("\tout={}\n", esc(&out));
        }
    }
    line
}

/// Splits a results file into its cases (`N\t...` and the indented lines after it).
fn by_case(text: &str) -> HashMap<usize, String> {
    let mut out: HashMap<usize, String> = HashMap::new();
    let mut cur = 0;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if !line.starts_with('\t') {
            cur = line.split('\t').next().unwrap().parse().unwrap();
        }
        out.entry(cur).or_default().push_str(&format!("{line}\n"));
    }
    out
}

#[test]
fn cases_match_kamailio() {
    let (msgs, cases) = load();
    let mut mine = String::from("# sipvm's answers to cases.txt (SIPVM_BLESS=1 rewrites)\n");
    for c in &cases {
        mine += &run(c, &build(&msgs[&c.msg], c.n));
    }
    let golden = dir().join("sipvm.txt");
    let bless = std::env::var_os("SIPVM_BLESS").is_some_and(|v| !v.is_empty() && v != "0");
    if bless {
        std::fs::write(&golden, &mine).unwrap();
    } else {
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(
            want, mine,
            "sipvm.txt is stale (SIPVM_BLESS=1 regenerates it)"
        );
    }
    let kam = by_case(&std::fs::read_to_string(dir().join("kamailio.txt")).unwrap());
    let mine = by_case(&mine);
    let mut bad = Vec::new();
    for c in cases.iter().filter(|c| !c.differs) {
        let k = kam.get(&c.n).cloned().unwrap_or_default();
        let m = &mine[&c.n];
        if k != *m {
            bad.push(format!("kamailio:\n{k}sipvm:\n{m}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} cases differ from Kamailio:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}
