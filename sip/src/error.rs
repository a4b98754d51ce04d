//! Why a buffer could not be taken as a SIP message.

use std::fmt;

use super::msg::Msg;

/// The class of a parse failure; decides what the proxy does with the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Nothing but CRLFs (a keep-alive): not an error to report, just nothing to do.
    Empty,
    /// The buffer cannot be cut into a message: no end of the header section, a header
    /// line without a colon, a bad or conflicting Content-Length, a body shorter than
    /// Content-Length.
    Framing,
    /// The request line or status line is malformed (including its Request-URI).
    StartLine,
    /// Larger than [`super::MAX_MSG_LEN`] or more than [`super::MAX_HEADERS`] headers.
    TooLarge,
    /// Stream transports only: the message is not complete yet; read more and retry.
    Incomplete,
}

/// A parse failure: its class, a short reason, and whether a reply can be built (the
/// proxy answers 400 when it can, and drops the message otherwise).
#[derive(Debug)]
pub struct ParseError {
    pub(crate) kind: ParseErrorKind,
    pub(crate) detail: &'static str,
    pub(crate) partial: Option<Box<Msg>>,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, detail: &'static str) -> Self {
        ParseError {
            kind,
            detail,
            partial: None,
        }
    }
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }
    pub fn detail(&self) -> &'static str {
        self.detail
    }
    /// True when the message is a request whose top Via and CSeq parse and that has
    /// From, To and Call-ID headers: enough for an RFC 3261 §8.2.6 reply.
    pub fn can_reply(&self) -> bool {
        self.partial.as_deref().is_some_and(Msg::can_reply)
    }
    /// What could be read of the message (its headers up to the failure), when a reply
    /// can be built from it.
    pub fn partial(&self) -> Option<&Msg> {
        self.partial.as_deref().filter(|m| m.can_reply())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for ParseError {}
