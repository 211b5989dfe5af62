//! Fixed partitions over one flash device, like Zephyr's `fixed-partitions`:
//! `boot_partition` (MCUboot), `slot0_partition` (primary), `slot1_partition`
//! (secondary) and `storage_partition`. The boot simulator swaps with
//! MCUboot's swap-move algorithm, which needs no scratch partition.

use crate::flash::{FlashError, Geometry, SharedFlash, Stamp};
use crate::ConfigError;

/// A byte range of the flash device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    offset: u32,
    size: u32,
}

impl Partition {
    /// The partition `offset..offset + size` (device addresses).
    pub const fn new(offset: u32, size: u32) -> Self {
        Partition { offset, size }
    }

    /// Its first device address.
    pub const fn offset(&self) -> u32 {
        self.offset
    }

    /// Its size in bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }
}

/// The partitions of a simulated device, laid out back to back from address 0
/// in the order boot, slot0, slot1, storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    geometry: Geometry,
    boot: Partition,
    slot0: Partition,
    slot1: Partition,
    storage: Partition,
}

const KIB: u32 = 1024;

impl Layout {
    /// nrf52840dk: 1 MiB flash with 4 KiB pages and 4-byte writes; boot
    /// 48 KiB at 0x0, slot0 472 KiB at 0xc000, slot1 472 KiB at 0x82000,
    /// storage 32 KiB at 0xf8000.
    pub fn nrf52840dk() -> Self {
        let layout = Layout {
            geometry: Geometry::nrf52840(),
            boot: Partition::new(0, 48 * KIB),
            slot0: Partition::new(0xc000, 472 * KIB),
            slot1: Partition::new(0x82000, 472 * KIB),
            storage: Partition::new(0xf8000, 32 * KIB),
        };
        debug_assert_eq!(
            Layout::new(4096, 4, 48 * KIB, 472 * KIB, 32 * KIB),
            Ok(layout)
        );
        layout
    }

    /// nrf52840dk's geometry and boot and storage partitions, with both image
    /// slots `slot_size` bytes (a multiple of 4 KiB; benchmarks use 16+ MiB).
    pub fn nrf52840_with_slots(slot_size: u32) -> Result<Self, ConfigError> {
        Layout::new(4096, 4, 48 * KIB, slot_size, 32 * KIB)
    }

    /// Partitions of the given sizes, back to back, on a device with
    /// `page_size`-byte pages, a `write_size`-byte write unit, erased 0xFF, and
    /// exactly as large as the partitions together. Every size must be a
    /// non-zero multiple of the page size; storage needs at least two pages.
    pub fn new(
        page_size: u32,
        write_size: u32,
        boot_size: u32,
        slot_size: u32,
        storage_size: u32,
    ) -> Result<Self, ConfigError> {
        let sizes = [boot_size, slot_size, slot_size, storage_size];
        let total = sizes
            .iter()
            .try_fold(0u32, |sum, &s| sum.checked_add(s))
            .ok_or(ConfigError("the partitions do not fit in 4 GiB"))?;
        let geometry = Geometry::new(total, page_size, write_size, 0xff)?;
        if sizes.iter().any(|&s| s == 0 || s % page_size != 0) {
            return Err(ConfigError(
                "partition sizes must be non-zero multiples of the page size",
            ));
        }
        if storage_size < 2 * page_size {
            return Err(ConfigError("the storage partition needs two pages"));
        }
        Ok(Layout {
            geometry,
            boot: Partition::new(0, boot_size),
            slot0: Partition::new(boot_size, slot_size),
            slot1: Partition::new(boot_size + slot_size, slot_size),
            storage: Partition::new(boot_size + 2 * slot_size, storage_size),
        })
    }

    /// The flash device these partitions need.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// `boot_partition`: reserved for the bootloader.
    pub fn boot(&self) -> Partition {
        self.boot
    }

    /// `slot0_partition`: the primary slot, the image that runs.
    pub fn slot0(&self) -> Partition {
        self.slot0
    }

    /// `slot1_partition`: the secondary slot, where updates are downloaded.
    pub fn slot1(&self) -> Partition {
        self.slot1
    }

    /// `storage_partition`: the progress store.
    pub fn storage(&self) -> Partition {
        self.storage
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::nrf52840dk()
    }
}

/// A partition of a shared device, addressed from its start (Zephyr's
/// `flash_area`). Every access is bounds-checked against the partition.
#[derive(Clone, Debug)]
pub struct Area {
    flash: SharedFlash,
    partition: Partition,
    geometry: Geometry,
}

impl Area {
    /// `partition` of `flash`; it must lie inside the device, on page boundaries.
    pub fn new(flash: SharedFlash, partition: Partition) -> Result<Self, ConfigError> {
        let geometry = flash.geometry();
        let end = partition.offset.checked_add(partition.size);
        if end.is_none_or(|end| end > geometry.size()) {
            return Err(ConfigError("the partition is not inside the device"));
        }
        if !partition.offset.is_multiple_of(geometry.page_size())
            || !partition.size.is_multiple_of(geometry.page_size())
        {
            return Err(ConfigError("the partition is not page-aligned"));
        }
        Ok(Area {
            flash,
            partition,
            geometry,
        })
    }

    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.partition.size
    }

    /// The device's geometry.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The device this area is on.
    pub fn flash(&self) -> &SharedFlash {
        &self.flash
    }

    /// Read at `offset` in the partition.
    pub fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        let at = self.absolute(offset, buf.len())?;
        self.flash.lock().read(at, buf)
    }

    /// Write at `offset` in the partition (see [`Flash::write`](crate::Flash::write)).
    pub fn write(&self, offset: u32, data: &[u8]) -> Result<(), FlashError> {
        let at = self.absolute(offset, data.len())?;
        self.flash.lock().write(at, data)
    }

    /// Erase `len` bytes at `offset` in the partition (whole pages).
    pub fn erase(&self, offset: u32, len: u32) -> Result<(), FlashError> {
        let at = self.absolute(offset, len as usize)?;
        self.flash.lock().erase(at, len)
    }

    /// The [`Stamp`] of `len` bytes at `offset` (clamped to the partition).
    pub fn stamp(&self, offset: u32, len: u32) -> Stamp {
        let start = offset.min(self.partition.size);
        let len = len.min(self.partition.size - start);
        self.flash.lock().stamp(self.partition.offset + start, len)
    }

    /// Whether the `len` bytes at `offset` all read as erased.
    pub fn is_erased(&self, offset: u32, len: u32) -> Result<bool, FlashError> {
        let mut buf = vec![0; len as usize];
        self.read(offset, &mut buf)?;
        Ok(buf.iter().all(|&b| b == self.geometry.erased()))
    }

    fn absolute(&self, offset: u32, len: usize) -> Result<u32, FlashError> {
        let out = FlashError::OutOfRange {
            offset,
            len: u32::try_from(len).unwrap_or(u32::MAX),
        };
        let len = u32::try_from(len).map_err(|_| out)?;
        match offset.checked_add(len) {
            Some(end) if end <= self.partition.size => Ok(self.partition.offset + offset),
            _ => Err(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::Flash;

    #[test]
    fn nrf52840dk_matches_the_board_devicetree() {
        let l = Layout::nrf52840dk();
        assert_eq!(l.boot(), Partition::new(0, 0xc000));
        assert_eq!(l.slot0(), Partition::new(0xc000, 0x76000));
        assert_eq!(l.slot1(), Partition::new(0x82000, 0x76000));
        assert_eq!(l.storage(), Partition::new(0xf8000, 0x8000));
        assert_eq!(l.geometry().size(), 0x100000);
        assert_eq!(Layout::default(), l);
    }

    #[test]
    fn large_slots_are_laid_out_back_to_back() {
        let l = Layout::nrf52840_with_slots(16 << 20).unwrap();
        assert_eq!(l.slot1().offset(), l.slot0().offset() + (16 << 20));
        assert_eq!(l.storage().offset(), l.slot1().offset() + (16 << 20));
        assert_eq!(
            l.geometry().size(),
            l.storage().offset() + l.storage().size()
        );
    }

    #[test]
    fn bad_layouts_are_refused() {
        assert!(Layout::new(4096, 4, 4096, 4095, 8192).is_err());
        assert!(Layout::new(4096, 4, 0, 4096, 8192).is_err());
        assert!(Layout::new(4096, 4, 4096, 4096, 4096).is_err());
        assert!(Layout::new(4096, 3, 4096, 4096, 8192).is_err());
        assert!(Layout::new(4096, 4, 4096, 0x8000_0000, 8192).is_err());
    }

    #[test]
    fn areas_are_relative_and_bounded() {
        let flash = SharedFlash::new(Flash::in_memory(
            Geometry::new(4 * 256, 256, 4, 0xff).unwrap(),
        ));
        let area = Area::new(flash.clone(), Partition::new(256, 512)).unwrap();
        area.write(4, &[1, 2, 3, 4]).unwrap();
        assert_eq!(&flash.lock().contents()[260..264], &[1, 2, 3, 4]);
        let mut buf = [0; 4];
        area.read(4, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
        assert!(!area.is_erased(0, 8).unwrap());
        assert!(area.is_erased(8, 504).unwrap());
        assert_eq!(
            area.write(512, &[0; 4]),
            Err(FlashError::OutOfRange {
                offset: 512,
                len: 4
            })
        );
        assert_eq!(
            area.erase(256, 512),
            Err(FlashError::OutOfRange {
                offset: 256,
                len: 512
            })
        );
        area.erase(0, 256).unwrap();
        assert!(area.is_erased(0, 512).unwrap());
        assert!(Area::new(flash.clone(), Partition::new(768, 512)).is_err());
        assert!(Area::new(flash, Partition::new(128, 256)).is_err());
    }
}
