//! AWS IoT Jobs for many things: job executions, their state machine, and
//! the device-facing MQTT API (DescribeJobExecution, UpdateJobExecution and
//! NextJobExecutionChanged, PROTOCOL.md §2.3).
//!
//! [`JobStore`] is pure logic: every operation returns the messages to
//! publish, and the caller publishes them while it still holds the store, so
//! replies and notifications leave in the order the store changed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rumqttc::QoS;
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{validate_name, ServiceError};
use super::message::{MessageKind, Outgoing};
use super::topics;
use super::unix_millis;

/// The longest job id AWS IoT accepts.
const MAX_JOB_ID: usize = 64;
/// The longest thing name AWS IoT accepts.
const MAX_THING_NAME: usize = 128;
/// The longest client token AWS IoT accepts, in bytes.
const MAX_CLIENT_TOKEN: usize = 64;

/// A job execution's status, as AWS IoT Jobs names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Created, not started by the device.
    Queued,
    /// Started by the device.
    InProgress,
    /// The device reported success (terminal).
    Succeeded,
    /// The device reported failure (terminal).
    Failed,
    /// The device rejected the job (terminal).
    Rejected,
    /// Cancelled by the operator (terminal).
    Canceled,
    /// Removed from the thing by the operator (terminal).
    Removed,
}

impl JobStatus {
    /// The AWS name, e.g. `IN_PROGRESS`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "QUEUED",
            JobStatus::InProgress => "IN_PROGRESS",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Rejected => "REJECTED",
            JobStatus::Canceled => "CANCELED",
            JobStatus::Removed => "REMOVED",
        }
    }

    /// Whether no further update is accepted.
    pub fn is_terminal(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::InProgress)
    }

    /// The statuses a device may report in UpdateJobExecution.
    fn from_device(s: &str) -> Option<Self> {
        match s {
            "IN_PROGRESS" => Some(JobStatus::InProgress),
            "SUCCEEDED" => Some(JobStatus::Succeeded),
            "FAILED" => Some(JobStatus::Failed),
            "REJECTED" => Some(JobStatus::Rejected),
            _ => None,
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who changed an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The operator (admin API): creation, cancellation, removal.
    Service,
    /// The device (an accepted UpdateJobExecution).
    Device,
}

/// One accepted change of an execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// The status after the change.
    pub status: JobStatus,
    /// The status details after the change.
    pub status_details: BTreeMap<String, String>,
    /// The execution's version number after the change.
    pub version_number: u64,
    /// When (Unix milliseconds).
    pub at_millis: u64,
    /// Who made the change.
    pub origin: Origin,
}

/// An UpdateJobExecution the service rejected for an existing execution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectedUpdate {
    /// The error code sent back (`InvalidStateTransition`, ...).
    pub code: String,
    /// The request payload (lossy UTF-8).
    pub request: String,
    /// When (Unix milliseconds).
    pub at_millis: u64,
}

/// A job execution: one job on one thing, with everything that happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// The thing.
    pub thing_name: String,
    /// The job.
    pub job_id: String,
    /// The current status.
    pub status: JobStatus,
    /// The current status details (replaced by every update that has them).
    pub status_details: BTreeMap<String, String>,
    /// When it was queued (Unix seconds).
    pub queued_at: u64,
    /// When it first went IN_PROGRESS (Unix seconds).
    pub started_at: Option<u64>,
    /// When it last changed (Unix seconds).
    pub last_updated_at: u64,
    /// 1 at creation, bumped by every change.
    pub version_number: u64,
    /// Always 1: jobs here are not re-run.
    pub execution_number: u64,
    /// Every accepted change, creation first.
    pub history: Vec<HistoryEntry>,
    /// Every rejected device update.
    pub rejected_updates: Vec<RejectedUpdate>,
}

impl Execution {
    fn record(&mut self, origin: Origin) {
        let now = unix_millis();
        self.last_updated_at = now / 1000;
        self.history.push(HistoryEntry {
            status: self.status,
            status_details: self.status_details.clone(),
            version_number: self.version_number,
            at_millis: now,
            origin,
        });
    }
}

/// Turns a stored job document into the one a device receives (fills in
/// fresh pre-signed URLs).
pub(crate) type DocumentRenderer = Box<dyn Fn(&Value) -> Value + Send>;

/// An error reply of the Jobs API.
struct JobsError {
    code: &'static str,
    message: String,
    client_token: Option<String>,
    /// The JobExecutionState, for the codes where AWS includes it.
    execution_state: Option<Box<Value>>,
}

impl JobsError {
    fn new(code: &'static str, message: impl Into<String>, client_token: Option<String>) -> Self {
        JobsError {
            code,
            message: message.into(),
            client_token,
            execution_state: None,
        }
    }

    fn with_state(mut self, execution: &Execution) -> Self {
        self.execution_state = Some(Box::new(state_json(execution)));
        self
    }
}

/// A parsed Jobs request body.
struct JobsRequest {
    client_token: Option<String>,
    body: Map<String, Value>,
}

impl JobsRequest {
    /// Parses a request payload: empty means `{}`; anything else must be a
    /// JSON object with an optional string `clientToken` of at most 64 bytes.
    fn parse(payload: &[u8]) -> Result<Self, JobsError> {
        let value = if payload.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(payload).map_err(|e| {
                JobsError::new(
                    "InvalidJson",
                    format!("the request is not valid JSON: {e}"),
                    None,
                )
            })?
        };
        let Value::Object(body) = value else {
            return Err(JobsError::new(
                "InvalidRequest",
                "the request must be a JSON object",
                None,
            ));
        };
        let client_token = match body.get("clientToken") {
            None => None,
            Some(Value::String(t)) if t.len() <= MAX_CLIENT_TOKEN => Some(t.clone()),
            Some(_) => {
                return Err(JobsError::new(
                    "InvalidRequest",
                    "clientToken must be a string of at most 64 bytes",
                    None,
                ))
            }
        };
        Ok(JobsRequest { client_token, body })
    }

    fn error(&self, code: &'static str, message: impl Into<String>) -> JobsError {
        JobsError::new(code, message, self.client_token.clone())
    }

    /// An optional boolean field.
    fn flag(&self, key: &str, default: bool) -> Result<bool, JobsError> {
        match self.body.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.error("InvalidRequest", format!("{key} must be a boolean"))),
        }
    }
}

/// Every job and every execution, per thing in creation order.
pub(crate) struct JobStore {
    documents: HashMap<String, Value>,
    things: HashMap<String, Vec<Execution>>,
    render: DocumentRenderer,
}

impl JobStore {
    /// An empty store; `render` prepares documents for delivery.
    pub fn new(render: DocumentRenderer) -> Self {
        JobStore {
            documents: HashMap::new(),
            things: HashMap::new(),
            render,
        }
    }

    /// Creates job `job_id` with `document` and queues an execution on every
    /// thing. A thing whose next execution changes gets notify-next.
    pub fn create_job(
        &mut self,
        things: &[String],
        job_id: &str,
        document: Value,
    ) -> Result<Vec<Outgoing>, ServiceError> {
        validate_name("job id", job_id, MAX_JOB_ID, "")?;
        for thing in things {
            validate_name("thing name", thing, MAX_THING_NAME, ":")?;
        }
        if things.is_empty() {
            return Err(ServiceError::Invalid(
                "a job needs at least one thing".into(),
            ));
        }
        if !document.is_object() {
            return Err(ServiceError::Invalid(
                "the job document must be a JSON object".into(),
            ));
        }
        if self.documents.contains_key(job_id) {
            return Err(ServiceError::Conflict(format!(
                "job {job_id} already exists"
            )));
        }
        self.documents.insert(job_id.to_owned(), document);
        let now = unix_millis() / 1000;
        let mut out = Vec::new();
        let mut distinct: Vec<&String> = things.iter().collect();
        distinct.sort();
        distinct.dedup();
        for thing in distinct {
            let before = self.next_job_id(thing);
            let mut execution = Execution {
                thing_name: thing.clone(),
                job_id: job_id.to_owned(),
                status: JobStatus::Queued,
                status_details: BTreeMap::new(),
                queued_at: now,
                started_at: None,
                last_updated_at: now,
                version_number: 1,
                execution_number: 1,
                history: Vec::new(),
                rejected_updates: Vec::new(),
            };
            execution.record(Origin::Service);
            self.things
                .entry(thing.clone())
                .or_default()
                .push(execution);
            self.notify_if_next_changed(thing, before, &mut out);
        }
        Ok(out)
    }

    /// CancelJobExecution: a QUEUED execution becomes CANCELED; an
    /// IN_PROGRESS one only with `force`.
    pub fn cancel(
        &mut self,
        thing: &str,
        job_id: &str,
        force: bool,
    ) -> Result<Vec<Outgoing>, ServiceError> {
        self.end_by_operator(thing, job_id, JobStatus::Canceled, |status| match status {
            JobStatus::Queued => Ok(()),
            JobStatus::InProgress if force => Ok(()),
            JobStatus::InProgress => Err(format!(
                "the execution of {job_id} on {thing} is IN_PROGRESS: cancelling it needs force"
            )),
            terminal => Err(format!(
                "the execution of {job_id} on {thing} is already {terminal}"
            )),
        })
    }

    /// Removes a pending execution from its thing (status REMOVED).
    pub fn remove(&mut self, thing: &str, job_id: &str) -> Result<Vec<Outgoing>, ServiceError> {
        self.end_by_operator(thing, job_id, JobStatus::Removed, |status| {
            if status.is_terminal() {
                Err(format!(
                    "the execution of {job_id} on {thing} is already {status}"
                ))
            } else {
                Ok(())
            }
        })
    }

    fn end_by_operator(
        &mut self,
        thing: &str,
        job_id: &str,
        new_status: JobStatus,
        allowed: impl FnOnce(JobStatus) -> Result<(), String>,
    ) -> Result<Vec<Outgoing>, ServiceError> {
        let before = self.next_job_id(thing);
        let execution = self.find_mut(thing, job_id).ok_or_else(|| {
            ServiceError::NotFound(format!("no execution of job {job_id} on {thing}"))
        })?;
        allowed(execution.status).map_err(ServiceError::Conflict)?;
        execution.status = new_status;
        execution.version_number += 1;
        execution.record(Origin::Service);
        let mut out = Vec::new();
        self.notify_if_next_changed(thing, before, &mut out);
        Ok(out)
    }

    /// One execution.
    pub fn execution(&self, thing: &str, job_id: &str) -> Option<Execution> {
        self.things
            .get(thing)?
            .iter()
            .find(|e| e.job_id == job_id)
            .cloned()
    }

    /// Every execution, by thing name then creation order.
    pub fn executions(&self) -> Vec<Execution> {
        let mut names: Vec<&String> = self.things.keys().collect();
        names.sort();
        names
            .into_iter()
            .flat_map(|t| self.things[t].iter().cloned())
            .collect()
    }

    /// DescribeJobExecution on `jobs/{job_id}/get` (`job_id` may be `$next`).
    pub fn handle_get(&mut self, thing: &str, job_id: &str, payload: &[u8]) -> Vec<Outgoing> {
        match self.describe(thing, job_id, payload) {
            Ok(body) => vec![reply(thing, job_id, "get", true, body)],
            Err(e) => vec![reply(thing, job_id, "get", false, error_body(&e))],
        }
    }

    fn describe(
        &self,
        thing: &str,
        job_id: &str,
        payload: &[u8],
    ) -> Result<Map<String, Value>, JobsError> {
        let request = JobsRequest::parse(payload)?;
        let include_document = request.flag("includeJobDocument", true)?;
        let execution = if job_id == "$next" {
            self.next(thing)
        } else {
            let found = self
                .things
                .get(thing)
                .and_then(|l| l.iter().find(|e| e.job_id == job_id));
            Some(found.ok_or_else(|| {
                request.error(
                    "ResourceNotFound",
                    format!("no execution of job {job_id} on {thing}"),
                )
            })?)
        };
        let mut body = header(request.client_token.as_deref());
        if let Some(execution) = execution {
            body.insert(
                "execution".into(),
                self.execution_json(execution, include_document),
            );
        }
        Ok(body)
    }

    /// UpdateJobExecution on `jobs/{job_id}/update`.
    pub fn handle_update(&mut self, thing: &str, job_id: &str, payload: &[u8]) -> Vec<Outgoing> {
        let before = self.next_job_id(thing);
        let mut out = match self.update(thing, job_id, payload) {
            Ok(body) => vec![reply(thing, job_id, "update", true, body)],
            Err(e) => {
                if let Some(execution) = self.find_mut(thing, job_id) {
                    execution.rejected_updates.push(RejectedUpdate {
                        code: e.code.to_owned(),
                        request: String::from_utf8_lossy(payload).into_owned(),
                        at_millis: unix_millis(),
                    });
                }
                vec![reply(thing, job_id, "update", false, error_body(&e))]
            }
        };
        self.notify_if_next_changed(thing, before, &mut out);
        out
    }

    /// Applies an update.
    fn update(
        &mut self,
        thing: &str,
        job_id: &str,
        payload: &[u8],
    ) -> Result<Map<String, Value>, JobsError> {
        let request = JobsRequest::parse(payload)?;
        let invalid = |m: &str| request.error("InvalidRequest", m);
        if job_id == "$next" {
            return Err(request.error("InvalidTopic", "$next cannot be updated"));
        }
        let status = match request.body.get("status") {
            Some(Value::String(s)) => JobStatus::from_device(s),
            _ => None,
        }
        .ok_or_else(|| invalid("status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED"))?;
        let details = match request.body.get("statusDetails") {
            None => None,
            Some(Value::Object(map)) => Some(
                map.iter()
                    .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect::<Option<BTreeMap<_, _>>>()
                    .ok_or_else(|| invalid("statusDetails values must be strings"))?,
            ),
            Some(_) => return Err(invalid("statusDetails must be an object")),
        };
        let expected_version = match request.body.get("expectedVersion") {
            None => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or_else(|| invalid("expectedVersion must be a number"))?,
            ),
        };
        let include_state = request.flag("includeJobExecutionState", false)?;
        let include_document = request.flag("includeJobDocument", false)?;

        let Some(execution) = self.find_mut(thing, job_id) else {
            return Err(request.error(
                "ResourceNotFound",
                format!("no execution of job {job_id} on {thing}"),
            ));
        };
        if let Some(expected) = expected_version.filter(|v| *v != execution.version_number) {
            let message = format!(
                "expected version {expected}, the execution is at {}",
                execution.version_number
            );
            return Err(request
                .error("VersionMismatch", message)
                .with_state(execution));
        }
        if execution.status.is_terminal() {
            let message = format!(
                "the execution is {}: no update is accepted",
                execution.status
            );
            return Err(request
                .error("InvalidStateTransition", message)
                .with_state(execution));
        }
        execution.status = status;
        if let Some(details) = details {
            execution.status_details = details;
        }
        execution.version_number += 1;
        execution.record(Origin::Device);
        if status == JobStatus::InProgress && execution.started_at.is_none() {
            execution.started_at = Some(execution.last_updated_at);
        }
        let state = state_json(execution);
        let mut body = header(request.client_token.as_deref());
        if include_state {
            body.insert("executionState".into(), state);
        }
        if include_document {
            let document = (self.render)(&self.documents[job_id]);
            body.insert("jobDocument".into(), document);
        }
        Ok(body)
    }

    fn find_mut(&mut self, thing: &str, job_id: &str) -> Option<&mut Execution> {
        self.things
            .get_mut(thing)?
            .iter_mut()
            .find(|e| e.job_id == job_id)
    }

    /// The next execution: IN_PROGRESS before QUEUED, oldest first.
    fn next(&self, thing: &str) -> Option<&Execution> {
        let list = self.things.get(thing)?;
        list.iter()
            .find(|e| e.status == JobStatus::InProgress)
            .or_else(|| list.iter().find(|e| e.status == JobStatus::Queued))
    }

    fn next_job_id(&self, thing: &str) -> Option<String> {
        self.next(thing).map(|e| e.job_id.clone())
    }

    /// Adds a notify-next message when the next execution of `thing` is no
    /// longer `before`.
    fn notify_if_next_changed(&self, thing: &str, before: Option<String>, out: &mut Vec<Outgoing>) {
        let next = self.next(thing);
        if next.map(|e| &e.job_id) == before.as_ref() {
            return;
        }
        let mut body = Map::new();
        body.insert("timestamp".into(), (unix_millis() / 1000).into());
        if let Some(execution) = next {
            body.insert("execution".into(), self.execution_json(execution, true));
        }
        out.push(Outgoing {
            topic: topics::notify_next(thing),
            payload: Value::Object(body).to_string().into_bytes(),
            qos: QoS::AtLeastOnce,
            thing: thing.to_owned(),
            kind: MessageKind::NotifyNext,
        });
    }

    /// A JobExecution object in the order of the service's own replies
    /// (PROTOCOL.md §3.9).
    fn execution_json(&self, e: &Execution, include_document: bool) -> Value {
        let mut m = Map::new();
        m.insert("jobId".into(), e.job_id.clone().into());
        m.insert("status".into(), e.status.as_str().into());
        if !e.status_details.is_empty() {
            m.insert("statusDetails".into(), details_json(&e.status_details));
        }
        m.insert("queuedAt".into(), e.queued_at.into());
        if let Some(started) = e.started_at {
            m.insert("startedAt".into(), started.into());
        }
        m.insert("lastUpdatedAt".into(), e.last_updated_at.into());
        m.insert("versionNumber".into(), e.version_number.into());
        m.insert("executionNumber".into(), e.execution_number.into());
        if include_document {
            m.insert(
                "jobDocument".into(),
                (self.render)(&self.documents[&e.job_id]),
            );
        }
        Value::Object(m)
    }
}

fn details_json(details: &BTreeMap<String, String>) -> Value {
    Value::Object(
        details
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A JobExecutionState object.
fn state_json(e: &Execution) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), e.status.as_str().into());
    m.insert("statusDetails".into(), details_json(&e.status_details));
    m.insert("versionNumber".into(), e.version_number.into());
    Value::Object(m)
}

/// `{"clientToken":...,"timestamp":N}`, the start of every reply.
fn header(client_token: Option<&str>) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(token) = client_token {
        m.insert("clientToken".into(), token.into());
    }
    m.insert("timestamp".into(), (unix_millis() / 1000).into());
    m
}

fn error_body(e: &JobsError) -> Map<String, Value> {
    let mut m = header(e.client_token.as_deref());
    m.insert("code".into(), e.code.into());
    m.insert("message".into(), e.message.clone().into());
    if let Some(state) = &e.execution_state {
        m.insert("executionState".into(), (**state).clone());
    }
    m
}

fn reply(
    thing: &str,
    job_id: &str,
    operation: &str,
    accepted: bool,
    body: Map<String, Value>,
) -> Outgoing {
    Outgoing {
        topic: topics::job_reply(thing, job_id, operation, accepted),
        payload: Value::Object(body).to_string().into_bytes(),
        qos: QoS::AtLeastOnce,
        thing: thing.to_owned(),
        kind: MessageKind::JobReply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> JobStore {
        JobStore::new(Box::new(Value::clone))
    }

    fn things(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn body(o: &Outgoing) -> Value {
        serde_json::from_slice(&o.payload).unwrap()
    }

    #[test]
    fn next_prefers_in_progress_then_oldest() {
        let mut s = store();
        s.create_job(&things(&["t"]), "a", json!({"n": 1})).unwrap();
        s.create_job(&things(&["t"]), "b", json!({"n": 2})).unwrap();
        assert_eq!(s.next_job_id("t").as_deref(), Some("a"));
        let out = s.handle_update("t", "b", br#"{"status":"IN_PROGRESS"}"#);
        assert_eq!(out.len(), 2, "accepted + notify-next: {out:?}");
        assert_eq!(out[1].kind, MessageKind::NotifyNext);
        assert_eq!(body(&out[1])["execution"]["jobId"], "b");
        assert_eq!(s.next_job_id("t").as_deref(), Some("b"));
    }

    #[test]
    fn details_are_replaced_and_absent_details_kept() {
        let mut s = store();
        s.create_job(&things(&["t"]), "a", json!({})).unwrap();
        s.handle_update(
            "t",
            "a",
            br#"{"status":"IN_PROGRESS","statusDetails":{"x":"1","y":"2"}}"#,
        );
        s.handle_update(
            "t",
            "a",
            br#"{"status":"IN_PROGRESS","statusDetails":{"y":"3"}}"#,
        );
        let e = s.execution("t", "a").unwrap();
        assert_eq!(
            e.status_details,
            BTreeMap::from([("y".to_string(), "3".to_string())])
        );
        s.handle_update("t", "a", br#"{"status":"IN_PROGRESS"}"#);
        let e = s.execution("t", "a").unwrap();
        assert_eq!(e.status_details.len(), 1);
        assert_eq!(e.version_number, 4);
        assert_eq!(e.history.len(), 4);
    }

    #[test]
    fn bad_updates_are_rejected_with_codes() {
        let mut s = store();
        s.create_job(&things(&["t"]), "a", json!({})).unwrap();
        let cases: [(&[u8], &str); 7] = [
            (b"not json", "InvalidJson"),
            (b"[1]", "InvalidRequest"),
            (br#"{"status":"QUEUED"}"#, "InvalidRequest"),
            (
                br#"{"status":"IN_PROGRESS","statusDetails":{"a":1}}"#,
                "InvalidRequest",
            ),
            (
                br#"{"status":"IN_PROGRESS","statusDetails":[]}"#,
                "InvalidRequest",
            ),
            (
                br#"{"status":"IN_PROGRESS","expectedVersion":7}"#,
                "VersionMismatch",
            ),
            (
                br#"{"status":"IN_PROGRESS","clientToken":5}"#,
                "InvalidRequest",
            ),
        ];
        for (payload, code) in cases {
            let out = s.handle_update("t", "a", payload);
            assert_eq!(out.len(), 1);
            assert!(
                out[0].topic.ends_with("/update/rejected"),
                "{}",
                out[0].topic
            );
            assert_eq!(
                body(&out[0])["code"],
                code,
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
        let out = s.handle_update("t", "zz", br#"{"status":"IN_PROGRESS"}"#);
        assert_eq!(body(&out[0])["code"], "ResourceNotFound");
        assert_eq!(s.execution("t", "a").unwrap().version_number, 1);
        assert_eq!(s.execution("t", "a").unwrap().rejected_updates.len(), 7);
    }

    #[test]
    fn cancel_rules() {
        let mut s = store();
        s.create_job(&things(&["t"]), "a", json!({})).unwrap();
        s.handle_update("t", "a", br#"{"status":"IN_PROGRESS"}"#);
        assert!(matches!(
            s.cancel("t", "a", false),
            Err(ServiceError::Conflict(_))
        ));
        let out = s.cancel("t", "a", true).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(
            body(&out[0]).as_object().unwrap().len(),
            1,
            "only the timestamp"
        );
        assert!(matches!(
            s.cancel("t", "a", true),
            Err(ServiceError::Conflict(_))
        ));
        assert!(matches!(
            s.cancel("t", "b", true),
            Err(ServiceError::NotFound(_))
        ));
        assert!(matches!(s.remove("t", "a"), Err(ServiceError::Conflict(_))));
    }

    #[test]
    fn create_checks_names_and_duplicates() {
        let mut s = store();
        assert!(matches!(
            s.create_job(&things(&["t"]), "a/b", json!({})),
            Err(ServiceError::Invalid(_))
        ));
        assert!(matches!(
            s.create_job(&things(&["t/x"]), "a", json!({})),
            Err(ServiceError::Invalid(_))
        ));
        assert!(matches!(
            s.create_job(&things(&["t"]), "a", json!([])),
            Err(ServiceError::Invalid(_))
        ));
        assert!(matches!(
            s.create_job(&[], "a", json!({})),
            Err(ServiceError::Invalid(_))
        ));
        s.create_job(&things(&["t", "t"]), "a", json!({})).unwrap();
        assert_eq!(s.executions().len(), 1);
        assert!(matches!(
            s.create_job(&things(&["u"]), "a", json!({})),
            Err(ServiceError::Conflict(_))
        ));
    }

    /// Random and mutated payloads: never a panic, always one reply.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut s = store();
        s.create_job(&things(&["t"]), "a", json!({})).unwrap();
        let valid =
            br#"{"status":"IN_PROGRESS","statusDetails":{"receive":"1/3"},"clientToken":"x"}"#;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..5_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let mut bytes = valid.to_vec();
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
                bytes
            } else {
                (0..next() % 30).map(|_| next() as u8).collect()
            };
            let replies = |out: &[Outgoing]| {
                out.iter()
                    .filter(|o| o.kind == MessageKind::JobReply)
                    .count()
            };
            assert_eq!(replies(&s.handle_update("t", "a", &bytes)), 1);
            assert_eq!(replies(&s.handle_get("t", "$next", &bytes)), 1);
        }
    }
}
