//! The agent's events, taken on the agent thread and acted on in the main
//! loop (activation and the self test are the application's decisions).

use core::ffi::c_void;
use ota_agent_zephyr::capi::EventC;
use zephyr::sync::atomic::{AtomicBool, Ordering};

static ACTIVATE: AtomicBool = AtomicBool::new(false);
static START_TEST: AtomicBool = AtomicBool::new(false);

/// The agent's event callback (`ota_agent_event_cb_t`).
///
/// # Safety
/// `event` must point at a valid event for the duration of the call (the
/// agent guarantees it).
pub unsafe extern "C" fn on_event(event: *const EventC, _user: *mut c_void) {
    // SAFETY: the agent passes a valid event.
    let Some(e) = (unsafe { event.as_ref() }) else {
        return;
    };
    let reason = if e.text.is_null() {
        ""
    } else {
        // SAFETY: `text` is a static English string of `text_len` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(e.text, e.text_len as usize) };
        core::str::from_utf8(bytes).unwrap_or("")
    };
    match e.kind {
        1 => log::info!("ota sample: job received"),
        2 => ACTIVATE.store(true, Ordering::Release),
        3 => log::info!("ota sample: file update complete"),
        4 => START_TEST.store(true, Ordering::Release),
        5 => log::warn!("ota sample: job failed: {reason} ({})", e.port_error),
        6 => log::warn!("ota sample: self test failed: {reason}"),
        7 => log::info!("ota sample: no job for this device"),
        k => log::warn!("ota sample: unknown event {k}"),
    }
}

/// Whether the agent asked for activation since the last call.
pub fn take_activate() -> bool {
    ACTIVATE.swap(false, Ordering::AcqRel)
}

/// Whether a self test should start since the last call.
pub fn take_start_test() -> bool {
    START_TEST.swap(false, Ordering::AcqRel)
}
