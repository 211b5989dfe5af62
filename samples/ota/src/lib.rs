//! ota-agent sample: a device that keeps an MQTT connection (reconnecting
//! with exponential backoff and jitter), runs the OTA agent on it, suspends
//! the agent while disconnected, logs transfer statistics once a second,
//! and after an update runs a self test and accepts or rejects the image.
#![no_std]

mod conn;
mod events;

use ota_agent::ImageVerdict;
use ota_agent_zephyr::capi::UserData;
use ota_agent_zephyr::Backoff;
use ota_agent_zephyr_rt::api::{self, Params};
use zephyr::time::{sleep, Duration, Tick};

/// Run the connection in slices of this length (statistics cadence).
const TICK_MS: i32 = 1000;

/// `OTA_AGENT_STATE_*` names, for the log.
const STATES: [&str; 10] = [
    "uninitialized",
    "init",
    "requesting job",
    "waiting for job",
    "creating file",
    "requesting block",
    "waiting for block",
    "closing file",
    "suspended",
    "stopped",
];

/// The sample's self test: the new image reached the broker again (it is
/// running this code, connected). The other verdicts exist to test rollback.
fn self_test(verdict: u8) -> Option<ImageVerdict> {
    match verdict {
        0 => Some(ImageVerdict::Accepted),
        1 => Some(ImageVerdict::Rejected),
        _ => None,
    }
}

fn log_statistics() {
    let s = api::statistics();
    let state = STATES.get(api::state() as usize).copied().unwrap_or("?");
    log::info!(
        "ota sample: {state}; blocks received {} queued {} processed {} dropped {}",
        s.received,
        s.queued,
        s.processed,
        s.dropped
    );
}

/// Serve one connection until it drops.
fn run_connected(cfg: &conn::AppConfig) {
    loop {
        if let Err(e) = conn::process(TICK_MS) {
            log::warn!("ota sample: connection lost ({e})");
            return;
        }
        log_statistics();
        if events::take_activate() {
            log::info!("ota sample: new image ready; activating (reboots)");
            if let Err(e) = api::activate_new_image() {
                log::error!("ota sample: activation failed ({e})");
            }
        }
        if events::take_start_test() {
            match self_test(cfg.self_test) {
                Some(verdict) => {
                    log::info!("ota sample: self test done: {verdict:?}");
                    if let Err(e) = api::set_image_state(verdict) {
                        log::error!("ota sample: set_image_state failed ({e})");
                    }
                }
                None => log::warn!("ota sample: self test silent (test build)"),
            }
        }
    }
}

/// Start the agent after the first CONNACK, resume it after the others.
fn start_agent(started: &mut bool) {
    let result = if *started {
        api::resume()
    } else {
        let params = Params {
            client: conn::client(),
            thing_name: None,
            signing_key: None,
            event_cb: Some((events::on_event, UserData(core::ptr::null_mut()))),
            custom_job: None,
        };
        api::init(&params)
    };
    match result {
        Ok(()) => *started = true,
        Err(e) => log::error!("ota sample: starting the agent failed ({e})"),
    }
}

/// The application's entry point (called by zephyr-lang-rust's `main`).
#[no_mangle]
extern "C" fn rust_main() {
    // SAFETY: called once, before any other thread logs from Rust.
    unsafe { zephyr::set_logger().ok() };
    let cfg = conn::config();
    log::info!(
        "ota sample: broker {}:{} ({})",
        cfg.host(),
        cfg.broker_port,
        if cfg.tls != 0 { "TLS" } else { "TCP" }
    );
    let mut backoff = Backoff::new(cfg.reconnect_base_ms, cfg.reconnect_max_ms);
    let mut started = false;
    loop {
        match conn::connect(&cfg) {
            Ok(()) => {
                log::info!("ota sample: connected");
                backoff.reset();
                start_agent(&mut started);
                run_connected(&cfg);
                if started {
                    let _ = api::suspend();
                }
            }
            Err(e) => log::warn!("ota sample: connect failed ({e})"),
        }
        let delay = backoff.next_delay_ms(conn::random());
        log::info!("ota sample: reconnecting in {delay} ms");
        sleep(Duration::millis(Tick::from(delay.max(1))));
    }
}
