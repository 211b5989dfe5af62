//! The sample's C side: its Kconfig values (`src/app_config.c`) and the
//! module's MQTT connection helper (`zephyr/include/ota_mqtt_conn.h`).

use core::ffi::{c_char, c_void, CStr};

/// `struct app_config` of `src/app_config.c`.
#[repr(C)]
pub struct AppConfig {
    /// `CONFIG_APP_MQTT_BROKER_HOST` (NUL-terminated).
    pub broker_host: *const c_char,
    /// `CONFIG_OTA_AGENT_THING_NAME` (NUL-terminated).
    pub client_id: *const c_char,
    /// `CONFIG_APP_RECONNECT_BASE_MS`.
    pub reconnect_base_ms: u32,
    /// `CONFIG_APP_RECONNECT_MAX_MS`.
    pub reconnect_max_ms: u32,
    /// `CONFIG_APP_MQTT_SEC_TAG`, or -1.
    pub sec_tag: i32,
    /// `CONFIG_APP_MQTT_BROKER_PORT`.
    pub broker_port: u16,
    /// `CONFIG_APP_MQTT_TLS`.
    pub tls: u8,
    /// 0 pass, 1 fail, 2 silent (`CONFIG_APP_SELF_TEST_*`).
    pub self_test: u8,
}

/// `struct ota_mqtt_conn_params`.
#[repr(C)]
struct ConnParams {
    host: *const c_char,
    port: u16,
    client_id: *const c_char,
    tls: u8,
    sec_tag: i32,
    connack_timeout_ms: u32,
}

unsafe extern "C" {
    fn app_config_get(out: *mut AppConfig);
    fn ota_mqtt_conn_connect(params: *const ConnParams) -> i32;
    fn ota_mqtt_conn_process(timeout_ms: i32) -> i32;
    fn ota_mqtt_conn_client() -> *mut c_void;
    fn ota_mqtt_conn_random() -> u32;
}

/// How long to wait for CONNACK.
const CONNACK_TIMEOUT_MS: u32 = 10_000;

/// The sample's Kconfig values.
pub fn config() -> AppConfig {
    let mut c = AppConfig {
        broker_host: core::ptr::null(),
        client_id: core::ptr::null(),
        reconnect_base_ms: 0,
        reconnect_max_ms: 0,
        sec_tag: -1,
        broker_port: 0,
        tls: 0,
        self_test: 0,
    };
    // SAFETY: `c` is a valid, writable `struct app_config`.
    unsafe { app_config_get(&mut c) };
    c
}

impl AppConfig {
    /// The broker host, for logs.
    pub fn host(&self) -> &'static str {
        // SAFETY: the pointer is a Kconfig string literal: static and
        // NUL-terminated.
        unsafe { CStr::from_ptr(self.broker_host) }
            .to_str()
            .unwrap_or("?")
    }
}

/// Connect and wait for CONNACK.
pub fn connect(c: &AppConfig) -> Result<(), i32> {
    let params = ConnParams {
        host: c.broker_host,
        port: c.broker_port,
        client_id: c.client_id,
        tls: c.tls,
        sec_tag: c.sec_tag,
        connack_timeout_ms: CONNACK_TIMEOUT_MS,
    };
    // SAFETY: `params` and the static strings it points at outlive the call;
    // the helper copies what it keeps.
    match unsafe { ota_mqtt_conn_connect(&params) } {
        0 => Ok(()),
        e => Err(e),
    }
}

/// Run the connection for up to `timeout_ms`; `Err` once it is lost.
pub fn process(timeout_ms: i32) -> Result<(), i32> {
    // SAFETY: called from the one thread that owns the connection.
    match unsafe { ota_mqtt_conn_process(timeout_ms) } {
        0 => Ok(()),
        e => Err(e),
    }
}

/// The helper's `struct mqtt_client *`, for the agent.
pub fn client() -> *mut c_void {
    // SAFETY: no arguments; returns a pointer to a static client.
    unsafe { ota_mqtt_conn_client() }
}

/// A random value for reconnect jitter.
pub fn random() -> u32 {
    // SAFETY: no arguments.
    unsafe { ota_mqtt_conn_random() }
}
