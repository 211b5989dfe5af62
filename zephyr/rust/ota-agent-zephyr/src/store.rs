//! [`ProgressStore`] over the shim's settings calls (key `ota_agent/resume`).

use crate::ffi;
use crate::slot::check;
use ota_agent::{PortError, ProgressStore};

/// `ENOENT`: no record saved.
const ENOENT: i32 = 2;

/// The resume record in Zephyr settings.
#[derive(Debug, Default)]
pub struct SettingsStore {
    _private: (),
}

impl SettingsStore {
    /// The store (the shim initialises the settings subsystem on first use).
    pub fn new() -> Self {
        SettingsStore { _private: () }
    }
}

impl ProgressStore for SettingsStore {
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        let cap = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `buf` is valid and writable for `cap` bytes for the call.
        let rc = unsafe { ffi::ota_shim_progress_load(buf.as_mut_ptr(), cap) };
        match usize::try_from(rc) {
            Ok(len) if len <= buf.len() => Some(len),
            Ok(_) => None,
            Err(_) => {
                if rc != -ENOENT {
                    log::warn!("ota: cannot load the resume record ({rc})");
                }
                None
            }
        }
    }

    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        let len = u32::try_from(record.len()).map_err(|_| PortError(-22))?;
        // SAFETY: `record` is valid for `len` bytes for the call; the shim
        // copies it.
        check(unsafe { ffi::ota_shim_progress_save(record.as_ptr(), len) })
    }

    fn clear(&mut self) -> Result<(), PortError> {
        // SAFETY: no arguments.
        check(unsafe { ffi::ota_shim_progress_clear() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeShim;

    #[test]
    fn save_load_clear() {
        let _shim = FakeShim::install();
        let mut store = SettingsStore::new();
        let mut buf = [0; 16];
        assert_eq!(store.load(&mut buf), None);
        store.save(b"OTAr-record").unwrap();
        assert_eq!(store.load(&mut buf), Some(11));
        assert_eq!(&buf[..11], b"OTAr-record");
        assert_eq!(store.load(&mut [0; 4]), None);
        store.clear().unwrap();
        assert_eq!(store.load(&mut buf), None);
    }
}
