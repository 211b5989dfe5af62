//! A boot simulator that keeps MCUboot's image trailers and swap-move
//! semantics (swap with revert), so a simulated device behaves like an MCUboot
//! board across resets and power cuts.
//!
//! What [`BootSim::boot`] does at reset follows `context_boot_go` for one
//! image in `MCUBOOT_SWAP_USING_MOVE` mode with `MCUBOOT_VALIDATE_PRIMARY_SLOT`:
//!
//! 1. if the primary trailer holds the status of an interrupted swap, finish
//!    it (`boot_complete_partial_swap`);
//! 2. otherwise decide the swap type from both trailers (`boot_swap_type`:
//!    TEST, PERM, REVERT or NONE), and for an upgrade check the secondary
//!    image first (header, size, SHA-256 TLV): an invalid one is erased and
//!    not swapped in, exactly as MCUboot refuses it;
//! 3. swap (TEST, PERM) or swap back (REVERT), keeping progress in the swap
//!    status area so that a power cut at any flash operation is resumed at
//!    the next boot; a PERM or REVERT swap sets `image_ok`, every swap sets
//!    `copy_done`;
//! 4. check the primary image and "jump" to it: report its version and
//!    whether it still needs a confirmation (the next swap type is REVERT).
//!
//! The application side is bootutil's public API: [`BootSim::request_upgrade`]
//! (`boot_request_upgrade`), [`BootSim::confirm`] (`boot_write_img_confirmed`),
//! [`BootSim::swap_type`] (`mcuboot_swap_type`).
//!
//! Deviations, all in states MCUboot itself never reaches or only asserts on:
//! a primary image whose TLV area cannot be sized is swapped as if it filled
//! the slot; a swap that would not fit is skipped without writing `copy_done`;
//! flash errors (power cuts) are returned instead of hanging.

mod swap_move;
mod trailer;
mod validate;

use std::cell::Cell;
use std::fmt;

use ota_agent::mcuboot::{ImageHeader, HEADER_LEN};
use ota_agent::{BootState, Version};

use crate::flash::{FlashError, SharedFlash, Stamp};
use crate::partition::{Area, Layout};
use crate::ConfigError;

use swap_move::Status;
use trailer::{Flag, Magic, SwapState, Trailer};
use validate::Verdict;

/// What MCUboot does, or did, with the image pair (`BOOT_SWAP_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwapType {
    /// Boot the primary slot as it is.
    None,
    /// Swap in the secondary image for one boot; revert unless confirmed.
    Test,
    /// Swap in the secondary image for good.
    Perm,
    /// Swap the previous image back: the running one was never confirmed.
    Revert,
    /// The requested image was not valid and was erased.
    Fail,
}

impl SwapType {
    /// The value bootutil uses (1 to 5).
    pub const fn code(self) -> u8 {
        match self {
            SwapType::None => 1,
            SwapType::Test => 2,
            SwapType::Perm => 3,
            SwapType::Revert => 4,
            SwapType::Fail => 5,
        }
    }

    /// The swap type with this bootutil value.
    pub const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => SwapType::None,
            2 => SwapType::Test,
            3 => SwapType::Perm,
            4 => SwapType::Revert,
            5 => SwapType::Fail,
            _ => return None,
        })
    }

    /// `BOOT_IS_UPGRADE`: whether images move.
    const fn is_upgrade(self) -> bool {
        matches!(self, SwapType::Test | SwapType::Perm | SwapType::Revert)
    }
}

/// Options of the simulated MCUboot build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootConfig {
    /// `CONFIG_BOOT_MAX_IMG_SECTORS`; `None` is `CONFIG_BOOT_MAX_IMG_SECTORS_AUTO`
    /// (the sectors of a slot). Sizes the swap status area.
    pub max_img_sectors: Option<u32>,
    /// `CONFIG_BOOT_VALIDATE_SLOT0`: check the primary image's hash at every
    /// boot, not only its header magic. On by default, as in Zephyr. (The
    /// simulator hashes again only bytes that changed since the image was
    /// last found valid, so resets stay cheap with large images.)
    pub validate_primary: bool,
}

impl Default for BootConfig {
    fn default() -> Self {
        BootConfig {
            max_img_sectors: None,
            validate_primary: true,
        }
    }
}

/// Why the simulated bootloader, or a bootutil call, failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootError {
    /// No valid image in the primary slot: the device does not start.
    NoBootableImage,
    /// A trailer holds a bad magic, so bootutil refuses to touch it.
    BadTrailer,
    /// The image is larger than a slot can take.
    ImageTooLarge,
    /// A flash operation failed (a power cut, typically).
    Flash(FlashError),
}

impl From<FlashError> for BootError {
    fn from(e: FlashError) -> Self {
        BootError::Flash(e)
    }
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::NoBootableImage => f.write_str("no bootable image in the primary slot"),
            BootError::BadTrailer => f.write_str("the image trailer has a bad magic"),
            BootError::ImageTooLarge => f.write_str("the image does not fit in a slot"),
            BootError::Flash(e) => write!(f, "flash: {e}"),
        }
    }
}

impl std::error::Error for BootError {}

/// What happened at a boot, and what runs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootReport {
    /// The header of the image that runs (in the primary slot).
    pub header: ImageHeader,
    /// The swap this boot performed (or finished): TEST, PERM, REVERT,
    /// FAIL (the requested image was invalid), or NONE.
    pub swap: SwapType,
    /// Whether this boot finished a swap a reset had interrupted.
    pub resumed: bool,
    /// Whether an image requested for a swap was found invalid and erased.
    pub rejected_secondary: bool,
    /// Whether the running image is confirmed or on trial.
    pub state: BootState,
}

impl BootReport {
    /// The running version as the agent sees it (`build` = revision).
    pub fn version(&self) -> Version {
        let v = self.header.version;
        Version::new(v.major, v.minor, v.revision)
    }
}

/// The simulated MCUboot; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct BootSim {
    primary: Area,
    secondary: Area,
    trailer: Trailer,
    validate_primary: bool,
    /// The primary image last found valid, and the stamp of its bytes then:
    /// while the stamp holds, hashing them again would find the same.
    primary_checked: Cell<Option<(Stamp, ImageHeader)>>,
}

/// `BOOT_MAX_ALIGN` without `MCUBOOT_BOOT_MAX_ALIGN`.
const DEFAULT_MAX_ALIGN: u32 = 8;
/// The largest `MCUBOOT_BOOT_MAX_ALIGN` the swap modes support.
const MAX_MAX_ALIGN: u32 = 32;

impl BootSim {
    /// The bootloader of a device with `layout`, on `flash`.
    pub fn new(
        flash: SharedFlash,
        layout: &Layout,
        config: BootConfig,
    ) -> Result<Self, ConfigError> {
        let geometry = flash.geometry();
        if geometry != layout.geometry() {
            return Err(ConfigError(
                "the flash device does not have the layout's geometry",
            ));
        }
        if geometry.write_size() > MAX_MAX_ALIGN {
            return Err(ConfigError(
                "MCUboot supports write units of at most 32 bytes",
            ));
        }
        let slot_size = layout.slot0().size();
        let sectors = slot_size / geometry.page_size();
        let max_img_sectors = config.max_img_sectors.unwrap_or(sectors);
        if max_img_sectors < sectors {
            return Err(ConfigError(
                "BOOT_MAX_IMG_SECTORS is below the sectors of a slot",
            ));
        }
        let trailer = Trailer::new(
            slot_size,
            geometry.page_size(),
            geometry.write_size(),
            geometry.write_size().max(DEFAULT_MAX_ALIGN),
            max_img_sectors,
            geometry.erased(),
        );
        if trailer.size() > slot_size || trailer.max_image_size() == 0 {
            return Err(ConfigError(
                "the slots are too small for an image and its trailer",
            ));
        }
        Ok(BootSim {
            primary: Area::new(flash.clone(), layout.slot0())?,
            secondary: Area::new(flash, layout.slot1())?,
            trailer,
            validate_primary: config.validate_primary,
            primary_checked: Cell::new(None),
        })
    }

    /// The largest image (TLVs included) a slot can take and swap
    /// (`app_max_size`): the slot less its trailer's sectors and the sector
    /// swap-move moves the primary image into. A multiple of the page size.
    pub fn max_image_size(&self) -> u32 {
        self.trailer.max_image_size()
    }

    /// The primary slot (`slot0_partition`).
    pub fn primary(&self) -> &Area {
        &self.primary
    }

    /// The secondary slot (`slot1_partition`).
    pub fn secondary(&self) -> &Area {
        &self.secondary
    }

    /// Program `image` into the primary slot as a factory programmer would:
    /// the whole slot erased (no trailer: the image counts as confirmed),
    /// then the image, padded with erased bytes to the write unit. Nothing is
    /// checked: a broken image makes an unbootable device.
    pub fn install_primary(&self, image: &[u8]) -> Result<(), BootError> {
        let len = u32::try_from(image.len()).map_err(|_| BootError::ImageTooLarge)?;
        if len > self.max_image_size() {
            return Err(BootError::ImageTooLarge);
        }
        let geometry = self.primary.geometry();
        self.primary.erase(0, self.primary.size())?;
        let page = geometry.page_size() as usize;
        for (i, chunk) in image.chunks(page).enumerate() {
            let mut buf = chunk.to_vec();
            buf.resize(
                chunk.len().next_multiple_of(geometry.write_size() as usize),
                geometry.erased(),
            );
            self.primary.write((i * page) as u32, &buf)?;
        }
        Ok(())
    }

    /// Reset: run the bootloader, then report what runs. See the
    /// [module documentation](self).
    pub fn boot(&self) -> Result<BootReport, BootError> {
        let mut bs = self.read_status()?;
        let mut swap = SwapType::None;
        let mut rejected = false;
        let resumed = !bs.is_reset();
        if resumed {
            // `boot_complete_partial_swap`.
            self.swap_image(&mut bs)?;
            self.finish_swap(bs.swap_type)?;
            swap = bs.swap_type;
        } else {
            let swap_type = if bs.swap_type == SwapType::None {
                self.validated_swap_type(&bs, &mut rejected)?
            } else if self.secondary_is_valid(&bs)? {
                // A swap whose status was initialised but not one step done.
                bs.swap_type
            } else {
                rejected = true;
                SwapType::Fail
            };
            match swap_type {
                SwapType::Test | SwapType::Perm | SwapType::Revert => {
                    bs.swap_type = swap_type;
                    if self.swap_image(&mut bs)? {
                        self.finish_swap(swap_type)?;
                        swap = swap_type;
                    }
                }
                SwapType::Fail => {
                    self.set_primary_image_ok()?;
                    swap = SwapType::Fail;
                }
                SwapType::None => {}
            }
        }
        let header = self.bootable_header()?;
        Ok(BootReport {
            header,
            swap,
            resumed,
            rejected_secondary: rejected,
            state: self.image_state()?,
        })
    }

    /// `boot_swap_type`: what the bootloader will do at the next reset.
    pub fn swap_type(&self) -> Result<SwapType, FlashError> {
        let pri = self.trailer.read_state(&self.primary)?;
        let sec = self.trailer.read_state(&self.secondary)?;
        Ok(swap_table(&pri, &sec))
    }

    /// The state of the running image: on trial (`PendingCommit`) when the
    /// next reset would revert it, `Confirmed` otherwise.
    pub fn image_state(&self) -> Result<BootState, FlashError> {
        Ok(match self.swap_type()? {
            SwapType::Revert => BootState::PendingCommit,
            _ => BootState::Confirmed,
        })
    }

    /// `boot_request_upgrade`: mark the secondary image for a test swap
    /// (`permanent == false`) or a permanent one at the next reset. Writes the
    /// secondary trailer's magic, then `image_ok` if permanent, then the swap
    /// type. Nothing to do if a swap is already requested; refused if the
    /// trailer holds a bad magic (see
    /// [`prepare_secondary_trailer`](BootSim::prepare_secondary_trailer)).
    pub fn request_upgrade(&self, permanent: bool) -> Result<(), BootError> {
        match self.trailer.read_state(&self.secondary)?.magic {
            Magic::Good => Ok(()),
            Magic::Bad => Err(BootError::BadTrailer),
            Magic::Unset => {
                self.trailer.write_magic(&self.secondary)?;
                if permanent {
                    self.trailer.write_image_ok(&self.secondary)?;
                }
                let swap_type = if permanent {
                    SwapType::Perm
                } else {
                    SwapType::Test
                };
                self.trailer.write_swap_info(&self.secondary, swap_type)?;
                Ok(())
            }
        }
    }

    /// Erase the secondary trailer's sectors unless they request a swap
    /// (TEST or PERM) or are already erased: what Zephyr's `flash_img` does
    /// when it finishes writing an image (`CONFIG_IMG_ERASE_PROGRESSIVELY`),
    /// so that a request left torn by a power cut (a bad magic, or a good one
    /// with a bad `image_ok`, which bootutil neither swaps nor lets be
    /// requested again) does not block the next one.
    pub fn prepare_secondary_trailer(&self) -> Result<(), FlashError> {
        let sec = self.trailer.read_state(&self.secondary)?;
        let requested = sec.magic == Magic::Good && sec.image_ok != Flag::Bad;
        if !requested && !self.trailer.sectors_erased(&self.secondary)? {
            self.trailer.scramble(&self.secondary)?;
        }
        Ok(())
    }

    /// `boot_write_img_confirmed`: make the running image permanent (set
    /// `image_ok` in the primary trailer if it has a good magic and the flag
    /// is not set yet; a factory image without trailer is already permanent).
    pub fn confirm(&self) -> Result<(), BootError> {
        let pri = self.trailer.read_state(&self.primary)?;
        match pri.magic {
            Magic::Good if pri.image_ok == Flag::Unset => {
                Ok(self.trailer.write_image_ok(&self.primary)?)
            }
            Magic::Good | Magic::Unset => Ok(()),
            Magic::Bad => Err(BootError::BadTrailer),
        }
    }

    /// `boot_validated_swap_type`.
    fn validated_swap_type(
        &self,
        bs: &Status,
        rejected: &mut bool,
    ) -> Result<SwapType, FlashError> {
        let swap_type = self.swap_type()?;
        if swap_type.is_upgrade() && !self.secondary_is_valid(bs)? {
            *rejected = true;
            return Ok(SwapType::None);
        }
        Ok(swap_type)
    }

    /// `boot_validate_slot` for the secondary slot, with its clean-ups: an
    /// invalid image is erased; without an image only the trailer is, and
    /// a revert stuck on a missing image is dropped.
    fn secondary_is_valid(&self, bs: &Status) -> Result<bool, FlashError> {
        match validate::check_slot(&self.secondary, self.max_image_size())? {
            Verdict::Valid(_) => Ok(true),
            Verdict::Empty => {
                self.trailer.scramble(&self.secondary)?;
                if bs.swap_type == SwapType::Revert || self.swap_type()? == SwapType::Revert {
                    self.trailer.scramble(&self.primary)?;
                }
                Ok(false)
            }
            Verdict::Invalid => {
                self.secondary.erase(0, self.secondary.size())?;
                Ok(false)
            }
        }
    }

    /// `boot_swap_image`: size the swap (or read its size back when
    /// resuming) and run it. `false` if it did not fit.
    fn swap_image(&self, bs: &mut Status) -> Result<bool, FlashError> {
        let max = self.max_image_size();
        let swap_size = if bs.is_reset() {
            validate::swap_size_of(&self.primary, max)?
                .max(validate::swap_size_of(&self.secondary, max)?)
        } else {
            self.trailer.read_swap_size(&self.primary)?.min(max)
        };
        bs.swap_size = swap_size;
        self.swap_run(bs, swap_size)
    }

    /// After a swap: `image_ok` for PERM and REVERT, then `copy_done`.
    fn finish_swap(&self, swap_type: SwapType) -> Result<(), FlashError> {
        if matches!(swap_type, SwapType::Perm | SwapType::Revert) {
            self.set_primary_image_ok()?;
        }
        if swap_type.is_upgrade() {
            self.trailer.write_copy_done(&self.primary)?;
        }
        Ok(())
    }

    /// `swap_set_image_ok`.
    fn set_primary_image_ok(&self) -> Result<(), FlashError> {
        if self.trailer.read_state(&self.primary)?.image_ok == Flag::Unset {
            self.trailer.write_image_ok(&self.primary)?;
        }
        Ok(())
    }

    /// The primary image's header if it may be booted.
    fn bootable_header(&self) -> Result<ImageHeader, BootError> {
        if self.validate_primary {
            let stamp = self.primary.stamp(0, self.max_image_size());
            if let Some((checked, header)) = self.primary_checked.get() {
                if checked == stamp {
                    return Ok(header);
                }
            }
            return match validate::check_slot(&self.primary, self.max_image_size())? {
                Verdict::Valid(header) => {
                    self.primary_checked.set(Some((stamp, header)));
                    Ok(header)
                }
                Verdict::Empty | Verdict::Invalid => Err(BootError::NoBootableImage),
            };
        }
        let mut head = [0; HEADER_LEN];
        self.primary.read(0, &mut head)?;
        ImageHeader::parse(&head).map_err(|_| BootError::NoBootableImage)
    }
}

/// `boot_swap_tables`: the first row that matches wins.
fn swap_table(pri: &SwapState, sec: &SwapState) -> SwapType {
    match (sec.magic, sec.image_ok) {
        (Magic::Good, Flag::Unset) => return SwapType::Test,
        (Magic::Good, Flag::Set) => return SwapType::Perm,
        _ => {}
    }
    if pri.magic == Magic::Good && pri.image_ok == Flag::Unset && pri.copy_done == Flag::Set {
        return SwapType::Revert;
    }
    SwapType::None
}

#[cfg(test)]
mod tests;
