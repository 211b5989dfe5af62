//! MCUboot's image trailer at the end of each slot (`bootutil_priv.h`,
//! `bootutil_misc.h`, `bootutil_area.c`), read and written the way bootutil
//! does. `A` is `BOOT_MAX_ALIGN` (8, or the write unit when that is larger),
//! `W` the write unit, `N` `BOOT_MAX_IMG_SECTORS`:
//!
//! ```text
//! slot_size - trailer_size: swap status, 3 * N entries of W bytes (swap-move:
//!                           N move entries, then 2 * N swap entries)
//! swap_info_off - A:        swap size (u32 LE, written in a W-aligned unit)
//! copy_done_off - A:        swap info (image_num << 4 | swap type)
//! image_ok_off - A:         copy done (0x01 = set)
//! align_down(slot_size - 16 - A, A): image ok (0x01 = set)
//! slot_size - 16:           magic (16 bytes, padded to A before it)
//! ```
//!
//! `trailer_size = 3 * N * W + 4 * A + align_up(16, A)`.

use crate::flash::FlashError;
use crate::partition::Area;

use super::SwapType;

/// `boot_img_magic` when `BOOT_MAX_ALIGN` is 8.
const MAGIC_ALIGN8: [u8; 16] = [
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
];

/// The last 14 bytes of `boot_img_magic` for other alignments; the first two
/// are `BOOT_MAX_ALIGN` (u16 LE).
const MAGIC_TAIL: [u8; 14] = [
    0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a,
];

/// `BOOT_MAGIC_SZ`.
const MAGIC_LEN: u32 = 16;

/// `BOOT_FLAG_SET`: the value a set flag is written with.
const FLAG_SET: u8 = 1;

/// `BOOT_STATUS_STATE_COUNT` for swap-move: one move state, two swap states.
const STATUS_STATES: u32 = 3;

/// A trailer's magic, decoded (`BOOT_MAGIC_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Magic {
    Good,
    Bad,
    Unset,
}

/// A trailer flag, decoded (`BOOT_FLAG_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flag {
    Set,
    Bad,
    Unset,
}

/// `struct boot_swap_state`, less the swap type the swap table does not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SwapState {
    pub(super) magic: Magic,
    pub(super) copy_done: Flag,
    pub(super) image_ok: Flag,
}

/// Where the trailer fields of a slot are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Trailer {
    slot_size: u32,
    page_size: u32,
    write_size: u32,
    max_align: u32,
    max_img_sectors: u32,
    erased: u8,
}

const fn align_up(v: u32, a: u32) -> u32 {
    v.div_ceil(a) * a
}

const fn align_down(v: u32, a: u32) -> u32 {
    v / a * a
}

impl Trailer {
    /// The trailer of a slot of `slot_size` bytes. `max_align` must be a power
    /// of two from 8 to 32 and at least `write_size`.
    pub(super) fn new(
        slot_size: u32,
        page_size: u32,
        write_size: u32,
        max_align: u32,
        max_img_sectors: u32,
        erased: u8,
    ) -> Self {
        Trailer {
            slot_size,
            page_size,
            write_size,
            max_align,
            max_img_sectors,
            erased,
        }
    }

    /// `boot_trailer_sz(W)`.
    pub(super) fn size(&self) -> u32 {
        STATUS_STATES * self.max_img_sectors * self.write_size
            + 4 * self.max_align
            + align_up(MAGIC_LEN, self.max_align)
    }

    /// The 16 magic bytes (`BOOT_IMG_MAGIC`).
    pub(super) fn magic(&self) -> [u8; 16] {
        if self.max_align == 8 {
            return MAGIC_ALIGN8;
        }
        let mut m = [0; 16];
        m[..2].copy_from_slice(&(self.max_align as u16).to_le_bytes());
        m[2..].copy_from_slice(&MAGIC_TAIL);
        m
    }

    pub(super) fn magic_off(&self) -> u32 {
        self.slot_size - MAGIC_LEN
    }

    pub(super) fn image_ok_off(&self) -> u32 {
        align_down(self.magic_off() - self.max_align, self.max_align)
    }

    pub(super) fn copy_done_off(&self) -> u32 {
        self.image_ok_off() - self.max_align
    }

    pub(super) fn swap_info_off(&self) -> u32 {
        self.copy_done_off() - self.max_align
    }

    pub(super) fn swap_size_off(&self) -> u32 {
        self.swap_info_off() - self.max_align
    }

    /// `boot_status_off`: the first swap status entry.
    pub(super) fn status_off(&self) -> u32 {
        self.slot_size - self.size()
    }

    /// `BOOT_MAX_IMG_SECTORS`.
    pub(super) fn max_img_sectors(&self) -> u32 {
        self.max_img_sectors
    }

    /// The first sector holding part of the trailer (`first_trailer_idx`).
    pub(super) fn first_sector(&self) -> u32 {
        self.status_off() / self.page_size
    }

    /// `app_max_size` for two slots of this size: what is left before the
    /// trailer's sectors, less the sector swap-move needs to move the primary
    /// image up.
    pub(super) fn max_image_size(&self) -> u32 {
        (self.first_sector() * self.page_size).saturating_sub(self.page_size)
    }

    /// `boot_read_swap_state`.
    pub(super) fn read_state(&self, area: &Area) -> Result<SwapState, FlashError> {
        let mut magic = [0; 16];
        area.read(self.magic_off(), &mut magic)?;
        let magic = if magic.iter().all(|&b| b == self.erased) {
            Magic::Unset
        } else if magic == self.magic() {
            Magic::Good
        } else {
            Magic::Bad
        };
        Ok(SwapState {
            magic,
            copy_done: self.read_flag(area, self.copy_done_off())?,
            image_ok: self.read_flag(area, self.image_ok_off())?,
        })
    }

    /// The swap type `swap_read_status` takes from a status-holding trailer:
    /// the raw swap info, NONE when erased.
    pub(super) fn read_swap_type(&self, area: &Area) -> Result<SwapType, FlashError> {
        let info = self.read_byte(area, self.swap_info_off())?;
        if info == self.erased {
            return Ok(SwapType::None);
        }
        Ok(SwapType::from_code(info & 0x0f).unwrap_or(SwapType::None))
    }

    /// `boot_read_swap_size`.
    pub(super) fn read_swap_size(&self, area: &Area) -> Result<u32, FlashError> {
        let mut b = [0; 4];
        area.read(self.swap_size_off(), &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn read_byte(&self, area: &Area, off: u32) -> Result<u8, FlashError> {
        let mut b = [0];
        area.read(off, &mut b)?;
        Ok(b[0])
    }

    fn read_flag(&self, area: &Area, off: u32) -> Result<Flag, FlashError> {
        Ok(match self.read_byte(area, off)? {
            b if b == self.erased => Flag::Unset,
            FLAG_SET => Flag::Set,
            _ => Flag::Bad,
        })
    }

    /// `boot_write_magic`: the magic, preceded by erased padding up to `A`.
    pub(super) fn write_magic(&self, area: &Area) -> Result<(), FlashError> {
        let len = align_up(MAGIC_LEN, self.max_align);
        let mut buf = vec![self.erased; len as usize];
        buf[(len - MAGIC_LEN) as usize..].copy_from_slice(&self.magic());
        area.write(align_down(self.magic_off(), self.max_align), &buf)
    }

    /// `boot_write_image_ok`.
    pub(super) fn write_image_ok(&self, area: &Area) -> Result<(), FlashError> {
        self.write_field(area, self.image_ok_off(), &[FLAG_SET])
    }

    /// `boot_write_copy_done`.
    pub(super) fn write_copy_done(&self, area: &Area) -> Result<(), FlashError> {
        self.write_field(area, self.copy_done_off(), &[FLAG_SET])
    }

    /// `boot_write_swap_info` for image 0.
    pub(super) fn write_swap_info(
        &self,
        area: &Area,
        swap_type: SwapType,
    ) -> Result<(), FlashError> {
        self.write_field(area, self.swap_info_off(), &[swap_type.code()])
    }

    /// `boot_write_swap_size`.
    pub(super) fn write_swap_size(&self, area: &Area, swap_size: u32) -> Result<(), FlashError> {
        self.write_field(area, self.swap_size_off(), &swap_size.to_le_bytes())
    }

    /// `boot_write_status`: one entry, the state number in its first byte.
    pub(super) fn write_status(
        &self,
        area: &Area,
        entry: u32,
        state: u8,
    ) -> Result<(), FlashError> {
        let mut buf = vec![self.erased; self.write_size as usize];
        buf[0] = state;
        area.write(self.status_off() + entry * self.write_size, &buf)
    }

    /// The first byte of every status entry (`3 * N` of them).
    pub(super) fn read_status_bytes(&self, area: &Area) -> Result<Vec<u8>, FlashError> {
        let mut area_bytes =
            vec![0; (STATUS_STATES * self.max_img_sectors * self.write_size) as usize];
        area.read(self.status_off(), &mut area_bytes)?;
        Ok(area_bytes
            .chunks(self.write_size as usize)
            .map(|entry| entry[0])
            .collect())
    }

    /// Whether a status byte was written.
    pub(super) fn is_written(&self, byte: u8) -> bool {
        byte != self.erased
    }

    /// `boot_write_trailer`: `data` padded with erased bytes to the write unit.
    fn write_field(&self, area: &Area, off: u32, data: &[u8]) -> Result<(), FlashError> {
        let mut buf = vec![self.erased; align_up(data.len() as u32, self.write_size) as usize];
        buf[..data.len()].copy_from_slice(data);
        area.write(off, &buf)
    }

    /// `swap_scramble_trailer_sectors`: erase the sectors holding the
    /// trailer, from the last one down.
    pub(super) fn scramble(&self, area: &Area) -> Result<(), FlashError> {
        let first = self.first_sector() * self.page_size;
        for off in (first..self.slot_size)
            .step_by(self.page_size as usize)
            .rev()
        {
            area.erase(off, self.page_size)?;
        }
        Ok(())
    }

    /// Whether the trailer's sectors are entirely erased.
    pub(super) fn sectors_erased(&self, area: &Area) -> Result<bool, FlashError> {
        let first = self.first_sector() * self.page_size;
        area.is_erased(first, self.slot_size - first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_match_bootutil_for_nrf52840dk() {
        // 472 KiB slots, 4 KiB sectors, 4-byte writes, BOOT_MAX_ALIGN 8,
        // BOOT_MAX_IMG_SECTORS 118 (auto).
        let t = Trailer::new(0x76000, 4096, 4, 8, 118, 0xff);
        assert_eq!(t.magic_off(), 0x75ff0);
        assert_eq!(t.image_ok_off(), 0x75fe8);
        assert_eq!(t.copy_done_off(), 0x75fe0);
        assert_eq!(t.swap_info_off(), 0x75fd8);
        assert_eq!(t.swap_size_off(), 0x75fd0);
        assert_eq!(t.size(), 118 * 3 * 4 + 32 + 16);
        assert_eq!(t.status_off(), 0x76000 - 1464);
        assert_eq!(t.first_sector(), 117);
        assert_eq!(t.max_image_size(), 116 * 4096);
        assert_eq!(t.magic()[..4], [0x77, 0xc2, 0x95, 0xf3]);
    }

    #[test]
    fn offsets_match_bootutil_for_32_byte_alignment() {
        let t = Trailer::new(0x20000, 4096, 32, 32, 32, 0xff);
        assert_eq!(t.magic_off(), 0x20000 - 16);
        assert_eq!(t.image_ok_off(), 0x20000 - 64);
        assert_eq!(t.copy_done_off(), 0x20000 - 96);
        assert_eq!(t.swap_info_off(), 0x20000 - 128);
        assert_eq!(t.swap_size_off(), 0x20000 - 160);
        assert_eq!(t.size(), 32 * 3 * 32 + 128 + 32);
        assert_eq!(
            t.magic(),
            [
                0x20, 0, 0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d, 0x77, 0x67, 0x9c, 0x11, 0x0f,
                0x1f, 0x8a
            ]
        );
    }
}
