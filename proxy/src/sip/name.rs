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
            pub fn as_str(self) -> &'static str {
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

impl HeaderName {
    /// Recognises a header name (case-insensitive, full or compact form); never allocates.
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        match name.len() {
            0 => HeaderName::Other,
            1 => from_compact(name[0]),
            n => {
                // Group by length and first letter so that at most a couple of
                // case-insensitive comparisons run.
                let first = name[0].to_ascii_lowercase();
                for &h in HeaderName::ALL {
                    let s = h.as_str().as_bytes();
                    if s.len() == n
                        && s[0].to_ascii_lowercase() == first
                        && s.eq_ignore_ascii_case(name)
                    {
                        return h;
                    }
                }
                HeaderName::Other
            }
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
