//! The HTTP data plane (PROTOCOL.md §6): stream files served at pre-signed,
//! expiring URLs, with `Range` requests, like S3.
//!
//! A file's URL is `http://127.0.0.1:PORT/streams/STREAM/FILEID`; signed, it
//! gets `?Expires=UNIX_SECONDS&Signature=HEX` (HMAC-SHA-256 of the path and
//! the expiry with a per-process key). Job documents whose files have
//! `auth_scheme: "aws.s3.presigned"` and an `update_data_url` on this server
//! get a freshly signed URL every time they are delivered.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tiny_http::{Method, Request, Response};

use super::httpd::{header, respond};
use super::stats::Stats;
use super::streams::StreamStore;
use super::{lock, unix_millis};

/// The `auth_scheme` of pre-signed URLs.
const PRESIGNED: &str = "aws.s3.presigned";
/// How AWS IoT Jobs marks a URL to pre-sign at delivery.
const PLACEHOLDER_PREFIX: &str = "${aws:iot:s3-presigned-url:";

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks file URLs.
pub(crate) struct UrlSigner {
    key: [u8; 32],
    base: String,
    lifetime: Duration,
}

impl UrlSigner {
    /// A signer with a fresh random key for the server on `port`; URLs it
    /// refreshes live for `lifetime`.
    pub fn new(port: u16, lifetime: Duration) -> Self {
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(unix_millis());
            chunk.copy_from_slice(&hasher.finish().to_le_bytes());
        }
        UrlSigner {
            key,
            base: format!("http://127.0.0.1:{port}"),
            lifetime,
        }
    }

    /// The unsigned URL of a file.
    pub fn file_url(&self, stream_id: &str, file_id: u8) -> String {
        format!("{}/streams/{stream_id}/{file_id}", self.base)
    }

    /// A URL of a file valid until `expires` (Unix seconds).
    pub fn presign(&self, stream_id: &str, file_id: u8, expires: u64) -> String {
        self.sign_url(&self.file_url(stream_id, file_id), expires)
    }

    fn sign_url(&self, url: &str, expires: u64) -> String {
        let path = &url[self.base.len()..];
        format!(
            "{url}?Expires={expires}&Signature={}",
            hex(&self.mac(path, expires).finalize().into_bytes())
        )
    }

    fn mac(&self, path: &str, expires: u64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// A freshly signed version of `url` (signed or not, or wrapped in the
    /// AWS placeholder) if it points at this server's files.
    fn refresh(&self, url: &str) -> Option<String> {
        let url = url
            .strip_prefix(PLACEHOLDER_PREFIX)
            .and_then(|u| u.strip_suffix('}'))
            .unwrap_or(url);
        let unsigned = url.split('?').next().unwrap_or(url);
        parse_file_path(unsigned.strip_prefix(&self.base)?)?;
        // Rounded up: valid for at least the lifetime.
        let expires = (unix_millis() + self.lifetime.as_millis() as u64).div_ceil(1000);
        Some(self.sign_url(unsigned, expires))
    }

    /// Checks the signature and expiry in `query` for `path`.
    fn check(&self, path: &str, query: &str) -> Result<(), &'static str> {
        let param = |name: &str| {
            query.split('&').find_map(|kv| {
                kv.split_once('=')
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v)
            })
        };
        let (Some(expires), Some(signature)) = (param("Expires"), param("Signature")) else {
            return Err(
                "Query-string authentication requires the Signature and Expires parameters",
            );
        };
        let expires: u64 = expires
            .parse()
            .map_err(|_| "Invalid date (should be seconds since epoch)")?;
        let signature =
            unhex(signature).ok_or("The request signature we calculated does not match")?;
        self.mac(path, expires)
            .verify_slice(&signature)
            .map_err(|_| "The request signature we calculated does not match")?;
        if unix_millis() / 1000 >= expires {
            return Err("Request has expired");
        }
        Ok(())
    }

    /// The document a device receives: every presigned file URL on this
    /// server replaced by a fresh one.
    pub fn render_document(&self, document: &Value) -> Value {
        let mut document = document.clone();
        let files = document
            .pointer_mut("/afr_ota/files")
            .and_then(Value::as_array_mut);
        for file in files.into_iter().flatten() {
            if file.get("auth_scheme").and_then(Value::as_str) != Some(PRESIGNED) {
                continue;
            }
            let fresh = file
                .get("update_data_url")
                .and_then(Value::as_str)
                .and_then(|u| self.refresh(u));
            if let Some(fresh) = fresh {
                file["update_data_url"] = Value::String(fresh);
            }
        }
        document
    }
}

/// `/streams/STREAM/FILEID` → (stream, file id).
fn parse_file_path(path: &str) -> Option<(&str, u8)> {
    let rest = path.strip_prefix("/streams/")?;
    let (stream, file) = rest.split_once('/')?;
    Some((stream, file.parse().ok()?))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// What a `Range` header asks of a body of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// No usable range: send everything (200). Malformed and multi-range
    /// headers are ignored, as RFC 9110 allows and S3 does.
    Full,
    /// Bytes `start..=end` (206).
    Partial(u64, u64),
    /// The range starts past the end (416).
    Unsatisfiable,
}

/// Interprets a `Range` header value for a body of `len` bytes.
pub(crate) fn parse_range(value: &str, len: u64) -> RangeOutcome {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((start, end)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let (start, end) = (start.trim(), end.trim());
    if start.is_empty() {
        return match end.parse::<u64>() {
            Ok(0) => RangeOutcome::Unsatisfiable,
            Ok(_) if len == 0 => RangeOutcome::Unsatisfiable,
            Ok(n) => RangeOutcome::Partial(len - n.min(len), len - 1),
            Err(_) => RangeOutcome::Full,
        };
    }
    let Ok(start) = start.parse::<u64>() else {
        return RangeOutcome::Full;
    };
    let end = if end.is_empty() {
        Ok(u64::MAX)
    } else {
        end.parse::<u64>()
    };
    match end {
        Ok(end) if end >= start => {
            if start >= len {
                RangeOutcome::Unsatisfiable
            } else {
                RangeOutcome::Partial(start, end.min(len - 1))
            }
        }
        _ => RangeOutcome::Full,
    }
}

/// What the file server needs.
pub(crate) struct FileServerContext {
    pub signer: Arc<UrlSigner>,
    pub streams: Arc<RwLock<StreamStore>>,
    pub stats: Arc<Mutex<Stats>>,
}

fn s3_error(code: &str, message: &str, status: u16) -> Response<std::io::Cursor<Vec<u8>>> {
    let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>");
    Response::from_data(body.into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/xml"))
}

/// Serves one file request.
pub(crate) fn serve_file(ctx: &FileServerContext, request: Request) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if !matches!(request.method(), Method::Get | Method::Head) {
        return respond(
            request,
            s3_error("MethodNotAllowed", "Only GET and HEAD", 405),
        );
    }
    let Some((stream_id, file_id)) = parse_file_path(path) else {
        return respond(
            request,
            s3_error("NoSuchKey", "The specified key does not exist.", 404),
        );
    };
    lock(&ctx.stats).http_requests += 1;
    if let Err(message) = ctx.signer.check(path, query) {
        lock(&ctx.stats).http_forbidden += 1;
        return respond(request, s3_error("AccessDenied", message, 403));
    }
    let store = ctx.streams.read().unwrap_or_else(|e| e.into_inner());
    let Some(data) = store.file(stream_id, file_id) else {
        drop(store);
        return respond(
            request,
            s3_error("NoSuchKey", "The specified key does not exist.", 404),
        );
    };
    drop(store);
    let len = data.len() as u64;
    let range = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Range"))
        .map_or(RangeOutcome::Full, |h| parse_range(h.value.as_str(), len));
    let (status, start, end) = match range {
        RangeOutcome::Full => (200, 0, len),
        RangeOutcome::Partial(start, end) => (206, start, end + 1),
        RangeOutcome::Unsatisfiable => {
            let response = s3_error(
                "InvalidRange",
                "The requested range is not satisfiable",
                416,
            )
            .with_header(header("Content-Range", &format!("bytes */{len}")));
            return respond(request, response);
        }
    };
    let body = data[start as usize..end as usize].to_vec();
    if *request.method() == Method::Get {
        let mut stats = lock(&ctx.stats);
        stats.http_bytes += body.len() as u64;
        *stats
            .http_bytes_by_file
            .entry(format!("{stream_id}/{file_id}"))
            .or_default() += body.len() as u64;
    }
    let mut response = Response::from_data(body)
        .with_status_code(status)
        .with_header(header("Accept-Ranges", "bytes"))
        .with_header(header("Content-Type", "application/octet-stream"));
    if status == 206 {
        response = response.with_header(header(
            "Content-Range",
            &format!("bytes {start}-{}/{len}", end - 1),
        ));
    }
    respond(request, response);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges() {
        use RangeOutcome::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Partial(0, 99));
        assert_eq!(parse_range("bytes=990-2000", 1000), Partial(990, 999));
        assert_eq!(parse_range("bytes=500-", 1000), Partial(500, 999));
        assert_eq!(parse_range("bytes=-100", 1000), Partial(900, 999));
        assert_eq!(parse_range("bytes=-5000", 1000), Partial(0, 999));
        assert_eq!(parse_range("bytes=1000-1001", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-4", 1000), Full);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Full);
        assert_eq!(parse_range("items=0-1", 1000), Full);
        assert_eq!(parse_range("bytes=a-b", 1000), Full);
    }

    #[test]
    fn signatures_and_expiry() {
        let signer = UrlSigner::new(8080, Duration::from_secs(60));
        let now = unix_millis() / 1000;
        let url = signer.presign("S", 0, now + 60);
        let (path, query) = url
            .strip_prefix("http://127.0.0.1:8080")
            .unwrap()
            .split_once('?')
            .unwrap();
        assert_eq!(path, "/streams/S/0");
        assert_eq!(signer.check(path, query), Ok(()));
        assert!(
            signer.check("/streams/S/1", query).is_err(),
            "signature bound to the path"
        );
        let tampered = query.replace(
            &format!("Expires={}", now + 60),
            &format!("Expires={}", now + 600),
        );
        assert!(
            signer.check(path, &tampered).is_err(),
            "signature bound to the expiry"
        );
        let expired = signer.presign("S", 0, now - 1);
        let (_, query) = expired.split_once('?').unwrap();
        assert_eq!(signer.check(path, query), Err("Request has expired"));
        assert!(signer.check(path, "").is_err());
        let other = UrlSigner::new(8080, Duration::from_secs(60));
        assert!(
            other.check(path, url.split_once('?').unwrap().1).is_err(),
            "keys differ per signer"
        );
    }

    #[test]
    fn documents_get_fresh_urls() {
        let signer = UrlSigner::new(8080, Duration::from_secs(60));
        let doc = json!({"afr_ota": {"protocols": ["HTTP"], "files": [
            {"fileid": 0, "update_data_url": signer.file_url("S", 0), "auth_scheme": "aws.s3.presigned"},
            {"fileid": 1, "update_data_url": "${aws:iot:s3-presigned-url:http://127.0.0.1:8080/streams/S/1}",
             "auth_scheme": "aws.s3.presigned"},
            {"fileid": 2, "update_data_url": "https://elsewhere/x", "auth_scheme": "aws.s3.presigned"},
            {"fileid": 3, "update_data_url": signer.file_url("S", 3)},
        ]}});
        let out = signer.render_document(&doc);
        let url = |i: usize| {
            out["afr_ota"]["files"][i]["update_data_url"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(
            url(0).starts_with("http://127.0.0.1:8080/streams/S/0?Expires="),
            "{}",
            url(0)
        );
        assert!(
            url(1).starts_with("http://127.0.0.1:8080/streams/S/1?Expires="),
            "{}",
            url(1)
        );
        assert_eq!(url(2), "https://elsewhere/x");
        assert_eq!(
            url(3),
            signer.file_url("S", 3),
            "no auth_scheme: left alone"
        );
        let again = signer.render_document(&out);
        let (path, query) = again["afr_ota"]["files"][0]["update_data_url"]
            .as_str()
            .unwrap()
            .strip_prefix("http://127.0.0.1:8080")
            .unwrap()
            .split_once('?')
            .unwrap();
        assert_eq!(signer.check(path, query), Ok(()));
    }
}
