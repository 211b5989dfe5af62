//! The exported C functions of `zephyr/include/ota_agent.h`, and the
//! `ota_agent_rx_*` entry points of `ota_agent_shim.h` that the C MQTT event
//! hook calls.

use crate::api::{self, Params};
use crate::input::Input;
use crate::shared::{sender, DROPPED};
use alloc::vec::Vec;
use ota_agent_zephyr::capi::{verdict_from_code, CustomJobHook, ParamsC, StatisticsC, UserData};
use zephyr::sync::atomic::Ordering;
use zephyr::time::{Duration, Tick};

/// `EINVAL`.
const EINVAL: i32 = 22;

fn rc(r: Result<(), i32>) -> i32 {
    r.err().unwrap_or(0)
}

/// # Safety
/// `ptr` must be null or valid for `len` bytes during the call.
unsafe fn bytes<'a>(ptr: *const u8, len: u32) -> Option<&'a [u8]> {
    if ptr.is_null() || len == 0 {
        return None;
    }
    // SAFETY: the caller guarantees `ptr` is valid for `len` bytes.
    Some(unsafe { core::slice::from_raw_parts(ptr, len as usize) })
}

/// `ota_agent_init()`.
///
/// # Safety
/// `params` must be null or point at a valid `struct ota_agent_params`
/// whose pointers are valid for their lengths during the call.
#[no_mangle]
pub unsafe extern "C" fn ota_agent_init(params: *const ParamsC) -> i32 {
    // SAFETY: the caller passes null or a valid params struct.
    let Some(p) = (unsafe { params.as_ref() }) else {
        return -EINVAL;
    };
    // SAFETY: the caller guarantees the name's pointer and length.
    let thing = match unsafe { bytes(p.thing_name, p.thing_name_len) } {
        Some(b) => match core::str::from_utf8(b) {
            Ok(s) => Some(s),
            Err(_) => return -EINVAL,
        },
        None => None,
    };
    let params = Params {
        client: p.client,
        thing_name: thing,
        // SAFETY: the caller guarantees the key's pointer and length.
        signing_key: unsafe { bytes(p.signing_key, p.signing_key_len) },
        event_cb: p.event_cb.map(|cb| (cb, UserData(p.user_data))),
        custom_job: p.custom_job_cb.map(|cb| CustomJobHook {
            cb,
            user_data: UserData(p.user_data),
        }),
    };
    rc(api::init(&params))
}

/// `ota_agent_shutdown()`.
#[no_mangle]
pub extern "C" fn ota_agent_shutdown(unsubscribe: bool) -> i32 {
    rc(api::shutdown(unsubscribe))
}

/// `ota_agent_get_state()`.
#[no_mangle]
pub extern "C" fn ota_agent_get_state() -> u32 {
    api::state()
}

/// `ota_agent_check_for_update()`.
#[no_mangle]
pub extern "C" fn ota_agent_check_for_update() -> i32 {
    rc(api::check_for_update())
}

/// `ota_agent_suspend()`.
#[no_mangle]
pub extern "C" fn ota_agent_suspend() -> i32 {
    rc(api::suspend())
}

/// `ota_agent_resume()`.
#[no_mangle]
pub extern "C" fn ota_agent_resume() -> i32 {
    rc(api::resume())
}

/// `ota_agent_activate_new_image()`.
#[no_mangle]
pub extern "C" fn ota_agent_activate_new_image() -> i32 {
    rc(api::activate_new_image())
}

/// `ota_agent_set_image_state()`.
#[no_mangle]
pub extern "C" fn ota_agent_set_image_state(verdict: u32) -> i32 {
    match verdict_from_code(verdict) {
        Some(v) => rc(api::set_image_state(v)),
        None => -EINVAL,
    }
}

/// `ota_agent_get_image_state()`.
#[no_mangle]
pub extern "C" fn ota_agent_get_image_state() -> u32 {
    api::image_state()
}

/// `ota_agent_get_statistics()`.
///
/// # Safety
/// `stats` must be null or point at a writable `struct ota_agent_statistics`.
#[no_mangle]
pub unsafe extern "C" fn ota_agent_get_statistics(stats: *mut StatisticsC) -> i32 {
    if stats.is_null() {
        return -EINVAL;
    }
    // SAFETY: `stats` is non-null and, per the contract, writable.
    unsafe { stats.write(api::statistics()) };
    0
}

/// Count a message the hook could not hand over.
#[no_mangle]
pub extern "C" fn ota_agent_rx_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Queue an input from the MQTT hook, waiting at most the request timeout
/// for room; a message that does not fit is counted as dropped.
fn queue(make: impl FnOnce() -> Option<Input>) {
    let Some((tx, settings)) = sender() else {
        return;
    };
    let Some(input) = make() else {
        ota_agent_rx_dropped();
        return;
    };
    let timeout = Duration::millis(Tick::from(settings.config.request_timeout_ms.max(1)));
    if tx.send_timeout(input, timeout).is_err() {
        log::warn!("ota: agent queue full; message dropped");
        ota_agent_rx_dropped();
    }
}

/// A PUBLISH on one of the agent's topics, payload already drained.
///
/// # Safety
/// `topic` and `payload` must be valid for their lengths during the call.
#[no_mangle]
pub unsafe extern "C" fn ota_agent_rx_publish(
    topic: *const u8,
    topic_len: u32,
    payload: *const u8,
    payload_len: u32,
) {
    // SAFETY: the shim passes its topic and payload buffers with their lengths.
    let (topic, payload) = unsafe { (bytes(topic, topic_len), bytes(payload, payload_len)) };
    let Some(topic) = topic else {
        return;
    };
    let payload = payload.unwrap_or(&[]);
    queue(|| {
        let mut data = Vec::new();
        // Out of heap: drop this message rather than abort.
        data.try_reserve_exact(topic.len() + payload.len()).ok()?;
        data.extend_from_slice(topic);
        data.extend_from_slice(payload);
        Some(Input::Message {
            data: data.into_boxed_slice(),
            topic_len: topic.len(),
        })
    });
}

/// A PUBACK for one of the agent's message ids.
#[no_mangle]
pub extern "C" fn ota_agent_rx_puback(msg_id: u16) {
    queue(|| Some(Input::Puback(msg_id)));
}
