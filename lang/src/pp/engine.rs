//! Placeholder: passes text through unchanged (to be replaced by the real preprocessor).
use super::*;

pub(super) fn run_file(
    path: &str,
    sources: &mut Sources,
    opts: &PpOptions,
    loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    match loader.load(Path::new(path)) {
        Ok(t) => run_str(path, &t, sources, opts, loader),
        Err(e) => (
            PpOutput::default(),
            vec![Diagnostic::error(None, format!("cannot read {path}: {e}"))],
        ),
    }
}

pub(super) fn run_str(
    name: &str,
    text: &str,
    sources: &mut Sources,
    _opts: &PpOptions,
    _loader: &dyn Loader,
) -> (PpOutput, Vec<Diagnostic>) {
    let file = sources.add(name, text);
    let mut out = PpOutput::default();
    for (i, l) in text.split('\n').enumerate() {
        out.text.push_str(l);
        out.text.push('\n');
        out.lines.push(LineOrigin { file, line: i as u32 + 1, edits: vec![] });
    }
    (out, vec![])
}
