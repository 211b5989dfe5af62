//! Jobs that fail: the service gets FAILED with the agent's reason, and the
//! device keeps (or goes back to) its old image.

use ota_agent::{Event, FailReason, ImageState, Statistics};
use ota_agent_e2e::*;
use ota_agent_host::device::firmware::SelfTest;
use ota_agent_host::device::RebootReason;
use ota_agent_host::{DeviceEvent, SwapType};
use otactl::jobdoc::{FileEntry, JobDocument, Protocol};
use otactl::keys;
use otactl::service::JobStatus;

/// The statistics of the agent's `Fail` event (which must come).
fn failure(device: &mut TestDevice, expected: FailReason) -> Statistics {
    match device.wait_for("Fail", |e| {
        matches!(
            e,
            DeviceEvent::Agent {
                event: Event::Fail(_),
                ..
            }
        )
    }) {
        DeviceEvent::Agent {
            event: Event::Fail(reason),
            statistics,
            ..
        } => {
            assert_eq!(reason, expected);
            statistics
        }
        _ => unreachable!(),
    }
}

/// A download that completed but failed verification: every block was
/// written once, the slot was invalidated, the device stays where it was.
fn check_rejected_download(
    device: &mut TestDevice,
    stats: Statistics,
    image: &[u8],
    runs: (u8, u8),
) {
    let total = blocks(image.len());
    assert_eq!((stats.processed, stats.dropped), (total, 0), "{stats:?}");
    let status = device.wait_settled_on(version(runs.0, runs.1, 0));
    assert_eq!(status.boots, 1, "no reboot");
    assert_eq!(status.image_state, ImageState::Rejected);
    assert!(
        !device.slot_has_image(Slot::Secondary),
        "the slot was invalidated"
    );
}

#[test]
fn bad_signature() {
    let world = World::start();
    let mut device = world.device("thing-badsig", "1.0.0");
    let image = firmware_image("1.1.0", SelfTest::Pass);
    // Signed, then tampered with on the way: one payload byte differs.
    let mut tampered = image.clone();
    tampered[0x400] ^= 0x01;
    world.stream("job-badsig-stream", &tampered);
    let entry = FileEntry::signed("/fw", 0, &image, &world.key).unwrap();
    let doc = JobDocument::new(&[Protocol::Mqtt], Some("job-badsig-stream"), vec![entry]).unwrap();
    world.create_job(
        "thing-badsig",
        "job-badsig",
        serde_json::to_value(&doc).unwrap(),
    );

    world.expect_terminal(
        "thing-badsig",
        "job-badsig",
        JobStatus::Failed,
        Some("0x000000e3: 0x00000000"),
    );
    let stats = failure(&mut device, FailReason::Signature);
    check_rejected_download(&mut device, stats, &image, (1, 0));
}

#[test]
fn wrong_key() {
    let world = World::start();
    let mut device = world.device("thing-wrongkey", "1.0.0");
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let stranger = keys::generate();
    world.ota_job(
        "thing-wrongkey",
        "job-wrongkey",
        &image,
        Protocol::Mqtt,
        &stranger,
    );

    world.expect_terminal(
        "thing-wrongkey",
        "job-wrongkey",
        JobStatus::Failed,
        Some("0x000000e3: 0x00000000"),
    );
    let stats = failure(&mut device, FailReason::Signature);
    check_rejected_download(&mut device, stats, &image, (1, 0));
}

#[test]
fn downgrade_rejected() {
    let world = World::start();
    let mut device = world.device("thing-downgrade", "1.1.0");
    let image = firmware_image("1.0.0", SelfTest::Pass);
    world.ota_job(
        "thing-downgrade",
        "job-downgrade",
        &image,
        Protocol::Mqtt,
        &world.key,
    );

    world.expect_terminal(
        "thing-downgrade",
        "job-downgrade",
        JobStatus::Failed,
        Some("rejected: 0x0000000f"),
    );
    let stats = failure(&mut device, FailReason::Downgrade);
    check_rejected_download(&mut device, stats, &image, (1, 1));
}

#[test]
fn file_larger_than_the_slot() {
    let world = World::start();
    let mut device = world.device("thing-large", "1.0.0");
    let image = build_image("1.1.0", Default::default(), 130 * 1024, None);
    world.ota_job(
        "thing-large",
        "job-large",
        &image,
        Protocol::Mqtt,
        &world.key,
    );

    world.expect_terminal(
        "thing-large",
        "job-large",
        JobStatus::Failed,
        Some("0x000000e5: 0x00000000"),
    );
    let stats = failure(&mut device, FailReason::FileTooLarge);
    assert_eq!(stats, Statistics::default(), "nothing was downloaded");
    let status = device.wait_settled_on(version(1, 0, 0));
    assert_eq!(status.boots, 1);
    let served = world.service.stats();
    assert!(served
        .block_counts("thing-large", "job-large-stream", 0)
        .is_none());
    assert_eq!(served.stream_requests, 0);
}

#[test]
fn custom_job_not_claimed() {
    let world = World::start();
    let mut device = world.device("thing-unclaimed", "1.0.0");
    world.create_job(
        "thing-unclaimed",
        "job-other",
        serde_json::json!({"operation": "reboot"}),
    );

    world.expect_terminal(
        "thing-unclaimed",
        "job-other",
        JobStatus::Failed,
        Some("0x0000000c: 0x00000004"),
    );
    let stats = failure(&mut device, FailReason::CustomJobDeclined);
    assert_eq!(stats, Statistics::default());
    let status = device.wait_settled_on(version(1, 0, 0));
    assert_eq!(status.boots, 1);
}

/// The new image booted on trial, failed, and the device went back to the
/// old one, which MCUboot made permanent again.
fn check_rolled_back(device: &mut TestDevice, old: &[u8]) {
    device.wait_for(
        "the boot back into 1.0.0",
        |e| matches!(e, DeviceEvent::Booted(info) if info.swap == SwapType::Revert),
    );
    let status = device.wait_settled_on(version(1, 0, 0));
    assert_eq!(status.boots, 3, "factory, trial, revert");
    let events = device.take_events();
    let trial = events
        .iter()
        .find_map(|e| match e {
            DeviceEvent::Booted(info) if info.swap == SwapType::Test => Some(*info),
            _ => None,
        })
        .expect("the new image was tried");
    assert_eq!((trial.version, trial.confirmed), (version(1, 1, 0), false));
    assert!(events.iter().any(|e| matches!(
        e,
        DeviceEvent::Rebooting {
            reason: RebootReason::RollBack,
            ..
        }
    )));
    assert_eq!(device.slot_bytes(Slot::Primary, old.len()), old);
}

#[test]
fn self_test_failure_rolls_back() {
    let world = World::start();
    let old = firmware_image("1.0.0", SelfTest::Pass);
    let mut device = world.start_device(world.device_config("thing-selffail", old.clone()));
    let image = firmware_image("1.1.0", SelfTest::Fail);
    world.ota_job(
        "thing-selffail",
        "job-selffail",
        &image,
        Protocol::Mqtt,
        &world.key,
    );

    world.expect_terminal(
        "thing-selffail",
        "job-selffail",
        JobStatus::Failed,
        Some("rejected: 0x00000021"),
    );
    device.wait_for("the failed self test", |e| {
        *e == DeviceEvent::SelfTest(SelfTest::Fail)
    });
    check_rolled_back(&mut device, &old);
    let status = device.device.status();
    assert_eq!(
        status.statistics,
        Statistics::default(),
        "a fresh agent after the revert"
    );
}

#[test]
fn self_test_timeout_rolls_back() {
    let world = World::start();
    let old = firmware_image("1.0.0", SelfTest::Pass);
    let mut config = world.device_config("thing-hang", old.clone());
    config.agent.self_test_timeout_ms = 1500;
    let mut device = world.start_device(config);
    let image = firmware_image("1.1.0", SelfTest::Hang);
    world.ota_job("thing-hang", "job-hang", &image, Protocol::Mqtt, &world.key);

    device.wait_for("the hanging self test", |e| {
        *e == DeviceEvent::SelfTest(SelfTest::Hang)
    });
    match device.wait_for("SelfTestFailed", |e| {
        matches!(
            e,
            DeviceEvent::Agent {
                event: Event::SelfTestFailed(_),
                ..
            }
        )
    }) {
        DeviceEvent::Agent { event, .. } => {
            assert_eq!(event, Event::SelfTestFailed(FailReason::SelfTestTimeout))
        }
        _ => unreachable!(),
    }
    world.expect_terminal(
        "thing-hang",
        "job-hang",
        JobStatus::Failed,
        Some("rejected: 0x00000020"),
    );
    check_rolled_back(&mut device, &old);
}
