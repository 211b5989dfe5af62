//! `otactl serve` as a separate process, and a client of its admin API
//! (the table is in the module documentation of `otactl::service`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

/// How long `otactl serve` may take to connect and print its ports.
const STARTUP: Duration = Duration::from_secs(20);

/// A running `otactl serve`; dropping it kills the process.
pub struct OtactlServe {
    child: Child,
    admin: String,
    http: ureq::Agent,
}

impl OtactlServe {
    /// Runs `otactl serve` for the broker on 127.0.0.1:`broker_port`, with
    /// the file server and the admin endpoint on free ports, and waits until
    /// it says where its admin API listens (it says so after connecting).
    pub fn start(otactl: &Path, broker_port: u16) -> anyhow::Result<Self> {
        let mut child = Command::new(otactl)
            .args(["serve", "--broker", &format!("127.0.0.1:{broker_port}")])
            .args(["--admin-port", "0", "--http-port", "0"])
            .args(["--client-id", "ota-bench-service"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("running {} serve", otactl.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, lines) = mpsc::channel();
        // Reads until the process ends, so that its output never blocks it.
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let admin = loop {
            match lines.recv_timeout(STARTUP) {
                Ok(line) => {
                    if let Some(url) = line.split("admin API on ").nth(1) {
                        break url.trim().to_owned();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!(
                        "otactl serve did not report its admin API within {STARTUP:?}; it printed: {seen:?}"
                    );
                }
            }
        };
        let http = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok(OtactlServe { child, admin, http })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Creates stream `stream` with the file at `path` as file 0 and returns
    /// that file's (unsigned) URL, for HTTP job documents.
    pub fn create_stream(&self, stream: &str, path: &Path) -> anyhow::Result<String> {
        let body = json!({
            "stream_id": stream,
            "files": [{ "file_id": 0, "path": path.display().to_string() }],
        });
        let answer = self.request("POST", "/streams", Some(&body))?;
        answer
            .pointer("/urls/0")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("no URL for file 0 in {answer}"))
    }

    /// Creates job `job` with `document` for every thing in `things`.
    pub fn create_job(&self, job: &str, things: &[String], document: Value) -> anyhow::Result<()> {
        let body = json!({ "job_id": job, "things": things, "document": document });
        self.request("POST", "/jobs", Some(&body)).map(drop)
    }

    /// Every execution.
    pub fn executions(&self) -> anyhow::Result<Vec<Value>> {
        match self.request("GET", "/executions", None)? {
            Value::Array(executions) => Ok(executions),
            other => bail!("GET /executions answered {other}"),
        }
    }

    /// The service's counters.
    pub fn stats(&self) -> anyhow::Result<Value> {
        self.request("GET", "/stats", None)
    }

    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.admin);
        let response = match (method, body) {
            ("POST", Some(body)) => self
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            _ => self.http.get(&url).call(),
        };
        let mut response = response.with_context(|| format!("{method} {url}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .with_context(|| format!("reading the answer to {method} {url}"))?;
        if !(200..300).contains(&status) {
            bail!("{method} {url} answered {status}: {text}");
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {url}: not JSON: {text}"))
    }
}

impl Drop for OtactlServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
