//! Job documents: `otactl job` output, read back by the device's own parser
//! (`ota_agent::job::parse_document`) and checked with openssl.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use ota_agent::job::{parse_document, Document};
use serde_json::Value;

use crate::common::{payload, Scratch};

/// A scratch directory with a key pair and a signed MCUboot image.
fn setup() -> Scratch {
    let s = Scratch::new();
    s.otactl_ok(&["keygen", "--out", "k.pem", "--public", "p.pem"]);
    s.write("app.bin", &payload(30_000));
    s.otactl_ok(&[
        "image",
        "--version",
        "1.0.1",
        "--pad-header",
        "app.bin",
        "-o",
        "fw.img",
    ]);
    s
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn document_has_the_service_shape_and_an_openssl_valid_signature() {
    let s = setup();
    let text = s.otactl_ok(&[
        "job",
        "--job-id",
        "AFR_OTA-update42",
        "--file",
        "fw.img",
        "--key",
        "k.pem",
        "--stream",
        "AFR_OTA-ef4fecab-c7d0-4812-a5fd-fb86a739abdf",
    ]);
    assert!(
        !text.trim_end().contains('\n') && !text.contains(": "),
        "not compact: {text}"
    );
    let doc = json(&text);
    let ota = &doc["afr_ota"];
    assert_eq!(ota["protocols"], serde_json::json!(["MQTT"]));
    assert_eq!(
        ota["streamname"],
        "AFR_OTA-ef4fecab-c7d0-4812-a5fd-fb86a739abdf"
    );
    let files = ota["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    assert_eq!(file["filepath"], "fw.img");
    assert_eq!(file["filesize"], s.read("fw.img").len());
    assert_eq!(file["fileid"], 0);
    for absent in ["certfile", "update_data_url", "auth_scheme", "fileType"] {
        assert!(file.get(absent).is_none(), "{absent} in {file}");
    }

    let der = STANDARD
        .decode(file["sig-sha256-ecdsa"].as_str().unwrap())
        .unwrap();
    s.write("sig.der", &der);
    let verify = [
        "dgst",
        "-sha256",
        "-verify",
        "p.pem",
        "-signature",
        "sig.der",
        "fw.img",
    ];
    assert!(s.openssl(&verify).status.success());
    let mut tampered = s.read("fw.img");
    tampered[100] ^= 1;
    s.write("fw.img", &tampered);
    assert!(!s.openssl(&verify).status.success());
}

#[test]
fn the_device_parses_the_execution_reply() {
    let s = setup();
    let text = s.otactl_ok(&[
        "job",
        "--job-id",
        "job-1",
        "--file",
        "fw.img",
        "--key",
        "k.pem",
        "--stream",
        "stream-1",
        "--protocols",
        "MQTT,HTTP",
        "--url",
        "http://127.0.0.1:8080/fw.img?sig=abc",
        "--file-id",
        "3",
        "--file-type",
        "0",
        "--certfile",
        "codesign.crt",
        "--filepath",
        "/",
        "--execution",
        "--client-token",
        "0:thing-1",
    ]);
    let reply = json(&text);
    assert_eq!(reply["clientToken"], "0:thing-1");
    assert!(reply["timestamp"].as_u64().unwrap() > 1_600_000_000);
    let execution = &reply["execution"];
    assert_eq!(execution["jobId"], "job-1");
    assert_eq!(execution["status"], "QUEUED");
    let file = &execution["jobDocument"]["afr_ota"]["files"][0];
    assert_eq!(
        file["update_data_url"],
        "http://127.0.0.1:8080/fw.img?sig=abc"
    );
    assert_eq!(file["auth_scheme"], "aws.s3.presigned");
    assert_eq!(file["certfile"], "codesign.crt");
    assert_eq!(file["filepath"], "/");

    let Document::Ota(job) = parse_document(text.trim_end().as_bytes()) else {
        panic!("the device does not take it as an OTA job: {text}");
    };
    assert_eq!(job.job_id, "job-1");
    assert!(!job.self_test);
    assert_eq!(job.stream, Some("stream-1"));
    assert!(job.mqtt && job.http);
    assert_eq!(job.file_size as usize, s.read("fw.img").len());
    assert_eq!(job.file_id, 3);
    assert_eq!(job.file_type, 0);
    assert_eq!(
        job.url.and_then(|u| u.raw_str()),
        Some(&b"http://127.0.0.1:8080/fw.img?sig=abc"[..])
    );
    let sig = STANDARD
        .decode(file["sig-sha256-ecdsa"].as_str().unwrap())
        .unwrap();
    assert_eq!(job.signature.as_slice(), sig.as_slice());
}

#[test]
fn self_test_ready_execution_is_what_the_device_finds_after_reboot() {
    let s = setup();
    let text = s.otactl_ok(&[
        "job",
        "--job-id",
        "job-2",
        "--file",
        "fw.img",
        "--key",
        "k.pem",
        "--stream",
        "s",
        "--execution",
        "--self-test-ready",
        "--updated-by",
        "0x01000000",
    ]);
    let reply = json(&text);
    assert!(reply.get("clientToken").is_none());
    let execution = &reply["execution"];
    assert_eq!(execution["status"], "IN_PROGRESS");
    assert_eq!(
        execution["statusDetails"],
        serde_json::json!({"self_test": "ready", "updatedBy": "0x01000000"})
    );
    let Document::Ota(job) = parse_document(text.trim_end().as_bytes()) else {
        panic!("not an OTA job: {text}");
    };
    assert!(job.self_test);
    assert_eq!(job.updated_by, Some(0x0100_0000));
}

#[test]
fn http_only_document_needs_no_stream() {
    let s = setup();
    s.otactl_ok(&[
        "job",
        "--job-id",
        "j",
        "--file",
        "fw.img",
        "--key",
        "k.pem",
        "--protocols",
        "HTTP",
        "--url",
        "http://127.0.0.1/f",
        "-o",
        "doc.json",
    ]);
    let doc = json(std::str::from_utf8(&s.read("doc.json")).unwrap());
    assert_eq!(doc["afr_ota"]["protocols"], serde_json::json!(["HTTP"]));
    assert!(doc["afr_ota"].get("streamname").is_none());
}

#[test]
fn unusable_jobs_are_refused_with_a_reason() {
    let s = setup();
    let base = ["job", "--file", "fw.img", "--key", "k.pem"];
    let cases: [(&[&str], i32, &str); 8] = [
        (&["--job-id", "j"], 1, "no stream name"),
        (
            &["--job-id", "j", "--protocols", "HTTP"],
            1,
            "no update_data_url",
        ),
        (
            &["--job-id", "j", "--protocols", "MQTT,MQTT", "--stream", "s"],
            1,
            "listed twice",
        ),
        (
            &["--job-id", "j", "--protocols", "FTP"],
            2,
            "unknown protocol",
        ),
        (
            &["--job-id", "bad id", "--stream", "s"],
            1,
            "invalid job id",
        ),
        (
            &["--job-id", "j", "--stream", "s/t"],
            1,
            "invalid stream name",
        ),
        (
            &[
                "--job-id",
                "j",
                "--stream",
                "s",
                "--self-test-ready",
                "--updated-by",
                "1",
            ],
            2,
            "--execution",
        ),
        (
            &["--job-id", "j", "--stream", "s", "--file-id", "256"],
            2,
            "out of range",
        ),
    ];
    for (extra, code, reason) in cases {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let err = s.otactl_fails(&args, code);
        assert!(err.contains(reason), "{extra:?}: {err}");
    }
}

#[test]
fn serve_device_and_demo_refuse_bad_arguments_before_doing_anything() {
    let s = Scratch::new();
    // clap's usage errors exit with 2; the commands' own errors with 1.
    for (command, code) in [
        (&["device"][..], 2),
        (&["demo", "--size", "lots"], 2),
        (&["demo", "--http", "--power-cut"], 2),
        (&["serve", "--broker", "no-port-here"], 1),
        (
            &[
                "device",
                "--flash",
                "f",
                "--thing",
                "t",
                "--key",
                "missing.pem",
            ],
            1,
        ),
    ] {
        let err = s.otactl_fails(command, code);
        assert!(!err.contains("not implemented"), "{command:?}: {err}");
    }
}
