//! What the driver sends through: MQTT packets on the application's client
//! and HTTP range requests. [`ShimLink`] is the C shim; tests use a fake.

use crate::ffi::{self, HttpRequest};
use crate::url::Url;
use core::ffi::c_void;
use ota_agent::QoS;

/// The outcome of an HTTP range request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpResult {
    /// The server answered with this status (the body went to the sink).
    Status(u16),
    /// The request failed before a status: negative errno.
    Transport(i32),
}

/// Sends the agent's packets. Errors are negative errnos; the driver logs
/// them and relies on the core's timeouts to ask again.
pub trait Link {
    /// SUBSCRIBE with message id `id`.
    fn subscribe(&mut self, topic: &str, qos: QoS, id: u16) -> Result<(), i32>;
    /// UNSUBSCRIBE with message id `id`.
    fn unsubscribe(&mut self, topic: &str, id: u16) -> Result<(), i32>;
    /// PUBLISH; `id` is 0 for QoS 0.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, id: u16) -> Result<(), i32>;
    /// GET `url` with `Range: bytes=first-last`, handing each body fragment
    /// with the response status to `sink`, which returns `false` to abort.
    fn http_get(
        &mut self,
        url: &Url<'_>,
        first: u32,
        last: u32,
        sink: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> HttpResult;
}

fn qos_code(qos: QoS) -> u8 {
    match qos {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
    }
}

fn rc(code: i32) -> Result<(), i32> {
    if code < 0 {
        Err(code)
    } else {
        Ok(())
    }
}

/// The C shim's MQTT and HTTP calls.
#[derive(Debug, Default)]
pub struct ShimLink {
    _private: (),
}

impl ShimLink {
    /// The link (the client is bound with `ota_shim_mqtt_bind` first).
    pub fn new() -> Self {
        ShimLink { _private: () }
    }
}

/// The C trampoline for [`Link::http_get`]'s sink.
///
/// # Safety
///
/// `ctx` must be the `&mut &mut dyn FnMut` passed by [`ShimLink::http_get`],
/// and `data` valid for `len` bytes.
unsafe extern "C" fn http_sink(ctx: *mut c_void, status: u16, data: *const u8, len: u32) -> i32 {
    // SAFETY: `ctx` is the sink reference `http_get` passed, alive for the
    // whole `ota_shim_http_get` call, which is the only caller.
    let sink = unsafe { &mut *(ctx as *mut &mut dyn FnMut(u16, &[u8]) -> bool) };
    let data = if data.is_null() || len == 0 {
        &[][..]
    } else {
        // SAFETY: the shim passes a body fragment of `len` readable bytes.
        unsafe { core::slice::from_raw_parts(data, len as usize) }
    };
    if sink(status, data) {
        0
    } else {
        -103 // -ECONNABORTED
    }
}

impl Link for ShimLink {
    fn subscribe(&mut self, topic: &str, qos: QoS, id: u16) -> Result<(), i32> {
        // SAFETY: `topic` is valid for its length for the call; the shim
        // copies it into the packet before returning.
        rc(unsafe {
            ffi::ota_shim_mqtt_subscribe(topic.as_ptr(), topic.len() as u32, qos_code(qos), id)
        })
    }

    fn unsubscribe(&mut self, topic: &str, id: u16) -> Result<(), i32> {
        // SAFETY: as for `subscribe`.
        rc(unsafe { ffi::ota_shim_mqtt_unsubscribe(topic.as_ptr(), topic.len() as u32, id) })
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, id: u16) -> Result<(), i32> {
        // SAFETY: both buffers are valid for their lengths for the call;
        // `mqtt_publish` sends them before returning.
        rc(unsafe {
            ffi::ota_shim_mqtt_publish(
                topic.as_ptr(),
                topic.len() as u32,
                payload.as_ptr(),
                payload.len() as u32,
                qos_code(qos),
                id,
            )
        })
    }

    fn http_get(
        &mut self,
        url: &Url<'_>,
        first: u32,
        last: u32,
        mut sink: &mut dyn FnMut(u16, &[u8]) -> bool,
    ) -> HttpResult {
        let req = HttpRequest {
            host: url.host.as_ptr(),
            host_len: url.host.len() as u32,
            path: url.path.as_ptr(),
            path_len: url.path.len() as u32,
            port: url.port,
            tls: url.tls as u8,
            first,
            last,
        };
        let ctx = &mut sink as *mut &mut dyn FnMut(u16, &[u8]) -> bool as *mut c_void;
        // SAFETY: `req` and the strings it points at outlive the call; `ctx`
        // is the sink reference `http_sink` expects, alive for the call.
        let code = unsafe { ffi::ota_shim_http_get(&req, http_sink, ctx) };
        match u16::try_from(code) {
            Ok(status) => HttpResult::Status(status),
            Err(_) => HttpResult::Transport(code.min(-1)),
        }
    }
}
