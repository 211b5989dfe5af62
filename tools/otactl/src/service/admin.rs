//! The admin endpoint: a small JSON API on loopback so that another process
//! can drive a running `otactl serve` (the table is in the module docs of
//! `service`).

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::{json, Value};
use tiny_http::{Method, Request, Response};

use super::error::ServiceError;
use super::httpd::{header, respond};
use super::ServiceApi;

/// The largest request body accepted.
const MAX_BODY: u64 = 1024 * 1024;

#[derive(Deserialize)]
struct NewStream {
    stream_id: String,
    files: Vec<NewFile>,
}

#[derive(Deserialize)]
struct NewFile {
    file_id: u8,
    path: String,
}

#[derive(Deserialize)]
struct NewJob {
    job_id: String,
    things: Vec<String>,
    document: Value,
}

#[derive(Deserialize, Default)]
struct Cancel {
    #[serde(default)]
    force: bool,
}

type Answer = Result<(u16, Value), (u16, String)>;

impl From<ServiceError> for (u16, String) {
    fn from(e: ServiceError) -> Self {
        let status = match e {
            ServiceError::NotFound(_) => 404,
            ServiceError::Conflict(_) => 409,
            ServiceError::Invalid(_) => 400,
        };
        (status, e.to_string())
    }
}

/// Answers one admin request.
pub(crate) fn handle(api: &ServiceApi, mut request: Request) {
    let answer = route(api, &mut request);
    let (status, body) = match answer {
        Ok((status, body)) => (status, body),
        Err((status, message)) => (status, json!({ "error": message })),
    };
    let response = Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json"));
    respond(request, response);
}

fn route(api: &ServiceApi, request: &mut Request) -> Answer {
    let path = request
        .url()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method().clone();
    match (&method, segments.as_slice()) {
        (Method::Post, ["streams"]) => {
            let new: NewStream = body(request)?;
            let mut files = BTreeMap::new();
            for file in new.files {
                let data = std::fs::read(&file.path)
                    .map_err(|e| (400, format!("reading {}: {e}", file.path)))?;
                files.insert(file.file_id, data);
            }
            let info = api.create_stream(&new.stream_id, files)?;
            let urls: BTreeMap<u8, String> = info
                .files
                .keys()
                .map(|id| (*id, api.file_url(&info.stream_id, *id)))
                .collect();
            Ok((201, json!({ "stream": info, "urls": urls })))
        }
        (Method::Post, ["jobs"]) => {
            let new: NewJob = body(request)?;
            let things: Vec<&str> = new.things.iter().map(String::as_str).collect();
            api.create_job(&things, &new.job_id, new.document)?;
            Ok((201, json!({ "job_id": new.job_id, "things": new.things })))
        }
        (Method::Get, ["executions"]) => Ok((200, to_json(&api.executions()))),
        (Method::Get, ["stats"]) => Ok((200, to_json(&api.stats()))),
        (Method::Get, ["things", thing, "jobs", job]) => api
            .execution(thing, job)
            .map(|e| (200, to_json(&e)))
            .ok_or_else(|| (404, format!("no execution of job {job} on {thing}"))),
        (Method::Post, ["things", thing, "jobs", job, "cancel"]) => {
            let cancel: Cancel = body(request)?;
            api.cancel_job(thing, job, cancel.force)?;
            let execution = api
                .execution(thing, job)
                .ok_or((404, "vanished".to_owned()))?;
            Ok((200, to_json(&execution)))
        }
        (_, ["streams"] | ["jobs"] | ["executions"] | ["stats"] | ["things", _, "jobs", _]) => {
            Err((405, format!("{method} is not allowed on {path}")))
        }
        (_, ["things", _, "jobs", _, "cancel"]) => {
            Err((405, format!("{method} is not allowed on {path}")))
        }
        _ => Err((404, format!("no such endpoint: {path}"))),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

/// Reads and parses a JSON body (an empty body reads as `{}`).
fn body<T: for<'de> Deserialize<'de>>(request: &mut Request) -> Result<T, (u16, String)> {
    let mut text = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut text)
        .map_err(|e| (400, format!("reading the body: {e}")))?;
    if text.len() as u64 > MAX_BODY {
        return Err((400, format!("the body is larger than {MAX_BODY} bytes")));
    }
    if text.iter().all(u8::is_ascii_whitespace) {
        text = b"{}".to_vec();
    }
    serde_json::from_slice(&text).map_err(|e| (400, format!("bad JSON body: {e}")))
}

/// Decodes `%XX` escapes; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%3Ab"), "a:b");
        assert_eq!(percent_decode("a%3"), "a%3");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
