//! One file transfer into the image slot: where the data goes and what is
//! known about it. It never decides what to send (the agent does); it
//! answers "was this data new, and is it written".
//!
//! - Erasing is progressive: before data is written, the slot is erased from
//!   the highest erased offset up to the end of that data, rounded up to the
//!   erase unit. Nothing below the mark is erased twice, nothing is written
//!   into unerased flash, and the first write always erases the header, so a
//!   partial image is never bootable.
//! - Writes are aligned to the slot's write unit; a short last block is
//!   padded. HTTP data arrives in arbitrary pieces, so up to one write unit
//!   is carried until the next piece completes it.
//! - Data is hashed in file order as it arrives; a block that arrived early is
//!   read back from the slot once the data before it is complete.

use crate::cbor::Block;
use crate::digest::{BootImage, FileDigest};
use crate::event::DropReason;
use crate::mcuboot::{tlv_area_len, TLV_HEADER_LEN, TLV_SHA256};
use crate::platform::{ImageSlot, PortError};
use crate::reason::{FailReason, ImageError};
use crate::window::{Slot, Window};
use crate::MAX_WRITE_ALIGN;

/// The data plane of a transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plane {
    /// MQTT-based file delivery.
    Mqtt,
    /// HTTP range requests.
    Http,
}

/// What happened to a piece of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Written (and hashed, if in order).
    Accepted,
    /// Not written.
    Dropped(DropReason),
}

/// Chunk size for reading the slot back.
const READ_CHUNK: usize = 256;

/// The state of one transfer.
// Fields in this order (`repr(C)`): the counters first, the window, digest
// and carry buffer last, so the counters get Thumb's 2-byte loads and stores
// (see `Agent`); with HTTP, 80 bytes smaller than the compiler's order.
#[repr(C)]
pub(crate) struct Download {
    plane: Plane,
    /// HTTP: a refreshed URL is awaited before requesting again.
    pub(crate) awaiting_url: bool,
    file_size: u32,
    block_size: u32,
    erase_size: u32,
    write_align: u32,
    erased_upto: u32,
    carry_len: u32,
    /// HTTP: end (exclusive) of the range last requested.
    pub(crate) range_end: u32,
    /// MQTT: blocks still expected from the last request.
    pub(crate) outstanding: u32,
    /// Requests sent since the last accepted data.
    pub(crate) momentum: u32,
    /// Blocks durable at the last saved resume record.
    pub(crate) checkpoint: u32,
    /// Blocks received at the last progress status.
    pub(crate) reported: u32,
    window: Window,
    digest: FileDigest,
    carry: [u8; MAX_WRITE_ALIGN as usize],
}

fn flash(e: PortError) -> FailReason {
    FailReason::Flash(e)
}

impl Download {
    /// A transfer of `file_size` bytes in `block_size` blocks, resuming with
    /// blocks `0..start_block` already in the slot (then
    /// [`hash_resumed`](Self::hash_resumed) must rebuild their hash).
    /// `start_block * block_size` must be a multiple of the erase unit.
    pub(crate) fn new(
        slot: &mut impl ImageSlot,
        plane: Plane,
        file_size: u32,
        block_size: u32,
        mcuboot: bool,
        start_block: u32,
    ) -> Self {
        let total = file_size.div_ceil(block_size);
        let start_block = start_block.min(total);
        // Past the file's end only when resuming a complete file.
        let start = start_block.saturating_mul(block_size);
        let done = start.min(file_size);
        Download {
            plane,
            file_size,
            block_size,
            erase_size: slot.erase_size(),
            write_align: slot.write_align(),
            window: Window::new(total, start_block),
            digest: FileDigest::new(file_size, mcuboot),
            erased_upto: start.min(slot.capacity()),
            carry: [0; MAX_WRITE_ALIGN as usize],
            carry_len: 0,
            range_end: done,
            outstanding: 0,
            momentum: 0,
            checkpoint: start_block,
            reported: start_block,
            awaiting_url: false,
        }
    }

    /// Rebuild the hash of the blocks a resumed transfer starts with, by
    /// reading them back from the slot.
    pub(crate) fn hash_resumed(&mut self, slot: &mut impl ImageSlot) -> Result<(), FailReason> {
        self.hash_from_slot(slot, self.range_end)
    }

    /// The data plane.
    pub(crate) fn plane(&self) -> Plane {
        self.plane
    }

    /// Blocks in the file.
    pub(crate) fn total_blocks(&self) -> u32 {
        self.window.total()
    }

    /// Blocks received. `plane` is [`plane`](Self::plane), passed in so
    /// that a caller who knows it statically lets the other arm go.
    pub(crate) fn received_blocks(&self, plane: Plane) -> u32 {
        match plane {
            Plane::Mqtt => self.window.received(),
            Plane::Http if self.is_complete() => self.total_blocks(),
            Plane::Http => self.digest.hashed() / self.block_size,
        }
    }

    /// Blocks from the start of the file that are written to the slot
    /// (`plane` as for [`received_blocks`](Self::received_blocks)).
    pub(crate) fn durable_blocks(&self, plane: Plane) -> u32 {
        match plane {
            Plane::Mqtt => self.window.base(),
            Plane::Http => (self.digest.hashed() - self.carry_len) / self.block_size,
        }
    }

    /// Whether `blocks` from the start is a point a resume record may name:
    /// its byte offset is a multiple of the erase unit.
    pub(crate) fn is_checkpoint(&self, blocks: u32) -> bool {
        // The erase unit is a power of two: a mask, and the product's low
        // bits are right even if it wraps.
        blocks.wrapping_mul(self.block_size) & (self.erase_size - 1) == 0
    }

    /// Every byte received.
    pub(crate) fn is_complete(&self) -> bool {
        self.digest.hashed() == self.file_size
    }

    /// Whether anything may have been written (so the slot needs invalidating).
    pub(crate) fn touched_flash(&self) -> bool {
        self.erased_upto > 0
    }

    /// The GetStream request window: (offset, bitmap).
    pub(crate) fn request_window(&self) -> (u32, &[u8]) {
        (self.window.base(), self.window.request_bitmap())
    }

    /// The next HTTP range (inclusive), at most `range_size` bytes.
    pub(crate) fn next_range(&mut self, range_size: u32) -> (u32, u32) {
        let first = self.digest.hashed();
        let end = first.saturating_add(range_size).min(self.file_size);
        self.range_end = end;
        (first, end.saturating_sub(1))
    }

    /// Whether the last HTTP range has been fully received.
    pub(crate) fn range_done(&self) -> bool {
        self.digest.hashed() >= self.range_end
    }

    /// The length of block `index`, a block of the file (`index < total`).
    fn block_len(&self, index: u32) -> u32 {
        (self.file_size - index * self.block_size).min(self.block_size)
    }

    /// Erase up to `end` (rounded up to the erase unit).
    fn erase_to(&mut self, slot: &mut impl ImageSlot, end: u32) -> Result<(), FailReason> {
        if end <= self.erased_upto {
            return Ok(());
        }
        // The erase unit is a power of two. `end` is within the slot, whose
        // size is a multiple of the erase unit, so the rounding cannot wrap.
        let mask = self.erase_size - 1;
        let target = end.wrapping_add(mask) & !mask;
        slot.erase(self.erased_upto, target - self.erased_upto)
            .map_err(FailReason::Erase)?;
        self.erased_upto = target;
        Ok(())
    }

    /// Write `data` at an aligned `offset`, padding a short tail.
    fn write_at(
        &mut self,
        slot: &mut impl ImageSlot,
        offset: u32,
        data: &[u8],
    ) -> Result<(), FailReason> {
        // The write unit is a power of two, at most `MAX_WRITE_ALIGN`.
        let mask = self.write_align as usize - 1;
        let (whole, tail) = data.split_at(data.len() & !mask);
        self.erase_to(slot, offset + ((data.len() + mask) & !mask) as u32)?;
        if !whole.is_empty() {
            slot.write(offset, whole).map_err(flash)?;
        }
        if !tail.is_empty() {
            // The padding must stay erased (0xff). Built byte by byte: a
            // 0xff fill would link another memset.
            let mut buf = [0u8; MAX_WRITE_ALIGN as usize];
            let padded = &mut buf[..=mask];
            for (i, p) in padded.iter_mut().enumerate() {
                *p = tail.get(i).copied().unwrap_or(0xff);
            }
            slot.write(offset + whole.len() as u32, padded)
                .map_err(flash)?;
        }
        Ok(())
    }

    /// Hash the slot's bytes from the current hash position up to `end`.
    fn hash_from_slot(&mut self, slot: &mut impl ImageSlot, end: u32) -> Result<(), FailReason> {
        let mut buf = [0u8; READ_CHUNK];
        while self.digest.hashed() < end {
            let at = self.digest.hashed();
            let n = ((end - at) as usize).min(READ_CHUNK);
            slot.read(at, &mut buf[..n]).map_err(flash)?;
            self.digest.update(&buf[..n]).map_err(FailReason::Image)?;
        }
        Ok(())
    }

    /// An MQTT block (its file id already checked).
    pub(crate) fn accept_block(
        &mut self,
        slot: &mut impl ImageSlot,
        block: &Block<'_>,
    ) -> Result<Outcome, FailReason> {
        match self.window.check(block.index) {
            Slot::Needed => {}
            Slot::Duplicate => return Ok(Outcome::Dropped(DropReason::Duplicate)),
            Slot::OutOfRange => return Ok(Outcome::Dropped(DropReason::OutOfRange)),
        }
        let len = block.payload.len();
        if block.length as usize != len || len != self.block_len(block.index) as usize {
            return Ok(Outcome::Dropped(DropReason::BadLength));
        }
        let offset = block.index * self.block_size;
        self.write_at(slot, offset, block.payload)?;
        self.window.mark_received(block.index);
        // Hash what is now complete from the base on: this block from its
        // payload, blocks that arrived before it read back from the slot.
        // (The window moves past a block before it is hashed; an error ends
        // the transfer.)
        while let Some(base) = self.window.advance() {
            if base == block.index {
                self.digest
                    .update(block.payload)
                    .map_err(FailReason::Image)?;
            } else {
                let end = base * self.block_size + self.block_len(base);
                self.hash_from_slot(slot, end)?;
            }
        }
        Ok(Outcome::Accepted)
    }

    /// HTTP data starting at file offset `offset`.
    pub(crate) fn accept_http(
        &mut self,
        slot: &mut impl ImageSlot,
        offset: u32,
        data: &[u8],
    ) -> Result<Outcome, FailReason> {
        let expected = self.digest.hashed();
        if offset > expected {
            return Ok(Outcome::Dropped(DropReason::NotContiguous));
        }
        let skip = (expected - offset) as usize;
        let room = (self.file_size - expected) as usize;
        let Some(new) = data.get(skip..).filter(|d| !d.is_empty() && room > 0) else {
            return Ok(Outcome::Dropped(DropReason::Duplicate));
        };
        let new = &new[..new.len().min(room)];
        self.digest.update(new).map_err(FailReason::Image)?;
        self.write_stream(slot, new)?;
        if self.is_complete() && self.carry_len > 0 {
            let start = self.file_size - self.carry_len;
            let (carry, n) = (self.carry, self.carry_len as usize);
            self.carry_len = 0;
            self.write_at(slot, start, &carry[..n])?;
        }
        Ok(Outcome::Accepted)
    }

    /// Write in-order bytes that follow the carried ones.
    fn write_stream(
        &mut self,
        slot: &mut impl ImageSlot,
        mut data: &[u8],
    ) -> Result<(), FailReason> {
        let align = self.write_align as usize;
        // Where the unwritten bytes (carry, then data) begin.
        let mut at = self.digest.hashed() - data.len() as u32 - self.carry_len;
        let have = self.carry_len as usize;
        if have > 0 {
            let (head, rest) = data.split_at((align - have).min(data.len()));
            self.carry[have..have + head.len()].copy_from_slice(head);
            self.carry_len += head.len() as u32;
            data = rest;
            if self.carry_len as usize == align {
                let carry = self.carry;
                self.write_at(slot, at, &carry[..align])?;
                at += align as u32;
                self.carry_len = 0;
            }
        }
        // The write unit is a power of two.
        let (whole, rest) = data.split_at(data.len() & !(align - 1));
        if !whole.is_empty() {
            self.write_at(slot, at, whole)?;
        }
        if !rest.is_empty() {
            self.carry[..rest.len()].copy_from_slice(rest);
            self.carry_len = rest.len() as u32;
        }
        Ok(())
    }

    /// Make the slot unbootable: erase its first erase unit.
    pub(crate) fn invalidate(&self, slot: &mut impl ImageSlot) -> Result<(), PortError> {
        slot.erase(0, self.erase_size)
    }

    /// For firmware, what the download learned about the MCUboot image (or
    /// why it is not one). Only for a complete file.
    pub(crate) fn boot_image(&self) -> Result<Option<&BootImage>, FailReason> {
        self.digest.boot_image().map_err(FailReason::Image)
    }

    /// The file's SHA-256. Only for a complete file.
    pub(crate) fn sha256(&self) -> [u8; 32] {
        self.digest.sha256()
    }
}

/// Check a downloaded MCUboot image before activation: its SHA-256 TLV
/// against the hash computed during the download, and (unless downgrades are
/// allowed) its version against the running one. Versions are packed
/// ([`Version::packed`](crate::platform::Version::packed), which orders
/// them as `Version` does). Returns the
/// image's version, packed.
pub(crate) fn check_boot_image(
    slot: &mut impl ImageSlot,
    boot: &BootImage,
    file_size: u32,
    running: u32,
    allow_downgrade: bool,
) -> Result<u32, FailReason> {
    check_boot_tlv(slot, boot, file_size)?;
    let version = boot.version;
    if !allow_downgrade {
        if version == running {
            return Err(FailReason::SameVersion);
        }
        if version < running {
            return Err(FailReason::Downgrade);
        }
    }
    Ok(version)
}

/// Read the unprotected TLV area from the slot and compare its SHA-256 TLV
/// with the hash computed during the download.
// Out of line: measured smaller on thumbv7em (bench/footprint).
#[inline(never)]
fn check_boot_tlv(
    slot: &mut impl ImageSlot,
    boot: &BootImage,
    file_size: u32,
) -> Result<(), FailReason> {
    let image = |e| FailReason::Image(e);
    let mut info = [0u8; TLV_HEADER_LEN];
    slot.read(boot.tlv_offset, &mut info).map_err(flash)?;
    let tlv_len = tlv_area_len(boot.tlv_offset, &info, file_size).map_err(image)?;
    let mut at = boot.tlv_offset + TLV_HEADER_LEN as u32;
    let end = boot.tlv_offset + tlv_len;
    while at < end {
        if end - at < TLV_HEADER_LEN as u32 {
            return Err(image(ImageError::BadTlv));
        }
        let mut tlv = [0u8; TLV_HEADER_LEN];
        slot.read(at, &mut tlv).map_err(flash)?;
        let kind = u16::from_le_bytes([tlv[0], tlv[1]]);
        let len = u16::from_le_bytes([tlv[2], tlv[3]]) as u32;
        at += TLV_HEADER_LEN as u32;
        if len > end - at {
            return Err(image(ImageError::BadTlv));
        }
        if kind == TLV_SHA256 {
            let mut expected = [0u8; 32];
            if len != 32 {
                return Err(image(ImageError::BadTlv));
            }
            slot.read(at, &mut expected).map_err(flash)?;
            return if expected == boot.digest {
                Ok(())
            } else {
                Err(image(ImageError::HashMismatch))
            };
        }
        at += len;
    }
    Err(image(ImageError::NoHash))
}
