//! The driver over the fake shim: what goes out on MQTT, and PUBACKs back
//! to the agent.

use super::Driver;
use crate::link::ShimLink;
use crate::platform::ZephyrPlatform;
use crate::testing::{nrf52840_defaults, FakeShim};
use crate::{config, uptime};
use ota_agent::{Agent, Event, FailReason, P256Verifier, Processed, State};
use std::vec::Vec;

/// The P-256 generator point: a valid public key nobody signs with here.
const KEY: &str = "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
                   4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

fn driver() -> Driver<ZephyrPlatform, ShimLink, 0> {
    let key = crate::key::sec1_from_hex(KEY).unwrap();
    let verifier = P256Verifier::from_sec1(&key).unwrap();
    let platform = ZephyrPlatform::open(verifier, true, None).unwrap();
    let config = config::config_from(&nrf52840_defaults());
    let agent = Agent::new(config, "thing-1", platform).unwrap();
    Driver::new(agent, ShimLink::new(), uptime)
}

fn events(d: &mut Driver<ZephyrPlatform, ShimLink, 0>) -> Vec<Event> {
    core::iter::from_fn(|| d.poll_event()).collect()
}

#[test]
fn start_subscribes_then_asks_for_a_job() {
    let shim = FakeShim::install();
    let mut d = driver();
    d.apply(|a, now| a.start(now)).unwrap();
    assert_eq!(
        shim.mqtt(),
        [
            "sub $aws/things/thing-1/jobs/notify-next q1 0x8001",
            "sub $aws/things/thing-1/jobs/$next/get/accepted q1 0x8002",
            r#"pub $aws/things/thing-1/jobs/$next/get q1 0x8003 {"clientToken":"0:thing-1"}"#,
        ]
    );
    assert_eq!(d.agent().state(), State::WaitingForJob);
}

#[test]
fn puback_of_a_status_moves_the_agent_on() {
    let shim = FakeShim::install();
    let mut d = driver();
    d.apply(|a, now| a.start(now)).unwrap();
    shim.mqtt();
    let doc = br#"{"execution":{"jobId":"reboot-1","jobDocument":{"op":"reboot"}}}"#;
    let topic = b"$aws/things/thing-1/jobs/$next/get/accepted";
    assert_eq!(d.handle_message(topic, doc), Processed::JobDocument);
    let sent = shim.mqtt();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("pub $aws/things/thing-1/jobs/reboot-1/update q1 0x8004"));
    assert_eq!(events(&mut d), [Event::Fail(FailReason::CustomJobDeclined)]);

    d.handle_puback(0x8003); // the job request's PUBACK: nobody waits for it
    assert!(shim.mqtt().is_empty());
    d.handle_puback(0x8004);
    let sent = shim.mqtt();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("pub $aws/things/thing-1/jobs/$next/get q1 0x8005"));
}

#[test]
fn timeouts_use_the_shim_clock() {
    let shim = FakeShim::install();
    let mut d = driver();
    d.apply(|a, now| a.start(now)).unwrap();
    shim.mqtt();
    let deadline = d.next_deadline().unwrap();
    shim.advance_ms(deadline.as_millis() as i64);
    d.handle_timeout();
    let sent = shim.mqtt();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains(r#"{"clientToken":"1:thing-1"}"#));
}

#[test]
fn trial_image_opens_the_self_test_window() {
    let shim = FakeShim::install();
    shim.set_boot(Some(0x0102_0003), 1);
    let mut d = driver();
    d.apply(|a, now| a.start(now)).unwrap();
    let self_test_ms = nrf52840_defaults().self_test_timeout_ms as u64;
    assert_eq!(
        d.next_deadline().map(|t| t.as_millis()),
        Some(10_000.min(self_test_ms))
    );
}

#[test]
fn dropped_messages_are_counted() {
    let _shim = FakeShim::install();
    let mut d = driver();
    d.record_dropped(3);
    assert_eq!(d.agent().statistics().dropped, 3);
}
