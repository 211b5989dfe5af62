//! The boot after an update (PROTOCOL.md §3.4, §7.7): self test, verdicts,
//! timeout, rollback, and statuses acknowledged before commits.

use super::harness::*;
use crate::{
    ApiError, BootState, Event, FailReason, ImageState, ImageVerdict, JobError, State, Version,
};

const NEW: Version = Version::new(1, 0, 1);

/// A device running `running`, on trial, that received the self-test document.
fn on_trial(running: Version, updated_by: &str) -> Dut {
    let mut p = platform(1 << 20, running);
    p.boot.state = BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    let file = image(1000, (1, 0, 1));
    d.job(
        &JobSpec::for_file("AFR_OTA-j", &file)
            .self_test(updated_by)
            .doc(),
    );
    d
}

/// §3.4 "observed end-to-end": running 1.0.1, updatedBy 0x1000000, accepted.
#[test]
fn accepted_self_test_matches_the_c_agent() {
    let mut d = on_trial(NEW, "0x1000000");
    assert_eq!(d.agent.image_state(), ImageState::Testing);
    assert_eq!(
        d.statuses("AFR_OTA-j"),
        [
            r#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01000001"}}"#
        ]
    );
    assert_eq!(d.take_events(), [Event::ReceivedJob, Event::StartTest]);
    assert_eq!(d.agent.state(), State::WaitingForJob);
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    assert_eq!(
        d.statuses("AFR_OTA-j").last().unwrap(),
        r#"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.0.1","updatedBy":"  v1.0.0"}}"#
    );
    // #506: the image is committed only after the service has the status.
    assert!(!d.pf().boot.confirmed);
    d.ack_all();
    assert!(d.pf().boot.confirmed);
    assert_eq!(d.agent.image_state(), ImageState::Accepted);
    // The self-test timer is gone.
    d.advance(3_600_000);
    assert_eq!(d.pf().boot.reboots, 0);
}

#[test]
fn a_succeeded_status_never_acknowledged_does_not_commit() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    d.advance(30_000);
    assert!(!d.pf().boot.confirmed);
    assert_eq!(d.pf().boot.reboots, 0, "still re-sending SUCCEEDED");
    // The self-test window ends in a rollback: no verdict was committed.
    d.advance(30_000);
    assert!(!d.pf().boot.confirmed);
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
}

#[test]
fn rejected_self_test_reports_then_rolls_back() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Rejected)
        .unwrap();
    d.pump();
    assert_eq!(
        d.statuses("AFR_OTA-j").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000021"}}"#
    );
    assert_eq!(d.pf().boot.reboots, 0);
    d.ack_all();
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
    assert_eq!(d.agent.state(), State::Stopped);
}

#[test]
fn version_checks_against_updated_by() {
    for (updated_by, reason, body) in [
        (
            "0x01000001",
            FailReason::SameVersion,
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000010"}}"#,
        ),
        (
            "0x01000002",
            FailReason::Downgrade,
            r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x0000000f"}}"#,
        ),
    ] {
        let mut d = on_trial(NEW, updated_by);
        assert_eq!(d.take_events(), [Event::SelfTestFailed(reason)]);
        assert_eq!(d.statuses("AFR_OTA-j"), [body]);
        d.ack_all();
        assert!(d.pf().boot.rejected && d.pf().boot.reboots == 1);
    }
}

/// §3.4 step 1: the version check runs only for firmware (`fileid` 0, the
/// configured firmware `fileType`) and only when downgrades are not allowed.
/// A self-test document the check refuses with the default configuration
/// (updatedBy the running version: SameVersion; newer: Downgrade) starts the
/// test instead when `allow_downgrade` is set, when `fileid` is not 0, or
/// when `fileType` is another type. Each case differs from the refused one
/// in that one setting only.
#[test]
fn the_version_check_is_skipped_when_downgrades_are_allowed_or_the_file_is_not_firmware() {
    let downgrades = crate::Config {
        allow_downgrade: true,
        ..config()
    };
    // (case, config, fileid, fileType, refused by the check)
    let cases = [
        ("default", config(), 0, 0, true),
        ("allow_downgrade", downgrades, 0, 0, false),
        ("fileid 1", config(), 1, 0, false),
        ("fileType 2", config(), 0, 2, false),
    ];
    for (updated_by, reason, code) in [
        ("0x01000001", FailReason::SameVersion, "0x00000010"),
        ("0x01000002", FailReason::Downgrade, "0x0000000f"),
    ] {
        for (case, config, file_id, file_type, refused) in cases {
            let what = std::format!("{case}, updatedBy {updated_by}");
            let mut p = platform(1 << 20, NEW);
            p.boot.state = BootState::PendingCommit;
            let mut d = Dut::started(config, p);
            let mut spec = JobSpec::for_file("AFR_OTA-j", &image(1000, (1, 0, 1)));
            spec.file_id = file_id;
            spec.file_type = Some(file_type);
            d.job(&spec.self_test(updated_by).doc());
            if refused {
                assert_eq!(d.take_events(), [Event::SelfTestFailed(reason)], "{what}");
                assert_eq!(
                    d.statuses("AFR_OTA-j"),
                    [std::format!(
                        r#"{{"status":"FAILED","statusDetails":{{"reason":"rejected: {code}"}}}}"#
                    )],
                    "{what}"
                );
                assert_eq!(d.agent.image_state(), ImageState::Rejected, "{what}");
                d.ack_all();
                assert!(d.pf().boot.rejected, "{what}");
                assert_eq!(d.pf().boot.reboots, 1, "{what}");
            } else {
                assert_eq!(
                    d.take_events(),
                    [Event::ReceivedJob, Event::StartTest],
                    "{what}"
                );
                assert_eq!(
                    d.statuses("AFR_OTA-j"),
                    [
                        r#"{"status":"IN_PROGRESS","statusDetails":{"self_test":"active","updatedBy":"0x01000001"}}"#
                    ],
                    "{what}"
                );
                assert_eq!(d.agent.image_state(), ImageState::Testing, "{what}");
                assert_eq!(d.agent.state(), State::WaitingForJob, "{what}");
                d.ack_all();
                assert!(!d.pf().boot.rejected, "{what}");
                assert_eq!(d.pf().boot.reboots, 0, "{what}");
            }
        }
    }
}

#[test]
fn a_self_test_document_without_updated_by_is_refused() {
    let mut p = platform(1 << 20, NEW);
    p.boot.state = BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    let mut spec = JobSpec::for_file("AFR_OTA-j", &image(10, (1, 0, 1)));
    spec.status_details = Some(r#"{"self_test":"ready"}"#.into());
    d.job(&spec.doc());
    assert_eq!(
        d.take_events(),
        [Event::SelfTestFailed(FailReason::Job(JobError::Missing(
            "updatedBy"
        )))]
    );
}

#[test]
fn self_test_timeout_rolls_back() {
    // Document arrived, application never answers.
    let mut d = on_trial(NEW, "0x01000000");
    d.advance(59_999);
    assert_eq!(d.pf().boot.reboots, 0);
    d.advance(1);
    assert_eq!(
        d.statuses("AFR_OTA-j").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000020"}}"#
    );
    assert!(d
        .events
        .contains(&Event::SelfTestFailed(FailReason::SelfTestTimeout)));
    // The report gets one timeout; the rollback happens even without a PUBACK.
    d.advance(10_000);
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
}

#[test]
fn self_test_timeout_without_any_document() {
    // E.g. the job was force-cancelled: the rollback guarantee still holds.
    let mut p = platform(1 << 20, NEW);
    p.boot.state = BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    d.job(&no_job());
    d.advance(60_000);
    assert_eq!(d.pf().boot.reboots, 1);
    assert!(d.pf().boot.rejected);
}

#[test]
fn on_trial_but_the_job_is_not_in_self_test() {
    let mut p = platform(1 << 20, NEW);
    p.boot.state = BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    d.job(&JobSpec::for_file("other", &image(10, (1, 0, 2))).doc());
    assert_eq!(
        d.take_events(),
        [Event::SelfTestFailed(FailReason::ImageStateMismatch)]
    );
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
    assert!(d.statuses("other").is_empty());
}

#[test]
fn self_test_document_after_the_bootloader_reverted() {
    // The new image did not stay: the old one runs, confirmed.
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(
        &JobSpec::for_file("AFR_OTA-j", &image(10, (1, 0, 1)))
            .self_test("0x01000000")
            .doc(),
    );
    assert_eq!(
        d.take_events(),
        [Event::SelfTestFailed(FailReason::ImageStateMismatch)]
    );
    assert_eq!(
        d.statuses("AFR_OTA-j"),
        [r#"{"status":"FAILED","statusDetails":{"reason":"rejected: 0x00000011"}}"#]
    );
    assert_eq!(d.pf().boot.reboots, 0, "nothing to roll back");
}

#[test]
fn the_self_test_window_keeps_running_while_suspended() {
    // A new image that cannot reach the service (broken networking, say) is
    // rolled back when the window closes, connected or not.
    let mut d = on_trial(NEW, "0x01000000");
    d.advance(50_000);
    d.agent.suspend().unwrap();
    assert_eq!(
        d.agent.poll_timeout(),
        Some(crate::Instant::from_millis(1_000 + 60_000))
    );
    d.advance(9_999);
    assert_eq!(d.pf().boot.reboots, 0);
    d.advance(1);
    assert!(d
        .events
        .contains(&Event::SelfTestFailed(FailReason::SelfTestTimeout)));
    assert_eq!(d.pf().boot.reboots, 1);
    // Resuming does not extend it either.
    let mut d = on_trial(NEW, "0x01000000");
    d.advance(50_000);
    d.agent.suspend().unwrap();
    d.agent.resume(d.now).unwrap();
    d.advance(10_000);
    assert!(d
        .events
        .contains(&Event::SelfTestFailed(FailReason::SelfTestTimeout)));
}

#[test]
fn rejecting_a_trial_image_outside_a_self_test_rolls_back_at_once() {
    let mut p = platform(1 << 20, NEW);
    p.boot.state = BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    d.agent
        .set_image_state(d.now, ImageVerdict::Rejected)
        .unwrap();
    assert_eq!(d.pf().boot.reboots, 1);
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Rejected),
        Err(ApiError::InvalidState)
    );
}

#[test]
fn activation_refused_by_the_bootloader_is_reported() {
    let file = image(5000, (1, 0, 1));
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("j", &file).doc());
    d.download("AFR_OTA-stream-1", &file);
    d.ack_all();
    assert!(d.take_events().contains(&Event::Activate));
    d.pf().boot.refuse_upgrade = true;
    let e = crate::PortError(-14);
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(ApiError::Platform(e))
    );
    d.pump();
    assert_eq!(d.take_events(), [Event::Fail(FailReason::Activate(e))]);
    assert_eq!(
        d.statuses("j").last().unwrap(),
        r#"{"status":"FAILED","statusDetails":{"reason":"0x000000ec: 0xfffffff2"}}"#
    );
    assert_eq!(d.pf().boot.reboots, 0);
}

#[test]
fn self_test_ready_never_acknowledged_means_no_activation() {
    let file = image(5000, (1, 0, 1));
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("j", &file).doc());
    d.download("AFR_OTA-stream-1", &file);
    for _ in 0..40 {
        d.advance(10_000);
    }
    let ev = d.take_events();
    assert!(!ev.contains(&Event::Activate), "{ev:?}");
    assert!(ev.contains(&Event::Fail(FailReason::StatusNotDelivered)));
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(ApiError::InvalidState)
    );
    assert_eq!(
        &d.pf().slot.mem[..4096],
        &[0xff; 4096][..],
        "left unbootable"
    );
    // 1 + max_retries copies of M3 went out.
    let m3 = d
        .statuses("j")
        .iter()
        .filter(|s| s.contains("ready"))
        .count();
    assert_eq!(m3, 33);
}

#[test]
fn the_new_image_running_already_permanent_still_gets_its_self_test() {
    // MCUboot can leave the new image permanent when power is cut while it
    // marks the swap done: not on trial, but not the old version either.
    let mut d = Dut::started(config(), platform(1 << 20, NEW));
    d.job(
        &JobSpec::for_file("AFR_OTA-j", &image(10, (1, 0, 1)))
            .self_test("0x01000000")
            .doc(),
    );
    assert_eq!(d.take_events(), [Event::ReceivedJob, Event::StartTest]);
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    d.ack_all();
    assert_eq!(
        d.statuses("AFR_OTA-j").last().unwrap(),
        r#"{"status":"SUCCEEDED","statusDetails":{"reason":"accepted  v1.0.1","updatedBy":"  v1.0.0"}}"#
    );
}

#[test]
fn a_job_cancelled_during_the_self_test_rolls_back() {
    let mut d = on_trial(NEW, "0x01000000");
    d.take_events();
    // A reconnect re-checks the job; the service no longer has it.
    d.agent.suspend().unwrap();
    d.agent.resume(d.now).unwrap();
    d.pump();
    assert!(d.sent.last().unwrap().is_pub_to("jobs/$next/get"));
    d.job(&no_job());
    assert_eq!(
        d.take_events(),
        [Event::SelfTestFailed(FailReason::Cancelled)]
    );
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
    // The same job coming back changes nothing.
    let mut d = on_trial(NEW, "0x01000000");
    d.job(
        &JobSpec::for_file("AFR_OTA-j", &image(1000, (1, 0, 1)))
            .self_test("0x01000000")
            .doc(),
    );
    assert_eq!(d.pf().boot.reboots, 0);
    assert_eq!(d.agent.state(), State::WaitingForJob);
}

#[test]
fn a_job_cancelled_before_activation_is_not_activated() {
    let file = image(5000, (1, 0, 1));
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("j", &file).doc());
    d.download("AFR_OTA-stream-1", &file);
    d.ack_all();
    assert!(d.take_events().contains(&Event::Activate));
    d.msg("jobs/notify-next", br#"{"timestamp":9}"#);
    assert_eq!(d.take_events(), [Event::Fail(FailReason::Cancelled)]);
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(ApiError::InvalidState)
    );
    assert_eq!(&d.pf().slot.mem[..4096], &[0xff; 4096][..]);
    assert_eq!(d.pf().store.record, None);
}

/// Power off and on with the same platform (the bootloader's state is set by
/// the test).
fn power_cycle(d: Dut, version: Version, state: BootState) -> Dut {
    let (config, now) = (*d.agent.config(), d.now);
    let mut p = d.agent.into_platform();
    p.boot.version = version;
    p.boot.state = state;
    let mut d = Dut::new(config, p);
    d.now = now;
    d.agent.start(now).unwrap();
    d.pump();
    d
}

#[test]
fn a_commit_interrupted_by_a_power_loss_is_finished_at_the_next_boot() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    assert!(d
        .statuses("AFR_OTA-j")
        .last()
        .unwrap()
        .contains("SUCCEEDED"));
    // Power lost before the PUBACK: the bootloader reverted the image.
    let d = power_cycle(d, V1, BootState::Confirmed);
    assert!(
        d.agent.platform_ref().boot.upgrade_requested,
        "the accepted image is applied again"
    );
    assert_eq!(d.agent.platform_ref().boot.reboots, 1);
    assert_eq!(d.agent.state(), State::Stopped);
    // It boots on trial; the agent confirms it without a second self test.
    let mut d = power_cycle(d, NEW, BootState::PendingCommit);
    assert!(d.pf().boot.confirmed);
    assert_eq!(d.pf().store.record, None);
    assert!(!d.take_events().contains(&Event::StartTest));
    assert_eq!(d.agent.state(), State::WaitingForJob);
}

#[test]
fn reapplying_an_accepted_image_gives_up_after_three_attempts() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    let mut d = d;
    for _ in 0..3 {
        d = power_cycle(d, V1, BootState::Confirmed);
        assert_eq!(d.agent.state(), State::Stopped);
    }
    let d = power_cycle(d, V1, BootState::Confirmed);
    assert_eq!(d.agent.state(), State::WaitingForJob);
    assert_eq!(d.agent.platform_ref().store.record, None);
}

#[test]
fn a_commit_that_completed_leaves_no_record() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Accepted)
        .unwrap();
    d.pump();
    d.ack_all();
    assert_eq!(d.pf().store.record, None);
    let d = power_cycle(d, NEW, BootState::Confirmed);
    assert_eq!(d.agent.platform_ref().boot.reboots, 0);
}

#[test]
fn after_m4_updated_by_is_the_new_version() {
    // Reverted after M4 (the old image runs): the job failed, nothing to
    // roll back.
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    let mut spec = JobSpec::for_file("AFR_OTA-j", &image(10, (1, 0, 1)));
    spec.status_details = Some(r#"{"self_test":"active","updatedBy":"0x01000001"}"#.into());
    d.job(&spec.doc());
    assert_eq!(
        d.take_events(),
        [Event::SelfTestFailed(FailReason::ImageStateMismatch)]
    );
    assert_eq!(d.pf().boot.reboots, 0);
    // The new image runs (permanent): the self test goes on, with no
    // version check against updatedBy.
    let mut d = Dut::started(config(), platform(1 << 20, NEW));
    d.job(&spec.doc());
    assert_eq!(d.take_events(), [Event::ReceivedJob, Event::StartTest]);
}

#[test]
fn a_rollback_undone_by_a_power_loss_is_retried() {
    let mut d = on_trial(NEW, "0x01000000");
    d.agent
        .set_image_state(d.now, ImageVerdict::Rejected)
        .unwrap();
    d.pump();
    d.ack_all();
    assert_eq!(d.pf().boot.reboots, 1);
    // The revert was interrupted: the rejected image still runs, permanent.
    let d = power_cycle(d, NEW, BootState::Confirmed);
    assert!(d.agent.platform_ref().boot.rejected);
    assert_eq!(d.agent.platform_ref().boot.reboots, 2);
    // This time it took.
    let d = power_cycle(d, V1, BootState::Confirmed);
    assert_eq!(d.agent.platform_ref().store.record, None);
    assert_eq!(d.agent.state(), State::WaitingForJob);
}

#[test]
fn no_rollback_record_when_the_versions_cannot_tell_the_images_apart() {
    // Same version as the one that did the download (refused as such).
    let mut d = on_trial(NEW, "0x01000001");
    d.ack_all();
    assert_eq!(d.pf().boot.reboots, 1);
    assert_eq!(d.pf().store.record, None);
}
