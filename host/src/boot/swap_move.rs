//! MCUboot's swap-move algorithm (`swap_move.c`, `swap_misc.c`) and its
//! progress record, the swap status entries in the primary slot's trailer.
//!
//! With `n` sectors to swap (`last_idx`, from the larger image):
//!
//! 1. *move*: for `i = n..1`, erase primary sector `i` and copy primary
//!    sector `i - 1` into it (the old image moves up one sector); status entry
//!    `n - i` records each move;
//! 2. *swap*: for `i = 1..=n`, erase primary `i - 1` and copy secondary
//!    `i - 1` into it (state 1), then erase secondary `i - 1` and copy primary
//!    `i` (old sector `i - 1`) into it (state 2); each state gets an entry.
//!
//! Every step reads only sectors no earlier step of the same run has
//! overwritten, so a step cut short is simply done again: after a reset the
//! last written entry says where to resume. Before the first move the primary
//! trailer is re-initialised (swap type, swap size, `image_ok` copied from the
//! secondary, magic last) and the secondary trailer erased; that order is what
//! lets the next boot tell "resume from the status" from "start again".

use crate::flash::FlashError;

use super::trailer::{Flag, Magic};
use super::{BootSim, SwapType};

/// `BUF_SZ` in `loader.c`: copies go in chunks of this many bytes.
const COPY_CHUNK: u32 = 1024;

/// `BOOT_STATUS_OP_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Move,
    Swap,
}

/// `struct boot_status`: where a swap is, 1-based like bootutil.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Status {
    pub(super) op: Op,
    pub(super) idx: u32,
    pub(super) state: u8,
    pub(super) swap_type: SwapType,
    pub(super) swap_size: u32,
    /// Whether the primary trailer holds this swap's status
    /// (`BOOT_STATUS_SOURCE_PRIMARY_SLOT`).
    pub(super) from_primary: bool,
}

impl Status {
    /// `boot_status_reset`.
    pub(super) fn reset() -> Self {
        Status {
            op: Op::Move,
            idx: 1,
            state: 1,
            swap_type: SwapType::None,
            swap_size: 0,
            from_primary: false,
        }
    }

    /// `boot_status_is_reset`: no step of a swap has been recorded.
    pub(super) fn is_reset(&self) -> bool {
        self.op == Op::Move && self.idx == 1 && self.state == 1
    }

    /// `boot_status_internal_off`, in entries rather than bytes.
    fn entry(&self, max_img_sectors: u32) -> u32 {
        match self.op {
            Op::Move => self.idx - 1,
            Op::Swap => max_img_sectors + (self.idx - 1) * 2 + u32::from(self.state) - 1,
        }
    }
}

impl BootSim {
    /// `swap_status_source` + `swap_read_status`: the status of an
    /// interrupted swap, or a reset status.
    pub(super) fn read_status(&self) -> Result<Status, FlashError> {
        let mut bs = Status::reset();
        let pri = self.trailer.read_state(&self.primary)?;
        let sec = self.trailer.read_state(&self.secondary)?;
        if !(pri.magic == Magic::Good && pri.copy_done == Flag::Unset && sec.magic != Magic::Good) {
            return Ok(bs);
        }
        bs.from_primary = true;
        let bytes = self.trailer.read_status_bytes(&self.primary)?;
        // `found_idx`: 1-based index of the last written entry.
        let found = bytes
            .iter()
            .rposition(|&b| self.trailer.is_written(b))
            .map(|i| i as u32 + 1);
        let moves = self.trailer.max_img_sectors();
        match found {
            None => {}
            Some(found) if found < moves => {
                bs.op = Op::Move;
                bs.idx = found + 1;
                bs.state = 1;
            }
            Some(found) => {
                let swaps = found - moves;
                bs.op = Op::Swap;
                bs.idx = swaps / 2 + 1;
                bs.state = (swaps % 2) as u8 + 1;
            }
        }
        bs.swap_type = self.trailer.read_swap_type(&self.primary)?;
        Ok(bs)
    }

    /// `swap_run`: start or resume the swap of `copy_size` bytes. `false` if
    /// the images do not fit (MCUboot then boots without swapping).
    pub(super) fn swap_run(&self, bs: &mut Status, copy_size: u32) -> Result<bool, FlashError> {
        let last_idx = copy_size.div_ceil(self.page_size()).max(1);
        if bs.is_reset() && last_idx >= self.trailer.first_sector() {
            return Ok(false);
        }
        self.fixup_revert(bs)?;
        if bs.op == Op::Move {
            for idx in (1..=last_idx).rev() {
                if idx + bs.idx <= last_idx + 1 {
                    self.move_sector_up(idx, bs)?;
                }
            }
            bs.idx = 1;
        }
        bs.op = Op::Swap;
        for idx in bs.idx..=last_idx {
            self.swap_sectors(idx, bs)?;
        }
        Ok(true)
    }

    /// `boot_move_sector_up`: primary sector `idx - 1` to `idx`.
    fn move_sector_up(&self, idx: u32, bs: &mut Status) -> Result<(), FlashError> {
        let sz = self.page_size();
        if bs.idx == 1 {
            if !bs.from_primary {
                self.trailer.scramble(&self.primary)?;
                self.status_init(bs)?;
            }
            self.trailer.scramble(&self.secondary)?;
        }
        self.primary.erase(idx * sz, sz)?;
        self.copy(Slot::Primary, (idx - 1) * sz, Slot::Primary, idx * sz)?;
        self.write_status(bs)?;
        bs.idx += 1;
        Ok(())
    }

    /// `boot_swap_sectors`: secondary `idx - 1` to primary `idx - 1`, then the
    /// moved-up old primary sector (now at `idx`) to secondary `idx - 1`.
    fn swap_sectors(&self, idx: u32, bs: &mut Status) -> Result<(), FlashError> {
        let sz = self.page_size();
        let (low, up) = ((idx - 1) * sz, idx * sz);
        if bs.state == 1 {
            self.primary.erase(low, sz)?;
            self.copy(Slot::Secondary, low, Slot::Primary, low)?;
            self.write_status(bs)?;
            bs.state = 2;
        }
        self.secondary.erase(low, sz)?;
        self.copy(Slot::Primary, up, Slot::Secondary, low)?;
        self.write_status(bs)?;
        bs.idx += 1;
        bs.state = 1;
        Ok(())
    }

    /// `fixup_revert`: before a revert re-initialises the primary trailer,
    /// make the secondary look like a permanent request, so that a reset in
    /// between still finds a swap to do.
    fn fixup_revert(&self, bs: &Status) -> Result<(), FlashError> {
        if bs.swap_type != SwapType::Revert || bs.op != Op::Move || bs.idx != 1 {
            return Ok(());
        }
        if self.trailer.read_state(&self.secondary)?.magic == Magic::Unset {
            self.trailer.scramble(&self.secondary)?;
            self.trailer.write_image_ok(&self.secondary)?;
            self.trailer
                .write_swap_size(&self.secondary, bs.swap_size)?;
            self.trailer.write_magic(&self.secondary)?;
        }
        Ok(())
    }

    /// `swap_status_init` on the primary trailer; the magic goes last.
    fn status_init(&self, bs: &Status) -> Result<(), FlashError> {
        let sec = self.trailer.read_state(&self.secondary)?;
        if bs.swap_type != SwapType::None {
            self.trailer.write_swap_info(&self.primary, bs.swap_type)?;
        }
        if sec.image_ok == Flag::Set {
            self.trailer.write_image_ok(&self.primary)?;
        }
        self.trailer.write_swap_size(&self.primary, bs.swap_size)?;
        self.trailer.write_magic(&self.primary)
    }

    /// `boot_write_status`.
    fn write_status(&self, bs: &Status) -> Result<(), FlashError> {
        let entry = bs.entry(self.trailer.max_img_sectors());
        self.trailer.write_status(&self.primary, entry, bs.state)
    }

    /// `boot_copy_region` of one sector, into an erased destination.
    fn copy(&self, from: Slot, from_off: u32, to: Slot, to_off: u32) -> Result<(), FlashError> {
        let sz = self.page_size();
        let mut buf = vec![0; COPY_CHUNK.min(sz) as usize];
        let mut at = 0;
        while at < sz {
            // Chunks and sectors are multiples of the write unit (at most 32).
            let chunk = &mut buf[..COPY_CHUNK.min(sz - at) as usize];
            self.area(from).read(from_off + at, chunk)?;
            self.area(to).write(to_off + at, chunk)?;
            at += chunk.len() as u32;
        }
        Ok(())
    }

    fn area(&self, slot: Slot) -> &crate::partition::Area {
        match slot {
            Slot::Primary => &self.primary,
            Slot::Secondary => &self.secondary,
        }
    }

    fn page_size(&self) -> u32 {
        self.primary.geometry().page_size()
    }
}

/// The two image slots.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Primary,
    Secondary,
}
