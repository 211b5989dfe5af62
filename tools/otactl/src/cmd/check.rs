//! `otactl job check [FILE|-]`: read a job document with the agent's own
//! parser (`ota_agent::job::parse_document`) and print one JSON object saying
//! what the device makes of it, so a user can learn why a device refuses a job.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ota_agent::job::{parse_document, Document, OtaJob};
use serde_json::{json, Value};

/// Arguments of `job check`.
#[derive(clap::Args)]
pub struct Args {
    /// The document (a `$next/get/accepted` or `notify-next` payload); `-` or
    /// nothing reads standard input.
    pub file: Option<PathBuf>,
}

/// The verdict as printed.
pub fn verdict(payload: &[u8]) -> Value {
    match parse_document(payload) {
        Document::NoJob => {
            json!({"kind": "no_job", "job_id": null, "protocols": [], "files": [], "error": null})
        }
        Document::Ota(job) => ota(&job),
        Document::Custom { job_id, document } => json!({
            "kind": "custom",
            "job_id": job_id,
            "protocols": [],
            "files": [],
            "document": String::from_utf8_lossy(document),
            "error": null,
        }),
        Document::Invalid { job_id, error } => json!({
            "kind": "invalid",
            "job_id": job_id,
            "protocols": [],
            "files": [],
            "error": format!("{}: {}", error.kind(), error.text()),
        }),
    }
}

fn ota(job: &OtaJob<'_>) -> Value {
    let protocols: Vec<&str> = [("MQTT", job.mqtt), ("HTTP", job.http)]
        .into_iter()
        .filter_map(|(name, listed)| listed.then_some(name))
        .collect();
    let mut url = [0u8; 4096];
    let file = json!({
        "fileid": job.file_id,
        "filesize": job.file_size,
        "fileType": job.file_type,
        "signature_bytes": job.signature.len(),
        "update_data_url": job.url.and_then(|u| u.decode_str(&mut url).map(|b| String::from_utf8_lossy(b).into_owned())),
    });
    json!({
        "kind": if job.self_test { "self_test" } else { "ota" },
        "job_id": job.job_id,
        "protocols": protocols,
        "streamname": job.stream,
        "files": [file],
        "ignored_files": job.file_count - 1,
        "updatedBy": job.updated_by.map(|v| format!("0x{v:08x}")),
        "error": null,
    })
}

/// Run `job check`: exit 0 for a usable document (OTA, self test, custom, no
/// job), 1 for an invalid one.
pub fn run(args: &Args) -> ExitCode {
    let mut payload = Vec::new();
    let read = match args.file.as_deref() {
        Some(p) if p.as_os_str() != "-" => std::fs::read(p).map(|b| payload = b),
        _ => std::io::stdin().read_to_end(&mut payload).map(drop),
    };
    if let Err(e) = read {
        eprintln!("otactl job check: cannot read the document: {e}");
        return ExitCode::FAILURE;
    }
    let v = verdict(&payload);
    println!("{v}");
    if v["kind"] == "invalid" {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::verdict;

    #[test]
    fn kinds() {
        assert_eq!(verdict(br#"{"timestamp":1}"#)["kind"], "no_job");
        assert_eq!(verdict(b"nope")["kind"], "invalid");
        assert_eq!(verdict(b"nope")["error"], "invalid JSON: not valid JSON");
        let custom = verdict(br#"{"execution":{"jobId":"c1","jobDocument":{"op":1}}}"#);
        assert_eq!(custom["kind"], "custom");
        assert_eq!(custom["job_id"], "c1");
        let bad = verdict(
            br#"{"execution":{"jobId":"j","jobDocument":{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":0}]}}}}"#,
        );
        assert_eq!(bad["kind"], "invalid");
        assert_eq!(bad["job_id"], "j");
        assert_eq!(bad["error"], "zero file size: filesize is 0");
    }
}
