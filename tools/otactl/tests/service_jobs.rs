//! The Jobs API of `otactl serve` against a real mosquitto broker.

mod service_common;

use std::time::Duration;

use otactl::service::{JobStatus, Origin, ServiceError};
use serde_json::json;
use service_common::{Fixture, WAIT};

fn doc(n: u32) -> serde_json::Value {
    json!({"afr_ota": {"protocols": ["MQTT"], "streamname": "S", "files": [
        {"filepath": "/", "filesize": 1000 + n, "fileid": 0, "sig-sha256-ecdsa": "MEUC"}]}})
}

#[test]
fn next_get_without_then_with_a_pending_job() {
    let fx = Fixture::mosquitto();
    let mut dev = fx.device("thing-1");

    let reply = dev.next_job("0:thing-1");
    assert!(reply.get("execution").is_none(), "nothing pending: {reply}");
    assert!(reply["timestamp"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(
        reply.as_object().unwrap().len(),
        2,
        "only clientToken and timestamp: {reply}"
    );

    fx.service
        .create_job(&["thing-1"], "AFR_OTA-job1", doc(1))
        .unwrap();
    let notify = dev.expect("jobs/notify-next").json();
    assert_eq!(notify["execution"]["jobId"], "AFR_OTA-job1");
    assert_eq!(notify["execution"]["jobDocument"], doc(1));
    assert!(notify.get("clientToken").is_none());

    dev.publish("jobs/$next/get", r#"{"clientToken":"1:thing-1"}"#);
    let m = dev.expect("jobs/$next/get/accepted");
    let text = String::from_utf8(m.payload.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"clientToken":"1:thing-1","timestamp":"#),
        "AWS key order: {text}"
    );
    assert!(
        text.contains(r#""execution":{"jobId":"AFR_OTA-job1","status":"QUEUED","queuedAt":"#),
        "{text}"
    );
    let e = &m.json()["execution"];
    assert_eq!(e["versionNumber"], 1);
    assert_eq!(e["executionNumber"], 1);
    assert!(e["lastUpdatedAt"].as_u64().is_some());
    assert!(
        e.get("startedAt").is_none() && e.get("statusDetails").is_none(),
        "{e}"
    );
    assert_eq!(e["jobDocument"], doc(1));

    // Without a client token, and with the document left out.
    dev.publish("jobs/$next/get", r#"{"includeJobDocument":false}"#);
    let reply = dev.expect("jobs/$next/get/accepted").json();
    assert!(reply.get("clientToken").is_none());
    assert_eq!(reply["execution"]["jobId"], "AFR_OTA-job1");
    assert!(reply["execution"].get("jobDocument").is_none());

    // An empty payload is a request too; a specific job id works like $next.
    dev.publish("jobs/$next/get", "");
    assert_eq!(
        dev.expect("jobs/$next/get/accepted").json()["execution"]["jobId"],
        "AFR_OTA-job1"
    );
    dev.publish("jobs/AFR_OTA-job1/get", r#"{"clientToken":"x"}"#);
    assert_eq!(
        dev.expect("jobs/AFR_OTA-job1/get/accepted").json()["execution"]["status"],
        "QUEUED"
    );
    dev.publish("jobs/nope/get", r#"{"clientToken":"y"}"#);
    let rejected = dev.expect("jobs/nope/get/rejected").json();
    assert_eq!(
        (rejected["code"].as_str(), rejected["clientToken"].as_str()),
        (Some("ResourceNotFound"), Some("y"))
    );
    dev.publish("jobs/$next/get", "{oops");
    assert_eq!(
        dev.expect("jobs/$next/get/rejected").json()["code"],
        "InvalidJson"
    );
}

#[test]
fn in_progress_first_and_notify_next_only_when_next_changes() {
    let fx = Fixture::mosquitto();
    let mut dev = fx.device("t");
    fx.service.create_job(&["t"], "A", doc(1)).unwrap();
    assert_eq!(
        dev.expect("jobs/notify-next").json()["execution"]["jobId"],
        "A"
    );
    fx.service.create_job(&["t"], "B", doc(2)).unwrap();
    dev.expect_nothing("jobs/notify-next");
    assert_eq!(
        dev.next_job("1")["execution"]["jobId"],
        "A",
        "oldest QUEUED first"
    );

    // Starting the newer job makes it next: IN_PROGRESS before QUEUED.
    let (ok, reply) = dev.update(
        "B",
        json!({"status": "IN_PROGRESS", "statusDetails": {"receive": "1/3"}, "clientToken": "u1"}),
    );
    assert!(ok, "{reply}");
    assert_eq!(reply["clientToken"], "u1");
    let notify = dev.expect("jobs/notify-next").json();
    assert_eq!(notify["execution"]["jobId"], "B");
    assert_eq!(
        notify["execution"]["statusDetails"],
        json!({"receive": "1/3"})
    );

    // Status details changes are not a next change.
    let (ok, _) = dev.update(
        "B",
        json!({"status": "IN_PROGRESS", "statusDetails": {"receive": "2/3"}}),
    );
    assert!(ok);
    dev.expect_nothing("jobs/notify-next");
    let e = &dev.next_job("2")["execution"];
    assert_eq!(
        (e["jobId"].as_str(), e["status"].as_str()),
        (Some("B"), Some("IN_PROGRESS"))
    );
    assert_eq!(e["statusDetails"], json!({"receive": "2/3"}));
    assert_eq!(e["versionNumber"], 3);
    assert!(e["startedAt"].as_u64().is_some());

    // Starting the job that is already next is not a change either.
    let (ok, _) = dev.update(
        "B",
        json!({"status": "SUCCEEDED", "statusDetails": {"reason": "accepted  v1.0.1"}}),
    );
    assert!(ok);
    assert_eq!(
        dev.expect("jobs/notify-next").json()["execution"]["jobId"],
        "A"
    );
    let (ok, _) = dev.update("A", json!({"status": "IN_PROGRESS"}));
    assert!(ok);
    dev.expect_nothing("jobs/notify-next");
    let (ok, _) = dev.update(
        "A",
        json!({"status": "FAILED", "statusDetails": {"reason": "rejected: 0x0000000f"}}),
    );
    assert!(ok);
    let empty = dev.expect("jobs/notify-next").json();
    assert_eq!(
        empty.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["timestamp"],
        "{empty}"
    );
    assert!(dev.next_job("3").get("execution").is_none());

    let b = fx.service.execution("t", "B").unwrap();
    assert_eq!(b.status, JobStatus::Succeeded);
    let statuses: Vec<_> = b
        .history
        .iter()
        .map(|h| (h.status, h.origin, h.version_number))
        .collect();
    assert_eq!(
        statuses,
        [
            (JobStatus::Queued, Origin::Service, 1),
            (JobStatus::InProgress, Origin::Device, 2),
            (JobStatus::InProgress, Origin::Device, 3),
            (JobStatus::Succeeded, Origin::Device, 4),
        ]
    );
    assert_eq!(b.history[1].status_details["receive"], "1/3");
    assert_eq!(fx.service.stats().notify_next_sent, 4);
}

#[test]
fn updates_to_terminal_executions_are_rejected() {
    let fx = Fixture::mosquitto();
    let mut dev = fx.device("t");
    fx.service.create_job(&["t"], "J", doc(1)).unwrap();
    let (ok, _) = dev.update(
        "J",
        json!({"status": "SUCCEEDED", "statusDetails": {"reason": "done"}}),
    );
    assert!(ok);
    let (ok, reply) = dev.update("J", json!({"status": "IN_PROGRESS", "clientToken": "late"}));
    assert!(!ok);
    assert_eq!(reply["code"], "InvalidStateTransition");
    assert_eq!(reply["clientToken"], "late");
    assert_eq!(
        reply["executionState"],
        json!({"status": "SUCCEEDED", "statusDetails": {"reason": "done"}, "versionNumber": 2})
    );
    assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));

    let (ok, reply) = dev.update("J", json!({"status": "QUEUED"}));
    assert!(!ok);
    assert_eq!(reply["code"], "InvalidRequest");
    let (ok, reply) = dev.update("missing", json!({"status": "IN_PROGRESS"}));
    assert!(!ok);
    assert_eq!(reply["code"], "ResourceNotFound");

    let e = fx.service.execution("t", "J").unwrap();
    assert_eq!(e.version_number, 2, "rejected updates change nothing");
    let codes: Vec<_> = e.rejected_updates.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["InvalidStateTransition", "InvalidRequest"]);
    assert!(e.rejected_updates[0].request.contains("late"));

    // includeJobExecutionState / includeJobDocument on an accepted update.
    fx.service.create_job(&["t"], "K", doc(2)).unwrap();
    let (ok, reply) = dev.update(
        "K",
        json!({"status": "IN_PROGRESS", "expectedVersion": 1, "includeJobExecutionState": true, "includeJobDocument": true}),
    );
    assert!(ok, "{reply}");
    assert_eq!(reply["executionState"]["versionNumber"], 2);
    assert_eq!(reply["jobDocument"], doc(2));
    let (ok, reply) = dev.update("K", json!({"status": "IN_PROGRESS", "expectedVersion": 1}));
    assert!(!ok);
    assert_eq!(reply["code"], "VersionMismatch");
}

#[test]
fn cancel_and_force_cancel() {
    let fx = Fixture::mosquitto();
    let mut dev = fx.device("t");
    fx.service.create_job(&["t"], "A", doc(1)).unwrap();
    fx.service.create_job(&["t"], "B", doc(2)).unwrap();
    assert_eq!(
        dev.expect("jobs/notify-next").json()["execution"]["jobId"],
        "A"
    );

    // Cancelling a QUEUED job that is not next: no notification.
    fx.service.cancel_job("t", "B", false).unwrap();
    dev.expect_nothing("jobs/notify-next");
    assert_eq!(
        fx.service.execution("t", "B").unwrap().status,
        JobStatus::Canceled
    );

    let (ok, _) = dev.update("A", json!({"status": "IN_PROGRESS"}));
    assert!(ok);
    let err = fx.service.cancel_job("t", "A", false).unwrap_err();
    assert!(matches!(err, ServiceError::Conflict(_)), "{err}");
    assert_eq!(
        fx.service.execution("t", "A").unwrap().status,
        JobStatus::InProgress
    );
    dev.expect_nothing("jobs/notify-next");

    fx.service.cancel_job("t", "A", true).unwrap();
    let notify = dev.expect("jobs/notify-next").json();
    assert!(
        notify.get("execution").is_none(),
        "queue now empty: {notify}"
    );
    let e = fx.service.wait_for_terminal("t", "A", WAIT).unwrap();
    assert_eq!(e.status, JobStatus::Canceled);
    assert_eq!(e.history.last().unwrap().origin, Origin::Service);

    // The device finds out when it reports progress.
    let (ok, reply) = dev.update(
        "A",
        json!({"status": "IN_PROGRESS", "statusDetails": {"receive": "2/3"}}),
    );
    assert!(!ok);
    assert_eq!(reply["code"], "InvalidStateTransition");
    assert_eq!(reply["executionState"]["status"], "CANCELED");

    assert!(matches!(
        fx.service.cancel_job("t", "A", true),
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        fx.service.cancel_job("t", "Z", true),
        Err(ServiceError::NotFound(_))
    ));
    assert!(matches!(
        fx.service.create_job(&["t"], "A", doc(1)),
        Err(ServiceError::Conflict(_))
    ));

    // A QUEUED job that is next: cancel makes the next one (none) next.
    fx.service.create_job(&["t"], "C", doc(3)).unwrap();
    assert_eq!(
        dev.expect("jobs/notify-next").json()["execution"]["jobId"],
        "C"
    );
    fx.service.remove_execution("t", "C").unwrap();
    assert!(dev
        .expect("jobs/notify-next")
        .json()
        .get("execution")
        .is_none());
    assert_eq!(
        fx.service.execution("t", "C").unwrap().status,
        JobStatus::Removed
    );
}

#[test]
fn many_devices_at_once() {
    let fx = Fixture::mosquitto();
    let names: Vec<String> = (0..8).map(|i| format!("fleet-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut devices: Vec<_> = names.iter().map(|n| fx.device(n)).collect();
    fx.service.create_job(&refs, "fleet-job", doc(7)).unwrap();
    let threads: Vec<_> = devices
        .drain(..)
        .map(|mut dev| {
            std::thread::spawn(move || {
                assert_eq!(
                    dev.expect("jobs/notify-next").json()["execution"]["jobId"],
                    "fleet-job"
                );
                let reply = dev.next_job(&dev.thing.clone());
                assert_eq!(reply["execution"]["jobId"], "fleet-job");
                let (ok, _) = dev.update("fleet-job", json!({"status": "IN_PROGRESS"}));
                assert!(ok);
                let (ok, _) = dev.update(
                    "fleet-job",
                    json!({"status": "SUCCEEDED", "statusDetails": {"who": dev.thing.clone()}}),
                );
                assert!(ok);
                dev
            })
        })
        .collect();
    let devices: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().expect("device thread"))
        .collect();
    for name in &names {
        let e = fx
            .service
            .wait_for_terminal(name, "fleet-job", Duration::from_secs(1))
            .unwrap();
        assert_eq!(e.status, JobStatus::Succeeded);
        assert_eq!(
            &e.status_details["who"], name,
            "each device updated its own execution"
        );
    }
    assert_eq!(fx.service.executions().len(), names.len());
    drop(devices);
}
