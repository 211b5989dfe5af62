//! The application: one agent in a static, driven through its whole API the
//! way a port's main loop drives it. Every API call sits in its own
//! out-of-line function (`api_*`) so that the stack analysis in run.sh can
//! give each one's peak.

use crate::port::{self, sink, Boot, Port, Slot};
use core::hint::black_box;
use core::mem::MaybeUninit;
use ota_agent::{
    Agent, Config, DeliveryToken, Event, HttpOutcome, ImageVerdict, Instant, QoS, Transmit,
};

/// MQTT + HTTP + resume: room for a pre-signed URL and a real progress store.
#[cfg(feature = "http")]
mod variant {
    pub const URL_CAP: usize = 1536;
    pub type Store = crate::port::Store;
    pub const STORE: Store = crate::port::Store;
}

/// MQTT only: no URL buffer, no resume.
#[cfg(not(feature = "http"))]
mod variant {
    pub const URL_CAP: usize = 0;
    pub type Store = ota_agent::NoProgressStore;
    pub const STORE: Store = ota_agent::NoProgressStore;
}

#[cfg(feature = "p256")]
type Verifier = ota_agent::P256Verifier;
#[cfg(not(feature = "p256"))]
type Verifier = port::StubVerifier;

type OtaAgent = Agent<Port<Verifier, variant::Store>, { variant::URL_CAP }>;

/// The agent, in `.bss` (`run.sh` reads its size from the symbol table).
#[no_mangle]
static mut OTA_AGENT: MaybeUninit<OtaAgent> = MaybeUninit::uninit();

/// What `port_wait` returns: the next input for the agent.
mod input {
    pub const MQTT_MESSAGE: u32 = 0;
    pub const HTTP_DATA: u32 = 1;
    pub const HTTP_DONE: u32 = 2;
    pub const DELIVERED: u32 = 3;
    pub const TIMEOUT: u32 = 4;
    pub const CHECK_FOR_UPDATE: u32 = 5;
    pub const SUSPEND: u32 = 6;
    pub const RESUME: u32 = 7;
    pub const SET_IMAGE_STATE: u32 = 8;
    pub const ACTIVATE: u32 = 9;
    pub const SHUTDOWN: u32 = 10;
    pub const START: u32 = 11;
    pub const DROPPED: u32 = 12;
}

/// The receive buffer: a topic and a 4 KiB block with its CBOR envelope.
const RX_CAP: usize = 4096 + 512;

/// The port's main loop.
pub fn run() -> ! {
    let agent = api_new();
    let mut rx = [0u8; RX_CAP];
    loop {
        // SAFETY (here and below): the port functions take plain values and
        // pointers valid for the lengths passed with them.
        let now = Instant::from_millis(unsafe { port::port_millis() });
        let mut arg = 0;
        match unsafe { port::port_wait(&mut arg) } {
            input::MQTT_MESSAGE => api_handle_message(agent, now, &mut rx),
            input::HTTP_DATA if cfg!(feature = "http") => api_handle_http_data(agent, now, &mut rx),
            input::HTTP_DONE if cfg!(feature = "http") => api_handle_http_done(agent, now, arg),
            input::DELIVERED => api_handle_delivered(agent, now, arg),
            input::TIMEOUT => api_handle_timeout(agent, now),
            input::CHECK_FOR_UPDATE => api_check_for_update(agent, now),
            input::SUSPEND => api_suspend(agent),
            input::RESUME => api_resume(agent, now),
            input::SET_IMAGE_STATE => api_set_image_state(agent, now, arg),
            input::ACTIVATE => api_activate_new_image(agent, now),
            input::SHUTDOWN => api_shutdown(agent, arg != 0),
            input::START => api_start(agent, now),
            input::DROPPED => agent.record_dropped(),
            _ => api_queries(agent),
        }
        while api_poll_transmit(agent) {}
        api_poll_event(agent);
    }
}

fn config() -> Config {
    let mut config = Config::default();
    config.protocols.http = cfg!(feature = "http");
    if !cfg!(feature = "http") {
        config.resume_every_blocks = 0;
    }
    config
}

#[cfg(feature = "p256")]
fn verifier() -> Verifier {
    // SAFETY: the port's key is 65 bytes.
    let key = unsafe { core::slice::from_raw_parts(port::port_public_key(), 65) };
    ota_agent::P256Verifier::from_sec1(key).unwrap_or_else(|| unsafe { port::port_fault() })
}

#[cfg(not(feature = "p256"))]
fn verifier() -> Verifier {
    port::StubVerifier
}

/// `Agent::new`, moved into the static. The configuration and thing name are
/// hidden from the optimiser, as if read from provisioning data.
#[inline(never)]
fn api_new() -> &'static mut OtaAgent {
    let platform = Port {
        slot: Slot,
        boot: Boot,
        store: variant::STORE,
        verifier: verifier(),
    };
    match OtaAgent::new(black_box(config()), black_box("footprint-thing"), platform) {
        // SAFETY: the only reference to the static ever made.
        Ok(agent) => unsafe { (*core::ptr::addr_of_mut!(OTA_AGENT)).write(agent) },
        Err(_) => unsafe { port::port_fault() },
    }
}

#[inline(never)]
fn api_start(agent: &mut OtaAgent, now: Instant) {
    sink(agent.start(now));
}

#[inline(never)]
fn api_handle_message(agent: &mut OtaAgent, now: Instant, rx: &mut [u8]) {
    let mut topic_len = 0;
    let len = unsafe { port::port_mqtt_receive(rx.as_mut_ptr(), rx.len(), &mut topic_len) };
    let Some((topic, payload)) = rx.get(..len).and_then(|m| m.split_at_checked(topic_len)) else {
        return;
    };
    sink(agent.handle_message(now, topic, payload));
}

#[inline(never)]
fn api_handle_http_data(agent: &mut OtaAgent, now: Instant, rx: &mut [u8]) {
    let mut offset = 0;
    let len = unsafe { port::port_http_receive(rx.as_mut_ptr(), rx.len(), &mut offset) };
    if let Some(data) = rx.get(..len) {
        sink(agent.handle_http_data(now, offset, data));
    }
}

/// `status` is the HTTP status, or 0 for a transport error; 206 is success.
#[inline(never)]
fn api_handle_http_done(agent: &mut OtaAgent, now: Instant, status: u32) {
    let outcome = match status {
        206 => HttpOutcome::Complete,
        status => HttpOutcome::Failed {
            status: status as u16,
        },
    };
    agent.handle_http_done(now, outcome);
}

#[inline(never)]
fn api_handle_delivered(agent: &mut OtaAgent, now: Instant, token: u32) {
    agent.handle_delivered(now, DeliveryToken(token as u16));
}

#[inline(never)]
fn api_handle_timeout(agent: &mut OtaAgent, now: Instant) {
    agent.handle_timeout(now);
}

#[inline(never)]
fn api_check_for_update(agent: &mut OtaAgent, now: Instant) {
    sink(agent.check_for_update(now));
}

#[inline(never)]
fn api_suspend(agent: &mut OtaAgent) {
    sink(agent.suspend());
}

#[inline(never)]
fn api_resume(agent: &mut OtaAgent, now: Instant) {
    sink(agent.resume(now));
}

#[inline(never)]
fn api_set_image_state(agent: &mut OtaAgent, now: Instant, verdict: u32) {
    let verdict = match verdict {
        0 => ImageVerdict::Accepted,
        1 => ImageVerdict::Rejected,
        _ => ImageVerdict::Aborted,
    };
    sink(agent.set_image_state(now, verdict));
}

#[inline(never)]
fn api_activate_new_image(agent: &mut OtaAgent, now: Instant) {
    sink(agent.activate_new_image(now));
}

#[inline(never)]
fn api_shutdown(agent: &mut OtaAgent, unsubscribe: bool) {
    agent.shutdown(unsubscribe);
}

/// The read-only calls an application makes for its UI or logs.
#[inline(never)]
fn api_queries(agent: &mut OtaAgent) {
    sink((agent.state(), agent.image_state(), agent.statistics()));
    sink((agent.job_id(), agent.progress(), agent.poll_timeout()));
}

/// One `poll_transmit`, handed to the MQTT or HTTP client; false when there
/// is nothing more to send. The agent renders into a buffer in
/// `poll_transmit`'s frame, so this function's stack includes it.
#[inline(never)]
fn api_poll_transmit(agent: &mut OtaAgent) -> bool {
    let qos = |q| match q {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
    };
    agent
        .poll_transmit(|t| unsafe {
            match t {
                Transmit::Subscribe { topic, qos: q } => {
                    port::port_subscribe(topic.as_ptr(), topic.len(), qos(q))
                }
                Transmit::Unsubscribe { topic } => {
                    port::port_unsubscribe(topic.as_ptr(), topic.len())
                }
                Transmit::Publish {
                    topic,
                    payload,
                    qos: q,
                    delivery,
                } => port::port_publish(
                    topic.as_ptr(),
                    topic.len(),
                    payload.as_ptr(),
                    payload.len(),
                    qos(q),
                    delivery.map_or(-1, |d| i32::from(d.0)),
                ),
                Transmit::HttpGet { url, first, last } => {
                    port::port_http_get(url.as_ptr(), url.len(), first, last)
                }
            }
        })
        .is_some()
}

/// Hand every pending event to the application.
#[inline(never)]
fn api_poll_event(agent: &mut OtaAgent) {
    while let Some(event) = agent.poll_event() {
        let code = match event {
            Event::ReceivedJob => 0,
            Event::Activate => 1,
            Event::UpdateComplete => 2,
            Event::StartTest => 3,
            Event::Fail(_) => 4,
            Event::SelfTestFailed(_) => 5,
            Event::NoActiveJob => 6,
        };
        unsafe { port::port_event(code) };
    }
}
