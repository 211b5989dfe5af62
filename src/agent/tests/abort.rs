//! `OTA_SetImageState(Aborted)` (PROTOCOL.md §7.4 userAbort, §7.7, §7.8):
//! during a download, before activation, and with no active job.

use super::harness::*;
use crate::testing::ERASE;
use crate::{ApiError, Event, FailReason, ImageState, ImageVerdict, QoS, State};

const STREAM: &str = "AFR_OTA-stream-1";
const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";
/// §4 M8 with the user-abort code (OtaErrUserAbort, 19).
const ABORTED: &str = r#"{"status":"FAILED","statusDetails":{"reason":"aborted: 0x00000013"}}"#;

fn file() -> std::vec::Vec<u8> {
    image(20_000, (1, 1, 0))
}

/// Whether the first erase unit of the slot is erased: no MCUboot header
/// (magic at offset 0), so the bootloader will not boot it.
fn unbootable(d: &mut Dut) -> bool {
    d.pf().slot.mem[..ERASE as usize].iter().all(|&b| b == 0xff)
}

/// After an abort, activation is refused and no upgrade is requested.
#[track_caller]
fn activation_refused(d: &mut Dut) {
    assert_eq!(
        d.agent.activate_new_image(d.now),
        Err(ApiError::InvalidState)
    );
    assert!(!d.pf().boot.upgrade_requested);
}

/// What every abort of an active job `job` shows, once
/// `set_image_state(Aborted)` returned and the port drained: the event, the
/// FAILED status (QoS 1) as the last thing sent for the job, the image state,
/// the slot left unbootable, the data topic unsubscribed; and after the
/// status is acknowledged, a request for the next job.
#[track_caller]
fn check_aborted(d: &mut Dut, job: &str) {
    assert_eq!(d.take_events(), [Event::Fail(FailReason::UserAbort)]);
    assert_eq!(d.statuses(job).last().unwrap(), ABORTED);
    let status = d
        .sent
        .iter()
        .rev()
        .find(|s| s.is_pub_to(&std::format!("jobs/{job}/update")))
        .unwrap();
    assert!(
        matches!(
            status,
            Sent::Pub {
                qos: QoS::AtLeastOnce,
                token: Some(_),
                ..
            }
        ),
        "{status:?}"
    );
    assert_eq!(d.agent.image_state(), ImageState::Aborted);
    assert!(unbootable(d), "the slot is left unbootable");
    // The data topic's last (un)subscription is the unsubscribe.
    let data = topic(DATA);
    let last = d.sent.iter().rev().find(|s| match s {
        Sent::Sub(t, _) | Sent::Unsub(t) => *t == data,
        _ => false,
    });
    assert_eq!(last, Some(&Sent::Unsub(data.clone())));
    // The next job is asked for only once the service has the status.
    let before = d.job_requests();
    d.advance(1);
    assert_eq!(d.job_requests(), before, "no job request before the PUBACK");
    d.ack_all();
    assert_eq!(d.job_requests(), before + 1);
    assert!(d.sent.last().unwrap().is_pub_to("jobs/$next/get"));
    assert!(matches!(
        d.agent.state(),
        State::WaitingForJob | State::RequestingJob
    ));
    assert_eq!(d.statuses(job).last().unwrap(), ABORTED, "nothing after it");
    assert!(d.take_events().is_empty());
}

/// §7.4 userAbort during an MQTT download, after two blocks: FAILED
/// "aborted: 0x00000013" (§4 M8), `Fail(UserAbort)`, image state Aborted,
/// the data topic unsubscribed and no block requested any more, the header
/// the first block wrote erased, then the next job.
#[test]
fn abort_during_a_download_reports_it_and_leaves_the_slot_unbootable() {
    let f = file();
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("AFR_OTA-j", &f).doc());
    for i in 0..2 {
        d.msg(DATA, &block(0, i, block_of(&f, 4096, i)));
    }
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    assert_eq!(d.agent.state(), State::WaitingForFileBlock);
    assert_eq!(
        &d.pf().slot.mem[..ERASE as usize],
        &f[..ERASE as usize],
        "the first block (the MCUboot header) is in the slot"
    );
    let requests = d.stream_requests(STREAM).len();
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Aborted),
        Ok(())
    );
    d.pump();
    check_aborted(&mut d, "AFR_OTA-j");
    // A late block changes nothing; no request goes out for the rest.
    d.msg(DATA, &block(0, 2, block_of(&f, 4096, 2)));
    d.advance(10_000);
    assert_eq!(d.stream_requests(STREAM).len(), requests);
    assert!(unbootable(&mut d));
    assert_eq!(d.pf().slot.violations, 0);
}

/// §7.4 userAbort after the download completed and M3 (`self_test: ready`)
/// was acknowledged (the application had `Event::Activate`): the same
/// report, the verified image erased, and activation refused afterwards,
/// with no upgrade requested.
#[test]
fn abort_awaiting_activation_reports_it_and_activation_is_refused() {
    let f = file();
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("AFR_OTA-j", &f).doc());
    d.download(STREAM, &f);
    d.take_events();
    d.expect_activation(&f);
    assert_eq!(d.agent.state(), State::ClosingFile);
    assert!(d.pf().store.record.is_some(), "the verified record");
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Aborted),
        Ok(())
    );
    d.pump();
    activation_refused(&mut d);
    check_aborted(&mut d, "AFR_OTA-j");
    activation_refused(&mut d);
    assert_eq!(d.pf().boot.reboots, 0);
    assert_eq!(d.pf().store.record, None);
    assert_eq!(d.pf().slot.violations, 0);
}

/// §7.4 userAbort "without an active job, return NoActiveJob (no state
/// change)": nothing is sent, no event, the image state is unchanged.
#[test]
fn abort_without_an_active_job_is_refused_and_sends_nothing() {
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&no_job());
    d.take_events();
    d.take_sent();
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Aborted),
        Err(ApiError::NoActiveJob)
    );
    d.pump();
    assert_eq!(d.sent, []);
    assert_eq!(d.take_events(), []);
    assert_eq!(d.agent.image_state(), ImageState::Unknown);
    assert_eq!(d.agent.state(), State::WaitingForJob);
}

/// userAbort after the last block, while M3 (`self_test: ready`) is still
/// in flight: the abort supersedes M3, so M3's acknowledgement, even when
/// it arrives before the FAILED status went out, activates nothing.
#[test]
fn abort_while_the_ready_status_is_in_flight_is_not_lost() {
    let f = file();
    let mut d = Dut::started(config(), platform(1 << 20, V1));
    d.job(&JobSpec::for_file("AFR_OTA-j", &f).doc());
    d.download(STREAM, &f);
    assert_eq!(d.take_events(), [Event::ReceivedJob]);
    assert_eq!(d.agent.state(), State::ClosingFile);
    let ready = d
        .sent
        .iter()
        .rev()
        .find_map(|s| match s {
            Sent::Pub { token: Some(t), .. } => Some(*t),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Aborted),
        Ok(())
    );
    d.agent.handle_delivered(d.now, ready);
    d.pump();
    check_aborted(&mut d, "AFR_OTA-j");
    activation_refused(&mut d);
    assert_eq!(d.pf().slot.violations, 0);
}

/// userAbort during the self test: the C agent's PAL invalidates the new
/// image and rolls back on Aborted as on Rejected. So does the agent, with
/// the abort's reason in the FAILED status, once it is acknowledged.
#[test]
fn abort_during_the_self_test_reports_it_then_rolls_back() {
    let mut p = platform(1 << 20, crate::Version::new(1, 0, 1));
    p.boot.state = crate::BootState::PendingCommit;
    let mut d = Dut::started(config(), p);
    let spec = JobSpec::for_file("AFR_OTA-j", &image(1000, (1, 0, 1))).self_test("0x01000000");
    d.job(&spec.doc());
    assert_eq!(d.take_events(), [Event::ReceivedJob, Event::StartTest]);
    assert_eq!(
        d.agent.set_image_state(d.now, ImageVerdict::Aborted),
        Ok(())
    );
    d.pump();
    assert_eq!(d.take_events(), [Event::Fail(FailReason::UserAbort)]);
    assert_eq!(d.statuses("AFR_OTA-j").last().unwrap(), ABORTED);
    assert_eq!(d.agent.image_state(), ImageState::Aborted);
    assert_eq!(d.pf().boot.reboots, 0, "not before the PUBACK");
    d.ack_all();
    assert!(d.pf().boot.rejected);
    assert_eq!(d.pf().boot.reboots, 1);
    assert_eq!(d.agent.state(), State::Stopped);
}
