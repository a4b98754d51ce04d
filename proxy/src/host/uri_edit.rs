//! Rewriting parts of a SIP URI (`rewritehostport`, `$rU = ...`, `strip`, `prefix`).

use super::Ctx;
use crate::sip::Uri;

/// Which parts to replace; `None` keeps a part as it is.
#[derive(Default)]
pub struct UriChange<'a> {
    /// `Some(None)` removes the user (and password).
    pub user: Option<Option<&'a str>>,
    pub host: Option<&'a str>,
    /// `Some(None)` removes the port.
    pub port: Option<Option<&'a str>>,
}

// The constructors' lifetime is their own, so that `UriChange::user` is a `for<'u> fn`.
impl UriChange<'_> {
    /// Replaces the user; `None` removes it (and the password).
    pub fn user<'u>(user: Option<&'u str>) -> UriChange<'u> {
        UriChange {
            user: Some(user),
            ..Default::default()
        }
    }

    pub fn host<'u>(host: &'u str) -> UriChange<'u> {
        UriChange {
            host: Some(host),
            ..Default::default()
        }
    }

    /// Replaces the port; `None` removes it.
    pub fn port<'u>(port: Option<&'u str>) -> UriChange<'u> {
        UriChange {
            port: Some(port),
            ..Default::default()
        }
    }
}

/// Replaces the parts in `c` of the message's Request-URI (`rewritehost`, `$rd = ...`).
pub fn rewrite_ruri(ctx: &mut Ctx<'_>, c: &UriChange<'_>) {
    ctx.ruri = Some(rewrite(ctx.ruri_str(), c));
}

/// `uri` with the parts in `c` replaced. An unparsable URI is rebuilt from `sip:`.
pub fn rewrite(uri: &str, c: &UriChange<'_>) -> String {
    let Ok(u) = Uri::parse(uri) else {
        return rebuild(
            "sip",
            c.user.flatten(),
            None,
            c.host.unwrap_or(""),
            c.port.flatten(),
            "",
            None,
        );
    };
    if u.scheme() == crate::sip::Scheme::Tel && c.host.is_some() {
        // Kamailio parses `tel:N;params` as `sip:N;params@...;user=phone`, so giving it a
        // host yields that SIP URI (`rewritehostport` on a tel R-URI).
        let number = match (u.user(), u.params().raw()) {
            (Some(n), "") => n.to_string(),
            (Some(n), p) => format!("{n};{p}"),
            (None, _) => String::new(),
        };
        let user = match c.user {
            Some(x) => x,
            None => Some(number.as_str()),
        };
        return rebuild(
            "sip",
            user,
            None,
            c.host.unwrap_or(""),
            c.port.flatten(),
            "user=phone",
            None,
        );
    }
    let user = match c.user {
        Some(x) => x,
        None => u.user(),
    };
    let password = if matches!(c.user, Some(None)) {
        None
    } else {
        u.password()
    };
    let port = match c.port {
        Some(x) => x,
        None => Some(u.port_str()).filter(|p| !p.is_empty()),
    };
    rebuild(
        u.scheme_str(),
        user,
        password,
        c.host.unwrap_or_else(|| u.host()),
        port,
        u.params().raw(),
        u.headers(),
    )
}

fn rebuild(
    scheme: &str,
    user: Option<&str>,
    password: Option<&str>,
    host: &str,
    port: Option<&str>,
    params: &str,
    headers: Option<&str>,
) -> String {
    let mut s = String::with_capacity(64);
    s.push_str(scheme);
    s.push(':');
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        s.push_str(u);
        if let Some(p) = password {
            s.push(':');
            s.push_str(p);
        }
        s.push('@');
    }
    s.push_str(host);
    if let Some(p) = port.filter(|p| !p.is_empty()) {
        s.push(':');
        s.push_str(p);
    }
    if !params.is_empty() {
        s.push(';');
        s.push_str(params);
    }
    if let Some(h) = headers {
        s.push('?');
        s.push_str(h);
    }
    s
}

/// Splits `host[:port]` (IPv6 in brackets).
pub fn split_hostport(hp: &str) -> (&str, Option<&str>) {
    if hp.starts_with('[') {
        return match hp.find(']') {
            Some(e) => (&hp[..=e], hp[e + 1..].strip_prefix(':')),
            None => (hp, None),
        };
    }
    match hp.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (hp, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_parts_and_keeps_the_rest() {
        let u = "sip:alice:pw@example.com:5070;transport=tcp?h=1";
        let hp = UriChange {
            host: Some("127.0.0.1"),
            port: Some(Some("5081")),
            ..Default::default()
        };
        assert_eq!(
            rewrite(u, &hp),
            "sip:alice:pw@127.0.0.1:5081;transport=tcp?h=1"
        );
        let user = UriChange {
            user: Some(Some("bob")),
            ..Default::default()
        };
        assert_eq!(rewrite("sip:alice@h", &user), "sip:bob@h");
        let nouser = UriChange {
            user: Some(None),
            ..Default::default()
        };
        assert_eq!(rewrite("sip:alice:pw@h:1", &nouser), "sip:h:1");
        assert_eq!(
            rewrite(
                "sip:h",
                &UriChange {
                    port: Some(Some("5090")),
                    ..Default::default()
                }
            ),
            "sip:h:5090"
        );
        // A tel URI given a host becomes the SIP URI Kamailio makes of it.
        assert_eq!(
            rewrite("tel:+1-555;ext=7", &hp),
            "sip:+1-555;ext=7@127.0.0.1:5081;user=phone"
        );
        assert_eq!(split_hostport("[::1]:5060"), ("[::1]", Some("5060")));
        assert_eq!(split_hostport("127.0.0.1"), ("127.0.0.1", None));
    }
}
