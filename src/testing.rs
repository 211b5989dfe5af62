//! An in-RAM [`Platform`] for tests and fuzzing, not for products.
//!
//! Compiled only for the crate's own tests and with the `testing` feature
//! (off by default), and it needs `std`. The slot is RAM with NOR rules: a
//! byte must be erased (to `0xff`) before it is written, and erases and
//! writes must be aligned to [`ERASE`] and [`ALIGN`]. A breach of the
//! [`ImageSlot`] contract is either counted and refused (unit tests assert
//! the count stays zero) or a panic (so a fuzzer reports it as a crash); see
//! [`OnViolation`]. The bootloader and the progress store record what they
//! were asked, and the signature verifier accepts what [`signing_key`] signs.
//!
//! [`mcuboot_image`] builds the files the agent downloads onto it: small
//! valid MCUboot images, for the core's tests and the fuzz targets.

use crate::mcuboot::{
    ImageHeader, ImageVersion, HEADER_LEN, TLV_HEADER_LEN, TLV_INFO_MAGIC, TLV_SHA256,
};
use crate::platform::{
    BootControl, BootState, CustomJob, CustomJobReply, ImageSlot, Platform, PortError,
    ProgressStore, Version,
};
use crate::{P256Verifier, RESUME_RECORD_MAX};
use core::fmt;
use core::ops::Range;
use p256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};
use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

/// The erase unit of the [`Slot`], in bytes.
pub const ERASE: u32 = 4096;

/// The write unit of the [`Slot`], in bytes.
pub const ALIGN: u32 = 4;

/// What the [`Slot`] does when the agent breaks the [`ImageSlot`] contract
/// (an unaligned erase or write, an access outside the slot, a write over
/// bytes not erased).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnViolation {
    /// Count it in [`Slot::violations`] and return an error.
    Refuse,
    /// Panic, naming the breach.
    Panic,
}

/// The image slot: RAM with NOR rules.
pub struct Slot {
    /// The slot's bytes; its length is the capacity.
    pub mem: Vec<u8>,
    /// Successful writes.
    pub writes: u32,
    /// Successful erases.
    pub erases: u32,
    /// Successful reads, as (offset, length), in order.
    pub reads: Vec<(u32, usize)>,
    /// Contract breaches refused (with [`OnViolation::Refuse`]).
    pub violations: u32,
    /// Make every write fail with `PortError(-5)` (an I/O error).
    pub fail_writes: bool,
    /// What a contract breach does.
    pub on_violation: OnViolation,
}

impl Slot {
    /// A slot of `capacity` bytes, each holding `fill` (anything but `0xff`,
    /// so that a write without an erase first is caught).
    pub fn new(capacity: u32, fill: u8, on_violation: OnViolation) -> Self {
        Slot {
            mem: vec![fill; capacity as usize],
            writes: 0,
            erases: 0,
            reads: Vec::new(),
            violations: 0,
            fail_writes: false,
            on_violation,
        }
    }

    /// `Ok` if `ok`, else the breach `what`, refused with `code` or a panic.
    fn check(&mut self, ok: bool, what: fmt::Arguments<'_>, code: i32) -> Result<(), PortError> {
        if ok {
            return Ok(());
        }
        match self.on_violation {
            OnViolation::Refuse => {
                self.violations += 1;
                Err(PortError(code))
            }
            OnViolation::Panic => panic!("{what}"),
        }
    }

    /// The bytes from `offset`, `len` long, if both are multiples of `unit`
    /// and they lie inside the slot.
    fn range(
        &mut self,
        offset: u32,
        len: usize,
        unit: u32,
        what: &str,
    ) -> Result<Range<usize>, PortError> {
        let aligned = offset.is_multiple_of(unit) && (len as u32).is_multiple_of(unit);
        self.check(aligned, format_args!("unaligned {what}"), -22)?;
        let (start, end) = (offset as usize, offset as usize + len);
        let inside = end <= self.mem.len();
        self.check(inside, format_args!("{what} outside the slot"), -22)?;
        Ok(start..end)
    }
}

impl ImageSlot for Slot {
    fn capacity(&self) -> u32 {
        self.mem.len() as u32
    }
    fn erase_size(&self) -> u32 {
        ERASE
    }
    fn write_align(&self) -> u32 {
        ALIGN
    }
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        let r = self.range(offset, len as usize, ERASE, "erase")?;
        self.erases += 1;
        self.mem[r].fill(0xff);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        if self.fail_writes {
            return Err(PortError(-5));
        }
        let r = self.range(offset, data.len(), ALIGN, "write")?;
        let erased = self.mem[r.clone()].iter().all(|&b| b == 0xff);
        self.check(erased, format_args!("write over unerased flash"), -14)?;
        self.writes += 1;
        self.mem[r].copy_from_slice(data);
        Ok(())
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        let r = self.range(offset, buf.len(), 1, "read")?;
        self.reads.push((offset, buf.len()));
        buf.copy_from_slice(&self.mem[r]);
        Ok(())
    }
}

/// The bootloader, recording what it was asked.
#[derive(Debug)]
pub struct Boot {
    /// What `running_version` reports.
    pub version: Version,
    /// What `state` reports; `confirm` sets it to [`BootState::Confirmed`].
    pub state: BootState,
    /// Whether `request_test_upgrade` succeeded.
    pub upgrade_requested: bool,
    /// Whether `confirm` was called.
    pub confirmed: bool,
    /// Whether `reject` was called.
    pub rejected: bool,
    /// Reboots requested.
    pub reboots: u32,
    /// Make `request_test_upgrade` fail with `PortError(-14)`.
    pub refuse_upgrade: bool,
}

impl Boot {
    /// A bootloader running `version` in `state`, asked nothing yet.
    pub fn new(version: Version, state: BootState) -> Self {
        Boot {
            version,
            state,
            upgrade_requested: false,
            confirmed: false,
            rejected: false,
            reboots: 0,
            refuse_upgrade: false,
        }
    }
}

impl BootControl for Boot {
    fn running_version(&self) -> Version {
        self.version
    }
    fn state(&mut self) -> BootState {
        self.state
    }
    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        if self.refuse_upgrade {
            return Err(PortError(-14));
        }
        self.upgrade_requested = true;
        Ok(())
    }
    fn confirm(&mut self) -> Result<(), PortError> {
        self.confirmed = true;
        self.state = BootState::Confirmed;
        Ok(())
    }
    fn reject(&mut self) -> Result<(), PortError> {
        self.rejected = true;
        Ok(())
    }
    fn reboot(&mut self) {
        self.reboots += 1;
    }
}

/// The progress store: one record in RAM.
#[derive(Debug, Default)]
pub struct Store {
    /// The saved record, if any.
    pub record: Option<Vec<u8>>,
    /// Saves made.
    pub saves: u32,
}

impl ProgressStore for Store {
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        let r = self.record.as_ref()?;
        buf.get_mut(..r.len())?.copy_from_slice(r);
        Some(r.len())
    }
    /// Panics on a record longer than [`RESUME_RECORD_MAX`].
    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        assert!(record.len() <= RESUME_RECORD_MAX, "resume record too long");
        self.saves += 1;
        self.record = Some(record.to_vec());
        Ok(())
    }
    fn clear(&mut self) -> Result<(), PortError> {
        self.record = None;
        Ok(())
    }
}

/// The key whose signatures the [`RamPlatform`]'s verifier accepts.
pub fn signing_key() -> SigningKey {
    SigningKey::from_slice(&[0x42; 32]).expect("a valid P-256 scalar")
}

/// The whole platform.
pub struct RamPlatform<S = Store> {
    /// The image slot.
    pub slot: Slot,
    /// The bootloader.
    pub boot: Boot,
    /// The progress store.
    pub store: S,
    /// A verifier for [`signing_key`].
    pub verifier: P256Verifier,
    /// The answer to every custom job.
    pub custom_reply: CustomJobReply,
    /// The custom jobs offered, as (job id, document).
    pub custom_seen: Vec<(String, Vec<u8>)>,
}

impl RamPlatform {
    /// A platform on `slot` and `boot`, with an empty store, a verifier for
    /// [`signing_key`], declining custom jobs.
    pub fn new(slot: Slot, boot: Boot) -> Self {
        let public = signing_key().verifying_key().to_sec1_point(false);
        RamPlatform {
            slot,
            boot,
            store: Store::default(),
            verifier: P256Verifier::from_sec1(public.as_bytes()).expect("a P-256 point"),
            custom_reply: CustomJobReply::Decline,
            custom_seen: Vec::new(),
        }
    }
}

impl<S> RamPlatform<S> {
    /// The same platform with `store` as its progress store.
    pub fn with_store<T>(self, store: T) -> RamPlatform<T> {
        RamPlatform {
            slot: self.slot,
            boot: self.boot,
            store,
            verifier: self.verifier,
            custom_reply: self.custom_reply,
            custom_seen: self.custom_seen,
        }
    }
}

impl<S: ProgressStore> Platform for RamPlatform<S> {
    type Slot = Slot;
    type Boot = Boot;
    type Store = S;
    type Verifier = P256Verifier;
    fn slot(&mut self) -> &mut Slot {
        &mut self.slot
    }
    fn boot(&mut self) -> &mut Boot {
        &mut self.boot
    }
    fn store(&mut self) -> &mut S {
        &mut self.store
    }
    fn verifier(&mut self) -> &mut P256Verifier {
        &mut self.verifier
    }
    /// Records the job in `custom_seen` and answers `custom_reply`.
    fn custom_job(&mut self, job: &CustomJob<'_>) -> CustomJobReply {
        self.custom_seen
            .push((job.job_id.to_string(), job.document.to_vec()));
        self.custom_reply
    }
}

/// The bytes [`mcuboot_image`] appends after the payload: the TLV info
/// header and one SHA-256 TLV (4 + 4 + 32).
const MCUBOOT_TLV_AREA_LEN: usize = 2 * TLV_HEADER_LEN + 32;

/// A valid MCUboot image of `payload`, as the agent's final check
/// ([`check_image`](crate::mcuboot::check_image)) accepts it: the header
/// (`version`, `hdr_size`, no flags, load address 0) padded with zeros to
/// `hdr_size` bytes, the payload, then the unprotected TLV area with the
/// SHA-256 of header and payload. No protected TLVs, no signature TLVs.
///
/// The image is `hdr_size + payload.len() + 40` bytes.
/// Panics if `hdr_size` is below the 32-byte header or the payload does not
/// fit `img_size` (a `u32`).
pub fn mcuboot_image(hdr_size: u16, version: ImageVersion, payload: &[u8]) -> Vec<u8> {
    assert!(
        usize::from(hdr_size) >= HEADER_LEN,
        "hdr_size {hdr_size} is below the {HEADER_LEN}-byte header"
    );
    let header = ImageHeader {
        load_addr: 0,
        hdr_size,
        protect_tlv_size: 0,
        img_size: u32::try_from(payload.len()).expect("a payload below 4 GiB"),
        flags: 0,
        version,
    };
    let mut image =
        Vec::with_capacity(usize::from(hdr_size) + payload.len() + MCUBOOT_TLV_AREA_LEN);
    image.extend_from_slice(&header.to_bytes());
    image.resize(usize::from(hdr_size), 0);
    image.extend_from_slice(payload);
    let digest = Sha256::digest(&image);
    image.extend_from_slice(&TLV_INFO_MAGIC.to_le_bytes());
    image.extend_from_slice(&(MCUBOOT_TLV_AREA_LEN as u16).to_le_bytes());
    image.extend_from_slice(&TLV_SHA256.to_le_bytes());
    image.extend_from_slice(&32u16.to_le_bytes());
    image.extend_from_slice(&digest);
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcuboot::check_image;

    #[test]
    fn mcuboot_images_pass_the_agents_check() {
        let version = ImageVersion {
            major: 1,
            minor: 2,
            revision: 3,
            build_num: 4,
        };
        let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        for hdr_size in [32, 64, 0x200] {
            let image = mcuboot_image(hdr_size, version, &payload);
            let hdr = usize::from(hdr_size);
            assert_eq!(image.len(), hdr + 1000 + MCUBOOT_TLV_AREA_LEN);
            assert!(image[HEADER_LEN..hdr].iter().all(|&b| b == 0));
            assert_eq!(&image[hdr..hdr + 1000], &payload[..]);
            let layout = check_image(&image).unwrap();
            assert_eq!(layout.header.version, version);
            assert_eq!(layout.header.hdr_size, hdr_size);
            assert_eq!(layout.header.img_size, 1000);
            assert_eq!(layout.tlv_len as usize, MCUBOOT_TLV_AREA_LEN);
        }
        assert!(check_image(&mcuboot_image(0x200, version, &[])).is_ok());
    }
}
