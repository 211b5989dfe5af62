//! The product's port, as the agent sees it.
//!
//! Every platform method is an out-of-line (`#[inline(never)]`) call into an
//! `extern "C"` function, and those functions are assembly stubs: the
//! optimiser knows nothing of what they return or write, so it can neither
//! fold the port into the agent nor prune an agent path by knowing a result.
//! The stubs stand for the product's flash driver, MCUboot calls, MQTT and
//! HTTP clients and clock; the firmware is measured, never run.
//!
//! [`touch`] calls every port function once, so the baseline firmware holds
//! the whole port and the agent variants differ from it by the agent alone.

use core::arch::global_asm;
use core::hint::black_box;
use ota_agent::{
    BootControl, BootState, CustomJob, CustomJobReply, CustomJobStatus, ImageSlot, Platform,
    PortError, ProgressStore, SignatureError, SignatureVerifier, Version,
};

/// Declares the port's C functions and defines them all as one assembly stub
/// that returns zero (in `r0` and `r1`, so also for 64-bit results).
macro_rules! port_functions {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        global_asm!(
            ".pushsection .text.port_stubs,\"ax\",%progbits",
            $(
                concat!(".global ", stringify!($name)),
                concat!(".type ", stringify!($name), ",%function"),
                ".thumb_func",
                concat!(stringify!($name), ":"),
            )*
            "    movs r0, #0",
            "    movs r1, #0",
            "    bx lr",
            ".popsection",
        );
    };
}

port_functions! {
    // Image slot (flash driver).
    fn port_slot_capacity() -> u32;
    fn port_slot_erase_size() -> u32;
    fn port_slot_write_align() -> u32;
    fn port_slot_erase(offset: u32, len: u32) -> i32;
    fn port_slot_write(offset: u32, data: *const u8, len: usize) -> i32;
    fn port_slot_read(offset: u32, buf: *mut u8, len: usize) -> i32;
    // Bootloader (MCUboot).
    fn port_boot_version() -> u32;
    fn port_boot_pending_commit() -> bool;
    fn port_boot_request_test_upgrade() -> i32;
    fn port_boot_confirm() -> i32;
    fn port_boot_reject() -> i32;
    fn port_boot_reboot();
    // Progress store; `port_store_load` returns a negative value for "none".
    fn port_store_load(buf: *mut u8, cap: usize) -> i32;
    fn port_store_save(record: *const u8, len: usize) -> i32;
    fn port_store_clear() -> i32;
    // Signature check (0 accepted, 1 malformed, else mismatch) and the key
    // the P-256 variant verifies with (65 bytes, SEC1 uncompressed).
    fn port_verify(digest: *const u8, signature: *const u8, len: usize) -> i32;
    fn port_public_key() -> *const u8;
    // The application's custom-job hook: 0 declines, 1 in progress,
    // 2 succeeded, else failed with that code and `*sub`.
    fn port_custom_job(id: *const u8, id_len: usize, doc: *const u8, doc_len: usize, sub: *mut u32) -> u32;
    // Clock and main loop: `port_wait` blocks until the next input and says
    // which (see `app::input`), with an argument in `*arg`.
    fn port_millis() -> u64;
    fn port_wait(arg: *mut u32) -> u32;
    // Receive: copy the message (topic then payload) or the HTTP body piece
    // into `buf`; returns the total length.
    fn port_mqtt_receive(buf: *mut u8, cap: usize, topic_len: *mut usize) -> usize;
    fn port_http_receive(buf: *mut u8, cap: usize, offset: *mut u32) -> usize;
    // Send.
    fn port_subscribe(topic: *const u8, len: usize, qos: u32);
    fn port_unsubscribe(topic: *const u8, len: usize);
    fn port_publish(topic: *const u8, topic_len: usize, payload: *const u8, payload_len: usize, qos: u32, token: i32);
    fn port_http_get(url: *const u8, len: usize, first: u32, last: u32);
    fn port_event(code: u32);
}

// The fault handler (panics, exceptions): a stub that never returns.
global_asm!(
    ".pushsection .text.port_fault,\"ax\",%progbits",
    ".global port_fault",
    ".type port_fault,%function",
    ".thumb_func",
    "port_fault:",
    "    b port_fault",
    ".popsection",
);

extern "C" {
    pub fn port_fault() -> !;
}

/// Stop: what the baseline does once it has touched the port.
#[cfg(not(feature = "agent"))]
pub fn halt() -> ! {
    // SAFETY: the fault handler takes no arguments and never returns.
    unsafe { port_fault() }
}

/// Consume a value the optimiser must assume is used.
pub fn sink<T>(value: T) {
    black_box(value);
}

fn result(code: i32) -> Result<(), PortError> {
    match code {
        0 => Ok(()),
        e => Err(PortError(e)),
    }
}

/// The secondary slot.
pub struct Slot;

impl ImageSlot for Slot {
    #[inline(never)]
    fn capacity(&self) -> u32 {
        // SAFETY (here and below): the port functions take plain values and
        // pointers valid for the lengths passed with them.
        unsafe { port_slot_capacity() }
    }
    #[inline(never)]
    fn erase_size(&self) -> u32 {
        unsafe { port_slot_erase_size() }
    }
    #[inline(never)]
    fn write_align(&self) -> u32 {
        unsafe { port_slot_write_align() }
    }
    #[inline(never)]
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        result(unsafe { port_slot_erase(offset, len) })
    }
    #[inline(never)]
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        result(unsafe { port_slot_write(offset, data.as_ptr(), data.len()) })
    }
    #[inline(never)]
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        result(unsafe { port_slot_read(offset, buf.as_mut_ptr(), buf.len()) })
    }
}

/// MCUboot.
pub struct Boot;

impl BootControl for Boot {
    #[inline(never)]
    fn running_version(&self) -> Version {
        Version::from_packed(unsafe { port_boot_version() })
    }
    #[inline(never)]
    fn state(&mut self) -> BootState {
        if unsafe { port_boot_pending_commit() } {
            BootState::PendingCommit
        } else {
            BootState::Confirmed
        }
    }
    #[inline(never)]
    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        result(unsafe { port_boot_request_test_upgrade() })
    }
    #[inline(never)]
    fn confirm(&mut self) -> Result<(), PortError> {
        result(unsafe { port_boot_confirm() })
    }
    #[inline(never)]
    fn reject(&mut self) -> Result<(), PortError> {
        result(unsafe { port_boot_reject() })
    }
    #[inline(never)]
    fn reboot(&mut self) {
        unsafe { port_boot_reboot() }
    }
}

/// A progress store in a flash page (the MQTT-only variant uses
/// `NoProgressStore` instead).
pub struct Store;

impl ProgressStore for Store {
    #[inline(never)]
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        let n = unsafe { port_store_load(buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n).ok().filter(|&n| n <= buf.len())
    }
    #[inline(never)]
    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        result(unsafe { port_store_save(record.as_ptr(), record.len()) })
    }
    #[inline(never)]
    fn clear(&mut self) -> Result<(), PortError> {
        result(unsafe { port_store_clear() })
    }
}

/// A signature check the port does itself (e.g. in a secure element), for
/// measuring the agent without its P-256 code.
pub struct StubVerifier;

impl SignatureVerifier for StubVerifier {
    #[inline(never)]
    fn verify(&mut self, digest: &[u8; 32], signature: &[u8]) -> Result<(), SignatureError> {
        match unsafe { port_verify(digest.as_ptr(), signature.as_ptr(), signature.len()) } {
            0 => Ok(()),
            1 => Err(SignatureError::Malformed),
            _ => Err(SignatureError::Mismatch),
        }
    }
}

/// The platform handed to the agent.
pub struct Port<V, S> {
    pub slot: Slot,
    pub boot: Boot,
    pub store: S,
    pub verifier: V,
}

impl<V: SignatureVerifier, S: ProgressStore> Platform for Port<V, S> {
    type Slot = Slot;
    type Boot = Boot;
    type Store = S;
    type Verifier = V;

    fn slot(&mut self) -> &mut Slot {
        &mut self.slot
    }
    fn boot(&mut self) -> &mut Boot {
        &mut self.boot
    }
    fn store(&mut self) -> &mut S {
        &mut self.store
    }
    fn verifier(&mut self) -> &mut V {
        &mut self.verifier
    }

    #[inline(never)]
    fn custom_job(&mut self, job: &CustomJob<'_>) -> CustomJobReply {
        let (id, doc) = (job.job_id.as_bytes(), job.document);
        let mut sub = 0;
        let code =
            unsafe { port_custom_job(id.as_ptr(), id.len(), doc.as_ptr(), doc.len(), &mut sub) };
        match code {
            0 => CustomJobReply::Decline,
            1 => CustomJobReply::Claim(CustomJobStatus::InProgress),
            2 => CustomJobReply::Claim(CustomJobStatus::Succeeded),
            code => CustomJobReply::Claim(CustomJobStatus::Failed { code, sub }),
        }
    }
}

/// Call every port function once, with arguments the optimiser cannot see.
pub fn touch() {
    let mut port = Port {
        slot: Slot,
        boot: Boot,
        store: Store,
        verifier: StubVerifier,
    };
    let mut buf = [0u8; 32];
    let slot = port.slot();
    sink((slot.capacity(), slot.erase_size(), slot.write_align()));
    sink(slot.erase(black_box(0), black_box(0)));
    sink(slot.write(black_box(0), black_box(&buf)));
    sink(slot.read(black_box(0), black_box(&mut buf)));
    let boot = port.boot();
    sink((boot.running_version(), boot.state()));
    sink((boot.request_test_upgrade(), boot.confirm(), boot.reject()));
    boot.reboot();
    let store = port.store();
    sink(store.load(black_box(&mut buf)));
    sink((store.save(black_box(&buf)), store.clear()));
    sink(port.verifier().verify(black_box(&[0; 32]), black_box(&buf)));
    sink(port.custom_job(black_box(&CustomJob {
        job_id: "",
        document: &[],
    })));
    let (ptr, len) = black_box((buf.as_mut_ptr(), buf.len()));
    let mut out = (0usize, 0u32, 0u32);
    unsafe {
        sink((port_public_key(), port_millis(), port_wait(&mut out.1)));
        sink(port_mqtt_receive(ptr, len, &mut out.0));
        sink(port_http_receive(ptr, len, &mut out.2));
        port_subscribe(ptr, len, out.1);
        port_unsubscribe(ptr, len);
        port_publish(ptr, len, ptr, len, out.1, 0);
        port_http_get(ptr, len, out.1, out.2);
        port_event(out.1);
    }
    sink(out);
}
