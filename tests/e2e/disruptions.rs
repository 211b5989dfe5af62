//! Updates under disruption: a job cancelled mid-download, a broker restart,
//! duplicate and late blocks, a power cut.

use std::time::Duration;

use ota_agent::{Event, FailReason, ImageState};
use ota_agent_e2e::*;
use ota_agent_host::device::firmware::SelfTest;
use ota_agent_host::DeviceEvent;
use otactl::jobdoc::Protocol;
use otactl::service::{BlockCounts, FaultAction, FaultConfig, FaultRule, FaultTarget, JobStatus};

/// Every data message reaches the device `ms` late, so downloads take a while.
fn slow_data(world: &World, ms: u64) {
    world.service.set_faults(FaultConfig {
        seed: 1,
        rules: vec![FaultRule::new(
            FaultAction::Delay(Duration::from_millis(ms)),
            FaultTarget::Data,
        )],
    });
}

/// Wait until the device has at least `blocks` blocks; its progress then.
fn wait_progress(device: &mut TestDevice, blocks: u32) -> u32 {
    match device.wait_for(
        "download progress",
        |e| matches!(e, DeviceEvent::Progress { received, .. } if *received >= blocks),
    ) {
        DeviceEvent::Progress { received, .. } => received,
        _ => unreachable!(),
    }
}

fn served(world: &World, thing: &str, stream: &str) -> BlockCounts {
    world
        .service
        .stats()
        .block_counts(thing, stream, 0)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn job_cancelled_mid_download() {
    let world = World::start();
    let mut device = world.device("thing-cancel", "1.0.0");
    slow_data(&world, 60);
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let total = blocks(image.len());
    world.ota_job(
        "thing-cancel",
        "job-cancel",
        &image,
        Protocol::Mqtt,
        &world.key,
    );
    wait_progress(&mut device, 4);

    world
        .service
        .cancel_job("thing-cancel", "job-cancel", true)
        .unwrap();
    let stats = match device.wait_for("Fail", |e| {
        matches!(
            e,
            DeviceEvent::Agent {
                event: Event::Fail(_),
                ..
            }
        )
    }) {
        DeviceEvent::Agent {
            event, statistics, ..
        } => {
            assert_eq!(event, Event::Fail(FailReason::Cancelled));
            statistics
        }
        _ => unreachable!(),
    };
    assert!(stats.processed >= 4 && stats.processed < total, "{stats:?}");
    let execution = world.expect_terminal("thing-cancel", "job-cancel", JobStatus::Canceled, None);
    // A progress update already on its way when the job was cancelled
    // reaches the service after the cancel and is refused; that is expected.
    // What the agent must not do is report a status of its own for the
    // cancelled job.
    assert!(
        execution.rejected_updates.iter().all(|u| u
            .request
            .contains(r#""status":"IN_PROGRESS","statusDetails":{"receive""#)),
        "the agent reported nothing but progress for the cancelled job: {:?}",
        execution.rejected_updates
    );
    let status = device.wait_settled_on(version(1, 0, 0));
    assert_eq!((status.boots, status.image_state), (1, ImageState::Aborted));
    assert!(
        !device.slot_has_image(Slot::Secondary),
        "the partial image was invalidated"
    );

    // No more data is asked for (beyond the request that was on its way
    // when the job was cancelled), not even after a request timeout.
    std::thread::sleep(Duration::from_millis(300));
    let before = served(&world, "thing-cancel", "job-cancel-stream");
    assert!(
        before.len() as u32 <= stats.processed + test_agent_config().blocks_per_request,
        "{before:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(served(&world, "thing-cancel", "job-cancel-stream"), before);
    assert!((before.len() as u32) < total);
}

#[test]
fn broker_restart_mid_download_resumes_without_refetching() {
    let mut world = World::start();
    let mut config = world.device_config("thing-restart", firmware_image("1.0.0", SelfTest::Pass));
    config.agent.blocks_per_request = 2;
    let mut device = world.start_device(config);
    device.wait_for("the first connection", |e| *e == DeviceEvent::Connected);
    slow_data(&world, 40);
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let total = blocks(image.len());
    world.ota_job(
        "thing-restart",
        "job-restart",
        &image,
        Protocol::Mqtt,
        &world.key,
    );
    let received = wait_progress(&mut device, 8);

    world.broker.kill();
    device.wait_for("the disconnect", |e| {
        matches!(e, DeviceEvent::Disconnected(_))
    });
    std::thread::sleep(Duration::from_millis(300));
    world
        .broker
        .restart()
        .expect("mosquitto restarts on the same port");
    device.wait_for("the reconnect", |e| *e == DeviceEvent::Connected);

    let stats = device.activation_statistics("job-restart");
    world.expect_terminal(
        "thing-restart",
        "job-restart",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    let status = device.wait_settled_on(version(1, 1, 0));
    assert_eq!(status.boots, 2);

    // The same transfer went on: all blocks written once.
    assert_eq!(stats.processed, total, "{stats:?}");
    let counts = served(&world, "thing-restart", "job-restart-stream");
    assert_eq!(counts.len() as u32, total, "{counts:?}");
    let again: Vec<u32> = counts
        .iter()
        .filter(|(_, &n)| n > 1)
        .map(|(&b, _)| b)
        .collect();
    assert!(
        again.iter().all(|&b| b >= received),
        "blocks the device had before the restart were served again: {again:?} (had {received})"
    );
    assert!(
        again.len() <= 2 && counts.values().all(|&n| n <= 2),
        "only the request in flight may be served again: {counts:?}"
    );
}

#[test]
fn duplicate_and_late_blocks() {
    let world = World::start();
    let mut device = world.device("thing-dup", "1.0.0");
    world.service.set_faults(FaultConfig {
        seed: 7,
        rules: vec![
            // Block 5 first comes 1.5 s late: after the agent asked again.
            FaultRule::new(
                FaultAction::Delay(Duration::from_millis(1500)),
                FaultTarget::Data,
            )
            .for_block(5)
            .times(1),
            // Every other block arrives twice.
            FaultRule::new(FaultAction::Duplicate, FaultTarget::Data),
        ],
    });
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let total = blocks(image.len());
    world.ota_job("thing-dup", "job-dup", &image, Protocol::Mqtt, &world.key);

    let stats = device.activation_statistics("job-dup");
    world.expect_terminal(
        "thing-dup",
        "job-dup",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    let status = device.wait_settled_on(version(1, 1, 0));
    assert_eq!(status.boots, 2);

    assert_eq!(stats.processed, total, "each block written once: {stats:?}");
    assert!(
        stats.dropped >= total - 2,
        "the duplicates were dropped: {stats:?}"
    );
    assert_eq!(stats.received, stats.processed + stats.dropped, "{stats:?}");
    let counts = served(&world, "thing-dup", "job-dup-stream");
    assert_eq!(
        counts.get(&5),
        Some(&2),
        "block 5 was asked for again: {counts:?}"
    );
    let faults = world.service.stats();
    assert!(faults.faults_duplicated >= u64::from(total) - 1);
    assert_eq!(faults.faults_delayed, 1);
}

#[test]
fn power_cut_mid_download_resumes_from_the_record() {
    let world = World::start();
    let mut device = world.device("thing-cut", "1.0.0");
    slow_data(&world, 40);
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let total = blocks(image.len());
    world.ota_job("thing-cut", "job-cut", &image, Protocol::Mqtt, &world.key);
    let before = wait_progress(&mut device, 10);

    device.device.arm_power_cut(0, 42);
    device.wait_for("the power cut", |e| *e == DeviceEvent::PowerCut);
    match device.wait_for("the boot after the cut", |e| {
        matches!(e, DeviceEvent::Booted(_))
    }) {
        DeviceEvent::Booted(info) => {
            assert_eq!((info.version, info.confirmed), (version(1, 0, 0), true))
        }
        _ => unreachable!(),
    }
    let resumed_at = match device.wait_for("resumed progress", |e| {
        matches!(e, DeviceEvent::Progress { .. })
    }) {
        DeviceEvent::Progress { received, .. } => received,
        _ => unreachable!(),
    };
    assert!(
        resumed_at > 0 && resumed_at <= before + 4,
        "resumed at {resumed_at}, had {before}"
    );

    let stats = device.activation_statistics("job-cut");
    assert_eq!(
        stats.processed,
        total - resumed_at,
        "the new agent wrote only the rest: {stats:?}"
    );
    world.expect_terminal(
        "thing-cut",
        "job-cut",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    let status = device.wait_settled_on(version(1, 1, 0));
    assert_eq!((status.boots, status.power_cuts), (3, 1));

    let counts = served(&world, "thing-cut", "job-cut-stream");
    assert_eq!(counts.len() as u32, total);
    for (&block, &n) in &counts {
        if block < resumed_at {
            assert_eq!(
                n, 1,
                "block {block} was before the resume point: {counts:?}"
            );
        }
    }
}

#[test]
fn expired_download_url_is_refreshed() {
    // URLs live 2 s; the job document reaches the device 4.5 s late, so its
    // URL has expired and the first range request gets 403.
    let world = World::start_with_service(|c| c.url_lifetime = Duration::from_secs(2));
    let mut device = world.device("thing-expired", "1.0.0");
    world.service.set_faults(FaultConfig {
        seed: 3,
        rules: vec![FaultRule::new(
            FaultAction::Delay(Duration::from_millis(4500)),
            FaultTarget::Jobs,
        )
        .topic_contains("notify-next")
        .times(1)],
    });
    let image = firmware_image("1.1.0", SelfTest::Pass);
    world.ota_job(
        "thing-expired",
        "job-expired",
        &image,
        Protocol::Http,
        &world.key,
    );

    let stats = device.activation_statistics("job-expired");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    world.expect_terminal(
        "thing-expired",
        "job-expired",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    device.wait_settled_on(version(1, 1, 0));
    let served = world.service.stats();
    assert_eq!(served.http_forbidden, 1, "one expired URL: {served:?}");
    assert_eq!(
        served.http_bytes_by_file["job-expired-stream/0"],
        image.len() as u64
    );
    assert_eq!(served.faults_delayed, 1);
}
