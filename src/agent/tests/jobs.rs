//! Job documents: classification, refusals before flash, custom jobs,
//! cancellation, the job request and its retries.

use super::harness::*;
use crate::{
    CustomJobReply, CustomJobStatus, Event, FailReason, JobError, Processed, Protocols, QoS, State,
};
use std::format;
use std::vec::Vec;

fn started() -> Dut {
    Dut::started(config(), platform(1 << 20, V1))
}

fn subscriptions(d: &Dut) -> usize {
    d.sent.iter().filter(|s| matches!(s, Sent::Sub(..))).count()
}

#[test]
fn empty_document_means_no_job() {
    let mut d = started();
    assert_eq!(d.job(&no_job()), Processed::JobDocument);
    assert_eq!(d.take_events(), [Event::NoActiveJob]);
    assert_eq!(d.agent.state(), State::WaitingForJob);
    // notify-next with an empty queue, and a payload that is not JSON.
    d.msg("jobs/notify-next", br#"{"timestamp":3}"#);
    d.msg("jobs/notify-next", b"not a json");
    assert_eq!(d.take_events(), [Event::NoActiveJob, Event::NoActiveJob]);
    assert_eq!(d.pf().slot.writes + d.pf().slot.erases, 0);
}

#[test]
fn quirk_lost_job_request_reply_is_retried() {
    // [C quirk] 11.1.5: a lost $next/get reply was never retried.
    let mut d = started();
    assert_eq!(d.job_requests(), 1);
    d.advance(9_999);
    assert_eq!(d.job_requests(), 1);
    d.advance(1);
    assert_eq!(d.job_requests(), 2);
    // [C quirk] 11.1.12: every `$next/get` re-subscribed to notify-next.
    // Here the two subscriptions made by start are the only ones.
    assert_eq!(subscriptions(&d), 2);
    let counters: Vec<_> = d
        .sent
        .iter()
        .filter(|s| s.is_pub_to("jobs/$next/get"))
        .map(Sent::text)
        .collect();
    // [C quirk] 2.2: the counter lost its last digit; here it is intact.
    assert_eq!(
        counters,
        [
            r#"{"clientToken":"0:thing-1"}"#,
            r#"{"clientToken":"1:thing-1"}"#
        ]
    );
    // Once a reply arrives, no more retries.
    d.job(&no_job());
    d.advance(60_000);
    assert_eq!(d.job_requests(), 2);
}

#[test]
fn quirk_check_for_update_works_while_idle() {
    // [C quirk] 7.3: OTA_CheckForUpdate was dropped in WaitingForJob.
    let mut d = started();
    d.job(&no_job());
    assert_eq!(d.agent.state(), State::WaitingForJob);
    d.agent.check_for_update(d.now).unwrap();
    assert_eq!(d.agent.state(), State::RequestingJob);
    d.pump();
    assert_eq!(d.job_requests(), 2);
    assert_eq!(subscriptions(&d), 2, "no new subscription");
}

#[test]
fn client_token_keeps_at_most_53_characters_of_the_thing_name() {
    let long = "t".repeat(100);
    let mut d = Dut::new(config(), platform(1 << 20, V1));
    d.agent = crate::Agent::new(config(), &long, platform(1 << 20, V1)).unwrap();
    d.agent.start(d.now).unwrap();
    d.pump();
    let body = d.sent.iter().find_map(|s| match s {
        Sent::Pub { payload, .. } => Some(std::string::String::from_utf8(payload.clone()).unwrap()),
        _ => None,
    });
    assert_eq!(
        body.unwrap(),
        format!(r#"{{"clientToken":"0:{}"}}"#, "t".repeat(53))
    );
}

/// [C quirk] 3.3.7 / 11.1.7: zero size, a file too large, and no usable
/// protocol were silent (or left the agent stuck); here each is reported
/// FAILED with a reason before any flash is touched.
#[test]
fn quirk_unusable_jobs_fail_with_a_reason_before_flash() {
    let file = image(1000, (1, 1, 0));
    let cases: Vec<(JobSpec, &str, FailReason)> = std::vec![
        (
            JobSpec {
                size: 0,
                ..JobSpec::for_file("zero", &file)
            },
            r#"{"status":"FAILED","statusDetails":{"reason":"0x0000000c: 0x00000003"}}"#,
            FailReason::Job(JobError::ZeroFileSize),
        ),
        (
            JobSpec {
                size: 2 << 20,
                ..JobSpec::for_file("big", &file)
            },
            r#"{"status":"FAILED","statusDetails":{"reason":"0x000000e5: 0x00000000"}}"#,
            FailReason::FileTooLarge,
        ),
        (
            JobSpec {
                protocols: r#"["FTP"]"#,
                ..JobSpec::for_file("proto", &file)
            },
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#,
            FailReason::UnsupportedProtocol,
        ),
        (
            JobSpec {
                signature: "%%%".into(),
                ..JobSpec::for_file("sig", &file)
            },
            r#"{"status":"FAILED","statusDetails":{"reason":"0x0000000c: 0x00000004"}}"#,
            FailReason::Job(JobError::BadSignature),
        ),
        (
            JobSpec::for_file("http-only", &file).http(&"u".repeat(600)),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#,
            FailReason::UnsupportedProtocol,
        ),
        // A URL is printable ASCII (RFC 3986 percent-encodes the rest).
        (
            JobSpec::for_file("url-utf8", &file).http("https://h/caf\u{e9}"),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#,
            FailReason::UnsupportedProtocol,
        ),
        (
            JobSpec::for_file("url-escape", &file).http(r"https://h/\u00e9"),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#,
            FailReason::UnsupportedProtocol,
        ),
        (
            JobSpec::for_file("url-control", &file).http(r"https://h/\u0007"),
            r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x0000000d"}}"#,
            FailReason::UnsupportedProtocol,
        ),
    ];
    for (spec, body, reason) in cases {
        let mut d = started();
        d.job(&spec.doc());
        assert_eq!(d.take_events(), [Event::Fail(reason)], "{}", spec.id);
        assert_eq!(d.statuses(&spec.id), [body], "{}", spec.id);
        assert_eq!(d.pf().slot.writes + d.pf().slot.erases, 0, "{}", spec.id);
        assert_eq!(d.agent.state(), State::WaitingForJob);
        d.ack_all();
        assert_eq!(d.agent.state(), State::WaitingForJob);
        assert_eq!(
            d.job_requests(),
            2,
            "after a FAILED status, the next job is asked for"
        );
    }
}

/// A job that offers both planes takes the one the configuration picks:
/// MQTT unless HTTP is preferred, and the only one enabled when the other is
/// not.
#[test]
fn a_job_offering_both_planes_takes_the_configured_one() {
    let file = image(1000, (1, 1, 0));
    let mut spec = JobSpec::for_file("j", &file).http("https://h/x");
    spec.protocols = r#"["MQTT","HTTP"]"#;
    // (mqtt, http, prefer_http) -> HTTP taken
    for (mqtt, http, prefer_http, takes_http) in [
        (true, true, false, false),
        (true, true, true, true),
        (false, true, false, true),
        (true, false, true, false),
    ] {
        let config = crate::Config {
            protocols: Protocols {
                mqtt,
                http,
                prefer_http,
            },
            ..config()
        };
        let mut d = Dut::started(config, platform(1 << 20, V1));
        d.job(&spec.doc());
        let case = (mqtt, http, prefer_http);
        if takes_http {
            assert!(
                matches!(d.sent.last(), Some(Sent::Http(u, 0, _)) if u == "https://h/x"),
                "{case:?}"
            );
        } else {
            assert_eq!(d.stream_requests("AFR_OTA-stream-1").len(), 1, "{case:?}");
            assert!(
                !d.sent.iter().any(|s| matches!(s, Sent::Http(..))),
                "{case:?}"
            );
        }
    }
}

#[test]
fn quirk_a_shorter_job_id_does_not_keep_the_tail_of_the_last() {
    // [C quirk] 3.3.4: "AFR_OTA-testjob20" then "JOBX" gave "JOBXOTA-testjob20".
    let file = image(1000, (1, 1, 0));
    let mut d = started();
    d.job(
        &JobSpec {
            size: 0,
            ..JobSpec::for_file("AFR_OTA-testjob20", &file)
        }
        .doc(),
    );
    d.ack_all();
    d.job(
        &JobSpec {
            size: 0,
            ..JobSpec::for_file("JOBX", &file)
        }
        .doc(),
    );
    assert_eq!(d.statuses("JOBX").len(), 1);
    assert!(d
        .sent
        .iter()
        .all(|s| !s.is_pub_to("jobs/JOBXOTA-testjob20/update")));
    assert_eq!(d.agent.job_id(), Some("JOBX"));
}

#[test]
fn custom_jobs_claimed_or_declined() {
    let doc = r#"{"execution":{"jobId":"reboot-1","jobDocument":{"op":"reboot"}}}"#;
    // Declined (the default): FAILED as non-conforming, like the C agent.
    let mut d = started();
    d.job(doc);
    assert_eq!(
        d.pf().custom_seen,
        [("reboot-1".into(), br#"{"op":"reboot"}"#.to_vec())]
    );
    assert_eq!(
        d.take_events(),
        [Event::Fail(FailReason::CustomJobDeclined)]
    );
    assert_eq!(
        d.statuses("reboot-1"),
        [r#"{"status":"FAILED","statusDetails":{"reason":"0x0000000c: 0x00000004"}}"#]
    );
    // Claimed with a terminal status: that status is published and acked.
    let mut d = started();
    d.pf().custom_reply = CustomJobReply::Claim(CustomJobStatus::Succeeded);
    d.job(doc);
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    assert_eq!(d.statuses("reboot-1"), [r#"{"status":"SUCCEEDED"}"#]);
    d.ack_all();
    assert_eq!(d.job_requests(), 2);
    // Claimed as in progress: QoS 0, no wait.
    let mut d = started();
    d.pf().custom_reply = CustomJobReply::Claim(CustomJobStatus::InProgress);
    d.job(doc);
    assert!(matches!(
        d.sent.last(),
        Some(Sent::Pub {
            qos: QoS::AtMostOnce,
            token: None,
            ..
        })
    ));
    assert_eq!(d.agent.state(), State::WaitingForJob);
}

#[test]
fn invalid_ota_documents_are_not_offered_as_custom_jobs() {
    let file = image(1000, (1, 1, 0));
    let mut d = started();
    let doc = JobSpec::for_file("j", &file)
        .doc()
        .replace(r#""fileid":0"#, r#""fileid":"x""#);
    d.job(&doc);
    assert!(d.pf().custom_seen.is_empty());
    assert_eq!(
        d.take_events(),
        [Event::Fail(FailReason::Job(JobError::BadNumber("fileid")))]
    );
}

#[test]
fn cancelled_mid_download_stops_without_a_status() {
    let file = image(20_000, (1, 1, 0));
    let mut d = started();
    d.job(&JobSpec::for_file("j", &file).doc());
    d.msg(
        "streams/AFR_OTA-stream-1/data/cbor",
        &block(0, 0, block_of(&file, 4096, 0)),
    );
    d.take_events();
    let before = d.sent.len();
    d.msg("jobs/notify-next", br#"{"timestamp":9}"#);
    assert_eq!(d.take_events(), [Event::Fail(FailReason::Cancelled)]);
    let after: Vec<_> = d.sent[before..].to_vec();
    assert_eq!(
        after,
        [Sent::Unsub(topic("streams/AFR_OTA-stream-1/data/cbor"))]
    );
    assert_eq!(d.agent.state(), State::WaitingForJob);
    // The partial image was made unbootable.
    assert_eq!(&d.pf().slot.mem[..4096], &[0xff; 4096][..]);
}

#[test]
fn a_replacement_job_stops_the_download_and_asks_again() {
    let file = image(20_000, (1, 1, 0));
    let mut d = started();
    d.job(&JobSpec::for_file("j1", &file).doc());
    let other = JobSpec::for_file("j2", &file)
        .doc()
        .replace("clientToken", "x");
    d.msg("jobs/notify-next", other.as_bytes());
    assert_eq!(
        d.take_events(),
        [Event::ReceivedJob, Event::Fail(FailReason::Cancelled)]
    );
    assert!(d.sent.last().unwrap().is_pub_to("jobs/$next/get"));
    assert!(d.statuses("j1").is_empty());
    // The same job arriving again changes nothing.
    let mut d = started();
    d.job(&JobSpec::for_file("j1", &file).doc());
    let n = d.sent.len();
    d.msg(
        "jobs/notify-next",
        JobSpec::for_file("j1", &file).doc().as_bytes(),
    );
    assert_eq!(d.sent.len(), n);
    assert_eq!(d.agent.state(), State::WaitingForFileBlock);
}

#[test]
fn quirk_unsubscribe_works_after_a_restart() {
    // [C quirk] 11.1.8 (PROTOCOL.md §2.1, T7u): shutdown cleared the
    // unsubscribe flag, so after a re-init the data topics were never
    // unsubscribed. Here every restart unsubscribes as the first start did:
    // the job topics on shutdown(true), the data topic as well when a
    // transfer was running, and the data topic when a transfer closes.
    let file = image(5000, (1, 1, 0));
    let spec = JobSpec::for_file("job-1", &file);
    let data = "streams/AFR_OTA-stream-1/data/cbor";
    let mut d = started();
    for round in 0..3 {
        // Shut down during a transfer: all three topics.
        d.job(&spec.doc());
        assert_eq!(d.agent.state(), State::WaitingForFileBlock, "round {round}");
        let n = d.sent.len();
        d.agent.shutdown(true);
        d.pump();
        assert_eq!(d.agent.state(), State::Stopped);
        assert_eq!(
            d.sent[n..],
            [
                Sent::Unsub(topic(data)),
                Sent::Unsub(topic("jobs/notify-next")),
                Sent::Unsub(topic("jobs/$next/get/accepted"))
            ],
            "round {round}"
        );
        // Shut down while idle: the job topics only.
        d.agent.start(d.now).unwrap();
        d.pump();
        let n = d.sent.len();
        d.agent.shutdown(true);
        d.pump();
        assert_eq!(
            d.sent[n..],
            [
                Sent::Unsub(topic("jobs/notify-next")),
                Sent::Unsub(topic("jobs/$next/get/accepted"))
            ],
            "round {round}"
        );
        d.agent.start(d.now).unwrap();
        d.pump();
    }
    // After the restarts, a transfer that completes still unsubscribes.
    d.job(&spec.doc());
    d.take_events();
    let n = d.sent.len();
    // Only this transfer's request is answered.
    d.answered = d.stream_requests("AFR_OTA-stream-1").len() - 1;
    d.download("AFR_OTA-stream-1", &file);
    assert!(d.sent[n..].contains(&Sent::Unsub(topic(data))));
    d.expect_activation(&file);
}

#[test]
fn api_calls_in_the_wrong_state() {
    let mut d = Dut::new(config(), platform(1 << 20, V1));
    assert_eq!(
        d.agent.check_for_update(d.now),
        Err(crate::ApiError::NotStarted)
    );
    assert_eq!(d.agent.suspend(), Err(crate::ApiError::NotStarted));
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(crate::ApiError::NotStarted)
    );
    d.agent.start(d.now).unwrap();
    assert_eq!(d.agent.start(d.now), Err(crate::ApiError::InvalidState));
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(crate::ApiError::InvalidState)
    );
    assert_eq!(
        d.agent
            .set_image_state(d.now, crate::ImageVerdict::Accepted),
        Err(crate::ApiError::InvalidState)
    );
    assert_eq!(
        d.agent.set_image_state(d.now, crate::ImageVerdict::Aborted),
        Err(crate::ApiError::NoActiveJob)
    );
}

#[test]
fn suspended_agents_send_nothing_and_resume_where_they_were() {
    let file = image(9000, (1, 1, 0));
    let mut d = started();
    d.job(&JobSpec::for_file("j", &file).doc());
    d.msg(
        "streams/AFR_OTA-stream-1/data/cbor",
        &block(0, 0, block_of(&file, 4096, 0)),
    );
    d.agent.suspend().unwrap();
    assert_eq!(d.agent.state(), State::Suspended);
    let n = d.sent.len();
    d.advance(100_000);
    assert_eq!(
        d.msg(
            "streams/AFR_OTA-stream-1/data/cbor",
            &block(0, 1, block_of(&file, 4096, 1))
        ),
        Processed::BlockDropped(crate::DropReason::NoTransfer)
    );
    assert_eq!(d.agent.poll_timeout(), None);
    assert_eq!(d.sent.len(), n);
    d.agent.resume(d.now).unwrap();
    d.pump();
    let after = &d.sent[n..];
    assert_eq!(
        after[0],
        Sent::Sub(topic("jobs/notify-next"), QoS::AtLeastOnce)
    );
    assert_eq!(
        after[1],
        Sent::Sub(topic("jobs/$next/get/accepted"), QoS::AtLeastOnce)
    );
    assert!(after[2].is_pub_to("jobs/$next/get"));
    assert_eq!(
        after[3],
        Sent::Sub(topic("streams/AFR_OTA-stream-1/data/cbor"), QoS::AtMostOnce)
    );
    let reqs = d.stream_requests("AFR_OTA-stream-1");
    assert_eq!(reqs.last().unwrap().0, 1, "progress was kept");
    // The same job document coming back changes nothing.
    d.job(&JobSpec::for_file("j", &file).doc());
    d.answered = reqs.len() - 1;
    d.download("AFR_OTA-stream-1", &file);
    d.ack_all();
    assert!(d.take_events().contains(&Event::Activate));
}

#[test]
fn stale_replies_and_documents_of_finished_jobs_are_dropped() {
    let file = image(1000, (1, 1, 0));
    let mut d = started();
    // The reply to request 0 arrives after request 1 went out: dropped.
    d.advance(10_000);
    assert_eq!(d.job_requests(), 2);
    let stale = JobSpec::for_file("j", &file).doc(); // carries "0:thing-1"
    assert_eq!(
        d.msg("jobs/$next/get/accepted", stale.as_bytes()),
        Processed::JobDocumentIgnored
    );
    assert_eq!(
        d.job(&stale),
        Processed::JobDocument,
        "the reply to request 1"
    );
    // A job whose terminal status the service acknowledged does not come back.
    let mut d = started();
    let zero = JobSpec {
        size: 0,
        ..JobSpec::for_file("z", &file)
    }
    .doc();
    d.job(&zero);
    d.ack_all();
    assert_eq!(d.job(&zero), Processed::JobDocumentIgnored);
    assert_eq!(d.statuses("z").len(), 1);
    // Nor do notify-next copies of it.
    assert_eq!(
        d.msg("jobs/notify-next", zero.as_bytes()),
        Processed::JobDocumentIgnored
    );
}
