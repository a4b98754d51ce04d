//! Typed header values, parsed on first access and cached in the message.

use std::cell::OnceCell;

use smallvec::SmallVec;

use super::headers::{self, CSeq, Contacts, ContentType, Date, HeaderError, NameAddr};
use super::msg::{Method, Msg};
use super::name::HeaderName;
use super::via::{self, Via};

type Cached<T> = OnceCell<Result<T, HeaderError>>;

#[derive(Default, Debug)]
pub(crate) struct Cache {
    via: Cached<Vec<Via<'static>>>,
    from: Cached<NameAddr<'static>>,
    to: Cached<NameAddr<'static>>,
    call_id: Cached<&'static str>,
    cseq: Cached<CSeq<'static>>,
    max_forwards: Cached<Option<u16>>,
    contacts: Cached<Contacts<'static>>,
    route: Cached<Vec<NameAddr<'static>>>,
    record_route: Cached<Vec<NameAddr<'static>>>,
    content_type: Cached<Option<ContentType<'static>>>,
    require: Cached<Vec<&'static str>>,
    proxy_require: Cached<Vec<&'static str>>,
    supported: Cached<Vec<&'static str>>,
    expires: Cached<Option<u32>>,
    date: Cached<Option<Date<'static>>>,
}

/// Extends a borrow of the message buffer to `'static`.
///
/// SAFETY (of the callers' use): `Bytes` never moves or frees its storage while any handle
/// to it lives, and `Msg` owns such a handle for as long as it owns the cached values built
/// from these slices. The `'static` lifetime never escapes: every accessor returns the
/// cached values behind `&self`, and the value types are covariant, so callers see them
/// with `&self`'s lifetime.
pub(crate) fn extend(b: &[u8]) -> &'static [u8] {
    // SAFETY: see above; only ever called on slices of `Msg::buf`.
    unsafe { std::slice::from_raw_parts(b.as_ptr(), b.len()) }
}

pub(crate) fn extend_str(s: &str) -> &'static str {
    // SAFETY: `extend` of valid UTF-8 is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(extend(s.as_bytes())) }
}

impl Msg {
    /// The typed-value cache, allocated on the first typed access so that a message that
    /// is only relayed stays small.
    #[inline]
    fn cache(&self) -> &Cache {
        self.cache.get_or_init(Box::default)
    }

    // ---- typed headers ----------------------------------------------------------------

    fn values(&self, name: HeaderName) -> Result<SmallVec<[&'static str; 4]>, HeaderError> {
        self.headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| {
                let v = extend(&self.buf[h.value_start as usize..h.value_end as usize]);
                std::str::from_utf8(v).map_err(|_| HeaderError::Syntax {
                    name,
                    why: "not UTF-8",
                })
            })
            .collect()
    }

    fn first(&self, name: HeaderName) -> Result<Option<&'static str>, HeaderError> {
        match self.headers.iter().find(|h| h.name == name) {
            None => Ok(None),
            Some(h) => {
                let v = extend(&self.buf[h.value_start as usize..h.value_end as usize]);
                std::str::from_utf8(v)
                    .map(Some)
                    .map_err(|_| HeaderError::Syntax {
                        name,
                        why: "not UTF-8",
                    })
            }
        }
    }

    fn required<T>(
        &self,
        name: HeaderName,
        f: impl FnOnce(&'static str) -> headers::PResult<T>,
    ) -> Result<T, HeaderError> {
        let v = self.first(name)?.ok_or(HeaderError::Missing(name))?;
        f(v).map_err(|why| HeaderError::Syntax { name, why })
    }

    fn optional<T>(
        &self,
        name: HeaderName,
        f: impl FnOnce(&'static str) -> headers::PResult<T>,
    ) -> Result<Option<T>, HeaderError> {
        match self.first(name)? {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .map_err(|why| HeaderError::Syntax { name, why }),
        }
    }

    fn listed<T>(
        &self,
        name: HeaderName,
        f: impl FnOnce(&[&'static str]) -> headers::PResult<T>,
    ) -> Result<T, HeaderError> {
        let vals = self.values(name)?;
        f(&vals).map_err(|why| HeaderError::Syntax { name, why })
    }

    /// Every Via element of every Via header, top first. Missing Via is an error.
    pub fn via(&self) -> Result<&[Via<'_>], HeaderError> {
        let r = self.cache().via.get_or_init(|| {
            let vals = self.values(HeaderName::Via)?;
            if vals.is_empty() {
                return Err(HeaderError::Missing(HeaderName::Via));
            }
            via::vias(vals.into_iter()).map_err(|why| HeaderError::Syntax {
                name: HeaderName::Via,
                why,
            })
        });
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    /// The top Via.
    pub fn top_via(&self) -> Result<&Via<'_>, HeaderError> {
        self.via().map(|v| &v[0])
    }
    pub fn from(&self) -> Result<&NameAddr<'_>, HeaderError> {
        let r = self
            .cache()
            .from
            .get_or_init(|| self.required(HeaderName::From, headers::single_name_addr));
        r.as_ref().map_err(|e| *e)
    }
    pub fn to(&self) -> Result<&NameAddr<'_>, HeaderError> {
        let r = self
            .cache()
            .to
            .get_or_init(|| self.required(HeaderName::To, headers::single_name_addr));
        r.as_ref().map_err(|e| *e)
    }
    pub fn call_id(&self) -> Result<&str, HeaderError> {
        let r = self
            .cache()
            .call_id
            .get_or_init(|| self.required(HeaderName::CallId, headers::call_id));
        r.as_ref().map(|s| *s).map_err(|e| *e)
    }
    pub fn cseq(&self) -> Result<&CSeq<'_>, HeaderError> {
        let r = self
            .cache()
            .cseq
            .get_or_init(|| self.required(HeaderName::CSeq, headers::cseq));
        r.as_ref().map_err(|e| *e)
    }
    /// Max-Forwards, `None` when absent.
    pub fn max_forwards(&self) -> Result<Option<u16>, HeaderError> {
        let r = self
            .cache()
            .max_forwards
            .get_or_init(|| self.optional(HeaderName::MaxForwards, headers::max_forwards));
        *r
    }
    /// Every Contact of every Contact header (or `*`); empty when absent.
    pub fn contacts(&self) -> Result<&Contacts<'_>, HeaderError> {
        let r = self.cache().contacts.get_or_init(|| {
            let vals = self.values(HeaderName::Contact)?;
            if vals.is_empty() {
                return Ok(Contacts::default());
            }
            headers::contacts(&vals).map_err(|why| HeaderError::Syntax {
                name: HeaderName::Contact,
                why,
            })
        });
        r.as_ref().map_err(|e| *e)
    }
    /// Route entries of every Route header, in order; empty when absent.
    pub fn route(&self) -> Result<&[NameAddr<'_>], HeaderError> {
        let r = self
            .cache()
            .route
            .get_or_init(|| self.listed(HeaderName::Route, headers::routes));
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    /// Record-Route entries of every Record-Route header, in order; empty when absent.
    pub fn record_route(&self) -> Result<&[NameAddr<'_>], HeaderError> {
        let r = self
            .cache()
            .record_route
            .get_or_init(|| self.listed(HeaderName::RecordRoute, headers::routes));
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    pub fn content_type(&self) -> Result<Option<&ContentType<'_>>, HeaderError> {
        let r = self
            .cache()
            .content_type
            .get_or_init(|| self.optional(HeaderName::ContentType, headers::content_type));
        r.as_ref().map(Option::as_ref).map_err(|e| *e)
    }
    /// Option tags of every Require header.
    pub fn require(&self) -> Result<&[&str], HeaderError> {
        let r = self
            .cache()
            .require
            .get_or_init(|| self.listed(HeaderName::Require, |v| headers::tokens(v, false)));
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    /// Option tags of every Proxy-Require header.
    pub fn proxy_require(&self) -> Result<&[&str], HeaderError> {
        let r = self
            .cache()
            .proxy_require
            .get_or_init(|| self.listed(HeaderName::ProxyRequire, |v| headers::tokens(v, false)));
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    /// Option tags of every Supported header (an empty Supported is allowed).
    pub fn supported(&self) -> Result<&[&str], HeaderError> {
        let r = self
            .cache()
            .supported
            .get_or_init(|| self.listed(HeaderName::Supported, |v| headers::tokens(v, true)));
        r.as_ref().map(|v| &v[..]).map_err(|e| *e)
    }
    /// Expires in seconds (saturated at 2^32-1), `None` when absent.
    pub fn expires(&self) -> Result<Option<u32>, HeaderError> {
        let r = self
            .cache()
            .expires
            .get_or_init(|| self.optional(HeaderName::Expires, headers::expires));
        *r
    }
    pub fn date(&self) -> Result<Option<&Date<'_>>, HeaderError> {
        let r = self
            .cache()
            .date
            .get_or_init(|| self.optional(HeaderName::Date, headers::date));
        r.as_ref().map(Option::as_ref).map_err(|e| *e)
    }

    /// Reads every typed header; the first error, if any.
    pub fn check_all(&self) -> Result<(), HeaderError> {
        self.via()?;
        self.from()?;
        self.to()?;
        self.call_id()?;
        self.cseq()?;
        self.max_forwards()?;
        self.contacts()?;
        self.route()?;
        self.record_route()?;
        self.content_type()?;
        self.require()?;
        self.proxy_require()?;
        self.supported()?;
        self.expires()?;
        self.date()?;
        Ok(())
    }

    /// The headers every message needs before it is routed (RFC 3261 §8.1.1; Kamailio's
    /// receive path drops a message without them): Via and CSeq parse, From, To and Call-ID
    /// are there.
    pub fn has_required_headers(&self) -> bool {
        self.via().is_ok()
            && self.cseq().is_ok()
            && self.find(HeaderName::From).is_some()
            && self.find(HeaderName::To).is_some()
            && self.call_id().is_ok()
    }

    /// Enough is readable to answer this request (RFC 3261 §8.2.6): it is a request, its
    /// top Via and its CSeq parse, and From, To and Call-ID are present.
    pub fn can_reply(&self) -> bool {
        self.is_request()
            && self.method() != Some(Method::Ack)
            && self.via().is_ok()
            && self.cseq().is_ok_and(|c| c.method != "ACK")
            && self.find(HeaderName::From).is_some()
            && self.find(HeaderName::To).is_some()
            && self.call_id().is_ok()
    }
}
