//! `job check` and `stream`: the agent's own parsers, from the command line.

use crate::common::Scratch;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn encode_request_matches_protocol_vectors() {
    let s = Scratch::new();
    // PROTOCOL.md §5.1: first request for a 3-block file.
    let out = s.otactl_ok(&[
        "stream",
        "encode-request",
        "--file-id",
        "0",
        "--block-size",
        "4096",
        "--bitmap",
        "07",
        "--count",
        "1",
    ]);
    assert_eq!(
        out.trim(),
        "a6616363726479616600616c191000616f0061624107616e01"
    );
    let out = s.otactl_ok(&[
        "stream",
        "encode-request",
        "--file-id",
        "1",
        "--block-size",
        "0x1000",
        "--offset",
        "7",
        "--bitmap",
        "ff 03",
        "--count",
        "4",
    ]);
    assert_eq!(
        out.trim(),
        "a6616363726479616601616c191000616f076162 42ff03 616e04".replace(' ', "")
    );
}

#[test]
fn decode_block_reports_fields_or_an_error() {
    let s = Scratch::new();
    let v = json(&s.otactl_ok(&[
        "stream",
        "decode-block",
        "a4 6166 00 616c 02 6169 01 6170 42 aabb",
    ]));
    assert_eq!(
        v,
        json(r#"{"file_id":0,"block":1,"length":2,"payload_len":2}"#)
    );
    let out = s.otactl(&["stream", "decode-block", "a4 6166 00"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&String::from_utf8_lossy(&out.stdout))["error"].is_string());
}

#[test]
fn job_check_explains_documents() {
    let s = Scratch::new();
    s.write(
        "zero.json",
        br#"{"execution":{"jobId":"j1","jobDocument":{"afr_ota":{"protocols":["MQTT"],"streamname":"s","files":[{"filesize":0,"fileid":0,"sig-sha256-ecdsa":"AAAA"}]}}}}"#,
    );
    let out = s.otactl(&["job", "check", "zero.json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(v["kind"], "invalid");
    assert_eq!(v["job_id"], "j1");
    assert_eq!(v["error"], "zero file size: filesize is 0");

    let sig = "MEQCIFW0Fqv8kuwZ0GkHPzy6xhWLkYrdr5jvtiKpG+6ZsdVvAiBIvrIdGbqeWPvgC3ErS0Ucf01k7vDZtq8Pq1sVWmsETA==";
    s.write(
        "ok.json",
        format!(
            r#"{{"execution":{{"jobId":"AFR_OTA-x","statusDetails":{{"self_test":"ready","updatedBy":"0x1000000"}},"jobDocument":{{"afr_ota":{{"protocols":["MQTT","HTTP"],"streamname":"AFR_OTA-s","files":[{{"filesize":730304,"fileid":0,"update_data_url":"https:\/\/h\/f","sig-sha256-ecdsa":"{sig}"}},{{"filesize":1}}]}}}}}}}}"#
        )
        .as_bytes(),
    );
    let v = json(&s.otactl_ok(&["job", "check", "ok.json"]));
    assert_eq!(v["kind"], "self_test");
    assert_eq!(v["protocols"], json(r#"["MQTT","HTTP"]"#));
    assert_eq!(v["updatedBy"], "0x01000000");
    assert_eq!(v["files"][0]["filesize"], 730304);
    assert_eq!(v["files"][0]["signature_bytes"], 70);
    assert_eq!(v["files"][0]["update_data_url"], "https://h/f");
    assert_eq!(v["ignored_files"], 1);
}
