//! sipvm-sip, the SIP message layer: zero-copy parsing (first line and header boundaries at
//! parse time, typed header values on first access), URIs, edits applied once at
//! serialization, and stateless replies. No I/O and no other sipvm crate, so the fuzz target
//! and the transformations use it alone. See `docs/sip.md`.

mod edit;
mod error;
mod exercise;
mod headers;
mod msg;
mod name;
pub mod numfmt;
mod params;
mod reply;
mod scan;
mod typed;
mod uri;
mod via;

pub use edit::{EditError, Edits, HeaderPos};
pub use error::{ParseError, ParseErrorKind};
pub use exercise::exercise;
pub use headers::{
    CSeq, ContactAddr, Contacts, ContentType, Date, HeaderError, NameAddr, NameAddrError,
};
pub use msg::{Framing, HeaderRef, Method, Msg, MAX_HEADERS, MAX_MSG_LEN};
pub use name::HeaderName;
pub use params::{ParamIter, Params};
pub use reply::{
    build_error_reply, build_reply, build_reply_parts, build_reply_with_via, ReplyError, ReplyParts,
};
pub use uri::{unescape, HostKind, Scheme, Uri, UriError};
pub use via::Via;
