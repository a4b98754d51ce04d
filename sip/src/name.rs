//! Header names: the ones the proxy reads, recognised case-insensitively in full and
//! compact form (RFC 3261 §7.3.3 and the compact forms registered since), plus `Other`.

use std::fmt;

macro_rules! header_names {
    ($( $v:ident = $full:literal $(, $compact:literal)? ;)*) => {
        /// A header name. `Other` is any name not listed; compare its text with
        /// [`super::HeaderRef::name`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum HeaderName {
            $($v,)*
            Other,
        }

        impl HeaderName {
            /// The canonical (full) name, as written in replies and added headers.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(HeaderName::$v => $full,)*
                    HeaderName::Other => "",
                }
            }

            /// The compact form, if the header has one.
            pub fn compact(self) -> Option<u8> {
                match self {
                    $($(HeaderName::$v => Some($compact),)?)*
                    _ => None,
                }
            }

            const ALL: &'static [HeaderName] = &[$(HeaderName::$v,)*];
        }

        fn from_compact(c: u8) -> HeaderName {
            match c.to_ascii_lowercase() {
                $($($compact => HeaderName::$v,)?)*
                _ => HeaderName::Other,
            }
        }
    };
}

header_names! {
    Via = "Via", b'v';
    From = "From", b'f';
    To = "To", b't';
    CallId = "Call-ID", b'i';
    CSeq = "CSeq";
    MaxForwards = "Max-Forwards";
    Contact = "Contact", b'm';
    Route = "Route";
    RecordRoute = "Record-Route";
    ContentLength = "Content-Length", b'l';
    ContentType = "Content-Type", b'c';
    ContentEncoding = "Content-Encoding", b'e';
    Require = "Require";
    ProxyRequire = "Proxy-Require";
    Supported = "Supported", b'k';
    Expires = "Expires";
    Date = "Date";
    Subject = "Subject", b's';
    ReferTo = "Refer-To", b'r';
    ReferredBy = "Referred-By", b'b';
    Event = "Event", b'o';
    AllowEvents = "Allow-Events", b'u';
    AcceptContact = "Accept-Contact", b'a';
    RejectContact = "Reject-Contact", b'j';
    RequestDisposition = "Request-Disposition", b'd';
    SessionExpires = "Session-Expires", b'x';
    Identity = "Identity", b'y';
    Authorization = "Authorization";
    ProxyAuthorization = "Proxy-Authorization";
    WwwAuthenticate = "WWW-Authenticate";
    ProxyAuthenticate = "Proxy-Authenticate";
    Allow = "Allow";
    Accept = "Accept";
    UserAgent = "User-Agent";
    Server = "Server";
    Path = "Path";
    Unsupported = "Unsupported";
    MinExpires = "Min-Expires";
    Privacy = "Privacy";
    PAssertedIdentity = "P-Asserted-Identity";
    PPreferredIdentity = "P-Preferred-Identity";
    RetryAfter = "Retry-After";
}

/// A hash of (length, first letter, last letter), case-folded: each known full name has
/// its own slot (checked when the table is built, at compile time).
const fn slot(len: usize, first: u8, last: u8) -> usize {
    (len + (first | 0x20) as usize * 15 + (last | 0x20) as usize) & 1023
}

const fn build_table() -> [u8; 1024] {
    let mut t = [0u8; 1024];
    let mut i = 0;
    while i < HeaderName::ALL.len() {
        let s = HeaderName::ALL[i].as_str().as_bytes();
        let k = slot(s.len(), s[0], s[s.len() - 1]);
        assert!(t[k] == 0, "header name hash collision");
        t[k] = i as u8 + 1;
        i += 1;
    }
    t
}

static TABLE: [u8; 1024] = build_table();

/// Case-insensitive equality for header names. OR-ing 0x20 folds case and maps no two
/// token characters together (it pairs each token character only with a control character
/// or a non-token one), and a header name holds only token characters.
#[inline]
fn eq_fold(known: &[u8], name: &[u8]) -> bool {
    known.len() == name.len()
        && known
            .iter()
            .zip(name)
            .all(|(a, b)| (a | 0x20) == (b | 0x20))
}

impl HeaderName {
    /// Recognises a header name (case-insensitive, full or compact form) with one table
    /// lookup and one comparison; never allocates. `name` must be token characters (as
    /// every parsed header name is).
    #[inline]
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        match name.len() {
            0 => HeaderName::Other,
            1 => from_compact(name[0]),
            n => {
                let i = TABLE[slot(n, name[0], name[n - 1])];
                if i == 0 {
                    return HeaderName::Other;
                }
                let h = HeaderName::ALL[i as usize - 1];
                if eq_fold(h.as_str().as_bytes(), name) {
                    h
                } else {
                    HeaderName::Other
                }
            }
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
