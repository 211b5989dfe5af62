//! Splitting a pre-signed URL into what the shim's HTTP client needs.

/// An `http://` or `https://` URL, split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// `https`.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: &'a str,
    /// Port (default 80 or 443).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: &'a str,
}

/// Parse `url`; `None` for other schemes, user info, a bad port, or a
/// query without a path.
pub fn parse(url: &str) -> Option<Url<'_>> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return None;
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(p) => (host, p.parse().ok()?),
            None if after.is_empty() => (host, default_port),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, default_port),
        }
    };
    if host.is_empty() || port == 0 {
        return None;
    }
    let path = match path {
        "" => "/",
        p if p.starts_with('/') => p,
        // `host?query` has no path to request; pre-signed URLs always do.
        _ => return None,
    };
    Some(Url {
        tls,
        host,
        port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_s3_url() {
        let u = parse("https://bucket.s3.amazonaws.com/fw.bin?X-Amz-Signature=ab%2F").unwrap();
        assert!(u.tls);
        assert_eq!(u.host, "bucket.s3.amazonaws.com");
        assert_eq!(u.port, 443);
        assert_eq!(u.path, "/fw.bin?X-Amz-Signature=ab%2F");
    }

    #[test]
    fn local_service_url_with_port() {
        let u = parse("http://127.0.0.1:8081/files/1").unwrap();
        assert_eq!(
            (u.tls, u.host, u.port, u.path),
            (false, "127.0.0.1", 8081, "/files/1")
        );
        let u = parse("http://[::1]:81").unwrap();
        assert_eq!((u.host, u.port, u.path), ("::1", 81, "/"));
    }

    #[test]
    fn refuses_what_it_cannot_fetch() {
        for bad in [
            "ftp://h/x",
            "https://",
            "http://user@h/",
            "http://h:0/",
            "http://h:99999/",
            "http://[::1]x/",
            "http://host?q",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
