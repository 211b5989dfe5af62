//! The admin HTTP endpoint of `otactl serve`, driving jobs and streams from
//! "another process".

mod service_common;

use serde_json::{json, Value};
use service_common::{data, get_stream, http_get, http_request, Fixture};

fn post(base: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = http_request(
        "POST",
        &format!("{base}{path}"),
        &[],
        body.to_string().as_bytes(),
    );
    (status, serde_json::from_slice(&body).expect("JSON answer"))
}

fn get(base: &str, path: &str) -> (u16, Value) {
    let (status, _, body) = http_get(&format!("{base}{path}"), &[]);
    (status, serde_json::from_slice(&body).expect("JSON answer"))
}

#[test]
fn streams_jobs_executions_and_cancel_over_http() {
    let fx = Fixture::mosquitto_with(|c| c.admin_port = Some(0));
    let base = format!("http://127.0.0.1:{}", fx.service.admin_port().unwrap());
    let dir = std::env::temp_dir().join(format!("otactl-admin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("fw.bin");
    let firmware = data(5000, 2);
    std::fs::write(&path, &firmware).unwrap();

    let (status, body) = post(
        &base,
        "/streams",
        json!({"stream_id": "S", "files": [{"file_id": 0, "path": path}]}),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["stream"]["version"], 1);
    assert_eq!(body["stream"]["files"]["0"], 5000);
    assert_eq!(body["urls"]["0"], fx.service.file_url("S", 0));
    let (status, body) = post(
        &base,
        "/streams",
        json!({"stream_id": "S", "files": [{"file_id": 0, "path": "/nonexistent"}]}),
    );
    assert_eq!(status, 400, "{body}");

    let document = json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "S", "files": [{"filesize": 5000, "fileid": 0}]}});
    let (status, body) = post(
        &base,
        "/jobs",
        json!({"job_id": "J", "things": ["t1", "t2"], "document": document}),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(
        &base,
        "/jobs",
        json!({"job_id": "J", "things": ["t1"], "document": {}}),
    );
    assert_eq!(status, 409, "{body}");
    let (status, _) = post(
        &base,
        "/jobs",
        json!({"job_id": "bad/id", "things": ["t1"], "document": {}}),
    );
    assert_eq!(status, 400);
    let (status, _) = post(&base, "/jobs", json!({"nonsense": true}));
    assert_eq!(status, 400);

    // A device works the job; the admin API sees its updates.
    let mut dev = fx.device("t1");
    assert_eq!(dev.next_job("a")["execution"]["jobDocument"], document);
    let blocks = dev.get_stream("S", get_stream("c", 0, 1024, 0, None, Some(&[0x1f])));
    let received: Vec<u8> = blocks.iter().flat_map(|b| b.payload.clone()).collect();
    assert_eq!(received, firmware);
    let (ok, _) = dev.update(
        "J",
        json!({"status": "SUCCEEDED", "statusDetails": {"reason": "ok"}}),
    );
    assert!(ok);

    let (status, e) = get(&base, "/things/t1/jobs/J");
    assert_eq!(status, 200);
    assert_eq!(
        (e["status"].as_str(), e["statusDetails"]["reason"].as_str()),
        (Some("SUCCEEDED"), Some("ok"))
    );
    assert_eq!(e["history"].as_array().unwrap().len(), 2);
    let (status, list) = get(&base, "/executions");
    assert_eq!(status, 200);
    let pairs: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["thingName"].clone(), e["status"].clone()))
        .collect();
    assert_eq!(
        pairs,
        [
            (json!("t1"), json!("SUCCEEDED")),
            (json!("t2"), json!("QUEUED"))
        ]
    );

    let (status, e) = post(&base, "/things/t2/jobs/J/cancel", json!({}));
    assert_eq!((status, e["status"].as_str()), (200, Some("CANCELED")));
    let (status, _) = post(&base, "/things/t1/jobs/J/cancel", json!({"force": true}));
    assert_eq!(status, 409, "terminal");
    let (status, _) = get(&base, "/things/t9/jobs/J");
    assert_eq!(status, 404);
    let (status, stats) = get(&base, "/stats");
    assert_eq!(status, 200);
    assert_eq!(stats["blocks_by_thing"]["t1"], 5);
    assert_eq!(get(&base, "/nowhere").0, 404);
    assert_eq!(
        http_request("DELETE", &format!("{base}/jobs"), &[], b"").0,
        405
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
