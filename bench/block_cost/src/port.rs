//! The platform the agent runs on here: as cheap as a platform can be, so
//! that what is counted is the agent's own work.
//!
//! - The image slot is a `Vec`: `write` is a bounds check and a copy, `erase`
//!   only a bounds check (on a device an erase is the flash controller's
//!   time, not instructions, and every erased byte is written afterwards).
//! - The bootloader is a stub that reports version 1.0.0, confirmed.
//! - Resume records go nowhere ([`NoProgressStore`]).
//! - The signature verifier only compares the agent's digest with the one
//!   expected, so no P-256 arithmetic is counted but a wrong download fails.

use ota_agent::{
    BootControl, BootState, ImageSlot, NoProgressStore, Platform, PortError, SignatureError,
    SignatureVerifier, Version,
};

/// The slot's erase unit, as on a typical internal flash.
const ERASE_SIZE: u32 = 4096;
/// The slot's write unit.
const WRITE_ALIGN: u32 = 4;
/// The version the running image reports (the benchmark image is newer).
pub const RUNNING: Version = Version::new(1, 0, 0);

/// "Out of range", as a negative errno.
const EINVAL: PortError = PortError(-22);

/// The secondary slot, in RAM.
pub struct RamSlot {
    mem: Vec<u8>,
}

impl RamSlot {
    /// A slot that holds at least `bytes` (rounded up to the erase unit).
    pub fn new(bytes: usize) -> Self {
        RamSlot {
            mem: vec![0xff; bytes.next_multiple_of(ERASE_SIZE as usize)],
        }
    }

    /// The slot's contents.
    pub fn contents(&self) -> &[u8] {
        &self.mem
    }

    fn range(&self, offset: u32, len: usize) -> Result<core::ops::Range<usize>, PortError> {
        let start = offset as usize;
        let end = start.checked_add(len).ok_or(EINVAL)?;
        if end > self.mem.len() {
            return Err(EINVAL);
        }
        Ok(start..end)
    }
}

impl ImageSlot for RamSlot {
    fn capacity(&self) -> u32 {
        self.mem.len() as u32
    }
    fn erase_size(&self) -> u32 {
        ERASE_SIZE
    }
    fn write_align(&self) -> u32 {
        WRITE_ALIGN
    }
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        self.range(offset, len as usize).map(drop)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        let r = self.range(offset, data.len())?;
        self.mem[r].copy_from_slice(data);
        Ok(())
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        let r = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.mem[r]);
        Ok(())
    }
}

/// A bootloader that is never asked for anything during a download.
pub struct BootStub;

impl BootControl for BootStub {
    fn running_version(&self) -> Version {
        RUNNING
    }
    fn state(&mut self) -> BootState {
        BootState::Confirmed
    }
    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        Ok(())
    }
    fn confirm(&mut self) -> Result<(), PortError> {
        Ok(())
    }
    fn reject(&mut self) -> Result<(), PortError> {
        Ok(())
    }
    fn reboot(&mut self) {}
}

/// Accepts exactly the file whose SHA-256 it was given, whatever the
/// signature: the download is checked, P-256 is not run.
pub struct DigestCheck {
    expected: [u8; 32],
    /// Whether the agent asked, with the expected digest.
    pub matched: bool,
}

impl SignatureVerifier for DigestCheck {
    fn verify(&mut self, digest: &[u8; 32], _signature: &[u8]) -> Result<(), SignatureError> {
        self.matched = *digest == self.expected;
        if self.matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Everything above, bundled.
pub struct BenchPlatform {
    /// The image slot.
    pub slot: RamSlot,
    boot: BootStub,
    store: NoProgressStore,
    /// The signature verifier.
    pub verifier: DigestCheck,
}

impl BenchPlatform {
    /// A platform for a file of `file_size` bytes whose SHA-256 is `digest`.
    pub fn new(file_size: usize, digest: [u8; 32]) -> Self {
        BenchPlatform {
            slot: RamSlot::new(file_size),
            boot: BootStub,
            store: NoProgressStore,
            verifier: DigestCheck {
                expected: digest,
                matched: false,
            },
        }
    }
}

impl Platform for BenchPlatform {
    type Slot = RamSlot;
    type Boot = BootStub;
    type Store = NoProgressStore;
    type Verifier = DigestCheck;

    fn slot(&mut self) -> &mut RamSlot {
        &mut self.slot
    }
    fn boot(&mut self) -> &mut BootStub {
        &mut self.boot
    }
    fn store(&mut self) -> &mut NoProgressStore {
        &mut self.store
    }
    fn verifier(&mut self) -> &mut DigestCheck {
        &mut self.verifier
    }
}
