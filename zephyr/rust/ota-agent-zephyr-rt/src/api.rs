//! The agent's API for Rust applications; the C API (`ota_agent.h`) wraps
//! these functions.
//!
//! Calls from any thread but the agent's are sent to the agent thread and
//! wait for its answer (at most `CONFIG_OTA_AGENT_API_TIMEOUT_MS`). Calls from
//! the agent thread itself — from the event callback — are queued and return
//! `Ok(())` at once; they run when the callback returns.

use crate::input::{Command, InitRequest, Input, Reply, THING_MAX};
use crate::shared::{sender, Shared, AGENT_THREAD, CALLS, SHARED, SNAPSHOT};
use crate::thread;
use alloc::boxed::Box;
use core::ffi::c_void;
use heapless::{String, Vec};
use ota_agent::ImageVerdict;
use ota_agent_zephyr::capi::{CustomJobHook, EventCb, StatisticsC, UserData};
use ota_agent_zephyr::{config, ffi, key};
use zephyr::sync::atomic::Ordering;
use zephyr::sync::channel::{bounded, Receiver};
use zephyr::time::{Duration, Tick};

/// `EINVAL`.
const EINVAL: i32 = 22;
/// `ENODEV`.
const ENODEV: i32 = 19;
/// `EBUSY`.
const EBUSY: i32 = 16;

/// What [`init`] takes.
pub struct Params<'a> {
    /// The application's `struct mqtt_client *` (must outlive the agent).
    pub client: *mut c_void,
    /// The thing name; `None` for `CONFIG_OTA_AGENT_THING_NAME`.
    pub thing_name: Option<&'a str>,
    /// The SEC1 P-256 code-signing key; `None` for `CONFIG_OTA_AGENT_SIGNING_KEY`.
    pub signing_key: Option<&'a [u8]>,
    /// The event callback (runs on the agent thread) and its user data.
    pub event_cb: Option<(EventCb, UserData)>,
    /// The custom job callback.
    pub custom_job: Option<CustomJobHook>,
}

/// A C return code as a `Result`.
fn code(rc: i32) -> Result<(), i32> {
    if rc < 0 {
        Err(rc)
    } else {
        Ok(())
    }
}

fn on_agent_thread() -> bool {
    // SAFETY: no arguments; `k_current_get()` is callable from any thread.
    let me = unsafe { ffi::ota_shim_thread_self() };
    AGENT_THREAD.load(Ordering::Acquire) == me
}

fn millis(ms: u32) -> Duration {
    Duration::millis(Tick::from(ms.max(1)))
}

/// Create the channels and start the agent thread, once.
fn ensure_thread() -> config::Settings {
    let Ok(mut shared) = SHARED.lock();
    if let Some(s) = shared.as_ref() {
        return s.settings;
    }
    let settings = config::read();
    let depth = settings.queue_depth.max(1) as usize;
    let (tx, rx) = bounded::<Input>(depth);
    let (reply_tx, replies) = bounded::<Reply>(depth);
    let ready = thread::agent_thread(rx, reply_tx);
    ready.set_priority(settings.thread_priority);
    ready.start();
    *shared = Some(Shared {
        tx,
        replies,
        settings,
    });
    settings
}

fn replies() -> Option<Receiver<Reply>> {
    let Ok(shared) = SHARED.lock();
    shared.as_ref().map(|s| s.replies.clone())
}

/// Send an input to the agent thread and wait for its result (or, from the
/// agent thread, just queue it).
fn request(make: impl FnOnce(Option<u32>) -> Input) -> Result<(), i32> {
    let (tx, settings) = sender().ok_or(-ENODEV)?;
    if on_agent_thread() {
        return tx.try_send(make(None)).map_err(|_| -EBUSY);
    }
    let replies = replies().ok_or(-ENODEV)?;
    let timeout = millis(settings.api_timeout_ms);
    let Ok(mut seq) = CALLS.lock();
    *seq = seq.wrapping_add(1);
    let mine = *seq;
    tx.send_timeout(make(Some(mine)), timeout)
        .map_err(|_| -EBUSY)?;
    loop {
        match replies.recv_timeout(timeout) {
            Ok((s, rc)) if s == mine => return code(rc),
            Ok(_) => continue, // a late answer to a caller that timed out
            Err(_) => return Err(-EBUSY),
        }
    }
}

fn call(command: Command) -> Result<(), i32> {
    request(|reply_to| Input::Call { command, reply_to })
}

/// `OTA_Init`: create the agent (and its thread, the first time) and start
/// it. Call once the client is connected.
pub fn init(p: &Params<'_>) -> Result<(), i32> {
    if p.client.is_null() {
        return Err(-EINVAL);
    }
    let settings = ensure_thread();
    let name = p
        .thing_name
        .filter(|t| !t.is_empty())
        .unwrap_or(settings.thing_name);
    let mut thing: String<THING_MAX> = String::new();
    thing.push_str(name).map_err(|_| -EINVAL)?;
    let signing_key = match p.signing_key {
        Some(k) => Vec::from_slice(k).map_err(|_| -EINVAL)?,
        None => key::sec1_from_hex(settings.signing_key_hex).map_err(|e| {
            log::error!("ota: no usable CONFIG_OTA_AGENT_SIGNING_KEY ({e:?})");
            -EINVAL
        })?,
    };
    let req = Box::new(InitRequest {
        client: UserData(p.client),
        thing,
        key: signing_key,
        event_cb: p.event_cb,
        custom_job: p.custom_job,
    });
    request(|reply_to| Input::Init(req, reply_to))
}

/// `OTA_Shutdown`.
pub fn shutdown(unsubscribe: bool) -> Result<(), i32> {
    call(Command::Shutdown { unsubscribe })
}

/// `OTA_CheckForUpdate`.
pub fn check_for_update() -> Result<(), i32> {
    call(Command::CheckForUpdate)
}

/// `OTA_Suspend` (call when the MQTT connection drops).
pub fn suspend() -> Result<(), i32> {
    call(Command::Suspend)
}

/// `OTA_Resume` (call after the next CONNACK).
pub fn resume() -> Result<(), i32> {
    call(Command::Resume)
}

/// `OTA_ActivateNewImage`: test swap and reboot.
pub fn activate_new_image() -> Result<(), i32> {
    call(Command::Activate)
}

/// `OTA_SetImageState`.
pub fn set_image_state(verdict: ImageVerdict) -> Result<(), i32> {
    call(Command::SetImageState(verdict))
}

/// `OTA_GetState` (`enum ota_agent_state`).
pub fn state() -> u32 {
    SNAPSHOT.state()
}

/// `OTA_GetImageState` (`enum ota_agent_image_state`).
pub fn image_state() -> u32 {
    SNAPSHOT.image_state()
}

/// `OTA_GetStatistics`.
pub fn statistics() -> StatisticsC {
    SNAPSHOT.statistics()
}
