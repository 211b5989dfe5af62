//! The C shim's ABI (`zephyr/include/ota_agent_shim.h`), declared for Rust.
//!
//! Only fixed-width integers, `(pointer, length)` pairs and `#[repr(C)]`
//! structs of those cross the boundary. Every function returns 0 (or a
//! non-negative count) on success and a negative errno on failure unless
//! documented otherwise. Keep this file and the header in sync: the field
//! order of every struct is part of the ABI.

use core::ffi::c_void;

/// The Kconfig values the agent needs, filled by `ota_shim_config_get()`.
///
/// Booleans are `0`/`1` bytes; strings are `(pointer, length)` into
/// read-only C storage that lives for the whole program.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ShimConfig {
    /// `CONFIG_OTA_AGENT_BLOCK_SIZE`.
    pub block_size: u32,
    /// `CONFIG_OTA_AGENT_BLOCKS_PER_REQUEST`.
    pub blocks_per_request: u32,
    /// `CONFIG_OTA_AGENT_HTTP_RANGE_SIZE` (block size when HTTP is off).
    pub http_range_size: u32,
    /// `CONFIG_OTA_AGENT_REQUEST_TIMEOUT_MS`.
    pub request_timeout_ms: u32,
    /// `CONFIG_OTA_AGENT_MAX_RETRIES`.
    pub max_retries: u32,
    /// `CONFIG_OTA_AGENT_SELF_TEST_TIMEOUT_S` × 1000.
    pub self_test_timeout_ms: u32,
    /// `CONFIG_OTA_AGENT_STATUS_EVERY_BLOCKS`.
    pub status_every_blocks: u32,
    /// `CONFIG_OTA_AGENT_RESUME_EVERY_BLOCKS`, or 0 without `CONFIG_OTA_AGENT_RESUME`.
    pub resume_every_blocks: u32,
    /// `CONFIG_OTA_AGENT_FIRMWARE_FILE_TYPE`.
    pub firmware_file_type: u32,
    /// `CONFIG_OTA_AGENT_ALLOW_DOWNGRADE`.
    pub allow_downgrade: u8,
    /// `CONFIG_OTA_AGENT_DATA_MQTT`.
    pub protocol_mqtt: u8,
    /// `CONFIG_OTA_AGENT_DATA_HTTP`.
    pub protocol_http: u8,
    /// `CONFIG_OTA_AGENT_PREFER_HTTP`.
    pub prefer_http: u8,
    /// `CONFIG_OTA_AGENT_THREAD_PRIORITY`.
    pub thread_priority: i32,
    /// `CONFIG_OTA_AGENT_API_TIMEOUT_MS`.
    pub api_timeout_ms: u32,
    /// `CONFIG_OTA_AGENT_QUEUE_DEPTH`.
    pub queue_depth: u32,
    /// `CONFIG_OTA_AGENT_THING_NAME` (may be empty).
    pub thing_name: *const u8,
    /// Its length in bytes.
    pub thing_name_len: u32,
    /// `CONFIG_OTA_AGENT_SIGNING_KEY` (hex, may be empty).
    pub signing_key_hex: *const u8,
    /// Its length in bytes.
    pub signing_key_hex_len: u32,
}

/// The upload slot as `ota_shim_slot_open()` found it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotInfo {
    /// Bytes usable by an image: whole erase units below MCUboot's trailer
    /// (and below the sector swap-move needs).
    pub capacity: u32,
    /// The erase unit (`flash_area_get_sectors`).
    pub erase_size: u32,
    /// The write unit (`flash_area_align`).
    pub write_align: u32,
    /// The flash area id of the slot.
    pub area_id: u32,
}

/// One HTTP range request for `ota_shim_http_get()`. Strings are not
/// NUL-terminated; the shim copies them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest {
    /// Host name.
    pub host: *const u8,
    /// Its length.
    pub host_len: u32,
    /// Path and query, starting with `/`.
    pub path: *const u8,
    /// Its length.
    pub path_len: u32,
    /// TCP port.
    pub port: u16,
    /// 1 for HTTPS.
    pub tls: u8,
    /// First byte of the range (inclusive).
    pub first: u32,
    /// Last byte of the range (inclusive).
    pub last: u32,
}

/// Receives HTTP body fragments: `(ctx, status, data, len)`. Returns 0 to go
/// on, negative to abort the request.
pub type HttpSink = unsafe extern "C" fn(*mut c_void, u16, *const u8, u32) -> i32;

unsafe extern "C" {
    /// Fill `out` with the Kconfig values.
    pub fn ota_shim_config_get(out: *mut ShimConfig);

    /// Hand the shim the application's `struct mqtt_client` and the thing
    /// name whose topics `ota_agent_mqtt_evt_handler()` takes for the agent.
    pub fn ota_shim_mqtt_bind(client: *mut c_void, thing: *const u8, thing_len: u32) -> i32;

    /// Subscribe the bound client to `topic` with `qos` using message id `msg_id`.
    pub fn ota_shim_mqtt_subscribe(topic: *const u8, topic_len: u32, qos: u8, msg_id: u16) -> i32;
    /// Unsubscribe from `topic` using message id `msg_id`.
    pub fn ota_shim_mqtt_unsubscribe(topic: *const u8, topic_len: u32, msg_id: u16) -> i32;
    /// Publish; `msg_id` is 0 for QoS 0.
    pub fn ota_shim_mqtt_publish(
        topic: *const u8,
        topic_len: u32,
        payload: *const u8,
        payload_len: u32,
        qos: u8,
        msg_id: u16,
    ) -> i32;

    /// Open the upload slot and describe it.
    pub fn ota_shim_slot_open(info: *mut SlotInfo) -> i32;
    /// Erase `len` bytes at `off`.
    pub fn ota_shim_slot_erase(off: u32, len: u32) -> i32;
    /// Write `len` bytes at `off`.
    pub fn ota_shim_slot_write(off: u32, data: *const u8, len: u32) -> i32;
    /// Read `len` bytes at `off`.
    pub fn ota_shim_slot_read(off: u32, buf: *mut u8, len: u32) -> i32;

    /// The running image's version, packed `major << 24 | minor << 16 | revision`,
    /// or negative errno.
    pub fn ota_shim_boot_running_version() -> i64;
    /// 1 if the running image is on trial (not confirmed), 0 if confirmed,
    /// negative errno.
    pub fn ota_shim_boot_pending_commit() -> i32;
    /// `boot_request_upgrade(BOOT_UPGRADE_TEST)` (or the `_multi` form).
    pub fn ota_shim_boot_request_test() -> i32;
    /// `boot_write_img_confirmed()` (or the `_multi` form).
    pub fn ota_shim_boot_confirm() -> i32;
    /// Make sure the running image is rolled back at the next reset.
    pub fn ota_shim_boot_reject() -> i32;
    /// Flush logs and `sys_reboot(SYS_REBOOT_COLD)`; does not return on hardware.
    pub fn ota_shim_reboot();

    /// Copy the saved resume record into `buf`: its length, or negative errno
    /// (`-ENOENT` when there is none).
    pub fn ota_shim_progress_load(buf: *mut u8, cap: u32) -> i32;
    /// Save the resume record.
    pub fn ota_shim_progress_save(record: *const u8, len: u32) -> i32;
    /// Delete the resume record.
    pub fn ota_shim_progress_clear() -> i32;

    /// Perform one HTTP GET with a `Range` header, feeding the body to `sink`.
    /// Returns the HTTP status code, or negative errno.
    pub fn ota_shim_http_get(req: *const HttpRequest, sink: HttpSink, ctx: *mut c_void) -> i32;

    /// Milliseconds since boot (`k_uptime_get`).
    pub fn ota_shim_uptime_ms() -> i64;
    /// The calling thread (`k_current_get()`), as an integer.
    pub fn ota_shim_thread_self() -> usize;
}
