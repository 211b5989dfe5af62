//! AWS IoT OTA job documents, and the Jobs service messages that carry them
//! to a device (PROTOCOL.md §2.3 and §3).
//!
//! [`JobDocument`] is the `jobDocument` object of an OTA job
//! (`{"afr_ota":{"protocols":[...],"streamname":...,"files":[...]}}`);
//! [`JobExecution`] is a job execution as `DescribeJobExecution` returns it;
//! [`GetAccepted`] and [`NextJobExecutionChanged`] are the
//! `$next/get/accepted` and `notify-next` payloads. All serialise with
//! `serde_json::to_string` to compact JSON with keys in the service's order:
//! keep it compact, since C agents read `protocols` as raw text of at most
//! 19 characters.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use p256::ecdsa::SigningKey;
use serde::Serialize;

use crate::sign::signature_base64;

/// The `auth_scheme` AWS sends with a pre-signed S3 URL.
pub const AUTH_SCHEME_PRESIGNED: &str = "aws.s3.presigned";

/// The longest job id AWS IoT Jobs accepts.
pub const MAX_JOB_ID_LEN: usize = 64;

/// The longest stream id AWS IoT accepts.
pub const MAX_STREAM_NAME_LEN: usize = 128;

/// Why a document or an execution could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobDocError {
    /// The job id is empty, longer than 64 characters, or has characters
    /// other than `A-Z a-z 0-9 _ -`.
    InvalidJobId(String),
    /// The stream name is empty, longer than 128 characters, or has
    /// characters other than `A-Z a-z 0-9 _ -`.
    InvalidStreamName(String),
    /// No data protocol given.
    NoProtocols,
    /// A protocol is listed twice.
    DuplicateProtocol(Protocol),
    /// MQTT is listed but there is no stream to download from.
    MissingStream,
    /// HTTP is listed but a file has no `update_data_url`.
    MissingUrl,
    /// The document has no file.
    NoFiles,
    /// The file is larger than the 32-bit `filesize`.
    FileTooLarge(usize),
}

impl fmt::Display for JobDocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobDocError::InvalidJobId(id) => write!(
                f,
                "invalid job id {id:?}: AWS IoT job ids are 1 to {MAX_JOB_ID_LEN} \
                 characters of A-Z a-z 0-9 _ -"
            ),
            JobDocError::InvalidStreamName(name) => write!(
                f,
                "invalid stream name {name:?}: AWS IoT stream ids are 1 to \
                 {MAX_STREAM_NAME_LEN} characters of A-Z a-z 0-9 _ -"
            ),
            JobDocError::NoProtocols => write!(f, "no data protocol (MQTT or HTTP) given"),
            JobDocError::DuplicateProtocol(p) => write!(f, "protocol {p} is listed twice"),
            JobDocError::MissingStream => {
                write!(f, "MQTT is listed but no stream name is given")
            }
            JobDocError::MissingUrl => {
                write!(
                    f,
                    "HTTP is listed but no update_data_url (pre-signed URL) is given"
                )
            }
            JobDocError::NoFiles => write!(f, "the document has no file"),
            JobDocError::FileTooLarge(len) => write!(
                f,
                "the file is {len} bytes, larger than a job document's 32-bit filesize"
            ),
        }
    }
}

impl std::error::Error for JobDocError {}

/// A data protocol in `afr_ota.protocols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Protocol {
    /// File blocks over MQTT streams (CBOR GetStream).
    #[serde(rename = "MQTT")]
    Mqtt,
    /// HTTP range requests to a pre-signed URL.
    #[serde(rename = "HTTP")]
    Http,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Mqtt => "MQTT",
            Protocol::Http => "HTTP",
        })
    }
}

impl FromStr for Protocol {
    type Err = String;

    /// `MQTT` or `HTTP`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("mqtt") {
            Ok(Protocol::Mqtt)
        } else if s.eq_ignore_ascii_case("http") {
            Ok(Protocol::Http)
        } else {
            Err(format!("unknown protocol {s:?} (expected MQTT or HTTP)"))
        }
    }
}

/// One entry of `afr_ota.files`. Devices use only the first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Where the device stores the file (informational for MCUboot devices).
    pub filepath: String,
    /// The file size in bytes.
    pub filesize: u32,
    /// The stream's file id (`f` in GetStream requests; AWS allows 0 to 255).
    pub fileid: u8,
    /// The code-signing certificate path or label on the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certfile: Option<String>,
    /// The pre-signed URL for HTTP downloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_data_url: Option<String>,
    /// How the URL authenticates ([`AUTH_SCHEME_PRESIGNED`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<String>,
    /// The base64 `sig-sha256-ecdsa` signature of the file.
    #[serde(rename = "sig-sha256-ecdsa", skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The file type (`fileType`; 0 is firmware).
    #[serde(rename = "fileType", skip_serializing_if = "Option::is_none")]
    pub file_type: Option<u32>,
}

impl FileEntry {
    /// An entry for `data` with its size and its `sig-sha256-ecdsa` signature
    /// by `key`. No certificate, URL or file type.
    pub fn signed(
        filepath: &str,
        fileid: u8,
        data: &[u8],
        key: &SigningKey,
    ) -> Result<Self, JobDocError> {
        let filesize =
            u32::try_from(data.len()).map_err(|_| JobDocError::FileTooLarge(data.len()))?;
        Ok(FileEntry {
            filepath: filepath.to_owned(),
            filesize,
            fileid,
            certfile: None,
            update_data_url: None,
            auth_scheme: None,
            signature: Some(signature_base64(key, data)),
            file_type: None,
        })
    }

    /// Set a pre-signed download URL, with `auth_scheme` `aws.s3.presigned`.
    pub fn with_url(mut self, url: &str) -> Self {
        self.update_data_url = Some(url.to_owned());
        self.auth_scheme = Some(AUTH_SCHEME_PRESIGNED.to_owned());
        self
    }
}

/// The `afr_ota` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtaDocument {
    /// The data protocols the device may use.
    pub protocols: Vec<Protocol>,
    /// The MQTT stream of the files (absent for HTTP-only jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamname: Option<String>,
    /// The files; devices download the first.
    pub files: Vec<FileEntry>,
}

/// An OTA job's `jobDocument`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobDocument {
    /// The OTA part.
    pub afr_ota: OtaDocument,
}

impl JobDocument {
    /// A document, checked for what a device needs: at least one protocol,
    /// none twice, a stream if MQTT is listed, a URL in every file if HTTP is
    /// listed, and at least one file.
    pub fn new(
        protocols: &[Protocol],
        streamname: Option<&str>,
        files: Vec<FileEntry>,
    ) -> Result<Self, JobDocError> {
        if protocols.is_empty() {
            return Err(JobDocError::NoProtocols);
        }
        for (i, p) in protocols.iter().enumerate() {
            if protocols[..i].contains(p) {
                return Err(JobDocError::DuplicateProtocol(*p));
            }
        }
        if files.is_empty() {
            return Err(JobDocError::NoFiles);
        }
        if protocols.contains(&Protocol::Mqtt) && streamname.is_none() {
            return Err(JobDocError::MissingStream);
        }
        if let Some(name) = streamname.filter(|n| !is_aws_name(n, MAX_STREAM_NAME_LEN)) {
            return Err(JobDocError::InvalidStreamName(name.to_owned()));
        }
        if protocols.contains(&Protocol::Http) && files.iter().any(|f| f.update_data_url.is_none())
        {
            return Err(JobDocError::MissingUrl);
        }
        Ok(JobDocument {
            afr_ota: OtaDocument {
                protocols: protocols.to_vec(),
                streamname: streamname.map(str::to_owned),
                files,
            },
        })
    }
}

/// A job execution's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Not started by the device.
    Queued,
    /// Started (the device published IN_PROGRESS).
    InProgress,
}

/// A job execution as `DescribeJobExecution` (`$next/get`) and notify-next
/// deliver it. `statusDetails` values are strings, as in AWS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobExecution {
    /// The job id.
    pub job_id: String,
    /// The execution status.
    pub status: ExecutionStatus,
    /// What the device last reported (absent when empty).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub status_details: BTreeMap<String, String>,
    /// When the job was queued for the device (Unix seconds).
    pub queued_at: u64,
    /// When the device started it (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<u64>,
    /// When the execution last changed (Unix seconds).
    pub last_updated_at: u64,
    /// Bumped on every status update.
    pub version_number: u64,
    /// The execution's number for this device and job.
    pub execution_number: u64,
    /// The job document.
    pub job_document: JobDocument,
}

impl JobExecution {
    /// A fresh QUEUED execution, queued at `now` (Unix seconds).
    pub fn queued(job_id: &str, job_document: JobDocument, now: u64) -> Result<Self, JobDocError> {
        validate_job_id(job_id)?;
        Ok(JobExecution {
            job_id: job_id.to_owned(),
            status: ExecutionStatus::Queued,
            status_details: BTreeMap::new(),
            queued_at: now,
            started_at: None,
            last_updated_at: now,
            version_number: 1,
            execution_number: 1,
            job_document,
        })
    }

    /// The execution as the device finds it after rebooting into the new
    /// image: IN_PROGRESS with `self_test: "ready"` and `updatedBy` set to
    /// the packed version (`major<<24 | minor<<16 | build`) of the firmware
    /// that downloaded it (PROTOCOL.md §3.4).
    pub fn awaiting_self_test(
        job_id: &str,
        job_document: JobDocument,
        updated_by: u32,
        now: u64,
    ) -> Result<Self, JobDocError> {
        let mut execution = Self::queued(job_id, job_document, now)?;
        execution.status = ExecutionStatus::InProgress;
        execution.started_at = Some(now);
        execution.version_number = 2;
        execution
            .status_details
            .insert("self_test".to_owned(), "ready".to_owned());
        execution
            .status_details
            .insert("updatedBy".to_owned(), format!("{updated_by:#010x}"));
        Ok(execution)
    }
}

/// Check a job id against AWS IoT's rules: 1 to 64 characters of
/// `A-Z a-z 0-9 _ -`.
pub fn validate_job_id(job_id: &str) -> Result<(), JobDocError> {
    if is_aws_name(job_id, MAX_JOB_ID_LEN) {
        Ok(())
    } else {
        Err(JobDocError::InvalidJobId(job_id.to_owned()))
    }
}

/// 1 to `max` characters of `A-Z a-z 0-9 _ -`: AWS's pattern for job and stream ids.
fn is_aws_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The `$aws/things/{thing}/jobs/$next/get/accepted` payload. Without an
/// execution it is the "no pending job" reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAccepted {
    /// The request's clientToken, echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// When the reply was sent (Unix seconds).
    pub timestamp: u64,
    /// The next pending execution, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<JobExecution>,
}

/// The `$aws/things/{thing}/jobs/notify-next` payload. Without an execution
/// it says the queue became empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextJobExecutionChanged {
    /// When the change happened (Unix seconds).
    pub timestamp: u64,
    /// The new next pending execution, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<JobExecution>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::SIGNATURE_KEY;
    use serde_json::{json, Value};

    fn file() -> FileEntry {
        let key = SigningKey::from_slice(&[5u8; 32]).unwrap();
        FileEntry::signed("/", 0, b"image", &key).unwrap()
    }

    #[test]
    fn document_matches_the_service_shape_and_key_order() {
        let doc = JobDocument::new(&[Protocol::Mqtt], Some("AFR_OTA-s"), vec![file()]).unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        let sig = file().signature.unwrap();
        assert!(text.contains(&format!("\"{SIGNATURE_KEY}\":")));
        assert_eq!(
            text,
            format!(
                "{{\"afr_ota\":{{\"protocols\":[\"MQTT\"],\"streamname\":\"AFR_OTA-s\",\
                 \"files\":[{{\"filepath\":\"/\",\"filesize\":5,\"fileid\":0,\
                 \"sig-sha256-ecdsa\":\"{sig}\"}}]}}}}"
            )
        );
    }

    #[test]
    fn http_file_carries_url_and_auth_scheme() {
        let f = FileEntry {
            file_type: Some(0),
            certfile: Some("codesign.crt".into()),
            ..file().with_url("http://127.0.0.1:1/f")
        };
        let doc = JobDocument::new(&[Protocol::Mqtt, Protocol::Http], Some("s"), vec![f]).unwrap();
        let v: Value = serde_json::to_value(&doc).unwrap();
        let f = &v["afr_ota"]["files"][0];
        assert_eq!(v["afr_ota"]["protocols"], json!(["MQTT", "HTTP"]));
        assert_eq!(f["update_data_url"], "http://127.0.0.1:1/f");
        assert_eq!(f["auth_scheme"], AUTH_SCHEME_PRESIGNED);
        assert_eq!(f["certfile"], "codesign.crt");
        assert_eq!(f["fileType"], 0);
        let raw_protocols = serde_json::to_string(&v["afr_ota"]["protocols"]).unwrap();
        assert!(raw_protocols.len() <= 19, "{raw_protocols}");
    }

    #[test]
    fn rejects_documents_a_device_cannot_use() {
        let new = |p: &[Protocol], s: Option<&str>, f: Vec<FileEntry>| JobDocument::new(p, s, f);
        assert_eq!(
            new(&[], Some("s"), vec![file()]),
            Err(JobDocError::NoProtocols)
        );
        assert_eq!(
            new(&[Protocol::Http, Protocol::Http], None, vec![file()]),
            Err(JobDocError::DuplicateProtocol(Protocol::Http))
        );
        assert_eq!(
            new(&[Protocol::Mqtt], None, vec![file()]),
            Err(JobDocError::MissingStream)
        );
        assert_eq!(
            new(&[Protocol::Http], None, vec![file()]),
            Err(JobDocError::MissingUrl)
        );
        assert_eq!(
            new(&[Protocol::Mqtt], Some("s"), vec![]),
            Err(JobDocError::NoFiles)
        );
        assert_eq!(
            new(&[Protocol::Mqtt], Some("a/b"), vec![file()]),
            Err(JobDocError::InvalidStreamName("a/b".into()))
        );
        assert!(new(&[Protocol::Mqtt], Some(&"s".repeat(128)), vec![file()]).is_ok());
        assert!(new(&[Protocol::Mqtt], Some(&"s".repeat(129)), vec![file()]).is_err());
        assert!(new(&[Protocol::Http], None, vec![file().with_url("u")]).is_ok());
    }

    #[test]
    fn execution_and_replies() {
        let doc = JobDocument::new(&[Protocol::Mqtt], Some("s"), vec![file()]).unwrap();
        let queued = JobExecution::queued("job-1", doc.clone(), 100).unwrap();
        let reply = GetAccepted {
            client_token: Some("0:thing".into()),
            timestamp: 101,
            execution: Some(queued),
        };
        let v: Value = serde_json::to_value(&reply).unwrap();
        assert_eq!(v["clientToken"], "0:thing");
        assert_eq!(v["execution"]["jobId"], "job-1");
        assert_eq!(v["execution"]["status"], "QUEUED");
        assert_eq!(v["execution"]["queuedAt"], 100);
        assert!(v["execution"].get("statusDetails").is_none());
        assert_eq!(
            v["execution"]["jobDocument"],
            serde_json::to_value(&doc).unwrap()
        );

        let testing = JobExecution::awaiting_self_test("job-1", doc, 0x0100_0000, 100).unwrap();
        let v = serde_json::to_value(&testing).unwrap();
        assert_eq!(v["status"], "IN_PROGRESS");
        assert_eq!(
            v["statusDetails"],
            json!({"self_test": "ready", "updatedBy": "0x01000000"})
        );

        let empty = GetAccepted {
            client_token: Some("1:thing".into()),
            timestamp: 5,
            execution: None,
        };
        assert_eq!(
            serde_json::to_string(&empty).unwrap(),
            r#"{"clientToken":"1:thing","timestamp":5}"#
        );
        let drained = NextJobExecutionChanged {
            timestamp: 6,
            execution: None,
        };
        assert_eq!(
            serde_json::to_string(&drained).unwrap(),
            r#"{"timestamp":6}"#
        );
    }

    #[test]
    fn job_ids_follow_the_aws_rules() {
        let doc = JobDocument::new(&[Protocol::Mqtt], Some("s"), vec![file()]).unwrap();
        for good in ["a", "AFR_OTA-update-42", &"x".repeat(64)] {
            assert!(JobExecution::queued(good, doc.clone(), 0).is_ok(), "{good}");
        }
        for bad in ["", "has space", "slash/", "ü", &"x".repeat(65)] {
            assert_eq!(
                JobExecution::queued(bad, doc.clone(), 0),
                Err(JobDocError::InvalidJobId(bad.to_owned()))
            );
        }
    }

    #[test]
    fn protocols_parse_case_insensitively() {
        assert_eq!("mqtt".parse(), Ok(Protocol::Mqtt));
        assert_eq!("HTTP".parse(), Ok(Protocol::Http));
        assert!("ftp".parse::<Protocol>().is_err());
    }
}
