//! What a simulated firmware does, written in its own image.
//!
//! A simulated device runs no code from its image; instead the image payload
//! (the bytes after the MCUboot header) starts with one manifest line:
//!
//! ```text
//! OTA-SIM-FIRMWARE self_test=pass
//! ```
//!
//! `self_test` is `pass`, `fail` (the firmware rejects itself) or `hang`
//! (it never answers, so the agent's self-test window closes and rolls it
//! back). Unknown `key=value` words are ignored; an image without the line
//! behaves like `self_test=pass`. A "bad firmware" is therefore bad in its
//! signed bytes, as on a real device, and needs no side channel.

use std::fmt;

use ota_agent::Platform;

use crate::platform::HostPlatform;

/// The first word of the manifest line.
pub const MANIFEST_MAGIC: &str = "OTA-SIM-FIRMWARE";

/// Bytes of the payload read to find the manifest.
const MANIFEST_MAX: usize = 256;

/// What the firmware's self test does after an update.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SelfTest {
    /// It passes: the image is accepted.
    #[default]
    Pass,
    /// It fails: the image rejects itself and the device rolls back.
    Fail,
    /// It never finishes: the self-test window closes and the device rolls back.
    Hang,
}

impl SelfTest {
    fn word(self) -> &'static str {
        match self {
            SelfTest::Pass => "pass",
            SelfTest::Fail => "fail",
            SelfTest::Hang => "hang",
        }
    }
}

impl fmt::Display for SelfTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A simulated firmware's behaviour (its manifest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Firmware {
    /// What its self test does.
    pub self_test: SelfTest,
}

impl Firmware {
    /// A firmware whose self test does `self_test`.
    pub const fn new(self_test: SelfTest) -> Self {
        Firmware { self_test }
    }

    /// The manifest line, newline included.
    pub fn manifest(&self) -> String {
        format!("{MANIFEST_MAGIC} self_test={}\n", self.self_test)
    }

    /// An image payload of `size` bytes (at least the manifest's length):
    /// the manifest, then filler derived from `seed`, so that two builds
    /// with different seeds differ everywhere.
    pub fn payload(&self, size: usize, seed: u64) -> Vec<u8> {
        let mut payload = self.manifest().into_bytes();
        let mut state = seed ^ 0x5851_f42d_4c95_7f2d;
        while payload.len() < size {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            payload.extend_from_slice(&state.to_le_bytes()[4..]);
        }
        payload.truncate(size.max(self.manifest().len()));
        payload
    }

    /// The manifest at the start of `payload`, or `None` if there is none.
    pub fn parse(payload: &[u8]) -> Option<Firmware> {
        let line_end = payload.iter().position(|&b| b == b'\n')?;
        let line = std::str::from_utf8(&payload[..line_end]).ok()?;
        let mut words = line.split_ascii_whitespace();
        if words.next() != Some(MANIFEST_MAGIC) {
            return None;
        }
        let mut firmware = Firmware::default();
        for word in words {
            match word.split_once('=') {
                Some(("self_test", "pass")) => firmware.self_test = SelfTest::Pass,
                Some(("self_test", "fail")) => firmware.self_test = SelfTest::Fail,
                Some(("self_test", "hang")) => firmware.self_test = SelfTest::Hang,
                _ => {}
            }
        }
        Some(firmware)
    }

    /// The manifest of the image that runs (the primary slot); an image
    /// without one, or one that cannot be read, passes its self test.
    pub fn running<V: ota_agent::SignatureVerifier>(platform: &mut HostPlatform<V>) -> Firmware {
        let header_size = platform.boot_report().header.hdr_size;
        let mut buf = [0u8; MANIFEST_MAX];
        let read = platform
            .boot()
            .sim()
            .primary()
            .read(u32::from(header_size), &mut buf);
        match read {
            Ok(()) => Firmware::parse(&buf).unwrap_or_default(),
            Err(e) => {
                log::warn!("device: cannot read the running image's manifest: {e}");
                Firmware::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_extra_words_are_ignored() {
        for t in [SelfTest::Pass, SelfTest::Fail, SelfTest::Hang] {
            let fw = Firmware::new(t);
            let payload = fw.payload(1000, 3);
            assert_eq!(payload.len(), 1000);
            assert_eq!(Firmware::parse(&payload), Some(fw));
        }
        let odd = b"OTA-SIM-FIRMWARE colour=blue self_test=fail\nrest";
        assert_eq!(Firmware::parse(odd), Some(Firmware::new(SelfTest::Fail)));
    }

    #[test]
    fn payloads_without_a_manifest_are_not_parsed() {
        assert_eq!(Firmware::parse(b"\x7fELF...\n"), None);
        assert_eq!(Firmware::parse(b"OTA-SIM-FIRMWARE self_test=pass"), None);
        assert_eq!(Firmware::parse(b"OTA-SIM-FIRMWAREX self_test=fail\n"), None);
        assert_eq!(Firmware::parse(&[0xff; 64]), None);
    }

    #[test]
    fn seeds_change_the_filler() {
        let fw = Firmware::default();
        let a = fw.payload(200, 1);
        let b = fw.payload(200, 2);
        let m = fw.manifest().len();
        assert_eq!(a[..m], b[..m]);
        assert_ne!(a[m..], b[m..]);
        assert_eq!(fw.payload(3, 1).len(), m, "never shorter than the manifest");
    }
}
