//! [`ImageSlot`] over the shim's `flash_area_*` calls on the upload partition.

use crate::ffi::{self, SlotInfo};
use ota_agent::{ImageSlot, PortError};

/// `-EINVAL`: an argument the agent should never pass (checked before FFI).
const EINVAL: i32 = 22;

/// The upload slot (MCUboot's secondary slot, or the one Kconfig chose).
#[derive(Debug)]
pub struct ShimSlot {
    info: SlotInfo,
}

/// A shim return code as a `Result`.
pub(crate) fn check(rc: i32) -> Result<(), PortError> {
    if rc < 0 {
        Err(PortError(rc))
    } else {
        Ok(())
    }
}

impl ShimSlot {
    /// Open the slot and read its geometry.
    pub fn open() -> Result<Self, PortError> {
        let mut info = SlotInfo::default();
        // SAFETY: `info` is a valid, writable `SlotInfo` for the call.
        check(unsafe { ffi::ota_shim_slot_open(&mut info) })?;
        Ok(ShimSlot { info })
    }

    /// What the shim reported.
    pub fn info(&self) -> SlotInfo {
        self.info
    }

    fn within(&self, offset: u32, len: usize) -> Result<u32, PortError> {
        u32::try_from(len)
            .ok()
            .filter(|&len| {
                offset
                    .checked_add(len)
                    .is_some_and(|end| end <= self.info.capacity)
            })
            .ok_or(PortError(-EINVAL))
    }
}

impl ImageSlot for ShimSlot {
    fn capacity(&self) -> u32 {
        self.info.capacity
    }

    fn erase_size(&self) -> u32 {
        self.info.erase_size
    }

    fn write_align(&self) -> u32 {
        self.info.write_align
    }

    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        self.within(offset, len as usize)?;
        // SAFETY: plain integers; the shim bounds-checks against the area.
        check(unsafe { ffi::ota_shim_slot_erase(offset, len) })
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        let len = self.within(offset, data.len())?;
        // SAFETY: `data` is valid for `len` bytes for the duration of the call;
        // the shim only reads it.
        check(unsafe { ffi::ota_shim_slot_write(offset, data.as_ptr(), len) })
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        let len = self.within(offset, buf.len())?;
        // SAFETY: `buf` is valid and writable for `len` bytes for the duration
        // of the call.
        check(unsafe { ffi::ota_shim_slot_read(offset, buf.as_mut_ptr(), len) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeShim;

    #[test]
    fn reports_geometry_and_round_trips() {
        let _shim = FakeShim::install();
        let mut slot = ShimSlot::open().unwrap();
        assert_eq!(slot.capacity(), 8 * 4096);
        assert_eq!(slot.erase_size(), 4096);
        assert_eq!(slot.write_align(), 4);
        slot.erase(0, 4096).unwrap();
        slot.write(8, &[1, 2, 3, 4]).unwrap();
        let mut buf = [0; 6];
        slot.read(6, &mut buf).unwrap();
        assert_eq!(buf, [0xff, 0xff, 1, 2, 3, 4]);
    }

    #[test]
    fn refuses_out_of_range_before_the_shim() {
        let _shim = FakeShim::install();
        let mut slot = ShimSlot::open().unwrap();
        let cap = slot.capacity();
        assert_eq!(slot.erase(cap, 4096), Err(PortError(-EINVAL)));
        assert_eq!(slot.write(cap - 2, &[0; 4]), Err(PortError(-EINVAL)));
        assert_eq!(slot.read(u32::MAX, &mut [0; 1]), Err(PortError(-EINVAL)));
    }

    #[test]
    fn passes_shim_errors_through() {
        let shim = FakeShim::install();
        let mut slot = ShimSlot::open().unwrap();
        shim.fail_flash(-5);
        assert_eq!(slot.erase(0, 4096), Err(PortError(-5)));
    }
}
