//! Edits recorded as lumps against the received buffer and applied once, when the outgoing
//! message is built. Bytes nobody edited are copied as they are.

use smallvec::SmallVec;

use super::msg::Msg;
use super::name::HeaderName;

/// (start, end, order key, data start, data end): replaces `start..end` of the message.
type Lump = (u32, u32, u32, u32, u32);

/// Marks a lump whose data is in the serializer's small side buffer, not the arena.
const EXTRA: u32 = 1 << 31;
/// Sequence numbers that sort the Content-Length fix and the body after every other lump
/// at the same offset.
const SEQ_LAST: u32 = u32::MAX;

/// Where an added header goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderPos {
    /// Before the header with this index ([`Msg::headers`] order).
    Before(usize),
    /// After the header with this index.
    After(usize),
    /// After the last header.
    End,
    /// Right after the first line, before every header (where an own Via goes).
    Top,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    SetRuri,
    Add(HeaderPos),
    Remove(usize),
    Replace { start: u32, end: u32 },
    RemoveTopVia,
    SetBody,
}

/// A set of edits to one message. Cheap to build: the data of all edits lives in one
/// buffer.
#[derive(Clone, Debug, Default)]
pub struct Edits {
    ops: SmallVec<[(Op, u32, u32); 8]>,
    arena: Vec<u8>,
    body_changed: bool,
}

/// An edit referred to something the message does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("no header with index {0}")]
    NoHeader(usize),
    #[error("byte range {0}..{1} outside the message")]
    BadRange(usize, usize),
    #[error("the message has no Via to remove")]
    NoVia,
    #[error("the message is not a request")]
    NotRequest,
}

impl Edits {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    fn push(&mut self, op: Op, data: &[&[u8]]) {
        let a = self.arena.len() as u32;
        for d in data {
            self.arena.extend_from_slice(d);
        }
        self.ops.push((op, a, self.arena.len() as u32));
    }
    /// Replaces the Request-URI.
    pub fn set_ruri(&mut self, uri: &str) {
        self.push(Op::SetRuri, &[uri.as_bytes()]);
    }
    /// Adds `Name: value` CRLF at `pos`.
    pub fn add_header(&mut self, pos: HeaderPos, name: &str, value: &str) {
        self.push(
            Op::Add(pos),
            &[name.as_bytes(), b": ", value.as_bytes(), b"\r\n"],
        );
    }
    /// Adds raw header lines at `pos` (`line` must end with CRLF).
    pub fn add_header_raw(&mut self, pos: HeaderPos, line: &[u8]) {
        self.push(Op::Add(pos), &[line]);
    }
    /// Removes the header line with this index (and its continuation lines).
    pub fn remove_header(&mut self, index: usize) {
        self.push(Op::Remove(index), &[]);
    }
    /// Replaces bytes `start..end` of the received message ([`Msg::as_bytes`] offsets).
    pub fn replace_range(&mut self, start: usize, end: usize, data: &[u8]) {
        self.push(
            Op::Replace {
                start: start as u32,
                end: end as u32,
            },
            &[data],
        );
    }
    /// Inserts bytes at an offset of the received message.
    pub fn insert_at(&mut self, at: usize, data: &[u8]) {
        self.replace_range(at, at, data);
    }
    /// Puts a Via on top (`value` is what follows `Via: `), as the first header line.
    pub fn push_via(&mut self, value: &str) {
        self.add_header(HeaderPos::Top, HeaderName::Via.as_str(), value);
    }
    /// Removes the top Via element (a whole line, or the first value of a multi-value
    /// line): what a proxy does to a reply before relaying it.
    pub fn remove_top_via(&mut self) {
        self.push(Op::RemoveTopVia, &[]);
    }
    /// Replaces the top Via element by `value`, as the first header line.
    pub fn replace_top_via(&mut self, value: &str) {
        self.remove_top_via();
        self.push_via(value);
    }
    /// Replaces the body; Content-Length is rewritten (or added) to match.
    pub fn set_body(&mut self, body: &[u8]) {
        self.push(Op::SetBody, &[body]);
        self.body_changed = true;
    }
}

impl Msg {
    /// Builds the outgoing message into `out` (appended): the received bytes with `edits`
    /// applied, in one pass. With no edits the output is the received message byte for
    /// byte.
    pub fn serialize(&self, edits: &Edits, out: &mut Vec<u8>) -> Result<(), EditError> {
        let buf: &[u8] = &self.buf;
        let len = buf.len() as u32;
        let headers_end = self.headers.last().map_or(self.first_line_end, |h| h.end);
        // (start, end, seq, data range: arena offsets, or EXTRA-tagged side-buffer offsets)
        let mut lumps: SmallVec<[Lump; 12]> = SmallVec::new();
        let mut removed: SmallVec<[usize; 4]> = SmallVec::new();
        let mut body: Option<(u32, u32)> = None;
        let hdr = |i: usize| self.headers.get(i).ok_or(EditError::NoHeader(i));
        for (seq, &(op, a, b)) in edits.ops.iter().enumerate() {
            // Lumps at one offset go: Top inserts, then inserts after the header that ends
            // there (and at the end of the headers), then the rest in the order recorded.
            let class = match op {
                Op::Add(HeaderPos::Top) => 0,
                Op::Add(HeaderPos::After(_) | HeaderPos::End) => 1,
                _ => 2,
            };
            let seq = class << 29 | seq as u32;
            let (s, e) = match op {
                Op::SetRuri => {
                    let u = self.ruri().ok_or(EditError::NotRequest)?.as_str();
                    let s = u.as_ptr() as usize - buf.as_ptr() as usize;
                    (s as u32, (s + u.len()) as u32)
                }
                Op::Add(HeaderPos::Before(i)) => (hdr(i)?.start, hdr(i)?.start),
                Op::Add(HeaderPos::After(i)) => (hdr(i)?.end, hdr(i)?.end),
                Op::Add(HeaderPos::End) => (headers_end, headers_end),
                Op::Add(HeaderPos::Top) => (self.first_line_end, self.first_line_end),
                Op::Remove(i) => {
                    removed.push(i);
                    (hdr(i)?.start, hdr(i)?.end)
                }
                Op::Replace { start, end } => {
                    if start > end || end > len {
                        return Err(EditError::BadRange(start as usize, end as usize));
                    }
                    (start, end)
                }
                Op::RemoveTopVia => {
                    let (s, e) = self.top_via_range().ok_or(EditError::NoVia)?;
                    (s, e)
                }
                Op::SetBody => {
                    body = Some((a, b));
                    continue;
                }
            };
            lumps.push((s, e, seq, a, b));
        }
        let mut extra: SmallVec<[u8; 32]> = SmallVec::new();
        // Edits inside the body (textops' replacements) change its length: Content-Length
        // follows, as Kamailio adjusts it when it applies body lumps.
        let body_delta: i64 = if body.is_none() {
            lumps
                .iter()
                .filter(|l| l.0 >= self.body_start)
                .map(|l| (l.4 - l.3) as i64 - (l.1 - l.0) as i64)
                .sum()
        } else {
            0
        };
        let new_len = match body {
            Some((a, b)) => Some((b - a) as i64),
            None if body_delta != 0 => Some(self.body().len() as i64 + body_delta),
            None => None,
        };
        if let Some(new_len) = new_len {
            // Content-Length follows the new body: rewrite every kept Content-Length value,
            // or (a body set) add one after the last header. EXTRA marks data in `extra`.
            let n = new_len.max(0).to_string();
            extra.extend_from_slice(n.as_bytes());
            let mut any = false;
            for (i, h) in self.headers.iter().enumerate() {
                if h.name == HeaderName::ContentLength && !removed.contains(&i) {
                    lumps.push((
                        h.value_start,
                        h.value_end,
                        SEQ_LAST - 2,
                        EXTRA,
                        n.len() as u32,
                    ));
                    any = true;
                }
            }
            if !any && body.is_some() {
                let s = extra.len() as u32;
                extra.extend_from_slice(b"Content-Length: ");
                extra.extend_from_slice(n.as_bytes());
                extra.extend_from_slice(b"\r\n");
                lumps.push((
                    headers_end,
                    headers_end,
                    (1 << 29) | ((1 << 29) - 1),
                    EXTRA | s,
                    extra.len() as u32,
                ));
            }
            if let Some((a, b)) = body {
                lumps.push((self.body_start, len, SEQ_LAST, a, b));
            }
        }
        lumps.sort_unstable_by_key(|l| (l.0, l.2));
        let arena = &edits.arena;
        out.reserve(buf.len() + arena.len() + extra.len());
        let mut cur = 0usize;
        for &(s, e, _, a, b) in lumps.iter() {
            let s = (s as usize).max(cur);
            out.extend_from_slice(&buf[cur..s]);
            if a & EXTRA != 0 {
                out.extend_from_slice(&extra[(a & !EXTRA) as usize..b as usize]);
            } else {
                out.extend_from_slice(&arena[a as usize..b as usize]);
            }
            cur = cur.max(e as usize);
        }
        out.extend_from_slice(&buf[cur..]);
        Ok(())
    }

    /// Byte range of the top Via element: its whole line if the line holds one element,
    /// else from the element's start to the start of the next one.
    fn top_via_range(&self) -> Option<(u32, u32)> {
        let idx = self.find(HeaderName::Via)?;
        let h = self.headers[idx];
        let vias = self.via().ok()?;
        let base = self.buf.as_ptr() as usize;
        let in_line = |v: &super::Via<'_>| {
            let p = v.as_str().as_ptr() as usize - base;
            (p as u32) < h.end && p as u32 >= h.value_start
        };
        if vias.len() >= 2 && in_line(&vias[1]) {
            let s = vias[0].as_str().as_ptr() as usize - base;
            let e = vias[1].as_str().as_ptr() as usize - base;
            Some((s as u32, e as u32))
        } else {
            Some((h.start, h.end))
        }
    }
}
