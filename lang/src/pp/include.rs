//! `include_file` / `import_file`: resolving the name, loading the file and recursing into it.

use super::engine::Pp;
use super::text::{nchars, only_comment, quoted_arg, trim_blank, trim_blank_start};
use crate::diag::FileId;
use std::path::PathBuf;

/// The io error text without the "(os error N)" suffix.
pub(super) fn io_msg(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        return "No such file or directory".into();
    }
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl Pp<'_> {
    pub(super) fn include(
        &mut self,
        file: FileId,
        path: &str,
        no: u32,
        col: u32,
        stmt: &str,
        depth: usize,
    ) {
        let import = stmt.starts_with("import_file");
        let kw_len = if import { 11 } else { 12 };
        let rest = &stmt[kw_len..];
        let after = trim_blank_start(rest);
        let acol = col + kw_len as u32 + nchars(&rest[..rest.len() - after.len()]);
        let kw = &stmt[..kw_len];
        let Some((name, used)) = quoted_arg(after).filter(|_| after.starts_with('"')) else {
            self.err(
                file,
                no,
                acol,
                nchars(trim_blank(after)).max(1),
                format!("{kw} needs a file name between double quotes"),
            )
            .hint = Some(format!("write {kw} \"file.cfg\""));
            return;
        };
        let plen = nchars(&after[..used]);
        let tail = &after[used..];
        let tail_t = trim_blank_start(tail);
        if let Some(t) = tail_t.strip_prefix(';') {
            self.warn(file, no, acol + plen, 1, format!("';' after {kw} \"...\""))
                .hint = Some(
                "Kamailio 5.6 rejects this line (the name must end with the quote); remove the ';'"
                    .into(),
            );
            if !only_comment(t) {
                self.err(
                    file,
                    no,
                    acol + plen,
                    1,
                    format!("unexpected text after {kw}"),
                );
            }
        } else if !only_comment(tail) {
            self.err(
                file,
                no,
                acol + plen,
                nchars(trim_blank(tail)),
                format!("unexpected text after {kw}"),
            );
        }
        if name.is_empty() {
            self.err(file, no, acol, plen, format!("empty file name in {kw}"));
            return;
        }
        if depth >= self.opts.max_include_depth {
            self.err(
                file,
                no,
                acol,
                plen,
                format!(
                    "too many nested includes (more than {})",
                    self.opts.max_include_depth
                ),
            )
            .hint = Some("an include cycle? a file includes itself directly or indirectly".into());
            return;
        }
        // Kamailio tries the name as given (relative to the current directory) first, then
        // relative to the including file's folder.
        let mut tried: Vec<PathBuf> = vec![PathBuf::from(&name)];
        if !name.starts_with('/') {
            if let Some(i) = path.rfind('/') {
                tried.push(PathBuf::from(format!("{}/{}", &path[..i], name)));
            }
        }
        let mut last_err = None;
        for p in &tried {
            match self.loader.load(p) {
                Ok(text) => {
                    let ps = p.to_string_lossy().into_owned();
                    if self.sources.files.len() >= FileId::MAX as usize {
                        self.err(file, no, acol, plen, "too many included files".into());
                        return;
                    }
                    let id = self.sources.add(&ps, &text);
                    self.process(id, &ps, &text, depth + 1);
                    return;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if import {
            return;
        }
        let why = last_err.map(|e| io_msg(&e)).unwrap_or_default();
        let d = self.err(
            file,
            no,
            acol,
            plen,
            format!("cannot open included file \"{name}\": {why}"),
        );
        if tried.len() > 1 {
            d.hint = Some(format!("also tried \"{}\"", tried[1].display()));
        }
    }
}
