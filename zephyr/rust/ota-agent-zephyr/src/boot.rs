//! [`BootControl`] over the shim's `dfu/mcuboot.h` and `sys_reboot` calls.

use crate::ffi;
use crate::slot::check;
use ota_agent::{BootControl, BootState, PortError, Version};

/// MCUboot, through the shim.
#[derive(Debug, Default)]
pub struct ShimBoot {
    _private: (),
}

impl ShimBoot {
    /// The bootloader interface.
    pub fn new() -> Self {
        ShimBoot { _private: () }
    }
}

impl BootControl for ShimBoot {
    /// From the running slot's MCUboot header (`boot_read_bank_header`); 0.0.0
    /// when there is none (an image flashed without MCUboot).
    fn running_version(&self) -> Version {
        // SAFETY: no arguments; the shim reads flash.
        let packed = unsafe { ffi::ota_shim_boot_running_version() };
        match u32::try_from(packed) {
            Ok(v) => Version::from_packed(v),
            Err(_) => {
                log::warn!("ota: no MCUboot header in the running slot ({packed})");
                Version::default()
            }
        }
    }

    /// `PendingCommit` only when MCUboot says so; if the trailer cannot be
    /// read, `Confirmed` (the agent then never rolls back on its own).
    fn state(&mut self) -> BootState {
        // SAFETY: no arguments; the shim reads the trailer.
        match unsafe { ffi::ota_shim_boot_pending_commit() } {
            1 => BootState::PendingCommit,
            0 => BootState::Confirmed,
            rc => {
                log::error!("ota: cannot read the MCUboot image state ({rc})");
                BootState::Confirmed
            }
        }
    }

    fn request_test_upgrade(&mut self) -> Result<(), PortError> {
        // SAFETY: no arguments.
        check(unsafe { ffi::ota_shim_boot_request_test() })
    }

    fn confirm(&mut self) -> Result<(), PortError> {
        // SAFETY: no arguments.
        check(unsafe { ffi::ota_shim_boot_confirm() })
    }

    fn reject(&mut self) -> Result<(), PortError> {
        // SAFETY: no arguments.
        check(unsafe { ffi::ota_shim_boot_reject() })
    }

    fn reboot(&mut self) {
        // SAFETY: no arguments; on hardware this does not return, and the
        // agent does nothing more after calling it when it does.
        unsafe { ffi::ota_shim_reboot() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeShim;

    #[test]
    fn maps_version_and_state() {
        let shim = FakeShim::install();
        let mut boot = ShimBoot::new();
        shim.set_boot(Some(Version::new(1, 2, 3).packed()), 1);
        assert_eq!(boot.running_version(), Version::new(1, 2, 3));
        assert_eq!(boot.state(), BootState::PendingCommit);
        shim.set_boot(None, -5);
        assert_eq!(boot.running_version(), Version::default());
        assert_eq!(boot.state(), BootState::Confirmed);
    }

    #[test]
    fn passes_calls_through() {
        let shim = FakeShim::install();
        let mut boot = ShimBoot::new();
        boot.request_test_upgrade().unwrap();
        boot.confirm().unwrap();
        boot.reboot();
        assert_eq!(shim.boot_calls(), ["request_test", "confirm", "reboot"]);
    }
}
