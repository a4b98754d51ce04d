//! Byte offsets in the preprocessed text → locations in the original files.

use crate::diag::Loc;
use crate::pp::PpOutput;

/// Line starts of the preprocessed text, for offset → (line, column) lookups.
pub struct Locator<'a> {
    text: &'a str,
    starts: Vec<usize>,
    pp: &'a PpOutput,
}

impl<'a> Locator<'a> {
    pub fn new(pp: &'a PpOutput) -> Self {
        let text = pp.text.as_str();
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Locator { text, starts, pp }
    }

    /// 0-based output line of an offset.
    pub fn line_of(&self, off: usize) -> usize {
        match self.starts.binary_search(&off) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Original location of a byte offset.
    pub fn loc(&self, off: usize) -> Loc {
        let off = off.min(self.text.len());
        let line = self.line_of(off);
        let start = self.starts[line];
        let col = self
            .text
            .get(start..off)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        self.pp.loc(line, col)
    }

    /// Width in columns of a span (at least 1), limited to its first line.
    pub fn width(&self, span: (usize, usize)) -> u32 {
        let (s, e) = (span.0.min(self.text.len()), span.1.min(self.text.len()));
        let t = self.text.get(s..e.max(s)).unwrap_or("");
        let first = t.split('\n').next().unwrap_or("");
        first.chars().count().max(1) as u32
    }

    pub fn text(&self, span: (usize, usize)) -> &'a str {
        self.text.get(span.0..span.1).unwrap_or("")
    }
}
