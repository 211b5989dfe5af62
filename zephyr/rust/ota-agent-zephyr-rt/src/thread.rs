//! The agent thread: waits on its channel until the agent's next deadline,
//! feeds every input to the [`Driver`], publishes the state snapshot, and
//! delivers events to the application's callback outside any lock.

use crate::input::{Command, InitRequest, Input, Reply};
use crate::shared::{AGENT_THREAD, DROPPED, SNAPSHOT};
use ota_agent::{Agent, Event, P256Verifier, State};
use ota_agent_zephyr::capi::{api_errno, EventC, EventCb, UserData};
use ota_agent_zephyr::{config, ffi, uptime, Driver, ShimLink, ZephyrPlatform};
use zephyr::sync::atomic::Ordering;
use zephyr::sync::channel::{Receiver, Sender};
use zephyr::sync::Mutex;
use zephyr::time::{Duration, Tick};

/// `CONFIG_OTA_AGENT_THREAD_STACK_SIZE` (never 0, so zephyr-lang-rust's
/// `kconfig` module has it at every revision).
const STACK_SIZE: usize = zephyr::kconfig::CONFIG_OTA_AGENT_THREAD_STACK_SIZE as usize;

/// The agent's URL buffer: `CONFIG_OTA_AGENT_HTTP_URL_BUFFER_SIZE`, which is
/// 1 (never 0, see the Kconfig) when HTTP is off; then no buffer at all.
const URL_CAP: usize = match zephyr::kconfig::CONFIG_OTA_AGENT_HTTP_URL_BUFFER_SIZE {
    n if n > 1 => n as usize,
    _ => 0,
};

/// The longest wait in one go, so that a tick count never overflows.
const MAX_WAIT_MS: u64 = 60_000;

/// Events taken from the agent per input (it queues at most 4).
const EVENTS: usize = 8;

const EALREADY: i32 = 114;
const EINVAL: i32 = 22;
const ENODEV: i32 = 19;

type AgentDriver = Driver<ZephyrPlatform, ShimLink, URL_CAP>;

/// The driver, in a static so that it is not on the thread's stack. Only the
/// agent thread locks it.
static DRIVER: Mutex<Option<AgentDriver>> = Mutex::new(None);

/// The application's event callback.
type Callback = Option<(EventCb, UserData)>;

/// Milliseconds until the agent's next deadline (`None`: no deadline).
fn wait_ms() -> Option<u64> {
    let Ok(driver) = DRIVER.lock();
    let deadline = driver.as_ref()?.next_deadline()?;
    Some(deadline.millis_since(uptime()).min(MAX_WAIT_MS))
}

fn receive(rx: &Receiver<Input>, wait: Option<u64>) -> Option<Input> {
    match wait {
        None => rx.recv().ok(),
        // A zero Duration is not a valid Zephyr timeout here (debug asserts
        // in zephyr/src/time.rs `From<Duration> for Timeout`): poll instead.
        Some(0) => rx.try_recv().ok(),
        Some(ms) => rx.recv_timeout(Duration::millis(ms as Tick)).ok(),
    }
}

fn start(driver: &mut Option<AgentDriver>, req: InitRequest, callback: &mut Callback) -> i32 {
    if driver
        .as_ref()
        .is_some_and(|d| d.agent().state() != State::Stopped)
    {
        return -EALREADY;
    }
    let settings = config::read();
    let Some(verifier) = P256Verifier::from_sec1(&req.key) else {
        log::error!("ota: the signing key is not a P-256 point");
        return -EINVAL;
    };
    let resume = settings.config.resume_every_blocks > 0;
    let platform = match ZephyrPlatform::open(verifier, resume, req.custom_job) {
        Ok(p) => p,
        Err(e) => return e.0,
    };
    // SAFETY: the client pointer comes from the application, which keeps the
    // client alive while the agent runs (ota_agent.h); the name is valid for
    // its length during the call and the shim copies it.
    let rc = unsafe {
        ffi::ota_shim_mqtt_bind(req.client.0, req.thing.as_ptr(), req.thing.len() as u32)
    };
    if rc < 0 {
        return rc;
    }
    let agent = match Agent::new(settings.config, &req.thing, platform) {
        Ok(agent) => agent,
        Err(e) => {
            log::error!("ota: configuration refused: {e:?}");
            return -EINVAL;
        }
    };
    *callback = req.event_cb;
    let d = driver.insert(Driver::new(agent, ShimLink::new(), uptime));
    match d.apply(|agent, now| agent.start(now)) {
        Ok(()) => 0,
        Err(e) => api_errno(e),
    }
}

fn run(d: &mut AgentDriver, command: Command) -> i32 {
    let result = d.apply(|agent, now| match command {
        Command::Shutdown { unsubscribe } => {
            agent.shutdown(unsubscribe);
            Ok(())
        }
        Command::CheckForUpdate => agent.check_for_update(now),
        Command::Suspend => agent.suspend(),
        Command::Resume => agent.resume(now),
        Command::Activate => agent.activate_new_image(now),
        Command::SetImageState(v) => agent.set_image_state(now, v),
    });
    result.map_or_else(api_errno, |()| 0)
}

fn reply(replies: &Sender<Reply>, to: Option<u32>, rc: i32) {
    if let Some(seq) = to {
        // The caller may have timed out; then nobody reads this, and the
        // next caller skips it by its sequence number.
        let _ = replies.try_send((seq, rc));
    }
}

fn step(
    driver: &mut Option<AgentDriver>,
    input: Input,
    replies: &Sender<Reply>,
    cb: &mut Callback,
) {
    match input {
        Input::Init(req, to) => {
            let rc = start(driver, *req, cb);
            reply(replies, to, rc);
        }
        Input::Message { data, topic_len } => {
            let (topic, payload) = data.split_at(topic_len.min(data.len()));
            match driver.as_mut() {
                Some(d) => {
                    d.handle_message(topic, payload);
                }
                None => log::debug!("ota: message ignored"),
            }
        }
        Input::Puback(id) => {
            if let Some(d) = driver.as_mut() {
                d.handle_puback(id);
            }
        }
        Input::Call { command, reply_to } => {
            let rc = driver.as_mut().map_or(-ENODEV, |d| run(d, command));
            reply(replies, reply_to, rc);
        }
    }
}

/// Everything that happens after an input (or a timeout): dropped messages,
/// deadlines, the snapshot, and the events to deliver.
fn settle(d: &mut AgentDriver, events: &mut heapless::Vec<Event, EVENTS>) {
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        d.record_dropped(dropped);
    }
    if d.next_deadline().is_some_and(|t| t <= uptime()) {
        d.handle_timeout();
    }
    while let Some(e) = d.poll_event() {
        if events.push(e).is_err() {
            log::warn!("ota: event dropped: {e:?}");
        }
    }
    SNAPSHOT.update(d.agent());
}

/// The agent thread. Runs forever; created once by `ota_agent_init`.
#[zephyr::thread(stack_size = STACK_SIZE)]
pub fn agent_thread(rx: Receiver<Input>, replies: Sender<Reply>) {
    // SAFETY: no arguments; returns the calling thread.
    AGENT_THREAD.store(unsafe { ffi::ota_shim_thread_self() }, Ordering::Release);
    let mut callback: Callback = None;
    let mut events = heapless::Vec::<Event, EVENTS>::new();
    loop {
        let input = receive(&rx, wait_ms());
        {
            let Ok(mut driver) = DRIVER.lock();
            if let Some(input) = input {
                step(&mut driver, input, &replies, &mut callback);
            }
            if let Some(d) = driver.as_mut() {
                settle(d, &mut events);
            }
        }
        // Outside the lock: the callback may call the API (which queues).
        for e in core::mem::take(&mut events) {
            if let Some((cb, user)) = callback {
                let c = EventC::from(e);
                // SAFETY: the application registered `cb` with `user` for
                // exactly this; `c` is valid for the duration of the call.
                unsafe { cb(&c, user.0) };
            }
        }
    }
}
