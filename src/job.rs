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
        .then(|| crate::ascii::ascii(raw))
        .flatten()
}

/// A key's value, `null` when absent: JSON `null` means absent.
#[inline(never)]
fn present<'a>(v: Value<'a>, key: &str) -> Value<'a> {
    v.get(key).unwrap_or(Value::NULL)
}

/// Checks the fields of a job document one after the other, keeping the
/// first error met: the one an early return would have given.
struct Checker<'a> {
    /// The object whose members [`Checker::field`] reads.
    obj: Value<'a>,
    error: Option<JobError>,
}

impl<'a> Checker<'a> {
    fn fail(&mut self, error: JobError) {
        self.error.get_or_insert(error);
    }

    /// The member `key` of `obj` (`null` when absent) checked to be of kind
    /// `want`, where [`Kind::Number`] means a strict u32; `null`, with the
    /// error kept, if it is not.
    fn field(&mut self, key: &'static str, want: Kind) -> Value<'a> {
        let x = present(self.obj, key);
        let error = if x.is_null() {
            return x;
        } else if want == Kind::Number {
            if x.as_u32().is_some() {
                return x;
            }
            JobError::BadNumber(key)
        } else {
            if x.kind() == want {
                return x;
            }
            JobError::WrongType(key)
        };
        self.fail(error);
        Value::NULL
    }

    /// [`Checker::field`] for a member that must be present.
    // Out of line: measured smaller on thumbv7em.
    #[inline(never)]
    fn required(&mut self, key: &'static str, want: Kind) -> Value<'a> {
        let x = self.field(key, want);
        // Absent, or of the wrong kind (an error already kept).
        if x.is_null() {
            self.fail(JobError::Missing(key));
        }
        x
    }
}

/// The raw `clientToken` of a Jobs reply, if it is JSON and has one.
pub fn client_token(payload: &[u8]) -> Option<&[u8]> {
    json::parse(payload).ok()?.get("clientToken")?.raw_str()
}

/// Read a Jobs message.
// Not inlined into the agent: measured smaller on thumbv7em.
#[inline(never)]
pub fn parse_document(payload: &[u8]) -> Document<'_> {
    // Set once the job id is read and valid.
    let mut job_id = None;
    let error = 'invalid: {
        let Ok(root) = json::parse(payload) else {
            break 'invalid JobError::InvalidJson;
        };
        let mut check = Checker {
            obj: root,
            error: None,
        };
        let execution = check.field("execution", Kind::Object);
        if let Some(error) = check.error {
            break 'invalid error;
        }
        let id = present(execution, "jobId");
        if id.is_null() {
            return Document::NoJob;
        }
        let Some(id) = as_name(id, MAX_JOB_ID_LEN) else {
            break 'invalid JobError::BadString("execution.jobId");
        };
        job_id = Some(id);
        let job_doc = present(execution, "jobDocument");
        if job_doc.is_null() {
            break 'invalid JobError::Missing("execution.jobDocument");
        }
        check.obj = job_doc;
        let afr_ota = check.field("afr_ota", Kind::Object);
        if afr_ota.is_null() && check.error.is_none() {
            return Document::Custom {
                job_id: id,
                document: job_doc.text(),
            };
        }
        return ota_job(&mut check, id, execution, afr_ota);
    };
    Document::Invalid { job_id, error }
}

/// The document of a job with `afr_ota`: its OTA job, or invalid with the
/// first error `check` kept or meets.
fn ota_job<'a>(
    check: &mut Checker<'a>,
    job_id: &'a str,
    execution: Value<'a>,
    afr_ota: Value<'a>,
) -> Document<'a> {
    // Filled in place as the fields are read, not built at the end: measured
    // smaller on thumbv7em (no values held across the reads).
    let mut job = OtaJob {
        job_id,
        self_test: false,
        self_test_active: false,
        updated_by: None,
        stream: None,
        mqtt: false,
        http: false,
        url: None,
        file_size: 0,
        file_id: 0,
        file_type: 0,
        signature: Signature::from_array([0; MAX_SIGNATURE_LEN]),
        file_count: 0,
    };
    check.obj = execution;
    let details = check.field("statusDetails", Kind::Object);
    let self_test = present(details, "self_test");
    job.self_test = !self_test.is_null();
    job.self_test_active = self_test.raw_str() == Some(b"active");
    check.obj = details;
    job.updated_by = check.field("updatedBy", Kind::Number).as_u32();

    let stream = present(afr_ota, "streamname");
    if !stream.is_null() {
        job.stream = as_name(stream, MAX_STREAM_NAME_LEN);
        if job.stream.is_none() {
            check.fail(JobError::BadString("streamname"));
        }
    }

    check.obj = afr_ota;
    for p in check.required("protocols", Kind::Array).elements() {
        match p.raw_str() {
            Some(name) => {
                job.mqtt |= name == b"MQTT";
                job.http |= name == b"HTTP";
            }
            None => check.fail(JobError::WrongType("protocols")),
        }
    }

    // Only the first file is used, as AWS does.
    let mut file = Value::NULL;
    for f in check.required("files", Kind::Array).elements() {
        if job.file_count == 0 {
            file = f;
        }
        job.file_count += 1;
    }
    if file.kind() != Kind::Object {
        // With no files, `file` is `null`.
        check.fail(match job.file_count {
            0 => JobError::NoFiles,
            _ => JobError::WrongType("files"),
        });
    }

    check.obj = file;
    let size = check.required("filesize", Kind::Number).as_u32();
    if size == Some(0) {
        check.fail(JobError::ZeroFileSize);
    }
    job.file_size = size.unwrap_or(0);
    let id = check.required("fileid", Kind::Number).as_u32();
    job.file_id = u8::try_from(id.unwrap_or(0)).unwrap_or_else(|_| {
        check.fail(JobError::BadNumber("fileid"));
        0
    });
    job.file_type = check.field("fileType", Kind::Number).as_u32().unwrap_or(0);
    check.field("attr", Kind::Number);
    check.field("filepath", Kind::String);
    check.field("certfile", Kind::String);
    check.field("auth_scheme", Kind::String);
    let url = check.field("update_data_url", Kind::String);
    job.url = (!url.is_null()).then_some(url);

    let sig_text = check.required(SIGNATURE_KEY, Kind::String).raw_str();
    match base64::decode(sig_text.unwrap_or_default(), &mut job.signature) {
        Ok(n) => job.signature.truncate(n),
        Err(_) => check.fail(JobError::BadSignature),
    }
    match check.error {
        None => Document::Ota(job),
        Some(error) => Document::Invalid {
            job_id: Some(job_id),
            error,
        },
    }
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

    #[test]
    fn errors_name_their_key_and_the_first_one_wins() {
        let invalid = |job_id, error| Document::Invalid { job_id, error };
        let f = file("10");
        let with = |old: &str, new: &str| doc("j", "", &f.replace(old, new));
        let cases = [
            (
                r#"{"execution":5}"#.into(),
                invalid(None, JobError::WrongType("execution")),
            ),
            (
                r#"{"execution":{"jobId":"j"}}"#.into(),
                invalid(Some("j"), JobError::Missing("execution.jobDocument")),
            ),
            (
                r#"{"execution":{"jobId":"j","jobDocument":{"afr_ota":[]}}}"#.into(),
                invalid(Some("j"), JobError::WrongType("afr_ota")),
            ),
            (
                doc("j", r#","statusDetails":"x""#, &f),
                invalid(Some("j"), JobError::WrongType("statusDetails")),
            ),
            (
                doc("j", r#","statusDetails":{"updatedBy":"v1"}"#, &f),
                invalid(Some("j"), JobError::BadNumber("updatedBy")),
            ),
            (
                doc("j", "", &f).replace(r#"["MQTT"]"#, r#"["MQTT",1]"#),
                invalid(Some("j"), JobError::WrongType("protocols")),
            ),
            (
                doc("j", "", &f).replace(r#""protocols":["MQTT"],"#, ""),
                invalid(Some("j"), JobError::Missing("protocols")),
            ),
            (
                doc("j", "", "1"),
                invalid(Some("j"), JobError::WrongType("files")),
            ),
            (
                doc("j", "", &f)
                    .replace(r#""files":["#, r#""files":{"a":["#)
                    .replace("}]}}}", "}]}}}}"),
                invalid(Some("j"), JobError::WrongType("files")),
            ),
            (
                with(r#""fileid":0"#, r#""fileid":0,"fileType":-3"#),
                invalid(Some("j"), JobError::BadNumber("fileType")),
            ),
            (
                with(r#""fileid":0"#, r#""fileid":0,"attr":"x""#),
                invalid(Some("j"), JobError::BadNumber("attr")),
            ),
            (
                with(r#""c.crt""#, "7"),
                invalid(Some("j"), JobError::WrongType("certfile")),
            ),
            (
                with(r#""fileid":0"#, r#""fileid":0,"update_data_url":[]"#),
                invalid(Some("j"), JobError::WrongType("update_data_url")),
            ),
            (
                with(&format!(r#""{SIG}""#), "70"),
                invalid(Some("j"), JobError::WrongType(SIGNATURE_KEY)),
            ),
            // With several errors, the first in reading order is reported.
            (
                with(r#""filesize":10,"fileid":0"#, r#""filesize":0"#),
                invalid(Some("j"), JobError::ZeroFileSize),
            ),
            (
                with(r#""filesize":10"#, r#""filesize":"x","auth_scheme":1"#),
                invalid(Some("j"), JobError::BadNumber("filesize")),
            ),
            (
                with(r#""fileid":0"#, r#""fileid":300,"fileType":"y""#),
                invalid(Some("j"), JobError::BadNumber("fileid")),
            ),
            (
                doc("j", "", &f)
                    .replace("AFR_OTA-s1", "a b")
                    .replace(r#""protocols":["MQTT"],"#, ""),
                invalid(Some("j"), JobError::BadString("streamname")),
            ),
            (
                doc("j", r#","statusDetails":{"updatedBy":"-1"}"#, "2"),
                invalid(Some("j"), JobError::BadNumber("updatedBy")),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_document(text.as_bytes()), expected, "{text}");
        }
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
