//! Updates that succeed, over MQTT and HTTP, and a custom job the
//! application claims.

use ota_agent::{CustomJobReply, CustomJobStatus, Event, ImageState, Statistics};
use ota_agent_e2e::*;
use ota_agent_host::device::firmware::SelfTest;
use ota_agent_host::device::RebootReason;
use ota_agent_host::mqtt::TlsConfig;
use ota_agent_host::{DeviceEvent, SwapType};
use otactl::jobdoc::Protocol;
use otactl::service::JobStatus;

/// After a successful update to `image` (1.1.0): the new image runs,
/// confirmed, the old one waits in the secondary slot, and a power cycle
/// boots the new one without a swap.
fn check_updated(world: &World, device: TestDevice, thing: &str, image: &[u8], old: &[u8]) {
    check_updated_with(
        world,
        device,
        world.device_config(thing, Vec::new()),
        image,
        old,
    );
}

/// [`check_updated`], powering the device on again with `config`.
fn check_updated_with(
    world: &World,
    mut device: TestDevice,
    config: ota_agent_host::DeviceConfig,
    image: &[u8],
    old: &[u8],
) {
    let status = device.wait_settled_on(version(1, 1, 0));
    assert_eq!(status.image_state, ImageState::Accepted);
    assert_eq!(status.boots, 2);
    let events = device.take_events();
    assert!(events.contains(&DeviceEvent::SelfTest(SelfTest::Pass)));
    assert!(events.iter().any(|e| matches!(
        e,
        DeviceEvent::Rebooting {
            reason: RebootReason::Activation,
            ..
        }
    )));
    let trial = events.iter().find_map(|e| match e {
        DeviceEvent::Booted(info) if info.swap == SwapType::Test => Some(*info),
        _ => None,
    });
    let trial = trial.expect("a boot that swapped the new image in for a test");
    assert_eq!(trial.version, version(1, 1, 0));
    assert!(!trial.confirmed, "on trial until the self test passes");
    assert_eq!(device.slot_bytes(Slot::Primary, image.len()), image);
    assert_eq!(device.slot_bytes(Slot::Secondary, old.len()), old);

    // The commit is durable: a power cycle boots 1.1.0, confirmed, no swap.
    drop(device);
    let mut again = world.start_device(config);
    let DeviceEvent::Booted(info) =
        again.wait_for("a boot", |e| matches!(e, DeviceEvent::Booted(_)))
    else {
        unreachable!()
    };
    assert_eq!(
        (info.version, info.confirmed, info.swap),
        (version(1, 1, 0), true, SwapType::None)
    );
}

#[test]
fn full_update_over_mqtt() {
    let world = World::start();
    let old = firmware_image("1.0.0", SelfTest::Pass);
    let mut device = world.start_device(world.device_config("thing-mqtt", old.clone()));
    let image = firmware_image("1.1.0", SelfTest::Pass);
    let total = blocks(image.len());
    world.ota_job("thing-mqtt", "job-mqtt", &image, Protocol::Mqtt, &world.key);

    let stats = device.activation_statistics("job-mqtt");
    assert_eq!(stats.processed, total, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!((stats.received, stats.queued), (total, total), "{stats:?}");

    world.expect_terminal(
        "thing-mqtt",
        "job-mqtt",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    check_updated(&world, device, "thing-mqtt", &image, &old);

    let served = world.service.stats();
    let counts = served
        .block_counts("thing-mqtt", "job-mqtt-stream", 0)
        .expect("blocks were served");
    assert_eq!(counts.len() as u32, total);
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert_eq!(served.http_requests, 0);
}

#[test]
fn full_update_over_http() {
    let world = World::start();
    let old = firmware_image("1.0.0", SelfTest::Pass);
    let mut device = world.start_device(world.device_config("thing-http", old.clone()));
    let image = firmware_image("1.1.0", SelfTest::Pass);
    world.ota_job("thing-http", "job-http", &image, Protocol::Http, &world.key);

    let stats = device.activation_statistics("job-http");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert!(stats.processed >= blocks(image.len()) / 4, "{stats:?}");
    assert_eq!(stats.received, stats.processed, "{stats:?}");

    world.expect_terminal(
        "thing-http",
        "job-http",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    check_updated(&world, device, "thing-http", &image, &old);

    let served = world.service.stats();
    assert!(
        served
            .block_counts("thing-http", "job-http-stream", 0)
            .is_none(),
        "no MQTT blocks"
    );
    assert_eq!(served.http_forbidden, 0);
    let ranges = (image.len() as u32).div_ceil(test_agent_config().http_range_size);
    assert_eq!(served.http_requests, u64::from(ranges));
    assert_eq!(
        served.http_bytes_by_file["job-http-stream/0"],
        image.len() as u64
    );
}

#[test]
fn custom_job_claimed_by_the_application() {
    let world = World::start();
    let mut config = world.device_config("thing-custom", firmware_image("1.0.0", SelfTest::Pass));
    config.custom_jobs = Some(Box::new(|job| {
        if job.document.windows(7).any(|w| w == b"blink-3") {
            CustomJobReply::Claim(CustomJobStatus::Succeeded)
        } else {
            CustomJobReply::Decline
        }
    }));
    let mut device = world.start_device(config);
    world.create_job(
        "thing-custom",
        "job-blink",
        serde_json::json!({"operation": "blink-3"}),
    );
    let execution = world.expect_terminal("thing-custom", "job-blink", JobStatus::Succeeded, None);
    assert!(
        execution.status_details.is_empty(),
        "{:?}",
        execution.status_details
    );
    device.wait_for("ReceivedJob", |e| {
        matches!(e, DeviceEvent::Agent { event: Event::ReceivedJob, job_id, .. } if job_id.as_deref() == Some("job-blink"))
    });
    let status = device.wait_settled_on(version(1, 0, 0));
    assert_eq!(status.boots, 1, "a custom job does not reboot the device");
    assert_eq!(
        status.statistics,
        Statistics::default(),
        "no file was transferred"
    );
    assert!(!device.slot_has_image(Slot::Secondary));
}

#[test]
fn update_over_tls_with_a_client_certificate() {
    let (world, pki) = World::start_with_tls();
    let tls_port = world.broker.tls_port().expect("a TLS listener");
    let with_tls = |thing: &str, client_auth: bool| {
        let mut config = world.device_config(thing, firmware_image("1.0.0", SelfTest::Pass));
        config.mqtt.port = tls_port;
        config.mqtt.tls = Some(TlsConfig {
            ca_file: pki.ca.clone(),
            client_auth: client_auth.then(|| (pki.client_cert.clone(), pki.client_key.clone())),
            alpn: vec![],
        });
        config
    };

    // Without a certificate the broker refuses the device.
    let mut stranger = world.start_device(with_tls("thing-nocert", false));
    stranger.wait_for("a refused connection", |e| {
        matches!(e, DeviceEvent::Unreachable(_))
    });
    assert!(!stranger.take_events().contains(&DeviceEvent::Connected));
    drop(stranger);

    let old = firmware_image("1.0.0", SelfTest::Pass);
    let mut device = world.start_device(with_tls("thing-tls", true));
    device.wait_for("the TLS connection", |e| *e == DeviceEvent::Connected);
    let image = firmware_image("1.1.0", SelfTest::Pass);
    world.ota_job("thing-tls", "job-tls", &image, Protocol::Mqtt, &world.key);
    let stats = device.activation_statistics("job-tls");
    assert_eq!(
        (stats.processed, stats.dropped),
        (blocks(image.len()), 0),
        "{stats:?}"
    );
    world.expect_terminal(
        "thing-tls",
        "job-tls",
        JobStatus::Succeeded,
        Some("accepted  v1.1.0"),
    );
    let mut config = world.device_config("thing-tls", Vec::new());
    config.mqtt = with_tls("thing-tls", true).mqtt;
    check_updated_with(&world, device, config, &image, &old);
}
