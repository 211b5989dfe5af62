//! The HTTP side of a host device, on ureq: performs the agent's
//! [`Transmit::HttpGet`](ota_agent::Transmit::HttpGet) range requests on a
//! worker thread, so the device keeps servicing MQTT while a range
//! downloads, and reports the body in pieces as it arrives.
//!
//! Each request gets a number; a newer request supersedes an older one
//! (the agent re-requests after a timeout, or a reboot forgets everything),
//! and the worker abandons a superseded request at its next piece. The
//! device hands reports to [`HttpWorker::deliver`], which drops those of
//! superseded requests and feeds the rest to the agent:
//! [`handle_http_data`](ota_agent::Agent::handle_http_data) for every piece,
//! then [`handle_http_done`](ota_agent::Agent::handle_http_done) with
//! `Complete`, or `Failed { status }` (403 for an expired pre-signed URL,
//! 0 for a transport error).

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ota_agent::{Agent, HttpOutcome, Instant, Platform};

/// Bytes handed to the agent at a time, at most.
pub const CHUNK: usize = 4096;

/// What happened to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpReport {
    /// Body bytes of request `request`, starting at file offset `offset`.
    Data {
        /// The request's number.
        request: u64,
        /// The file offset of `data[0]`.
        offset: u32,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Request `request` ended.
    Done {
        /// The request's number.
        request: u64,
        /// How.
        outcome: HttpOutcome,
    },
}

struct Job {
    request: u64,
    url: String,
    first: u32,
    last: u32,
}

/// A worker thread performing one range request at a time. Dropping it
/// abandons the current request and joins the thread.
pub struct HttpWorker {
    jobs: Option<Sender<Job>>,
    latest: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl HttpWorker {
    /// Start the worker; requests time out after `timeout` in all. Reports
    /// go to `sink`, in order; when it returns false the worker stops.
    pub fn start(
        name: &str,
        timeout: Duration,
        mut sink: impl FnMut(HttpReport) -> bool + Send + 'static,
    ) -> io::Result<Self> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let latest = Arc::new(AtomicU64::new(0));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .build()
            .into();
        let thread = {
            let latest = Arc::clone(&latest);
            thread::Builder::new()
                .name(format!("http-{name}"))
                .spawn(move || {
                    for job in rx {
                        if latest.load(Ordering::Acquire) != job.request {
                            continue;
                        }
                        if !perform(&agent, &job, &latest, &mut sink) {
                            break;
                        }
                    }
                })?
        };
        Ok(HttpWorker {
            jobs: Some(jobs),
            latest,
            thread: Some(thread),
        })
    }

    /// Start `GET url` with `Range: bytes=first-last`, superseding any
    /// request still running. Returns the request's number.
    pub fn get(&mut self, url: &str, first: u32, last: u32) -> u64 {
        let request = self.latest.fetch_add(1, Ordering::AcqRel) + 1;
        if let Some(jobs) = &self.jobs {
            let job = Job {
                request,
                url: url.to_owned(),
                first,
                last,
            };
            if jobs.send(job).is_err() {
                log::warn!("http: the worker has stopped");
            }
        }
        request
    }

    /// Abandon the current request, if any (its reports will be dropped).
    pub fn cancel(&self) {
        self.latest.fetch_add(1, Ordering::AcqRel);
    }

    /// Feed `report` to `agent`, unless its request was superseded.
    pub fn deliver<P: Platform, const URL_CAP: usize>(
        &self,
        agent: &mut Agent<P, URL_CAP>,
        now: Instant,
        report: &HttpReport,
    ) {
        match report {
            HttpReport::Data {
                request,
                offset,
                data,
            } if self.is_current(*request) => {
                agent.handle_http_data(now, *offset, data);
            }
            HttpReport::Done { request, outcome } if self.is_current(*request) => {
                agent.handle_http_done(now, *outcome);
            }
            _ => {}
        }
    }

    fn is_current(&self, request: u64) -> bool {
        self.latest.load(Ordering::Acquire) == request
    }
}

impl Drop for HttpWorker {
    fn drop(&mut self) {
        self.cancel();
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Perform one request; false when the sink is gone.
fn perform(
    agent: &ureq::Agent,
    job: &Job,
    latest: &AtomicU64,
    sink: &mut impl FnMut(HttpReport) -> bool,
) -> bool {
    let done = |outcome| HttpReport::Done {
        request: job.request,
        outcome,
    };
    let response = agent
        .get(&job.url)
        .header("Range", format!("bytes={}-{}", job.first, job.last))
        .call();
    let mut response = match response {
        Ok(r) => r,
        Err(e) => {
            log::info!("http: GET failed: {e}");
            return sink(done(HttpOutcome::Failed { status: 0 }));
        }
    };
    let status = response.status().as_u16();
    // 206 carries the range; a server that ignores ranges answers 200 with
    // the whole file, of which the range is cut out.
    let start = match status {
        206 => response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .and_then(content_range_start)
            .unwrap_or(job.first),
        200 => 0,
        _ => {
            log::info!("http: GET answered {status}");
            return sink(done(HttpOutcome::Failed { status }));
        }
    };
    let mut reader = response.body_mut().as_reader();
    let outcome = match stream(&mut reader, job, start, latest, sink) {
        Streamed::Complete => HttpOutcome::Complete,
        Streamed::Failed => HttpOutcome::Failed { status: 0 },
        Streamed::Superseded => return true,
        Streamed::SinkGone => return false,
    };
    sink(done(outcome))
}

enum Streamed {
    Complete,
    Failed,
    Superseded,
    SinkGone,
}

/// Read the body, which starts at file offset `start`, and report the part
/// in `job.first..=job.last` piece by piece.
fn stream(
    reader: &mut impl Read,
    job: &Job,
    start: u32,
    latest: &AtomicU64,
    sink: &mut impl FnMut(HttpReport) -> bool,
) -> Streamed {
    let end = u64::from(job.last) + 1;
    let mut position = u64::from(start);
    let mut buf = vec![0u8; CHUNK];
    while position < end {
        if latest.load(Ordering::Acquire) != job.request {
            return Streamed::Superseded;
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::info!("http: body read failed: {e}");
                return Streamed::Failed;
            }
        };
        let piece_start = position;
        position += n as u64;
        // The part of the piece inside the requested range.
        let from = u64::from(job.first).max(piece_start);
        let to = end.min(position);
        if from >= to {
            continue;
        }
        let data = buf[(from - piece_start) as usize..(to - piece_start) as usize].to_vec();
        let report = HttpReport::Data {
            request: job.request,
            offset: from as u32,
            data,
        };
        if !sink(report) {
            return Streamed::SinkGone;
        }
    }
    // One more read finds the end of a body that held just the range (a
    // 206), which hands the connection back to ureq's pool: the next range
    // reuses it instead of opening a new connection (and, with TLS, a new
    // session). A longer body (a 200 with the whole file) is dropped here.
    if position >= end {
        let _ = reader.read(&mut buf);
    }
    Streamed::Complete
}

/// The first byte of `Content-Range: bytes a-b/len`.
fn content_range_start(value: &str) -> Option<u32> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split_once('-')?.0.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::mpsc::Receiver;

    #[test]
    fn content_range_start_is_parsed() {
        assert_eq!(content_range_start("bytes 4096-8191/10240"), Some(4096));
        assert_eq!(content_range_start(" bytes 0-0/1"), Some(0));
        assert_eq!(content_range_start("bytes */10"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }

    /// A server that answers one connection with `response`, then closes.
    fn serve_once(response: Vec<u8>) -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/file", listener.local_addr().unwrap());
        let server = thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).unwrap();
                request.extend_from_slice(&buf[..n]);
            }
            socket.write_all(&response).unwrap();
            String::from_utf8_lossy(&request).into_owned()
        });
        (url, server)
    }

    fn collect(rx: &Receiver<HttpReport>) -> (Vec<(u32, Vec<u8>)>, HttpOutcome) {
        let mut data = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
                HttpReport::Data {
                    offset, data: d, ..
                } => data.push((offset, d)),
                HttpReport::Done { outcome, .. } => return (data, outcome),
            }
        }
    }

    fn worker() -> (HttpWorker, Receiver<HttpReport>) {
        let (tx, rx) = mpsc::channel();
        let w = HttpWorker::start("test", Duration::from_secs(10), move |r| tx.send(r).is_ok())
            .unwrap();
        (w, rx)
    }

    #[test]
    fn a_partial_response_is_streamed_at_its_offset() {
        let body: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut response = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\n\
             Content-Range: bytes 100-{}/20000\r\nConnection: close\r\n\r\n",
            body.len(),
            100 + body.len() - 1
        )
        .into_bytes();
        response.extend_from_slice(&body);
        let (url, server) = serve_once(response);
        let (mut w, rx) = worker();
        w.get(&url, 100, 10_099);
        let (pieces, outcome) = collect(&rx);
        assert_eq!(outcome, HttpOutcome::Complete);
        let request = server.join().unwrap();
        assert!(request.contains("bytes=100-10099"), "{request}");
        let mut expected = 100;
        let mut all = Vec::new();
        for (offset, d) in pieces {
            assert_eq!(offset, expected);
            assert!(d.len() <= CHUNK);
            expected += d.len() as u32;
            all.extend(d);
        }
        assert_eq!(all, body);
    }

    #[test]
    fn a_whole_file_answer_is_cut_to_the_range() {
        let body: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        let (url, _server) = serve_once(response);
        let (mut w, rx) = worker();
        w.get(&url, 50, 59);
        let (pieces, outcome) = collect(&rx);
        assert_eq!(outcome, HttpOutcome::Complete);
        assert_eq!(pieces, vec![(50, body[50..60].to_vec())]);
    }

    #[test]
    fn errors_report_their_status_and_transport_errors_zero() {
        let (url, _server) = serve_once(
            b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        );
        let (mut w, rx) = worker();
        w.get(&url, 0, 9);
        assert_eq!(collect(&rx), (vec![], HttpOutcome::Failed { status: 403 }));
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/x", l.local_addr().unwrap())
        };
        w.get(&closed, 0, 9);
        assert_eq!(collect(&rx), (vec![], HttpOutcome::Failed { status: 0 }));
    }

    #[test]
    fn a_truncated_body_is_a_transport_failure() {
        let mut response =
            b"HTTP/1.1 206 Partial Content\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
                .to_vec();
        response.extend_from_slice(&[7u8; 40]);
        let (url, _server) = serve_once(response);
        let (mut w, rx) = worker();
        w.get(&url, 0, 99);
        let (pieces, outcome) = collect(&rx);
        assert_eq!(outcome, HttpOutcome::Failed { status: 0 });
        assert_eq!(pieces.iter().map(|p| p.1.len()).sum::<usize>(), 40);
    }
}
