//! The traits a port implements: the synchronous side effects of the agent.
//!
//! Everything asynchronous (MQTT, HTTP, timers) is *not* here: it flows through
//! the agent's inputs (`handle_*`) and outputs (`poll_*`). What is here must
//! happen before the agent can go on: writing the slot, asking the bootloader,
//! saving progress, checking a signature.
//!
//! Every method returns promptly. None of them is called re-entrantly.

/// A port-specific error code, carried into logs and status reasons.
///
/// On Zephyr this is the negative errno a flash or boot call returned; on the
/// host it is whatever the simulator chose. The agent never interprets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortError(pub i32);

/// The flash slot that receives the new image (MCUboot's secondary slot).
///
/// Contract:
/// - Offsets are relative to the start of the slot. The agent never reads,
///   writes or erases at or beyond [`capacity`](ImageSlot::capacity).
/// - The slot is NOR-like: a byte must be erased before it is written, and the
///   agent never writes a byte twice without erasing it in between.
/// - `erase` is called with `offset` and `len` multiples of
///   [`erase_size`](ImageSlot::erase_size); `write` with `offset` and
///   `data.len()` multiples of [`write_align`](ImageSlot::write_align).
/// - Writes are durable when `write` returns (the agent saves resume records
///   that claim so).
pub trait ImageSlot {
    /// Bytes available to an image: the slot minus whatever the bootloader
    /// keeps for itself (MCUboot's trailer, and with swap-move the padding
    /// sector it needs to move the image). A multiple of `erase_size`.
    fn capacity(&self) -> u32;
    /// The erase unit in bytes: a power of two. Slots with unequal sectors
    /// report their largest sector, and the slot must start on one.
    fn erase_size(&self) -> u32;
    /// The write unit in bytes: a power of two, at most
    /// [`MAX_WRITE_ALIGN`](crate::MAX_WRITE_ALIGN).
    fn write_align(&self) -> u32;
    /// Erase `len` bytes from `offset`.
    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError>;
    /// Program `data` at `offset`, into bytes erased before.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError>;
    /// Read `buf.len()` bytes from `offset`.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError>;
}

/// What the bootloader thinks of the running image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootState {
    /// The running image is permanent (confirmed, or flashed at the factory).
    Confirmed,
    /// The running image was booted for a test and is not confirmed yet: the
    /// bootloader reverts to the previous image at the next reset unless
    /// [`BootControl::confirm`] is called first.
    PendingCommit,
}

/// A firmware version as the AWS agent packs it: `major.minor.build`.
///
/// From an MCUboot header, `build` is the header's *revision* field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Build (MCUboot: revision).
    pub build: u16,
}

impl Version {
    /// A version from its parts.
    pub const fn new(major: u8, minor: u8, build: u16) -> Self {
        Version {
            major,
            minor,
            build,
        }
    }

    /// The AWS packing `major << 24 | minor << 16 | build`, as sent in `updatedBy`.
    pub const fn packed(self) -> u32 {
        (self.major as u32) << 24 | (self.minor as u32) << 16 | self.build as u32
    }

    /// The inverse of [`packed`](Version::packed).
    pub const fn from_packed(v: u32) -> Self {
        Version {
            major: (v >> 24) as u8,
            minor: (v >> 16) as u8,
            build: v as u16,
        }
    }
}

/// The bootloader: MCUboot on a device, the boot simulator on a host.
///
/// Contract:
/// - [`request_test_upgrade`](BootControl::request_test_upgrade) marks the
///   secondary slot for a *test* swap at the next reset (MCUboot
///   `boot_request_upgrade(BOOT_UPGRADE_TEST)`); the agent calls it only after
///   the image passed every check and its status was delivered.
/// - [`confirm`](BootControl::confirm) makes the running image permanent
///   (`boot_write_img_confirmed`); it succeeds when the image already is.
/// - [`reject`](BootControl::reject) makes sure the running test image is not
///   kept: with MCUboot's swap-with-revert nothing needs to be written (an
///   unconfirmed image is reverted at the next reset), other bootloaders may
///   need to mark it invalid. An image that is already permanent (MCUboot
///   can leave one so after a power cut while it marks a swap done) is rolled
///   back by swapping the previous image, which the swap left in the
///   secondary slot, back in permanently; where a port cannot, it fails, and
///   the agent logs that and reboots anyway.
/// - [`reboot`](BootControl::reboot) restarts the device. On hardware it does
///   not return. A host port may return and restart when control comes back to
///   its loop; the agent stops doing anything after calling it.
pub trait BootControl {
    /// The version of the running image.
    fn running_version(&self) -> Version;
    /// Whether the running image is confirmed or still on trial.
    fn state(&mut self) -> BootState;
    /// Ask for a test swap to the secondary slot at the next reset.
    fn request_test_upgrade(&mut self) -> Result<(), PortError>;
    /// Make the running image permanent.
    fn confirm(&mut self) -> Result<(), PortError>;
    /// Make sure the running (unconfirmed) image is rolled back at the next reset.
    fn reject(&mut self) -> Result<(), PortError>;
    /// Restart the device.
    fn reboot(&mut self);
}

/// Persistent storage for one small record: the download's resume point.
///
/// Contract: `save` replaces the whole record, atomically or not (the agent
/// checks its own CRC, so a torn save reads back as no record); `load` copies
/// the last saved record into `buf` and returns its length, or `None` when
/// there is none or it does not fit. Records are at most
/// [`RESUME_RECORD_MAX`](crate::RESUME_RECORD_MAX) bytes.
pub trait ProgressStore {
    /// `false` for a store that keeps nothing, such as [`NoProgressStore`]:
    /// the agent then never calls it, and a build with such a store leaves
    /// the record code out. Every download then starts from block 0, and a
    /// commit or rollback cut short by a power loss is not finished at the
    /// next boot (the bootloader's own state still decides what runs).
    const ENABLED: bool = true;
    /// Copy the saved record into `buf`; its length, or `None`.
    fn load(&mut self, buf: &mut [u8]) -> Option<usize>;
    /// Replace the saved record.
    fn save(&mut self, record: &[u8]) -> Result<(), PortError>;
    /// Forget the saved record.
    fn clear(&mut self) -> Result<(), PortError>;
}

/// A progress store that stores nothing: downloads restart after a reboot.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgressStore;

impl ProgressStore for NoProgressStore {
    const ENABLED: bool = false;
    fn load(&mut self, _buf: &mut [u8]) -> Option<usize> {
        None
    }
    fn save(&mut self, _record: &[u8]) -> Result<(), PortError> {
        Ok(())
    }
    fn clear(&mut self) -> Result<(), PortError> {
        Ok(())
    }
}

/// Why a signature was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature bytes are not a well-formed signature for this verifier.
    Malformed,
    /// The signature does not match the file and the key.
    Mismatch,
}

/// Checks the code-signing signature of a downloaded file.
///
/// `digest` is the SHA-256 of the whole file as downloaded; `signature` is the
/// decoded value of the job document's `sig-sha256-ecdsa` (ASN.1 DER for
/// ECDSA). A port may use hardware or PSA crypto; the default is
/// [`P256Verifier`](crate::P256Verifier).
pub trait SignatureVerifier {
    /// Accept or refuse the signature.
    fn verify(&mut self, digest: &[u8; 32], signature: &[u8]) -> Result<(), SignatureError>;
}

/// A job whose document is not an OTA job (`afr_ota` is absent), offered to the
/// application before the agent fails it.
#[derive(Clone, Copy, Debug)]
pub struct CustomJob<'a> {
    /// The job id (validated: 1 to [`MAX_JOB_ID_LEN`](crate::MAX_JOB_ID_LEN)
    /// characters of `[A-Za-z0-9_-]`).
    pub job_id: &'a str,
    /// The raw JSON text of `execution.jobDocument`.
    pub document: &'a [u8],
}

/// The status the application reports for a custom job it claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomJobStatus {
    /// `{"status":"IN_PROGRESS"}`: the application is working on it.
    InProgress,
    /// `{"status":"SUCCEEDED"}`.
    Succeeded,
    /// `{"status":"FAILED","statusDetails":{"reason":"0x<code>: 0x<sub>"}}`.
    Failed {
        /// Application-defined main code.
        code: u32,
        /// Application-defined sub code.
        sub: u32,
    },
}

/// The application's answer to a [`CustomJob`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomJobReply {
    /// Not ours either: the agent reports the job FAILED as non-conforming.
    Decline,
    /// The application handles it; the agent publishes this status.
    Claim(CustomJobStatus),
}

/// Everything a port provides, bundled.
pub trait Platform {
    /// The secondary image slot.
    type Slot: ImageSlot;
    /// The bootloader interface.
    type Boot: BootControl;
    /// Where resume records go ([`NoProgressStore`] to disable resume).
    type Store: ProgressStore;
    /// The signature check.
    type Verifier: SignatureVerifier;

    /// The image slot.
    fn slot(&mut self) -> &mut Self::Slot;
    /// The bootloader.
    fn boot(&mut self) -> &mut Self::Boot;
    /// The progress store.
    fn store(&mut self) -> &mut Self::Store;
    /// The signature verifier.
    fn verifier(&mut self) -> &mut Self::Verifier;

    /// Offered every job that is not an OTA job (the C agent's
    /// `OtaJobEventParseCustomJob`). The default declines.
    fn custom_job(&mut self, job: &CustomJob<'_>) -> CustomJobReply {
        let _ = job;
        CustomJobReply::Decline
    }
}
