//! A model of the AWS IoT side for one device: Jobs (`$next/get`, updates,
//! notify-next, force-cancel), MQTT file delivery (GetStream with `o`, `b`,
//! `n`) and pre-signed HTTP URLs that expire. Deterministic and
//! synchronous; the world delivers its messages with latency and faults.

use serde_json::{json, Map, Value};

/// A message the service publishes to the device.
#[derive(Clone, Debug)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Vec<u8>,
}

/// A job execution's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not started.
    Queued,
    /// The device reported progress.
    InProgress,
    /// Done.
    Succeeded,
    /// Failed (statusDetails carry the reason).
    Failed,
    /// Rejected by the device.
    Rejected,
    /// Force-cancelled.
    Canceled,
}

impl Status {
    /// SUCCEEDED, FAILED, REJECTED or CANCELED.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Status::Queued | Status::InProgress)
    }

    fn name(self) -> &'static str {
        match self {
            Status::Queued => "QUEUED",
            Status::InProgress => "IN_PROGRESS",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Rejected => "REJECTED",
            Status::Canceled => "CANCELED",
        }
    }
}

/// The one job of a run.
#[derive(Clone, Debug)]
pub struct Execution {
    /// Job id.
    pub id: String,
    /// Status.
    pub status: Status,
    /// Status details as last reported.
    pub details: Map<String, Value>,
    /// When it became terminal (ms).
    pub terminal_at: Option<u64>,
    /// Every accepted update: (time, status, details).
    pub history: Vec<(u64, Status, Value)>,
    /// Statuses of updates refused because the job had already ended.
    pub rejected: Vec<String>,
}

/// The service.
pub struct Service {
    thing: String,
    stream: String,
    file: Vec<u8>,
    signature: String,
    http: bool,
    url_lifetime: u64,
    /// The job.
    pub job: Execution,
    /// Times each block was sent over MQTT.
    pub served: Vec<u32>,
    /// Bytes sent over HTTP.
    pub http_bytes: u64,
    /// HTTP requests refused because the URL had expired.
    pub expired_urls: u32,
}

impl Service {
    /// A service with one queued job offering `file`.
    pub fn new(
        thing: &str,
        file: Vec<u8>,
        signature: String,
        http: bool,
        block_size: u32,
        url_lifetime: u64,
    ) -> Self {
        let blocks = file.len().div_ceil(block_size as usize);
        Service {
            thing: thing.into(),
            stream: "AFR_OTA-sim-stream".into(),
            file,
            signature,
            http,
            url_lifetime,
            job: Execution {
                id: "AFR_OTA-sim-job".into(),
                status: Status::Queued,
                details: Map::new(),
                terminal_at: None,
                history: Vec::new(),
                rejected: Vec::new(),
            },
            served: vec![0; blocks],
            http_bytes: 0,
            expired_urls: 0,
        }
    }

    fn topic(&self, suffix: &str) -> String {
        format!("$aws/things/{}/{suffix}", self.thing)
    }

    fn execution(&self, now: u64) -> Option<Value> {
        if self.job.status.is_terminal() {
            return None;
        }
        let mut file = json!({
            "filepath": "/",
            "filesize": self.file.len(),
            "fileid": 0,
            "certfile": "cert",
            "sig-sha256-ecdsa": self.signature,
        });
        if self.http {
            file["update_data_url"] = json!(format!(
                "https://sim/fw.bin?exp={}",
                now + self.url_lifetime
            ));
            file["auth_scheme"] = json!("aws.s3.presigned");
        }
        let protocols = if self.http {
            json!(["HTTP"])
        } else {
            json!(["MQTT"])
        };
        let mut e = json!({
            "jobId": self.job.id,
            "status": self.job.status.name(),
            "jobDocument": {"afr_ota": {"protocols": protocols, "streamname": self.stream, "files": [file]}},
        });
        if !self.job.details.is_empty() {
            e["statusDetails"] = Value::Object(self.job.details.clone());
        }
        Some(e)
    }

    fn notify_next(&self, now: u64) -> Publish {
        let mut body = json!({"timestamp": now / 1000});
        if let Some(e) = self.execution(now) {
            body["execution"] = e;
        }
        Publish {
            topic: self.topic("jobs/notify-next"),
            payload: body.to_string().into_bytes(),
        }
    }

    /// A message from the device.
    pub fn handle(&mut self, now: u64, topic: &str, payload: &[u8]) -> Vec<Publish> {
        let Some(rest) = topic.strip_prefix(&format!("$aws/things/{}/", self.thing)) else {
            return vec![];
        };
        if rest == "jobs/$next/get" {
            let token = serde_json::from_slice::<Value>(payload)
                .ok()
                .and_then(|v| v.get("clientToken").cloned())
                .unwrap_or(Value::Null);
            let mut body = json!({"clientToken": token, "timestamp": now / 1000});
            if let Some(e) = self.execution(now) {
                body["execution"] = e;
            }
            return vec![Publish {
                topic: self.topic("jobs/$next/get/accepted"),
                payload: body.to_string().into_bytes(),
            }];
        }
        if rest == format!("jobs/{}/update", self.job.id) {
            return self.update(now, payload);
        }
        if rest == format!("streams/{}/get/cbor", self.stream) {
            return self.get_stream(payload);
        }
        vec![]
    }

    fn update(&mut self, now: u64, payload: &[u8]) -> Vec<Publish> {
        let Ok(v) = serde_json::from_slice::<Value>(payload) else {
            return vec![];
        };
        if self.job.status.is_terminal() {
            let status = v.get("status").and_then(Value::as_str).unwrap_or_default();
            self.job.rejected.push(status.to_string());
            return vec![];
        }
        let status = match v.get("status").and_then(Value::as_str) {
            Some("IN_PROGRESS") => Status::InProgress,
            Some("SUCCEEDED") => Status::Succeeded,
            Some("FAILED") => Status::Failed,
            Some("REJECTED") => Status::Rejected,
            _ => return vec![],
        };
        let details = v.get("statusDetails").cloned().unwrap_or(json!({}));
        if let Value::Object(map) = &details {
            self.job.details = map.clone();
        }
        self.job.status = status;
        self.job.history.push((now, status, details));
        if status.is_terminal() {
            self.job.terminal_at = Some(now);
            // The next execution changed (to none).
            return vec![self.notify_next(now)];
        }
        vec![]
    }

    /// Force-cancel the job; notify-next if it was pending.
    pub fn cancel(&mut self, now: u64) -> Vec<Publish> {
        if self.job.status.is_terminal() {
            return vec![];
        }
        self.job.status = Status::Canceled;
        self.job.terminal_at = Some(now);
        self.job.history.push((now, Status::Canceled, json!({})));
        vec![self.notify_next(now)]
    }

    fn get_stream(&mut self, payload: &[u8]) -> Vec<Publish> {
        let Some((f, l, o, bitmap, n)) = decode_request(payload) else {
            return vec![];
        };
        if f != 0 || !(256..=131_072).contains(&l) {
            return vec![];
        }
        let bs = l as usize;
        let total = self.file.len().div_ceil(bs) as u32;
        let max = (n.max(1)).min(131_072 / l);
        let mut wanted = Vec::new();
        for (k, byte) in bitmap.iter().enumerate() {
            for bit in 0..8 {
                let i = o as u64 + (k * 8 + bit) as u64;
                if byte & (1 << bit) != 0 && i < total as u64 && (wanted.len() as u32) < max {
                    wanted.push(i as u32);
                }
            }
        }
        let topic = self.topic(&format!("streams/{}/data/cbor", self.stream));
        wanted
            .into_iter()
            .map(|i| {
                let s = i as usize * bs;
                let p = &self.file[s..(s + bs).min(self.file.len())];
                if let Some(c) = self.served.get_mut(i as usize) {
                    *c += 1;
                }
                Publish {
                    topic: topic.clone(),
                    payload: encode_block(i, p),
                }
            })
            .collect()
    }

    /// An HTTP range request: the status and the body.
    pub fn http_get(&mut self, now: u64, url: &str, first: u32, last: u32) -> (u16, Vec<u8>) {
        let expiry = url
            .split_once("exp=")
            .and_then(|(_, e)| e.parse::<u64>().ok());
        match expiry {
            None => return (404, vec![]),
            Some(e) if now > e => {
                self.expired_urls += 1;
                return (403, vec![]);
            }
            _ => {}
        }
        let len = self.file.len() as u32;
        if first >= len || last < first {
            return (416, vec![]);
        }
        let body = self.file[first as usize..=(last.min(len - 1)) as usize].to_vec();
        self.http_bytes += body.len() as u64;
        (206, body)
    }
}

fn decode_request(payload: &[u8]) -> Option<(u32, u32, u32, Vec<u8>, u32)> {
    let mut d = minicbor::Decoder::new(payload);
    let pairs = d.map().ok()??;
    let (mut f, mut l, mut o, mut b, mut n) = (None, None, 0, None, 0);
    for _ in 0..pairs {
        match d.str().ok()? {
            "f" => f = Some(d.u32().ok()?),
            "l" => l = Some(d.u32().ok()?),
            "o" => o = d.u32().ok()?,
            "b" => b = Some(d.bytes().ok()?.to_vec()),
            "n" => n = d.u32().ok()?,
            _ => d.skip().ok()?,
        }
    }
    Some((f?, l?, o, b?, n))
}

fn encode_block(i: u32, p: &[u8]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = e
        .map(5)
        .and_then(|e| e.str("c")?.str("rdy"))
        .and_then(|e| e.str("f")?.u32(0))
        .and_then(|e| e.str("l")?.u32(p.len() as u32))
        .and_then(|e| e.str("i")?.u32(i))
        .and_then(|e| e.str("p")?.bytes(p));
    e.into_writer()
}
