//! Job documents: read one Jobs message (`$next/get/accepted` or
//! `notify-next`) into a fresh [`Document`], fixing the C agent's parser quirks
//! (PROTOCOL.md §3):
//!
//! - keys are looked up at their real paths only: a top-level `filesize` does
//!   not override the file's;
//! - JSON `null` means absent;
//! - numbers are strict u32 (decimal or `0x` hex; no sign, fraction, exponent
//!   or overflow), quoted or not;
//! - every document gives a fresh value: nothing carries over from the last;
//! - a document with `afr_ota` that does not parse is an invalid OTA job (to
//!   be reported FAILED with a reason), not a custom job;
//! - zero file size is refused here, before anything touches flash.

use crate::base64;
use crate::json::{self, Kind, Value};
use crate::reason::JobError;
use crate::{MAX_JOB_ID_LEN, MAX_SIGNATURE_LEN, MAX_STREAM_NAME_LEN};

/// The job document key holding the code-signing signature.
pub const SIGNATURE_KEY: &str = "sig-sha256-ecdsa";

/// The largest file id the service supports.
pub const MAX_FILE_ID: u32 = 255;

/// What a Jobs message says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document<'a> {
    /// No job is pending (no `execution`, or no `jobId`).
    NoJob,
    /// An OTA job (`afr_ota` present and valid).
    Ota(OtaJob<'a>),
    /// A job without `afr_ota`, for the application.
    Custom {
        /// The job id.
        job_id: &'a str,
        /// The raw `jobDocument` JSON.
        document: &'a [u8],
    },
    /// Not usable. With a job id the job can be reported FAILED.
    Invalid {
        /// The job id, when it could be read and is valid.
        job_id: Option<&'a str>,
        /// What is wrong.
        error: JobError,
    },
}

/// A decoded signature (ASN.1 DER for ECDSA).
pub type Signature = heapless::Vec<u8, MAX_SIGNATURE_LEN>;

/// An OTA job, borrowed from the message it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtaJob<'a> {
    /// `execution.jobId`.
    pub job_id: &'a str,
    /// `execution.statusDetails.self_test` is present: the previous firmware
    /// downloaded this job and rebooted into it.
    pub self_test: bool,
    /// `execution.statusDetails.self_test` is `"active"`: the new image
    /// already reported its self test (M4), so `updated_by` is the *new*
    /// version; with `"ready"` (M3) it is the version that did the download.
    pub self_test_active: bool,
    /// `execution.statusDetails.updatedBy`.
    pub updated_by: Option<u32>,
    /// `afr_ota.streamname`.
    pub stream: Option<&'a str>,
    /// `protocols` lists `"MQTT"`.
    pub mqtt: bool,
    /// `protocols` lists `"HTTP"`.
    pub http: bool,
    /// `files[0].update_data_url` (raw JSON string value).
    pub url: Option<Value<'a>>,
    /// `files[0].filesize`.
    pub file_size: u32,
    /// `files[0].fileid`.
    pub file_id: u8,
    /// `files[0].fileType` (0 when absent).
    pub file_type: u32,
    /// `files[0].sig-sha256-ecdsa`, decoded.
    pub signature: Signature,
    /// How many entries `files` has (only the first is used, as AWS does).
    pub file_count: usize,
}

/// A job id or stream name the agent can put in a topic: 1 to `max`
/// characters of `[A-Za-z0-9_-]` (AWS's own pattern for both).
pub fn valid_name(name: &[u8], max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
}

fn as_name(v: Value<'_>, max: usize) -> Option<&str> {
    let raw = v.raw_str()?;
    valid_name(raw, max)
        .then(|| core::str::from_utf8(raw).ok())
        .flatten()
}

/// A key's value, with `null` meaning absent.
fn present<'a>(v: Value<'a>, key: &str) -> Option<Value<'a>> {
    v.get(key).filter(|x| !x.is_null())
}

fn required<'a>(v: Value<'a>, key: &'static str) -> Result<Value<'a>, JobError> {
    present(v, key).ok_or(JobError::Missing(key))
}

fn of_kind<'a>(v: Value<'a>, kind: Kind, key: &'static str) -> Result<Value<'a>, JobError> {
    if v.kind() == kind {
        Ok(v)
    } else {
        Err(JobError::WrongType(key))
    }
}

fn u32_of(v: Value<'_>, key: &'static str) -> Result<u32, JobError> {
    v.as_u32().ok_or(JobError::BadNumber(key))
}

fn optional_u32(v: Value<'_>, key: &'static str) -> Result<Option<u32>, JobError> {
    present(v, key).map(|x| u32_of(x, key)).transpose()
}

fn optional_string(v: Value<'_>, key: &'static str) -> Result<(), JobError> {
    match present(v, key) {
        Some(x) if x.kind() != Kind::String => Err(JobError::WrongType(key)),
        _ => Ok(()),
    }
}

/// The raw `clientToken` of a Jobs reply, if it is JSON and has one.
pub fn client_token(payload: &[u8]) -> Option<&[u8]> {
    json::parse(payload).ok()?.get("clientToken")?.raw_str()
}

/// Read a Jobs message.
pub fn parse_document(payload: &[u8]) -> Document<'_> {
    let Ok(root) = json::parse(payload) else {
        return Document::Invalid {
            job_id: None,
            error: JobError::InvalidJson,
        };
    };
    let Some(execution) = present(root, "execution") else {
        return Document::NoJob;
    };
    if execution.kind() != Kind::Object {
        return Document::Invalid {
            job_id: None,
            error: JobError::WrongType("execution"),
        };
    }
    let Some(id_value) = present(execution, "jobId") else {
        return Document::NoJob;
    };
    let Some(job_id) = as_name(id_value, MAX_JOB_ID_LEN) else {
        return Document::Invalid {
            job_id: None,
            error: JobError::BadString("execution.jobId"),
        };
    };
    let invalid = |error| Document::Invalid {
        job_id: Some(job_id),
        error,
    };
    let Some(job_doc) = present(execution, "jobDocument") else {
        return invalid(JobError::Missing("execution.jobDocument"));
    };
    let Some(afr_ota) = present(job_doc, "afr_ota") else {
        return Document::Custom {
            job_id,
            document: job_doc.text(),
        };
    };
    match ota_job(job_id, execution, afr_ota) {
        Ok(job) => Document::Ota(job),
        Err(error) => invalid(error),
    }
}

fn ota_job<'a>(
    job_id: &'a str,
    execution: Value<'a>,
    afr_ota: Value<'a>,
) -> Result<OtaJob<'a>, JobError> {
    of_kind(afr_ota, Kind::Object, "afr_ota")?;

    let (self_test, self_test_active, updated_by) = match present(execution, "statusDetails") {
        Some(details) => {
            of_kind(details, Kind::Object, "statusDetails")?;
            let self_test = present(details, "self_test");
            (
                self_test.is_some(),
                self_test.and_then(|v| v.raw_str()) == Some(b"active".as_slice()),
                optional_u32(details, "updatedBy")?,
            )
        }
        None => (false, false, None),
    };

    let stream = match present(afr_ota, "streamname") {
        Some(v) => Some(as_name(v, MAX_STREAM_NAME_LEN).ok_or(JobError::BadString("streamname"))?),
        None => None,
    };

    let protocols = of_kind(required(afr_ota, "protocols")?, Kind::Array, "protocols")?;
    let (mut mqtt, mut http) = (false, false);
    for p in protocols.elements() {
        match p.raw_str().ok_or(JobError::WrongType("protocols"))? {
            b"MQTT" => mqtt = true,
            b"HTTP" => http = true,
            _ => {}
        }
    }

    let files = of_kind(required(afr_ota, "files")?, Kind::Array, "files")?;
    let file = files.at(0).ok_or(JobError::NoFiles)?;
    of_kind(file, Kind::Object, "files")?;

    let file_size = u32_of(required(file, "filesize")?, "filesize")?;
    if file_size == 0 {
        return Err(JobError::ZeroFileSize);
    }
    let file_id = u32_of(required(file, "fileid")?, "fileid")?;
    let file_id = u8::try_from(file_id).map_err(|_| JobError::BadNumber("fileid"))?;
    let file_type = optional_u32(file, "fileType")?.unwrap_or(0);
    optional_u32(file, "attr")?;
    for key in ["filepath", "certfile", "auth_scheme"] {
        optional_string(file, key)?;
    }
    let url = present(file, "update_data_url");
    if url.is_some_and(|u| u.kind() != Kind::String) {
        return Err(JobError::WrongType("update_data_url"));
    }

    let sig_text = required(file, SIGNATURE_KEY)?
        .raw_str()
        .ok_or(JobError::WrongType(SIGNATURE_KEY))?;
    let mut sig = [0u8; MAX_SIGNATURE_LEN];
    let n = base64::decode(sig_text, &mut sig).map_err(|_| JobError::BadSignature)?;
    let signature = Signature::from_slice(&sig[..n]).map_err(|_| JobError::BadSignature)?;

    Ok(OtaJob {
        job_id,
        self_test,
        self_test_active,
        updated_by,
        stream,
        mqtt,
        http,
        url,
        file_size,
        file_id,
        file_type,
        signature,
        file_count: files.elements().count(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    /// A valid base64 signature (70 bytes, like the C unit tests').
    pub(crate) const SIG: &str =
        "MEQCIFW0Fqv8kuwZ0GkHPzy6xhWLkYrdr5jvtiKpG+6ZsdVvAiBIvrIdGbqeWPvgC3ErS0Ucf01k7vDZtq8Pq1sVWmsETA==";

    pub(crate) fn doc(job_id: &str, status_details: &str, afr_ota_files: &str) -> String {
        format!(
            r#"{{"clientToken":"0:thing","timestamp":1,"execution":{{"jobId":"{job_id}","status":"QUEUED"{status_details},"jobDocument":{{"afr_ota":{{"protocols":["MQTT"],"streamname":"AFR_OTA-s1","files":[{afr_ota_files}]}}}}}}}}"#
        )
    }

    pub(crate) fn file(size: &str) -> String {
        format!(
            r#"{{"filepath":"/","filesize":{size},"fileid":0,"certfile":"c.crt","sig-sha256-ecdsa":"{SIG}"}}"#
        )
    }

    fn ota(text: &str) -> OtaJob<'_> {
        match parse_document(text.as_bytes()) {
            Document::Ota(j) => j,
            other => panic!("expected an OTA job, got {other:?}"),
        }
    }

    #[test]
    fn reads_the_real_service_document() {
        // PROTOCOL.md §3.9, with a complete signature.
        let text = format!(
            r#"{{"timestamp":1728619018,"execution":{{"jobId":"AFR_OTA-testdev21_update42","status":"QUEUED",
 "queuedAt":1728619016,"lastUpdatedAt":1728619016,"versionNumber":1,"executionNumber":1,
 "jobDocument":{{"afr_ota":{{"protocols":["MQTT"],"streamname":"AFR_OTA-ef4fecab-c7d0-4812-a5fd-fb86a739abdf",
 "files":[{{"filepath":"/","filesize":730304,"fileid":0,"certfile":"/main/certs/aws_codesign.crt",
 "sig-sha256-ecdsa":"{SIG}"}}]}}}}}}}}"#
        );
        let j = ota(&text);
        assert_eq!(j.job_id, "AFR_OTA-testdev21_update42");
        assert_eq!(
            j.stream,
            Some("AFR_OTA-ef4fecab-c7d0-4812-a5fd-fb86a739abdf")
        );
        assert_eq!(j.file_size, 730304);
        assert_eq!(j.file_id, 0);
        assert!(j.mqtt && !j.http && !j.self_test);
        assert_eq!(j.signature.len(), 70);
        assert_eq!(&j.signature[..4], &[0x30, 0x44, 0x02, 0x20]);
    }

    #[test]
    fn empty_and_no_job_documents() {
        assert_eq!(
            parse_document(br#"{"clientToken":"0:t","timestamp":5}"#),
            Document::NoJob
        );
        assert_eq!(parse_document(br#"{"timestamp":5}"#), Document::NoJob);
        assert_eq!(
            parse_document(br#"{"timestamp":5,"execution":{"status":"QUEUED"}}"#),
            Document::NoJob
        );
        assert_eq!(
            parse_document(b"not a json"),
            Document::Invalid {
                job_id: None,
                error: JobError::InvalidJson
            }
        );
    }

    #[test]
    fn custom_jobs_are_offered_raw() {
        let d = parse_document(
            br#"{"execution":{"jobId":"reboot-7","jobDocument":{"operation":"reboot"}}}"#,
        );
        assert_eq!(
            d,
            Document::Custom {
                job_id: "reboot-7",
                document: br#"{"operation":"reboot"}"#
            }
        );
    }

    #[test]
    fn quirk_top_level_keys_do_not_override_the_file() {
        // [C quirk] keys 12-20 were looked up at the top level first.
        let mut text = doc("j", "", &file("100"));
        text.insert_str(1, r#""filesize":999,"fileid":7,"#);
        let j = ota(&text);
        assert_eq!((j.file_size, j.file_id), (100, 0));
    }

    #[test]
    fn quirk_null_means_absent() {
        // [C quirk] null was stored as the string "null".
        let f = format!(
            r#"{{"filesize":10,"fileid":0,"update_data_url":null,"auth_scheme":null,"fileType":null,"sig-sha256-ecdsa":"{SIG}"}}"#
        );
        let text_j = doc("j", "", &f);
        let j = ota(&text_j);
        assert_eq!(j.url, None);
        assert_eq!(j.file_type, 0);
        let no_size = doc("j", "", &file("null"));
        assert_eq!(
            parse_document(no_size.as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::Missing("filesize")
            }
        );
    }

    #[test]
    fn quirk_strict_numbers() {
        // [C quirk] strtoul: signs wrapped, leading 0 meant octal, >u32 truncated.
        assert_eq!(ota(&doc("j", "", &file("\"1024\""))).file_size, 1024);
        assert_eq!(ota(&doc("j", "", &file("\"0x400\""))).file_size, 1024);
        for bad in [
            "-1",
            "\"-1\"",
            "\"0100\"",
            "4294967296",
            "1e3",
            "12.5",
            "\"NaN\"",
        ] {
            assert_eq!(
                parse_document(doc("j", "", &file(bad)).as_bytes()),
                Document::Invalid {
                    job_id: Some("j"),
                    error: JobError::BadNumber("filesize")
                },
                "{bad}"
            );
        }
    }

    #[test]
    fn zero_size_is_refused_at_parse_time() {
        assert_eq!(
            parse_document(doc("j", "", &file("0")).as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::ZeroFileSize
            }
        );
    }

    #[test]
    fn self_test_and_updated_by_with_or_without_padding() {
        for v in ["0x01000000", "0x1000000"] {
            let details = format!(r#","statusDetails":{{"self_test":"ready","updatedBy":"{v}"}}"#);
            let text_j = doc("j", &details, &file("10"));
            let j = ota(&text_j);
            assert!(j.self_test);
            assert_eq!(j.updated_by, Some(0x0100_0000));
        }
        let text_j = doc("j", r#","statusDetails":{"receive":"1/3"}"#, &file("10"));
        let j = ota(&text_j);
        assert!(!j.self_test);
        assert_eq!(j.updated_by, None);
    }

    #[test]
    fn quirk_fresh_state_per_document() {
        // [C quirk] optional fields kept the previous document's values.
        let first = doc(
            "j1",
            r#","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}"#,
            &file("10").replace("\"fileid\":0", "\"fileid\":0,\"fileType\":3"),
        );
        let second = doc("j2", "", &file("10"));
        let a = ota(&first);
        assert!(a.self_test && a.file_type == 3);
        let b = ota(&second);
        assert!(!b.self_test);
        assert_eq!((b.updated_by, b.file_type), (None, 0));
    }

    #[test]
    fn bad_ids_names_and_signatures() {
        let long = "j".repeat(MAX_JOB_ID_LEN + 1);
        assert_eq!(
            parse_document(doc(&long, "", &file("10")).as_bytes()),
            Document::Invalid {
                job_id: None,
                error: JobError::BadString("execution.jobId")
            }
        );
        assert!(matches!(
            parse_document(doc("a/b", "", &file("10")).as_bytes()),
            Document::Invalid { job_id: None, .. }
        ));
        let text = doc("j", "", &file("10")).replace("AFR_OTA-s1", "bad/stream");
        assert_eq!(
            parse_document(text.as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::BadString("streamname")
            }
        );
        let text = doc("j", "", &file("10")).replace(SIG, "!!!");
        assert_eq!(
            parse_document(text.as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::BadSignature
            }
        );
        let text =
            doc("j", "", &file("10")).replace(&format!(",\"sig-sha256-ecdsa\":\"{SIG}\""), "");
        assert_eq!(
            parse_document(text.as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::Missing(SIGNATURE_KEY)
            }
        );
    }

    #[test]
    fn protocols_and_files() {
        let text = doc("j", "", &file("10")).replace(r#"["MQTT"]"#, r#"["HTTP","MQTT","FTP"]"#);
        let j = ota(&text);
        assert!(j.mqtt && j.http);
        let text = doc("j", "", &format!("{},{}", file("10"), file("20")));
        assert_eq!(ota(&text).file_count, 2);
        assert_eq!(ota(&text).file_size, 10);
        assert_eq!(
            parse_document(doc("j", "", "").as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::NoFiles
            }
        );
        let text = doc("j", "", &file("10")).replace("\"fileid\":0", "\"fileid\":256");
        assert_eq!(
            parse_document(text.as_bytes()),
            Document::Invalid {
                job_id: Some("j"),
                error: JobError::BadNumber("fileid")
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_document(&input);
        }

        #[test]
        fn never_panics_on_mutated_documents(pos in 0usize..400, byte in proptest::num::u8::ANY) {
            let mut text = doc("job-1", r#","statusDetails":{"self_test":"ready","updatedBy":"0x01000000"}"#, &file("1234")).into_bytes();
            let at = pos % text.len();
            text[at] = byte;
            let _ = parse_document(&text);
        }
    }
}
