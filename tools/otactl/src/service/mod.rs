//! `otactl serve`: a local OTA service that behaves like AWS IoT for devices.
//!
//! It connects to an MQTT broker as a client and answers, for every thing:
//! - AWS IoT Jobs: `$aws/things/{thing}/jobs/{jobId|$next}/get` and
//!   `.../jobs/{jobId}/update`, with notify-next (`jobs.rs`);
//! - MQTT-based file delivery: CBOR GetStream on
//!   `$aws/things/{thing}/streams/{streamId}/get/cbor` (`streams.rs`,
//!   `cbor.rs`);
//!
//! and serves stream files over HTTP at expiring pre-signed URLs with
//! `Range` support (`http.rs`). Tests, the demo and load tests drive it
//! through [`ServiceApi`] in-process, or through the admin endpoint from
//! another process. Faults can be injected into what it publishes
//! ([`FaultConfig`]). [`EmbeddedBroker`] is a small MQTT broker for when no
//! mosquitto is at hand.
//!
//! Devices must subscribe to the reply topics (`.../get/accepted`, ...):
//! unlike AWS IoT, a plain broker does not deliver replies to the requester
//! without a subscription.
//!
//! # Admin endpoint
//!
//! JSON on `http://127.0.0.1:{admin_port}`:
//!
//! | Request | Body | Answer |
//! |---------|------|--------|
//! | `POST /streams` | `{"stream_id":"S","files":[{"file_id":0,"path":"/fw.bin"}]}` | 201, the stream and each file's URL for `update_data_url` |
//! | `POST /jobs` | `{"job_id":"J","things":["t1"],"document":{...}}` | 201 |
//! | `GET /executions` | | every execution |
//! | `GET /things/{thing}/jobs/{job}` | | one execution, with its history |
//! | `POST /things/{thing}/jobs/{job}/cancel` | `{"force":false}` | 200, the execution |
//! | `GET /stats` | | the counters ([`Stats`]) |
//!
//! Errors are `{"error":"..."}` with 400, 404, 405 or 409.

mod admin;
mod args;
pub mod broker;
mod cbor;
mod error;
mod faults;
mod http;
mod httpd;
mod jobs;
mod message;
mod mqtt;
mod outbox;
mod stats;
mod streams;
mod topics;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use serde_json::Value;

pub use args::{run_serve, ServeArgs};
pub use broker::EmbeddedBroker;
pub use cbor::StreamErrorCode;
pub use error::ServiceError;
pub use faults::{FaultAction, FaultConfig, FaultRule, FaultTarget, REORDER_HOLD};
pub use jobs::{Execution, HistoryEntry, JobStatus, Origin, RejectedUpdate};
pub use stats::{BlockCounts, Stats};
pub use streams::{StreamInfo, MAX_DATA_PER_REQUEST};

use http::{FileServerContext, UrlSigner};
use httpd::HttpServer;
use jobs::JobStore;
use mqtt::MqttLink;
use outbox::Outbox;
use streams::StreamStore;

/// Milliseconds since the Unix epoch.
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Locks a mutex, ignoring poisoning: every critical section leaves its data
/// consistent, and the service must keep running.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// How to start a [`Service`].
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// The MQTT broker's host.
    pub broker_host: String,
    /// The MQTT broker's port.
    pub broker_port: u16,
    /// The service's MQTT client id.
    pub client_id: String,
    /// Port of the file server on 127.0.0.1 (0: any free port).
    pub http_port: u16,
    /// Port of the admin endpoint on 127.0.0.1 (0: any free port; `None`:
    /// no admin endpoint).
    pub admin_port: Option<u16>,
    /// How long a pre-signed URL in a delivered job document stays valid.
    pub url_lifetime: Duration,
    /// Faults to inject from the start.
    pub faults: FaultConfig,
    /// How long [`Service::start`] waits for the broker.
    pub connect_timeout: Duration,
}

impl ServiceConfig {
    /// Defaults for a broker at `host:port`: a unique client id, any free
    /// HTTP port, no admin endpoint, one-hour URLs, no faults.
    pub fn new(broker_host: &str, broker_port: u16) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ServiceConfig {
            broker_host: broker_host.to_owned(),
            broker_port,
            client_id: format!("otactl-service-{}-{n}", std::process::id()),
            http_port: 0,
            admin_port: None,
            url_lifetime: Duration::from_secs(3600),
            faults: FaultConfig::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The local OTA service.
pub struct Service;

impl Service {
    /// Starts the file server, connects to the broker and subscribes to the
    /// request topics, and starts the admin endpoint if configured. Returns
    /// once devices can be served.
    pub fn start(config: ServiceConfig) -> anyhow::Result<ServiceHandle> {
        let mut files = HttpServer::bind(config.http_port, "ota-service-http")?;
        let signer = Arc::new(UrlSigner::new(files.port(), config.url_lifetime));
        let stats = Arc::new(Mutex::new(Stats::default()));
        let streams = Arc::new(RwLock::new(StreamStore::default()));
        let context = FileServerContext {
            signer: Arc::clone(&signer),
            streams: Arc::clone(&streams),
            stats: Arc::clone(&stats),
        };
        files.serve(4, move |request| http::serve_file(&context, request))?;

        let (incoming_tx, incoming_rx) = mpsc::channel::<mqtt::Incoming>();
        let link = MqttLink::start(
            &config.broker_host,
            config.broker_port,
            &config.client_id,
            incoming_tx,
            config.connect_timeout,
        )?;
        let render = {
            let signer = Arc::clone(&signer);
            Box::new(move |document: &Value| signer.render_document(document))
        };
        let api = ServiceApi {
            inner: Arc::new(Inner {
                jobs: Mutex::new(JobStore::new(render)),
                jobs_changed: Condvar::new(),
                streams,
                stats: Arc::clone(&stats),
                outbox: Outbox::new(link.client(), config.faults.clone(), stats),
                signer,
            }),
        };
        let handler = {
            let api = api.clone();
            thread::Builder::new()
                .name("ota-service".into())
                .spawn(move || {
                    for (topic, payload) in incoming_rx {
                        let handled =
                            catch_unwind(AssertUnwindSafe(|| api.handle_message(&topic, &payload)));
                        if handled.is_err() {
                            log::error!("bug: handling a message on {topic} panicked");
                        }
                    }
                })
                .context("spawning the service thread")?
        };
        let admin = match config.admin_port {
            None => None,
            Some(port) => {
                let mut admin = HttpServer::bind(port, "ota-service-admin")?;
                let api = api.clone();
                admin.serve(2, move |request| admin::handle(&api, request))?;
                Some(admin)
            }
        };
        Ok(ServiceHandle {
            api,
            link,
            handler: Some(handler),
            files,
            admin,
        })
    }
}

struct Inner {
    jobs: Mutex<JobStore>,
    jobs_changed: Condvar,
    streams: Arc<RwLock<StreamStore>>,
    stats: Arc<Mutex<Stats>>,
    outbox: Outbox,
    signer: Arc<UrlSigner>,
}

/// Operations on a running service: create streams and jobs, cancel, query
/// executions and statistics, change faults. Cheap to clone.
#[derive(Clone)]
pub struct ServiceApi {
    inner: Arc<Inner>,
}

impl ServiceApi {
    /// Creates stream `stream_id` with files (file id → bytes), or replaces
    /// its files and bumps its version.
    pub fn create_stream(
        &self,
        stream_id: &str,
        files: impl IntoIterator<Item = (u8, Vec<u8>)>,
    ) -> Result<StreamInfo, ServiceError> {
        let files: BTreeMap<u8, Vec<u8>> = files.into_iter().collect();
        self.inner
            .streams
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .create(stream_id, files)
    }

    /// A stream's version and file sizes.
    pub fn stream(&self, stream_id: &str) -> Option<StreamInfo> {
        self.inner
            .streams
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .info(stream_id)
    }

    /// Creates job `job_id` with `document` (the `jobDocument` object) and
    /// queues it on every thing; things whose next job changes get
    /// notify-next. Files with `auth_scheme: "aws.s3.presigned"` and an
    /// `update_data_url` from [`ServiceApi::file_url`] get a fresh pre-signed
    /// URL in every delivered copy of the document.
    pub fn create_job(
        &self,
        things: &[&str],
        job_id: &str,
        document: Value,
    ) -> Result<(), ServiceError> {
        let things: Vec<String> = things.iter().map(|t| (*t).to_owned()).collect();
        self.mutate_jobs(|jobs| jobs.create_job(&things, job_id, document))
    }

    /// CancelJobExecution: QUEUED → CANCELED; IN_PROGRESS → CANCELED only
    /// with `force`. notify-next fires if the thing's next job changes.
    pub fn cancel_job(&self, thing: &str, job_id: &str, force: bool) -> Result<(), ServiceError> {
        self.mutate_jobs(|jobs| jobs.cancel(thing, job_id, force))
    }

    /// Removes a pending execution from its thing (status REMOVED).
    pub fn remove_execution(&self, thing: &str, job_id: &str) -> Result<(), ServiceError> {
        self.mutate_jobs(|jobs| jobs.remove(thing, job_id))
    }

    /// One execution: status, status details, history.
    pub fn execution(&self, thing: &str, job_id: &str) -> Option<Execution> {
        lock(&self.inner.jobs).execution(thing, job_id)
    }

    /// Every execution, by thing then creation order.
    pub fn executions(&self) -> Vec<Execution> {
        lock(&self.inner.jobs).executions()
    }

    /// Waits until the execution satisfies `done`; fails after `timeout`
    /// with its last state.
    pub fn wait_for_execution(
        &self,
        thing: &str,
        job_id: &str,
        timeout: Duration,
        done: impl Fn(&Execution) -> bool,
    ) -> anyhow::Result<Execution> {
        let deadline = Instant::now() + timeout;
        let mut jobs = lock(&self.inner.jobs);
        loop {
            let execution = jobs.execution(thing, job_id);
            if let Some(execution) = execution.as_ref().filter(|e| done(e)) {
                return Ok(execution.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                match execution {
                    Some(e) => bail!(
                        "execution of {job_id} on {thing} still {} {:?} after {timeout:?}",
                        e.status,
                        e.status_details
                    ),
                    None => bail!("no execution of {job_id} on {thing} after {timeout:?}"),
                }
            }
            jobs = self
                .inner
                .jobs_changed
                .wait_timeout(jobs, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until the execution reaches a terminal status.
    pub fn wait_for_terminal(
        &self,
        thing: &str,
        job_id: &str,
        timeout: Duration,
    ) -> anyhow::Result<Execution> {
        self.wait_for_execution(thing, job_id, timeout, |e| e.status.is_terminal())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        lock(&self.inner.stats).clone()
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.inner.outbox.set_faults(faults);
    }

    /// The unsigned URL of a stream file on the file server: put it in a
    /// job document's `update_data_url` (with `auth_scheme:
    /// "aws.s3.presigned"`) and devices get it pre-signed.
    pub fn file_url(&self, stream_id: &str, file_id: u8) -> String {
        self.inner.signer.file_url(stream_id, file_id)
    }

    /// A pre-signed URL of a stream file that expires at `expires`.
    pub fn presigned_url(&self, stream_id: &str, file_id: u8, expires: SystemTime) -> String {
        let secs = expires
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.inner.signer.presign(stream_id, file_id, secs)
    }

    fn mutate_jobs(
        &self,
        change: impl FnOnce(&mut JobStore) -> Result<Vec<message::Outgoing>, ServiceError>,
    ) -> Result<(), ServiceError> {
        let mut jobs = lock(&self.inner.jobs);
        let out = change(&mut jobs)?;
        // Published under the lock, so that messages leave in store order.
        self.inner.outbox.send_all(out);
        drop(jobs);
        self.inner.jobs_changed.notify_all();
        Ok(())
    }

    /// Answers one device request.
    fn handle_message(&self, topic: &str, payload: &[u8]) {
        match topics::parse(topic) {
            Some(topics::Request::JobGet { thing, job_id }) => {
                lock(&self.inner.stats).job_requests += 1;
                let mut jobs = lock(&self.inner.jobs);
                let out = jobs.handle_get(thing, job_id, payload);
                self.inner.outbox.send_all(out);
            }
            Some(topics::Request::JobUpdate { thing, job_id }) => {
                lock(&self.inner.stats).job_requests += 1;
                let mut jobs = lock(&self.inner.jobs);
                let out = jobs.handle_update(thing, job_id, payload);
                self.inner.outbox.send_all(out);
                drop(jobs);
                self.inner.jobs_changed.notify_all();
            }
            Some(topics::Request::StreamGet { thing, stream_id }) => {
                lock(&self.inner.stats).stream_requests += 1;
                let out = self
                    .inner
                    .streams
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .handle_get(thing, stream_id, payload);
                self.inner.outbox.send_all(out);
            }
            None => log::debug!("ignoring a message on {topic}"),
        }
    }
}

/// A running service. Operations are on [`ServiceApi`], reached through
/// `Deref` or [`ServiceHandle::api`]. Dropping it stops the service.
pub struct ServiceHandle {
    api: ServiceApi,
    link: MqttLink,
    handler: Option<JoinHandle<()>>,
    files: HttpServer,
    admin: Option<HttpServer>,
}

impl ServiceHandle {
    /// The operations, as a cloneable handle (e.g. for other threads).
    pub fn api(&self) -> &ServiceApi {
        &self.api
    }

    /// The file server's port on 127.0.0.1.
    pub fn http_port(&self) -> u16 {
        self.files.port()
    }

    /// The admin endpoint's port on 127.0.0.1, if it runs.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin.as_ref().map(HttpServer::port)
    }

    /// Stops the service: disconnects from the broker and stops every thread.
    pub fn shutdown(self) {}

    fn stop(&mut self) {
        self.link.shutdown();
        if let Some(handler) = self.handler.take() {
            let _ = handler.join();
        }
        self.api.inner.outbox.shutdown();
        self.files.shutdown();
        if let Some(admin) = &mut self.admin {
            admin.shutdown();
        }
    }
}

impl Deref for ServiceHandle {
    type Target = ServiceApi;

    fn deref(&self) -> &ServiceApi {
        &self.api
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
