//! Host tests only: a fake C shim (the `ota_shim_*` symbols, backed by RAM)
//! so the platform adapters and the driver run without Zephyr. It models
//! NOR flash (erase to 0xff, writes only clear bits) and records boot calls.

use crate::ffi::{HttpRequest, HttpSink, ShimConfig, SlotInfo};
use core::ffi::c_void;
use std::string::String;
use std::sync::{Mutex, MutexGuard};
use std::vec::Vec;
use std::{format, vec};

const ERASE: u32 = 4096;
const SLOT: u32 = 8 * ERASE;
const THING: &str = "sim-thing";

/// The Kconfig defaults for nRF52840 (see the module's `Kconfig`).
pub fn nrf52840_defaults() -> ShimConfig {
    ShimConfig {
        block_size: 4096,
        blocks_per_request: 4,
        http_range_size: 64 * 1024,
        request_timeout_ms: 10_000,
        max_retries: 32,
        self_test_timeout_ms: 300_000,
        status_every_blocks: 64,
        resume_every_blocks: 16,
        firmware_file_type: 0,
        allow_downgrade: 0,
        protocol_mqtt: 1,
        protocol_http: 0,
        prefer_http: 0,
        thread_priority: 7,
        api_timeout_ms: 30_000,
        queue_depth: 8,
        thing_name: THING.as_ptr(),
        thing_name_len: THING.len() as u32,
        signing_key_hex: core::ptr::null(),
        signing_key_hex_len: 0,
    }
}

struct State {
    flash: Vec<u8>,
    flash_error: i32,
    version: Option<u32>,
    pending: i32,
    boot_calls: Vec<&'static str>,
    record: Option<Vec<u8>>,
    mqtt: Vec<String>,
    now_ms: i64,
}

impl State {
    const fn new() -> Self {
        State {
            flash: Vec::new(),
            flash_error: 0,
            version: None,
            pending: 0,
            boot_calls: Vec::new(),
            record: None,
            mqtt: Vec::new(),
            now_ms: 0,
        }
    }
}

static STATE: Mutex<State> = Mutex::new(State::new());
static SERIAL: Mutex<()> = Mutex::new(());

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Exclusive use of the fake shim for one test, reset to a fresh device.
pub struct FakeShim {
    _serial: MutexGuard<'static, ()>,
}

impl FakeShim {
    /// Take the fake (tests using it run one at a time) and reset it.
    pub fn install() -> Self {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = state();
        *s = State::new();
        s.flash = vec![0xa5; SLOT as usize];
        FakeShim { _serial: serial }
    }

    /// Make every flash call fail with `errno`.
    pub fn fail_flash(&self, errno: i32) {
        state().flash_error = errno;
    }

    /// Set the running version and what `ota_shim_boot_pending_commit` returns.
    pub fn set_boot(&self, version: Option<u32>, pending: i32) {
        let mut s = state();
        s.version = version;
        s.pending = pending;
    }

    /// The boot calls made so far.
    pub fn boot_calls(&self) -> Vec<&'static str> {
        state().boot_calls.clone()
    }

    /// The MQTT calls made so far, as `"sub <topic> q<qos> <id>"` etc.
    pub fn mqtt(&self) -> Vec<String> {
        std::mem::take(&mut state().mqtt)
    }

    /// Advance the fake uptime.
    pub fn advance_ms(&self, ms: i64) {
        state().now_ms += ms;
    }
}

/// # Safety
/// `p` must be valid for `len` bytes.
unsafe fn bytes<'a>(p: *const u8, len: u32) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `p` is valid for `len` bytes.
    unsafe { core::slice::from_raw_parts(p, len as usize) }
}

/// # Safety
/// `p` must be valid for `len` bytes of UTF-8.
unsafe fn text(p: *const u8, len: u32) -> String {
    // SAFETY: forwarded from the caller.
    String::from_utf8_lossy(unsafe { bytes(p, len) }).into_owned()
}

fn range(off: u32, len: u32) -> Result<core::ops::Range<usize>, i32> {
    let s = state();
    if s.flash_error != 0 {
        return Err(s.flash_error);
    }
    let end = off.checked_add(len).filter(|&e| e <= SLOT).ok_or(-22)?;
    Ok(off as usize..end as usize)
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_config_get(out: *mut ShimConfig) {
    // SAFETY: the caller passes a writable config.
    unsafe { out.write(nrf52840_defaults()) }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_slot_open(info: *mut SlotInfo) -> i32 {
    let info_value = SlotInfo {
        capacity: SLOT,
        erase_size: ERASE,
        write_align: 4,
        area_id: 5,
    };
    // SAFETY: the caller passes a writable info.
    unsafe { info.write(info_value) };
    0
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_slot_erase(off: u32, len: u32) -> i32 {
    match range(off, len) {
        Ok(r) => {
            state().flash[r].fill(0xff);
            0
        }
        Err(e) => e,
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_slot_write(off: u32, data: *const u8, len: u32) -> i32 {
    match range(off, len) {
        Ok(r) => {
            // SAFETY: the caller passes `len` readable bytes.
            let data = unsafe { bytes(data, len) };
            for (cell, b) in state().flash[r].iter_mut().zip(data) {
                *cell &= b;
            }
            0
        }
        Err(e) => e,
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_slot_read(off: u32, buf: *mut u8, len: u32) -> i32 {
    match range(off, len) {
        Ok(r) => {
            // SAFETY: the caller passes `len` writable bytes.
            let out = unsafe { core::slice::from_raw_parts_mut(buf, len as usize) };
            out.copy_from_slice(&state().flash[r]);
            0
        }
        Err(e) => e,
    }
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_boot_running_version() -> i64 {
    state().version.map_or(-5, i64::from)
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_boot_pending_commit() -> i32 {
    state().pending
}

fn boot_call(name: &'static str) -> i32 {
    state().boot_calls.push(name);
    0
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_boot_request_test() -> i32 {
    boot_call("request_test")
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_boot_confirm() -> i32 {
    boot_call("confirm")
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_boot_reject() -> i32 {
    boot_call("reject")
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_reboot() {
    boot_call("reboot");
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_progress_load(buf: *mut u8, cap: u32) -> i32 {
    match &state().record {
        None => -2,
        Some(r) if r.len() > cap as usize => -28,
        Some(r) => {
            // SAFETY: the caller passes `cap` writable bytes; `r` fits.
            unsafe { core::ptr::copy_nonoverlapping(r.as_ptr(), buf, r.len()) };
            r.len() as i32
        }
    }
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_progress_save(record: *const u8, len: u32) -> i32 {
    // SAFETY: the caller passes `len` readable bytes.
    state().record = Some(unsafe { bytes(record, len) }.to_vec());
    0
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_progress_clear() -> i32 {
    state().record = None;
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_mqtt_subscribe(t: *const u8, len: u32, qos: u8, id: u16) -> i32 {
    // SAFETY: the caller passes the topic's bytes.
    let line = format!("sub {} q{qos} {id:#x}", unsafe { text(t, len) });
    state().mqtt.push(line);
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_mqtt_unsubscribe(t: *const u8, len: u32, id: u16) -> i32 {
    // SAFETY: the caller passes the topic's bytes.
    let line = format!("unsub {} {id:#x}", unsafe { text(t, len) });
    state().mqtt.push(line);
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_mqtt_publish(
    t: *const u8,
    len: u32,
    payload: *const u8,
    payload_len: u32,
    qos: u8,
    id: u16,
) -> i32 {
    // SAFETY: the caller passes the topic's and the payload's bytes.
    let (topic, payload) = unsafe { (text(t, len), text(payload, payload_len)) };
    state()
        .mqtt
        .push(format!("pub {topic} q{qos} {id:#x} {payload}"));
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn ota_shim_http_get(
    _req: *const HttpRequest,
    _sink: HttpSink,
    _ctx: *mut c_void,
) -> i32 {
    -113 // -EHOSTUNREACH: the fake has no network
}

#[unsafe(no_mangle)]
extern "C" fn ota_shim_uptime_ms() -> i64 {
    state().now_ms
}
