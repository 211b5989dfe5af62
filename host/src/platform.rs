//! [`HostPlatform`]: the agent's [`Platform`] on a simulated device, all on
//! one flash device.
//!
//! - the image slot is `slot1_partition`, up to the largest image MCUboot can
//!   swap ([`BootSim::max_image_size`]; the trailer is out of reach);
//! - boot control is the [boot simulator](crate::boot);
//! - the progress store is a [`FlashStore`] in `storage_partition`;
//! - the verifier is [`P256Verifier`] unless another is plugged in.
//!
//! A host device loop owns the platform and the agent, and after every input
//! checks [`HostPlatform::reboot_requested`]: [`BootControl::reboot`] returns
//! on the host, and the loop then drops the agent and calls
//! [`HostPlatform::restart`], which runs the simulated bootloader (maybe a
//! swap) and forgets what RAM held. After a power cut (see
//! [`Flash::arm_power_cut`](crate::Flash::arm_power_cut)) the loop powers the
//! flash up again and does the same.

use ota_agent::{
    BootControl, BootState, CustomJob, CustomJobReply, ImageSlot, P256Verifier, Platform,
    PortError, SignatureVerifier, Version,
};

use crate::boot::{BootConfig, BootError, BootReport, BootSim};
use crate::flash::{FlashError, SharedFlash};
use crate::partition::{Area, Layout};
use crate::store::FlashStore;
use crate::ConfigError;
use std::fmt;

const EFAULT: i32 = 14;
const EINVAL: i32 = 22;
const EFBIG: i32 = 27;
const ENOENT: i32 = 2;

fn flash_err(e: FlashError) -> PortError {
    PortError(e.errno())
}

fn boot_err(e: BootError) -> PortError {
    PortError(match e {
        BootError::Flash(e) => e.errno(),
        BootError::BadTrailer => -EFAULT,
        BootError::ImageTooLarge => -EFBIG,
        BootError::NoBootableImage => -ENOENT,
    })
}

/// The secondary slot as the agent sees it.
#[derive(Clone, Debug)]
pub struct HostSlot {
    area: Area,
    capacity: u32,
}

impl HostSlot {
    /// The first `capacity` bytes of `area` (a multiple of its page size).
    pub fn new(area: Area, capacity: u32) -> Result<Self, ConfigError> {
        if capacity > area.size() || !capacity.is_multiple_of(area.geometry().page_size()) {
            return Err(ConfigError("the capacity is not whole pages of the slot"));
        }
        Ok(HostSlot { area, capacity })
    }

    fn check(&self, offset: u32, len: usize) -> Result<(), PortError> {
        let fits = u32::try_from(len)
            .ok()
            .and_then(|len| offset.checked_add(len))
            .is_some_and(|end| end <= self.capacity);
        if fits {
            Ok(())
        } else {
            Err(PortError(-EINVAL))
        }
    }
}

impl ImageSlot for HostSlot {
    fn capacity(&self) -> u32 {
        self.capacity
    }

    fn erase_size(&self) -> u32 {
        self.area.geometry().page_size()
    }

    fn write_align(&self) -> u32 {
        self.area.geometry().write_size()
    }

    fn erase(&mut self, offset: u32, len: u32) -> Result<(), PortError> {
        self.check(offset, len as usize)?;
        self.area.erase(offset, len).map_err(flash_err)
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), PortError> {
        self.check(offset, data.len())?;
        self.area.write(offset, data).map_err(flash_err)
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), PortError> {
        self.check(offset, buf.len())?;
        self.area.read(offset, buf).map_err(flash_err)
    }
}

/// Boot control over the simulator, as the running firmware sees it.
#[derive(Clone, Debug)]
pub struct HostBoot {
    sim: BootSim,
    report: BootReport,
    reboot_requested: bool,
}

impl HostBoot {
    /// The simulated bootloader.
    pub fn sim(&self) -> &BootSim {
        &self.sim
    }

    /// What the last boot did and what runs.
    pub fn report(&self) -> &BootReport {
        &self.report
    }

    /// Whether the firmware asked for a reboot since the last boot.
    pub fn reboot_requested(&self) -> bool {
        self.reboot_requested
    }
}

impl BootControl for HostBoot {
    fn running_version(&self) -> Version {
        self.report.version()
    }

    /// Read from the trailers; if the flash cannot be read (powered off),
    /// what was last known.
    fn state(&mut self) -> BootState {
        if let Ok(state) = self.sim.image_state() {
            self.report.state = state;
        }
        self.report.state
    }

    /// Erases a trailer left torn by an earlier attempt (as `flash_img` would
    /// have), then `boot_request_upgrade(BOOT_UPGRADE_TEST)`.
    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        self.sim.prepare_secondary_trailer().map_err(flash_err)?;
        self.sim.request_upgrade(false).map_err(boot_err)
    }

    fn confirm(&mut self) -> Result<(), PortError> {
        self.sim.confirm().map_err(boot_err)?;
        self.report.state = BootState::Confirmed;
        Ok(())
    }

    /// Nothing to write for an image on trial: MCUboot reverts it at the
    /// next reset. An image that became permanent without being confirmed
    /// (MCUboot leaves it so when power is cut while it marks a swap done)
    /// is rolled back by swapping the previous image, which the swap left in
    /// the secondary slot, back in permanently; the bootloader checks it
    /// first, as for any upgrade.
    fn reject(&mut self) -> Result<(), PortError> {
        match self.sim.image_state().map_err(flash_err)? {
            BootState::PendingCommit => Ok(()),
            BootState::Confirmed => {
                self.sim.prepare_secondary_trailer().map_err(flash_err)?;
                self.sim.request_upgrade(true).map_err(boot_err)
            }
        }
    }

    /// Returns at once; the device loop sees
    /// [`HostPlatform::reboot_requested`] and restarts.
    fn reboot(&mut self) {
        self.reboot_requested = true;
    }
}

/// What the application answers for jobs that are not OTA jobs.
pub type CustomJobHandler = Box<dyn FnMut(&CustomJob<'_>) -> CustomJobReply + Send>;

/// Why a simulated device could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The layout or configuration cannot work.
    Config(ConfigError),
    /// The bootloader found nothing to boot, or the flash failed.
    Boot(BootError),
}

impl From<ConfigError> for HostError {
    fn from(e: ConfigError) -> Self {
        HostError::Config(e)
    }
}

impl From<BootError> for HostError {
    fn from(e: BootError) -> Self {
        HostError::Boot(e)
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Config(e) => write!(f, "configuration: {e}"),
            HostError::Boot(e) => write!(f, "boot: {e}"),
        }
    }
}

impl std::error::Error for HostError {}

/// A simulated device's platform; see the [module documentation](self).
pub struct HostPlatform<V = P256Verifier> {
    flash: SharedFlash,
    layout: Layout,
    slot: HostSlot,
    boot: HostBoot,
    store: FlashStore,
    verifier: V,
    custom_job: Option<CustomJobHandler>,
}

impl<V: fmt::Debug> fmt::Debug for HostPlatform<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostPlatform")
            .field("layout", &self.layout)
            .field("boot", &self.boot)
            .field("verifier", &self.verifier)
            .field("custom_job", &self.custom_job.is_some())
            .finish_non_exhaustive()
    }
}

impl<V: SignatureVerifier> HostPlatform<V> {
    /// Power the device on: run the simulated bootloader on `flash` (which
    /// must have `layout`'s geometry), then bring the platform up on what it
    /// booted. Fails if there is no bootable image or the flash fails.
    pub fn power_on(
        flash: SharedFlash,
        layout: Layout,
        config: BootConfig,
        verifier: V,
    ) -> Result<Self, HostError> {
        let sim = BootSim::new(flash.clone(), &layout, config)?;
        let slot = HostSlot::new(sim.secondary().clone(), sim.max_image_size())?;
        let store = FlashStore::new(Area::new(flash.clone(), layout.storage())?)?;
        let report = sim.boot()?;
        Ok(HostPlatform {
            flash,
            layout,
            slot,
            boot: HostBoot {
                sim,
                report,
                reboot_requested: false,
            },
            store,
            verifier,
            custom_job: None,
        })
    }

    /// Reset the device: run the bootloader again and forget RAM state (the
    /// store's scan, the reboot request). Also what to do after powering the
    /// flash up again after a power cut. On an error the device did not
    /// start; restart again once the cause is gone.
    pub fn restart(&mut self) -> Result<&BootReport, BootError> {
        self.store.forget();
        self.boot.reboot_requested = false;
        self.boot.report = self.boot.sim.boot()?;
        Ok(&self.boot.report)
    }
}

impl<V> HostPlatform<V> {
    /// Whether the firmware asked for a reboot (see [`restart`](HostPlatform::restart)).
    pub fn reboot_requested(&self) -> bool {
        self.boot.reboot_requested
    }

    /// What the last boot did and what runs.
    pub fn boot_report(&self) -> &BootReport {
        &self.boot.report
    }

    /// The flash device (to arm power cuts, count wear, power it up again).
    pub fn flash(&self) -> &SharedFlash {
        &self.flash
    }

    /// The partitions.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Let the application claim jobs that are not OTA jobs; without a
    /// handler they are declined.
    pub fn set_custom_job_handler(&mut self, handler: CustomJobHandler) {
        self.custom_job = Some(handler);
    }
}

impl<V: SignatureVerifier> Platform for HostPlatform<V> {
    type Slot = HostSlot;
    type Boot = HostBoot;
    type Store = FlashStore;
    type Verifier = V;

    fn slot(&mut self) -> &mut HostSlot {
        &mut self.slot
    }

    fn boot(&mut self) -> &mut HostBoot {
        &mut self.boot
    }

    fn store(&mut self) -> &mut FlashStore {
        &mut self.store
    }

    fn verifier(&mut self) -> &mut V {
        &mut self.verifier
    }

    fn custom_job(&mut self, job: &CustomJob<'_>) -> CustomJobReply {
        match &mut self.custom_job {
            Some(handler) => handler(job),
            None => CustomJobReply::Decline,
        }
    }
}

#[cfg(test)]
mod tests;
