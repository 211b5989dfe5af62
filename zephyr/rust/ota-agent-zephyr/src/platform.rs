//! [`ZephyrPlatform`]: the core's [`Platform`] on Zephyr.

use crate::boot::ShimBoot;
use crate::capi::{CustomJobHook, CustomJobReplyC};
use crate::slot::ShimSlot;
use crate::store::SettingsStore;
use ota_agent::{
    CustomJob, CustomJobReply, NoProgressStore, P256Verifier, Platform, PortError, ProgressStore,
};

/// Where resume records go: settings when `CONFIG_OTA_AGENT_RESUME` is on,
/// nowhere otherwise.
#[derive(Debug)]
pub enum Store {
    /// `ota_agent/resume` in Zephyr settings.
    Settings(SettingsStore),
    /// Resume across reboots is off.
    None(NoProgressStore),
}

impl ProgressStore for Store {
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        match self {
            Store::Settings(s) => s.load(buf),
            Store::None(s) => s.load(buf),
        }
    }
    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        match self {
            Store::Settings(s) => s.save(record),
            Store::None(s) => s.save(record),
        }
    }
    fn clear(&mut self) -> Result<(), PortError> {
        match self {
            Store::Settings(s) => s.clear(),
            Store::None(s) => s.clear(),
        }
    }
}

/// The upload slot, MCUboot, the resume store and the P-256 verifier.
#[derive(Debug)]
pub struct ZephyrPlatform {
    slot: ShimSlot,
    boot: ShimBoot,
    store: Store,
    verifier: P256Verifier,
    custom_job: Option<CustomJobHook>,
}

impl ZephyrPlatform {
    /// Open the upload slot and bundle the rest. `resume` selects the
    /// settings-backed store.
    pub fn open(
        verifier: P256Verifier,
        resume: bool,
        custom_job: Option<CustomJobHook>,
    ) -> Result<Self, PortError> {
        let store = if resume {
            Store::Settings(SettingsStore::new())
        } else {
            Store::None(NoProgressStore)
        };
        Ok(ZephyrPlatform {
            slot: ShimSlot::open()?,
            boot: ShimBoot::new(),
            store,
            verifier,
            custom_job,
        })
    }
}

impl Platform for ZephyrPlatform {
    type Slot = ShimSlot;
    type Boot = ShimBoot;
    type Store = Store;
    type Verifier = P256Verifier;

    fn slot(&mut self) -> &mut ShimSlot {
        &mut self.slot
    }
    fn boot(&mut self) -> &mut ShimBoot {
        &mut self.boot
    }
    fn store(&mut self) -> &mut Store {
        &mut self.store
    }
    fn verifier(&mut self) -> &mut P256Verifier {
        &mut self.verifier
    }

    /// Asks the application's C callback, if it registered one.
    fn custom_job(&mut self, job: &CustomJob<'_>) -> CustomJobReply {
        match &self.custom_job {
            Some(hook) => hook
                .ask(job)
                .map_or(CustomJobReply::Decline, CustomJobReplyC::reply),
            None => CustomJobReply::Decline,
        }
    }
}
