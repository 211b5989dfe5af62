//! The HTTP data plane of `otactl serve`: pre-signed expiring URLs in job
//! documents, `Range` requests, refresh by re-fetching the job document.

mod service_common;

use std::time::{Duration, SystemTime};

use serde_json::json;
use service_common::{data, header, http_get, Fixture};

fn http_job_document(url: &str, len: usize) -> serde_json::Value {
    json!({"afr_ota": {"protocols": ["HTTP"], "files": [{
        "filepath": "/", "filesize": len, "fileid": 0,
        "update_data_url": url, "auth_scheme": "aws.s3.presigned", "sig-sha256-ecdsa": "MEUC"}]}})
}

#[test]
fn ranges_on_a_presigned_url_from_the_job_document() {
    let fx = Fixture::mosquitto();
    let file = data(10_240, 5);
    fx.service.create_stream("S", [(0, file.clone())]).unwrap();
    let unsigned = fx.service.file_url("S", 0);
    fx.service
        .create_job(&["t"], "J", http_job_document(&unsigned, file.len()))
        .unwrap();
    let mut dev = fx.device("t");
    let reply = dev.next_job("1");
    let url = reply["execution"]["jobDocument"]["afr_ota"]["files"][0]["update_data_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("{unsigned}?Expires=")), "{url}");
    assert!(url.contains("&Signature="), "{url}");

    // The C agent's three ranges for a 10240-byte file.
    for (start, end) in [(0, 4095), (4096, 8191), (8192, 10239)] {
        let (status, headers, body) = http_get(&url, &[("Range", &format!("bytes={start}-{end}"))]);
        assert_eq!(status, 206);
        assert_eq!(
            header(&headers, "content-range"),
            Some(format!("bytes {start}-{end}/10240").as_str())
        );
        assert_eq!(body, file[start..=end]);
    }
    let (status, headers, body) = http_get(&url, &[("Range", "bytes=10000-20000")]);
    assert_eq!(
        (status, header(&headers, "content-range")),
        (206, Some("bytes 10000-10239/10240"))
    );
    assert_eq!(body.len(), 240);
    let (status, headers, _) = http_get(&url, &[("Range", "bytes=10240-")]);
    assert_eq!(
        (status, header(&headers, "content-range")),
        (416, Some("bytes */10240"))
    );
    let (status, headers, body) = http_get(&url, &[]);
    assert_eq!(
        (status, header(&headers, "accept-ranges")),
        (200, Some("bytes"))
    );
    assert_eq!(body, file);

    // Unsigned, tampered, expired and unknown.
    assert_eq!(http_get(&unsigned, &[]).0, 403);
    let tampered = url.replace("Signature=", "Signature=00");
    assert_eq!(http_get(&tampered, &[]).0, 403);
    let expired = fx
        .service
        .presigned_url("S", 0, SystemTime::now() - Duration::from_secs(1));
    let (status, _, body) = http_get(&expired, &[]);
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("Request has expired"));
    let missing = fx
        .service
        .presigned_url("S", 9, SystemTime::now() + Duration::from_secs(60));
    assert_eq!(http_get(&missing, &[]).0, 404);

    let stats = fx.service.stats();
    assert_eq!(stats.http_bytes, 10_240 + 240 + 10_240);
    assert_eq!(stats.http_bytes_by_file["S/0"], stats.http_bytes);
    assert_eq!(stats.http_forbidden, 3);
}

#[test]
fn an_expired_url_is_refreshed_by_fetching_the_job_again() {
    let fx = Fixture::mosquitto_with(|c| c.url_lifetime = Duration::from_secs(1));
    fx.service.create_stream("S", [(0, data(1000, 1))]).unwrap();
    let doc = http_job_document(&fx.service.file_url("S", 0), 1000);
    fx.service.create_job(&["t"], "J", doc).unwrap();
    let mut dev = fx.device("t");
    let url_of = |reply: serde_json::Value| {
        reply["execution"]["jobDocument"]["afr_ota"]["files"][0]["update_data_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first = url_of(dev.next_job("1"));
    assert_eq!(http_get(&first, &[("Range", "bytes=0-99")]).0, 206);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        http_get(&first, &[("Range", "bytes=100-199")]).0,
        403,
        "expired"
    );
    let second = url_of(dev.next_job("2"));
    assert_ne!(first, second);
    let (status, _, body) = http_get(&second, &[("Range", "bytes=100-199")]);
    assert_eq!((status, body.len()), (206, 100));
}
